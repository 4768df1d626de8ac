using Markdig;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Runable.Web.Components.Shared;

/// <summary>
/// Renders model text as Markdown, safely: raw HTML is disabled (it shows as text), links keep only http, https and
/// mailto addresses and open in a new tab without a referrer, and images become links (a model's text never makes the
/// browser fetch anything by itself).
/// </summary>
public static class MarkdownRenderer
{
    private static readonly MarkdownPipeline s_pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .DisableHtml()
        .Build();

    /// <summary>The HTML of <paramref name="markdown"/>.</summary>
    public static string ToHtml(string? markdown)
    {
        if (string.IsNullOrEmpty(markdown))
        {
            return "";
        }

        var document = Markdig.Markdown.Parse(markdown, s_pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            link.IsImage = false;
            link.Url = SafeUrl(link.Url);
            link.GetAttributes().AddPropertyIfNotExist("rel", "nofollow noopener noreferrer");
            link.GetAttributes().AddPropertyIfNotExist("target", "_blank");
        }

        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!link.IsEmail && SafeUrl(link.Url) == "#")
            {
                link.Url = "#";
            }

            link.GetAttributes().AddPropertyIfNotExist("rel", "nofollow noopener noreferrer");
        }

        return document.ToHtml(s_pipeline);
    }

    /// <summary><paramref name="url"/> when it is an absolute http, https or mailto address; <c>#</c> otherwise.</summary>
    public static string SafeUrl(string? url) =>
        url is not null && Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "mailto" ? uri.AbsoluteUri : "#";
}
