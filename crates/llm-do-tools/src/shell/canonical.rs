//! The canonical spelling of a command, for approval rules: the same argument vector always
//! gives the same text, and a path argument is written one way.
//!
//! When a model calls the `shell` tool, the approval gate matches its rules against
//! [`canonical_command`]: the argument vector re-joined with single spaces, quoting only the
//! words that need it (so `'rm'  x` and `rm x` are one command), and each argument after the
//! program that may be a path normalised *lexically* — `./secret/a.txt`, `secret//a.txt`,
//! `secret/./a.txt` and the absolute path under the root are all `secret/a.txt`. The tool's own
//! rules are checked against the same form ([`canonical_argv`]).
//!
//! The canonical form is for matching only: the program runs with the argument vector exactly
//! as the model wrote it. Whether a word is a path cannot be told from the word (`sed s/./X/`
//! is an expression, `echo a//b` text), and rewriting one that is not would run another
//! command; for a word that is a path, both spellings name the same file. The consequence for
//! rules: a rule's word that contains `/` matches every spelling that normalises to it (a
//! `deny` on `cat secret/a.txt` holds for `cat ./secret//a.txt`, an `allow` on `sed s/X/`
//! would also allow `sed s/./X/`), so write rules' slash words as paths.
//!
//! Never rewritten: the program (`./run.sh` must not become a `PATH` lookup), anything that
//! starts with `-`, a word containing `://` (a URL), and a word whose normal form would start
//! with `-`. Symbolic links are not resolved and `..` is not collapsed (after a link it means
//! something else); a trailing `/` is kept. The shell is not a filesystem sandbox: rules on
//! its path arguments narrow what a model tries, the filesystem tools confine.

use super::parse_command;
use crate::error::ToolError;
use std::path::{Component, Path};

/// `command` in canonical form (see the [module documentation](self)); an error when it does
/// not parse or uses shell syntax (the tool would refuse it too).
pub(crate) fn canonical_command(root: &Path, command: &str) -> Result<String, ToolError> {
    let argv = canonical_argv(root, &parse_command(command)?);
    let quoted: Vec<std::borrow::Cow<'_, str>> = argv.iter().map(|w| quote(w)).collect();
    Ok(quoted.join(" "))
}

/// The argument vector `argv` with the spelling of its path arguments normalised (see the
/// [module documentation](self)).
pub(crate) fn canonical_argv(root: &Path, argv: &[String]) -> Vec<String> {
    let mut words = argv.iter();
    let mut out: Vec<String> = words.next().cloned().into_iter().collect();
    out.extend(words.map(|w| normalise_word(root, w)));
    out
}

/// A word as written in the canonical text: as it is when it needs no quoting (so that
/// `--format=%h` stays unquoted and prefix rules keep matching), else POSIX-quoted.
fn quote(word: &str) -> std::borrow::Cow<'_, str> {
    let needs = word.is_empty()
        || word.starts_with('#')
        || word.chars().any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\'));
    if needs { shell_words::quote(word) } else { std::borrow::Cow::Borrowed(word) }
}

/// One argument, with its path spelling normalised when it is a path.
fn normalise_word(root: &Path, word: &str) -> String {
    if word.starts_with('-') || !word.contains('/') || word.contains("://") {
        return word.to_owned();
    }
    let path = Path::new(word);
    let relative = if path.has_root() {
        match path.strip_prefix(root) {
            Ok(rest) => rest,
            Err(_) => path, // outside the root: only the spelling inside it is normalised
        }
    } else {
        path
    };
    let mut parts: Vec<String> = Vec::new();
    if relative.has_root() {
        parts.push(String::new()); // keeps the leading `/`
    }
    for component in relative.components() {
        match component {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => parts.push("..".to_owned()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let mut text = match parts.as_slice() {
        [] => ".".to_owned(),
        [only] if only.is_empty() => "/".to_owned(),
        _ => parts.join("/"),
    };
    if word.ends_with('/') && !text.ends_with('/') {
        text.push('/');
    }
    if text.starts_with('-') { word.to_owned() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(command: &str) -> String {
        canonical_command(Path::new("/srv/root"), command).unwrap()
    }

    #[test]
    fn spellings_of_one_path_are_one_command() {
        for spelling in [
            "cat secret/a.txt",
            "cat ./secret/a.txt",
            "cat secret//a.txt",
            "cat secret/./a.txt",
            "cat /srv/root/secret/a.txt",
            "'cat'   \"secret/a.txt\"",
        ] {
            assert_eq!(canon(spelling), "cat secret/a.txt", "{spelling}");
        }
    }

    #[test]
    fn what_would_change_meaning_is_left_alone() {
        assert_eq!(canon("./run.sh ./x/"), "./run.sh x/");
        assert_eq!(canon("rm ./-rf"), "rm ./-rf");
        assert_eq!(canon("ls a/../b"), "ls a/../b");
        assert_eq!(canon("grep -r --include=./x y ."), "grep -r --include=./x y .");
        assert_eq!(canon("cat /etc//passwd"), "cat /etc/passwd");
        assert_eq!(canon("ls /srv/root/"), "ls ./");
        assert_eq!(canon("echo 'two words' x/./y"), "echo 'two words' x/y");
        assert_eq!(canon("git log --format=%h -3"), "git log --format=%h -3");
        assert_eq!(canon("echo '#x' \"it's\""), "echo '#x' 'it'\\''s'");
    }

    #[test]
    fn urls_are_left_alone() {
        assert_eq!(
            canon("curl https://example.com/a//b/./c file:///srv/root/x"),
            "curl https://example.com/a//b/./c file:///srv/root/x"
        );
        assert_eq!(canon("echo a//b https://x"), "echo a/b https://x");
    }

    #[test]
    fn shell_syntax_is_refused_before_approval() {
        assert!(canonical_command(Path::new("/r"), "ls | wc").is_err());
    }
}
