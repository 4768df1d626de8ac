using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Runable.Box.Server.Tests.Api;

public sealed class RequestValidationTests(BoxServerFixture box) : IClassFixture<BoxServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("shell/exec", "{not json", "invalid_json")]
    [InlineData("shell/exec", """{"command": 42}""", "invalid_json")]
    [InlineData("shell/exec", """{"command": "true", "timeout_s": "soon"}""", "invalid_json")]
    [InlineData("shell/exec", """{"command": "true", "on_timeout": "explode"}""", "invalid_json")]
    [InlineData("shell/exec", """{"command": "true", "env": ["A=1"]}""", "invalid_json")]
    [InlineData("shell/exec", """{"command": "true", "timeout_s": -1}""", "invalid_argument")]
    [InlineData("shell/exec", """{"command": "true", "env": {"BAD NAME": "x"}}""", "invalid_argument")]
    [InlineData("shell/exec", """{"command": "true", "cwd": "does/not/exist"}""", "invalid_argument")]
    [InlineData("shell/exec", """{}""", "invalid_argument")]
    [InlineData("shell/exec", "", "invalid_argument")]
    [InlineData("processes", """{"command": ""}""", "invalid_argument")]
    [InlineData("processes", "[1,2,3]", "invalid_json")]
    public async Task MalformedRequests_Get400ProblemWithCode(string path, string body, string code)
    {
        using var http = box.Http();
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task OversizedJsonBody_Gets413Problem_AndServerStaysUp()
    {
        // A raw request: the server answers as soon as it sees the length, before the body is sent.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(box.BaseAddress.Host, box.BaseAddress.Port, Ct);
        var stream = tcp.GetStream();
        var head = $"POST /shell/exec HTTP/1.1\r\nHost: {box.BaseAddress.Authority}\r\nX-API-Key: {BoxServerFixture.ApiKey}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 17000000\r\n\r\n{\"command\":\"";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Ct);
        await stream.WriteAsync(new byte[64 * 1024], Ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var statusLine = await reader.ReadLineAsync(Ct);
        Assert.StartsWith("HTTP/1.1 413", statusLine);
        var response = await reader.ReadToEndAsync(Ct);
        Assert.Contains("application/problem+json", response);
        Assert.True(response.Contains("body_too_large"), response);

        using var http = box.Http();
        var health = await http.GetAsync("health", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task WrongMethod_Gets405Problem()
    {
        using var http = box.Http();
        using var response = await http.DeleteAsync("shell/exec", Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
