using System.Globalization;

namespace Runable.Bench;

/// <summary>
/// The command line: <c>[calls] [--density K]</c>. Calls per measurement default to 1000; K, the idle sandboxes
/// started together for the density measurement, to <c>$RUNABLE_BENCH_DENSITY</c> or 100 (0 skips it).
/// </summary>
public sealed record BenchOptions(int Calls, int Density)
{
    public static BenchOptions Parse(string[] args)
    {
        var calls = 1000;
        var density = int.TryParse(Environment.GetEnvironmentVariable("RUNABLE_BENCH_DENSITY"), CultureInfo.InvariantCulture, out var d) ? d : 100;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--density" && i + 1 < args.Length)
            {
                density = Number(args[++i], "--density");
            }
            else
            {
                calls = Number(args[i], "the number of calls");
            }
        }

        return new BenchOptions(calls, density);
    }

    private static int Number(string text, string what) =>
        int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new ArgumentException($"Expected a number for {what}, got '{text}'. Usage: bench/run [calls] [--density K]");
}
