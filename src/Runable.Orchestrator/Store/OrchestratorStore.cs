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
