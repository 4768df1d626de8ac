using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Runable.Orchestrator.Agents.Tools;

/// <summary>
/// Reads a call's arguments whatever form they arrived in: <see cref="JsonElement"/>s parsed from a model's JSON, or
/// plain CLR values from code. Models sometimes quote numbers or send an array as a string; those are accepted too.
/// Anything else is a <see cref="ToolArgumentException"/> naming the argument.
/// </summary>
internal sealed class ToolArguments(IReadOnlyDictionary<string, object?>? values)
{
    public string? String(string name)
    {
        var value = Element(name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.String => value.Value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.Value.GetRawText(),
            _ => throw new ToolArgumentException($"{name} must be a string."),
        };
    }

    public string RequiredString(string name, string why) =>
        String(name) ?? throw new ToolArgumentException($"{name} is required: {why}.");

    public bool? Bool(string name)
    {
        var value = Element(name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.Value.GetString(), out var parsed) => parsed,
            _ => throw new ToolArgumentException($"{name} must be true or false."),
        };
    }

    public int? Int(string name)
    {
        var value = Element(name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.Number when value.Value.TryGetInt32(out var number) => number,
            JsonValueKind.Number when value.Value.TryGetDouble(out var real) && real == Math.Floor(real) && Math.Abs(real) <= int.MaxValue => (int)real,
            JsonValueKind.String when int.TryParse(value.Value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new ToolArgumentException($"{name} must be an integer."),
        };
    }

    public double? Number(string name)
    {
        var value = Element(name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.Number => value.Value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new ToolArgumentException($"{name} must be a number."),
        };
    }

    /// <summary>An array of exactly <paramref name="length"/> integers, such as <c>[x, y]</c>.</summary>
    public int[]? Ints(string name, int length, string shape)
    {
        var value = Element(name);
        if (value is null)
        {
            return null;
        }

        var array = value.Value;
        if (array.ValueKind == JsonValueKind.String)
        {
            try
            {
                array = JsonDocument.Parse(array.GetString()!).RootElement;
            }
            catch (JsonException)
            {
                throw new ToolArgumentException($"{name} must be an array {shape}.");
            }
        }

        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() != length)
        {
            throw new ToolArgumentException($"{name} must be an array {shape}.");
        }

        var result = new int[length];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetDouble(out var real) && real == Math.Floor(real) && Math.Abs(real) <= int.MaxValue)
            {
                result[i++] = (int)real;
            }
            else
            {
                throw new ToolArgumentException($"{name} must be an array {shape} of integers.");
            }
        }

        return result;
    }

    private JsonElement? Element(string name)
    {
        if (values is null || !values.TryGetValue(name, out var value) || value is null)
        {
            return null;
        }

        var element = value as JsonElement? ?? JsonSerializer.SerializeToElement(value, value.GetType(), AIJsonUtilities.DefaultOptions);
        return element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : element;
    }
}
