namespace Runable.Box.Protocol.Health;

/// <summary>Which tools this box can serve.</summary>
public sealed record HealthFeatures
{
    public bool Shell { get; init; }

    public bool Python { get; init; }

    public bool Typescript { get; init; }

    public bool Desktop { get; init; }

    public bool Jupyter { get; init; }
}
