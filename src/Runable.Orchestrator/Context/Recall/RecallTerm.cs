namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// One term of a <see cref="RecallQuery"/>: its FTS5 expression (a quoted word or phrase, or a <c>NEAR</c> group of two
/// neighbouring ones) and the lowercased words it is made of, for finding it in an event's text. A <c>NEAR</c> group
/// names its two terms (<see cref="Left"/>, <see cref="Right"/>).
/// </summary>
public sealed record RecallTerm(string Expression, IReadOnlyList<string> Parts, RecallTerm? Left = null, RecallTerm? Right = null)
{
    /// <summary>True for a <c>NEAR</c> group of two neighbouring terms.</summary>
    public bool IsNear => Left is not null;
}
