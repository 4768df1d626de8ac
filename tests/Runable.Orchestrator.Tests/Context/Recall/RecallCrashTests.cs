using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>
/// A real <c>runable serve</c> killed with SIGKILL while users' messages to a running job pour in: every message the
/// API acknowledged is in the recall index when the store is opened again, and the index holds exactly the events
/// the log holds (none half-written). The job's model never answers, so the job stays running while messages arrive.
/// </summary>
public sealed class RecallCrashTests : IAsyncLifetime
{
    private const string AdminKey = "recall-crash-admin-key-0b7d55e1";
    private readonly string _data = Directory.CreateTempSubdirectory("runable-recall-crash-").FullName;
    private readonly TcpListener _silentModel = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<Socket> _held = [];
    private ServeProcess? _server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        // A model endpoint that accepts connections and never answers: the agent waits on its first step.
        _silentModel.Start();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    _held.Add(await _silentModel.AcceptSocketAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _silentModel.Stop();
        foreach (var socket in _held)
        {
            socket.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task KilledWhileMessagesArrive_EveryAcknowledgedMessageIsSearchableAfterReopening()
    {
        _server = await StartServerAsync();
        var http = _server.Client;
        using var submitted = await http.PostAsJsonAsync("v1/jobs", new { task = "recall crash test" }, Ct);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var id = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;

        // Four clients send messages, each naming a unique token, until the server dies under them.
        var acknowledged = new ConcurrentBag<string>();
        var senders = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                var token = $"crashnote{c}x{i}q";
                try
                {
                    using var sent = await http.PostAsJsonAsync($"v1/jobs/{id}/messages", new { text = $"remember {token} for later" }, Ct);
                    Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
                    acknowledged.Add(token);
                }
                catch (HttpRequestException)
                {
                    return; // the server is gone
                }
            }
        }, Ct)).ToList();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (acknowledged.Count < 150)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{acknowledged.Count} messages were acknowledged in time: {_server.Errors}");
            if (senders.FirstOrDefault(s => s.IsCompleted) is { } ended)
            {
                await ended; // a sender that stopped early says why
                Assert.Fail($"a sender stopped after {acknowledged.Count} messages: {_server.Errors}");
            }

            await Task.Delay(20, Ct);
        }

        await _server.KillAsync(Ct); // SIGKILL, with requests in flight
        await Task.WhenAll(senders);
        await _server.DisposeAsync();
        _server = null;

        var store = new OrchestratorStore(_data);
        var tenant = store.Query("SELECT tenant FROM jobs WHERE id = $id", r => r.GetString(0), ("$id", id)).Single();
        var index = new RecallIndex(store);
        foreach (var token in acknowledged)
        {
            var hit = Assert.Single(await index.SearchAsync(tenant, id, token, 5, Ct));
            Assert.Equal(("message", $"remember {token} for later"), (hit.Type, hit.Snippet));
        }

        // The index holds every message the log holds, acknowledged or caught by the kill after its commit, and nothing more.
        var logged = store.Query("SELECT COUNT(*) FROM job_events WHERE job_id = $id AND type = 'message'", r => r.GetInt64(0), ("$id", id))[0];
        var indexed = store.Query("""
            SELECT COUNT(*) FROM job_event_search
            WHERE rowid BETWEEN (SELECT num FROM jobs WHERE id = $id) * 4294967296 AND (SELECT num FROM jobs WHERE id = $id) * 4294967296 + 4294967295
            """, r => r.GetInt64(0), ("$id", id))[0];
        Assert.True(logged >= acknowledged.Count);
        Assert.Equal(logged, indexed);

        // Cancel it so the restart ends it instead of running it again; the restart also clears what the kill left behind.
        Assert.True((await new SqliteJobStore(store).RequestCancelAsync(tenant, id, Ct))!.CancelRequested);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _server = await StartServerAsync();
        var restarted = _server.Client;
        var job = JsonDocument.Parse(await restarted.GetStringAsync($"v1/jobs/{id}", Ct)).RootElement;
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
    }

    private Task<ServeProcess> StartServerAsync() => ServeProcess.StartAsync(_data, AdminKey, new Dictionary<string, string>
    {
        ["RUNABLE_MODEL"] = "openai:silent-model",
        ["OPENAI_BASE_URL"] = $"http://127.0.0.1:{((IPEndPoint)_silentModel.LocalEndpoint).Port}/v1",
        ["OPENAI_API_KEY"] = "model-key",
    }, Ct);
}
