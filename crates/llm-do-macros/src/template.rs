//! Compile-time check of a worker's prompt template.
//!
//! Mirrors `llm_do_core::prompt::Template::parse` (same syntax, same messages as its
//! `TemplateError`; a proc-macro crate cannot use the runtime's parser without depending on the
//! whole core crate at expansion time, so this small scanner is kept in step by the test
//! `agrees_with_the_runtime_parser`): `{param}` is a
//! placeholder, `{{` and `}}` are literal braces, and a placeholder is an identifier (surrounding
//! spaces allowed). The macro additionally checks that every placeholder names a parameter, so
//! that the runtime parse of a macro-made worker cannot fail.

/// The placeholder names of `source`, in order of appearance (repeats included), or what is
/// malformed.
pub(crate) fn placeholders(source: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '}' if chars.peek().map(|&(_, next)| next) == Some(c) => {
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
                    return Err(format!(
                        "unclosed `{{` at byte {i}; write `{{{{` for a literal brace"
                    ));
                }
                let name = name.trim();
                if !is_identifier(name) {
                    return Err(format!(
                        "`{{{name}}}` at byte {i} is not a placeholder: expected a parameter name \
                         such as `{{ticket}}`; write `{{{{` for a literal brace"
                    ));
                }
                names.push(name.to_owned());
            }
            '}' => {
                return Err(format!(
                    "unmatched `}}` at byte {i}; write `}}}}` for a literal brace"
                ));
            }
            _ => {}
        }
    }
    Ok(names)
}

/// The identifier rule of the runtime's template parser.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Checks `source` against the parameter names a worker has (its ctx parameter excluded).
/// Returns one message per problem: the malformation, or each unknown placeholder.
pub(crate) fn check(source: &str, params: &[String]) -> Vec<String> {
    let names = match placeholders(source) {
        Ok(names) => names,
        Err(message) => return vec![format!("malformed prompt template: {message}")],
    };
    let valid = if params.is_empty() {
        "this worker has no parameters besides its ctx".to_owned()
    } else {
        let list: Vec<String> = params.iter().map(|p| format!("`{{{p}}}`")).collect();
        format!("the valid placeholders are {}", list.join(", "))
    };
    let mut unknown: Vec<&String> = Vec::new();
    for name in &names {
        if !params.contains(name) && !unknown.contains(&name) {
            unknown.push(name);
        }
    }
    unknown
        .into_iter()
        .map(|n| format!("the prompt uses `{{{n}}}`, which is not a parameter; {valid}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn finds_placeholders_and_escapes() {
        assert_eq!(placeholders("Classify: {ticket}").unwrap(), ["ticket"]);
        assert_eq!(placeholders("{{\"k\": { v }}}").unwrap(), ["v"]);
        assert_eq!(placeholders("{a} {b} {a} {{x}}").unwrap(), ["a", "b", "a"]);
        assert!(placeholders("no placeholders").unwrap().is_empty());
    }

    #[test]
    fn malformed_templates() {
        assert_eq!(
            placeholders("Hi {name").unwrap_err(),
            "unclosed `{` at byte 3; write `{{` for a literal brace"
        );
        assert_eq!(
            placeholders("a } b").unwrap_err(),
            "unmatched `}` at byte 2; write `}}` for a literal brace"
        );
        assert!(placeholders("{}").unwrap_err().starts_with("`{}` at byte 0 is not a placeholder"));
        assert!(placeholders("x {two words}").unwrap_err().starts_with("`{two words}` at byte 2"));
        assert!(placeholders("{1abc}").is_err());
    }

    #[test]
    fn agrees_with_the_runtime_parser() {
        use llm_do_core::prompt::Template;
        let templates = [
            "Classify: {ticket}",
            "{{\"k\": { v }}}",
            "{a} {b} {a} {{x}}",
            "",
            "}}{{",
            "Hi {name",
            "a } b",
            "{}",
            "x {two words}",
            "{1abc}",
            "é {x",
            "{ _under_score }",
            "{\"label\": {ticket}",
            "{{ {ok} }} }",
        ];
        for source in templates {
            let runtime = Template::parse(source)
                .map(|t| t.placeholders().map(str::to_owned).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            assert_eq!(placeholders(source), runtime, "{source:?}");
        }
    }

    #[test]
    fn unknown_placeholders_list_the_valid_ones() {
        assert!(check("{ticket}", &params(&["ticket"])).is_empty());
        assert_eq!(
            check("{tickt} {tickt} {who}", &params(&["ticket", "lang"])),
            [
                "the prompt uses `{tickt}`, which is not a parameter; the valid placeholders \
                 are `{ticket}`, `{lang}`",
                "the prompt uses `{who}`, which is not a parameter; the valid placeholders \
                 are `{ticket}`, `{lang}`",
            ]
        );
        assert_eq!(
            check("{x}", &[]),
            ["the prompt uses `{x}`, which is not a parameter; this worker has no parameters \
              besides its ctx"]
        );
        assert_eq!(
            check("{", &[]),
            ["malformed prompt template: unclosed `{` at byte 0; write `{{` for a literal brace"]
        );
    }
}
