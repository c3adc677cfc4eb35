//! Which model a command serves: a model string (`local:smollm2`, `openai:gpt-4o-mini`)
//! resolved to a provider.
//!
//! | provider | backend |
//! |---|---|
//! | `local` | the embedded local model ([`llm_do::providers::local`], feature `local`) |
//! | `openai` | the OpenAI-compatible provider, configured from `OPENAI_API_KEY` and `OPENAI_BASE_URL` |

use llm_do::{Model, ModelRef, Runtime};
use llm_do_project::ProviderSettings;
use std::sync::Arc;

/// A model ready to serve: the backend, the name sent to it, and its `provider:name` label.
#[derive(Clone)]
pub struct Served {
    model: Arc<dyn Model>,
    label: String,
    name: String,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served").field("label", &self.label).finish_non_exhaustive()
    }
}

impl Served {
    /// Serves `model` under `label` (`provider:name`; the name after the first `:` is what the
    /// model receives as its model name).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use llm_do::testing::{Reply, ScriptedModel};
    /// let s = llm_do_cli::models::Served::new(Arc::new(ScriptedModel::queue([Reply::text("hi")])), "test:echo");
    /// assert_eq!((s.label(), s.name()), ("test:echo", "echo"));
    /// ```
    pub fn new(model: Arc<dyn Model>, label: impl Into<String>) -> Self {
        let label = label.into();
        let name = label.split_once(':').map_or(label.as_str(), |(_, n)| n).to_owned();
        Self { model, label, name }
    }

    /// The backend.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// `provider:name`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The model name within its provider.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `builder` with llm-do's default providers and the environment's default model, without
/// the notice of the embedded model: a command says it with [`announce_embedded_model`] once
/// `--model` and the project's `model` are applied, so that it is said only when true.
pub(crate) fn default_providers(builder: llm_do::RuntimeBuilder) -> llm_do::RuntimeBuilder {
    llm_do::setup::quiet_providers(builder)
}

/// Says on stderr (never a panic, also on a closed pipe) that workers without a model run on
/// the embedded model, when that is so: the model `builder` gives them is still the embedded
/// default the environment picked (no `--model`, `LLM_DO_MODEL`, API key or project `model`
/// chose another), and a worker of `project` or `host` names none. A project whose
/// llm-do.toml names the embedded model itself gets no notice: its model is configured (the
/// notice says "no model configured").
pub(crate) fn announce_embedded_model(
    builder: &llm_do::RuntimeBuilder,
    project: &llm_do_project::Project,
    host: &llm_do::Registry,
) {
    let unnamed = project.workers().iter().any(|w| w.model.is_none())
        || host.iter().any(|s| s.worker().is_some_and(|w| w.model.is_none()));
    let configured = project.config().model.is_some();
    if unnamed
        && !configured
        && let Some(notice) = llm_do::setup::embedded_model_notice(builder)
    {
        crate::output::errln!("{notice}");
    }
}

/// Options of the local provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalOptions {
    /// Inference threads (default: cores, at most 4).
    pub threads: Option<u32>,
    /// Context window in tokens.
    pub context_size: Option<u32>,
}

/// Resolves `model` (`provider:name`) to a backend through [`Runtime::resolve_model`], the
/// resolution workers use: a runtime with the `openai` provider (from `OPENAI_API_KEY` and
/// `OPENAI_BASE_URL` with `openai`'s timeouts and answer limit, streaming its answers so that
/// a streamed request is passed on as it comes; or the reason it is unusable) and, when
/// `model` asks for it, the local provider, loaded first (fetching the embedded model if
/// needed) so that a bad model fails here, not on the first request.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use llm_do_cli::models::{resolve, LocalOptions};
/// use llm_do_project::ProviderSettings;
/// let served = resolve("local:smollm2", LocalOptions::default(), ProviderSettings::default()).await?;
/// # Ok(())
/// # }
/// ```
pub async fn resolve(
    model: &str,
    local: LocalOptions,
    openai: ProviderSettings,
) -> anyhow::Result<Served> {
    let parsed = ModelRef::parse(model)?;
    let mut builder = match openai_provider(openai, true) {
        Ok(provider) => Runtime::builder().ignore_env().provider("openai", provider),
        Err(reason) => Runtime::builder().ignore_env().unavailable_provider("openai", reason),
    };
    builder = if parsed.provider() == "local" {
        builder.provider("local", local_model(parsed.name(), local).await?)
    } else {
        // Not loaded (not asked for), but a known name: `nope:x` is told `local` exists.
        unloaded_local(builder)
    };
    let resolved = builder.build().resolve_model(&parsed)?;
    Ok(Served {
        model: resolved.model().clone(),
        label: resolved.label().to_owned(),
        name: resolved.name().to_owned(),
    })
}

