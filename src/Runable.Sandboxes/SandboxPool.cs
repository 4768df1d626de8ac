using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Runable.Sandboxes.Network;

namespace Runable.Sandboxes;

/// <summary>
/// Keeps sandboxes with the default limits started ahead of need, so claiming one takes the time of a queue
/// operation instead of a sandbox start; refills in the background after each claim.
/// </summary>
public sealed partial class SandboxPool : IAsyncDisposable
{
    private readonly ConcurrentQueue<Sandbox> _ready = new();
    private readonly ISandboxBackend _backend;
    private readonly SandboxLimits _limits;
    private readonly int _size;
    private readonly ILogger<SandboxPool> _logger;
    private readonly SemaphoreSlim _refill = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private int _starting;
    private int _disposed;

    public SandboxPool(ISandboxBackend backend, int size, ILogger<SandboxPool> logger, SandboxLimits? limits = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _backend = backend;
        _size = size;
        _logger = logger;
        _limits = limits ?? new SandboxLimits();
    }

    /// <summary>Sandboxes ready to be claimed now.</summary>
    public int ReadyCount => _ready.Count;

    /// <summary>Fills the pool, waiting until it holds its size.</summary>
    public async Task FillAsync(CancellationToken cancellationToken = default)
    {
        await RefillAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A sandbox for <paramref name="spec"/>: a ready one from the pool when the spec asks for nothing the pool's
    /// sandboxes lack (default limits, no network, no workspace of its own), else a new one.
    /// </summary>
    public async Task<Sandbox> ClaimAsync(SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Workspace is null && spec.Limits == _limits && spec.Network.Mode == NetworkMode.None)
        {
            while (_ready.TryDequeue(out var sandbox))
            {
                if (_backend.IsRunning(sandbox.Id))
                {
                    _ = RefillInBackgroundAsync();
                    return sandbox;
                }

                await _backend.DestroyAsync(sandbox.Id, cancellationToken).ConfigureAwait(false);
            }
        }

        _ = RefillInBackgroundAsync();
        return await _backend.CreateAsync(spec, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _refill.WaitAsync().ConfigureAwait(false);
        while (_ready.TryDequeue(out var sandbox))
        {
            await _backend.DestroyAsync(sandbox.Id).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task RefillInBackgroundAsync()
    {
        try
        {
            await RefillAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            LogRefillFailed(_logger, e);
        }
    }

    private async Task RefillAsync(CancellationToken cancellationToken)
    {
        await _refill.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (_ready.Count + _starting < _size && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _starting);
                try
                {
                    _ready.Enqueue(await _backend.CreateAsync(new SandboxSpec { Limits = _limits }, cancellationToken).ConfigureAwait(false));
                }
                finally
                {
                    Interlocked.Decrement(ref _starting);
                }
            }
        }
        finally
        {
            _refill.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refilling the sandbox pool failed; claims start sandboxes cold until it recovers")]
    private static partial void LogRefillFailed(ILogger logger, Exception exception);
}
