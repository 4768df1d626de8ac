namespace Runable.Orchestrator.Tests.Agents.Tools;

/// <summary>The <c>computer</c> tool on the sandbox's real virtual desktop.</summary>
public sealed class ComputerToolTests(ToolSandboxFixture sandbox) : IClassFixture<ToolSandboxFixture>
{
    [Fact]
    public async Task Screenshot_ComesBackAsAPng_AndAClickTakesOneAfterIt()
    {
        var shot = await sandbox.CallAsync("computer", """{"action": "screenshot"}""");
        Assert.StartsWith("Screenshot taken. The pointer is at (", shot.Text, StringComparison.Ordinal);
        Assert.Contains("the screen is 1280x800 pixels. The screenshot is attached.", shot.Text, StringComparison.Ordinal);
        var png = Assert.Single(shot.Images);
        Assert.Equal("image/png", png.MediaType);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Data[..4].ToArray());

        var click = await sandbox.CallAsync("computer", """{"action": "left_click", "coordinate": [100, 120]}""");
        Assert.Equal("Done: left_click. The pointer is at (100, 120); the screen is 1280x800 pixels. A screenshot taken after the action is attached.", click.Text);
        Assert.Single(click.Images);
    }

    [Fact]
    public async Task InvalidActions_AreErrorObservations()
    {
        var offScreen = await sandbox.CallAsync("computer", """{"action": "left_click", "coordinate": [5000, 20]}""");
        Assert.StartsWith("Error: invalid_argument:", offScreen.Text, StringComparison.Ordinal);
        Assert.Contains("1280", offScreen.Text, StringComparison.Ordinal);
        Assert.True(offScreen.Result.IsError);
        Assert.Empty(offScreen.Images);

        var malformed = await sandbox.CallAsync("computer", """{"action": "mouse_move", "coordinate": [10]}""");
        Assert.Equal("Error: coordinate must be an array [x, y].", malformed.Text);

        var unknown = await sandbox.CallAsync("computer", """{"action": "juggle"}""");
        Assert.StartsWith("Error: invalid_argument:", unknown.Text, StringComparison.Ordinal);
    }
}
