namespace Runable.Web.Components.Trajectory;

/// <summary>A tool call: its name and arguments, whether it started, and its result once logged.</summary>
public sealed class ToolCallItem(string id, string name, IReadOnlyList<KeyValuePair<string, string>> arguments)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    public IReadOnlyList<KeyValuePair<string, string>> Arguments { get; } = arguments;

    public bool Started { get; set; }

    public ToolResultItem? Result { get; set; }
}
