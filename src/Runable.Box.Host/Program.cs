using Runable.Box.Server.Hosting;

// runable-box --unix-socket PATH --workspace DIR [--Section:Key=value ...]
// The key comes from RUNABLE_BOX_TOKEN only: sandboxes pass it there, never on a command line.
string? socket = null;
string? workspace = null;
var passThrough = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--unix-socket" when i + 1 < args.Length:
            socket = args[++i];
            break;
        case "--workspace" when i + 1 < args.Length:
            workspace = args[++i];
            break;
        default:
            passThrough.Add(args[i]);
            break;
    }
}

var key = Environment.GetEnvironmentVariable("RUNABLE_BOX_TOKEN");
if (socket is null || workspace is null || string.IsNullOrEmpty(key))
{
    Console.Error.WriteLine("usage: RUNABLE_BOX_TOKEN=KEY runable-box --unix-socket PATH --workspace DIR [--Box:Setting=value ...]");
    return 2;
}

await using var app = BoxServer.Create(new BoxServerSettings { UnixSocket = socket, Workspace = workspace, ApiKey = key }, [.. passThrough]);
await app.RunAsync();
return 0;
