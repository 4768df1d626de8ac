using System.Collections.Concurrent;
using Runable.Orchestrator.Auth;
using Runable.Orchestrator.Context.Recall;
using Runable.Orchestrator.Store;

namespace Runable.Orchestrator.Tests.Context.Recall;

/// <summary>The recall index on a real SQLite store: indexing as events are appended, what it finds, whose events it sees, and durability.</summary>
public sealed class RecallIndexTests : IDisposable
{
    private readonly RecallTestStore _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Append_IndexesTheTextOfEveryAgentEvent_AndNothingElse()
    {
        var job = await _db.SubmitAsync("t");
        var assistant = await _db.AssistantAsync(job.Id, "I will look at the quarantine scheduler next.");
        var call = await _db.ToolCallAsync(job.Id, "bash", new { command = "grep -rn wobbleframe src/" });
        var result = await _db.ToolResultAsync(job.Id, "src/net/wobbleframe.c:12: static int jitter_budget = 40;");
        var message = await _db.MessageAsync(job.Id, "Please keep the marmalade fixtures untouched.");
        await _db.AppendAsync(job.Id, "usage", new { step = 1, input_tokens = 100, note = "zeppelin" });
        await _db.AppendAsync(job.Id, "status", new { status = "running", reason = "zeppelin" });

        // Each append is searchable as soon as it returns, under the right id and type.
        Assert.Equal([(assistant, "assistant")], await SeqsAsync(job.Id, "quarantine scheduler"));
        Assert.Equal([(call, "tool_call"), (result, "tool_result")], (await SeqsAsync(job.Id, "wobbleframe")).Order().ToList());
        Assert.Equal([(message, "message")], await SeqsAsync(job.Id, "marmalade"));
        Assert.Empty(await SeqsAsync(job.Id, "zeppelin")); // status and usage events hold no text worth searching
        Assert.Equal(4, _db.IndexedRows(job.Id));

        var hit = Assert.Single(await _db.Index.SearchAsync("t", job.Id, "grep wobbleframe", 1, Ct));
        Assert.Equal((call, "tool_call", "bash"), (hit.Seq, hit.Type, hit.Name));
        Assert.Equal("command: grep -rn wobbleframe src/", hit.Snippet);
    }

    [Theory]
    [InlineData("CS0246", "compiler")]
    [InlineData("src/Billing/Handlers/RefundHandler.cs", "compiler")]
    [InlineData("RefundHandler.cs line 88", "compiler")]
    [InlineData("LEDGER_DB_POOL_SIZE", "env")]
    [InlineData("ledger pool size", "env")]
    [InlineData("test_settlement_rounding_half_even", "pytest")]
    [InlineData("settlement rounding test", "pytest")]
    [InlineData("ECONNRESET", "trace")]
    [InlineData("9f3c2a17", "git")]
    [InlineData("E0502", "rust")]
    [InlineData("cache/lru.rs", "rust")]
    [InlineData("HTTP/1.1 503", "http")]
    [InlineData("Which error did the borrow checker report in the lru cache?", "rust")]
    public async Task Search_FindsIdentifiersPathsAndErrorCodes_AmongSimilarOutputs(string query, string expected)
    {
        var job = await _db.SubmitAsync("t");
        var planted = new Dictionary<string, long>();

        // Outputs that share most of their words with the planted ones, so only the exact identifiers tell them apart.
        for (var i = 0; i < 30; i++)
        {
            await _db.ToolResultAsync(job.Id, $"""
                src/Billing/Handlers/InvoiceHandler{i}.cs(12,5): warning CS0168: The variable 'e' is declared but never used
                ============================= test session starts ==============================
                tests/billing/test_invoice_{i}.py::test_total_matches PASSED
                tests/billing/test_settlement_{i}.py::test_settlement_totals PASSED
                export LEDGER_DB_TIMEOUT_{i}=30
                GET /api/v2/invoices/{i} HTTP/1.1 200 OK
                """);
        }

        planted["compiler"] = await _db.ToolResultAsync(job.Id, """
            Build FAILED.
            src/Billing/Handlers/RefundHandler.cs(88,17): error CS0246: The type or namespace name 'RefundPolicy' could not be found
            """);
        planted["env"] = await _db.ToolCallAsync(job.Id, "bash", new { command = "export LEDGER_DB_POOL_SIZE=24 && pytest -q" });
        planted["pytest"] = await _db.ToolResultAsync(job.Id, """
            FAILED tests/billing/test_settlement.py::test_settlement_rounding_half_even - AssertionError: assert Decimal('10.125') == Decimal('10.12')
            1 failed, 211 passed in 14.02s
            """);
        planted["trace"] = await _db.ToolResultAsync(job.Id, """
            Traceback (most recent call last):
              File "/workspace/ledger/payouts/client.py", line 214, in send_batch
            ConnectionResetError: [Errno 104] ECONNRESET Connection reset by peer
            """);
        planted["git"] = await _db.ToolResultAsync(job.Id, "9f3c2a17 Fix off-by-one in payout batching\n1d2e3f4a Bump version");
        planted["rust"] = await _db.ToolResultAsync(job.Id, """
            error[E0502]: cannot borrow `self.entries` as mutable because it is also borrowed as immutable
              --> src/cache/lru.rs:88:17
            """);
        planted["http"] = await _db.ToolResultAsync(job.Id, "< HTTP/1.1 503 Service Unavailable\n< retry-after: 30");

        var hits = await _db.Index.SearchAsync("t", job.Id, query, 3, Ct);
        Assert.Equal(planted[expected], hits[0].Seq);
    }

