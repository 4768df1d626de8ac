namespace Runable.Orchestrator.Jobs;

/// <summary>The states of a job. <c>queued</c> → <c>starting</c> → <c>running</c> → one of the final ones.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Starting = "starting";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timed_out";

    /// <summary>Every status, for validating filters.</summary>
    public static readonly IReadOnlyList<string> All = [Queued, Starting, Running, Succeeded, Failed, Cancelled, TimedOut];

    /// <summary>True for the states a job never leaves.</summary>
    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled or TimedOut;

    /// <summary>True while a worker holds the job's lease.</summary>
    public static bool IsActive(string status) => status is Starting or Running;
}
