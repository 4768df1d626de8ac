namespace Runable.Bench;

/// <summary>A measured operation next to its baseline from the same run.</summary>
public sealed record Comparison(string What, Measurement Subject, Measurement Baseline, string Target)
{
    public double RatioP50 => Subject.P50 / Baseline.P50;

    public double RatioP99 => Subject.P99 / Baseline.P99;
}
