//! The canonical spelling of a command, for approval rules: the same argument vector always
//! gives the same text, and a path argument is written one way.
//!
//! When a model calls the `shell` tool, the approval gate matches its rules against
//! [`canonical_command`] (and the tool then runs that text, which parses to the same program
//! and arguments): the argument vector re-joined with single spaces, quoting only the words
//! that need it (so `'rm'  x` and `rm x` are one command), and each path argument after the program normalised *lexically* —
//! `./secret/a.txt`, `secret//a.txt`, `secret/./a.txt` and the absolute path under the root
//! are all `secret/a.txt`.
//!
//! Deliberately not done, because it would change what the program does: symbolic links are
//! not resolved (`rm link` removes the link, `rm target` the file), `..` is not collapsed (it
//! means something else after a link), a trailing `/` is kept, the program itself is not
//! touched (`./run.sh` must not become a `PATH` lookup), nothing that starts with `-` is
//! rewritten, and a path is never rewritten into one that starts with `-`. The shell is not a
//! filesystem sandbox: rules on its path arguments narrow what a model tries, the filesystem
//! tools confine.

use super::parse_command;
use crate::error::ToolError;
use std::path::{Component, Path};

/// `command` in canonical form (see the [module documentation](self)); an error when it does
/// not parse or uses shell syntax (the tool would refuse it too).
pub(crate) fn canonical_command(root: &Path, command: &str) -> Result<String, ToolError> {
    let argv = parse_command(command)?;
    let mut words = argv.iter();
    let mut out: Vec<String> = words.next().cloned().into_iter().collect();
    out.extend(words.map(|w| normalise_word(root, w)));
    let quoted: Vec<std::borrow::Cow<'_, str>> = out.iter().map(|w| quote(w)).collect();
    Ok(quoted.join(" "))
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
    if word.starts_with('-') || !word.contains('/') {
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
    fn shell_syntax_is_refused_before_approval() {
        assert!(canonical_command(Path::new("/r"), "ls | wc").is_err());
    }
}
