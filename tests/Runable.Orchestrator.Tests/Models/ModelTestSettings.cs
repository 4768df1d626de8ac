using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>Model settings for tests, built the way the orchestrator builds them: from environment variables.</summary>
internal static class ModelTestSettings
{
    /// <summary>A key that must reach the model server and nothing else.</summary>
    public const string Key = "sk-test-key-5f1e2d3c4b";

    public static Func<string, string?> Environment(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return name => map.GetValueOrDefault(name);
    }

    /// <summary>The OpenAI-compatible endpoint at <paramref name="server"/> with <c>scripted-model</c> as the default, priced at $2 / $8 per million.</summary>
    public static ModelSettings OpenAI(ScriptedModelServer server, int maxAttempts = 3) =>
        ModelSettings.Load(null, Environment(
            ("OPENAI_BASE_URL", server.BaseUrl.ToString()), ("OPENAI_API_KEY", Key), ("RUNABLE_MODEL", "scripted-model"))) with
        {
            Catalog = [new ModelEntry { Model = "scripted-model", ContextWindow = 128_000, InputUsdPerMillion = 2m, OutputUsdPerMillion = 8m, CachedInputUsdPerMillion = 0.5m }],
            Retry = new ModelRetryOptions { MaxAttempts = maxAttempts },
        };
}
