using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Runable.Bench;

/// <summary>
/// A synthetic but realistic coding session of an agent on a payments monorepo (Python services, a Go gateway, a
/// TypeScript web app), as the agent loop logs it: steps of an assistant message, a tool call and its output (test
/// runs, diffs, file views, grep results, service logs, stack traces, build errors, git logs, installs), and now and
/// then a message from the user. Outputs are at most 16,000 characters, as the agent's output limit keeps them.
/// Facts are planted at random places, each once, in the kind of output where it would appear, with a question a model
/// would ask for it later: the question names what the fact is about, never the fact's value, and shares no run of
/// three words with the text it is in (checked). The words of the facts are the words of the noise around them.
/// </summary>
public sealed class ContextRecallSession
{
    /// <summary>One event as the agent loop appends it: its type and data, and its searchable text (for sizing).</summary>
    public sealed record SessionEvent(string Type, object Data, string Text);

    /// <summary>A planted fact: the question, the value that answers it, and the index of the event holding it.</summary>
    public sealed record Fact(string Kind, string Question, string Answer, int EventIndex);

    private static readonly string[] s_prefixes =
    [
        "invoice", "payout", "refund", "ledger", "currency", "tax", "audit", "webhook", "session", "catalog", "pricing", "shipping",
        "inventory", "report", "export", "import", "search", "notification", "billing", "account", "token", "schedule", "quota",
        "discount", "settlement",
    ];

    private static readonly string[] s_roles =
    [
        "worker", "scheduler", "exporter", "importer", "client", "validator", "serializer", "reconciler", "dispatcher", "resolver",
        "builder", "loader", "cache", "queue", "gateway", "poller",
    ];

    private static readonly string[] s_verbs =
    [
        "compute", "validate", "parse", "load", "apply", "sync", "fetch", "render", "build", "resolve", "merge", "split", "normalize",
        "reconcile", "flush", "retry", "expire", "round", "allocate", "publish",
    ];

    private static readonly string[] s_objects =
    [
        "total", "batch", "entry", "amount", "rate", "record", "window", "schedule", "payload", "token", "cursor", "snapshot",
        "balance", "fee", "limit", "header", "digest", "receipt", "offset", "period",
    ];

    private static readonly string[] s_qualities =
    [
        "rounding", "overflow", "empty", "unicode", "negative", "duplicate", "timezone", "concurrent", "partial", "expired", "missing",
        "zero", "stale", "truncated", "reversed",
    ];

    private static readonly string[] s_exceptions =
    [
        "KeyError", "ValueError", "TypeError", "AttributeError", "ZeroDivisionError", "TimeoutError", "PermissionError",
        "FileNotFoundError", "IntegrityError", "ValidationError", "InvalidOperation", "ConnectionResetError", "RecursionError",
        "UnicodeDecodeError", "IndexError", "NotImplementedError", "OverflowError", "JSONDecodeError",
    ];

    private static readonly string[] s_settings = ["MAX_RETRIES", "TIMEOUT_SECONDS", "BATCH_SIZE", "POOL_SIZE", "CONCURRENCY", "PAGE_SIZE", "TTL_SECONDS", "BACKOFF_MS"];

    private static readonly Dictionary<string, string> s_settingWords = new()
    {
        ["MAX_RETRIES"] = "retry limit", ["TIMEOUT_SECONDS"] = "timeout in seconds", ["BATCH_SIZE"] = "batch size", ["POOL_SIZE"] = "pool size",
        ["CONCURRENCY"] = "concurrency", ["PAGE_SIZE"] = "page size", ["TTL_SECONDS"] = "TTL", ["BACKOFF_MS"] = "backoff in milliseconds",
    };

    private static readonly (string Thing, string Kind, string Word)[] s_endpoints =
    [
        ("S3", "BUCKET", "bucket"), ("DB", "HOST", "database host"), ("REDIS", "URL", "redis url"), ("KAFKA", "TOPIC", "kafka topic"),
        ("SMTP", "HOST", "smtp host"), ("API", "REGION", "api region"), ("SFTP", "USER", "sftp user"),
    ];

    private static readonly string[] s_teams =
    [
        "payments-core", "risk-engine", "growth", "platform", "data-eng", "mobile", "search-infra", "identity", "compliance",
        "treasury", "fraud", "observability", "release", "storage", "devex", "partner-api", "checkout",
    ];

    private static readonly (string Purpose, string Chosen, string Rejected)[] s_decisions =
    [
        ("retry backoff", "tenacity", "backoff"), ("json parsing", "orjson", "ujson"), ("rate limiting", "limits", "slowapi"),
        ("feature flags", "flipper", "unleash"), ("date handling", "pendulum", "arrow"), ("schema validation", "pydantic", "marshmallow"),
        ("task queues", "dramatiq", "celery"), ("http mocking", "respx", "responses"), ("pdf rendering", "weasyprint", "reportlab"),
        ("csv export", "polars", "pandas"), ("money arithmetic", "py-moneyed", "decimal-money"), ("id generation", "ulid-py", "uuid6"),
        ("config loading", "dynaconf", "python-decouple"), ("log formatting", "structlog", "loguru"), ("property testing", "hypothesis", "schemathesis"),
    ];

    private static readonly string[] s_factPackages =
    [
        "aiosmtplib", "asyncpg", "authlib", "babel", "cachetools", "cattrs", "deepdiff", "email-validator", "fakeredis", "filelock",
        "gunicorn", "itsdangerous", "jmespath", "msgpack", "phonenumbers", "python-dateutil", "rapidfuzz", "sentry-sdk", "stripe",
        "tabulate", "xmltodict",
    ];

