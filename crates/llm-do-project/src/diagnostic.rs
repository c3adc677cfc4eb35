//! [`Diagnostic`]: one problem found in a project, located at `file:line:column`, and
//! [`Diagnostics`], all the problems found in one load.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a file: line and column, both 1-based, the column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Default for Pos {
    fn default() -> Self {
        Pos::START
    }
}

impl Pos {
    /// The start of a file.
    pub(crate) const START: Pos = Pos { line: 1, column: 1 };

    /// The position of byte `offset` in `text`, counted from `base` (the position of `text`'s
    /// first character). An offset past the end or inside a character is clamped.
    pub(crate) fn of_offset(text: &str, offset: usize, base: Pos) -> Pos {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        match before.rfind('\n') {
            Some(nl) => Pos {
                line: base.line + before.matches('\n').count(),
                column: before[nl + 1..].chars().count() + 1,
            },
            None => Pos { line: base.line, column: base.column + before.chars().count() },
        }
    }
}

/// One problem in a project file: where it is, what is wrong, and what was expected.
///
/// Rendered as `path:line:col: error: message (expected ...)`:
///
/// ```
/// use llm_do_project::Diagnostic;
/// let d = Diagnostic::new("proj/a.worker", 3, 5, "unknown key `temprature`")
///     .expected("one of `name`, `temperature`");
/// assert_eq!(
///     d.to_string(),
///     "proj/a.worker:3:5: error: unknown key `temprature` (expected one of `name`, `temperature`)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// The file the problem is in (the project directory joined with the file's name).
    pub file: PathBuf,
    /// The line, 1-based.
    pub line: usize,
    /// The column, 1-based, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What was expected instead, when that can be said.
    pub expected: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `file:line:column` with no expectation.
    ///
    /// ```
    /// # use llm_do_project::Diagnostic;
    /// let d = Diagnostic::new("a.worker", 1, 1, "the file is empty");
    /// assert_eq!(d.expected, None);
    /// ```
    pub fn new(
        file: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Self { file: file.into(), line, column, message: message.into(), expected: None }
    }

    /// Says what was expected.
    ///
    /// ```
    /// # use llm_do_project::Diagnostic;
    /// let d = Diagnostic::new("a.worker", 1, 1, "bad").expected("good");
    /// assert_eq!(d.expected.as_deref(), Some("good"));
    /// ```
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub(crate) fn at(file: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(file, pos.line, pos.column, message)
    }

    /// The diagnostic of the unknown key `key` (`message` says so): when one of the known
    /// `keys` is [close](closest) to it, the message asks "did you mean `that`?"; `expected`
    /// lists the keys either way.
    pub(crate) fn unknown_key(
        file: &Path,
        pos: Pos,
        message: impl Into<String>,
        key: &str,
        keys: &[&str],
        expected: impl FnOnce() -> String,
    ) -> Self {
        let message = message.into();
        let message = match closest(key, keys) {
            Some(close) => format!("{message}: did you mean `{close}`?"),
            None => message,
        };
        Self::at(file, pos, message).expected(expected())
    }
}

/// The known key closest to the unknown `key`, if one is close enough to be what was meant:
/// at most one edit (an insertion, a deletion, a substitution or two neighbours swapped) per
/// three characters of `key`, at least one; the first of equally close ones. Letter case is
/// ignored. Bounded: a key of more than 64 characters is no typo of a known key.
pub(crate) fn closest<'k>(key: &str, keys: &[&'k str]) -> Option<&'k str> {
    const LONGEST: usize = 64;
    let len = key.chars().count();
    if len == 0 || len > LONGEST {
        return None;
    }
    let key = key.to_lowercase();
    let allowed = (len / 3).max(1);
    keys.iter()
        .filter(|k| k.len() <= LONGEST)
        .map(|k| (strsim::osa_distance(&key, &k.to_lowercase()), *k))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(expected) = &self.expected {
            write!(f, " (expected {expected})")?;
        }
        Ok(())
    }
}

/// Every problem found while loading or checking a project, sorted by file, line and column.
/// Never empty when returned as an error.
///
/// Its `Display` renders one diagnostic per line:
///
/// ```
/// use llm_do_project::{Diagnostic, Diagnostics};
/// let all = Diagnostics::from(vec![
///     Diagnostic::new("b.worker", 1, 1, "second"),
///     Diagnostic::new("a.worker", 2, 1, "first"),
/// ]);
/// assert_eq!(all.len(), 2);
/// assert_eq!(all.to_string(), "a.worker:2:1: error: first\nb.worker:1:1: error: second");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics, in order.
    ///
    /// ```
    /// # use llm_do_project::Diagnostics;
    /// assert!(Diagnostics::default().iter().next().is_none());
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many problems there are.
    ///
    /// ```
    /// # use llm_do_project::Diagnostics;
    /// assert_eq!(Diagnostics::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there is no problem.
    ///
    /// ```
    /// # use llm_do_project::Diagnostics;
    /// assert!(Diagnostics::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The diagnostics as a vector.
    ///
    /// ```
    /// # use llm_do_project::{Diagnostic, Diagnostics};
    /// let v = Diagnostics::from(vec![Diagnostic::new("a", 1, 1, "x")]).into_vec();
    /// assert_eq!(v[0].message, "x");
    /// ```
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
        diagnostics.dedup();
        Self(diagnostics)
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_key_is_suggested_and_a_far_one_is_not() {
        let keys = ["name", "model", "temperature", "tools", "toolsets"];
        for (typo, meant) in [
            ("temprature", Some("temperature")),
            ("Model", Some("model")),
            ("modle", Some("model")),
            ("tool", Some("tools")),
            ("toolset", Some("toolsets")),
            ("nmae", Some("name")),
            ("colour", None),
            ("x", None),
            ("", None),
        ] {
            assert_eq!(closest(typo, &keys), meant, "{typo}");
        }
        assert_eq!(closest(&"n".repeat(65), &keys), None);
        let file = Path::new("a.worker");
        let list = || "one of `name`, `model`".to_owned();
        let d =
            Diagnostic::unknown_key(file, Pos::START, "unknown key `modle`", "modle", &keys, list);
        assert_eq!(
            d.to_string(),
            "a.worker:1:1: error: unknown key `modle`: did you mean `model`? (expected one of `name`, `model`)"
        );
        let d = Diagnostic::unknown_key(file, Pos::START, "unknown key `abc`", "abc", &keys, list);
        assert_eq!(
            d.to_string(),
            "a.worker:1:1: error: unknown key `abc` (expected one of `name`, `model`)"
        );
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "ab\ncdé\nf";
        let base = Pos { line: 10, column: 1 };
        assert_eq!(Pos::of_offset(text, 0, base), Pos { line: 10, column: 1 });
        assert_eq!(Pos::of_offset(text, 4, base), Pos { line: 11, column: 2 });
        // Past the end and inside `é` are clamped, never a panic.
        assert_eq!(Pos::of_offset(text, 99, base), Pos { line: 12, column: 2 });
        assert_eq!(Pos::of_offset(text, 6, base), Pos { line: 11, column: 3 });
    }
}