    [Fact]
    public async Task ALongOutput_IsIndexedInPassages_SoEveryPartIsFound_EvenAcrossPassageEdgesAndPastTheLastOne()
    {
        var job = await _db.SubmitAsync("t");

        // 130,000 characters: more than 256 passages of 400, so the last passage holds the rest.
        var text = new System.Text.StringBuilder(new string('.', 130_000));
        var markers = new Dictionary<string, int>
        {
            ["firstmarkerqq"] = 0,
            ["acrossedgeqq"] = RecallIndex.PassageStride - 5, // starts in one passage, ends in the next
            ["middlemarkerqq"] = 51_234,
            ["lastpassageqq"] = 255 * RecallIndex.PassageStride + 10,
            ["farintotailqq"] = 129_000,
        };
        foreach (var (marker, at) in markers)
        {
            text.Remove(at, marker.Length + 2).Insert(at, " " + marker + " ");
        }

        var seq = await _db.ToolResultAsync(job.Id, text.ToString());
        Assert.Equal(256, _db.IndexedRows(job.Id));
        foreach (var marker in markers.Keys)
        {
            var hit = Assert.Single(await _db.Index.SearchAsync("t", job.Id, marker, 5, Ct));
            Assert.Equal(seq, hit.Seq);
            Assert.Contains(marker, hit.Snippet, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheLineHoldingTheRareWords_OutranksOutputsThatMentionCommonOnesEverywhere()
    {
        var job = await _db.SubmitAsync("t");
        for (var i = 0; i < 40; i++)
        {
            await _db.ToolCallAsync(job.Id, "bash", new { command = "pip install -e '.[dev]'" });
            await _db.ToolResultAsync(job.Id, string.Join('\n', Enumerable.Range(0, 60).Select(n =>
                $"Requirement already satisfied: package{n}>=1.{i} in /usr/local/lib/python3.12/site-packages (from -r requirements-dev.txt (line {n}))")));
        }

        // The fact is one line in the middle of a long install log; the question shares "pip" with every install command.
        var lines = Enumerable.Range(0, 80).Select(n => $"Requirement already satisfied: package{n}>=2.0 in /usr/local/lib/python3.12/site-packages").ToList();
        lines.Insert(41, "Successfully installed xmltodict-0.13.2 mypy-1.13.0");
        var fact = await _db.ToolResultAsync(job.Id, string.Join('\n', lines));
        for (var i = 0; i < 10; i++)
        {
            await _db.ToolCallAsync(job.Id, "bash", new { command = "pip install -r requirements-dev.txt" });
        }

        var hits = await _db.Index.SearchAsync("t", job.Id, "What xmltodict release did pip put in?", 5, Ct);
        Assert.Equal(fact, hits[0].Seq);
        Assert.Contains("Successfully installed xmltodict-0.13.2", hits[0].Snippet, StringComparison.Ordinal);

        // A possessive is the word itself: "account's exporter" finds account/exporter.go, not the newer ledger/exporter.go.
        var account = await _db.ToolResultAsync(job.Id, "./internal/account/exporter.go:275:9: undefined: ParseWindowCtx");
        await _db.ToolResultAsync(job.Id, "./internal/ledger/exporter.go:94:28: undefined: ParseTotal");
        Assert.Equal(account, (await _db.Index.SearchAsync("t", job.Id, "What name was missing when compiling account's exporter in Go?", 1, Ct))[0].Seq);
    }

    [Fact]
    public async Task DeletingEvents_RemovesThemFromTheIndex()
    {
        var job = await _db.SubmitAsync("t");
        var kept = await _db.ToolResultAsync(job.Id, "keepme " + new string('x', 1000) + " keepme");
        var gone = await _db.ToolResultAsync(job.Id, "dropme " + new string('y', 1000) + " dropme");
        Assert.Equal(6, _db.IndexedRows(job.Id));

        _db.Store.Execute("DELETE FROM job_events WHERE job_id = $job AND seq = $seq", ("$job", job.Id), ("$seq", gone));

        Assert.Equal(3, _db.IndexedRows(job.Id));
        Assert.Empty(await _db.Index.SearchAsync("t", job.Id, "dropme", 5, Ct));
        Assert.Equal(kept, Assert.Single(await _db.Index.SearchAsync("t", job.Id, "keepme", 5, Ct)).Seq);
    }

    [Fact]
    public async Task Search_SeesOnlyTheJobsOwnEvents_AndOnlyForItsTenant()
    {
        var mine = await _db.SubmitAsync("tenant-a");
        var sibling = await _db.SubmitAsync("tenant-a");
        var foreign = await _db.SubmitAsync("tenant-b");
        foreach (var job in new[] { mine, sibling, foreign })
        {
            await _db.ToolResultAsync(job.Id, $"the secret deploy token lives in vault path kv/{job.Id}/quokka");
        }

        var hits = await _db.Index.SearchAsync("tenant-a", mine.Id, "quokka deploy token", 50, Ct);
        Assert.Contains($"kv/{mine.Id}/quokka", Assert.Single(hits).Snippet, StringComparison.Ordinal);

        // Another tenant cannot name this job, even knowing its id; the same goes for reading its events.
        var refused = await Assert.ThrowsAsync<OrchestratorException>(() => _db.Index.SearchAsync("tenant-b", mine.Id, "quokka", 5, Ct));
        Assert.Equal((404, "job_not_found"), (refused.Status, refused.Code));
        await Assert.ThrowsAsync<OrchestratorException>(() => _db.Index.ReadAsync("tenant-b", mine.Id, 2, Ct));
        await Assert.ThrowsAsync<OrchestratorException>(() => _db.Index.SuggestAsync("tenant-b", mine.Id, "quokka", 3, null, Ct));
    }

    [Fact]
    public async Task ConcurrentWriters_InThisProcessAndThroughASecondStore_AreAllIndexed()
    {
        var jobs = new[] { await _db.SubmitAsync("t"), await _db.SubmitAsync("t"), await _db.SubmitAsync("u") };

        // A second store on the same files stands for a second process: SQLite serializes it against the first.
        var second = new SqliteJobStore(new OrchestratorStore(_db.Directory));
        var appended = new ConcurrentBag<(string Job, string Token, long Seq)>();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var store = w % 2 == 0 ? _db.Jobs : second;
            for (var i = 0; i < 40; i++)
            {
                var job = jobs[(w + i) % jobs.Length];
                var token = $"w{w}n{i}zq";
                var data = System.Text.Json.JsonSerializer.SerializeToElement(new { id = "c", name = "bash", text = $"worker output {token} done" });
                var e = await store.AppendAsync(job.Id, "tool_result", data, cancellationToken: Ct);
                appended.Add((job.Id, token, e!.Seq));
            }
        }, Ct)).ToList();
        await Task.WhenAll(writers);

        Assert.Equal(320, appended.Count);
        foreach (var (jobId, token, seq) in appended)
        {
            var tenant = jobs.Single(j => j.Id == jobId).Tenant;
            Assert.Equal(seq, Assert.Single(await _db.Index.SearchAsync(tenant, jobId, token, 5, Ct)).Seq);
        }

        foreach (var job in jobs)
        {
            Assert.Equal(appended.Count(a => a.Job == job.Id), _db.IndexedRows(job.Id));
        }
    }

