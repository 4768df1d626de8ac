using Microsoft.Extensions.Logging;

namespace Runable.Orchestrator.Tests.Models;

/// <summary>Keeps every formatted log line (with its exception's message), so a test can check what was and was not logged.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];

    /// <summary>The lines logged so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lock)
            {
                owner._lines.Add($"{logLevel} {category}: {formatter(state, exception)} {exception?.Message}");
            }
        }
    }
}
