//! Default providers: what a program gets when it configures nothing.
//!
//! [`RuntimeBuilderExt::with_default_providers`] (or the function [`default_providers`])
//! registers, on a [`RuntimeBuilder`]:
//!
//! - `local` — the embedded local model provider, when the build includes it (the `local`
//!   feature of `llm-do`, or of `llm-do-providers` enabled by anything in the build;
//!   `local:smollm2`, `local:/path/to/model.gguf`; see [`providers::local`](crate::providers));
//! - `openai` — the OpenAI-compatible provider, when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is
//!   set. When that configuration is wrong (a base URL that is not an `http(s)` URL, a key
//!   with a line break), or neither is set, workers on `openai:…` fail with
//!   [`Error::ProviderUnavailable`](crate::Error::ProviderUnavailable) saying what to fix
//!   (never showing the key).
//!
//! and chooses the model of workers that name none:
//!
//! | environment | default model |
//! |---|---|
//! | `LLM_DO_MODEL` set | that model (the runtime reads it) |
//! | an API key (`OPENAI_API_KEY`) set | none: workers name their model, or set `LLM_DO_MODEL` |
//! | neither, local model built in | `local:smollm2`, or `local:$LLM_DO_LOCAL_MODEL` when set |
//! | neither, no local model | none |
//!
//! When it picks the embedded model it says so once per process on stderr, so that nobody
//! mistakes a 135M-parameter demo model for the model they meant to use.
//!
//! ```
//! use llm_do::prelude::*;
//! let rt = Runtime::builder().with_default_providers().build();
//! # let _ = rt;
//! ```

use crate::RuntimeBuilder;
use std::sync::Once;

/// Name of the environment variable that may point the default local model at a GGUF file (or
/// name another embedded model), e.g. `LLM_DO_LOCAL_MODEL=/models/qwen2.5-0.5b.gguf`.
pub const LOCAL_MODEL_ENV: &str = "LLM_DO_LOCAL_MODEL";

/// The embedded default model.
pub const EMBEDDED_DEFAULT_MODEL: &str = "local:smollm2";

/// Adds [`with_default_providers`](RuntimeBuilderExt::with_default_providers) to
/// [`RuntimeBuilder`].
pub trait RuntimeBuilderExt {
    /// Registers the default providers and picks the default model (see the
    /// [module documentation](self)).
    ///
    /// ```
    /// use llm_do::prelude::*;
    /// let rt = Runtime::builder().max_depth(3).with_default_providers().build();
    /// # let _ = rt;
    /// ```
    fn with_default_providers(self) -> RuntimeBuilder;
}

impl RuntimeBuilderExt for RuntimeBuilder {
    fn with_default_providers(self) -> RuntimeBuilder {
        default_providers(self)
    }
}

/// The function form of [`RuntimeBuilderExt::with_default_providers`].
///
/// ```
/// let rt = llm_do::setup::default_providers(llm_do::Runtime::builder()).build();
/// # let _ = rt;
/// ```
pub fn default_providers(builder: RuntimeBuilder) -> RuntimeBuilder {
    let local = llm_do_providers::local::default_provider();
    let plan = plan(&|name| std::env::var(name).ok(), local.is_some());
    let mut builder = builder;
    if let Some(local) = local {
        builder = builder.provider("local", local);
    }
    if plan.openai {
        match llm_do_providers::openai::OpenAiProvider::from_env() {
            Ok(provider) => builder = builder.provider("openai", provider),
            // Kept, so that a worker on `openai:…` fails with what is wrong with the
            // configuration rather than "unknown provider".
            Err(e) => builder = builder.unavailable_provider("openai", openai_config_problem(&e)),
        }
    } else {
        builder = builder.unavailable_provider(
            "openai",
            "OPENAI_API_KEY is not set (set it, and OPENAI_BASE_URL for a server other than \
             OpenAI's)",
        );
    }
    if let Some(model) = plan.default_model {
        once_on_stderr(
            &LOCAL_NOTICE,
            &format!(
                "llm-do: no model configured (LLM_DO_MODEL is unset and there is no API key); \
                 workers without a model run on the embedded local model {model} — a tiny model \
                 for demos and tests, not for quality"
            ),
        );
        builder = builder.default_model(model);
    }
    builder
}

static LOCAL_NOTICE: Once = Once::new();

/// What is wrong with the `openai` provider's environment, naming the variable to fix and
/// never showing the key.
///
/// ```
/// use llm_do::providers::openai::{ConfigError, OpenAiConfig, OpenAiProvider};
/// let e = OpenAiProvider::try_new(OpenAiConfig::new().base_url("ftp://x")).unwrap_err();
/// assert!(llm_do::setup::openai_config_problem(&e).starts_with("OPENAI_BASE_URL"));
/// let e = OpenAiProvider::try_new(OpenAiConfig::new().api_key("sk-a\nSECRET")).unwrap_err();
/// let m = llm_do::setup::openai_config_problem(&e);
/// assert!(m.starts_with("OPENAI_API_KEY") && !m.contains("SECRET"));
/// ```
pub fn openai_config_problem(e: &llm_do_providers::openai::ConfigError) -> String {
    use llm_do_providers::openai::ConfigError;
    match e {
        ConfigError::InvalidBaseUrl { url, reason } => {
            format!("OPENAI_BASE_URL `{url}` is not a usable base URL: {reason}")
        }
        ConfigError::InvalidApiKey => "OPENAI_API_KEY cannot be sent in an HTTP header: it \
             contains a line break, a control character or a non-ASCII character (the key is \
             not shown)"
            .to_owned(),
        other => other.to_string(),
    }
}

fn once_on_stderr(once: &Once, message: &str) {
    once.call_once(|| eprintln!("{message}"));
}

/// What [`default_providers`] does, decided from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    openai: bool,
    default_model: Option<String>,
}

fn plan(env: &dyn Fn(&str) -> Option<String>, local: bool) -> Plan {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let api_key = set("OPENAI_API_KEY").is_some();
    let base_url = set("OPENAI_BASE_URL").is_some();
    let default_model = if set(crate::runtime::MODEL_ENV).is_some() || api_key || !local {
        None
    } else {
        Some(match set(LOCAL_MODEL_ENV) {
            Some(m) => format!("local:{}", m.trim()),
            None => EMBEDDED_DEFAULT_MODEL.to_owned(),
        })
    };
    Plan { openai: api_key || base_url, default_model }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn nothing_configured_means_the_embedded_model() {
        let p = plan(&env(&[]), true);
        assert_eq!(p, Plan { openai: false, default_model: Some("local:smollm2".into()) });
        let p = plan(&env(&[("LLM_DO_LOCAL_MODEL", "/m/q.gguf")]), true);
        assert_eq!(p.default_model.as_deref(), Some("local:/m/q.gguf"));
    }

    #[test]
    fn an_explicit_model_or_an_api_key_wins() {
        assert_eq!(plan(&env(&[("LLM_DO_MODEL", "openai:gpt-4o")]), true).default_model, None);
        let p = plan(&env(&[("OPENAI_API_KEY", "sk-x")]), true);
        assert_eq!(p, Plan { openai: true, default_model: None });
        assert_eq!(
            plan(&env(&[("OPENAI_API_KEY", " ")]), true).default_model.as_deref(),
            Some("local:smollm2")
        );
    }

    #[test]
    fn without_the_local_feature_there_is_no_default() {
        assert_eq!(plan(&env(&[]), false), Plan { openai: false, default_model: None });
    }
}