    [Fact]
    public async Task AnAcknowledgedEvent_IsSearchableAfterReopeningTheStore()
    {
        var job = await _db.SubmitAsync("t");
        var seq = await _db.ToolResultAsync(job.Id, "panic: runtime error: index out of range [7] with length 7 in parser.go:311");
        _db.Reopen();

        Assert.Equal(seq, Assert.Single(await _db.Index.SearchAsync("t", job.Id, "parser.go index out of range", 5, Ct)).Seq);
        var after = await _db.ToolResultAsync(job.Id, "parser.go:311 fixed; all 48 tests pass");
        Assert.Equal([after, seq], (await _db.Index.SearchAsync("t", job.Id, "parser.go", 5, Ct)).Select(h => h.Seq).Order().Reverse());
    }

    [Fact]
    public async Task UpgradingAStoreWithoutTheIndex_IndexesTheEventsItAlreadyHeld()
    {
        var job = await _db.SubmitAsync("t");
        var old = await _db.ToolResultAsync(job.Id, "the nightly export wrote 4,812 rows to s3://reports/nightly-export.csv");

        // Back to the schema before recall, as a store written by an older orchestrator would be.
        _db.Store.Execute("""
            DROP TRIGGER job_events_search_insert; DROP TRIGGER job_events_search_delete; DROP TABLE job_event_search;
            DROP VIEW job_event_text; DROP TABLE job_event_passages; DROP TABLE job_event_vectors; DROP TABLE job_event_vector_progress;
            PRAGMA user_version = 3;
            """);
        await _db.ToolResultAsync(job.Id, "appended before the upgrade: nightly-export.csv checksum 7a7a7a");
        _db.Reopen();

        var hits = await _db.Index.SearchAsync("t", job.Id, "nightly-export.csv", 5, Ct);
        Assert.Equal([old, old + 1], hits.Select(h => h.Seq).Order());
    }

