using System.Collections.Concurrent;
using Runable.Orchestrator.Tests.Models;

namespace Runable.Web.Tests.Browser;

/// <summary>
/// Routes the scripted model's requests by a marker in the job's task, so jobs of different tests running at once each
/// get their own turns, in order.
/// </summary>
public sealed class ModelScripts
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ScriptedTurn>> _scripts = new(StringComparer.Ordinal);

    /// <summary>Plays <paramref name="turns"/> to the job whose task holds <paramref name="marker"/>.</summary>
    public void Add(string marker, params ScriptedTurn[] turns) => _scripts[marker] = new ConcurrentQueue<ScriptedTurn>(turns);

    /// <summary>The next turn for the job the request belongs to; null (an error answer) when its script is spent or unknown.</summary>
    public ScriptedTurn? Answer(RecordedRequest request)
    {
        var body = request.Body?.ToJsonString() ?? "";
        foreach (var (marker, turns) in _scripts)
        {
            if (body.Contains(marker, StringComparison.Ordinal))
            {
                return turns.TryDequeue(out var turn) ? turn : null;
            }
        }

        return null;
    }
}
