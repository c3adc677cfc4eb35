//! The relative links of the documentation resolve: every `[text](path)` and `[text](path#anchor)`
//! of README.md, docs/*.md and the README.md files under crates/ and examples/ names a file or
//! directory of the repository, and an anchor names a heading of the Markdown file it points to
//! (GitHub's anchors: the heading in lower case, punctuation dropped, spaces as `-`). Links
//! with a scheme (`https:`, `mailto:`) and anything inside code blocks and code spans are not
//! checked. Run by `cargo test -p xtask` (and so by `cargo test --workspace`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The Markdown files checked, under the repository root `root`.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    docs.retain(|p| p.extension().is_some_and(|e| e == "md"));
    docs.sort();
    files.extend(docs);
    for dir in ["crates", "examples"] {
        readmes(&root.join(dir), &mut files);
    }
    files
}

/// Every README.md under `dir`, depth first.
fn readmes(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() && !path.ends_with("target") {
            readmes(&path, out);
        } else if path.file_name().is_some_and(|n| n == "README.md") {
            out.push(path);
        }
    }
}

/// The lines of `text` outside fenced code blocks, numbered from 1, code spans removed.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    prose_lines_with_code(text)
        .into_iter()
        .map(|(number, line)| {
            // Every other backtick-delimited piece is code.
            let prose =
                line.split('`').enumerate().filter(|(n, _)| n % 2 == 0).map(|(_, p)| p).collect();
            (number, prose)
        })
        .collect()
}

/// The link targets of `text`: `(line, target)` for each `](target)`.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in prose_lines(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or_default();
            found.push((n, target.to_owned()));
            rest = &rest[end..];
        }
    }
    found
}

/// The anchor GitHub gives a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of the headings of `text` (a repeated heading's are `NAME-1`, `NAME-2`, …).
fn anchors(text: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    for (_, line) in prose_lines_with_code(text) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes == 0 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..]);
        let mut anchor = base.clone();
        let mut n = 1;
        while found.contains(&anchor) {
            anchor = format!("{base}-{n}");
            n += 1;
        }
        found.insert(anchor);
    }
    found
}

/// As [`prose_lines`] but with code spans kept (a heading's code counts for its anchor).
fn prose_lines_with_code(text: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((i + 1, line.to_owned()));
        }
    }
    lines
}

/// `true` for a target with a URL scheme (`https://…`, `mailto:…`).
fn has_scheme(target: &str) -> bool {
    target.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// Every broken relative link of the documentation under `root`, as `file:line: why`.
pub(crate) fn check(root: &Path) -> Vec<String> {
    let mut broken = Vec::new();
    for file in markdown_files(root) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            broken.push(format!("{}: cannot be read", file.display()));
            continue;
        };
        let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        for (line, target) in links(&text) {
            if target.is_empty() || has_scheme(&target) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap_or(root).join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{shown}:{line}: `{target}`: no such file"));
                continue;
            }
            if let Some(anchor) = anchor
                && resolved.extension().is_some_and(|e| e == "md")
            {
                let target_text = std::fs::read_to_string(&resolved).unwrap_or_default();
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{shown}:{line}: `{target}`: no heading has that anchor"));
                }
            }
        }
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_relative_link_of_the_docs_resolves() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let files = markdown_files(root);
        assert!(files.len() > 10, "{files:?}");
        let broken = check(root);
        assert!(broken.is_empty(), "broken links in the documentation:\n  {}", broken.join("\n  "));
    }

    #[test]
    fn links_outside_code_and_github_anchors() {
        let text = "See [a](docs/a.md#x-y) and `[no](code.md)`.\n```\n[no](fenced.md)\n```\n[b](#z) [c](https://e.org)\n";
        let found: Vec<_> = links(text).into_iter().map(|(n, t)| format!("{n}:{t}")).collect();
        assert_eq!(found, ["1:docs/a.md#x-y", "5:#z", "5:https://e.org"]);
        assert!(has_scheme("https://e.org") && has_scheme("mailto:a@b") && !has_scheme("a.md"));
        let headings = "# Questions tools ask\n## `run`\n### Bench 6: durable runs on Restate\n## Run\n## Run\n";
        let a = anchors(headings);
        for anchor in ["questions-tools-ask", "run", "bench-6-durable-runs-on-restate", "run-1"] {
            assert!(a.contains(anchor), "{anchor} not in {a:?}");
        }
    }

    #[test]
    fn a_missing_file_and_a_missing_anchor_are_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-doc-links-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(dir.join("README.md"), "[ok](docs/a.md#one)\n[gone](docs/b.md)\n").unwrap();
        std::fs::write(dir.join("docs/a.md"), "# One\n[bad](#two)\n").unwrap();
        let broken = check(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            broken,
            [
                "README.md:2: `docs/b.md`: no such file",
                "docs/a.md:2: `#two`: no heading has that anchor"
            ]
        );
    }
}
