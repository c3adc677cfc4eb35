//! `write_file`: replaces (or creates) a file atomically, inside the root.
//!
//! The content goes to a temporary file in the target's directory, which is then renamed over
//! the target: readers see the old content or the new one, never a half-written file. Every
//! step runs relative to an open handle on the target's parent directory, itself opened
//! beneath the root, so a symbolic link swapped in meanwhile cannot redirect the write; the
//! rename replaces a directory entry and never writes through a link.
//!
//! Only a regular file is replaced: a directory, FIFO, socket, device (or a link swapped in
//! after the path was resolved) under the target's name is refused, looked for before the
//! temporary file is written and again just before the rename. Something created under that
//! name between that last look and the rename is still replaced (a rename cannot be made
//! conditional on what it replaces).
//!
//! The temporary file is created with the replaced file's permissions (under the umask), not
//! the default ones: a private file (`.env` at 0600) replaced by new content is never readable
//! by others through its temporary file between the write and the rename. A new file's
//! temporary file gets the default mode, which is also the new file's.

use super::sandbox::{Sandbox, io_error};
use crate::error::ToolError;
use cap_std::fs::{Dir, Metadata, OpenOptions};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Arguments of `write_file`.
///
/// ```
/// let args: llm_do_tools::fs::WriteFileArgs =
///     serde_json::from_value(serde_json::json!({"path": "notes/a.md", "content": "# A\n"})).unwrap();
/// assert_eq!(args.content, "# A\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFileArgs {
    /// Path of the file, relative to the sandbox root (for example `notes/todo.md`). Missing
    /// parent directories are created.
    pub path: String,
    /// The complete new content of the file (UTF-8 text). It replaces any previous content.
    pub content: String,
}

/// Result of `write_file`.
///
/// ```
/// # use llm_do_tools::fs::WriteFileOutput;
/// let out: WriteFileOutput = serde_json::from_value(serde_json::json!({
///     "path": "a.txt", "bytes_written": 2, "created": true
/// })).unwrap();
/// assert!(out.created);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WriteFileOutput {
    /// The path written, relative to the sandbox root (a symbolic link's target, when the path
    /// was a link inside the root).
    pub path: String,
    /// How many bytes the file now has.
    pub bytes_written: u64,
    /// Whether the file did not exist before.
    pub created: bool,
}

/// Distinguishes the temporary files of concurrent writes in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `args.content` to `args.path`.
pub(crate) fn write_file(
    sandbox: &Sandbox,
    args: &WriteFileArgs,
) -> Result<WriteFileOutput, ToolError> {
    let shown = args.path.as_str();
    let dir = sandbox.dir();
    let mut target = sandbox.relative(shown)?;
    // `x/` and `x/.` name a directory (as they do to the operating system), never a file `x`:
    // an existing directory is refused below as any directory is, anything else here.
    if (shown.ends_with('/') || shown.ends_with("/."))
        && !dir.metadata(&target).is_ok_and(|m| m.is_dir())
    {
        return Err(ToolError::InvalidPath {
            path: shown.to_owned(),
            reason: "it ends with `/` or `/.`, so it names a directory, not a file".into(),
        });
    }
    // A final component that is a symbolic link: write where it points, if that is inside.
    if dir.symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
        target = dir.canonicalize(&target).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ToolError::InvalidPath {
                path: shown.to_owned(),
                reason: "it is a symbolic link to something that does not exist".into(),
            },
            _ => io_error("writing", shown, e),
        })?;
    }
    let Some(name) = target.file_name().map(ToOwned::to_owned) else {
        return Err(ToolError::IsDirectory { path: shown.to_owned() });
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent_dir = match dir.open_dir(&parent) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            dir.create_dir_all(&parent)
                .map_err(|e| io_error("creating the directories of", shown, e))?;
            dir.open_dir(&parent)
        }
        opened => opened,
    }
    .map_err(|e| io_error("writing", shown, e))?;
    let existing = existing_file(&parent_dir, &name, shown)?;
    let (mut file, temp) =
        create_temp(&parent_dir, existing.as_ref()).map_err(|e| io_error("writing", shown, e))?;
    let written = (|| {
        let failed = |e| io_error("writing", shown, e);
        file.write_all(args.content.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        if let Some(m) = &existing {
            // Keep the replaced file's permissions (an executable stays executable).
            parent_dir.set_permissions(&temp, m.permissions()).map_err(failed)?;
        }
        // Looked at again just before the rename: something else may have taken the name.
        existing_file(&parent_dir, &name, shown)?;
        parent_dir.rename(&temp, &parent_dir, &name).map_err(failed)
    })();
    if let Err(e) = written {
        let _ = parent_dir.remove_file(&temp);
        return Err(e);
    }
    Ok(WriteFileOutput {
        path: target.to_string_lossy().replace('\\', "/"),
        bytes_written: args.content.len() as u64,
        created: existing.is_none(),
    })
}