    private static readonly string[] s_noisePackages =
    [
        "pytest", "pytest-cov", "coverage", "mypy", "ruff", "black", "isort", "httpx", "anyio", "sniffio", "idna", "certifi", "h11",
        "pluggy", "iniconfig", "packaging", "typing-extensions", "annotated-types", "pydantic-core", "sqlalchemy", "greenlet",
        "alembic", "mako", "markupsafe", "redis", "boto3", "botocore", "s3transfer", "urllib3", "six", "attrs", "click", "rich",
    ];

    private static readonly string[] s_actions = ["cancel", "approve", "capture", "void", "retry", "archive", "reopen", "split", "merge", "lock", "release", "settle"];

    private static readonly (int Status, string Reason)[] s_errors =
    [
        (409, "Conflict"), (422, "Unprocessable Entity"), (423, "Locked"), (412, "Precondition Failed"), (428, "Precondition Required"),
        (503, "Service Unavailable"), (429, "Too Many Requests"), (400, "Bad Request"), (404, "Not Found"), (403, "Forbidden"),
    ];

    private static readonly string[] s_jobs = ["nightly-rollup", "hourly-sync", "backfill", "compaction", "reindex", "purge", "snapshot-export", "dedupe"];

    private static readonly string[] s_columns = ["settled_at", "external_ref", "retry_count", "voided_by", "fx_source", "batch_key", "locked_until", "region_code"];

    private static readonly string[] s_tables = ["entries", "events", "batches", "items", "attempts", "lines"];

    private static readonly (string Code, string Message)[] s_tsErrors =
    [
        ("TS2345", "Argument of type 'string | undefined' is not assignable to parameter of type 'string'."),
        ("TS2322", "Type 'number' is not assignable to type 'Money'."),
        ("TS2339", "Property 'currency' does not exist on type 'LineItem'."),
        ("TS7006", "Parameter 'row' implicitly has an 'any' type."),
        ("TS2531", "Object is possibly 'null'."),
        ("TS2741", "Property 'id' is missing in type '{ amount: number; }' but required in type 'Entry'."),
        ("TS18048", "'props.rate' is possibly 'undefined'."),
        ("TS2769", "No overload matches this call."),
    ];

