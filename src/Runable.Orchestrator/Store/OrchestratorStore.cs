using Microsoft.Data.Sqlite;

namespace Runable.Orchestrator.Store;

/// <summary>
/// The orchestrator's durable state in SQLite (WAL): API keys, sandboxes, jobs and their event logs. The only place that speaks SQL;
/// the schema is versioned with <c>PRAGMA user_version</c> and migrated at open.
/// </summary>
public sealed class OrchestratorStore
{
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE keys (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            scopes TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE sandboxes (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            backend TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX sandboxes_tenant ON sandboxes (tenant);
        """,
        """
        ALTER TABLE sandboxes ADD COLUMN spec TEXT;
        ALTER TABLE sandboxes ADD COLUMN destroyed_at TEXT;
        ALTER TABLE sandboxes ADD COLUMN reason TEXT;
        """,
        """
        CREATE TABLE jobs (
            num INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            tenant TEXT NOT NULL,
            task TEXT NOT NULL,
            status TEXT NOT NULL,
            spec TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '[]',
            priority INTEGER NOT NULL DEFAULT 0,
            model TEXT,
            idempotency_key TEXT,
            request_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            sandbox_id TEXT,
            steps INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd TEXT NOT NULL DEFAULT '0',
            summary TEXT,
            reason TEXT,
            error TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_at TEXT,
            UNIQUE (tenant, idempotency_key)
        );
        CREATE INDEX jobs_tenant ON jobs (tenant, num);
        CREATE INDEX jobs_status ON jobs (status, priority, num);
        CREATE INDEX jobs_status_tenant ON jobs (status, tenant);
        CREATE TABLE job_events (
            job_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (job_id, seq)
        ) WITHOUT ROWID;
        """,
        // Recall (Context/Recall/RecallIndex): the text of every event worth searching, indexed by a trigger in the
        // statement that appends the event, in passages of 500 characters every 400 (the last of 256 takes the rest).
        // The FTS5 table is contentless (the text stays once, in job_events); a passage's rowid is the job's
        // num << 32 | the event's seq << 8 | the passage's number, so one job is one rowid range. Vectors are optional.
        """
        CREATE TABLE job_event_vectors (
            job_num INTEGER NOT NULL,
            model TEXT NOT NULL,
            seq INTEGER NOT NULL,
            chunk INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (job_num, model, seq, chunk)
        ) WITHOUT ROWID;
        CREATE TABLE job_event_vector_progress (
            job_num INTEGER NOT NULL,
            model TEXT NOT NULL,
            last_seq INTEGER NOT NULL,
            PRIMARY KEY (job_num, model)
        ) WITHOUT ROWID;
        CREATE VIEW job_event_text (job_id, seq, type, name, body) AS
        SELECT job_id, seq, type, json_extract(data, '$.name'),
               CASE type
                 WHEN 'tool_call' THEN COALESCE((SELECT group_concat(key || ': ' || value, char(10)) FROM json_each(data, '$.arguments')), '')
                 ELSE COALESCE(json_extract(data, '$.text'), '')
               END
        FROM job_events WHERE type IN ('assistant', 'tool_call', 'tool_result', 'message');
        CREATE TABLE job_event_passages (i INTEGER PRIMARY KEY);
        WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 255) INSERT INTO job_event_passages (i) SELECT i FROM n;
        CREATE VIRTUAL TABLE job_event_search USING fts5 (
            body, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER job_events_search_insert AFTER INSERT ON job_events
        WHEN NEW.type IN ('assistant', 'tool_call', 'tool_result', 'message') AND NEW.seq < 16777216
        BEGIN
            INSERT INTO job_event_search (rowid, body)
            SELECT (j.num << 32) | (t.seq << 8) | p.i,
                   CASE WHEN p.i = 255 THEN substr(t.body, p.i * 400 + 1) ELSE substr(t.body, p.i * 400 + 1, 500) END
            FROM jobs j JOIN job_event_text t ON t.job_id = j.id JOIN job_event_passages p ON p.i * 400 < length(t.body)
            WHERE j.id = NEW.job_id AND t.seq = NEW.seq;
        END;
        CREATE TRIGGER job_events_search_delete AFTER DELETE ON job_events
        WHEN OLD.type IN ('assistant', 'tool_call', 'tool_result', 'message')
        BEGIN
            DELETE FROM job_event_search WHERE rowid BETWEEN ((SELECT num FROM jobs WHERE id = OLD.job_id) << 32) | (OLD.seq << 8)
                AND ((SELECT num FROM jobs WHERE id = OLD.job_id) << 32) | (OLD.seq << 8) | 255;
            DELETE FROM job_event_vectors WHERE job_num = (SELECT num FROM jobs WHERE id = OLD.job_id) AND seq = OLD.seq;
        END;
        INSERT INTO job_event_search (rowid, body)
        SELECT (j.num << 32) | (t.seq << 8) | p.i,
               CASE WHEN p.i = 255 THEN substr(t.body, p.i * 400 + 1) ELSE substr(t.body, p.i * 400 + 1, 500) END
        FROM job_event_text t JOIN jobs j ON j.id = t.job_id JOIN job_event_passages p ON p.i * 400 < length(t.body)
        WHERE t.seq < 16777216;
        """,
    ];

    private readonly string _connectionString;

    public OrchestratorStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "runable.db"), Pooling = true }.ToString();
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        for (var i = version; i < s_migrations.Length; i++)
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, s_migrations[i], transaction);
            Execute(connection, $"PRAGMA user_version = {i + 1}", transaction);
            transaction.Commit();
        }
    }

    /// <summary>Opens a connection (pooled).</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Runs a statement with named parameters; returns the rows changed.</summary>
    public int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>Reads rows with named parameters.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
