//! `list_files`: the paths under the root that match a glob, sorted. As in a shell, a pattern
//! ending with `/` matches directories only (`*/`, `src/**/`). (The parameter's description,
//! which models read, is left as it was: recorded cassettes hold it.)
//!
//! The walk goes through cap-std directory handles and never follows symbolic links to
//! directories (a link is listed, not entered), so it cannot leave the root or loop.

use super::sandbox::{Sandbox, io_error, relative_to};
use crate::error::ToolError;
use cap_std::fs::Dir;
use globset::{GlobBuilder, GlobMatcher};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// The pattern used when none is given.
pub const DEFAULT_PATTERN: &str = "**/*";

/// The most directory entries one call looks at; a walk that stops there is marked truncated.
const MAX_VISITED: usize = 200_000;

/// The deepest a walk descends below its starting directory.
const MAX_DEPTH: usize = 64;

/// Arguments of `list_files`.
///
/// ```
/// let args: llm_do_tools::fs::ListFilesArgs =
///     serde_json::from_value(serde_json::json!({"pattern": "**/*.md"})).unwrap();
/// assert_eq!(args.pattern.as_deref(), Some("**/*.md"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFilesArgs {
    /// Glob pattern relative to the sandbox root (default `**/*`, everything). `*` and `?`
    /// match within one path segment, `**` matches across directories, `{a,b}` and `[abc]`
    /// work as usual. Examples: `*` (top level), `**/*.md`, `src/**/*.{rs,toml}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Most entries to return (default and upper limit: the tool's configured maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u64>,
}

/// Result of `list_files`.
///
/// ```
/// # use llm_do_tools::fs::ListFilesOutput;
/// let out: ListFilesOutput = serde_json::from_value(serde_json::json!({
///     "pattern": "*", "entries": ["a.md", "docs/"], "total_matches": 2, "truncated": false
/// })).unwrap();
/// assert_eq!(out.entries.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListFilesOutput {
    /// The pattern used.
    pub pattern: String,
    /// Matching paths relative to the root, sorted; directories end with `/`.
    pub entries: Vec<String>,
    /// How many paths matched (more than `entries.len()` when `truncated`).
    pub total_matches: u64,
    /// Whether some matches were left out (the result limit, or a very large tree).
    pub truncated: bool,
}

/// Lists what matches `args.pattern`; `limit` is the configured most entries per call.
pub(crate) fn list_files(
    sandbox: &Sandbox,
    args: &ListFilesArgs,
    limit: usize,
) -> Result<ListFilesOutput, ToolError> {
    let pattern = match args.pattern.as_deref().map(str::trim) {
        None => DEFAULT_PATTERN,
        Some("" | "." | "./") => "*",
        Some(p) => p,
    };
    let (base, glob) = compile(sandbox.root(), pattern)?;
    let max =
        args.max_results.map_or(limit, |m| usize::try_from(m).unwrap_or(usize::MAX).min(limit));
    // As in a shell, a trailing `/` asks for directories (`*/`); the glob itself drops it.
    let dirs_only = pattern.ends_with('/');
    let mut walk = Walk { glob, dirs_only, found: Vec::new(), visited: 0, cut: false };
    let start = if base.is_empty() { Path::new(".") } else { Path::new(&base) };
    match sandbox.dir().open_dir(start) {
        Ok(dir) => walk.dir(&dir, &base, 0),
        // A literal directory in the pattern that does not exist: nothing matches.
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {}
        Err(e) => return Err(io_error("listing", &base, e)),
    }
    let mut entries = walk.found;
    entries.sort();
    let total = entries.len();
    entries.truncate(max);
    Ok(ListFilesOutput {
        pattern: pattern.to_owned(),
        truncated: walk.cut || total > entries.len(),
        total_matches: total as u64,
        entries,
    })
}

