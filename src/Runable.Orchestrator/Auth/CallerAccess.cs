namespace Runable.Orchestrator.Auth;

/// <summary>The authenticated caller of a request, as the key middleware left it.</summary>
public static class CallerAccess
{
    /// <summary>Where the middleware keeps the caller in <see cref="HttpContext.Items"/>.</summary>
    public const string Item = "runable.caller";

    /// <summary>The caller, when its key holds <paramref name="scope"/>; a 403 otherwise.</summary>
    public static Caller Require(this HttpContext context, string scope)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = (Caller)context.Items[Item]!;
        return caller.Can(scope) ? caller : throw new OrchestratorException(403, "forbidden", $"This key lacks the '{scope}' scope.");
    }
}
