using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Runable.Orchestrator.Agents.Tools;
using Runable.Orchestrator.Jobs;

namespace Runable.Orchestrator.Context;

/// <summary>
/// Keeps one job's prompt within its model's budget however long the job runs. The job's event log is the truth; the
/// prompt is a view of it, made of atomic units (<see cref="ContextUnit"/>) whose tokens are counted once, when they are
/// added. Before each model call <see cref="PrepareAsync"/> applies the policy against the budget B (the window less the
/// answer's reserve and the tool definitions, calibrated against the provider's reported usage): past
/// <see cref="ContextSettings.MaskAt"/> of B the oldest outputs outside the last K exchanges are masked in one batch; past
/// <see cref="ContextSettings.SummarizeAt"/> the oldest unpinned span is summarized (summaries roll up); if that is not
/// enough, or the summarizer failed, the oldest span is dropped and named in a note, then K shrinks. Each decision is
/// logged as a <c>context</c> event before it takes effect, and <see cref="Replay"/> rebuilds the same view from the log.
/// The assembled prompt is checked by <see cref="PromptValidator"/> before it is returned.
/// </summary>
public sealed class ContextManager
{
    private const string StoppedResult = "Error: the run stopped before this call completed; check its effect before repeating it.";
    private const int MaxIdentifiers = 40;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly ContextSettings _settings;
    private readonly TokenCounter _counter;
    private readonly IContextSummarizer? _summarizer;
    private readonly Func<ContextDecision, CancellationToken, Task> _log;
    private readonly List<ContextUnit> _units = [];
    private readonly List<int> _exchanges = [];
    private readonly List<string> _userTexts = [];
    private readonly Dictionary<long, int> _bySeq = [];
    private readonly List<(long From, long Through)> _dropped = [];
    private long _shown;
    private int _coveredThrough = 1;
    private string? _summary;
    private long _summaryFrom;
    private long _summaryThrough;
    private ChatMessage? _cover;
    private int _coverTokens;
    private int _keep;
    private double _calibration;
    private double _calibrationFloor;
    private int _overflows;
    private int _summarizerFailures;
    private bool _lastCoverWasDrop;

    /// <summary>
    /// A manager for a job whose system prompt and task are given; <paramref name="toolTokens"/> is the tool definitions'
    /// size. Decisions go to <paramref name="log"/> (which appends the job's <c>context</c> event, and throws when it cannot).
    /// Without a <paramref name="summarizer"/>, spans that would be summarized are dropped and named in a note.
    /// </summary>
    public ContextManager(ContextSettings settings, TokenCounter counter, string systemPrompt, string task, int toolTokens,
        IContextSummarizer? summarizer, Func<ContextDecision, CancellationToken, Task>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(counter);
        ArgumentNullException.ThrowIfNull(systemPrompt);
        ArgumentNullException.ThrowIfNull(task);
        settings.Validate();
        _settings = settings;
        _counter = counter;
        _summarizer = summarizer;
        _log = log ?? ((_, _) => Task.CompletedTask);
        ToolTokens = toolTokens;
        _keep = settings.KeepExchanges;
        _calibration = _calibrationFloor = settings.InitialCalibration;
        Add(ContextUnitKind.System, 0, [new ChatMessage(ChatRole.System, systemPrompt)], []);
        Add(ContextUnitKind.Task, 0, [new ChatMessage(ChatRole.User, task)], []);
    }

    /// <summary>The units so far, in order.</summary>
    public IReadOnlyList<ContextUnit> Units => _units;

    /// <summary>The settings in force.</summary>
    public ContextSettings Settings => _settings;

    /// <summary>The counter used for every unit.</summary>
    public TokenCounter Counter => _counter;

    /// <summary>The tool definitions' size, in counted tokens.</summary>
    public int ToolTokens { get; }

    /// <summary>The prompt's size (messages) as it stands, in counted tokens.</summary>
    public long ShownTokens => _shown + _coverTokens;

    /// <summary>Every unit's full size: what sending the whole history would take.</summary>
    public long HistoryTokens { get; private set; }

    /// <summary>Provider tokens per counted token, from the reported usage (or the settings' first estimate).</summary>
    public double Calibration => _calibration;

    /// <summary>The recent exchanges kept in full (K, less any emergency reductions).</summary>
    public int KeepExchanges => _keep;

    /// <summary>The summary that stands for the covered span, or null.</summary>
    public string? Summary => _summary;

    /// <summary>
    /// The budget B for the messages, in counted tokens: the smaller of the window less the answer's reserve and the
    /// job's prompt cap, divided by the calibration, less the tool definitions.
    /// </summary>
    public long Budget
    {
        get
        {
            var limit = Math.Min(_settings.WindowTokens - _settings.OutputReserveTokens, _settings.MaxPromptTokens ?? long.MaxValue);
            return (long)Math.Floor(limit / _calibration) - ToolTokens;
        }
    }

