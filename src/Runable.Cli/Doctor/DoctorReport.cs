namespace Runable.Cli.Doctor;

/// <summary>The doctor's whole report, as <c>runable doctor --json</c> prints it.</summary>
/// <param name="Checks">Every check, in report order.</param>
public sealed record DoctorReport(IReadOnlyList<HostCheck> Checks)
{
    /// <summary>Whether everything the box needs today was found.</summary>
    public bool BoxReady => Checks.Where(c => c.Required).All(c => c.Status == CheckStatus.Found);
}
