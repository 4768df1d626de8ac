using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Box.Protocol;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// One tool of the agent over the sandbox's box. Arguments are read here rather than bound by
/// <see cref="AIFunctionFactory"/>, so that a malformed call from the model becomes an <c>Error:</c> observation the
/// model can correct instead of an exception that ends the loop; likewise every failure of the box.
/// </summary>
internal abstract class BoxTool : AIFunction
{
    private readonly JsonElement _schema;
    private readonly TimeProvider _time;

    protected BoxTool(string name, string description, string schema, TimeProvider time)
    {
        Name = name;
        Description = description;
        using var document = JsonDocument.Parse(schema);
        _schema = document.RootElement.Clone();
        _time = time;
    }

    public override string Name { get; }

    public override string Description { get; }

    public override JsonElement JsonSchema => _schema;

    /// <summary>Raised after each call with what it produced.</summary>
    public event Action<ToolResult>? Completed;

    /// <summary>Runs the tool; only cancellation of <paramref name="cancellationToken"/> escapes as an exception.</summary>
    public async Task<ToolResult> RunAsync(IReadOnlyDictionary<string, object?>? arguments, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        ToolResult result;
        try
        {
            result = await ExecuteAsync(new ToolArguments(arguments), cancellationToken).ConfigureAwait(false);
        }
        catch (ToolArgumentException e)
        {
            result = ToolResult.Error(e.Message);
        }
        catch (BoxException e)
        {
            result = ToolResult.Error($"{e.Code}: {e.Message}");
        }
        catch (HttpRequestException e)
        {
            result = ToolResult.Error($"the sandbox did not answer ({e.Message}). Try again; if it keeps failing, finish and report it.");
        }
        catch (JsonException e)
        {
            result = ToolResult.Error($"the sandbox sent a reply that could not be read ({e.Message}). Try again.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = ToolResult.Error("the call to the sandbox timed out. Try again with less work per call.");
        }

        result = result with { Tool = Name, Duration = _time.GetElapsedTime(start) };
        Completed?.Invoke(result);
        return result;
    }

    /// <summary>Does the work; throws <see cref="ToolArgumentException"/> or <see cref="BoxException"/> for failures the model can fix.</summary>
    protected abstract Task<ToolResult> ExecuteAsync(ToolArguments arguments, CancellationToken cancellationToken);

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
        (await RunAsync(arguments, cancellationToken).ConfigureAwait(false)).ToFunctionResult();
}
