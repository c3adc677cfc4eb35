//! Confinement: every path a model gives is checked, then used relative to an open handle on
//! the root directory, never as an ambient path.
//!
//! Two layers:
//!
//! 1. [`Sandbox::relative`] rejects, with a message the model can act on, what is malformed or
//!    obviously outside: empty paths, NUL bytes, `..` components and absolute paths that do
//!    not lie under the root.
//! 2. Every operation then goes through a [`cap_std::fs::Dir`] opened on the root. cap-std
//!    resolves the path itself, beneath that handle (with `openat2(RESOLVE_BENEATH)` on Linux,
//!    component by component elsewhere), and refuses any `..` or symbolic link that would leave
//!    it — at the moment of use, so that a symbolic link swapped in after a check cannot
//!    redirect the operation (no check-then-use race).

use crate::error::ToolError;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::io;
use std::path::{Component, Path, PathBuf};

/// An open root directory and its canonical path.
#[derive(Debug)]
pub(crate) struct Sandbox {
    dir: Dir,
    root: PathBuf,
}

impl Sandbox {
    /// Opens `root`, which must be an existing directory.
    pub(crate) fn open(root: &Path) -> Result<Self, ToolError> {
        let canonical = canonical_root(root)?;
        let dir = Dir::open_ambient_dir(&canonical, ambient_authority())
            .map_err(|source| ToolError::Root { root: root.to_path_buf(), source })?;
        Ok(Self { dir, root: canonical })
    }

    /// The root's canonical path.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The handle every operation goes through.
    pub(crate) fn dir(&self) -> &Dir {
        &self.dir
    }

    /// Checks a path given by a model and returns it relative to the root (`.` for the root
    /// itself). Absolute paths are accepted only when they lie under the canonical root.
    pub(crate) fn relative(&self, path: &str) -> Result<PathBuf, ToolError> {
        relative_to(&self.root, path)
    }
}

/// The canonical path of `root`, which must be an existing directory.
pub(crate) fn canonical_root(root: &Path) -> Result<PathBuf, ToolError> {
    let canonical = std::fs::canonicalize(root)
        .map_err(|source| ToolError::Root { root: root.to_path_buf(), source })?;
    let meta = std::fs::metadata(&canonical)
        .map_err(|source| ToolError::Root { root: root.to_path_buf(), source })?;
    if !meta.is_dir() {
        return Err(ToolError::RootNotDirectory { root: canonical });
    }
    Ok(canonical)
}

/// [`Sandbox::relative`] without the open handle.
pub(crate) fn relative_to(root: &Path, path: &str) -> Result<PathBuf, ToolError> {
    let invalid =
        |reason: &str| ToolError::InvalidPath { path: path.to_owned(), reason: reason.into() };
    if path.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if path.contains('\0') {
        return Err(invalid("the path contains a NUL byte"));
    }
    let given = Path::new(path);
    let rest = if given.has_root() || given.is_absolute() {
        given.strip_prefix(root).map_err(|_| ToolError::AbsolutePath { path: path.to_owned() })?
    } else {
        given
    };
    let mut relative = PathBuf::new();
    for component in rest.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(ToolError::ParentDir { path: path.to_owned() }),
            Component::RootDir | Component::Prefix(_) => {
                return Err(ToolError::AbsolutePath { path: path.to_owned() });
            }
        }
    }
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    Ok(relative)
}

/// Turns an I/O error on `path` into a [`ToolError`] the model can act on.
pub(crate) fn io_error(operation: &'static str, path: &str, err: io::Error) -> ToolError {
    let path = path.to_owned();
    match err.kind() {
        // cap-std reports an attempt to leave the root as a PermissionDenied error of its own
        // making; a refusal by the operating system carries an OS error code.
        io::ErrorKind::PermissionDenied if err.raw_os_error().is_none() => {
            ToolError::OutsideRoot { path }
        }
        io::ErrorKind::PermissionDenied => ToolError::PermissionDenied { path },
        io::ErrorKind::NotFound => ToolError::NotFound { path },
        io::ErrorKind::IsADirectory => ToolError::IsDirectory { path },
        _ => ToolError::Io { operation, path, source: err },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(path: &str) -> Result<String, String> {
        relative_to(Path::new("/srv/root"), path)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn relative_paths_are_normalised() {
        assert_eq!(rel("a/b.txt").as_deref(), Ok("a/b.txt"));
        assert_eq!(rel("./a//b.txt").as_deref(), Ok("a/b.txt"));
        assert_eq!(rel(".").as_deref(), Ok("."));
        assert_eq!(rel("a/").as_deref(), Ok("a"));
    }

    #[test]
    fn absolute_paths_under_the_root_become_relative() {
        assert_eq!(rel("/srv/root/a.txt").as_deref(), Ok("a.txt"));
        assert_eq!(rel("/srv/root").as_deref(), Ok("."));
    }

    #[test]
    fn escapes_and_malformed_paths_are_refused() {
        for bad in ["", "..", "../x", "a/../../x", "a/..", "/etc/passwd", "/srv/rootx/a", "a\0b"] {
            assert!(rel(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(rel("/srv/root/../x").unwrap_err().contains("`..`"));
        assert!(rel("/etc").unwrap_err().contains("absolute path"));
    }
}