/// Re-registers the `openai` provider with `settings` (unset ones keep the provider's
/// defaults), asking for streamed answers when `streaming`, if the environment configures it
/// (`OPENAI_API_KEY`, or an `OPENAI_BASE_URL` of a server that needs no key, such as Ollama)
/// and there is something to change. A configuration the provider refuses is left to the
/// default registration, which reports it.
pub fn with_openai_settings(
    builder: llm_do::RuntimeBuilder,
    settings: ProviderSettings,
    streaming: bool,
) -> llm_do::RuntimeBuilder {
    if settings == ProviderSettings::default() && !streaming {
        return builder;
    }
    match openai_provider(settings, streaming) {
        Ok(provider) => builder.provider("openai", provider),
        Err(_) => builder,
    }
}

/// The `openai` provider from the environment with `settings` (unset ones keep the provider's
/// defaults), streaming its answers when `streaming`; `Err` says what is wrong with the
/// environment's configuration (never showing the key).
fn openai_provider(
    settings: ProviderSettings,
    streaming: bool,
) -> Result<llm_do::providers::openai::OpenAiProvider, String> {
    use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider};
    let problem = |e| llm_do::setup::openai_config_problem(&e);
    let mut config = OpenAiConfig::from_env().map_err(problem)?;
    if let Some(d) = settings.connect {
        config = config.connect_timeout(d);
    }
    if let Some(d) = settings.first_byte {
        config = config.first_byte_timeout(d);
    }
    if let Some(d) = settings.request {
        config = config.timeout(d);
    }
    if let Some(bytes) = settings.max_answer_bytes {
        config = config.max_answer_bytes(bytes);
    }
    if let Some(capabilities) = settings.attachments() {
        config = config.attachments(capabilities);
    }
    if streaming {
        config = config.streaming(true);
    }
    OpenAiProvider::try_new(config).map_err(problem)
}

#[cfg(feature = "local")]
async fn local_model(name: &str, options: LocalOptions) -> anyhow::Result<Arc<dyn Model>> {
    let mut m = llm_do::providers::local::LocalModel::new().avoid_repeated_calls(true);
    if let Some(t) = options.threads {
        m = m.with_threads(t);
    }
    if let Some(c) = options.context_size {
        m = m.with_context_size(c);
    }
    let info = m.load(name).await?;
    crate::output::errln!(
        "llm-do: loaded {} ({} parameters, context {} tokens)",
        info.path.display(),
        info.parameters,
        info.context_size
    );
    Ok(Arc::new(m))
}

#[cfg(feature = "local")]
fn unloaded_local(builder: llm_do::RuntimeBuilder) -> llm_do::RuntimeBuilder {
    builder.provider("local", llm_do::providers::local::LocalModel::new())
}

#[cfg(not(feature = "local"))]
fn unloaded_local(builder: llm_do::RuntimeBuilder) -> llm_do::RuntimeBuilder {
    builder.unavailable_provider("local", "this build of llm-do has no `local` feature")
}

#[cfg(not(feature = "local"))]
async fn local_model(_: &str, _: LocalOptions) -> anyhow::Result<Arc<dyn Model>> {
    anyhow::bail!("this build of llm-do has no `local` feature: rebuild with `--features local`")
}
