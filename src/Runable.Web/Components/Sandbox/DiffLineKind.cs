namespace Runable.Web.Components.Sandbox;

/// <summary>What a diff line is: unchanged, added, removed, or git's note (<c>\ No newline at end of file</c>).</summary>
public enum DiffLineKind
{
    Context,
    Added,
    Removed,
    Note,
}