    [Fact]
    public async Task Read_ReturnsAnEventsWholeText_ForAnyEventOfTheJob()
    {
        var job = await _db.SubmitAsync("t");
        var text = string.Join('\n', Enumerable.Range(1, 2000).Select(i => $"line {i}: ok"));
        var seq = await _db.ToolResultAsync(job.Id, text);

        var e = (await _db.Index.ReadAsync("t", job.Id, seq, Ct))!;
        Assert.Equal((seq, "tool_result", "bash", text), (e.Seq, e.Type, e.Name, e.Text));
        var status = (await _db.Index.ReadAsync("t", job.Id, 1, Ct))!;
        Assert.Equal(("status", """{"status":"queued"}"""), (status.Type, status.Text));
        Assert.Null(await _db.Index.ReadAsync("t", job.Id, seq + 1, Ct));
    }

    [Fact]
    public async Task Suggest_LeavesOutTheEventsThePromptShows_AndFindsTheOlderOnes()
    {
        var job = await _db.SubmitAsync("t");
        var old = await _db.ToolResultAsync(job.Id, "FAILED tests/test_scheduler.py::test_cron_dst_gap - AssertionError: 02:30 does not exist on 2025-03-30");
        for (var i = 0; i < 20; i++)
        {
            await _db.ToolResultAsync(job.Id, $"unrelated output {i}: compiled 12 modules");
        }

        var recent = await _db.AssistantAsync(job.Id, "Back to test_cron_dst_gap: the cron parser must skip the missing hour.");
        var step = "Now fix test_cron_dst_gap in scheduler/cron.py so the DST gap is skipped.";

        Assert.Equal([old, recent], (await _db.Index.SuggestAsync("t", job.Id, step, 3, null, Ct)).Select(h => h.Seq).Order());
        Assert.Equal([old], (await _db.Index.SuggestAsync("t", job.Id, step, 3, [recent], Ct)).Select(h => h.Seq));
        Assert.Empty(await _db.Index.SuggestAsync("t", job.Id, "   ", 3, null, Ct));
    }

