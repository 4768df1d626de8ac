using Microsoft.JSInterop;

namespace Runable.Web.Session;

/// <summary>The UI's script module (<c>/ui/runable.js</c>: theme, uploads, the desktop and terminal views), imported once per circuit.</summary>
public sealed class UiScripts(IJSRuntime js) : IAsyncDisposable
{
    private Task<IJSObjectReference>? _module;

    /// <summary>The module, imported on first use.</summary>
    public Task<IJSObjectReference> ModuleAsync() => _module ??= js.InvokeAsync<IJSObjectReference>("import", "./ui/runable.js").AsTask();

    public async ValueTask DisposeAsync()
    {
        if (_module is { IsCompletedSuccessfully: true } module)
        {
            try
            {
                await module.Result.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
                // The browser is gone: nothing to release there.
            }
        }
    }
}
