using System.Text.Json;
using System.Text.Json.Serialization;

namespace Runable.Web.Api;

/// <summary>The JSON of the API as the UI reads and writes it (snake_case, nulls left out).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobPageView))]
[JsonSerializable(typeof(JobEventView))]
[JsonSerializable(typeof(List<JobEventView>))]
[JsonSerializable(typeof(List<ArtifactView>))]
[JsonSerializable(typeof(SandboxView))]
[JsonSerializable(typeof(List<SandboxView>))]
[JsonSerializable(typeof(List<KeyView>))]
[JsonSerializable(typeof(CreatedKeyView))]
[JsonSerializable(typeof(NewJobRequest))]
[JsonSerializable(typeof(NewSandboxRequest))]
[JsonSerializable(typeof(NewKeyRequest))]
[JsonSerializable(typeof(ProblemView))]
[JsonSerializable(typeof(MessageRequest))]
public sealed partial class WebJsonContext : JsonSerializerContext;
