using Runable.Orchestrator.Models;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>Model specs: the provider prefixes, bare names, and errors that say how to write one.</summary>
public sealed class ModelSpecTests
{
    [Theory]
    [InlineData("openai:gpt-4.1", ModelProvider.OpenAI, "gpt-4.1")]
    [InlineData("anthropic:claude-sonnet-4-5", ModelProvider.Anthropic, "claude-sonnet-4-5")]
    [InlineData("ollama:llama3.1", ModelProvider.Ollama, "llama3.1")]
    [InlineData("ollama:llama3.1:8b-instruct-q4_K_M", ModelProvider.Ollama, "llama3.1:8b-instruct-q4_K_M")]
    [InlineData("OpenAI: gpt-4o ", ModelProvider.OpenAI, "gpt-4o")]
    [InlineData("qwen2.5-coder-32b", ModelProvider.OpenAI, "qwen2.5-coder-32b")]
    [InlineData("Qwen/Qwen2.5-Coder-32B-Instruct", ModelProvider.OpenAI, "Qwen/Qwen2.5-Coder-32B-Instruct")]
    public void Parse_ReadsProviderAndName(string spec, ModelProvider provider, string name)
    {
        Assert.Equal(new ModelSpec(provider, name), ModelSpec.Parse(spec));
    }

    [Fact]
    public void ToString_IsTheCanonicalForm_AndParsesBack()
    {
        var spec = ModelSpec.Parse("qwen2.5-coder");

        Assert.Equal("openai:qwen2.5-coder", spec.ToString());
        Assert.Equal(spec, ModelSpec.Parse(spec.ToString()));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("anthropic:", "no model name after 'anthropic:'")]
    [InlineData("gemini:gemini-2.5-pro", "unknown provider 'gemini'")]
    [InlineData("llama3.1:8b", "write 'ollama:llama3.1:8b'")]
    public void Parse_Rejects_WithAMessageThatSaysWhatToWrite(string spec, string expected)
    {
        var error = Assert.Throws<ModelConfigurationException>(() => ModelSpec.Parse(spec));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("'openai:gpt-4.1'", error.Message, StringComparison.Ordinal);
    }
}
