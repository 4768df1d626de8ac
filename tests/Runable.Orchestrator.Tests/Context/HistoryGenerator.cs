using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Tests.Context;

/// <summary>
/// Random but realistic agent sessions: a task, the user's messages, exchanges of one to six parallel calls (bash with exit
/// codes, editor views, errors, empty outputs, huge outputs, screenshots, reasoning), plain assistant text, and runs that
/// crash in the middle of an exchange. Seeded, so a failure names the seed that reproduces it.
/// </summary>
public sealed class HistoryGenerator(int seed)
{
    private static readonly string[] s_words =
    [
        "src/ledger/pool.rs", "fn", "let", "mut", "self", "return", "Error", "E0502", "borrow", "checker", "test_parse_header", "assert_eq!",
        "cargo", "build", "warning:", "unused", "variable", "TypeError:", "undefined", "is", "not", "a", "function", "at", "Object.<anonymous>",
        "(/workspace/app/index.js:42:13)", "def", "class", "LedgerPool", "import", "from", "None", "True", "0x7f3a", "3f9c2e1", "PASS", "FAIL",
        "tests/test_ledger.py::test_rollback", "ok", "ms", "1.2.3", "npm", "ERR!", "the", "of", "and", "to", "in", "for", "with", "config.yaml",
        "LEDGER_DB_POOL_SIZE=16", "127.0.0.1:5432", "{", "}", "(", ")", ";", "=>", "const", "async", "await", "println!", "String::from",
        "café", "naïve", "日本語", "✓", "—", "\t", "    ",
    ];

    private readonly Random _random = new(seed);
    private int _ids;

    public int Seed { get; } = seed;

    public Random Random => _random;

    /// <summary>A session of <paramref name="steps"/> steps.</summary>
    public GeneratedHistory Generate(int steps)
    {
        var task = "Fix the failing test in the ledger. " + Text(_random.Next(1, 8));
        var items = new List<GeneratedStep>();
        for (var i = 0; i < steps; i++)
        {
            var roll = _random.NextDouble();
            if (roll < 0.08)
            {
                items.Add(new GeneratedStep.User("Also: " + Text(_random.Next(1, 4))));
            }
            else if (roll < 0.12)
            {
                items.Add(new GeneratedStep.Assistant(Text(_random.Next(1, 6))));
            }
            else
            {
                items.Add(Exchange(crash: i == steps - 1 ? _random.NextDouble() < 0.2 : _random.NextDouble() < 0.03));
            }
        }

        return new GeneratedHistory(task, items);
    }

    private GeneratedStep.Exchange Exchange(bool crash)
    {
        var count = _random.NextDouble() < 0.7 ? 1 : _random.Next(2, 7);
        var calls = new List<GeneratedCall>();
        for (var c = 0; c < count; c++)
        {
            var id = $"call_{Seed}_{++_ids}";
            var kind = _random.Next(4);
            var name = kind switch { 0 or 1 => "bash", 2 => "str_replace_based_edit_tool", _ => _random.NextDouble() < 0.5 ? "computer" : "code" };
            var arguments = name switch
            {
                "bash" => new Dictionary<string, string> { ["command"] = "cargo test -- " + Word() },
                "str_replace_based_edit_tool" when _random.NextDouble() < 0.2 => new Dictionary<string, string>
                {
                    ["command"] = "create", ["path"] = "/workspace/" + Word(), ["file_text"] = Text(_random.Next(3, 30)),
                },
                "str_replace_based_edit_tool" => new Dictionary<string, string> { ["command"] = "view", ["path"] = "/workspace/src/lib.rs" },
                "computer" => new Dictionary<string, string> { ["action"] = "screenshot" },
                _ => new Dictionary<string, string> { ["code"] = "print(" + Word() + ")" },
            };
            var isError = _random.NextDouble() < 0.08;
            var output = isError ? "Error: " + Text(1) : Output(name);
            var images = name == "computer" && !isError ? [Png(_random.Next(200, 1600), _random.Next(150, 1000))] : Array.Empty<DataContent>();
            var finished = !crash || _random.NextDouble() < 0.5;
            calls.Add(new GeneratedCall(id, name, arguments, output, isError, images, finished));
        }

        if (crash && calls.All(c => c.Finished))
        {
            calls[^1] = calls[^1] with { Finished = false };
        }

        var text = _random.NextDouble() < 0.4 ? Text(_random.Next(1, 3)) : null;
        var reasoning = _random.NextDouble() < 0.3 ? "Thinking: " + Text(_random.Next(1, 4)) : null;
        var interleaved = !crash && _random.NextDouble() < 0.05 ? "Quick note: " + Text(1) : null;
        return new GeneratedStep.Exchange(text, reasoning, calls, crash, interleaved);
    }

    private string Output(string tool)
    {
        var roll = _random.NextDouble();
        var lines = roll < 0.05 ? 0 : roll < 0.9 ? _random.Next(1, 5) : roll < 0.99 ? _random.Next(6, 25) : _random.Next(80, 200);
        var text = Text(lines);
        return tool == "bash" ? text + $"\n[exit code: {(_random.NextDouble() < 0.3 ? 1 : 0)}]" : text;
    }

    private string Word() => s_words[_random.Next(s_words.Length)];

    /// <summary><paramref name="lines"/> lines of code-like text.</summary>
    public string Text(int lines)
    {
        var text = new StringBuilder();
        for (var l = 0; l < lines; l++)
        {
            var words = _random.Next(3, 14);
            for (var w = 0; w < words; w++)
            {
                text.Append(Word()).Append(' ');
            }

            text.Append(_random.Next(1000).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The first bytes of a PNG of the given size: enough for its size to be read.</summary>
    public static DataContent Png(int width, int height)
    {
        var bytes = new byte[33];
        "\x89PNG\r\n\x1a\n"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 13);
        "IHDR"u8.CopyTo(bytes.AsSpan(12));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        return new DataContent(bytes, "image/png");
    }
}

/// <summary>A generated session: its task and steps.</summary>
public sealed record GeneratedHistory(string Task, IReadOnlyList<GeneratedStep> Steps);

/// <summary>One tool call of a generated exchange; <paramref name="Finished"/> is false when the run crashed before its result.</summary>
public sealed record GeneratedCall(string Id, string Name, Dictionary<string, string> Arguments, string Output, bool IsError, IReadOnlyList<DataContent> Images, bool Finished);

/// <summary>A step of a generated session.</summary>
public abstract record GeneratedStep
{
    public sealed record User(string Text) : GeneratedStep;

    public sealed record Assistant(string Text) : GeneratedStep;

    public sealed record Exchange(string? Text, string? Reasoning, IReadOnlyList<GeneratedCall> Calls, bool Crash, string? InterleavedUser) : GeneratedStep;
}
