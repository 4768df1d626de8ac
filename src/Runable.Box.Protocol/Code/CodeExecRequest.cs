namespace Runable.Box.Protocol.Code;

/// <summary>Code for <c>POST /code/exec</c>, run in a persistent kernel so state carries over between calls.</summary>
public sealed record CodeExecRequest
{
    /// <summary>The code to run.</summary>
    public string? Code { get; init; }

    /// <summary><c>python</c> (the default) or <c>typescript</c>; ignored when <see cref="ContextId"/> names a context.</summary>
    public string? Language { get; init; }

    /// <summary>The context to run in; the language's default context when absent.</summary>
    public string? ContextId { get; init; }

    /// <summary>Seconds before the kernel is interrupted and the call answers <c>timeout</c>; default 60.</summary>
    public double? TimeoutS { get; init; }

    /// <summary>The original API's name for <see cref="TimeoutS"/>.</summary>
    public double? Timeout { get; init; }
}
