using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Runable.Orchestrator.Context;

/// <summary>
/// Counts tokens the way the context manager budgets them: a tiktoken encoding (o200k by default, cl100k for the
/// models that use it) over each piece of text, plus a fixed overhead per message, per tool call and per tool result,
/// and an image's cost from its size. Counting is done once per message, when it joins the context.
/// </summary>
public sealed class TokenCounter
{
    /// <summary>Tokens added for every message (its role and separators).</summary>
    public const int MessageOverhead = 4;

    /// <summary>Tokens added for every tool call (its id and framing), beyond its name and arguments.</summary>
    public const int CallOverhead = 8;

    /// <summary>
    /// Tokens added for every tool result beyond its text: its call id and framing, and a message's overhead, since
    /// OpenAI's format sends each result as a message of its own.
    /// </summary>
    public const int ResultOverhead = 12;

    /// <summary>Tokens added for every tool definition, beyond its name, description and schema.</summary>
    public const int ToolOverhead = 8;

    /// <summary>The cost of an image whose size cannot be read.</summary>
    public const int DefaultImageTokens = 1_600;

    // The encodings' data (a few megabytes each) is loaded on first use, not when the process starts.
    private static readonly Lazy<Tokenizer> s_o200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> s_cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));
    private readonly Lazy<Tokenizer> _tokenizer;

    private TokenCounter(string encoding, Lazy<Tokenizer> tokenizer)
    {
        Encoding = encoding;
        _tokenizer = tokenizer;
    }

    /// <summary>The o200k_base counter (GPT-4o and later; the default for every other model, calibrated per job).</summary>
    public static TokenCounter O200k { get; } = new("o200k_base", s_o200k);

    /// <summary>The cl100k_base counter (GPT-4, GPT-3.5 and the embeddings of that generation).</summary>
    public static TokenCounter Cl100k { get; } = new("cl100k_base", s_cl100k);

    /// <summary>The encoding's name.</summary>
    public string Encoding { get; }

    /// <summary>
    /// The counter for a model name: cl100k_base for gpt-4 (but not gpt-4o or gpt-4.1) and gpt-3.5, o200k_base for
    /// everything else. Other providers' tokenizers differ; the per-job calibration against reported usage covers that.
    /// </summary>
    public static TokenCounter ForModel(string? model)
    {
        var name = (model ?? "").ToLowerInvariant();
        var slash = name.LastIndexOf('/');
        name = slash >= 0 ? name[(slash + 1)..] : name;
        var cl100k = name.StartsWith("gpt-3.5", StringComparison.Ordinal)
            || (name.StartsWith("gpt-4", StringComparison.Ordinal) && !name.StartsWith("gpt-4o", StringComparison.Ordinal) && !name.StartsWith("gpt-4.", StringComparison.Ordinal))
            || name.StartsWith("text-embedding-", StringComparison.Ordinal);
        return cl100k ? Cl100k : O200k;
    }

    /// <summary>The tokens of <paramref name="text"/>.</summary>
    public int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : _tokenizer.Value.CountTokens(text);

    /// <summary>The tokens of a message: its overhead and each of its contents.</summary>
    public int Count(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var tokens = MessageOverhead;
        foreach (var content in message.Contents)
        {
            tokens += Count(content);
        }

        return tokens;
    }

    /// <summary>The tokens of <paramref name="messages"/>.</summary>
    public int Count(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return messages.Sum(Count);
    }

    /// <summary>The tokens of one piece of message content.</summary>
    public int Count(AIContent content) => content switch
    {
        TextContent text => Count(text.Text),
        TextReasoningContent reasoning => Count(reasoning.Text) + (reasoning.ProtectedData is { Length: > 0 } data ? data.Length / 4 : 0),
        FunctionCallContent call => CallOverhead + Count(call.Name) + Count(ArgumentsJson(call.Arguments)),
        FunctionResultContent result => ResultOverhead + Count(ResultText(result.Result)),
        DataContent data when data.HasTopLevelMediaType("image") => ImageTokens(data.Data.Span),
        DataContent => DefaultImageTokens,
        UriContent => DefaultImageTokens,
        _ => 16,
    };

    /// <summary>The tokens of the tools' definitions (name, description, JSON schema) as a request carries them.</summary>
    public int CountTools(IEnumerable<AITool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var tokens = 0;
        foreach (var tool in tools)
        {
            tokens += ToolOverhead + Count(tool.Name) + Count(tool.Description);
            if (tool is AIFunctionDeclaration function)
            {
                tokens += Count(function.JsonSchema.GetRawText());
            }
        }

        return tokens;
    }

    /// <summary>A call's arguments as the JSON object the providers send.</summary>
    public static string ArgumentsJson(IDictionary<string, object?>? arguments) =>
        arguments is null || arguments.Count == 0 ? "{}" : JsonSerializer.Serialize(arguments, AIJsonUtilities.DefaultOptions);

    /// <summary>A tool result's text as it is sent: a string as it is, anything else as JSON.</summary>
    public static string ResultText(object? result) => result switch
    {
        null => "",
        string text => text,
        JsonElement { ValueKind: JsonValueKind.String } text => text.GetString() ?? "",
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
    };

    /// <summary>
    /// An image's cost from its PNG or JPEG size: the larger of OpenAI's high-detail tiling (85 + 170 per 512-pixel tile
    /// after scaling to 2048 and then 768 on the short side) and Anthropic's width × height / 750 (after scaling to
    /// 1568 on the long side); <see cref="DefaultImageTokens"/> when the size cannot be read.
    /// </summary>
    public static int ImageTokens(ReadOnlySpan<byte> image)
    {
        if (!TryReadSize(image, out var width, out var height) || width <= 0 || height <= 0)
        {
            return DefaultImageTokens;
        }

        double w = width, h = height;
        var fit = Math.Min(1.0, 2048.0 / Math.Max(w, h));
        w *= fit;
        h *= fit;
        var shortSide = Math.Min(1.0, 768.0 / Math.Min(w, h));
        w *= shortSide;
        h *= shortSide;
        var openAI = 85 + (170 * (int)(Math.Ceiling(w / 512) * Math.Ceiling(h / 512)));
        var scale = Math.Min(1.0, 1568.0 / Math.Max(width, height));
        var anthropic = (int)Math.Ceiling(width * scale * height * scale / 750);
        return Math.Max(openAI, anthropic);
    }

    private static bool TryReadSize(ReadOnlySpan<byte> image, out int width, out int height)
    {
        width = height = 0;
        if (image.Length >= 24 && image[..8].SequenceEqual("\x89PNG\r\n\x1a\n"u8))
        {
            width = BinaryPrimitives.ReadInt32BigEndian(image[16..]);
            height = BinaryPrimitives.ReadInt32BigEndian(image[20..]);
            return true;
        }

        if (image.Length >= 4 && image[0] == 0xFF && image[1] == 0xD8)
        {
            for (var i = 2; i + 9 < image.Length;)
            {
                if (image[i] != 0xFF)
                {
                    return false;
                }

                var marker = image[i + 1];
                var length = BinaryPrimitives.ReadUInt16BigEndian(image[(i + 2)..]);
                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    height = BinaryPrimitives.ReadUInt16BigEndian(image[(i + 5)..]);
                    width = BinaryPrimitives.ReadUInt16BigEndian(image[(i + 7)..]);
                    return true;
                }

                i += 2 + length;
            }
        }

        return false;
    }
}
