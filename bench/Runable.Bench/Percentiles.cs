namespace Runable.Bench;

/// <summary>Percentiles by linear interpolation between the closest ranks.</summary>
public static class Percentiles
{
    /// <summary>The <paramref name="p"/>th percentile (0 to 100) of <paramref name="values"/>; NaN when there are none.</summary>
    public static double Of(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = p / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }
}
