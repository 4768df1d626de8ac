namespace Runable.Orchestrator.Models;

/// <summary>The kinds of model endpoint the orchestrator can talk to.</summary>
public enum ModelProvider
{
    /// <summary>The OpenAI Chat Completions API, or any server that speaks it (vLLM, llama.cpp, LM Studio, Ollama's <c>/v1</c>).</summary>
    OpenAI,

    /// <summary>Anthropic's Messages API.</summary>
    Anthropic,

    /// <summary>Ollama's native API.</summary>
    Ollama,
}
