namespace Runable.Orchestrator.Tests.Models;

/// <summary>A failure the scripted server answers a request with, in place of the turn it precedes.</summary>
public sealed record ScriptedFailure
{
    /// <summary>The HTTP status answered; 0 for a dropped connection.</summary>
    public int Status { get; init; }

    /// <summary>The <c>Retry-After</c> header sent with the status, in whole seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Close the connection without an answer.</summary>
    public bool DropConnection { get; init; }

    /// <summary>On a streamed request: send the turn's first chunks, then close the connection (a stream that dies half-way). It uses up the turn.</summary>
    public bool DropAfterFirstChunk { get; init; }

    /// <summary>On a streamed Anthropic request: answer 200, then an <c>error</c> event of this type (<c>overloaded_error</c>) before any content.</summary>
    public string? StreamErrorType { get; init; }

    /// <summary>Wait this long before closing the connection unanswered, for client timeouts.</summary>
    public TimeSpan? Stall { get; init; }

    /// <summary>429, with a <c>Retry-After</c> when given.</summary>
    public static ScriptedFailure RateLimited(int? retryAfterSeconds = null) => new() { Status = 429, RetryAfterSeconds = retryAfterSeconds };

    /// <summary>A 5xx (500 by default).</summary>
    public static ScriptedFailure ServerError(int status = 500) => new() { Status = status };

    /// <summary>Any status, for example 401 or 400.</summary>
    public static ScriptedFailure WithStatus(int status) => new() { Status = status };

    /// <summary>The connection closed before any answer.</summary>
    public static ScriptedFailure Dropped() => new() { DropConnection = true };

    /// <summary>A 200 stream whose first event is Anthropic's <c>error</c> event (OpenAI-format requests get a 500 instead).</summary>
    public static ScriptedFailure StreamError(string type = "overloaded_error") => new() { Status = 500, StreamErrorType = type };

    /// <summary>No answer for <paramref name="stall"/>, then the connection closed.</summary>
    public static ScriptedFailure Stalled(TimeSpan stall) => new() { DropConnection = true, Stall = stall };

    /// <summary>A streamed answer cut after its first chunk (a non-streamed request just sees its connection closed).</summary>
    public static ScriptedFailure DroppedMidStream() => new() { DropAfterFirstChunk = true };
}
