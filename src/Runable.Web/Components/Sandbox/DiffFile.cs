namespace Runable.Web.Components.Sandbox;

/// <summary>One file of a diff: its paths, what happened to it, how many lines changed, and its hunks.</summary>
public sealed class DiffFile
{
    public required string OldPath { get; set; }

    public required string NewPath { get; set; }

    public bool IsNew { get; set; }

    public bool IsDeleted { get; set; }

    public bool IsBinary { get; set; }

    public int Added { get; set; }

    public int Removed { get; set; }

    public List<DiffHunk> Hunks { get; } = [];
}
