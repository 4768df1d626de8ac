namespace Runable.Orchestrator.Models;

/// <summary>No model was asked for and none is configured; the message lists the settings that configure one.</summary>
public sealed class ModelNotConfiguredException() : ModelConfigurationException(Explanation)
{
    /// <summary>What to set, in the words a user reads.</summary>
    public const string Explanation =
        "No model is configured. Set RUNABLE_MODEL to the model to use (for example 'openai:gpt-4.1', " +
        "'anthropic:claude-sonnet-4-5', 'ollama:llama3.1', or a bare name for an OpenAI-compatible server), " +
        "or Models:DefaultModel in configuration, and the provider's settings: OPENAI_API_KEY (and OPENAI_BASE_URL " +
        "for another OpenAI-compatible server such as vLLM, llama.cpp, LM Studio or Ollama's /v1), ANTHROPIC_API_KEY " +
        "(and optionally ANTHROPIC_BASE_URL), or OLLAMA_HOST.";
}
