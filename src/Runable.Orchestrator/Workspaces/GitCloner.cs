using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Runable.Orchestrator.Auth;
using Runable.Sandboxes.Network;

namespace Runable.Orchestrator.Workspaces;

/// <summary>
/// Clones a job's git source on the orchestrator host with the git CLI: only the schemes the settings allow (https by
/// default; never ssh, git:// or transport helpers such as <c>ext::</c>), no prompts, no host or user configuration,
/// shallow, within a deadline. Failures are <see cref="OrchestratorException"/>s that say what to fix.
/// </summary>
public sealed partial class GitCloner(WorkspaceOptions options, TimeProvider time, ILogger<GitCloner> logger)
{
    /// <summary>Checks a git URL and ref before anything runs (also usable when a job is submitted); 400 <c>invalid_git_url</c> or <c>invalid_git_ref</c>.</summary>
    public void Validate(string? url, string? gitRef)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw InvalidUrl("The git URL is empty; give the repository's https:// address.");
        }

        if (url.StartsWith('-'))
        {
            throw InvalidUrl("A git URL may not start with '-'; give the repository's https:// address.");
        }

        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            throw InvalidUrl("The git URL contains spaces or control characters; give the repository's https:// address.");
        }

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (url.IndexOf("::", StringComparison.Ordinal) is var helper && helper >= 0 && (schemeEnd < 0 || helper < schemeEnd))
        {
            throw InvalidUrl("Git transport helpers ('ext::', 'fd::' ...) are not allowed; give the repository's https:// address.");
        }

        if (schemeEnd < 0 || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw InvalidUrl($"'{Redact(url)}' is not a URL git may fetch from: give the repository's https:// address (scp-style 'git@host:path' and ssh are not supported).");
        }

        if (!options.GitSchemes.Contains(uri.Scheme))
        {
            var hint = uri.Scheme is "ssh" or "git" or "git+ssh" or "ssh+git"
                ? "ssh and git:// are not supported: use the https:// address (with a token in it for a private repository)"
                : $"use one of: {string.Join(", ", options.GitSchemes.Order(StringComparer.Ordinal).Select(s => s + "://"))}";
            throw InvalidUrl($"The git URL scheme '{uri.Scheme}' is not allowed here; {hint}.");
        }

        if (uri.Scheme is "https" or "http" && string.IsNullOrEmpty(uri.Host))
        {
            throw InvalidUrl($"'{Redact(url)}' names no host.");
        }

        if (gitRef is not null && (!GitRefPattern().IsMatch(gitRef) || gitRef.Contains("..", StringComparison.Ordinal) || gitRef.Contains("@{", StringComparison.Ordinal) ||
            gitRef.EndsWith(".lock", StringComparison.Ordinal) || gitRef.EndsWith('/') || gitRef.EndsWith('.')))
        {
            throw new OrchestratorException(400, "invalid_git_ref",
                $"'{gitRef}' is not a ref git accepts here: give a branch or tag name (letters, digits, '.', '_', '-', '/'; not starting with '-') or a full commit id.");
        }
    }

    /// <summary>Clones <paramref name="url"/> at <paramref name="gitRef"/> (a branch, a tag or a full commit id; the default branch when null)
    /// into a temporary directory; the caller disposes the result.</summary>
    public async Task<ClonedRepository> CloneAsync(string url, string? gitRef, CancellationToken cancellationToken = default)
    {
        Validate(url, gitRef);
        var uri = new Uri(url);
        if (uri.Scheme is "https" or "http" && !options.AllowPrivateGitHosts)
        {
            await CheckPublicHostAsync(uri, cancellationToken).ConfigureAwait(false);
        }

        var root = Directory.CreateTempSubdirectory("runable-git-").FullName;
        var directory = ClonedRepository.WorkTree(root);
        try
        {
            var started = time.GetTimestamp();
            await FetchAsync(url, gitRef, directory, cancellationToken).ConfigureAwait(false);
            var head = await RunAsync(["-C", directory, "rev-parse", "-q", "--verify", "HEAD^{commit}"], cancellationToken).ConfigureAwait(false);
            if (!head.Succeeded)
            {
                throw new OrchestratorException(422, "git_empty_repository",
                    $"{Redact(url)} has no commits{(gitRef is null ? "" : $" at '{gitRef}'")}; push a commit first or start the job without git_url.");
            }

            var cloned = new ClonedRepository(root, head.Output.Trim());
            var size = cloned.GitSize();
            if (size > options.MaxRepositoryBytes)
            {
                throw new OrchestratorException(422, "git_repository_too_large",
                    $"{Redact(url)} took {size} bytes, more than the {options.MaxRepositoryBytes} a workspace repository may; upload a smaller archive instead.");
            }

            LogCloned(logger, Redact(url), gitRef ?? "HEAD", cloned.Commit, size, (long)time.GetElapsedTime(started).TotalMilliseconds);
            return cloned;
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    private async Task FetchAsync(string url, string? gitRef, string directory, CancellationToken cancellationToken)
    {
        List<string> depth = options.GitCloneDepth > 0 ? ["--depth", options.GitCloneDepth.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        List<string> clone = ["clone", "--quiet", "--no-checkout", .. depth];
        if (gitRef is not null)
        {
            clone.AddRange(["--branch", gitRef]);
        }

        var result = await RunAsync([.. clone, "--", url, directory], cancellationToken).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return;
        }

        if (gitRef is null || !CommitId().IsMatch(gitRef) || Classify(result, url, gitRef).Code != "git_ref_not_found")
        {
            throw Classify(result, url, gitRef);
        }

        // --branch takes branches and tags; a commit id is fetched by itself (servers allow that for reachable commits).
        Directory.Delete(directory, recursive: true);
        foreach (var step in new List<string>[]
        {
            ["init", "--quiet", directory],
            ["-C", directory, "remote", "add", "origin", url],
            ["-C", directory, "fetch", "--quiet", .. depth, "origin", gitRef],
            ["-C", directory, "update-ref", "--no-deref", "HEAD", "FETCH_HEAD"],
        })
        {
            result = await RunAsync(step, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw Classify(result, url, gitRef);
            }
        }
    }

    private Task<GitResult> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        // Only the allowed transports, also for redirects and submodules; no hooks; no redirects unless private hosts are fine anyway.
        List<string> config = ["-c", "protocol.allow=never"];
        foreach (var scheme in options.GitSchemes)
        {
            config.AddRange(["-c", $"protocol.{scheme.ToLowerInvariant()}.allow=always"]);
        }

        config.AddRange(["-c", $"http.followRedirects={(options.AllowPrivateGitHosts ? "initial" : "false")}", "-c", "core.hooksPath=/dev/null",
            "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"]);
        return GitProcess.RunAsync(options.GitExecutable, [.. config, .. arguments], options.GitCloneTimeout, cancellationToken);
    }

    private OrchestratorException Classify(GitResult result, string url, string? gitRef)
    {
        var shown = Redact(url);
        var message = Redact(result.Error.Trim());
        if (message.Length > 2000)
        {
            message = message[^2000..];
        }

        if (result.TimedOut)
        {
            return new OrchestratorException(504, "git_timeout",
                $"Cloning {shown} took longer than {options.GitCloneTimeout.TotalSeconds:0} s; use a smaller repository or upload an archive.");
        }

        var error = message.ToLowerInvariant();
        if (gitRef is not null && (error.Contains("remote branch", StringComparison.Ordinal) && error.Contains("not found", StringComparison.Ordinal) ||
            error.Contains("couldn't find remote ref", StringComparison.Ordinal) || error.Contains("not our ref", StringComparison.Ordinal) ||
            error.Contains("no such remote ref", StringComparison.Ordinal)))
        {
            return new OrchestratorException(422, "git_ref_not_found",
                $"The ref '{gitRef}' was not found in {shown}: give an existing branch, a tag or a full commit id. (git: {message})");
        }

        if (error.Contains("could not resolve host", StringComparison.Ordinal) || error.Contains("failed to connect", StringComparison.Ordinal) ||
            error.Contains("connection refused", StringComparison.Ordinal) || error.Contains("timed out", StringComparison.Ordinal) ||
            error.Contains("network is unreachable", StringComparison.Ordinal) || error.Contains("no route to host", StringComparison.Ordinal) ||
            error.Contains("ssl", StringComparison.Ordinal) || error.Contains("certificate", StringComparison.Ordinal))
        {
            return new OrchestratorException(502, "git_unreachable",
                $"Could not reach {shown} from the orchestrator: check the address and that the host is up. (git: {message})");
        }

        if (error.Contains("authentication failed", StringComparison.Ordinal) || error.Contains("could not read username", StringComparison.Ordinal) ||
            error.Contains("could not read password", StringComparison.Ordinal) || error.Contains("terminal prompts disabled", StringComparison.Ordinal))
        {
            return new OrchestratorException(422, "git_auth_required",
                $"{shown} asks for credentials (or does not exist): check the address, and for a private repository put a token in it (https://TOKEN@host/...). (git: {message})");
        }

        if (error.Contains("does not appear to be a git repository", StringComparison.Ordinal) || error.Contains("not a git repository", StringComparison.Ordinal) ||
            error.Contains("is this a git repository", StringComparison.Ordinal) || error.Contains("not found", StringComparison.Ordinal) ||
            error.Contains("returned error: 404", StringComparison.Ordinal))
        {
            return new OrchestratorException(422, "git_not_a_repository", $"{shown} is not a git repository git can clone: check the address. (git: {message})");
        }

        return new OrchestratorException(502, "git_clone_failed", $"Cloning {shown} failed (exit {result.ExitCode}): {message}");
    }

    private static async Task CheckPublicHostAsync(Uri uri, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new OrchestratorException(502, "git_unreachable", $"Could not resolve '{uri.Host}' from the orchestrator ({e.Message}); check the address.");
            }
        }

        if (addresses.FirstOrDefault(a => !AddressRules.IsPublic(a)) is { } refused)
        {
            throw new OrchestratorException(400, "git_host_not_allowed",
                $"'{uri.Host}' resolves to {refused}, which is not a public address; git sources must be on public hosts.");
        }
    }

    /// <summary>The text with the password or token of any URL in it replaced by <c>***</c>.</summary>
    internal static string Redact(string text) => UserInfo().Replace(text, "://***@");

    private static OrchestratorException InvalidUrl(string message) => new(400, "invalid_git_url", message);

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}$")]
    private static partial Regex GitRefPattern();

    [GeneratedRegex("^[0-9a-f]{40}([0-9a-f]{24})?$")]
    private static partial Regex CommitId();

    [GeneratedRegex("://[^/@\\s]+@")]
    private static partial Regex UserInfo();

    [LoggerMessage(Level = LogLevel.Information, Message = "Cloned {Url} at {Ref}: {Commit}, {Bytes} bytes in {ElapsedMs} ms")]
    private static partial void LogCloned(ILogger logger, string url, string @ref, string commit, long bytes, long elapsedMs);
}
