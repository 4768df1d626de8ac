using System.ComponentModel.DataAnnotations;

namespace Runable.Box;

/// <summary>Settings of the box's tool services (configuration section <c>Box</c>).</summary>
public sealed class BoxOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Box";

    /// <summary>The directory the tools work in and the file routes are confined to.</summary>
    [Required]
    public string Workspace { get; set; } = "";

    /// <summary>Where output spools and other box state live; defaults to a fresh directory under the system temp path.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Bytes of each stream returned inline by <c>/shell/exec</c>; the rest stays in the spool.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int InlineOutputBytes { get; set; } = 64 * 1024;

    /// <summary>Bytes of each stream kept on disk per process; older bytes are dropped past it.</summary>
    [Range(64 * 1024, long.MaxValue)]
    public long SpoolBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Processes (running or kept after exit) the supervisor holds at once.</summary>
    [Range(1, 100_000)]
    public int MaxProcesses { get; set; } = 1024;

    /// <summary>Exited processes kept for their output before the oldest are forgotten.</summary>
    [Range(0, 100_000)]
    public int RetainExitedProcesses { get; set; } = 256;

    /// <summary>Persistent shell sessions open at once.</summary>
    [Range(1, 10_000)]
    public int MaxSessions { get; set; } = 64;

    /// <summary>Default <c>timeout_s</c> of a command.</summary>
    [Range(0.001, 86_400)]
    public double DefaultTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest <c>timeout_s</c> a caller may ask for.</summary>
    [Range(0.001, 7 * 86_400)]
    public double MaxTimeoutSeconds { get; set; } = 86_400;

    /// <summary>
    /// A directory of <c>cgroup.procs</c> files (one per hierarchy) that every command is moved into when it
    /// starts, so a sandbox's limits fall on its commands and not on the box. Unset outside a sandbox.
    /// </summary>
    public string? WorkCgroupDirectory { get; set; }

    /// <summary>
    /// The unix socket of the sandbox's egress proxy (outside the sandbox). When set, the box listens on
    /// <see cref="EgressPort"/> of the sandbox's loopback and bridges each connection to it, so commands reach
    /// the proxy through <c>HTTP_PROXY</c>. Unset when the sandbox has no network.
    /// </summary>
    public string? EgressSocket { get; set; }

    /// <summary>The loopback port inside the sandbox that is bridged to <see cref="EgressSocket"/>.</summary>
    [Range(1, 65535)]
    public int EgressPort { get; set; } = 3128;

    /// <summary>The Python that runs Python kernels; it needs ipykernel (Debian's <c>python3-ipykernel</c>).</summary>
    public string Python { get; set; } = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>The tslab program that runs TypeScript kernels (npm's <c>tslab</c>).</summary>
    public string Tslab { get; set; } = "tslab";

    /// <summary>Code contexts (kernels) open at once.</summary>
    [Range(1, 1000)]
    public int MaxCodeContexts { get; set; } = 32;

    /// <summary>How long a kernel may take to start and answer.</summary>
    [Range(1, 600)]
    public double KernelStartTimeoutSeconds { get; set; } = 60;

    /// <summary>The virtual desktop's width in pixels (its X server starts on first desktop use).</summary>
    [Range(64, 8192)]
    public int DesktopWidth { get; set; } = 1280;

    /// <summary>The virtual desktop's height in pixels.</summary>
    [Range(64, 8192)]
    public int DesktopHeight { get; set; } = 800;

    /// <summary>The virtual desktop's colour depth in bits (16 or 24).</summary>
    [Range(16, 24)]
    public int DesktopDepth { get; set; } = 24;

    /// <summary>
    /// The path callers reach this box under, as a browser sees it: <c>/</c> for the box alone,
    /// <c>/v1/sandboxes/{id}/box/</c> behind the orchestrator. Pages the box serves from other servers (the
    /// Jupyter view at <c>{PublicPath}jupyter/</c>) link through it.
    /// </summary>
    public string PublicPath { get; set; } = "/";

    /// <summary>The shell used for commands.</summary>
    public string Shell { get; set; } = "/bin/bash";
}
