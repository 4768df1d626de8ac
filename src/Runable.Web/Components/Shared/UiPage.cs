using Microsoft.AspNetCore.Components;
using Runable.Web.Session;

namespace Runable.Web.Components.Shared;

/// <summary>A page of the UI: the session, navigation and clock, and one place that turns a failed call into what to say.</summary>
public abstract class UiPage : ComponentBase
{
    [Inject]
    protected UiSession Session { get; set; } = default!;

    [Inject]
    protected NavigationManager Navigation { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    /// <summary>What went wrong last, in words that say what to do; null when the last action worked.</summary>
    protected string? Error { get; set; }

    /// <summary>Runs <paramref name="action"/>; an API, box or network failure becomes <see cref="Error"/> (false is returned).</summary>
    protected async Task<bool> RunAsync(Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            Error = null;
            await action();
            return true;
        }
        catch (Exception e) when (UiSession.IsExpected(e))
        {
            Error = Session.Describe(e);
            return false;
        }
    }
}