    /// <summary>The settings as the job's first <c>context</c> event records them.</summary>
    public ContextDecision SettingsDecision() => new()
    {
        Action = ContextDecision.SettingsAction,
        Budget = Budget,
        TokensBefore = ShownTokens,
        TokensAfter = ShownTokens,
        Settings = new Dictionary<string, object>
        {
            ["window_tokens"] = _settings.WindowTokens,
            ["output_reserve_tokens"] = _settings.OutputReserveTokens,
            ["max_prompt_tokens"] = (object?)_settings.MaxPromptTokens ?? "none",
            ["tool_tokens"] = ToolTokens,
            ["keep_exchanges"] = _settings.KeepExchanges,
            ["mask_at"] = _settings.MaskAt,
            ["summarize_at"] = _settings.SummarizeAt,
            ["max_result_tokens"] = _settings.MaxResultTokens,
            ["encoding"] = _counter.Encoding,
            ["calibration"] = _calibration,
            ["summarizer"] = _summarizer?.Name ?? "none",
            ["system_prompt"] = _units[0].Messages[0].Text,
        },
    };

    /// <summary>Adds a message the user sent (event <paramref name="seq"/>); it is shown verbatim from now on.</summary>
    public void AddUserMessage(long seq, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _userTexts.Add(text);
        Add(ContextUnitKind.User, seq, [new ChatMessage(ChatRole.User, text)], []);
    }

    /// <summary>Adds an assistant message without tool calls (event <paramref name="seq"/>).</summary>
    public void AddAssistant(long seq, IEnumerable<AIContent> contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var list = contents.Where(c => c is not FunctionCallContent).ToList();
        if (list.Any(c => c is TextContent { Text.Length: > 0 }))
        {
            Add(ContextUnitKind.Assistant, seq, [new ChatMessage(ChatRole.Assistant, list)], []);
        }
    }

    /// <summary>
    /// Adds a whole tool exchange: the assistant's contents (reasoning, text, calls; event <paramref name="seq"/>) and
    /// every call's outcome. An output over the per-result cap keeps its head and tail here, with a note naming its event;
    /// the log keeps it whole.
    /// </summary>
    public void AddExchange(long seq, IEnumerable<AIContent> assistantContents, IReadOnlyList<ToolOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(assistantContents);
        ArgumentNullException.ThrowIfNull(outcomes);
        // Reasoning first, then text, then the calls: the order every provider accepts, and reasoning stays with its calls.
        var contents = assistantContents.ToList();
        var ordered = contents.OfType<TextReasoningContent>().Cast<AIContent>()
            .Concat(contents.Where(c => c is not TextReasoningContent and not FunctionCallContent))
            .Concat(contents.OfType<FunctionCallContent>()).ToList();
        var calls = ordered.OfType<FunctionCallContent>().Select(c => c.CallId).ToList();
        if (calls.Count == 0 || calls.Count != outcomes.Count || !calls.SequenceEqual(outcomes.Select(o => o.CallId)))
        {
            throw new ArgumentException("An exchange needs one outcome per call, in call order.", nameof(outcomes));
        }

        var cap = ResultCap(outcomes.Count);
        var results = new List<AIContent>(outcomes.Count);
        var images = new List<AIContent>();
        var assistant = new ChatMessage(ChatRole.Assistant, ordered);
        var tokens = _counter.Count(assistant) + TokenCounter.MessageOverhead;
        foreach (var outcome in outcomes)
        {
            var text = outcome.MissingImages > 0
                ? outcome.Text + $"\n[{Plural(outcome.MissingImages, "image")} returned here {(outcome.MissingImages == 1 ? "is" : "are")} not kept across a restart of the run]"
                : outcome.Text;
            // Each output is tokenized once (twice when it is cut: whole, then its head and tail).
            var (shown, shownTokens) = Cap(text, outcome.ResultSeq, cap);
            results.Add(new FunctionResultContent(outcome.CallId, shown));
            tokens += TokenCounter.ResultOverhead + shownTokens;
            images.AddRange(outcome.Images);
        }

        var messages = new List<ChatMessage> { assistant, new(ChatRole.Tool, results) };
        if (images.Count > 0)
        {
            // Tool messages carry text only with most providers: the images follow as the user's.
            var shownImages = new ChatMessage(ChatRole.User, [new TextContent("The images the tool calls above returned:"), .. images]);
            messages.Add(shownImages);
            tokens += _counter.Count(shownImages);
        }

        Add(ContextUnitKind.ToolExchange, seq, messages, outcomes, tokens);
    }

