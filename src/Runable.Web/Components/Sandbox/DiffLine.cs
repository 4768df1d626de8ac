namespace Runable.Web.Components.Sandbox;

/// <summary>One line of a hunk with its line numbers in the old and new file (null where it has none).</summary>
public sealed record DiffLine(DiffLineKind Kind, string Text, int? OldNumber, int? NewNumber);
