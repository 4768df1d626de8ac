namespace Runable.Box.Protocol.Health;

/// <summary>Which tools this box can serve.</summary>
public sealed record HealthFeatures
{
    public bool Shell { get; init; }

    public bool Python { get; init; }

    public bool Typescript { get; init; }

    public bool Desktop { get; init; }

    /// <summary>The desktop's live view (<c>/desktop/view</c>, <c>/desktop/vnc</c>): x11vnc and noVNC are installed.</summary>
    public bool DesktopView { get; init; }

    public bool Jupyter { get; init; }
}
