//! A filesystem toolset confined to one root directory: `read_file`, `write_file` and
//! `list_files`.
//!
//! ```
//! use llm_do_tools::fs::Filesystem;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = tempfile::tempdir()?;
//! let fs = Filesystem::new(root.path())?;
//! let builder = fs.specs().into_iter().fold(llm_do_core::Runtime::builder(), |b, s| b.register(s));
//! let ctx = builder.build().ctx();
//!
//! let args = serde_json::json!({"path": "notes/todo.md", "content": "- ship it\n"});
//! let _: serde_json::Value = ctx.call("write_file", args).await?;
//! let read: serde_json::Value = ctx.call("read_file", serde_json::json!({"path": "notes/todo.md"})).await?;
//! assert_eq!(read["content"], "- ship it\n");
//!
//! // Nothing outside the root is reachable, whatever the path says.
//! let escape = ctx.call_value("read_file", serde_json::json!({"path": "../../etc/passwd"})).await;
//! assert!(escape.unwrap_err().to_string().contains("`..`"));
//! # Ok(())
//! # }
//! ```
//!
//! Confinement is described in [`Filesystem`]; the tools' descriptions and JSON Schemas are
//! written for the calling model.
//!
//! (Over 400 lines: about half is documentation — this overview, the confinement rules and the
//! tools' descriptions for the model; the operations themselves are in the submodules.)

mod attach;
mod list;
mod read;
mod sandbox;
mod write;

pub use attach::AttachmentFiles;
pub use list::{DEFAULT_PATTERN, ListFilesArgs, ListFilesOutput};
pub use read::{READ_COUNT_AHEAD, ReadFileArgs, ReadFileOutput};
pub use write::{WriteFileArgs, WriteFileOutput};

use crate::blocking::run_blocking;
use crate::error::ToolError;
use llm_do_core::approval::Verdict;
use llm_do_core::{CallableSpec, ToolSpecBuilder};
use sandbox::Sandbox;
pub(crate) use sandbox::canonical_root;
use std::path::Path;
use std::sync::Arc;

/// Default (and upper limit of the) characters `read_file` returns per call.
pub const DEFAULT_MAX_READ_CHARS: usize = 20_000;

/// The name of the tool that reads a file.
pub const READ_FILE: &str = "read_file";

/// The name of the tool that writes a file.
pub const WRITE_FILE: &str = "write_file";

/// The tools whose `path` argument approval rules are matched against in its resolved form,
/// relative to the root (`secret/b.txt`, whatever the spelling the model used).
pub const PATH_TOOLS: [&str; 2] = [READ_FILE, WRITE_FILE];

/// Default (and upper limit of the) entries `list_files` returns per call.
pub const DEFAULT_MAX_LIST_ENTRIES: usize = 1_000;

/// File tools confined to a root directory.
///
/// Every path a model gives is relative to the root. When a model calls `read_file` or
/// `write_file`, the approval gate sees the path resolved inside the root (normalised, with
/// symbolic links followed: `./secret/b.txt`, `secret//b.txt`, the absolute path and a path
/// through a link to `secret/` are all `secret/b.txt`), so approval rules hold for every
/// spelling, and the call runs with that resolved path. The toolset refuses `..` components,
/// absolute paths outside the root, and symbolic links that resolve outside it (including
/// dangling ones, chains of links, and directories reached through a link). The check is made
/// by the operating system at the moment of use: all operations go through a
/// [`cap_std::fs::Dir`] handle on the root (`openat2(RESOLVE_BENEATH)` on Linux), so a link
/// swapped in between a check and the use cannot redirect them. Symbolic links that stay
/// inside the root work as usual.
///
/// `read_file` and `list_files` declare no approval (allowed unless a policy rule says
/// otherwise); `write_file` declares [`Verdict::Ask`], so a model's writes go to the runtime's
/// approver unless an [`ApprovalPolicy`](llm_do_core::approval::ApprovalPolicy) rule decides.
///
/// Not covered: hard links (a hard link inside the root to a file elsewhere on the same
/// filesystem is indistinguishable from a file of the root; only the people who can create
/// them inside the root can do that), and the root itself being replaced while the toolset is
/// in use (the open handle keeps pointing at the original directory).
///
/// ```
/// use llm_do_tools::fs::Filesystem;
/// # fn main() -> Result<(), llm_do_tools::ToolError> {
/// # let dir = tempfile::tempdir().unwrap();
/// let fs = Filesystem::new(dir.path())?.read_only();
/// let names: Vec<String> = fs.specs().iter().map(|s| s.name().to_owned()).collect();
/// assert_eq!(names, ["read_file", "list_files"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Filesystem {
    sandbox: Arc<Sandbox>,
    read_only: bool,
    max_read_chars: usize,
    max_list_entries: usize,
    max_write_chars: Option<usize>,
    max_path_chars: Option<usize>,
}

