using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Auth;

namespace Runable.Orchestrator.Context.Recall;

/// <summary>
/// The agent's tools over its own job's history: <c>recall(query, k)</c> searches every event with text, shown in the
/// prompt or not, and <c>read_event(id, offset, max_tokens)</c> reads one event's text a page at a time. Both are bound to
/// one job of one tenant when created, so a model can reach nothing else. A call never throws for a bad argument or a
/// missing event: it returns a text starting with <c>Error:</c> that says what to fix, like the sandbox tools.
/// </summary>
/// <example>
/// <code>
/// var recallTools = RecallTools.Create(recallIndex, job.Tenant, job.Id);
/// chatOptions.Tools = [.. sandboxTools, .. recallTools];
/// var text = (string?)await recallTools[0].InvokeAsync(new AIFunctionArguments { ["query"] = "E0502 lru.rs" });
/// </code>
/// </example>
public static class RecallTools
{
    /// <summary>The search tool's name.</summary>
    public const string RecallName = "recall";

    /// <summary>The reading tool's name.</summary>
    public const string ReadEventName = "read_event";

    /// <summary>The hits <c>recall</c> returns when the model does not say.</summary>
    public const int DefaultHits = 5;

    /// <summary>The page size of <c>read_event</c> when the model does not say, in tokens.</summary>
    public const int DefaultMaxTokens = 2000;

    /// <summary>The largest page <c>read_event</c> gives, in tokens.</summary>
    public const int MaxPageTokens = 32_000;

    /// <summary>Characters per token used to turn <c>max_tokens</c> into a page length (code and logs average about four).</summary>
    public const int CharsPerToken = 4;

    private const string RecallDescription =
        "Search everything that happened earlier in this job: your messages, every tool call and its full output, and the user's " +
        "messages, including what the conversation no longer shows (older outputs are replaced by one-line notes to save space). " +
        "Use it to get back an exact detail you saw before instead of re-running a command: a file path, a function or test name, " +
        "an error code or message, a version, a port, a commit id, a decision. Ranking favours the rarest words of your query found " +
        "together in one place, so give the exact words you expect in the text (e.g. 'E0502 borrow lru.rs' or 'LEDGER_DB_POOL_SIZE'). " +
        "Returns up to k events, best first, each with its id, type, a snippet and a score; read one in full with read_event.";

    private const string ReadEventDescription =
        "Read the text of one event of this job's history by its id: the number recall returns, or the #number of a note that " +
        "stands in for an older output. Shows a tool's full output, a tool call's arguments, or a message. Long texts come a page " +
        "at a time: start at 'offset' characters and get about 'max_tokens' tokens; the reply says how many characters remain " +
        "and the offset to continue from.";

