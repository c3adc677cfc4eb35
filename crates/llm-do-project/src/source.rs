//! Reading the files of a project: the configuration (`llm-do.toml` or `project.json`), the
//! lists of worker and agent files, and each file's text (bounded, UTF-8).

use crate::config::{self, CONFIG_FILE, ProjectConfig};
use crate::diagnostic::{Diagnostic, Pos};
use crate::manifest::{self, MANIFEST_FILE, Manifest};
use crate::project::MAX_FILE_BYTES;
use std::path::{Path, PathBuf};

/// The files with extension `ext` directly in `dir`, sorted by name.
pub(crate) fn files_with(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    let unreadable = |e: std::io::Error| {
        Diagnostic::at(dir, Pos::START, format!("the directory cannot be read: {e}"))
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|e| e == ext) && path.is_file() {
            paths.push(dir.join(path.file_name().unwrap_or_default()));
        }
    }
    paths.sort();
    Ok(paths)
}

/// Reads `llm-do.toml` or `project.json` (not both), if there is one.
pub(crate) fn read_config(
    dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> (ProjectConfig, Option<Manifest>) {
    let toml_path = dir.join(CONFIG_FILE);
    let json_path = dir.join(MANIFEST_FILE);
    match (toml_path.exists(), json_path.exists()) {
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

/// Reads a text file, refusing files over [`MAX_FILE_BYTES`] and files that are not UTF-8.
pub(crate) fn read(path: &Path) -> Result<String, Vec<Diagnostic>> {
    let fail = |message: String, expected: &str| {
        vec![Diagnostic::at(path, Pos::START, message).expected(expected)]
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("the file cannot be read: {e}"), "a readable file"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(fail(format!("the file is {size} bytes long"), "at most 1 MiB"));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| fail(format!("the file cannot be read: {e}"), "a readable file"))?;
    String::from_utf8(bytes).map_err(|e| {
        fail(
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "UTF-8 text",
        )
    })
}