    /// <summary>
    /// Rebuilds the context from a job's events (after the last <c>workspace</c> event, as the runner passes them): units
    /// from <c>assistant</c>, <c>tool_call</c>, <c>tool_result</c> and <c>message</c> events, decisions from <c>context</c>
    /// events, calibration from <c>usage</c> events. A call without a logged result gets one saying the run stopped; a
    /// user's message logged in the middle of an exchange joins after it, as it did when the run read it.
    /// </summary>
    public void Replay(IEnumerable<JobEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        Pending? pending = null;
        var deferred = new List<(long Seq, string Text)>();
        void Close()
        {
            if (pending is not null)
            {
                AddExchange(pending.Seq, pending.Contents, [.. pending.Calls.Select(c => pending.Results.TryGetValue(c.CallId, out var r)
                    ? r with { CallSeq = pending.CallSeqs.GetValueOrDefault(c.CallId) }
                    : new ToolOutcome(c.CallId, c.Name, pending.CallSeqs.TryGetValue(c.CallId, out var cs) ? cs : null, null, StoppedResult, true, []))]);
                pending = null;
            }

            foreach (var (seq, text) in deferred)
            {
                AddUserMessage(seq, text);
            }

            deferred.Clear();
        }

        foreach (var e in events)
        {
            switch (e.Type)
            {
                case "assistant":
                {
                    Close();
                    var contents = new List<AIContent>();
                    if (String(e.Data, "text") is { Length: > 0 } text)
                    {
                        contents.Add(new TextContent(text));
                    }

                    var calls = new List<FunctionCallContent>();
                    if (e.Data.TryGetProperty("tool_calls", out var list) && list.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var call in list.EnumerateArray())
                        {
                            var arguments = call.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.Object
                                ? a.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
                                : null;
                            calls.Add(new FunctionCallContent(String(call, "id") ?? "", String(call, "name") ?? "", arguments));
                        }
                    }

                    if (calls.Count == 0)
                    {
                        AddAssistant(e.Seq, contents);
                    }
                    else
                    {
                        contents.AddRange(calls);
                        pending = new Pending(e.Seq, contents, calls);
                    }

                    break;
                }

                case "tool_call" when pending is not null && String(e.Data, "id") is { } id:
                    pending.CallSeqs[id] = e.Seq;
                    break;
                case "tool_result" when pending is not null && String(e.Data, "id") is { } id && pending.Calls.Any(c => c.CallId == id):
                {
                    var isError = e.Data.TryGetProperty("is_error", out var error) && error.ValueKind == JsonValueKind.True;
                    var images = e.Data.TryGetProperty("images", out var count) && count.TryGetInt32(out var n) ? n : 0;
                    pending.Results[id] = new ToolOutcome(id, String(e.Data, "name") ?? "", null, e.Seq, String(e.Data, "text") ?? "", isError, []) { MissingImages = images };
                    if (pending.Results.Count == pending.Calls.Count)
                    {
                        Close();
                    }

                    break;
                }

                case "message" when String(e.Data, "text") is { } text:
                    if (pending is null)
                    {
                        AddUserMessage(e.Seq, text);
                    }
                    else
                    {
                        deferred.Add((e.Seq, text));
                    }

                    break;
                case "usage" when e.Data.TryGetProperty("prompt_tokens_estimate", out var estimate) && estimate.TryGetInt64(out var counted)
                                  && e.Data.TryGetProperty("input_tokens", out var input) && input.TryGetInt64(out var reported):
                    ObserveUsage(reported, counted);
                    break;
                case "context":
                    Close();
                    Apply(e.Data.Deserialize<ContextDecision>(s_json) ?? throw new InvalidDataException($"Event #{e.Seq} is not a context decision."));
                    break;
                case "resumed":
                    Close();
                    break;
            }
        }