impl Filesystem {
    /// A read-write toolset on `root`, which must be an existing directory (it is
    /// canonicalised: symbolic links in the root's own path are resolved once, here).
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// assert!(Filesystem::new("/this/does/not/exist").is_err());
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Result<Self, ToolError> {
        Ok(Self {
            sandbox: Arc::new(Sandbox::open(root.as_ref())?),
            read_only: false,
            max_read_chars: DEFAULT_MAX_READ_CHARS,
            max_list_entries: DEFAULT_MAX_LIST_ENTRIES,
            max_write_chars: None,
            max_path_chars: None,
        })
    }

    /// Makes the toolset read-only: [`specs`](Self::specs) leaves `write_file` out and
    /// [`write_file`](Self::write_file) fails.
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert!(Filesystem::new(dir.path()).unwrap().read_only().is_read_only());
    /// ```
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Sets the most characters `read_file` returns per call (default
    /// [`DEFAULT_MAX_READ_CHARS`]); also the default when the model gives no `max_chars`.
    ///
    /// ```
    /// # use llm_do_tools::fs::{Filesystem, ReadFileArgs};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("log.txt"), "0123456789")?;
    /// let fs = Filesystem::new(dir.path())?.max_read_chars(4);
    /// let args = ReadFileArgs { path: "log.txt".into(), offset: None, max_chars: None };
    /// let out = fs.read_file(args).await?;
    /// assert_eq!((out.content.as_str(), out.truncated, out.next_offset), ("0123", true, Some(4)));
    /// // Asking for more gets no more.
    /// let more = ReadFileArgs { path: "log.txt".into(), offset: None, max_chars: Some(100) };
    /// assert_eq!(fs.read_file(more).await?.content, "0123");
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_read_chars(mut self, max: usize) -> Self {
        self.max_read_chars = max;
        self
    }

    /// Sets the most entries `list_files` returns per call (default
    /// [`DEFAULT_MAX_LIST_ENTRIES`]).
    ///
    /// ```
    /// # use llm_do_tools::fs::{Filesystem, ListFilesArgs};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// for name in ["a.md", "b.md", "c.md"] {
    ///     std::fs::write(dir.path().join(name), "")?;
    /// }
    /// let fs = Filesystem::new(dir.path())?.max_list_entries(2);
    /// let out = fs.list_files(ListFilesArgs::default()).await?;
    /// assert_eq!(out.entries, ["a.md", "b.md"]);
    /// assert_eq!((out.total_matches, out.truncated), (3, true));
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_list_entries(mut self, max: usize) -> Self {
        self.max_list_entries = max;
        self
    }

    /// Sets the most characters of `content` one `write_file` call may write (default: no
    /// limit). The limit is in the tool's input schema (`maxLength`), so a model sees it and a
    /// grammar-constrained local model cannot run past it, and [`write_file`](Self::write_file)
    /// refuses longer content with [`ToolError::TooLong`].
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap().max_write_chars(160);
    /// assert_eq!(fs.write_file_spec().input_schema()["properties"]["content"]["maxLength"], 160);
    /// ```
    pub fn max_write_chars(mut self, max: usize) -> Self {
        self.max_write_chars = Some(max);
        self
    }

    /// Sets the most characters of a `path` given to `read_file` or `write_file` (default: no
    /// limit), in their input schemas (`maxLength`) and checked by the calls
    /// ([`ToolError::TooLong`]).
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap().max_path_chars(40);
    /// assert_eq!(fs.read_file_spec().input_schema()["properties"]["path"]["maxLength"], 40);
    /// ```
    pub fn max_path_chars(mut self, max: usize) -> Self {
        self.max_path_chars = Some(max);
        self
    }
    /// An attachment loader on the same root, with the same confinement (for
    /// `RuntimeBuilder::attachment_loader`).
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap();
    /// assert_eq!(fs.attachment_files().root(), fs.root());
    /// ```
    pub fn attachment_files(&self) -> AttachmentFiles {
        AttachmentFiles::from_sandbox(self.sandbox.clone())
    }

    /// The canonical root directory.
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap();
    /// assert!(fs.root().is_absolute());
    /// ```
    pub fn root(&self) -> &Path {
        self.sandbox.root()
    }

    /// Whether [`read_only`](Self::read_only) was called.
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert!(!Filesystem::new(dir.path()).unwrap().is_read_only());
    /// ```
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Reads a window of a text file (the body of the `read_file` tool).
    ///
    /// ```
    /// # use llm_do_tools::fs::{Filesystem, ReadFileArgs};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("a.txt"), "hello world").unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap();
    /// let args = ReadFileArgs { path: "a.txt".into(), offset: Some(6), max_chars: Some(3) };
    /// let out = fs.read_file(args).await.unwrap();
    /// assert_eq!((out.content.as_str(), out.total_chars, out.truncated), ("wor", Some(11), true));
    /// assert_eq!(out.next_offset, Some(9));
    /// # }
    /// ```
    pub async fn read_file(&self, args: ReadFileArgs) -> Result<ReadFileOutput, ToolError> {
        check_length("path", &args.path, self.max_path_chars)?;
        let sandbox = self.sandbox.clone();
        let limit = self.max_read_chars;
        run_blocking(move || read::read_file(&sandbox, &args, limit)).await
    }

    /// Writes a file atomically, creating missing parent directories (the body of the
    /// `write_file` tool).
    ///
    /// ```
    /// # use llm_do_tools::fs::{Filesystem, WriteFileArgs};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap();
    /// let out = fs.write_file(WriteFileArgs { path: "a/b.txt".into(), content: "hi".into() }).await.unwrap();
    /// assert!(out.created);
    /// assert_eq!(std::fs::read_to_string(dir.path().join("a/b.txt")).unwrap(), "hi");
    /// # }
    /// ```
    pub async fn write_file(&self, args: WriteFileArgs) -> Result<WriteFileOutput, ToolError> {
        if self.read_only {
            return Err(ToolError::ReadOnly);
        }
        check_length("path", &args.path, self.max_path_chars)?;
        check_length("content", &args.content, self.max_write_chars)?;
        let sandbox = self.sandbox.clone();
        run_blocking(move || write::write_file(&sandbox, &args)).await
    }

    /// Lists the paths matching a glob (the body of the `list_files` tool).
    ///
    /// ```
    /// # use llm_do_tools::fs::{Filesystem, ListFilesArgs};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("docs")).unwrap();
    /// std::fs::write(dir.path().join("docs/a.md"), "").unwrap();
    /// std::fs::write(dir.path().join("b.txt"), "").unwrap();
    /// let fs = Filesystem::new(dir.path()).unwrap();
    /// let all = fs.list_files(ListFilesArgs::default()).await.unwrap();
    /// assert_eq!(all.entries, ["b.txt", "docs/", "docs/a.md"]);
    /// let md = fs.list_files(ListFilesArgs { pattern: Some("**/*.md".into()), max_results: None }).await.unwrap();
    /// assert_eq!(md.entries, ["docs/a.md"]);
    /// # }
    /// ```
    pub async fn list_files(&self, args: ListFilesArgs) -> Result<ListFilesOutput, ToolError> {
        let sandbox = self.sandbox.clone();
        let limit = self.max_list_entries;
        run_blocking(move || list::list_files(&sandbox, &args, limit)).await
    }

    /// The tools, to register with a runtime or list in a worker: `read_file`, `write_file`
    /// (unless read-only) and `list_files`.
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # use llm_do_core::approval::Verdict;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let specs = Filesystem::new(dir.path()).unwrap().specs();
    /// let write = specs.iter().find(|s| s.name() == "write_file").unwrap();
    /// assert_eq!(write.approval(), Some(Verdict::Ask));
    /// ```
    pub fn specs(&self) -> Vec<Arc<CallableSpec>> {
        let mut specs = vec![self.read_file_spec()];
        if !self.read_only {
            specs.push(self.write_file_spec());
        }
        specs.push(self.list_files_spec());
        specs
    }

    /// The `read_file` tool alone.
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let spec = Filesystem::new(dir.path()).unwrap().read_file_spec();
    /// assert_eq!(spec.input_schema()["required"], serde_json::json!(["path"]));
    /// ```
    pub fn read_file_spec(&self) -> Arc<CallableSpec> {
        let description = format!(
            "Read a UTF-8 text file inside the sandbox directory. Paths are relative to the \
             sandbox root (for example `docs/README.md`); `..` and paths outside the sandbox are \
             refused. Returns at most {} characters per call, starting at `offset`: when \
             `truncated` is true, call again with `offset` set to `next_offset` to read on. \
             `size_bytes` gives the size of the whole file in bytes; `total_chars`, its size in \
             characters, is given only when the file ends within {} KiB after the characters \
             returned (a longer file is not read to its end). Use list_files to find files.",
            self.max_read_chars,
            READ_COUNT_AHEAD / 1024
        );
        let fs = self.clone();
        let sandbox = self.sandbox.clone();
        ToolSpecBuilder::new(READ_FILE)
            .description(description)
            .input_schema(self.bounded::<ReadFileArgs>(&[("path", self.max_path_chars)]))
            .canonical_args(move |args| resolve_path_arg(&sandbox, args))
            .typed_handler(move |_ctx, args: ReadFileArgs| {
                let fs = fs.clone();
                async move { fs.read_file(args).await }
            })
            .build()
    }

    /// The `write_file` tool alone (it fails on a read-only toolset). Declares
    /// [`Verdict::Ask`].
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let spec = Filesystem::new(dir.path()).unwrap().write_file_spec();
    /// assert_eq!(spec.input_schema()["required"], serde_json::json!(["path", "content"]));
    /// ```
    pub fn write_file_spec(&self) -> Arc<CallableSpec> {
        let fs = self.clone();
        let sandbox = self.sandbox.clone();
        ToolSpecBuilder::new(WRITE_FILE)
            .description(
                "Create or replace a text file inside the sandbox directory with the given \
                 content (the whole file: previous content is replaced, atomically). Paths are \
                 relative to the sandbox root (for example `notes/todo.md`); missing parent \
                 directories are created; `..` and paths outside the sandbox are refused. May \
                 need approval before it runs.",
            )
            .input_schema(self.bounded::<WriteFileArgs>(&[
                ("path", self.max_path_chars),
                ("content", self.max_write_chars),
            ]))
            .approval(Verdict::Ask)
            .canonical_args(move |args| resolve_path_arg(&sandbox, args))
            .typed_handler(move |_ctx, args: WriteFileArgs| {
                let fs = fs.clone();
                async move { fs.write_file(args).await }
            })
            .build()
    }

    /// The `list_files` tool alone.
    ///
    /// ```
    /// # use llm_do_tools::fs::Filesystem;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let spec = Filesystem::new(dir.path()).unwrap().list_files_spec();
    /// assert!(spec.input_schema()["properties"]["pattern"].is_object());
    /// ```
    pub fn list_files_spec(&self) -> Arc<CallableSpec> {
        let description = format!(
            "List the files and directories inside the sandbox directory whose path matches a \
             glob pattern, sorted (directories end with `/`). Patterns are relative to the \
             sandbox root: `*` lists the top level, `**/*.md` every Markdown file, \
             `src/**/*.rs` the Rust files under src. Returns at most {} entries; `truncated` \
             tells when there were more (narrow the pattern). Symbolic links to directories are \
             listed but not entered.",
            self.max_list_entries
        );
        let fs = self.clone();
        ToolSpecBuilder::new("list_files")
            .description(description)
            .input::<ListFilesArgs>()
            .typed_handler(move |_ctx, args: ListFilesArgs| {
                let fs = fs.clone();
                async move { fs.list_files(args).await }
            })
            .build()
    }
}

impl Filesystem {
    /// The input schema of `A` with `maxLength` on the string properties given a limit.
    fn bounded<A: schemars::JsonSchema>(
        &self,
        limits: &[(&str, Option<usize>)],
    ) -> serde_json::Value {
        let mut schema = llm_do_core::schema::input_schema_for::<A>();
        for (property, max) in limits {
            if let (Some(max), Some(p)) = (max, schema["properties"].get_mut(*property)) {
                p["maxLength"] = (*max).into();
            }
        }
        schema
    }
}

/// The arguments with `path` (when it is a string) replaced by the root-relative path the call
/// will touch ([`Sandbox::resolve`]): the form approval rules are matched against, and the
/// call then runs with. Other arguments are left as they are (the tool checks them).
fn resolve_path_arg(
    sandbox: &Sandbox,
    args: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let mut args = args.clone();
    if let Some(path) = args.get_mut("path")
        && let Some(given) = path.as_str()
    {
        *path = sandbox.resolve(given).map_err(|e| e.to_string())?.into();
    }
    Ok(args)
}

/// Refuses `value` (the argument `argument`) when it is longer than `max` characters.
fn check_length(argument: &'static str, value: &str, max: Option<usize>) -> Result<(), ToolError> {
    match max {
        Some(max) if value.chars().count() > max => {
            Err(ToolError::TooLong { argument, chars: value.chars().count(), max })
        }
        _ => Ok(()),
    }
}
