//! Model strings: `provider:name`, e.g. `openai:gpt-4o-mini` or `local:/models/x.gguf`.
//!
//! The provider is everything before the first `:` (lower-case letters, digits, `-`, `_`); the
//! rest is the model name within that provider and may itself contain colons or slashes.

use std::fmt;

/// Why a model string is not `provider:name`. `Display` gives the reason alone; callers put
/// the model string in front (`invalid model `gpt-4o`: expected …`).
///
/// ```
/// use llm_do_syntax::model::{split, ModelError};
/// assert_eq!(split("gpt-4o"), Err(ModelError::NoProvider));
/// assert_eq!(split("openai:").unwrap_err().to_string(), "the model name (after `:`) is empty");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// No `:` in the string.
    NoProvider,
    /// The provider is empty or has characters other than `[a-z0-9_-]`.
    BadProvider,
    /// Nothing (or only white space) after the `:`.
    EmptyName,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoProvider => "expected `provider:name`, e.g. `openai:gpt-4o-mini`",
            Self::BadProvider => {
                "the provider (before `:`) must be lower-case letters, digits, `-` or `_`"
            }
            Self::EmptyName => "the model name (after `:`) is empty",
        })
    }
}

impl std::error::Error for ModelError {}

/// Splits `provider:name` into its provider and name.
///
/// ```
/// use llm_do_syntax::model::split;
/// assert_eq!(split("ollama:llama3:8b").unwrap(), ("ollama", "llama3:8b"));
/// assert_eq!(split("local:/m/a.gguf").unwrap(), ("local", "/m/a.gguf"));
/// assert!(split("Open AI:x").is_err());
/// ```
pub fn split(model: &str) -> Result<(&str, &str), ModelError> {
    let Some((provider, name)) = model.split_once(':') else {
        return Err(ModelError::NoProvider);
    };
    let provider_ok = !provider.is_empty()
        && provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !provider_ok {
        return Err(ModelError::BadProvider);
    }
    if name.trim().is_empty() {
        return Err(ModelError::EmptyName);
    }
    Ok((provider, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_provider_and_name() {
        assert!(split("openai:gpt-4o-mini").is_ok());
        assert!(split("my_provider-2:x").is_ok());
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(split("gpt-4o-mini"), Err(ModelError::NoProvider));
        assert_eq!(split("OpenAI:gpt-4o"), Err(ModelError::BadProvider));
        assert_eq!(split(":gpt-4o"), Err(ModelError::BadProvider));
        assert_eq!(split("openai: "), Err(ModelError::EmptyName));
    }
}
