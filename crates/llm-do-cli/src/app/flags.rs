//! The flags several commands share, with what each does to a runtime: `--model` and the
//! OpenAI-compatible provider's settings (run, chat, mcp, restate serve, serve), `--log` (run, chat,
//! mcp), `--approve-all`/`--deny-all`, the budgets and `--verbose` (run, chat). A command takes
//! a group with `#[command(flatten)]`.

use crate::run_log::RunLogWriter;
use clap::{ArgAction, Args};
use llm_do::{CallableSpec, ModelRef, Registry, RuntimeBuilder};
use llm_do_project::{Project, ProviderSettings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `--max-requests`, `--max-tokens`, `--max-tool-calls`: the budgets of a run (of a whole
/// session for `chat`).
#[derive(Debug, Args)]
pub(crate) struct BudgetFlags {
    /// Most model requests the run may make (default: the worker's `budget:`, else
    /// llm-do.toml `[budget] requests`, else 200).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: Option<u64>,
    /// Most input + output tokens the run may use (default: the worker's `budget:`, else
    /// llm-do.toml `[budget] tokens`, else no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_tokens: Option<u64>,
    /// Most tool calls the run's models may ask for (default: the worker's `budget:`, else
    /// llm-do.toml `[budget] tool_calls`, else 2000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_tool_calls: Option<u64>,
}

impl BudgetFlags {
    /// `builder` with the budgets of the flags, else those of `worker`'s `budget:` (the
    /// project's and the defaults are set by `Project::register` already).
    pub(crate) fn apply(
        &self,
        builder: RuntimeBuilder,
        project: &Project,
        worker: &str,
    ) -> RuntimeBuilder {
        let mut budget = llm_do_project::Budget {
            requests: self.max_requests,
            tokens: self.max_tokens,
            tool_calls: self.max_tool_calls,
        };
        if let Some(w) = project.workers().iter().find(|w| w.name == worker) {
            budget = budget.or(w.budget);
        }
        budget.apply(builder)
    }
}

/// `--model`.
#[derive(Debug, Args)]
pub(crate) struct ModelFlag {
    /// The model of every file worker and of Rust workers that name none (`provider:name`,
    /// e.g. `local:smollm2`, `openai:gpt-4o-mini`).
    #[arg(long)]
    pub(crate) model: Option<String>,
}

impl ModelFlag {
    /// The model, checked: `Err` says what is wrong with it.
    pub(crate) fn checked(&self) -> Result<Option<&str>, String> {
        match &self.model {
            Some(model) => match ModelRef::parse(model) {
                Ok(_) => Ok(Some(model)),
                Err(e) => Err(format!("--model: {e}")),
            },
            None => Ok(None),
        }
    }

    /// `builder` with the model as the default and every file worker of `project` re-made
    /// with it (`specs`, the list of what is registered, gets the new ones); `host` holds the
    /// MCP tools a worker's `server.*` entries stand for.
    ///
    /// Every command that runs a project's workers on a chosen model comes here (`run`,
    /// `chat`, `mcp`, `restate serve`), after the project and the default providers are on
    /// `builder`, so this is where agents that accept only some models (`compatible_models`)
    /// are checked against the chosen one: `--model`, else the model `builder` gives workers
    /// that name none (`LLM_DO_MODEL`, the project's `model`, the embedded default). `Err`
    /// names each agent that refuses it, at its file:line:col.
    pub(crate) fn apply(
        &self,
        mut builder: RuntimeBuilder,
        project: &Project,
        host: &Registry,
        specs: &mut Vec<Arc<CallableSpec>>,
    ) -> Result<RuntimeBuilder, String> {
        let flag = self.checked()?;
        if let Some(model) = flag.or(builder.chosen_model())
            && let Err(diagnostics) = project.check_model(model)
        {
            return Err(format!(
                "the model `{model}` is not compatible with the project:\n{diagnostics}"
            ));
        }
        let Some(model) = flag else {
            crate::models::announce_embedded_model(&builder, project, host);
            return Ok(builder);
        };
        builder = builder.default_model(model.to_owned());
        for w in project.workers() {
            let mut w = w.clone();
            w.model = Some(model.to_owned());
            let spec = w.to_spec_in(host).map_err(|e| e.to_string())?;
            specs.retain(|s| s.name() != spec.name());
            specs.push(spec.clone());
            builder = builder.register(spec);
        }
        Ok(builder)
    }
}

/// The OpenAI-compatible provider's settings: `--connect-timeout`, `--first-byte-timeout`,
/// `--request-timeout`, `--max-answer-bytes`. Each one given replaces the project's
/// (`[providers.openai]` in llm-do.toml).
#[derive(Debug, Args)]
pub(crate) struct ProviderFlags {
    /// Seconds connecting to an OpenAI-compatible server may take (default: the project's
    /// llm-do.toml `[providers.openai] connect_timeout`, else 10).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    connect_timeout: Option<Duration>,
    /// Seconds from sending a request to the server's first response bytes (its headers)
    /// (default: the project's llm-do.toml `[providers.openai] first_byte_timeout`, else 60).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    first_byte_timeout: Option<Duration>,
    /// Seconds one request attempt may take in all (default: the project's llm-do.toml
    /// `[providers.openai] request_timeout`, else 300; failed attempts are retried at most 4
    /// times in all).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    request_timeout: Option<Duration>,
    /// The most bytes one answer of an OpenAI-compatible server may have; a larger one is an
    /// error and the rest is not read (default: the project's llm-do.toml
    /// `[providers.openai] max_answer_bytes`, else 67108864, 64 MiB).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    max_answer_bytes: Option<u64>,
}

impl ProviderFlags {
    /// The project's settings with the flags given in their place.
    pub(crate) fn over(&self, project: &ProviderSettings) -> ProviderSettings {
        let mut settings = *project;
        settings.connect = self.connect_timeout.or(settings.connect);
        settings.first_byte = self.first_byte_timeout.or(settings.first_byte);
        settings.request = self.request_timeout.or(settings.request);
        settings.max_answer_bytes = self.max_answer_bytes.or(settings.max_answer_bytes);
        settings
    }
}

/// A timeout flag's value: seconds above 0, at most a day.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("`{text}` is not a number of seconds above 0 (at most 86400)")),
    }
}

