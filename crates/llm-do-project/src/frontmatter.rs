//! Splitting a worker file into its YAML frontmatter and its markdown body.
//!
//! A worker file starts with a line `---`, then the frontmatter, then another line `---`;
//! everything after that line is the body (the prompt).

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

fn is_fence(line: &str) -> bool {
    line.trim_end() == "---"
}

/// Splits `text` (a byte-order mark at its start is ignored).
pub(crate) fn split(text: &str) -> Result<Split<'_>, SplitError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if !is_fence(first) {
        return Err(SplitError {
            line: 1,
            message: "the file does not start with YAML frontmatter",
            expected: "a first line `---`, the frontmatter, a line `---`, then the prompt",
        });
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        if is_fence(line) {
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                yaml_line: 2,
                closing_line: line_no,
                body: &text[offset + line.len()..],
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(SplitError {
        line: 1,
        message: "the frontmatter opened here is never closed",
        expected: "a line `---` after the frontmatter, before the prompt",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_frontmatter_and_body() {
        let s = split("---\nname: a\n---\nHello {input}\n").unwrap();
        assert_eq!(s.yaml, "name: a\n");
        assert_eq!((s.yaml_line, s.closing_line, s.body_line), (2, 3, 4));
        assert_eq!(s.body, "Hello {input}\n");
        let crlf = split("\u{feff}---\r\nname: a\r\n---\r\nHi").unwrap();
        assert_eq!((crlf.yaml, crlf.body), ("name: a\r\n", "Hi"));
        assert_eq!(split("---\n---").unwrap().body, "");
    }

    #[test]
    fn missing_fences_are_errors() {
        assert_eq!(
            split("Hello").unwrap_err().message,
            "the file does not start with YAML frontmatter"
        );
        assert_eq!(split("").unwrap_err().line, 1);
        assert!(split("---\nname: a\n").unwrap_err().message.contains("never closed"));
    }
}