    private readonly Random _random;
    private readonly Func<string, int> _tokens;
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);
    private readonly List<SessionEvent> _events = [];
    private readonly List<Fact> _facts = [];
    private DateTime _clock = new(2026, 11, 3, 9, 0, 0, DateTimeKind.Utc);
    private int _step;
    private int _calls;

    private ContextRecallSession(int seed, Func<string, int> tokens)
    {
        _random = new Random(seed);
        _tokens = tokens;
    }

    /// <summary>The events, in the order they are appended.</summary>
    public IReadOnlyList<SessionEvent> Events => _events;

    /// <summary>The planted facts.</summary>
    public IReadOnlyList<Fact> Facts => _facts;

    /// <summary>The characters of searchable text in the session.</summary>
    public long Characters => _events.Sum(e => (long)e.Text.Length);

    /// <summary>The tokens of searchable text in the session, as the counter given to <see cref="Generate"/> counts them.</summary>
    public long Tokens { get; private set; }

    /// <summary>
    /// A session of at least <paramref name="tokens"/> tokens of text (as <paramref name="count"/> counts them) with
    /// <paramref name="facts"/> facts planted at positions drawn uniformly over it; the same seed gives the same session.
    /// </summary>
    public static ContextRecallSession Generate(int seed, long tokens, int facts, Func<string, int> count)
    {
        var session = new ContextRecallSession(seed, count);
        var planned = session.PlanFacts(facts);
        var positions = planned.Select(_ => (long)(session._random.NextDouble() * tokens)).Order().ToList();
        var order = planned.OrderBy(_ => session._random.Next()).ToList();
        var next = 0;
        while (session.Tokens < tokens || next < order.Count)
        {
            var due = next < order.Count && positions[next] <= session.Tokens ? order[next++] : null;
            session.Tokens += session.Step(due);
        }

        return session;
    }

    // ---------------------------------------------------------------- facts

    /// <summary>A planted fact before it has a place: where it goes, the line that carries it, the question and the answer.</summary>
    private sealed record PlannedFact(string Kind, string Carrier, string Line, string Question, string Answer);

    private List<PlannedFact> PlanFacts(int count)
    {
        var makers = new Func<PlannedFact?>[]
        {
            PortFact, SettingFact, EnvFact, FailedTestFact, TracebackFact, CommitFact, InstallFact, OwnershipFact, DurationFact,
            DecisionFact, HttpFact, GoBuildFact, TypeScriptFact, MigrationFact, MemoryFact,
        };
        var facts = new List<PlannedFact>();
        var exhausted = new HashSet<int>();
        for (var i = 0; facts.Count < count; i++)
        {
            if (exhausted.Count == makers.Length)
            {
                throw new InvalidOperationException($"Only {facts.Count} distinct facts could be planned.");
            }

            var maker = i % makers.Length;
            if (exhausted.Contains(maker))
            {
                continue;
            }

            PlannedFact? fact = null;
            for (var attempt = 0; attempt < 200 && fact is null; attempt++)
            {
                fact = makers[maker]();
            }

            if (fact is null)
            {
                exhausted.Add(maker);
                continue;
            }

            facts.Add(fact);
        }

        return facts;
    }

    /// <summary>Takes a key for a fact of one kind; null when it is taken (each fact is about something no other fact or noise line of its kind is).</summary>
    private bool Reserve(string kind, string key) => _reserved.Add(kind + ":" + key);

    private bool IsReserved(string kind, string key) => _reserved.Contains(kind + ":" + key);

    private PlannedFact? PortFact()
    {
        var (prefix, role) = (Pick(s_prefixes), Pick(s_roles));
        if (!Reserve("port", $"{prefix}-{role}"))
        {
            return null;
        }

        var port = _random.Next(3000, 9999).ToString(CultureInfo.InvariantCulture);
        var line = $"{Stamp()} INFO  {prefix}-{role}[{_random.Next(100, 60000)}]: listening on 0.0.0.0:{port} (workers={_random.Next(2, 17)})";
        var question = Choose($"Which port does the {prefix} {role} listen on?", $"What port was the {role} for {prefix} listening on?");
        return new PlannedFact("port in a service log", "log", line, question, port);
    }

    private PlannedFact? SettingFact()
    {
        var (prefix, role, setting) = (Pick(s_prefixes), Pick(s_roles), Pick(s_settings));
        if (!Reserve("setting", $"{prefix}_{role}_{setting}"))
        {
            return null;
        }

        var before = _random.Next(2, 60);
        var after = (before + _random.Next(3, 400)).ToString(CultureInfo.InvariantCulture);
        var key = $"{prefix}_{role}_{setting}".ToUpperInvariant();
        var line = $"-{key} = {before}\n+{key} = {after}";
        var question = Choose(
            $"What {s_settingWords[setting]} did we set for the {role} of {prefix}?",
            $"To what value was the {s_settingWords[setting]} of {prefix}'s {role} changed?");
        return new PlannedFact("setting in a diff", "diff", line, question, after);
    }

    private PlannedFact? EnvFact()
    {
        var prefix = Pick(s_prefixes);
        var (thing, kind, word) = Pick(s_endpoints);
        if (!Reserve("env", $"{prefix}_{thing}_{kind}"))
        {
            return null;
        }

        var value = kind switch
        {
            "BUCKET" => $"{prefix}-archive-{Hex(4)}",
            "HOST" => $"{thing.ToLowerInvariant()}-{_random.Next(1, 40)}.{Pick(["eu-west-1", "us-east-2", "ap-south-1"])}.internal",
            "URL" => $"redis://cache-{Hex(3)}.internal:{_random.Next(6000, 6999)}/{_random.Next(0, 15)}",
            "TOPIC" => $"{prefix}.{Pick(s_objects)}s.v{_random.Next(2, 9)}",
            "REGION" => Pick(["eu-central-1", "us-west-2", "ca-central-1", "sa-east-1", "ap-northeast-3"]),
            _ => $"svc_{prefix}_{Hex(3)}",
        };
        var line = $"export {prefix.ToUpperInvariant()}_{thing}_{kind}={value} && python -m {prefix}.cli check --verbose";
        var question = Choose($"Which {word} value did we export for {prefix}?", $"What {word} was {prefix} pointed at in the environment?");
        return new PlannedFact("env value in a command", "bash_call", line, question, value);
    }

    private PlannedFact? FailedTestFact()
    {
        var (prefix, role, verb, obj, quality) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects), Pick(s_qualities));
        if (!Reserve("test", $"{verb}_{obj}_{quality}"))
        {
            return null;
        }

        var exception = Pick(s_exceptions);
        var line = $"FAILED tests/{prefix}/test_{role}.py::test_{verb}_{obj}_{quality} - {exception}: {Pick(["unexpected", "invalid", "bad"])} {obj} {_random.Next(1, 999)}";
        var question = Choose(
            $"Which exception did the {quality} test for {verb} {obj} in {prefix} fail with?",
            $"What error made the {quality} case of {verb}-{obj} in the {prefix} suite fail?");
        return new PlannedFact("exception of a failed test", "pytest", line, question, exception);
    }

    private PlannedFact? TracebackFact()
    {
        var (prefix, role, verb, obj) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        if (!Reserve("trace", $"{prefix}/{role}/{verb}_{obj}"))
        {
            return null;
        }

        var lineNumber = _random.Next(40, 900).ToString(CultureInfo.InvariantCulture);
        var line = $"""
              File "/workspace/src/{prefix}/{role}.py", line {lineNumber}, in {verb}_{obj}
                return self._{obj}s[key]
            """;
        var question = Choose(
            $"At which line of the {prefix} {role} module did {verb}_{obj} crash?",
            $"Where in {role}.py (which line) did the {prefix} {verb}_{obj} traceback point?");
        return new PlannedFact("line in a stack trace", "traceback", line, question, lineNumber);
    }

    private PlannedFact? CommitFact()
    {
        var (prefix, role, obj, quality) = (Pick(s_prefixes), Pick(s_roles), Pick(s_objects), Pick(s_qualities));
        if (!Reserve("commit", $"{prefix}/{role}/{obj}/{quality}"))
        {
            return null;
        }

        var hash = Hex(7);
        var message = Choose($"Fix {quality} {obj} handling in {prefix} {role}", $"Handle {quality} {obj} in the {prefix} {role}", $"Guard {prefix} {role} against {quality} {obj}");
        var line = $"{hash} {message}";
        var question = Choose(
            $"Which commit dealt with the {quality} {obj} bug of the {role} in {prefix}?",
            $"What is the hash of our {prefix} {role} change for {quality} {obj}s?");
        return new PlannedFact("commit id in a git log", "gitlog", line, question, hash);
    }

    private PlannedFact? InstallFact()
    {
        var package = Pick(s_factPackages);
        if (!Reserve("install", package))
        {
            return null;
        }

        var version = $"{_random.Next(0, 9)}.{_random.Next(0, 30)}.{_random.Next(0, 12)}";
        var line = $"Successfully installed {package}-{version} {Pick(s_noisePackages)}-{_random.Next(1, 9)}.{_random.Next(0, 20)}.{_random.Next(0, 9)}";
        var question = Choose($"Which version of {package} got installed?", $"What {package} release did pip put in?");
        return new PlannedFact("version in an install log", "pip", line, question, version);
    }

    private PlannedFact? OwnershipFact()
    {
        var team = Pick(s_teams);
        if (!Reserve("owner", team))
        {
            return null;
        }

        var directory = $"third_party/{Pick(s_decisions).Rejected}-{Hex(3)}";
        var line = $"Please leave {directory} alone, the {team} team vendors it and overwrites local edits on every sync.";
        var question = Choose($"Which directory does the user say {team} vendors?", $"What path is vendored by {team}, as the user told us?");
        return new PlannedFact("path in a user's message", "user", line, question, directory);
    }

    private PlannedFact? DurationFact()
    {
        var (prefix, role, verb, obj) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        if (!Reserve("duration", $"{prefix}/{role}/{verb}_{obj}"))
        {
            return null;
        }

        var seconds = $"{_random.Next(12, 99)}.{_random.Next(10, 99)}";
        var line = $"{seconds}s call     tests/{prefix}/test_{role}.py::test_{verb}_{obj}";
        var question = Choose(
            $"How many seconds did the {verb} {obj} test of the {prefix} {role} take?",
            $"How slow was {prefix}'s {role} test of {verb}_{obj}?");
        return new PlannedFact("duration in a test report", "durations", line, question, seconds + "s");
    }

    private PlannedFact? DecisionFact()
    {
        var decision = Pick(s_decisions);
        if (!Reserve("decision", decision.Purpose))
        {
            return null;
        }

        var line = $"Decision: keep {decision.Chosen} for {decision.Purpose} rather than switching to {decision.Rejected}; " +
            $"the switch would touch {_random.Next(12, 80)} call sites for no measurable gain.";
        var question = Choose($"Which library won over {decision.Rejected} as our {decision.Purpose} choice?", $"Instead of {decision.Rejected}, what do we use when it comes to {decision.Purpose}?");
        return new PlannedFact("decision in the agent's message", "assistant", line, question, decision.Chosen);
    }

    private PlannedFact? HttpFact()
    {
        var (prefix, action) = (Pick(s_prefixes), Pick(s_actions));
        if (!Reserve("http", $"{prefix}/{action}"))
        {
            return null;
        }

        var (status, reason) = Pick(s_errors);
        var line = $"{Stamp()} WARN  gateway: POST /api/v2/{prefix}s/{Hex(8)}/{action} -> {status} {reason} request_id={Hex(12)}";
        var question = Choose($"What status did the gateway return when we tried to {action} a {prefix}?", $"What did the gateway answer when we POSTed {action} to a {prefix}?");
        return new PlannedFact("status in a gateway log", "log", line, question, status.ToString(CultureInfo.InvariantCulture));
    }

    private PlannedFact? GoBuildFact()
    {
        var (prefix, role, verb, obj) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        if (!Reserve("go", $"{prefix}/{role}"))
        {
            return null;
        }

        var identifier = Title(verb) + Title(obj) + Pick(["", "Fn", "Ctx", "V2", "Opts"]);
        var line = $"./internal/{prefix}/{role}.go:{_random.Next(10, 400)}:{_random.Next(2, 40)}: undefined: {identifier}";
        var question = Choose($"Which undefined symbol broke the Go build of {role}.go under {prefix}?", $"What name was missing when compiling {prefix}'s {role} in Go?");
        return new PlannedFact("identifier in a Go build error", "gobuild", line, question, identifier);
    }

    private PlannedFact? TypeScriptFact()
    {
        var (prefix, role) = (Pick(s_prefixes), Pick(s_roles));
        var component = Title(prefix) + Title(role) + "Panel";
        if (!Reserve("tsx", component))
        {
            return null;
        }

        var (code, message) = Pick(s_tsErrors);
        var line = $"src/web/{component}.tsx({_random.Next(5, 300)},{_random.Next(3, 60)}): error {code}: {message}";
        var question = Choose($"Which TypeScript error did {component}.tsx raise?", $"What was the tsc code reported for {component}?");
        return new PlannedFact("error code in a TypeScript build", "tsc", line, question, code);
    }

    private PlannedFact? MigrationFact()
    {
        var (prefix, column, table) = (Pick(s_prefixes), Pick(s_columns), Pick(s_tables));
        if (!Reserve("migration", $"{prefix}_{table}/{column}"))
        {
            return null;
        }

        var revision = Hex(12);
        var line = $"INFO  [alembic.runtime.migration] Running upgrade {Hex(12)} -> {revision}, add {column} to {prefix}_{table}";
        var question = Choose(
            $"Which alembic revision brought in the {column.Replace('_', ' ')} column on the {table} table of {prefix}?",
            $"What revision id did the {prefix} {table} migration for {column} get?");
        return new PlannedFact("revision in a migration log", "alembic", line, question, revision);
    }

    private PlannedFact? MemoryFact()
    {
        var (prefix, job) = (Pick(s_prefixes), Pick(s_jobs));
        if (!Reserve("memory", $"{prefix}-{job}"))
        {
            return null;
        }

        var memory = _random.Next(180, 7900).ToString(CultureInfo.InvariantCulture);
        var line = $"{Stamp()} INFO  [{prefix}-{job}] finished in {_random.Next(20, 900)}s: {_random.Next(1000, 900000)} rows, peak RSS {memory} MiB";
        var question = Choose($"What was the peak memory of the {job.Replace('-', ' ')} for {prefix}?", $"How many MiB did {prefix}'s {job.Replace('-', ' ')} need at most?");
        return new PlannedFact("memory in a job log", "log", line, question, memory);
    }

    // ---------------------------------------------------------------- steps

    /// <summary>Appends one step (assistant message, tool call, tool result; sometimes a user's message) and returns its tokens.</summary>
    private long Step(PlannedFact? fact)
    {
        _step++;
        var before = _events.Count;
        if (fact is { Carrier: "user" })
        {
            var factIndex = AddMessage($"{Pick(["One more thing: ", "Note: ", "Heads up. ", ""])}{fact.Line}");
            Plant(fact, factIndex);
        }
        else if (_random.Next(60) == 0)
        {
            AddMessage(Pick([
                $"How is the {Pick(s_prefixes)} work going? Keep the public API of {Pick(s_prefixes)} stable.",
                $"Also make sure the {Pick(s_prefixes)} tests still pass on Python 3.12.",
                "Please do not bump any dependency majors in this change.",
                $"The {Pick(s_prefixes)} {Pick(s_roles)} is flaky in CI too, look at it if you have time.",
            ]));
        }

        var kind = fact?.Carrier switch
        {
            null or "user" => PickKind(),
            "assistant" => PickKind(),
            "bash_call" => "log",
            "durations" => "pytest",
            var carrier => carrier,
        };

        var (command, output) = Tool(kind, fact);
        var thought = Thought(kind);
        if (fact is { Carrier: "assistant" })
        {
            thought = thought + " " + fact.Line;
        }

        if (fact is { Carrier: "bash_call" })
        {
            command = fact.Line;
        }

        var callId = $"call_{++_calls:D5}";
        var arguments = command.StartsWith("view ", StringComparison.Ordinal)
            ? new Dictionary<string, string> { ["command"] = "view", ["path"] = command[5..] }
            : new Dictionary<string, string> { ["command"] = command };
        var tool = command.StartsWith("view ", StringComparison.Ordinal) ? "str_replace_based_edit_tool" : "bash";
        var assistantIndex = Add("assistant", new { step = _step, text = thought, tool_calls = new[] { new { id = callId, name = tool, arguments } } }, thought);
        var callIndex = Add("tool_call", new { id = callId, name = tool, arguments }, string.Join('\n', arguments.Select(a => $"{a.Key}: {a.Value}")));
        var resultIndex = Add("tool_result", new { id = callId, name = tool, text = output, is_error = false, truncated = false, images = 0, duration_ms = _random.Next(40, 9000) }, output);
        if (fact is not null && fact.Carrier != "user")
        {
            Plant(fact, fact.Carrier switch { "assistant" => assistantIndex, "bash_call" => callIndex, _ => resultIndex });
        }

        return _events.Skip(before).Sum(e => (long)_tokens(e.Text));
    }

    private void Plant(PlannedFact fact, int index)
    {
        var text = _events[index].Text;
        if (!text.Contains(fact.Line.Split('\n')[0].Trim(), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The fact '{fact.Line}' did not land in its event.");
        }

        if (fact.Question.Contains(fact.Answer, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The question '{fact.Question}' gives its answer away.");
        }

        var words = Words(text);
        var runs = new HashSet<string>(words.Count > 2 ? Enumerable.Range(0, words.Count - 2).Select(i => $"{words[i]} {words[i + 1]} {words[i + 2]}") : []);
        var asked = Words(fact.Question);
        for (var i = 0; i + 2 < asked.Count; i++)
        {
            if (runs.Contains($"{asked[i]} {asked[i + 1]} {asked[i + 2]}"))
            {
                throw new InvalidOperationException($"The question '{fact.Question}' repeats '{asked[i]} {asked[i + 1]} {asked[i + 2]}' of its fact's text.");
            }
        }

        _facts.Add(new Fact(fact.Kind, fact.Question, fact.Answer, index));
    }

    private static List<string> Words(string text) =>
        [.. Regex.Split(text.ToLowerInvariant(), @"[^\p{L}\p{N}]+").Where(w => w.Length > 0)];

    private int AddMessage(string text) => Add("message", new { text }, text);

    private int Add(string type, object data, string text)
    {
        _events.Add(new SessionEvent(type, data, text));
        _clock = _clock.AddSeconds(_random.Next(2, 40));
        return _events.Count - 1;
    }

    private string PickKind()
    {
        var roll = _random.Next(100);
        return roll switch
        {
            < 20 => "pytest",
            < 34 => "view",
            < 46 => "grep",
            < 56 => "diff",
            < 66 => "log",
            < 71 => "gobuild",
            < 76 => "tsc",
            < 81 => "traceback",
            < 86 => "gitlog",
            < 89 => "pip",
            < 94 => "ls",
            < 96 => "alembic",
            _ => "edit",
        };
    }

    private string Thought(string kind)
    {
        var (prefix, role, verb, obj) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        return kind switch
        {
            "pytest" => Choose($"Let me run the {prefix} tests to see where we stand.", $"Running the suite for {prefix} {role} after the change.", "Re-running the failing tests."),
            "view" => Choose($"I need to see how {verb}_{obj} is implemented in the {prefix} {role}.", $"Opening the {role} module of {prefix}."),
            "grep" => Choose($"Where else is {verb}_{obj} used?", $"Searching for callers of {verb}_{obj} across the repo.", $"The {Pick(s_decisions).Purpose} code is not involved; looking at {verb}_{obj} instead."),
            "diff" => Choose("Let me review the diff so far.", $"Checking what changed in {prefix} before committing."),
            "log" => Choose($"The {prefix} {role} logs should show what happened.", "Starting the services locally and watching the logs."),
            "gobuild" => Choose("Building the Go gateway.", $"Compiling the {prefix} package of the gateway."),
            "tsc" => Choose("Type-checking the web app.", $"Running tsc on the {prefix} panels."),
            "traceback" => Choose($"Running the {prefix} {role} by hand to reproduce the crash.", "Reproducing the error outside the test runner."),
            "gitlog" => Choose("Looking at the recent history.", $"Which commits touched {prefix} lately?"),
            "pip" => Choose("Installing the dev dependencies.", "The environment is missing packages; installing them."),
            "ls" => Choose($"What is in the {prefix} package?", "Listing the directory."),
            "alembic" => Choose("Applying the migrations to the local database.", "Upgrading the schema."),
            _ => Choose($"Fixing {verb}_{obj} in the {prefix} {role}.", $"Applying the {obj} fix."),
        };
    }

    /// <summary>A tool call's command and its output for a step of <paramref name="kind"/>, with the fact's line in the output when it belongs there.</summary>
    private (string Command, string Output) Tool(string kind, PlannedFact? fact)
    {
        var prefix = Pick(s_prefixes);
        var target = _random.Next(10) < 7 ? _random.Next(300, 4000) : _random.Next(4000, 15500);
        var lines = new List<string>();
        string command;
        switch (kind)
        {
            case "pytest":
                command = Choose($"pytest tests/{prefix} -q", $"python -m pytest tests/{prefix} -x --durations=10", "pytest -q -p no:cacheprovider");
                lines.Add("============================= test session starts ==============================");
                lines.Add("platform linux -- Python 3.12.7, pytest-8.3.3, pluggy-1.5.0");
                lines.Add($"rootdir: /workspace\nconfigfile: pyproject.toml\ncollected {_random.Next(40, 900)} items\n");
                Fill(lines, target, () => TestLine(prefix));
                if (_random.Next(3) == 0)
                {
                    lines.Add("=================================== FAILURES ===================================");
                    lines.AddRange(Traceback(Pick(s_prefixes)).Split('\n'));
                }

                lines.Add("============================= slowest 10 durations =============================");
                for (var i = 0; i < 6; i++)
                {
                    var (p, r, v, o) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects));
                    if (!IsReserved("duration", $"{p}/{r}/{v}_{o}"))
                    {
                        lines.Add($"{_random.Next(1, 11)}.{_random.Next(10, 99)}s call     tests/{p}/test_{r}.py::test_{v}_{o}");
                    }
                }

                lines.Add($"=========== {_random.Next(0, 4)} failed, {_random.Next(40, 900)} passed, {_random.Next(0, 9)} skipped in {_random.Next(3, 200)}.{_random.Next(10, 99)}s ===========");
                break;
            case "view":
                var path = $"src/{prefix}/{Pick(s_roles)}.py";
                command = $"view /workspace/{path}";
                var number = _random.Next(1, 200);
                Fill(lines, target, () => $"{number++,6}\t{CodeLine()}");
                break;
            case "grep":
                var symbol = $"{Pick(s_verbs)}_{Pick(s_objects)}";
                command = $"grep -rn {symbol} src/ tests/";
                Fill(lines, target, () => _random.Next(25) == 0
                    ? $"CODEOWNERS:{_random.Next(1, 90)}:/src/{Pick(s_prefixes)}/ @ledgerd/{Pick(s_teams)}"
                    : $"src/{Pick(s_prefixes)}/{Pick(s_roles)}.py:{_random.Next(1, 900)}:{CodeLine().Trim()} # {symbol}");
                break;
            case "diff":
                command = Choose("git diff", $"git diff -- src/{prefix}", "git diff --stat HEAD~1 && git diff");
                Fill(lines, target, () => DiffHunk(prefix));
                break;
            case "log":
                command = Choose($"docker compose logs --tail=400 {prefix}", $"python -m {prefix}.server 2>&1 | head -400", "tail -n 400 /tmp/services.log");
                Fill(lines, target, LogLine);
                break;
            case "gobuild":
                command = Choose("go build ./...", "go vet ./... && go build ./...", $"go test ./internal/{prefix}/...");
                lines.Add($"# github.com/ledgerd/gateway/internal/{prefix}");
                Fill(lines, target, GoLine);
                break;
            case "tsc":
                command = Choose("npx tsc --noEmit -p web", "npm run typecheck --prefix web");
                lines.Add("> web@0.14.2 typecheck\n> tsc --noEmit\n");
                Fill(lines, target, TypeScriptLine);
                break;
            case "traceback":
                command = $"python -m {prefix}.cli run --since 2026-10-01";
                Fill(lines, Math.Min(target, 3000), () => LogLine());
                lines.AddRange(Traceback(prefix).Split('\n'));
                break;
            case "gitlog":
                command = Choose("git log --oneline -n 200", $"git log --oneline -- src/{prefix}");
                Fill(lines, Math.Min(target, 9000), CommitLine);
                break;
            case "pip":
                command = Choose("pip install -e '.[dev]'", "pip install -r requirements-dev.txt");
                Fill(lines, Math.Min(target, 6000), () => $"Requirement already satisfied: {Pick(s_noisePackages)}>={_random.Next(0, 9)}.{_random.Next(0, 20)} in /usr/local/lib/python3.12/site-packages (from -r requirements-dev.txt (line {_random.Next(1, 60)}))");
                lines.Add($"Successfully installed {string.Join(' ', Enumerable.Range(0, 4).Select(_ => $"{Pick(s_noisePackages)}-{_random.Next(0, 9)}.{_random.Next(0, 20)}.{_random.Next(0, 9)}"))}");
                break;
            case "ls":
                command = $"ls -la src/{prefix}";
                Fill(lines, Math.Min(target, 4000), () => $"-rw-r--r-- 1 runable runable {_random.Next(200, 90000),6} Nov  {_random.Next(1, 28),2} {_random.Next(0, 23):D2}:{_random.Next(0, 59):D2} {Pick(s_roles)}_{Pick(s_objects)}.py");
                break;
            case "alembic":
                command = "alembic upgrade head";
                lines.Add("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\nINFO  [alembic.runtime.migration] Will assume transactional DDL.");
                Fill(lines, Math.Min(target, 2500), () =>
                {
                    var (p, c, t) = (Pick(s_prefixes), Pick(s_columns), Pick(s_tables));
                    return IsReserved("migration", $"{p}_{t}/{c}")
                        ? $"INFO  [alembic.runtime.migration] Running upgrade {Hex(12)} -> {Hex(12)}, rename index on {p}_{t}"
                        : $"INFO  [alembic.runtime.migration] Running upgrade {Hex(12)} -> {Hex(12)}, add {c} to {p}_{t}";
                });
                break;
            default:
                var (v2, o2) = (Pick(s_verbs), Pick(s_objects));
                command = $"python - <<'EOF'\nfrom {prefix}.{Pick(s_roles)} import {v2}_{o2}\nprint({v2}_{o2}.__doc__)\nEOF";
                lines.Add($"{Title(v2)} the {o2} of a {prefix} record; returns None when the {o2} is {Pick(s_qualities)}.");
                break;
        }

        if (fact is { Carrier: "traceback" })
        {
            lines.Add("Traceback (most recent call last):");
            lines.Add($"  File \"/workspace/src/{prefix}/cli.py\", line {_random.Next(10, 200)}, in main");
            lines.Add(fact.Line);
            lines.Add($"{Pick(s_exceptions)}: {Pick(s_qualities)} {Pick(s_objects)} for {prefix} {Hex(6)}");
        }
        else if (fact is { Carrier: "durations" })
        {
            lines.Insert(lines.FindIndex(l => l.Contains("slowest 10 durations", StringComparison.Ordinal)) + 1, fact.Line);
        }
        else if (fact is not null && fact.Carrier is not ("user" or "assistant" or "bash_call"))
        {
            lines.Insert(_random.Next(Math.Min(lines.Count, 3), lines.Count + 1), fact.Line);
        }

        var output = string.Join('\n', lines);
        return (command, output.Length > 16_000 ? output[..16_000] : output);
    }

    private void Fill(List<string> lines, int target, Func<string> line)
    {
        var length = lines.Sum(l => l.Length + 1);
        while (length < target)
        {
            var next = line();
            lines.Add(next);
            length += next.Length + 1;
        }
    }

    private string TestLine(string prefix)
    {
        var (role, verb, obj) = (Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        var quality = Pick(s_qualities);
        var test = $"tests/{prefix}/test_{role}.py::test_{verb}_{obj}_{quality}";
        return _random.Next(40) == 0 && !IsReserved("test", $"{verb}_{obj}_{quality}")
            ? $"FAILED {test} - {Pick(s_exceptions)}: {Pick(["unexpected", "invalid"])} {obj}"
            : $"{test} {(_random.Next(30) == 0 ? "SKIPPED" : "PASSED")} [{_random.Next(1, 100),3}%]";
    }

    private string CodeLine()
    {
        var (verb, obj, quality) = (Pick(s_verbs), Pick(s_objects), Pick(s_qualities));
        return _random.Next(9) switch
        {
            0 => $"    def {verb}_{obj}(self, {obj}: {Title(obj)}, *, strict: bool = False) -> {Title(obj)}:",
            1 => $"        if {obj} is None or {obj}.{quality}:",
            2 => $"            raise {Pick(s_exceptions)}(f\"{quality} {obj}: {{{obj}!r}}\")",
            3 => $"        return self._{verb}({obj}, precision=Decimal(\"0.01\"))",
            4 => $"        {obj}s = [{verb}_{obj}(x) for x in self.{Pick(s_objects)}s if x.{quality} is False]",
            5 => $"    # {Title(verb)} the {obj} before the {Pick(s_objects)} is written, so a {quality} {obj} never reaches the ledger.",
            6 => "",
            7 => $"from {Pick(s_prefixes)}.{Pick(s_roles)} import {Pick(s_verbs)}_{Pick(s_objects)}",
            _ => $"        log.debug(\"{verb} {obj}\", {obj}_id={obj}.id, {Pick(s_objects)}={Pick(s_objects)})",
        };
    }

    private string DiffHunk(string prefix)
    {
        var path = $"src/{prefix}/{Pick(s_roles)}.py";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"diff --git a/{path} b/{path}\nindex {Hex(7)}..{Hex(7)} 100644\n--- a/{path}\n+++ b/{path}\n");
        var start = _random.Next(1, 400);
        text.Append(CultureInfo.InvariantCulture, $"@@ -{start},9 +{start},11 @@ class {Title(prefix)}{Title(Pick(s_roles))}:\n");
        for (var i = 0; i < _random.Next(6, 16); i++)
        {
            var sign = Pick([" ", " ", " ", "-", "+", "+"]);
            text.Append(sign).Append(CodeLine()).Append('\n');
        }

        if (_random.Next(3) == 0)
        {
            var (p, r, s) = (Pick(s_prefixes), Pick(s_roles), Pick(s_settings));
            if (!IsReserved("setting", $"{p}_{r}_{s}"))
            {
                var key = $"{p}_{r}_{s}".ToUpperInvariant();
                text.Append(CultureInfo.InvariantCulture, $"-{key} = {_random.Next(2, 60)}\n+{key} = {_random.Next(60, 500)}\n");
            }
        }

        return text.ToString().TrimEnd('\n');
    }

    private string LogLine()
    {
        var (prefix, role) = (Pick(s_prefixes), Pick(s_roles));
        switch (_random.Next(12))
        {
            case 0 when !IsReserved("port", $"{prefix}-{role}"):
                return $"{Stamp()} INFO  {prefix}-{role}[{_random.Next(100, 60000)}]: listening on 0.0.0.0:{_random.Next(3000, 9999)} (workers={_random.Next(2, 17)})";
            case 1:
                var action = Pick(s_actions);
                if (IsReserved("http", $"{prefix}/{action}"))
                {
                    return $"{Stamp()} INFO  gateway: GET /api/v2/{prefix}s/{Hex(8)} -> 200 OK request_id={Hex(12)}";
                }

                var (status, reason) = _random.Next(4) == 0 ? Pick(s_errors) : (200, "OK");
                return $"{Stamp()} {(status == 200 ? "INFO " : "WARN ")} gateway: POST /api/v2/{prefix}s/{Hex(8)}/{action} -> {status} {reason} request_id={Hex(12)}";
            case 2:
                var job = Pick(s_jobs);
                return IsReserved("memory", $"{prefix}-{job}")
                    ? $"{Stamp()} INFO  [{prefix}-{job}] started, batch {_random.Next(1, 90)}"
                    : $"{Stamp()} INFO  [{prefix}-{job}] finished in {_random.Next(20, 900)}s: {_random.Next(1000, 900000)} rows, peak RSS {_random.Next(180, 7900)} MiB";
            case 3:
                return $"{Stamp()} ERROR {prefix}-{role}: {Pick(s_exceptions)} while {Pick(s_verbs)}ing {Pick(s_objects)} {Hex(6)}; retrying in {_random.Next(1, 30)}s";
            default:
                return $"{Stamp()} {Pick(["INFO ", "DEBUG", "INFO ", "WARN "])} {prefix}-{role}: {Pick(s_verbs)} {Pick(s_objects)} id={Hex(8)} duration_ms={_random.Next(1, 900)} {Pick(s_qualities)}={(_random.Next(2) == 0 ? "false" : "true")}";
        }
    }

    private string GoLine()
    {
        var (prefix, role, verb, obj) = (Pick(s_prefixes), Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        var at = $"./internal/{prefix}/{role}.go:{_random.Next(10, 400)}:{_random.Next(2, 40)}";
        return _random.Next(4) switch
        {
            0 when !IsReserved("go", $"{prefix}/{role}") => $"{at}: undefined: {Title(verb)}{Title(obj)}",
            1 => $"{at}: cannot use {obj} (variable of type *{Title(obj)}) as {Title(obj)} value in argument to {verb}{Title(obj)}",
            2 => $"{at}: declared and not used: {obj}{Title(Pick(s_qualities))}",
            _ => $"ok  \tgithub.com/ledgerd/gateway/internal/{prefix}\t{_random.Next(0, 9)}.{_random.Next(100, 999)}s",
        };
    }

    private string TypeScriptLine()
    {
        var component = Title(Pick(s_prefixes)) + Title(Pick(s_roles)) + Pick(["Panel", "Table", "Form", "Chart"]);
        var (code, message) = Pick(s_tsErrors);
        return IsReserved("tsx", component)
            ? $"src/web/{component}.tsx: {_random.Next(2, 40)} lines changed, no errors"
            : $"src/web/{component}.tsx({_random.Next(5, 300)},{_random.Next(3, 60)}): error {code}: {message}";
    }

    private string CommitLine()
    {
        var (prefix, role, obj, quality) = (Pick(s_prefixes), Pick(s_roles), Pick(s_objects), Pick(s_qualities));
        return IsReserved("commit", $"{prefix}/{role}/{obj}/{quality}")
            ? $"{Hex(7)} Refactor {prefix} {role} tests"
            : $"{Hex(7)} {Choose($"Fix {quality} {obj} handling in {prefix} {role}", $"Add {obj} metrics to {prefix} {role}", $"Refactor {prefix} {role} {obj} loading", $"Bump {Pick(s_noisePackages)} to {_random.Next(1, 9)}.{_random.Next(0, 20)}")}";
    }

    private string Traceback(string prefix)
    {
        var (role, verb, obj) = (Pick(s_roles), Pick(s_verbs), Pick(s_objects));
        if (IsReserved("trace", $"{prefix}/{role}/{verb}_{obj}"))
        {
            role = "helpers";
        }

        return $"""
            Traceback (most recent call last):
              File "/workspace/src/{prefix}/cli.py", line {_random.Next(10, 200)}, in main
                return run(args)
              File "/workspace/src/{prefix}/{role}.py", line {_random.Next(40, 900)}, in {verb}_{obj}
                return self._{obj}s[key]
              File "/usr/local/lib/python3.12/site-packages/sqlalchemy/orm/session.py", line {_random.Next(1000, 4000)}, in execute
                return self._execute_internal(
            {Pick(s_exceptions)}: {Pick(s_qualities)} {obj} for {prefix} {Hex(6)}
            """;
    }

    private string Stamp() => _clock.AddMilliseconds(_random.Next(0, 60_000)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private string Hex(int length)
    {
        var bytes = new byte[(length + 1) / 2];
        _random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes)[..length];
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string Choose(params string[] options) => options[_random.Next(options.Length)];

    private static string Title(string word) => string.Concat(word.Split('-', '_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
}