/// `--log FILE`.
#[derive(Debug, Args)]
pub(crate) struct LogFlag {
    /// Write a run log: one JSON object per event of every call (see docs/cli.md for the
    /// schema); missing directories of FILE are created.
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
}

impl LogFlag {
    /// The run log's writer, subscribed to `builder` (`None` without `--log`); `specs` are
    /// the callables it describes.
    pub(crate) fn open(
        &self,
        builder: RuntimeBuilder,
        specs: &[Arc<CallableSpec>],
    ) -> Result<(RuntimeBuilder, Option<RunLogWriter>), String> {
        let Some(path) = &self.log else { return Ok((builder, None)) };
        // As `restate serve --log DIR` does: `--log runs/mon.jsonl` needs no `mkdir runs`.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!("cannot create the directory of the run log {}: {e}", path.display())
            })?;
        }
        let writer = RunLogWriter::create(path, specs)
            .map_err(|e| format!("cannot create the run log {}: {e}", path.display()))?;
        Ok((builder.subscribe(writer.clone()), Some(writer)))
    }
}

/// `--approve-all` / `--deny-all`.
#[derive(Debug, Args)]
pub(crate) struct ApprovalFlags {
    /// Approve every tool call that needs approval (no prompts).
    #[arg(long, conflicts_with = "deny_all")]
    pub(crate) approve_all: bool,
    /// Deny every tool call that needs approval (the model is told, and goes on; in a
    /// project.json project the run ends instead, exit code 3, unless `return_permission_errors`).
    #[arg(long)]
    pub(crate) deny_all: bool,
}

/// `-v`, `-vv`.
#[derive(Debug, Args)]
pub(crate) struct VerboseFlag {
    /// Show more on stderr: -v the tool calls models ask for, -vv also the models' text.
    #[arg(short, long, action = ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// The bearer token a server requires, read from the environment variable named on the
/// command line (`llm-do serve --api-key-env VAR`, `llm-do mcp --http … --token-env VAR`): a
/// token given as an argument would show in `ps` and in shell histories. `Err` says what is
/// wrong, naming the variable and never its value.
pub(crate) fn bearer_token_from_env(
    flag: &str,
    var: &str,
) -> Result<llm_do::secrets::BearerToken, String> {
    let value = match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        Ok(_) => return Err(format!("{flag} {var}: the environment variable `{var}` is empty")),
        Err(std::env::VarError::NotPresent) => {
            return Err(format!("{flag} {var}: the environment variable `{var}` is not set"));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("{flag} {var}: the environment variable `{var}` is not UTF-8"));
        }
    };
    llm_do::secrets::BearerToken::new(value).map_err(|why| format!("{flag} {var}: {why}"))
}
