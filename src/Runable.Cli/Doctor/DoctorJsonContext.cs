using System.Text.Json.Serialization;

namespace Runable.Cli.Doctor;

/// <summary>Source-generated JSON for the doctor's report: snake_case, statuses as lower-case words.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(DoctorReport))]
public sealed partial class DoctorJsonContext : JsonSerializerContext;