/// The metadata of the regular file `name` in `dir` that a write would replace, `None` when
/// there is none. Anything else under that name is refused, not replaced: a directory
/// ([`ToolError::IsDirectory`]), a FIFO, a socket, a device or a symbolic link (which
/// [`write_file`] has already followed, so one here was swapped in meanwhile;
/// [`ToolError::NotAFile`]).
fn existing_file(dir: &Dir, name: &OsStr, shown: &str) -> Result<Option<Metadata>, ToolError> {
    match dir.symlink_metadata(name) {
        Ok(m) if m.is_dir() => Err(ToolError::IsDirectory { path: shown.to_owned() }),
        Ok(m) if !m.is_file() => Err(ToolError::NotAFile { path: shown.to_owned() }),
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("writing", shown, e)),
    }
}

/// Creates a fresh temporary file in `dir`, on Unix with the permission bits of `replaced`
/// (the file the write will replace), so that the new content is never more widely readable
/// than the old was.
fn create_temp(dir: &Dir, replaced: Option<&Metadata>) -> io::Result<(cap_std::fs::File, PathBuf)> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if let Some(replaced) = replaced {
        use cap_std::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(replaced.permissions().mode() & 0o777);
    }
    #[cfg(not(unix))]
    let _ = replaced;
    let mut last = None;
    for _ in 0..16 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = Path::new(&format!(".llm-do-write-{}-{n}.tmp", std::process::id())).to_owned();
        match dir.open_with(&name, &options) {
            Ok(file) => return Ok((file, name)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn write(sandbox: &Sandbox, path: &str) -> Result<WriteFileOutput, ToolError> {
        write_file(sandbox, &WriteFileArgs { path: path.into(), content: "new".into() })
    }

    #[test]
    fn a_fifo_or_a_socket_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, mode, 0).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("socket")).unwrap();
        let sandbox = Sandbox::open(dir.path()).unwrap();
        for name in ["fifo", "socket"] {
            let error = write(&sandbox, name).unwrap_err();
            assert!(matches!(&error, ToolError::NotAFile { path } if path == name), "{error}");
            assert!(error.to_string().contains("not a regular file"), "{error}");
            let kind = std::fs::symlink_metadata(dir.path().join(name)).unwrap().file_type();
            assert!(!kind.is_file(), "{name} was replaced by a regular file");
        }
        assert!(write(&sandbox, "regular").is_ok_and(|out| out.created));
        assert!(write(&sandbox, "regular").is_ok_and(|out| !out.created));
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 3, "no temporary file is left behind");
    }

    #[test]
    fn a_path_naming_a_directory_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "old").unwrap();
        let sandbox = Sandbox::open(dir.path()).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for path in ["nodir/x/", "f/.", "f/"] {
            let error = write(&sandbox, path).unwrap_err();
            assert!(
                matches!(&error, ToolError::InvalidPath { path: p, reason }
                    if p == path && reason.contains("names a directory")),
                "{path}: {error}"
            );
        }
        assert!(!dir.path().join("nodir").exists(), "no directory was created");
        for path in ["sub/", "sub/.", "."] {
            let error = write(&sandbox, path).unwrap_err();
            assert!(matches!(&error, ToolError::IsDirectory { .. }), "{path}: {error}");
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("f")).unwrap(), "old");
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_temporary_file_of_a_private_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join(".env");
        std::fs::write(&env, "API_KEY=old").unwrap();
        std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o600)).unwrap();
        let root = Dir::open_ambient_dir(dir.path(), cap_std::ambient_authority()).unwrap();
        let existing = existing_file(&root, OsStr::new(".env"), ".env").unwrap();
        // The state between the write and the rename: the new content sits in the temporary file.
        let (_file, temp) = create_temp(&root, existing.as_ref()).unwrap();
        assert_eq!(mode(&dir.path().join(&temp)), 0o600, "readable by others before the rename");
        root.remove_file(&temp).unwrap();

        let sandbox = Sandbox::open(dir.path()).unwrap();
        assert!(write(&sandbox, ".env").is_ok_and(|out| !out.created));
        assert_eq!(mode(&env), 0o600, "the replaced file's permissions are kept");
        std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(write(&sandbox, ".env").is_ok_and(|out| !out.created));
        assert_eq!(mode(&env), 0o755, "an executable stays executable");
    }
}
