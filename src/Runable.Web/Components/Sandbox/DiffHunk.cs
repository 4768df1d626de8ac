namespace Runable.Web.Components.Sandbox;

/// <summary>One hunk of a file's diff: its <c>@@</c> header and its lines.</summary>
public sealed class DiffHunk(string header)
{
    public string Header { get; } = header;

    public List<DiffLine> Lines { get; } = [];
}
