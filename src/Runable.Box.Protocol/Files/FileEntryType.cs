using System.Text.Json.Serialization;

namespace Runable.Box.Protocol.Files;

/// <summary>The type of a directory entry (symlinks are reported as such, never followed).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FileEntryType>))]
public enum FileEntryType
{
    [JsonStringEnumMemberName("file")] File,
    [JsonStringEnumMemberName("dir")] Dir,
    [JsonStringEnumMemberName("symlink")] Symlink,
    [JsonStringEnumMemberName("other")] Other,
}
