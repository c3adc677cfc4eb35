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

    /// Opens the regular file at `rel` (root-relative, from [`relative`](Self::relative)) for
    /// reading, with the metadata of what was opened. Opened without blocking on Unix, then
    /// checked: a FIFO (which a blocking open would wait on forever), a device or a directory
    /// is refused ([`ToolError::NotAFile`], [`ToolError::IsDirectory`]), also when it was
    /// swapped in after an earlier look at the path. `shown` is the path as the model gave it.
    pub(crate) fn open_file(
        &self,
        rel: &Path,
        shown: &str,
    ) -> Result<(cap_std::fs::File, cap_std::fs::Metadata), ToolError> {
        let mut options = cap_std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt as _;
            options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
        }
        let file = self.dir.open_with(rel, &options).map_err(|e| io_error("reading", shown, e))?;
        let meta = file.metadata().map_err(|e| io_error("reading", shown, e))?;
        if meta.is_dir() {
            return Err(ToolError::IsDirectory { path: shown.to_owned() });
        }
        if !meta.is_file() {
            return Err(ToolError::NotAFile { path: shown.to_owned() });
        }
        Ok((file, meta))
    }

    /// Checks a path given by a model and returns it relative to the root (`.` for the root
    /// itself). Absolute paths are accepted only when they lie under the canonical root.
    pub(crate) fn relative(&self, path: &str) -> Result<PathBuf, ToolError> {
        relative_to(&self.root, path)
    }

    /// The path a model gave, as the root-relative path the operating system will touch:
    /// normalised ([`relative`](Self::relative)), with every symbolic link among its existing
    /// components resolved (for a file that does not exist yet: its resolved parent and its
    /// name), in `/`-separated form (`.` for the root). This is what approval rules are
    /// matched against. A link that leads outside the root, or too many links, is an error.
    pub(crate) fn resolve(&self, path: &str) -> Result<String, ToolError> {
        let relative = self.relative(path)?;
        let resolved = resolve_links(&self.root, &relative, path)?;
        // The resolved path is what the call runs with: a name that is not UTF-8 (reached
        // through a link) cannot be written in it without becoming another name.
        let parts: Vec<&str> =
            resolved.iter().map(|p| p.to_str()).collect::<Option<_>>().ok_or_else(|| {
                ToolError::InvalidPath {
                    path: path.to_owned(),
                    reason: "it leads to a file whose name is not UTF-8".into(),
                }
            })?;
        Ok(if parts.is_empty() { ".".to_owned() } else { parts.join("/") })
    }
}

/// The longest path a model may give, in bytes: Linux's `PATH_MAX`, longer than any path a
/// file can have. Resolving a path looks at each of its components, so a longer one (a
/// model's `a/a/a/…` of 256 KB) would hold the run for minutes before any error.
pub(crate) const MAX_PATH_BYTES: usize = 4096;

/// The most symbolic links one path may go through (as Linux's `ELOOP` limit).
const MAX_LINKS: usize = 40;

/// Resolves the symbolic links of `relative` (already normalised, no `..`) under `root`, one
/// component at a time; returns the resolved components. `given` is the path as the model
/// wrote it, for errors.
fn resolve_links(
    root: &Path,
    relative: &Path,
    given: &str,
) -> Result<Vec<std::ffi::OsString>, ToolError> {
    use std::collections::VecDeque;
    let outside = || ToolError::OutsideRoot { path: given.to_owned() };
    let mut pending: VecDeque<std::ffi::OsString> = VecDeque::new();
    for component in relative.components() {
        if let Component::Normal(part) = component {
            pending.push_back(part.to_owned());
        }
    }
    let mut done: Vec<std::ffi::OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            done.pop().ok_or_else(outside)?;
            continue;
        }
        if part == "." || part.is_empty() {
            continue;
        }
        let here: PathBuf = done.iter().collect::<PathBuf>().join(&part);
        let meta = std::fs::symlink_metadata(root.join(&here));
        if !meta.is_ok_and(|m| m.file_type().is_symlink()) {
            // A file or directory, or nothing (yet): the name stands for itself.
            done.push(part);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(ToolError::InvalidPath {
                path: given.to_owned(),
                reason: "it goes through too many symbolic links".into(),
            });
        }
        let target = std::fs::read_link(root.join(&here))
            .map_err(|err| io_error("resolving", given, err))?;
        if target.has_root() {
            // An absolute link target counts only when it lies under the root.
            let inside = target.strip_prefix(root).map_err(|_| outside())?;
            done.clear();
            prepend(&mut pending, inside);
        } else {
            prepend(&mut pending, &target);
        }
    }
    Ok(done)
}

/// Puts the components of a link's target in front of what remains to resolve.
fn prepend(pending: &mut std::collections::VecDeque<std::ffi::OsString>, target: &Path) {
    let parts: Vec<std::ffi::OsString> = target
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    for part in parts.into_iter().rev() {
        pending.push_front(part);
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
    if path.len() > MAX_PATH_BYTES {
        // Refused before any component is looked at; the error shows its start only.
        let start: String = path.chars().take(60).collect();
        return Err(ToolError::InvalidPath {
            path: format!("{start}…"),
            reason: format!("it is {} bytes long, more than {MAX_PATH_BYTES}", path.len()),
        });
    }
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

    /// A FIFO is refused when it is opened, not waited on (no check of the path before).
    #[cfg(unix)]
    #[test]
    fn opening_a_fifo_does_not_wait() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            std::process::Command::new("mkfifo")
                .arg(dir.path().join("pipe"))
                .status()
                .unwrap()
                .success()
        );
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let sandbox = Sandbox::open(dir.path()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let fifo = sandbox.open_file(Path::new("pipe"), "pipe").map(|_| ());
            let sub = sandbox.open_file(Path::new("sub"), "sub").map(|_| ());
            let _ = tx.send((fifo, sub));
        });
        let (fifo, sub) = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("no wait");
        assert!(matches!(fifo, Err(ToolError::NotAFile { .. })), "{fifo:?}");
        assert!(matches!(sub, Err(ToolError::IsDirectory { .. })), "{sub:?}");
    }
}
