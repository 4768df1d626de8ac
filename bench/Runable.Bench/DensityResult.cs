using System.Globalization;
using System.Text;

namespace Runable.Bench;

/// <summary>What <see cref="Density"/> measured: a footprint per idle sandbox and per baseline bwrap, and the machine's available memory.</summary>
public sealed record DensityResult
{
    public required int Requested { get; init; }

    /// <summary>How many sandboxes answered an exec while all of them were up.</summary>
    public required int Answered { get; init; }

    public required IReadOnlyList<MemoryFootprint> Sandboxes { get; init; }

    public required IReadOnlyList<MemoryFootprint> Baselines { get; init; }

    /// <summary>MemAvailable before anything of this measurement started, and with every sandbox up.</summary>
    public required long AvailableBeforeKb { get; init; }

    public required long AvailableAfterKb { get; init; }

    public required double CreateSeconds { get; init; }

    /// <summary>Why fewer than <see cref="Requested"/> sandboxes started, if they did.</summary>
    public string? Failure { get; init; }

    public int Created => Sandboxes.Count;

    public double PssP50Mb => Percentiles.Of(Sandboxes.Select(s => s.PssMb), 50);

    public double PssMaxMb => Sandboxes.Count == 0 ? double.NaN : Sandboxes.Max(s => s.PssMb);

    public double RssP50Mb => Percentiles.Of(Sandboxes.Select(s => s.RssMb), 50);

    public double RssMaxMb => Sandboxes.Count == 0 ? double.NaN : Sandboxes.Max(s => s.RssMb);

    public double AnonymousP50Mb => Percentiles.Of(Sandboxes.Select(s => s.AnonymousMb), 50);

    public double BaselinePssP50Mb => Percentiles.Of(Baselines.Select(s => s.PssMb), 50);

    public double BaselineRssP50Mb => Percentiles.Of(Baselines.Select(s => s.RssMb), 50);

    /// <summary>How much MemAvailable fell per sandbox: also counts what no process maps (page tables, tmpfs, cgroups, sockets).</summary>
    public double AvailableDropPerSandboxMb => Created == 0 ? double.NaN : (AvailableBeforeKb - AvailableAfterKb) / 1024.0 / Created;

    /// <summary>How many idle sandboxes the memory available before would hold, at the median Pss each.</summary>
    public double CapacityByPss => AvailableBeforeKb / 1024.0 / PssP50Mb;

    /// <summary>The same, at the measured fall of MemAvailable per sandbox.</summary>
    public double CapacityByAvailable => AvailableBeforeKb / 1024.0 / AvailableDropPerSandboxMb;

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## Idle sandboxes ({Created} of {Requested} up together, created in {CreateSeconds:0.0} s)");
        text.AppendLine();
        text.AppendLine("| what | per sandbox p50 / max (MB) | baseline | baseline p50 (MB) | ratio p50 | target |");
        text.AppendLine("|---|---|---|---|---|---|");
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| idle sandbox PSS | {PssP50Mb:0.0} / {PssMaxMb:0.0} | bwrap (same namespaces) sleep infinity, PSS | {BaselinePssP50Mb:0.00} | {PssP50Mb / BaselinePssP50Mb:0.0}x | <= 40 MB: {Verdict(PssP50Mb <= 40)} |"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| idle sandbox RSS | {RssP50Mb:0.0} / {RssMaxMb:0.0} | bwrap (same namespaces) sleep infinity, RSS | {BaselineRssP50Mb:0.00} | {RssP50Mb / BaselineRssP50Mb:0.0}x | reported |"));
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- all {Created} together: PSS {Sandboxes.Sum(s => s.PssMb):0} MB, RSS {Sandboxes.Sum(s => s.RssMb):0} MB, {Sandboxes.Sum(s => s.Processes)} processes; anonymous memory (heaps, stacks) {AnonymousP50Mb:0.0} MB per sandbox at p50"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- MemAvailable: {AvailableBeforeKb / 1024.0:0} MB before, {AvailableAfterKb / 1024.0:0} MB with all up ({AvailableDropPerSandboxMb:0.0} MB less per sandbox)"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- this machine holds about {CapacityByPss:0} idle sandboxes at {PssP50Mb:0.0} MB PSS each ({CapacityByAvailable:0} at the fall of MemAvailable): >= 100: {Verdict(Math.Min(CapacityByPss, CapacityByAvailable) >= 100)}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- {Answered} of {Created} answered an exec of `true` while all were up{(Failure is null ? "" : $"; {Failure}")}"));
        return text.ToString();
    }

    private static string Verdict(bool met) => met ? "met" : "not met";
}
