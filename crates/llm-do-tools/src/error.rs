//! [`ToolError`]: everything the built-in tools refuse or fail at, as a value.
//!
//! The messages are written for the model that called the tool: each says what was wrong and,
//! where there is one, what to do instead. When a tool's handler fails, the runtime hands the
//! message to the model as an error tool result.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// An error of a built-in tool.
///
/// ```
/// use llm_do_tools::ToolError;
/// let e = ToolError::ParentDir { path: "../secrets".into() };
/// assert!(e.to_string().contains("`..`"));
/// // Handlers return it to the runtime as an `llm_do_core::Error` with the same message.
/// let core: llm_do_core::Error = e.into();
/// assert!(core.to_string().contains("`..`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The sandbox root cannot be opened (it does not exist, or is not accessible).
    #[error("the sandbox root `{root}` cannot be used: {source}")]
    Root {
        /// The root as given.
        root: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// The sandbox root is not a directory.
    #[error("the sandbox root `{root}` is not a directory")]
    RootNotDirectory {
        /// The canonical root.
        root: PathBuf,
    },

    /// A path is malformed (empty, contains a NUL byte, ...).
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// An absolute path that does not lie inside the sandbox root.
    #[error(
        "`{path}` is an absolute path outside the sandbox: paths are relative to the sandbox root \
         directory (for example `notes/todo.md`)"
    )]
    AbsolutePath {
        /// The path as given.
        path: String,
    },

    /// A path with a `..` component.
    #[error(
        "`{path}` contains `..`, which is not allowed: every path is relative to the sandbox root \
         and stays inside it; name the file from the root instead (for example `docs/a.md`)"
    )]
    ParentDir {
        /// The path as given.
        path: String,
    },

    /// A path that resolves, through a symbolic link, to a place outside the sandbox root.
    #[error(
        "`{path}` leads outside the sandbox (through a symbolic link that points outside the \
         root directory); only files inside the root can be used"
    )]
    OutsideRoot {
        /// The path as given.
        path: String,
    },

    /// Nothing exists at the path.
    #[error("`{path}` does not exist; use list_files to see which files there are")]
    NotFound {
        /// The path as given.
        path: String,
    },

    /// A directory where a file was expected.
    #[error("`{path}` is a directory, not a file; use list_files to see what it contains")]
    IsDirectory {
        /// The path as given.
        path: String,
    },

    /// Something that is neither a regular file nor a directory (a device, a FIFO, a socket,
    /// ...): the filesystem tools neither read it nor replace it.
    #[error(
        "`{path}` is not a regular file (a FIFO, socket or device); only regular files can be \
         read or written"
    )]
    NotAFile {
        /// The path as given.
        path: String,
    },

    /// A file whose content is not UTF-8 text.
    #[error("`{path}` is not UTF-8 text (probably a binary file); only text files can be read")]
    NotText {
        /// The path as given.
        path: String,
    },

    /// The operating system refused access.
    #[error("`{path}`: permission denied by the operating system")]
    PermissionDenied {
        /// The path as given.
        path: String,
    },

    /// Any other input/output failure.
    #[error("{operation} `{path}` failed: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, `listing`, ...).
        operation: &'static str,
        /// The path as given.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A write on a read-only [`Filesystem`](crate::fs::Filesystem).
    #[error("the filesystem is read-only: files cannot be written")]
    ReadOnly,

    /// A malformed glob pattern.
    #[error("invalid pattern `{pattern}`: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong.
        reason: String,
    },

    /// A string argument longer than the toolset allows (`Filesystem::max_write_chars`,
    /// `Filesystem::max_path_chars`).
    #[error(
        "the `{argument}` is {chars} characters long, more than the limit of {max}: shorten it"
    )]
    TooLong {
        /// The argument's name (`path`, `content`).
        argument: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },

    /// A shell command with nothing to run.
    #[error("the command is empty: give a program and its arguments, for example `ls -la`")]
    EmptyCommand,

    /// A shell command longer than the limit.
    #[error("the command is {len} bytes long, more than the limit of {max} bytes")]
    CommandTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A shell command with more arguments than the limit.
    #[error("the command has {count} arguments, more than the limit of {max}")]
    TooManyArguments {
        /// How many it has.
        count: usize,
        /// The limit.
        max: usize,
    },

    /// A shell command using shell syntax, which is not available.
    #[error(
        "the command contains {found}: commands run directly, without a shell, so pipes, \
         redirections, command lists (`;`, `&&`, `||`), command substitution and variable \
         expansion are not available, not even inside quotes. Run a single program with its \
         arguments, for example `grep -rn TODO src`"
    )]
    ShellSyntax {
        /// The offending character or sequence, described.
        found: String,
    },

    /// A shell command that cannot be split into arguments.
    #[error("the command cannot be split into arguments: {reason}")]
    Parse {
        /// Why.
        reason: String,
    },

    /// A shell command that the shell's rules deny.
    #[error("`{command}` is not allowed: {reason}")]
    Denied {
        /// The command as given.
        command: String,
        /// The rule that denied it (or the default), and what is allowed.
        reason: String,
    },

    /// The program of a shell command could not be started.
    #[error("`{program}` could not be started: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// A shell command did not finish in time and was killed.
    #[error(
        "`{command}` did not finish within {} s and was killed.\nstdout so far:\n{stdout}\nstderr \
         so far:\n{stderr}",
        after.as_secs_f64()
    )]
    Timeout {
        /// The command as given.
        command: String,
        /// The time limit.
        after: Duration,
        /// What it wrote to stdout before it was killed (capped).
        stdout: String,
        /// What it wrote to stderr before it was killed (capped).
        stderr: String,
    },

    /// A shell rule that cannot be turned into an approval rule.
    #[error("shell rule `{rule}` cannot be used: {reason}")]
    InvalidRule {
        /// The rule, described.
        rule: String,
        /// Why.
        reason: String,
    },

    /// A tool that needs a Tokio runtime was called outside one.
    #[error("this tool must run inside a Tokio runtime")]
    NoRuntime,

    /// An unexpected internal failure (a background task panicked or was cancelled).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ToolError> for llm_do_core::Error {
    fn from(e: ToolError) -> Self {
        llm_do_core::Error::other(e)
    }
}
