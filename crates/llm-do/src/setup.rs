//! Default providers: what a program gets when it configures nothing. The one place where
//! llm-do reads the environment for its configuration (`llm-do-core` never does).
//!
//! [`builder`] (the same as `Runtime::builder().with_default_providers()`, or the function
//! [`default_providers`]) registers, on a [`RuntimeBuilder`]:
//!
//! - `local` — the embedded local model provider, when the build includes it (feature `local`;
//!   `local:smollm2`, `local:/path/to/model.gguf`; see [`providers`](crate::providers));
//! - `openai` — the OpenAI-compatible provider (feature `openai`, the default), when
//!   `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set. When that configuration is wrong (a base
//!   URL that is not an `http(s)` URL, a key with a line break), or neither is set, or the
//!   build lacks the feature, workers on `openai:…` fail with
//!   [`Error::ProviderUnavailable`](crate::Error::ProviderUnavailable) saying what to fix
//!   (never showing the key).
//!
//! and chooses the model of workers that name none:
//!
//! | environment | default model |
//! |---|---|
//! | `LLM_DO_MODEL` set | that model ([`RuntimeBuilder::env_model`]: it wins over any `default_model`) |
//! | an API key (`OPENAI_API_KEY`) set | none: workers name their model, or set `LLM_DO_MODEL` |
//! | neither, local model built in | `local:smollm2`, or `local:$LLM_DO_LOCAL_MODEL` when set |
//! | neither, no local model | none |
//!
//! When it picks the embedded model it says so once per process on stderr, so that nobody
//! mistakes a 135M-parameter demo model for the model they meant to use (a failure to write
//! stderr is ignored). A program that may still set another default model (a flag, a
//! project's setting) uses [`quiet_providers`] instead, and [`announce_embedded_model`] once
//! the model is settled, so that the notice is said only when it is true.
//!
//! ```
//! use llm_do::prelude::*;
//! use llm_do::WorkerSpecBuilder;
//! # fn main() -> llm_do::Result<()> {
//! let w = WorkerSpecBuilder::new("w").prompt("Hi").model("openai:gpt-4o-mini").build()?;
//! // `Runtime::builder()` alone knows no provider...
//! let bare = Runtime::builder().register(w.clone()).try_build();
//! assert!(matches!(bare, Err(Error::UnknownProvider { .. })));
//! // ...with the default providers, `openai` is set up from the environment, or unavailable
//! // with a reason (`OPENAI_API_KEY is not set ...`): never unknown.
//! let set_up = Runtime::builder().with_default_providers().register(w).try_build();
//! assert!(!matches!(set_up, Err(Error::UnknownProvider { .. })));
//! # Ok(())
//! # }
//! ```

use crate::{Runtime, RuntimeBuilder};
use std::sync::Once;

/// Name of the environment variable giving the model of workers that name none.
pub const MODEL_ENV: &str = "LLM_DO_MODEL";

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
    /// assert_eq!(rt.limits().max_depth, 3); // the rest of the configuration stays
    /// assert!(rt.registry().is_empty()); // providers only: no workers or tools
    /// ```
    fn with_default_providers(self) -> RuntimeBuilder;
}

impl RuntimeBuilderExt for RuntimeBuilder {
    fn with_default_providers(self) -> RuntimeBuilder {
        default_providers(self)
    }
}

/// `Runtime::builder()` with the default providers registered and the default model chosen
/// from the environment (see the [module documentation](self)): what a program that does
/// not configure its providers itself starts from.
///
/// ```
/// # fn main() -> llm_do::Result<()> {
/// let rt = llm_do::builder().max_depth(3).build();
/// assert!(rt.registry().is_empty());
/// # Ok(())
/// # }
/// ```
pub fn builder() -> RuntimeBuilder {
    default_providers(Runtime::builder())
}

