//! Splitting a worker file into its YAML frontmatter and its markdown body.
//!
//! A worker file starts with a line `---`, then the frontmatter, then another line `---`;
//! everything after that line is the body (the prompt). An agent file may also have blank
//! lines before its frontmatter and fences of more dashes (`----`), as the Python llm-do's
//! reader (python-frontmatter) accepts ([`Fences`]).

/// The parts of a worker file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// The frontmatter text.
    pub(crate) yaml: &'a str,
    /// The line number of the frontmatter's first line.
    pub(crate) yaml_line: usize,
    /// The line number of the closing `---`.
    pub(crate) closing_line: usize,
    /// The body, untrimmed.
    pub(crate) body: &'a str,
    /// The line number of the body's first line.
    pub(crate) body_line: usize,
}

/// Why a file has no frontmatter: the line it concerns, the problem, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    pub(crate) line: usize,
    pub(crate) message: &'static str,
    pub(crate) expected: &'static str,
}

/// Which lines delimit the frontmatter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fences {
    /// A `.worker` file's: the first line is `---`, and the frontmatter ends at the next line
    /// `---` (trailing whitespace allowed).
    Worker,
    /// A `.agent` file's, as the Python llm-do reads them (python-frontmatter): blank lines
    /// before the first fence are skipped, and a fence is a line of three or more dashes.
    Agent,
}

impl Fences {
    fn is_fence(self, line: &str) -> bool {
        let line = line.trim_end();
        match self {
            Fences::Worker => line == "---",
            Fences::Agent => line.len() >= 3 && line.bytes().all(|b| b == b'-'),
        }
    }
}

/// Splits `text` (a byte-order mark at its start is ignored) at the `fences`.
pub(crate) fn split(text: &str, fences: Fences) -> Result<Split<'_>, SplitError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    // The opening fence: where its line starts, and the line.
    let mut start = 0;
    let mut first = lines.next().unwrap_or("");
    let mut line_no = 1;
    if fences == Fences::Agent {
        while first.trim().is_empty() && start + first.len() < text.len() {
            start += first.len();
            line_no += 1;
            first = lines.next().unwrap_or("");
        }
    }
    let opening = if fences == Fences::Agent { first.trim_start() } else { first };
    if !fences.is_fence(opening) {
        return Err(SplitError {
            line: line_no,
            message: "the file does not start with YAML frontmatter",
            expected: "a first line `---`, the frontmatter, a line `---`, then the prompt",
        });
    }
    let opening_line = line_no;
    let yaml_start = start + first.len();
    let mut offset = yaml_start;
    for line in lines {
        line_no += 1;
        if fences.is_fence(line) {
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                yaml_line: opening_line + 1,
                closing_line: line_no,
                body: &text[offset + line.len()..],
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(SplitError {
        line: opening_line,
        message: "the frontmatter opened here is never closed",
        expected: "a line `---` after the frontmatter, before the prompt",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_frontmatter_and_body() {
        let s = split("---\nname: a\n---\nHello {input}\n", Fences::Worker).unwrap();
        assert_eq!(s.yaml, "name: a\n");
        assert_eq!((s.yaml_line, s.closing_line, s.body_line), (2, 3, 4));
        assert_eq!(s.body, "Hello {input}\n");
        let crlf = split("\u{feff}---\r\nname: a\r\n---\r\nHi", Fences::Worker).unwrap();
        assert_eq!((crlf.yaml, crlf.body), ("name: a\r\n", "Hi"));
        assert_eq!(split("---\n---", Fences::Worker).unwrap().body, "");
    }

    #[test]
    fn missing_fences_are_errors() {
        assert_eq!(
            split("Hello", Fences::Worker).unwrap_err().message,
            "the file does not start with YAML frontmatter"
        );
        assert_eq!(split("", Fences::Worker).unwrap_err().line, 1);
        assert!(
            split("---\nname: a\n", Fences::Worker).unwrap_err().message.contains("never closed")
        );
    }

    #[test]
    fn agent_files_take_python_frontmatter_fences() {
        let text = "\n  \n----\nname: a\n-----  \nHi\n";
        let s = split(text, Fences::Agent).unwrap();
        assert_eq!((s.yaml, s.body), ("name: a\n", "Hi\n"));
        assert_eq!((s.yaml_line, s.closing_line, s.body_line), (4, 5, 6));
        // A worker file keeps its documented fences: a first line `---`, closed by `---`.
        let err = split(text, Fences::Worker).unwrap_err();
        assert_eq!((err.line, err.message), (1, "the file does not start with YAML frontmatter"));
        let err = split("----\nname: a\n---\nHi\n", Fences::Worker).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(
            split("---\nname: a\n----\nHi\n", Fences::Worker)
                .unwrap_err()
                .message
                .contains("never closed")
        );
        // Dashes that do not make a whole line, or fewer than three, are no fence.
        let err = split("\n--\nname: a\n---\n", Fences::Agent).unwrap_err();
        assert_eq!((err.line, err.message), (2, "the file does not start with YAML frontmatter"));
        assert!(split("\n\n", Fences::Agent).is_err());
    }
}
