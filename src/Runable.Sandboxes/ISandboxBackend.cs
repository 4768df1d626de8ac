namespace Runable.Sandboxes;

/// <summary>An isolation backend: creates sandboxes with a box server inside, and destroys them without a trace.</summary>
public interface ISandboxBackend
{
    /// <summary>The backend's name, e.g. <c>bubblewrap</c>.</summary>
    string Name { get; }

    /// <summary>Creates a sandbox and returns once its box server answers.</summary>
    Task<Sandbox> CreateAsync(SandboxSpec spec, CancellationToken cancellationToken = default);

    /// <summary>True while the sandbox's processes run.</summary>
    bool IsRunning(string sandboxId);

    /// <summary>Kills every process of the sandbox and removes its cgroups, mounts and directories.</summary>
    Task DestroyAsync(string sandboxId, CancellationToken cancellationToken = default);
}