        Close();
    }

    /// <summary>
    /// Applies the policy and returns the prompt for the next model call, checked. Decisions are logged before they take
    /// effect. Throws <see cref="ContextBudgetException"/> when what must be shown verbatim does not fit the budget.
    /// </summary>
    public async Task<ContextView> PrepareAsync(CancellationToken cancellationToken = default)
    {
        var budget = Budget;
        if (budget <= 0)
        {
            throw new ContextBudgetException(string.Create(CultureInfo.InvariantCulture,
                $"The tool definitions ({ToolTokens} tokens) leave no room for messages within the window ({_settings.WindowTokens} tokens, {_settings.OutputReserveTokens} kept for the answer). Raise context.window_tokens or context.max_prompt_tokens."));
        }

        if (ShownTokens > _settings.MaskAt * budget)
        {
            await MaskAsync((long)(_settings.MaskTo * budget), budget, cancellationToken).ConfigureAwait(false);
        }

        if (ShownTokens > _settings.SummarizeAt * budget)
        {
            await SummarizeAsync((long)(_settings.SummarizeTo * budget), budget, cancellationToken).ConfigureAwait(false);
        }

        while (ShownTokens > budget)
        {
            // An emergency: the summary did not suffice or could not be had. Drop the oldest span, then keep fewer exchanges.
            if (await DropAsync((long)(_settings.SummarizeTo * budget), budget, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (_keep <= 1)
            {
                var pinned = _units.Where(u => u.IsPinned).Sum(u => (long)u.Tokens);
                throw new ContextBudgetException(string.Create(CultureInfo.InvariantCulture,
                    $"The prompt needs {ShownTokens} tokens for what is always shown (the system prompt, the task and the user's messages: {pinned}; the summary: {_coverTokens}; the last exchange and what follows: {ShownTokens - pinned - _coverTokens}), over the budget of {budget} (window {_settings.WindowTokens}, {_settings.OutputReserveTokens} kept for the answer, {ToolTokens} for the tool definitions, calibration {_calibration:0.00}). Raise context.window_tokens or context.max_prompt_tokens, or send shorter messages."));
            }

            await DecideAsync(new ContextDecision { Action = ContextDecision.KeepAction, Keep = _keep - 1, Budget = budget, TokensBefore = ShownTokens }, cancellationToken).ConfigureAwait(false);
            await MaskAsync((long)(_settings.MaskTo * budget), budget, cancellationToken).ConfigureAwait(false);
        }

        var prompt = Assemble();
        PromptValidator.Validate(prompt, Expectations(budget));
        return new ContextView(prompt, ShownTokens, budget, ToolTokens, _calibration);
    }

    /// <summary>
    /// Learns from the provider's reported input tokens for a request counted as <paramref name="countedTokens"/>
    /// (messages and tools): the calibration follows a higher ratio at once and a lower one slowly, and never falls below
    /// what a "context too long" answer taught. A reported usage also closes the overflow circuit.
    /// </summary>
    public void ObserveUsage(long reportedInputTokens, long countedTokens)
    {
        if (reportedInputTokens <= 0 || countedTokens < 256)
        {
            return;
        }

        var observed = Math.Clamp(reportedInputTokens / (double)countedTokens, 0.5, 4.0);
        _calibration = Math.Max(_calibrationFloor, Math.Max(observed, (0.8 * _calibration) + (0.2 * observed)));
        _overflows = 0;
    }

    /// <summary>
    /// The provider refused the prompt as too long: the calibration rises by a quarter (the next prompt is a fifth
    /// smaller) and the decision is logged. After <see cref="ContextSettings.MaxOverflowShrinks"/> refusals in a row the
    /// circuit opens: <see cref="ContextBudgetException"/>.
    /// </summary>
    public async Task ShrinkAfterOverflowAsync(string reason, CancellationToken cancellationToken = default)
    {
        if (_overflows >= _settings.MaxOverflowShrinks)
        {
            throw new ContextBudgetException(string.Create(CultureInfo.InvariantCulture,
                $"The model's provider refused the prompt as too long {_overflows + 1} times in a row, though it was shrunk after each ({reason}). Set context.window_tokens to the model's real window."));
        }

        await DecideAsync(new ContextDecision
        {
            Action = ContextDecision.OverflowAction, Calibration = Math.Round(_calibration * 1.25, 4), Reason = reason, Budget = Budget, TokensBefore = ShownTokens,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The prompt as it stands, without applying the policy or checking it (for a view of a job's context).</summary>
    public IReadOnlyList<ChatMessage> Assemble()
    {
        var prompt = new List<ChatMessage>(_units.Count * 2);
        for (var i = 0; i < _units.Count; i++)
        {
            var unit = _units[i];
            var shown = unit.IsPinned ? unit.Messages : unit.ShownMessages;
            if (shown.Count > 0 && prompt.Count > 0 && prompt[^1].Role == ChatRole.Assistant && shown[0].Role == ChatRole.Assistant
                && shown[0].Contents.Any(c => c is TextReasoningContent))
            {
                // Two assistant messages in a row are one turn to Anthropic, where reasoning must come first: an earlier
                // turn's reasoning is optional, so this one goes without it (not moved, not detached).
                shown = unit.WithoutReasoning ??= [new ChatMessage(ChatRole.Assistant, [.. shown[0].Contents.Where(c => c is not TextReasoningContent)]), .. shown.Skip(1)];
            }

            prompt.AddRange(shown);
            if (i == _coveredThrough && _cover is not null)
            {
                prompt.Add(_cover);
            }
        }

        return prompt;
    }

    private PromptExpectations Expectations(long budget)
    {
        var full = new List<IReadOnlyDictionary<string, string>>();
        for (var i = Math.Max(0, _exchanges.Count - _keep); i < _exchanges.Count; i++)
        {
            var unit = _units[_exchanges[i]];
            full.Add(((ChatMessage)unit.Messages[1]).Contents.OfType<FunctionResultContent>()
                .ToDictionary(r => r.CallId, r => TokenCounter.ResultText(r.Result), StringComparer.Ordinal));
        }

        return new PromptExpectations(_units[0].Messages[0].Text, _units[1].Messages[0].Text, _userTexts, full, ShownTokens, budget);
    }

    private void Add(ContextUnitKind kind, long seq, IReadOnlyList<ChatMessage> messages, IReadOnlyList<ToolOutcome> outcomes, int? tokens = null)
    {
        var unit = new ContextUnit(_units.Count, kind, seq, messages, tokens ?? _counter.Count(messages), outcomes);
        _units.Add(unit);
        if (seq > 0)
        {
            _bySeq[seq] = unit.Index;
        }

        if (kind == ContextUnitKind.ToolExchange)
        {
            _exchanges.Add(unit.Index);
        }

        _shown += unit.Tokens;
        HistoryTokens += unit.Tokens;
    }

    /// <summary>The first unit that must stay in full: the oldest of the last K exchanges.</summary>
    private int ProtectedFrom => _exchanges.Count == 0 ? _units.Count : _exchanges[Math.Max(0, _exchanges.Count - _keep)];

    private async Task MaskAsync(long target, long budget, CancellationToken cancellationToken)
    {
        var chosen = new List<ContextUnit>();
        var after = ShownTokens;
        for (var i = _coveredThrough + 1; i < ProtectedFrom && after > target; i++)
        {
            var unit = _units[i];
            if (unit.IsPinned || unit.View != ContextUnitView.Full)
            {
                continue;
            }

            EnsureMasked(unit);
            if (unit.MaskedTokens < unit.Tokens)
            {
                chosen.Add(unit);
                after -= unit.Tokens - unit.MaskedTokens;
            }
        }

        // A mask changes the prompt's prefix, which breaks the provider's prompt cache: below the summary threshold, wait
        // until a batch frees at least MaskBatchShare of the budget.
        var worthIt = ShownTokens - after >= _settings.MaskBatchShare * budget || ShownTokens > _settings.SummarizeAt * budget;
        if (chosen.Count > 0 && worthIt)
        {
            await DecideAsync(new ContextDecision
            {
                Action = ContextDecision.MaskAction,
                Units = [.. chosen.Select(u => u.Seq)],
                Outputs = [.. chosen.SelectMany(u => u.Outcomes).Where(o => o.ResultSeq is not null).Select(o => o.ResultSeq!.Value)],
                Budget = budget,
                TokensBefore = ShownTokens,
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The unpinned units after the covered span and before the protected tail, through the one that brings the prompt to <paramref name="target"/>.</summary>
    private int SpanEnd(long target, long replacementTokens)
    {
        var end = -1;
        var freed = 0L;
        for (var i = _coveredThrough + 1; i < ProtectedFrom; i++)
        {
            var unit = _units[i];
            if (unit.IsPinned)
            {
                continue;
            }

            end = i;
            freed += unit.ShownTokens;
            if (ShownTokens - freed + replacementTokens <= target)
            {
                break;
            }
        }

        return end;
    }

    private async Task SummarizeAsync(long target, long budget, CancellationToken cancellationToken)
    {
        if (_summarizer is null || _summarizerFailures >= 2)
        {
            return;
        }

        var end = SpanEnd(target, _settings.SummaryMaxTokens);
        if (end < 0)
        {
            return;
        }

        var span = _units.Skip(_coveredThrough + 1).Take(end - _coveredThrough).ToList();
        var from = _summary is null ? FirstEvent(span) : _summaryFrom;
        var through = span.Max(u => u.LastSeq);
        string? summary;
        try
        {
            summary = _summary;
            foreach (var chunk in Transcripts(span))
            {
                var written = await _summarizer.SummarizeAsync(new ContextSummaryRequest(summary, chunk, from, through, _settings.SummaryMaxTokens), cancellationToken).ConfigureAwait(false);
                if (string.IsNullOrWhiteSpace(written))
                {
                    throw new InvalidDataException("the summarizer answered with no text");
                }

                summary = CapTokens(written.Trim(), (int)(_settings.SummaryMaxTokens * 1.25));
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
        {
            await DecideAsync(new ContextDecision
            {
                Action = ContextDecision.SummarizeFailedAction, Reason = $"{e.GetType().Name}: {Shorten(e.Message, 300)}", Summarizer = _summarizer.Name,
                Budget = budget, TokensBefore = ShownTokens,
            }, cancellationToken).ConfigureAwait(false);
            return;
        }

        var identifiers = ContextIdentifiers.Missing(span.Select(u => UnitTranscript(u, 4_000)), summary!, MaxIdentifiers);
        if (identifiers.Count > 0)
        {
            summary += "\n\nExact identifiers from these events: " + string.Join(", ", identifiers);
        }

        await DecideAsync(new ContextDecision
        {
            Action = ContextDecision.SummarizeAction,
            ThroughSeq = _units[end].Seq,
            Units = [.. span.Where(u => !u.IsPinned).Select(u => u.Seq)],
            FromEvent = from,
            ThroughEvent = through,
            Summary = summary,
            Summarizer = _summarizer.Name,
            Budget = budget,
            TokensBefore = ShownTokens,
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> DropAsync(long target, long budget, CancellationToken cancellationToken)
    {
        var end = SpanEnd(target, 64);
        if (end < 0)
        {
            return false;
        }

        var span = _units.Skip(_coveredThrough + 1).Take(end - _coveredThrough).ToList();
        await DecideAsync(new ContextDecision
        {
            Action = ContextDecision.DropAction,
            ThroughSeq = _units[end].Seq,
            Units = [.. span.Where(u => !u.IsPinned).Select(u => u.Seq)],
            FromEvent = FirstEvent(span),
            ThroughEvent = span.Max(u => u.LastSeq),
            Budget = budget,
            TokensBefore = ShownTokens,
        }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task DecideAsync(ContextDecision decision, CancellationToken cancellationToken)
    {
        // Applied here, logged before any prompt shows it: a failed append ends the run before the next model call.
        var before = ShownTokens;
        Apply(decision);
        await _log(decision with { TokensBefore = before, TokensAfter = ShownTokens }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies a decision, live or replayed.</summary>
    private void Apply(ContextDecision decision)
    {
        switch (decision.Action)
        {
            case ContextDecision.MaskAction:
                foreach (var seq in decision.Units ?? [])
                {
                    if (_bySeq.TryGetValue(seq, out var index) && _units[index] is { IsPinned: false, View: ContextUnitView.Full } unit)
                    {
                        EnsureMasked(unit);
                        SetView(unit, ContextUnitView.Masked);
                    }
                }

                break;
            case ContextDecision.SummarizeAction or ContextDecision.DropAction when decision.ThroughSeq is { } through && _bySeq.TryGetValue(through, out var end):
                var summarized = decision.Action == ContextDecision.SummarizeAction;
                var first = _coveredThrough + 1;
                for (var i = first; i <= end; i++)
                {
                    if (!_units[i].IsPinned)
                    {
                        SetView(_units[i], summarized ? ContextUnitView.Summarized : ContextUnitView.Dropped);
                    }
                }

                _coveredThrough = Math.Max(_coveredThrough, end);
                if (summarized)
                {
                    _summary = decision.Summary ?? "";
                    _summaryFrom = _summaryFrom == 0 ? decision.FromEvent ?? 0 : _summaryFrom;
                    _summaryThrough = decision.ThroughEvent ?? _summaryThrough;
                }
                else if (_lastCoverWasDrop && _dropped.Count > 0)
                {
                    // Drops follow one another along the covered prefix: one note names them all.
                    _dropped[^1] = (_dropped[^1].From, Math.Max(_dropped[^1].Through, decision.ThroughEvent ?? 0));
                }
                else
                {
                    _dropped.Add((decision.FromEvent ?? 0, decision.ThroughEvent ?? 0));
                }

                _lastCoverWasDrop = !summarized;

                _summarizerFailures = summarized ? 0 : _summarizerFailures;
                SetCover();
                break;
            case ContextDecision.SummarizeFailedAction:
                _summarizerFailures++;
                break;
            case ContextDecision.KeepAction when decision.Keep is { } keep and >= 1:
                _keep = keep;
                break;
            case ContextDecision.OverflowAction when decision.Calibration is { } calibration:
                _calibration = _calibrationFloor = Math.Max(_calibration, calibration);
                _overflows++;
                break;
        }
    }

    private void SetView(ContextUnit unit, ContextUnitView view)
    {
        _shown -= unit.ShownTokens;
        unit.View = view;
        _shown += unit.ShownTokens;
    }

    /// <summary>The one message that stands for the covered span: the summary, and the spans dropped without one.</summary>
    private void SetCover()
    {
        var text = new StringBuilder();
        text.Append("[Earlier work in this job is not shown in full here. Every event is kept: search them with recall, read one with read_event.]");
        if (_summary is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n\nSummary of events #{_summaryFrom} to #{_summaryThrough}:\n").Append(_summary);
        }

        foreach (var (from, through) in _dropped)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n\n[Events #{from} to #{through} were left out without a summary to fit the context window.]");
        }

        _cover = new ChatMessage(ChatRole.User, text.ToString());
        _coverTokens = _counter.Count(_cover);
    }

    private void EnsureMasked(ContextUnit unit)
    {
        if (unit.MaskedMessages is not null)
        {
            return;
        }

        IReadOnlyList<ChatMessage> masked;
        if (unit.Kind == ContextUnitKind.ToolExchange)
        {
            var assistant = unit.Messages[0];
            var callSeqs = unit.Outcomes.ToDictionary(o => o.CallId, o => o.CallSeq, StringComparer.Ordinal);
            var contents = new List<AIContent>();
            foreach (var content in assistant.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } text:
                        contents.Add(new TextContent(Shorten(text.Text, 600)));
                        break;
                    case FunctionCallContent call:
                        contents.Add(new FunctionCallContent(call.CallId, call.Name, ShrunkArguments(call.Arguments, callSeqs.GetValueOrDefault(call.CallId))));
                        break;
                }
            }

            masked =
            [
                new ChatMessage(ChatRole.Assistant, contents),
                new ChatMessage(ChatRole.Tool, [.. unit.Outcomes.Select(o => (AIContent)new FunctionResultContent(o.CallId, MaskLine(o)))]),
            ];
        }
        else
        {
            masked = [new ChatMessage(ChatRole.Assistant, string.Create(CultureInfo.InvariantCulture,
                $"[assistant message #{unit.Seq}: {unit.Tokens} tokens — recall it with read_event]"))];
        }

        unit.MaskedMessages = masked;
        unit.MaskedTokens = _counter.Count(masked);
    }

    /// <summary>The line that stands for a masked output: <c>[tool output #123: exit 1, 812 lines — recall it with read_event]</c>.</summary>
    public static string MaskLine(ToolOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.ResultSeq is not { } seq)
        {
            return "[tool output: none — the run stopped before this call completed]";
        }

        var parts = new List<string>();
        if (outcome.IsError)
        {
            parts.Add("error");
        }
        else if (ExitCode(outcome.Text) is { } exit)
        {
            parts.Add("exit " + exit);
        }

        parts.Add(Plural(TextCut.CountLines(outcome.Text), "line"));
        var images = outcome.Images.Count + outcome.MissingImages;
        if (images > 0)
        {
            parts.Add(Plural(images, "image"));
        }

        return string.Create(CultureInfo.InvariantCulture, $"[tool output #{seq}: {string.Join(", ", parts)} — recall it with read_event]");
    }

    private static string? ExitCode(string text)
    {
        var at = text.LastIndexOf("[exit code: ", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var end = text.IndexOf(']', at);
        return end < 0 ? null : text[(at + 12)..end];
    }

    private static Dictionary<string, object?>? ShrunkArguments(IDictionary<string, object?>? arguments, long? callSeq)
    {
        if (arguments is null)
        {
            return null;
        }

        var shrunk = new Dictionary<string, object?>(arguments.Count, StringComparer.Ordinal);
        foreach (var (name, value) in arguments)
        {
            var text = value is JsonElement { ValueKind: JsonValueKind.String } s ? s.GetString() : value as string;
            shrunk[name] = text is { Length: > 240 }
                ? string.Create(CultureInfo.InvariantCulture, $"{text[..160]}… [{text.Length} characters{(callSeq is { } seq ? $"; the whole call is event #{seq}, read it with read_event" : "")}]")
                : value;
        }

        return shrunk;
    }

    /// <summary>
    /// The most tokens one output may keep when an exchange of <paramref name="calls"/> calls joins: the last K exchanges,
    /// always shown in full, then take at most a quarter of the budget.
    /// </summary>
    private int ResultCap(int calls) => (int)Math.Clamp(Budget / (4L * Math.Max(1, calls) * _settings.KeepExchanges), 64, _settings.MaxResultTokens);

    /// <summary>An output over <paramref name="cap"/> tokens, cut to its head and tail with a note on where the rest is.</summary>
    private (string Text, int Tokens) Cap(string text, long? seq, int cap)
    {
        var tokens = _counter.Count(text);
        if (tokens <= cap)
        {
            return (text, tokens);
        }

        var chars = (int)Math.Max(64, (long)text.Length * cap / tokens * 9 / 10);
        while (true)
        {
            var cut = TextCut.Cut(text, chars, int.MaxValue / 2);
            if (cut is null)
            {
                return (text, tokens);
            }

            var note = seq is { } s
                ? string.Create(CultureInfo.InvariantCulture, $"[... {cut.OmittedChars} characters (lines {cut.FirstOmittedLine}-{cut.LastOmittedLine}) left out to fit the context; the whole output is event #{s}: read_event(id={s}, offset={cut.Head.Length}) reads on from here ...]")
                : string.Create(CultureInfo.InvariantCulture, $"[... {cut.OmittedChars} characters (lines {cut.FirstOmittedLine}-{cut.LastOmittedLine}) left out to fit the context ...]");
            var joined = cut.Head + (cut.Head.Length > 0 && cut.Head[^1] != '\n' ? "\n" : "") + note + "\n" + cut.Tail;
            var joinedTokens = _counter.Count(joined);
            if (joinedTokens <= cap || chars <= 64)
            {
                return (joined, joinedTokens);
            }

            chars = chars * 3 / 4;
        }
    }

    private string CapTokens(string text, int cap)
    {
        var tokens = _counter.Count(text);
        if (tokens <= cap)
        {
            return text;
        }

        var chars = (int)((long)text.Length * cap / tokens * 9 / 10);
        return TextCut.Cut(text, chars, int.MaxValue / 2) is { } cut ? cut.Head + "\n[...]\n" + cut.Tail : text;
    }

    /// <summary>The span as transcripts the summarizer reads, each within its input size; outputs cut to a share of it.</summary>
    private IEnumerable<string> Transcripts(IReadOnlyList<ContextUnit> span)
    {
        var limit = _settings.SummarizerInputTokens;
        var chunk = new StringBuilder();
        var chunkTokens = 0;
        foreach (var unit in span)
        {
            var text = UnitTranscript(unit, Math.Max(400, limit / 8) * 3);
            // Sized by characters (code and logs run above three per token): exact enough for a share of the summarizer's window.
            var tokens = text.Length / 3;
            if (chunkTokens > 0 && chunkTokens + tokens > limit)
            {
                yield return chunk.ToString();
                chunk.Clear();
                chunkTokens = 0;
            }

            chunk.Append(text).Append('\n');
            chunkTokens += tokens;
        }

        if (chunk.Length > 0)
        {
            yield return chunk.ToString();
        }
    }

    private static string UnitTranscript(ContextUnit unit, int outputChars)
    {
        var text = new StringBuilder();
        switch (unit.Kind)
        {
            case ContextUnitKind.User:
                text.Append(CultureInfo.InvariantCulture, $"#{unit.Seq} user: ").Append(Shorten(unit.Messages[0].Text, outputChars));
                break;
            case ContextUnitKind.Assistant:
                text.Append(CultureInfo.InvariantCulture, $"#{unit.Seq} assistant: ").Append(Shorten(unit.Messages[0].Text, outputChars));
                break;
            case ContextUnitKind.ToolExchange:
                if (unit.Messages[0].Text is { Length: > 0 } said)
                {
                    text.Append(CultureInfo.InvariantCulture, $"#{unit.Seq} assistant: ").Append(Shorten(said, 2000)).Append('\n');
                }

                foreach (var call in unit.Messages[0].Contents.OfType<FunctionCallContent>())
                {
                    var outcome = unit.Outcomes.First(o => o.CallId == call.CallId);
                    text.Append(CultureInfo.InvariantCulture, $"#{outcome.CallSeq ?? unit.Seq} call {call.Name} ").Append(Shorten(TokenCounter.ArgumentsJson(call.Arguments), 1500)).Append('\n');
                    text.Append(CultureInfo.InvariantCulture, $"#{outcome.ResultSeq?.ToString(CultureInfo.InvariantCulture) ?? "-"} result{(outcome.IsError ? " (error)" : "")}: ")
                        .Append(Shorten(outcome.Text, outputChars / Math.Max(1, unit.Outcomes.Count))).Append('\n');
                }

                break;
        }

        return text.ToString();
    }

    private static long FirstEvent(IReadOnlyList<ContextUnit> span) => span.Where(u => !u.IsPinned).Select(u => u.Seq).DefaultIfEmpty(0).Min();

    private static string Shorten(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var head = max * 2 / 3;
        var tail = max - head;
        return string.Create(CultureInfo.InvariantCulture, $"{text[..head]}\n[... {text.Length - head - tail} characters left out ...]\n{text[^tail..]}");
    }

    private static string Plural(int count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An exchange of a replayed log still waiting for results.</summary>
    private sealed class Pending(long seq, List<AIContent> contents, List<FunctionCallContent> calls)
    {
        public long Seq { get; } = seq;

        public List<AIContent> Contents { get; } = contents;

        public List<FunctionCallContent> Calls { get; } = calls;

        public Dictionary<string, long> CallSeqs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, ToolOutcome> Results { get; } = new(StringComparer.Ordinal);
    }
}
