namespace Runable.Box.Code;

/// <summary>The kernel sockets the box speaks on.</summary>
internal enum KernelChannel
{
    /// <summary>Requests and their replies (execute, kernel_info).</summary>
    Shell,

    /// <summary>What the kernel publishes while it works: status, streams, results, displays, errors.</summary>
    IoPub,

    /// <summary>Urgent requests that bypass the shell queue: interrupt, shutdown.</summary>
    Control,
}
