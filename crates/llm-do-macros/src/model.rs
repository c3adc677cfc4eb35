//! Compile-time check of `model = "provider:name"`, by the rule the runtime parses with
//! ([`llm_do_syntax::model`]).

use llm_do_syntax::model::{ModelError, split};

/// Checks the shape of a model string. Returns what is wrong.
pub(crate) fn check(model: &str) -> Result<(), String> {
    split(model).map(drop).map_err(|e| {
        let example = if e == ModelError::BadProvider { ", e.g. `openai:gpt-4o-mini`" } else { "" };
        format!("invalid model `{model}`: {e}{example}")
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
}
