//! Reading the files of a project: the configuration (`llm-do.toml` or `project.json`), the
//! lists of worker and agent files, and each file's text (bounded, UTF-8).

use crate::config::{self, CONFIG_FILE, ProjectConfig};
use crate::diagnostic::{Diagnostic, Pos};
use crate::manifest::{self, MANIFEST_FILE, Manifest};
use crate::project::MAX_FILE_BYTES;
use std::path::{Path, PathBuf};

/// Every entry with extension `ext` directly in `dir`, sorted by name: also directories,
/// special files and broken links, so that reading them reports what they are (never skipped
/// silently).
pub(crate) fn files_with(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    let unreadable = |e: std::io::Error| {
        Diagnostic::at(dir, Pos::START, format!("the directory cannot be read: {e}"))
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|e| e == ext) {
            paths.push(dir.join(path.file_name().unwrap_or_default()));
        }
    }
    paths.sort();
    Ok(paths)
}

/// `dir` as an absolute path with symbolic links and `.`/`..` resolved (as the current directory
/// is), for toolset roots: so that a project named `.`, `../NAME` or by its full path gives the
/// same roots, and `filesystem_project` equals `filesystem_cwd` when the current directory is
/// the project. `dir` as given if it cannot be resolved (it is then reported where it is used).
pub(crate) fn absolute_dir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_owned())
}

/// Whether `dir` holds a project configuration (`llm-do.toml` or `project.json`).
fn has_config(dir: &Path) -> bool {
    crate::file::is_present(&dir.join(CONFIG_FILE))
        || crate::file::is_present(&dir.join(MANIFEST_FILE))
}

/// The project directory of an agent file kept in a subdirectory of its project: when the
/// file's own directory has no configuration (`llm-do.toml` or `project.json`), the nearest
/// ancestor that has one, if that is a `project.json` whose `agent_files` lists `file`
/// (compared as resolved paths). `None` otherwise: the file's directory is then its project.
///
/// The `project.json` found must belong to the owner of `file` (on Unix): a directory above
/// one's own files can be writable by others (`/tmp`), and a manifest planted there would
/// otherwise set the approval mode and tools of one's agent. As git, which refuses a
/// repository owned by another user, the search then finds nothing.
///
/// The directory is given as `file`'s path names it (`p8` for `p8/agents/main.agent`) when
/// that path leads to it, else as an absolute path.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("agents"))?;
/// std::fs::write(dir.path().join("agents/main.agent"), "---\n---\nHelp.\n")?;
/// std::fs::write(dir.path().join("agents/other.agent"), "---\n---\nHelp.\n")?;
/// std::fs::write(
///     dir.path().join("project.json"),
///     r#"{"version": 1, "runtime": {}, "entry": {"agent": "main"}, "agent_files": ["agents/main.agent"]}"#,
/// )?;
/// let listed = llm_do_project::listing_project(&dir.path().join("agents/main.agent"));
/// assert_eq!(listed, Some(dir.path().to_owned()));
/// assert_eq!(llm_do_project::listing_project(&dir.path().join("agents/other.agent")), None);
/// # Ok(())
/// # }
/// ```
pub fn listing_project(file: &Path) -> Option<PathBuf> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if has_config(dir) {
        return None;
    }
    let wanted = std::fs::canonicalize(file).ok()?;
    let start = std::fs::canonicalize(dir).ok()?;
    let (levels, found) = start.ancestors().enumerate().skip(1).find(|(_, a)| has_config(a))?;
    if !same_owner(&wanted, &found.join(MANIFEST_FILE)) {
        return None;
    }
    let mut ignored = Vec::new();
    let (_, manifest) = read_config(found, &mut ignored);
    let listed = manifest?
        .agent_files
        .iter()
        .any(|(path, _)| std::fs::canonicalize(path).is_ok_and(|p| p == wanted));
    if !listed {
        return None;
    }
    // `dir/..` `levels` times names the same directory unless links lead elsewhere.
    let relative = (0..levels).fold(dir.to_owned(), |p, _| p.join(".."));
    let named = lexical_parent(dir, levels).unwrap_or(relative);
    let same = std::fs::canonicalize(&named).is_ok_and(|p| p == found);
    Some(if same { named } else { found.to_owned() })
}

/// Whether `a` and `b` belong to the same user (Unix; elsewhere always, as there is no owner to
/// compare). `false` when either cannot be read.
fn same_owner(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = |p: &Path| std::fs::metadata(p).map(|m| m.uid()).ok();
        owner(a).is_some_and(|uid| owner(b) == Some(uid))
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        true
    }
}