/// Checks a pattern and splits off its literal leading directories (where the walk starts).
fn compile(root: &Path, pattern: &str) -> Result<(String, GlobMatcher), ToolError> {
    let invalid = |reason: String| ToolError::InvalidPattern {
        pattern: llm_do_core::bounds::excerpt(pattern),
        reason,
    };
    // Before anything parses it: the glob library recurses once per nested `{`.
    llm_do_core::bounds::check_glob(pattern).map_err(|e| invalid(e.to_string()))?;
    let mut relative = pattern;
    if pattern.starts_with('/') {
        // An absolute pattern is accepted when it lies under the root, like a path.
        let root_text = root.to_string_lossy();
        relative = pattern
            .strip_prefix(root_text.as_ref())
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| {
                invalid("patterns are relative to the sandbox root (for example `**/*.md`)".into())
            })?;
    }
    let segments: Vec<&str> = relative.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    if segments.contains(&"..") {
        return Err(invalid("`..` is not allowed: patterns stay inside the sandbox root".into()));
    }
    if relative.contains('\0') {
        return Err(invalid("the pattern contains a NUL byte".into()));
    }
    let literal = segments
        .iter()
        .take(segments.len().saturating_sub(1))
        .take_while(|s| !s.contains(['*', '?', '[', ']', '{', '}', '\\']))
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if !literal.is_empty() {
        // The same checks as any path (the walk starts there).
        relative_to(root, &literal)?;
    }
    let normalised = segments.join("/");
    let glob = GlobBuilder::new(&normalised)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| invalid(e.kind().to_string()))?;
    Ok((literal, glob.compile_matcher()))
}

/// The state of one walk.
struct Walk {
    glob: GlobMatcher,
    /// Whether only directories are listed (the pattern ends with `/`).
    dirs_only: bool,
    found: Vec<String>,
    visited: usize,
    cut: bool,
}

impl Walk {
    /// Visits the entries of `dir`, whose path relative to the root is `prefix`.
    fn dir(&mut self, dir: &Dir, prefix: &str, depth: usize) {
        let Ok(entries) = dir.entries() else { return };
        for entry in entries {
            if self.visited >= MAX_VISITED {
                self.cut = true;
                return;
            }
            self.visited += 1;
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if self.glob.is_match(&path) {
                    self.found.push(format!("{path}/"));
                }
                if depth >= MAX_DEPTH {
                    self.cut = true;
                } else if let Ok(sub) = entry.open_dir() {
                    self.dir(&sub, &path, depth + 1);
                }
            } else if !self.dirs_only && self.glob.is_match(&path) {
                self.found.push(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ListFilesArgs, Sandbox, compile, list_files};
    use std::path::Path;

    #[test]
    fn a_pattern_ending_with_a_slash_lists_directories_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs/api")).unwrap();
        for file in ["a.md", "docs/b.md", "docs/api/c.md"] {
            std::fs::write(dir.path().join(file), "x").unwrap();
        }
        let sandbox = Sandbox::open(dir.path()).unwrap();
        let list = |pattern: &str| {
            let args = ListFilesArgs { pattern: Some(pattern.into()), max_results: None };
            list_files(&sandbox, &args, 100).unwrap().entries
        };
        assert_eq!(list("*/"), ["docs/"]);
        assert_eq!(list("**/"), ["docs/", "docs/api/"]);
        assert_eq!(list("docs/*/"), ["docs/api/"]);
        assert_eq!(list("*"), ["a.md", "docs/"], "without the slash, files and directories");
    }

    fn base(pattern: &str) -> Result<String, String> {
        compile(Path::new("/srv/root"), pattern).map(|(b, _)| b).map_err(|e| e.to_string())
    }

    #[test]
    fn the_walk_starts_at_the_literal_directories_of_the_pattern() {
        assert_eq!(base("**/*.md").as_deref(), Ok(""));
        assert_eq!(base("docs/**/*.md").as_deref(), Ok("docs"));
        assert_eq!(base("docs/api/*.md").as_deref(), Ok("docs/api"));
        assert_eq!(base("README.md").as_deref(), Ok(""));
        assert_eq!(base("/srv/root/docs/*").as_deref(), Ok("docs"));
    }

    #[test]
    fn escaping_patterns_are_refused() {
        for bad in ["../*", "docs/../../*", "/etc/*", "**/../x", "a/["] {
            assert!(base(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn nested_braces_are_refused_before_the_glob_library_recurses() {
        // ~1,600 nested `{` overflowed the stack inside globset and aborted the process.
        for n in [17, 1_600, 100_000] {
            let hostile = format!("{}a{}", "{".repeat(n), "}".repeat(n));
            let err = base(&hostile).unwrap_err();
            assert!(err.contains("nested") || err.contains("characters long"), "{err}");
            assert!(err.len() < 200, "the pattern is not echoed whole: {err}");
        }
    }
}