    [Fact]
    public async Task WithEmbeddings_ASearchFindsMeaningWithoutSharedWords_AndEmbedsEachEventOnce()
    {
        using var generator = new ConceptEmbeddingGenerator();
        _db.Reopen(generator);
        var job = await _db.SubmitAsync("t");
        var automobile = await _db.ToolResultAsync(job.Id, "The automobile fixture loads 12 rows from fixtures/garage.json");
        for (var i = 0; i < 10; i++)
        {
            await _db.ToolResultAsync(job.Id, $"unrelated output {i}: compiled 12 modules");
        }

        // "car" shares no word with the event; the embedding ranks it first, the words alone find nothing.
        Assert.Equal(automobile, (await _db.Index.SearchAsync("t", job.Id, "car", 3, Ct))[0].Seq);
        var embedded = generator.Embedded;
        Assert.Equal(11, embedded - 1); // every event once, plus the query

        await _db.MessageAsync(job.Id, "the truck depot uses port 7011");
        var truck = await _db.Index.SearchAsync("t", job.Id, "lorry", 1, Ct);
        Assert.Equal("message", Assert.Single(truck).Type);
        Assert.Equal(embedded + 2, generator.Embedded); // only the new event, plus the query

        using var plain = new RecallTestStore();
        var plainJob = await plain.SubmitAsync("t");
        await plain.ToolResultAsync(plainJob.Id, "The automobile fixture loads 12 rows from fixtures/garage.json");
        Assert.Empty(await plain.Index.SearchAsync("t", plainJob.Id, "car", 3, Ct));
    }

    [Fact]
    public async Task WhenTheEmbeddingProviderFails_SearchAnswersByWordsAlone()
    {
        using var generator = new ConceptEmbeddingGenerator { Fail = true };
        _db.Reopen(generator);
        var job = await _db.SubmitAsync("t");
        var seq = await _db.ToolResultAsync(job.Id, "The automobile fixture loads 12 rows");
        Assert.Equal(seq, Assert.Single(await _db.Index.SearchAsync("t", job.Id, "automobile fixture", 3, Ct)).Seq);
    }

    [Fact]
    public async Task Search_RejectsAQueryWithoutWords_AndAnOutOfRangeK()
    {
        var job = await _db.SubmitAsync("t");
        await Assert.ThrowsAsync<ArgumentException>(() => _db.Index.SearchAsync("t", job.Id, "?! ...", 5, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _db.Index.SearchAsync("t", job.Id, "word", 0, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _db.Index.SearchAsync("t", job.Id, "word", RecallIndex.MaxHits + 1, Ct));
    }

    private async Task<List<(long, string)>> SeqsAsync(string jobId, string query) =>
        [.. (await _db.Index.SearchAsync("t", jobId, query, 10, Ct)).Select(h => (h.Seq, h.Type))];
}