    /// <summary>
    /// The two tools for job <paramref name="jobId"/> of <paramref name="tenant"/>: <c>recall</c>, then <c>read_event</c>.
    /// Each invocation returns a string for the model.
    /// </summary>
    public static IReadOnlyList<AIFunction> Create(RecallIndex index, string tenant, string jobId)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        var tools = new Tools(index, tenant, jobId);
        return
        [
            new GuardedFunction(AIFunctionFactory.Create(tools.RecallAsync, Options(RecallName, RecallDescription))),
            new GuardedFunction(AIFunctionFactory.Create(tools.ReadEventAsync, Options(ReadEventName, ReadEventDescription))),
        ];
    }

    private static AIFunctionFactoryOptions Options(string name, string description) => new()
    {
        Name = name,
        Description = description,
        // Arguments are read here, leniently ("5" for 5), so a malformed call is an Error: the model can fix, not an exception.
        ConfigureParameterBinding = parameter => new AIFunctionFactoryOptions.ParameterBindingOptions { BindParameter = Bind },
        // The result is the text itself, not a JSON string of it.
        MarshalResult = (result, _, _) => ValueTask.FromResult(result),
    };

    private static object? Bind(ParameterInfo parameter, AIFunctionArguments arguments)
    {
        var name = parameter.Name!;
        if (!arguments.TryGetValue(name, out var value) || value is null || value is JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined })
        {
            return parameter.HasDefaultValue
                ? parameter.DefaultValue
                : throw new RecallArgumentException($"'{name}' is required.");
        }

        if (parameter.ParameterType == typeof(string))
        {
            return value switch
            {
                string text => text,
                JsonElement { ValueKind: JsonValueKind.String } text => text.GetString(),
                JsonElement { ValueKind: JsonValueKind.Number } number => number.GetRawText(),
                _ => throw new RecallArgumentException($"'{name}' must be a string."),
            };
        }

        var integer = value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } number when number.TryGetInt64(out var n) => n,
            JsonElement { ValueKind: JsonValueKind.Number } number when number.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15 => (long)d,
            JsonElement { ValueKind: JsonValueKind.String } text when long.TryParse(text.GetString()?.Trim().TrimStart('#'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            string text when long.TryParse(text.Trim().TrimStart('#'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            int n => n,
            long n => n,
            _ => (long?)null,
        } ?? throw new RecallArgumentException($"'{name}' must be an integer.");
        if (parameter.ParameterType != typeof(int))
        {
            return integer;
        }

        return integer is >= int.MinValue and <= int.MaxValue ? (int)integer : throw new RecallArgumentException($"'{name}' is out of range.");
    }

    /// <summary>The two tools' bodies, bound to one job.</summary>
    private sealed class Tools(RecallIndex index, string tenant, string jobId)
    {
        public async Task<string> RecallAsync(
            [Description("Keywords to look for: identifiers, file names, error codes or messages, values, as they appeared.")] string query,
            [Description("How many events to return, 1 to 50.")] int k = DefaultHits,
            CancellationToken cancellationToken = default)
        {
            if (k is < 1 or > RecallIndex.MaxHits)
            {
                throw new RecallArgumentException($"'k' must be 1 to {RecallIndex.MaxHits}; it was {k}.");
            }

            if (RecallQuery.Parse(query) is null)
            {
                throw new RecallArgumentException("'query' has no word to search for: give keywords, identifiers, file names or error codes.");
            }

            var hits = await index.SearchAsync(tenant, jobId, query, k, cancellationToken).ConfigureAwait(false);
            var shown = query.Length > 120 ? query[..120] + "…" : query;
            if (hits.Count == 0)
            {
                return $"No event of this job matches \"{shown}\". Try other words: the exact identifiers, file names, error codes or messages you expect in the text.";
            }

            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"{hits.Count} event{(hits.Count == 1 ? "" : "s")} of this job match \"{shown}\", best first")
                .Append(index.HasEmbeddings ? " (ranked by words and meaning):\n" : " (ranked by shared words):\n");
            foreach (var hit in hits)
            {
                text.Append(CultureInfo.InvariantCulture, $"#{hit.Seq} {hit.Type}{(hit.Name is null ? "" : " " + hit.Name)}, {hit.Length} chars, score {hit.Score:0.##}: {hit.Snippet}\n");
            }

            return text.Append("Read one in full with read_event(id).").ToString();
        }

        public async Task<string> ReadEventAsync(
            [Description("The event's id: the number recall returns, or the #number in a note that replaced an output.")] long id,
            [Description("Where to start, in characters from the beginning of the text (0 for the start; the previous reply gives the next offset).")] long offset = 0,
            [Description("About how many tokens to return, 1 to 32000.")] int max_tokens = DefaultMaxTokens,
            CancellationToken cancellationToken = default)
        {
            if (id < 1)
            {
                throw new RecallArgumentException($"'id' must be an event id of this job (1 or more), as recall returns them; it was {id}.");
            }

            if (offset < 0)
            {
                throw new RecallArgumentException($"'offset' must be 0 or more; it was {offset}.");
            }

            if (max_tokens is < 1 or > MaxPageTokens)
            {
                throw new RecallArgumentException($"'max_tokens' must be 1 to {MaxPageTokens}; it was {max_tokens}.");
            }

            var e = await index.ReadAsync(tenant, jobId, id, cancellationToken).ConfigureAwait(false)
                ?? throw new RecallArgumentException($"this job has no event #{id}. Use an id that recall returned.");
            var length = e.Text.Length;
            if (length == 0)
            {
                return $"Event #{id} ({Kind(e)}) has no text.";
            }

            if (offset >= length)
            {
                throw new RecallArgumentException($"event #{id} has {length} characters, so 'offset' must be below {length}; it was {offset}.");
            }

            var start = (int)offset;
            var end = (int)Math.Min(length, start + ((long)max_tokens * CharsPerToken));
            if (end < length)
            {
                // End at a line break when one is near, so a page does not stop mid-line.
                var newline = e.Text.LastIndexOf('\n', end - 1, end - start);
                if (newline >= start + ((end - start) * 3 / 4))
                {
                    end = newline + 1;
                }
                else if (char.IsHighSurrogate(e.Text[end - 1]))
                {
                    end--;
                }
            }

            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"Event #{id} ({Kind(e)}), {length} characters; characters {start} to {end}:\n");
            text.Append(e.Text, start, end - start);
            if (text[^1] != '\n')
            {
                text.Append('\n');
            }

            return end < length
                ? text.Append(CultureInfo.InvariantCulture, $"[{length - end} characters remain: read_event(id={id}, offset={end}) continues]").ToString()
                : text.Append(CultureInfo.InvariantCulture, $"[end of event #{id}]").ToString();
        }

        private static string Kind(RecallEvent e) => e.Name is null ? e.Type : $"{e.Type} of {e.Name}";
    }

    /// <summary>Turns what the model can act on into an <c>Error:</c> result instead of an exception that would end the agent's loop.</summary>
    private sealed class GuardedFunction(AIFunction inner) : DelegatingAIFunction(inner)
    {
        protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
        {
            try
            {
                return await base.InvokeCoreAsync(arguments, cancellationToken).ConfigureAwait(false);
            }
            catch (RecallArgumentException e)
            {
                return "Error: " + e.Message;
            }
            catch (OrchestratorException e) when (e.Status == 404)
            {
                return "Error: this job's history is not available to search.";
            }
            catch (SqliteException e)
            {
                return $"Error: the job's history could not be read just now ({e.Message}). Try again.";
            }
        }
    }
}
