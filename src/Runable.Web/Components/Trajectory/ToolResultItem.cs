namespace Runable.Web.Components.Trajectory;

/// <summary>
/// A tool call's result: the text the model saw, whether it was an error or cut (and where the whole output is), how long
/// it took, the images the log carries inline, and how many images the model saw in all.
/// </summary>
public sealed record ToolResultItem(string Text, bool IsError, bool Truncated, string? FullOutputPath, long? DurationMs,
    IReadOnlyList<InlineImage> Images, int ImageCount);
