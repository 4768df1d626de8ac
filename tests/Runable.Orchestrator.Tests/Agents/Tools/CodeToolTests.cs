namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>The <c>code</c> tool on the sandbox's real Jupyter kernels.</summary>
public sealed class CodeToolTests(ToolSandboxFixture sandbox) : IClassFixture<ToolSandboxFixture>
{
    [Fact]
    public async Task Code_KeepsState_AndShowsTheTracebackOfAnError()
    {
        await sandbox.CallAsync("code", """{"code": "numbers = [1, 2, 3]"}""");
        var sum = await sandbox.CallAsync("code", """{"code": "print('sum:', sum(numbers))\nlen(numbers) * 10"}""");
        Assert.Equal("sum: 6\n30\n", sum.Text);

        var failed = await sandbox.CallAsync("code", """{"code": "def divide(a):\n    return a / 0\n\ndivide(numbers[0])"}""");
        Assert.Contains("ZeroDivisionError", failed.Text, StringComparison.Ordinal);
        Assert.Contains("Traceback", failed.Text, StringComparison.Ordinal);
        Assert.Contains("return a / 0", failed.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", failed.Text, StringComparison.Ordinal);
        Assert.False(failed.Result.IsError);

        var many = await sandbox.CallAsync("code", """{"code": "for i in range(1, 100001): print(i)\nraise KeyError('late')"}""");
        Assert.True(many.Result.Truncated);
        Assert.StartsWith("1\n2\n", many.Text, StringComparison.Ordinal);
        Assert.Contains("100000\n", many.Text, StringComparison.Ordinal);
        Assert.EndsWith("KeyError: 'late'\n", many.Text, StringComparison.Ordinal);
        Assert.StartsWith("/tmp/runable/outputs/code-", many.Result.FullOutputPath, StringComparison.Ordinal);
        Assert.Equal("100000\n", await sandbox.ShellAsync($"grep -cx '[0-9][0-9]*' {many.Result.FullOutputPath}"));

        var language = await sandbox.CallAsync("code", """{"code": "1", "language": "cobol"}""");
        Assert.StartsWith("Error: language must be one of: python", language.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_MatplotlibFigure_ComesBackAsAPngImage()
    {
        var plot = await sandbox.CallAsync("code", """{"code": "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.show()"}""");

        var image = Assert.Single(plot.Images);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, image.Data[..4].ToArray());
        Assert.Contains("[image 1: image/png, attached]", plot.Text, StringComparison.Ordinal);
        Assert.Same(image, Assert.Single(plot.Result.Images));
    }
}