/// Whether `path` (as a project file lists it) names something outside `dir` once its `..`
/// are resolved: a relative path that climbs above `dir` (`../x`, `a/../../x`), or an absolute
/// path not under `dir`. Links are not followed here: [`links_out_of`] checks the resolved
/// path.
pub(crate) fn leaves_dir(dir: &Path, path: &str) -> bool {
    use std::path::Component;
    let path = Path::new(path);
    if path.is_absolute() {
        let mut normal = PathBuf::new();
        for c in path.components() {
            match c {
                Component::ParentDir => {
                    normal.pop();
                }
                Component::CurDir => {}
                c => normal.push(c),
            }
        }
        let Ok(base) = std::fs::canonicalize(dir) else { return true };
        return !(normal.starts_with(&base)
            || std::fs::canonicalize(&normal).is_ok_and(|p| p.starts_with(&base)));
    }
    let mut depth = 0usize;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return true,
        }
    }
    false
}

/// Whether `path` (as a project file lists it, already known not to [leave](leaves_dir) `dir`
/// as written) resolves to something outside `dir` once symbolic links are followed: a link
/// inside the project to a file elsewhere, or a path through a linked directory that leads
/// out. `false` when either cannot be resolved (a missing file is reported where it is read).
pub(crate) fn links_out_of(dir: &Path, path: impl AsRef<Path>) -> bool {
    let (Ok(base), Ok(resolved)) =
        (std::fs::canonicalize(dir), std::fs::canonicalize(dir.join(path)))
    else {
        return false;
    };
    !resolved.starts_with(base)
}

/// `dir` without its last `levels` components, when it has that many plain ones (`p8` for
/// `p8/agents` and one level; `.` for `agents`).
fn lexical_parent(dir: &Path, levels: usize) -> Option<PathBuf> {
    let mut out = dir.to_owned();
    for _ in 0..levels {
        let last = out.components().next_back()?;
        if !matches!(last, std::path::Component::Normal(_)) {
            return None;
        }
        out.pop();
    }
    Some(if out.as_os_str().is_empty() { PathBuf::from(".") } else { out })
}

/// Reads `llm-do.toml` or `project.json` (not both), if there is one.
pub(crate) fn read_config(
    dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> (ProjectConfig, Option<Manifest>) {
    let toml_path = dir.join(CONFIG_FILE);
    let json_path = dir.join(MANIFEST_FILE);
    // Anything by those names is read, so a dangling link or a FIFO is reported, not skipped.
    match (crate::file::is_present(&toml_path), crate::file::is_present(&json_path)) {
        (true, true) => {
            diagnostics.push(
                Diagnostic::at(
                    &json_path,
                    Pos::START,
                    format!("the project has both {MANIFEST_FILE} and {CONFIG_FILE}"),
                )
                .expected(
                    "one configuration file: project.json (Python llm-do format) or llm-do.toml",
                ),
            );
            (ProjectConfig::default(), None)
        }
        (true, false) => match read(&toml_path) {
            Ok(text) => {
                let (config, d) = config::parse(&toml_path, &text);
                diagnostics.extend(d);
                (config, None)
            }
            Err(d) => {
                diagnostics.extend(d);
                (ProjectConfig::default(), None)
            }
        },
        (false, true) => match read(&json_path) {
            Ok(text) => {
                let (config, manifest, d) = manifest::parse(&json_path, dir, &text);
                diagnostics.extend(d);
                (config, Some(manifest))
            }
            Err(d) => {
                diagnostics.extend(d);
                (ProjectConfig::default(), Some(Manifest { unread: true, ..Manifest::default() }))
            }
        },
        (false, false) => (ProjectConfig::default(), None),
    }
}

/// Reads a project file with [`crate::file::read_text`] (a regular file, or a link to one, of at
/// most [`MAX_FILE_BYTES`] of UTF-8); a problem is a diagnostic at the file.
pub(crate) fn read(path: &Path) -> Result<String, Vec<Diagnostic>> {
    crate::file::read_text(path, MAX_FILE_BYTES).map_err(|e| {
        let expected = match e {
            crate::file::ReadError::TooLarge { .. } => "at most 1 MiB",
            crate::file::ReadError::NotUtf8 { .. } => "UTF-8 text",
            _ => "a readable regular file (or a symbolic link to one)",
        };
        vec![Diagnostic::at(path, Pos::START, e.to_string()).expected(expected)]
    })
}
