//! Model strings: `provider:name`, e.g. `openai:gpt-4o-mini` or `local:/models/x.gguf`.
//! The syntax is [`llm_do_syntax::model`]'s, which the `#[worker]` macro checks too.

use crate::error::{Error, Result};
use std::fmt;

/// A parsed model string.
///
/// The provider is everything before the first `:`; the rest is the model name within that
/// provider and may itself contain colons or slashes.
///
/// ```
/// use llm_do_core::ModelRef;
/// let m = ModelRef::parse("openai:gpt-4o-mini").unwrap();
/// assert_eq!((m.provider(), m.name()), ("openai", "gpt-4o-mini"));
/// assert!(ModelRef::parse("gpt-4o-mini").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    provider: String,
    name: String,
}

impl ModelRef {
    /// Parses `provider:name`. The provider is lower-case letters, digits, `-` and `_`.
    ///
    /// ```
    /// # use llm_do_core::ModelRef;
    /// assert_eq!(ModelRef::parse("local:/m/a.gguf").unwrap().name(), "/m/a.gguf");
    /// assert!(ModelRef::parse("openai:").is_err());
    /// assert!(ModelRef::parse("Open AI:x").is_err());
    /// ```
    pub fn parse(model: &str) -> Result<Self> {
        let (provider, name) = llm_do_syntax::model::split(model)
            .map_err(|e| Error::InvalidModel { model: model.to_owned(), reason: e.to_string() })?;
        Ok(Self { provider: provider.to_owned(), name: name.to_owned() })
    }

    /// The provider name.
    ///
    /// ```
    /// # use llm_do_core::ModelRef;
    /// assert_eq!(ModelRef::parse("ollama:llama3").unwrap().provider(), "ollama");
    /// ```
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The model name within its provider.
    ///
    /// ```
    /// # use llm_do_core::ModelRef;
    /// assert_eq!(ModelRef::parse("ollama:llama3:8b").unwrap().name(), "llama3:8b");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.name)
    }
}

/// Serialised as its `provider:name` string.
///
/// ```
/// # use llm_do_core::ModelRef;
/// let m = ModelRef::parse("openai:gpt-4o").unwrap();
/// assert_eq!(serde_json::to_value(&m).unwrap(), "openai:gpt-4o");
/// assert_eq!(serde_json::from_value::<ModelRef>("openai:gpt-4o".into()).unwrap(), m);
/// assert!(serde_json::from_value::<ModelRef>("gpt-4o".into()).is_err());
/// ```
impl serde::Serialize for ModelRef {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ModelRef {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        ModelRef::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused model string is shown on one line, its controls and bidi overrides escaped
    /// (core's one rule, `controls`), and cut: before, `Display` gave it raw, so an error
    /// printed on a terminal or written to a log line carried the escape sequences and line
    /// breaks it was refused for, and a 1 MB string whole.
    #[test]
    fn invalid_model_errors_show_the_string_escaped_on_one_line_and_cut() {
        let e = ModelRef::parse("openai:\x1b]0;pwned\x07gpt\n\u{202e}x").unwrap_err();
        let Error::InvalidModel { model, .. } = &e else { panic!("{e:?}") };
        assert_eq!(model, "openai:\x1b]0;pwned\x07gpt\n\u{202e}x", "the field keeps the string");
        let shown = e.to_string();
        assert!(
            shown.starts_with("invalid model string `openai:\\x1b]0;pwned\\x07gpt\\n\\u{202e}x`: "),
            "{shown}"
        );
        assert!(!shown.chars().any(crate::controls::is_unsafe), "{shown:?}");

        let long = format!("gpt-{}", "x".repeat(1_000_000));
        let e = ModelRef::parse(&long).unwrap_err();
        assert!(matches!(e, Error::InvalidModel { .. }), "{e:?}");
        let shown = e.to_string();
        assert!(shown.len() < 400, "{} bytes", shown.len());
        assert!(shown.starts_with("invalid model string `gpt-xxx"), "{shown}");
        assert!(shown.contains("…`: expected `provider:name`"), "{shown}");
    }
}
