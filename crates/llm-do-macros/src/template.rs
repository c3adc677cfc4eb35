//! Compile-time check of a worker's prompt template: the syntax is
//! [`llm_do_syntax::template`]'s (the runtime parses with the same code, so a template the
//! macro accepts cannot fail at run time); the macro additionally checks that every
//! placeholder names a parameter.

/// The placeholder names of `source`, in order of appearance (repeats included), or what is
/// malformed.
fn placeholders(source: &str) -> Result<Vec<String>, String> {
    llm_do_syntax::template::placeholders(source)
        .map(|found| found.into_iter().map(|(name, _)| name).collect())
        .map_err(|e| e.to_string())
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
