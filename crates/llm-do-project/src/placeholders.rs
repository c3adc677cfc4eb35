//! Locating `{param}` placeholders in a prompt body, with the same syntax as
//! [`llm_do_core::prompt::Template`] (`{{` and `}}` are literal braces), so that each
//! placeholder and each syntax error can be reported at its line and column.

/// A placeholder and the byte offset of its `{`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    pub(crate) name: String,
    pub(crate) offset: usize,
}

/// A template syntax error: byte offset, problem, expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) offset: usize,
    pub(crate) message: String,
    pub(crate) expected: &'static str,
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// The placeholders of `body`, in order, or its first syntax error.
pub(crate) fn scan(body: &str) -> Result<Vec<Placeholder>, TemplateError> {
    let mut found = Vec::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '}' if chars.peek().map(|&(_, n)| n) == Some(c) => {
                chars.next();
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(TemplateError {
                        offset: i,
                        message: "unclosed `{` in the prompt".into(),
                        expected: "`{name}` for a placeholder or `{{` for a literal brace",
                    });
                }
                let name = name.trim();
                if !is_identifier(name) {
                    return Err(TemplateError {
                        offset: i,
                        message: format!("`{{{name}}}` is not a placeholder"),
                        expected: "a parameter name such as `{path}`, or `{{` for a literal brace",
                    });
                }
                found.push(Placeholder { name: name.to_owned(), offset: i });
            }
            '}' => {
                return Err(TemplateError {
                    offset: i,
                    message: "unmatched `}` in the prompt".into(),
                    expected: "`}}` for a literal brace",
                });
            }
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders_and_errors_with_offsets() {
        let p = scan("Read {path}, then {{literal}} and { n }.").unwrap();
        let names: Vec<_> = p.iter().map(|p| (p.name.as_str(), p.offset)).collect();
        assert_eq!(names, [("path", 5), ("n", 34)]);
        assert_eq!(scan("a } b").unwrap_err().offset, 2);
        assert_eq!(scan("é {x").unwrap_err().offset, 3);
        assert!(scan("{1x}").unwrap_err().message.contains("not a placeholder"));
    }
}
