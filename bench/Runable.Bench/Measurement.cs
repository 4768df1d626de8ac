namespace Runable.Bench;

/// <summary>Samples of one measured operation, in milliseconds, with their percentiles.</summary>
public sealed record Measurement(string Name, IReadOnlyList<double> SamplesMs)
{
    public double Percentile(double p) => Percentiles.Of(SamplesMs, p);

    public double P50 => Percentile(50);

    public double P99 => Percentile(99);

    /// <summary>Times <paramref name="operation"/> <paramref name="count"/> times, after <paramref name="warmup"/> untimed runs.</summary>
    public static async Task<Measurement> RunAsync(string name, int count, int warmup, Func<Task> operation)
    {
        for (var i = 0; i < warmup; i++)
        {
            await operation();
        }

        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            await operation();
            samples[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return new Measurement(name, samples);
    }
}
