//! Compile-time check of `model = "provider:name"`, by the rule the runtime parses with
//! ([`llm_do_syntax::model`]).

use llm_do_syntax::model::{ModelError, split};

/// Checks the shape of a model string. Returns what is wrong.
pub(crate) fn check(model: &str) -> Result<(), String> {
    split(model).map(drop).map_err(|e| {
        let example = if e == ModelError::BadProvider { ", e.g. `openai:gpt-4o-mini`" } else { "" };
        // Escaped and cut as the runtime shows it: the string may hold the line break or
        // escape sequence it is refused for.
        format!("invalid model `{}`: {e}{example}", llm_do_syntax::model::shown(model))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_model() {
        assert!(check("ollama:llama3:8b").is_ok());
        assert!(check("gpt-4o-mini").unwrap_err().contains("expected `provider:name`"));
        assert_eq!(
            check("OpenAI:gpt-4o").unwrap_err(),
            "invalid model `OpenAI:gpt-4o`: the provider (before `:`) must be lower-case letters, \
             digits, `-` or `_`, e.g. `openai:gpt-4o-mini`"
        );
        assert!(check("openai: ").unwrap_err().contains("is empty"));
    }

    /// A refused string is shown as the runtime shows it (`llm_do_syntax::model::shown`): on
    /// one line, escaped, cut. Before, the compile error carried it raw.
    #[test]
    fn refused_strings_are_shown_escaped_and_cut() {
        assert_eq!(
            check("openai:gpt\x1b]0;pwned\x07\n\u{202e}x").unwrap_err(),
            "invalid model `openai:gpt\\x1b]0;pwned\\x07\\n\\u{202e}x`: a model string must not \
             contain a control character (a line break, a tab, an escape) or a bidirectional \
             override"
        );
        let long = check(&format!("gpt-{}", "x".repeat(10_000))).unwrap_err();
        assert!(
            long.starts_with(&format!("invalid model `gpt-{}…`: expected", "x".repeat(76))),
            "{long}"
        );
    }
}