/// The function form of [`RuntimeBuilderExt::with_default_providers`].
///
/// ```
/// use llm_do::prelude::*;
/// let by_function = llm_do::setup::default_providers(Runtime::builder());
/// let by_method = Runtime::builder().with_default_providers();
/// assert_eq!(by_function.chosen_model(), by_method.chosen_model()); // the same default model
/// ```
pub fn default_providers(builder: RuntimeBuilder) -> RuntimeBuilder {
    let builder = quiet_providers(builder);
    announce_embedded_model(&builder);
    builder
}

/// [`default_providers`] without its notice on stderr: for a program that may still change
/// the default model (a command-line flag, a project's setting) and says which model is in
/// effect once it is settled, with [`announce_embedded_model`].
///
/// ```
/// use llm_do::prelude::*;
/// let quiet = llm_do::setup::quiet_providers(Runtime::builder());
/// let loud = Runtime::builder().with_default_providers();
/// assert_eq!(quiet.chosen_model(), loud.chosen_model());
/// ```
pub fn quiet_providers(builder: RuntimeBuilder) -> RuntimeBuilder {
    let plan = plan(&env_text, cfg!(feature = "local"));
    let mut builder = builder.env_model(plan.env_model.clone());
    #[cfg(feature = "local")]
    {
        // Small models loop on calls they already made: the default local provider steers
        // them away (an explicit setting of the provider, not hidden in it).
        builder =
            builder.provider("local", llm_do_local::LocalModel::new().avoid_repeated_calls(true));
    }
    builder = openai(builder, plan.openai);
    if let Some(model) = plan.default_model {
        builder = builder.default_model(model);
    }
    builder
}

/// The notice that workers without a model run on the embedded model, when that is still the
/// model `builder` gives them: the environment configures no model ([`default_providers`]
/// picked the embedded one) and nothing set another default since. `None` otherwise.
///
/// ```
/// use llm_do::prelude::*;
/// let chosen = llm_do::setup::quiet_providers(Runtime::builder()).default_model("openai:gpt-4o-mini");
/// assert_eq!(llm_do::setup::embedded_model_notice(&chosen), None);
/// ```
pub fn embedded_model_notice(builder: &RuntimeBuilder) -> Option<String> {
    let plan = plan(&env_text, cfg!(feature = "local"));
    let model = plan.default_model.filter(|m| builder.chosen_model() == Some(m.as_str()))?;
    Some(format!(
        "llm-do: no model configured (LLM_DO_MODEL is unset and there is no API key); workers \
         without a model run on the embedded local model {model} — a tiny model for demos and \
         tests, not for quality"
    ))
}

/// Says [`embedded_model_notice`] on stderr, once per process (a failure to write, such as a
/// closed pipe, is ignored: never a panic); `true` when it applies to `builder`.
///
/// ```
/// use llm_do::prelude::*;
/// let chosen = llm_do::setup::quiet_providers(Runtime::builder()).default_model("openai:gpt-4o-mini");
/// assert!(!llm_do::setup::announce_embedded_model(&chosen)); // nothing said
/// ```
pub fn announce_embedded_model(builder: &RuntimeBuilder) -> bool {
    let Some(notice) = embedded_model_notice(builder) else { return false };
    once_on_stderr(&LOCAL_NOTICE, &notice);
    true
}

static LOCAL_NOTICE: Once = Once::new();

/// Registers the `openai` provider from the environment, or says why it is unavailable.
#[cfg(feature = "openai")]
fn openai(builder: RuntimeBuilder, configured: bool) -> RuntimeBuilder {
    if !configured {
        return builder.unavailable_provider("openai", NO_OPENAI_KEY);
    }
    match llm_do_openai::OpenAiProvider::from_env() {
        Ok(provider) => builder.provider("openai", provider),
        // Kept, so that a worker on `openai:…` fails with what is wrong with the
        // configuration rather than "unknown provider".
        Err(e) => builder.unavailable_provider("openai", openai_config_problem(&e)),
    }
}

/// Without the `openai` feature, workers on `openai:…` are told how to get it.
#[cfg(not(feature = "openai"))]
fn openai(builder: RuntimeBuilder, _configured: bool) -> RuntimeBuilder {
    builder.unavailable_provider(
        "openai",
        "this program was built without llm-do's `openai` feature (enable it in Cargo.toml)",
    )
}

