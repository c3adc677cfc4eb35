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
                (ProjectConfig::default(), Some(Manifest::default()))
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
