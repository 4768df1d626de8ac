using Microsoft.AspNetCore.Http;
using Runable.Web.Hosting;

namespace Runable.Web.Tests.Components;

/// <summary>Which requests the UI answers without a key, which go to the sign-in page, and where sign-in may lead back to.</summary>
public sealed class WebPathsTests
{
    [Theory]
    [InlineData("/jobs/job_1?tab=diff", "/jobs/job_1?tab=diff")]
    [InlineData("/", "/")]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("//evil.example/x", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("/redirect?to=https://evil.example", "/")]
    [InlineData("jobs", "/")]
    public void LocalOrRoot_LeadsOnlyToPagesOfThisSite(string? returnUrl, string expected) =>
        Assert.Equal(expected, WebPaths.LocalOrRoot(returnUrl));

    [Theory]
    [InlineData("GET", "/signin", true, false)]
    [InlineData("POST", "/signin", true, false)]
    [InlineData("POST", "/signout", true, false)]
    [InlineData("GET", "/ui/app.css", true, false)]
    [InlineData("GET", "/_framework/blazor.web.js", true, false)]
    [InlineData("GET", "/", false, true)]
    [InlineData("GET", "/jobs/job_1", false, true)]
    [InlineData("GET", "/sandboxes", false, true)]
    [InlineData("GET", "/keys", false, true)]
    [InlineData("POST", "/jobs", false, false)]
    [InlineData("GET", "/_blazor/negotiate", false, false)]
    [InlineData("GET", "/v1/jobs", false, false)]
    [InlineData("GET", "/v1/sandboxes/x/box/desktop/view", false, false)]
    [InlineData("GET", "/docs", false, false)]
    [InlineData("GET", "/metrics", false, false)]
    [InlineData("GET", "/status/job_1", false, false)]
    [InlineData("GET", "/jobsx", false, false)]
    public void ApiRoutes_StayBehindTheKeyCheck(string method, string path, bool isPublic, bool isPage)
    {
        var request = new DefaultHttpContext().Request;
        request.Method = method;
        request.Path = path;
        Assert.Equal(isPublic, WebPaths.IsPublic(request));
        Assert.Equal(isPage, WebPaths.IsPage(request));
    }
}
