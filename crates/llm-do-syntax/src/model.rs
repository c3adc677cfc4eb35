//! Model strings: `provider:name`, e.g. `openai:gpt-4o-mini` or `local:/models/x.gguf`.
//!
//! The provider is everything before the first `:` (lower-case letters, digits, `-`, `_`); the
//! rest is the model name within that provider and may itself contain colons or slashes, but
//! no control character, line break or bidirectional override ([`crate::text::is_unsafe`]):
//! a model string is shown by `llm-do list`, in logs and in errors.

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
    /// A control character (a line break, a tab, an escape), or a bidirectional override,
    /// isolate or mark ([`crate::text::is_unsafe`]).
    UnsafeCharacter,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoProvider => "expected `provider:name`, e.g. `openai:gpt-4o-mini`",
            Self::BadProvider => {
                "the provider (before `:`) must be lower-case letters, digits, `-` or `_`"
            }
            Self::EmptyName => "the model name (after `:`) is empty",
            Self::UnsafeCharacter => {
                "a model string must not contain a control character (a line break, a tab, an \
                 escape) or a bidirectional override"
            }
        })
    }
}

impl std::error::Error for ModelError {}

/// Most characters of a refused model string that [`shown`] keeps.
pub const MAX_SHOWN_CHARS: usize = 80;

/// A model string as an error message shows it (the runtime's `InvalidModel`, the macros'
/// compile errors): on one line, with the characters a terminal acts on escaped
/// ([`crate::text::escape_controls_one_line`]), cut to [`MAX_SHOWN_CHARS`] characters with `…`
/// ([`crate::text::cut`]). A refused string may hold the line break or escape sequence it is
/// refused for, or be a whole file.
///
/// ```
/// use llm_do_syntax::model::shown;
/// assert_eq!(shown("openai:gpt\x1b[2J\n"), "openai:gpt\\x1b[2J\\n");
/// assert_eq!(shown(&"x".repeat(1_000)), format!("{}…", "x".repeat(80)));
/// ```
pub fn shown(model: &str) -> String {
    // Only the characters that can be shown are escaped (a long string is not copied whole).
    let head: String = model.chars().take(MAX_SHOWN_CHARS + 1).collect();
    crate::text::cut(&crate::text::escape_controls_one_line(&head), MAX_SHOWN_CHARS)
}

/// Splits `provider:name` into its provider and name.
///
/// ```
/// use llm_do_syntax::model::split;
/// assert_eq!(split("ollama:llama3:8b").unwrap(), ("ollama", "llama3:8b"));
/// assert_eq!(split("local:/m/a.gguf").unwrap(), ("local", "/m/a.gguf"));
/// assert!(split("Open AI:x").is_err());
/// ```
pub fn split(model: &str) -> Result<(&str, &str), ModelError> {
    if model.chars().any(crate::text::is_unsafe) {
        return Err(ModelError::UnsafeCharacter);
    }
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

    /// A model string that would put a line or an escape sequence on a terminal (`llm-do
    /// list` shows it): before, `openai:\x1b]0;pwned\x07gpt\n` was accepted.
    #[test]
    fn rejects_control_characters_and_bidi_overrides() {
        for model in [
            "openai:\x1b]0;pwned\x07gpt\n",
            "openai:gpt\n",
            "openai:gpt\r",
            "openai:g\tpt",
            "openai:gpt\u{9b}",
            "openai:gpt\u{202e}",
            "openai:gpt\u{2066}",
            "openai:gpt\u{200f}",
            "open\nai:gpt",
            "\u{202e}openai:gpt",
        ] {
            assert_eq!(split(model), Err(ModelError::UnsafeCharacter), "{model:?}");
        }
        assert!(split("openai:gpt\n").unwrap_err().to_string().contains("control character"));
        assert_eq!(split("local:/m/é — x.gguf").unwrap(), ("local", "/m/é — x.gguf"));
    }
}
