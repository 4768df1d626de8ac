namespace Runable.Box.Code;

/// <summary>A language the box runs code in, and how to start its Jupyter kernel.</summary>
internal sealed record KernelLanguage(string Name, string KernelName)
{
    public static readonly KernelLanguage Python = new("python", "python3");

    public static readonly KernelLanguage TypeScript = new("typescript", "tslab");

    public static IReadOnlyList<KernelLanguage> All { get; } = [Python, TypeScript];

    /// <summary>The language called <paramref name="name"/> (<c>python</c>, <c>typescript</c>; <c>py</c>, <c>ts</c> too), or null.</summary>
    public static KernelLanguage? Find(string? name) => (name ?? "python").Trim().ToLowerInvariant() switch
    {
        "python" or "python3" or "py" => Python,
        "typescript" or "ts" or "tslab" => TypeScript,
        _ => null,
    };

    /// <summary>The program and arguments that start this language's kernel on <paramref name="connectionFile"/>.</summary>
    public (string FileName, IReadOnlyList<string> Arguments) Command(BoxOptions options, string connectionFile) => this == Python
        ? (options.Python, ["-m", "ipykernel_launcher", "-f", connectionFile])
        : (options.Tslab, ["kernel", "--config-path", connectionFile]);
}
