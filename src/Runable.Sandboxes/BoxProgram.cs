namespace Runable.Sandboxes;

/// <summary>Finds the <c>runable-box</c> program that sandboxes run as their box server.</summary>
public static class BoxProgram
{
    /// <summary>The program's file name.</summary>
    public const string FileName = "runable-box";

    /// <summary>
    /// The directory holding <c>runable-box</c>: <c>$RUNABLE_BOX_PROGRAM_DIR</c>; else, in a source checkout, the
    /// ahead-of-time build that setup publishes (<c>artifacts/publish/runable-box</c>), then the Release and Debug builds.
    /// </summary>
    public static string Locate()
    {
        var candidates = new List<string>();
        var configured = Environment.GetEnvironmentVariable("RUNABLE_BOX_PROGRAM_DIR");
        if (configured is { Length: > 0 })
        {
            candidates.Add(configured);
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Runable.slnx")))
            {
                var artifacts = Path.Combine(directory.FullName, "artifacts");
                candidates.Add(Path.Combine(artifacts, "publish", FileName));
                candidates.Add(Path.Combine(artifacts, "bin", "Runable.Box.Host", "release"));
                candidates.Add(Path.Combine(artifacts, "bin", "Runable.Box.Host", "debug"));
                break;
            }
        }

        // A build directory needs its runable-box.dll; the ahead-of-time build is one self-contained file.
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, FileName)) &&
                (File.Exists(Path.Combine(c, FileName + ".dll")) || c.Contains("publish", StringComparison.Ordinal) || c == configured))
            ?? throw new InvalidOperationException(
                $"The {FileName} program was not found (looked in {string.Join(", ", candidates)}); build the solution or set RUNABLE_BOX_PROGRAM_DIR.");
    }
}