/// Why the `openai` provider is not usable when the environment does not configure it.
#[cfg(feature = "openai")]
const NO_OPENAI_KEY: &str =
    "OPENAI_API_KEY is not set (set it, and OPENAI_BASE_URL for a server other than OpenAI's)";

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
/// let m = llm_do::setup::openai_config_problem(&ConfigError::MissingApiKey);
/// assert!(m.starts_with("OPENAI_API_KEY is not set (set it, and OPENAI_BASE_URL"));
/// ```
#[cfg(feature = "openai")]
pub fn openai_config_problem(e: &llm_do_openai::ConfigError) -> String {
    use llm_do_openai::ConfigError;
    match e {
        ConfigError::InvalidBaseUrl { url, reason } => {
            format!("OPENAI_BASE_URL `{url}` is not a usable base URL: {reason}")
        }
        ConfigError::MissingApiKey => NO_OPENAI_KEY.to_owned(),
        ConfigError::InvalidApiKey => "OPENAI_API_KEY cannot be sent in an HTTP header: it \
             contains a line break, a control character or a non-ASCII character (the key is \
             not shown)"
            .to_owned(),
        other => other.to_string(),
    }
}

/// Writes `message` on stderr once per `once`, ignoring a failure to write (`eprintln!` would
/// panic on a closed pipe: `llm-do check DIR 2>&1 | true`).
fn once_on_stderr(once: &Once, message: &str) {
    once.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    });
}

/// What [`default_providers`] does, decided from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    openai: bool,
    env_model: Option<String>,
    default_model: Option<String>,
}

/// A variable of the environment as text: a value that is not UTF-8 counts as set (its
/// characters that are not replaced by `U+FFFD`), so that it is reported where it is used
/// rather than read as unset — an unreadable `OPENAI_BASE_URL` must not mean OpenAI's server,
/// nor an unreadable `LLM_DO_MODEL` the embedded model.
fn env_text(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

fn plan(env: &dyn Fn(&str) -> Option<String>, local: bool) -> Plan {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let api_key = set("OPENAI_API_KEY").is_some();
    let base_url = set("OPENAI_BASE_URL").is_some();
    let env_model = set(MODEL_ENV).map(|m| m.trim().to_owned());
    let default_model = if env_model.is_some() || api_key || !local {
        None
    } else {
        Some(match set(LOCAL_MODEL_ENV) {
            Some(m) => format!("local:{}", m.trim()),
            None => EMBEDDED_DEFAULT_MODEL.to_owned(),
        })
    };
    Plan { openai: api_key || base_url, env_model, default_model }
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
        assert_eq!(
            p,
            Plan { openai: false, env_model: None, default_model: Some("local:smollm2".into()) }
        );
        let p = plan(&env(&[("LLM_DO_LOCAL_MODEL", "/m/q.gguf")]), true);
        assert_eq!(p.default_model.as_deref(), Some("local:/m/q.gguf"));
    }

    #[test]
    fn an_explicit_model_or_an_api_key_wins() {
        let p = plan(&env(&[("LLM_DO_MODEL", " openai:gpt-4o ")]), true);
        assert_eq!((p.env_model.as_deref(), p.default_model), (Some("openai:gpt-4o"), None));
        let p = plan(&env(&[("OPENAI_API_KEY", "sk-x")]), true);
        assert_eq!(p, Plan { openai: true, env_model: None, default_model: None });
        assert_eq!(
            plan(&env(&[("OPENAI_API_KEY", " ")]), true).default_model.as_deref(),
            Some("local:smollm2")
        );
    }

    #[test]
    fn without_the_local_feature_there_is_no_default() {
        assert_eq!(
            plan(&env(&[]), false),
            Plan { openai: false, env_model: None, default_model: None }
        );
        assert_eq!(plan(&env(&[("LLM_DO_MODEL", "  ")]), false).env_model, None);
    }
}
