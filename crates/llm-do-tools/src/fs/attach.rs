//! [`AttachmentFiles`]: the runtime's [`AttachmentLoader`] on a sandboxed root — attachment
//! paths (from models, worker files and `--attach`) get the same confinement as the
//! filesystem toolset.

use super::sandbox::Sandbox;
use crate::error::ToolError;
use llm_do_core::attachment::{
    Attachment, AttachmentError, AttachmentErrorKind, AttachmentLimits, AttachmentLoader,
};
use std::path::Path;
use std::sync::Arc;

/// Reads attachment files beneath a root directory, with the confinement of
/// [`Filesystem`](super::Filesystem): no `..`, no absolute path elsewhere, no symbolic link
/// out, checked by the operating system at the moment of use. Files over the size limit are
/// refused before they are read.
///
/// ```
/// use llm_do_core::attachment::{AttachmentErrorKind, AttachmentLimits, AttachmentLoader};
/// use llm_do_tools::fs::AttachmentFiles;
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("notes.md"), "# Q3").unwrap();
/// let files = AttachmentFiles::new(dir.path()).unwrap();
/// let limits = AttachmentLimits::default();
/// assert_eq!(files.load("notes.md", &limits).unwrap().media_type(), "text/markdown");
/// assert_eq!(files.load("../etc/passwd", &limits).unwrap_err().kind(), AttachmentErrorKind::PathEscape);
/// // The runtime reads worker inputs' attachment paths through it:
/// let rt = llm_do_core::Runtime::builder().attachment_loader(files).build();
/// # let _ = rt;
/// ```
#[derive(Debug, Clone)]
pub struct AttachmentFiles {
    sandbox: Arc<Sandbox>,
}

impl AttachmentFiles {
    /// Attachment files beneath `root`, which must be an existing directory.
    ///
    /// ```
    /// # use llm_do_tools::fs::AttachmentFiles;
    /// assert!(AttachmentFiles::new("/this/does/not/exist").is_err());
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Result<Self, ToolError> {
        Ok(Self { sandbox: Arc::new(Sandbox::open(root.as_ref())?) })
    }

    pub(crate) fn from_sandbox(sandbox: Arc<Sandbox>) -> Self {
        Self { sandbox }
    }

    /// The canonical root.
    ///
    /// ```
    /// # use llm_do_tools::fs::AttachmentFiles;
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(AttachmentFiles::new(dir.path()).unwrap().root().is_absolute());
    /// ```
    pub fn root(&self) -> &Path {
        self.sandbox.root()
    }
}

impl AttachmentLoader for AttachmentFiles {
    fn load(&self, path: &str, limits: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
        let rel = self.sandbox.relative(path).map_err(convert)?;
        let (file, meta) = self.sandbox.open_file(&rel, path).map_err(|e| match e {
            ToolError::IsDirectory { path } => convert(ToolError::NotAFile { path }),
            other => convert(other),
        })?;
        if meta.len() > limits.max_bytes {
            return Err(AttachmentError::new(
                AttachmentErrorKind::TooLarge,
                format!(
                    "`{path}` is {} bytes, more than the limit of {} bytes",
                    meta.len(),
                    limits.max_bytes
                ),
            ));
        }
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned());
        Attachment::from_reader(file, name.as_deref().unwrap_or(path), limits)
    }

    /// The path as the sandbox resolves it for `read_file`'s approval: relative to the root,
    /// normalised, symbolic links inside the root followed; `..`, absolute paths elsewhere and
    /// links out are refused (`PathEscape`).
    ///
    /// ```
    /// # use llm_do_core::attachment::{AttachmentErrorKind, AttachmentLoader};
    /// # use llm_do_tools::fs::AttachmentFiles;
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("secret")).unwrap();
    /// # #[cfg(unix)]
    /// std::os::unix::fs::symlink("secret", dir.path().join("s")).unwrap();
    /// let files = AttachmentFiles::new(dir.path()).unwrap();
    /// assert_eq!(files.resolve("./secret//key.md").unwrap(), "secret/key.md");
    /// # #[cfg(unix)]
    /// assert_eq!(files.resolve("s/key.md").unwrap(), "secret/key.md");
    /// assert_eq!(files.resolve("../key.md").unwrap_err().kind(), AttachmentErrorKind::PathEscape);
    /// ```
    fn resolve(&self, path: &str) -> Result<String, AttachmentError> {
        self.sandbox.resolve(path).map_err(convert)
    }

    /// `read_file`'s rules (its `path`, resolved) also decide which files a worker's
    /// attachments may read: a rule denying `read_file` on `secret/**` denies a worker call
    /// given `secret/key.md` as an attachment too.
    fn read_rules(&self) -> Option<(&str, &str)> {
        Some((super::READ_FILE, "path"))
    }
}

/// A refused or failed path as an attachment error (escapes are `PathEscape`).
fn convert(e: ToolError) -> AttachmentError {
    let kind = match &e {
        ToolError::ParentDir { .. }
        | ToolError::AbsolutePath { .. }
        | ToolError::OutsideRoot { .. }
        | ToolError::InvalidPath { .. } => AttachmentErrorKind::PathEscape,
        _ => AttachmentErrorKind::Io,
    };
    AttachmentError::new(kind, e.to_string())
}
