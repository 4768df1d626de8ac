using Microsoft.Extensions.AI;
using Runable.Orchestrator.Context;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>The check before every model call refuses each kind of broken prompt, and the independent one agrees.</summary>
public sealed class PromptValidatorTests
{
    private static readonly PromptExpectations s_expected = new("system", "task", ["stop using sqlite"], [], 100, 1_000);

    private static ChatMessage Call(string id) => new(ChatRole.Assistant, [new FunctionCallContent(id, "bash", new Dictionary<string, object?> { ["command"] = "ls" })]);

    private static ChatMessage Result(params string[] ids) => new(ChatRole.Tool, [.. ids.Select(id => (AIContent)new FunctionResultContent(id, "ok"))]);

    public static TheoryData<string, ChatMessage[]> Broken() => new()
    {
        { "between the call a", [Call("a"), new(ChatRole.User, "stop using sqlite"), Result("a")] },
        { "comes between", [Call("a"), Call("b"), Result("b")] },
        { "has no result", [Call("a")] },
        { "answer no call", [Result("a")] },
        { "one result of each", [Call("a"), Result("a", "a")] },
        { "repeated id", [Call("a"), Result("a"), Call("a"), Result("a")] },
        { "reasoning alone", [new(ChatRole.Assistant, [new TextReasoningContent("hmm")])] },
        { "reasoning after", [new(ChatRole.Assistant, [new FunctionCallContent("a", "bash"), new TextReasoningContent("hmm")]), Result("a")] },
        { "missing or changed", [new(ChatRole.User, "stop using SQLite")] },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void ABrokenPrompt_IsRefused_NamingWhatIsWrong(string what, ChatMessage[] tail)
    {
        ChatMessage[] prompt = [new(ChatRole.System, "system"), new(ChatRole.User, "task"), .. tail];
        var error = Assert.Throws<ContextInvariantException>(() => PromptValidator.Validate(prompt, s_expected));
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
        if (what != "missing or changed")
        {
            Assert.NotEmpty(IndependentValidator.CheckAnthropic(prompt).Concat(new IndependentValidator().CheckOpenAI(PromptShapes.OpenAI(prompt), new PromptFacts("system", "task", [], [], 0, 10_000))));
        }
    }

    [Fact]
    public void APromptOverBudget_OrWithoutItsTask_IsRefused_AndAGoodOnePasses()
    {
        ChatMessage[] good = [new(ChatRole.System, "system"), new(ChatRole.User, "task"), Call("a"), Result("a"), new(ChatRole.User, "stop using sqlite")];
        PromptValidator.Validate(good, s_expected);
        Assert.Empty(new IndependentValidator().Check(good, new PromptFacts("system", "task", ["stop using sqlite"], [], 0, 10_000)));
        Assert.Throws<ContextInvariantException>(() => PromptValidator.Validate(good, s_expected with { Tokens = 1_001 }));
        Assert.Throws<ContextInvariantException>(() => PromptValidator.Validate(good, s_expected with { Task = "another task" }));
        Assert.Throws<ContextInvariantException>(() => PromptValidator.Validate(good, s_expected with
        {
            FullExchanges = [new Dictionary<string, string> { ["a"] = "the whole output" }],
        }));
    }
}
