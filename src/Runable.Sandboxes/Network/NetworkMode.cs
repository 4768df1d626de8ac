namespace Runable.Sandboxes.Network;

/// <summary>What a sandbox may reach beyond its own loopback.</summary>
public enum NetworkMode
{
    /// <summary>Nothing: the sandbox's network namespace has only its loopback. The default.</summary>
    None,

    /// <summary>Named hosts only, over HTTP and HTTPS through the egress proxy.</summary>
    Allowlist,

    /// <summary>Any public host over HTTP and HTTPS through the egress proxy; private, loopback and link-local
    /// addresses and the orchestrator stay out of reach.</summary>
    Open,
}
