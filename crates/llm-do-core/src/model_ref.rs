//! Model strings: `provider:name`, e.g. `openai:gpt-4o-mini` or `local:/models/x.gguf`.

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
        let invalid = |reason: &str| Error::InvalidModel {
            model: model.to_owned(),
            reason: reason.to_owned(),
        };
        let Some((provider, name)) = model.split_once(':') else {
            return Err(invalid("expected `provider:name`, e.g. `openai:gpt-4o-mini`"));
        };
        if provider.is_empty()
            || !provider
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(invalid(
                "the provider (before `:`) must be lower-case letters, digits, `-` or `_`",
            ));
        }
        if name.trim().is_empty() {
            return Err(invalid("the model name (after `:`) is empty"));
        }
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
