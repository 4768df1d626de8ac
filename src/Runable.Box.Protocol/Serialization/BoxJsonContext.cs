using System.Text.Json;
using System.Text.Json.Serialization;
using Runable.Box.Protocol.Code;
using Runable.Box.Protocol.Desktop;
using Runable.Box.Protocol.Files;
using Runable.Box.Protocol.Health;
using Runable.Box.Protocol.Processes;
using Runable.Box.Protocol.Shell;

namespace Runable.Box.Protocol.Serialization;

/// <summary>Source-generated JSON metadata for every wire type: snake_case names, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(ShellExecRequest))]
[JsonSerializable(typeof(ShellExecResult))]
[JsonSerializable(typeof(ShellSessionRequest))]
[JsonSerializable(typeof(ShellSessionInfo))]
[JsonSerializable(typeof(List<ShellSessionInfo>))]
[JsonSerializable(typeof(ProcessStartRequest))]
[JsonSerializable(typeof(ProcessStarted))]
[JsonSerializable(typeof(ProcessInfo))]
[JsonSerializable(typeof(List<ProcessInfo>))]
[JsonSerializable(typeof(ProcessOutput))]
[JsonSerializable(typeof(ProcessStdinRequest))]
[JsonSerializable(typeof(ProcessSignalRequest))]
[JsonSerializable(typeof(FileEntry))]
[JsonSerializable(typeof(FileListResult))]
[JsonSerializable(typeof(FileWriteResult))]
[JsonSerializable(typeof(TextFileResult))]
[JsonSerializable(typeof(FileEditRequest))]
[JsonSerializable(typeof(FileEditResult))]
[JsonSerializable(typeof(FileSearchRequest))]
[JsonSerializable(typeof(FileSearchResult))]
[JsonSerializable(typeof(FileMoveRequest))]
[JsonSerializable(typeof(FilePathRequest))]
[JsonSerializable(typeof(FsWriteRequest))]
[JsonSerializable(typeof(FsReadResult))]
[JsonSerializable(typeof(StatusResult))]
[JsonSerializable(typeof(ArchiveExtractResult))]
[JsonSerializable(typeof(CodeExecRequest))]
[JsonSerializable(typeof(CodeExecResult))]
[JsonSerializable(typeof(CodeContextRequest))]
[JsonSerializable(typeof(CodeContextInfo))]
[JsonSerializable(typeof(List<CodeContextInfo>))]
[JsonSerializable(typeof(DesktopActionRequest))]
[JsonSerializable(typeof(DesktopActionResult))]
[JsonSerializable(typeof(List<DesktopWindow>))]
[JsonSerializable(typeof(XdotExecRequest))]
[JsonSerializable(typeof(XdotExecResult))]
[JsonSerializable(typeof(HealthResult))]
[JsonSerializable(typeof(BoxProblem))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
public sealed partial class BoxJsonContext : JsonSerializerContext;
