using Runable.Box.Native;
using Runable.Box.Server.Hosting;

// runable-box --unix-socket PATH --workspace DIR [--token-stdin] [--Section:Key=value ...]
// The key comes from the first line of standard input (--token-stdin, how sandboxes pass it) or from
// RUNABLE_BOX_TOKEN; never from the command line, which any process can read.
string? socket = null;
string? workspace = null;
var tokenFromStdin = false;
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
        case "--token-stdin":
            tokenFromStdin = true;
            break;
        default:
            passThrough.Add(args[i]);
            break;
    }
}

// Before the token is read: the sandbox's commands run as this same user and must not read this process.
ProcessHardening.MakeUndumpable();
var key = tokenFromStdin ? Console.In.ReadLine()?.Trim() : Environment.GetEnvironmentVariable("RUNABLE_BOX_TOKEN");
if (socket is null || workspace is null || string.IsNullOrEmpty(key))
{
    Console.Error.WriteLine("usage: runable-box --unix-socket PATH --workspace DIR [--token-stdin] [--Box:Setting=value ...]");
    Console.Error.WriteLine("       the key is the first line of standard input with --token-stdin, else RUNABLE_BOX_TOKEN");
    return 2;
}

await using var app = BoxServer.Create(new BoxServerSettings { UnixSocket = socket, Workspace = workspace, ApiKey = key }, [.. passThrough]);
await app.RunAsync();
return 0;
