namespace Runable.Box.Protocol;

/// <summary>The stable error codes the box reports in the <c>code</c> field of a problem response.</summary>
public static class BoxErrorCodes
{
    public const string InvalidArgument = "invalid_argument";
    public const string InvalidJson = "invalid_json";
    public const string BodyTooLarge = "body_too_large";
    public const string Unauthorized = "unauthorized";
    public const string CrossOrigin = "cross_origin";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string PathOutsideWorkspace = "path_outside_workspace";
    public const string InvalidPath = "invalid_path";
    public const string FileNotFound = "file_not_found";
    public const string FileExists = "file_exists";
    public const string NotADirectory = "not_a_directory";
    public const string IsADirectory = "is_a_directory";
    public const string DirectoryNotEmpty = "directory_not_empty";
    public const string NotText = "not_text";
    public const string FileTooLarge = "file_too_large";
    public const string PermissionDenied = "permission_denied";
    public const string NoSpace = "no_space";
    public const string EditNoMatch = "edit_no_match";
    public const string EditAmbiguous = "edit_ambiguous";
    public const string InvalidArchive = "invalid_archive";
    public const string ArchiveEntryOutsideWorkspace = "archive_entry_outside_workspace";
    public const string ProcessNotFound = "process_not_found";
    public const string ProcessNotRunning = "process_not_running";
    public const string SessionNotFound = "session_not_found";
    public const string SessionBusy = "session_busy";
    public const string TooManyProcesses = "too_many_processes";
    public const string ContextNotFound = "context_not_found";
    public const string KernelDead = "kernel_dead";
    public const string KernelUnavailable = "kernel_unavailable";
    public const string TooManyContexts = "too_many_contexts";
    public const string DesktopUnavailable = "desktop_unavailable";
    public const string Internal = "internal_error";
}
