//! `llm-do harden-report LOG... --worker W --candidate C`: a worker's recorded calls (run logs
//! or cassettes) replayed against a candidate, with the agreement rate and the disagreeing
//! cases.

use super::{host_builder, load, usage_error};
use crate::exit::Exit;
use crate::run_log;
use clap::Args;
use llm_do::Registry;
use llm_do::approval::DenyAll;
use llm_do::testing::hardening::AgreementReport;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(super) struct HardenArgs {
    /// Run logs written by `llm-do run --log FILE`, or cassettes recorded by a test (several
    /// give more evidence; a cassette needs the worker's definition: --project or the host).
    #[arg(required = true, value_name = "LOG_OR_CASSETTE")]
    logs: Vec<PathBuf>,
    /// The worker whose recorded calls are the reference.
    #[arg(long)]
    worker: String,
    /// The candidate replacing it: a callable registered by the host program (or of --project)
    /// taking the worker's arguments.
    #[arg(long)]
    candidate: String,
    /// A project directory (or a `.worker`/`.agent` file or project.json in it) whose
    /// callables (file workers, built-in tools) the candidate may call, or which holds the
    /// candidate.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Exit with code 1 when the agreement rate (0 to 1) is below this.
    #[arg(long, value_name = "RATE")]
    min_rate: Option<f64>,
}

impl HardenArgs {
    /// `--project`, as given.
    pub(crate) fn project(&self) -> Option<&Path> {
        self.project.as_deref()
    }
}

/// `llm-do harden-report`: the worker's recorded calls replayed against the candidate.
pub(super) async fn harden_report(args: HardenArgs, host: Registry) -> Exit {
    if let Some(rate) = args.min_rate
        && !(0.0..=1.0).contains(&rate)
    {
        return usage_error(format!("--min-rate must be between 0 and 1, not {rate}"));
    }
    let dir = match args.project.as_deref().map(super::project_dir).transpose() {
        Ok(dir) => dir,
        Err(message) => return usage_error(message),
    };
    let builder = match &dir {
        Some(dir) => match load(dir, &host) {
            Ok(project) => {
                let builder =
                    project.register(crate::models::default_providers(host_builder(&host)));
                crate::models::announce_embedded_model(&builder, &project, &host);
                crate::models::with_openai_settings(builder, project.config().openai, false)
            }
            Err(code) => return code,
        },
        None => host_builder(&host),
    };
    let rt = builder.approver(DenyAll).build();
    let mut seen = Vec::new();
    for path in &args.logs {
        let (found, ambiguous) = match evidence(path, &args.worker, rt.registry()) {
            Ok(found) => found,
            Err(e) => return usage_error(e),
        };
        if !ambiguous.is_empty() {
            crate::output::errln!(
                "llm-do: warning: {}: skipped {} ambiguous interaction(s) of `{}` ({}): the \
                 prompt is the worker's template rendered with more than one set of arguments, \
                 so which one the worker saw cannot be told",
                path.display(),
                ambiguous.len(),
                args.worker,
                ambiguous.join(", ")
            );
        }
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        for mut o in found {
            if args.logs.len() > 1 {
                o.origin = format!("{file}: {}", o.origin);
            }
            seen.push(o);
        }
    }
    if seen.is_empty() {
        return usage_error(format!(
            "no successful call of `{}` in {}",
            args.worker,
            args.logs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    if rt.registry().get(&args.candidate).is_none() {
        let mut names: Vec<&str> = rt.registry().iter().map(|s| s.name()).collect();
        names.sort_unstable();
        return usage_error(format!(
            "no candidate named `{}` (known: {}); the plain llm-do binary has no Rust tools: run harden-report from a host program built with llm_do_cli::main_with",
            args.candidate,
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        ));
    }
    let report = AgreementReport::of_tool(&rt.ctx(), &args.candidate, &args.worker, &seen).await;
    // The report quotes models' outputs: made safe like everything shown to a person.
    crate::output::outln!("{}", crate::terminal::safe(&report.to_string()));
    match args.min_rate {
        Some(rate) if report.agreement_rate() < rate => {
            crate::output::errln!(
                "llm-do: agreement {:.1}% is below --min-rate {:.1}%",
                report.agreement_rate() * 100.0,
                rate * 100.0
            );
            Exit::RunFailed
        }
        _ => Exit::Ok,
    }
}

/// The observed calls of `worker` in `path`: a run log (`llm-do run --log`), or a cassette
/// (`llm-do-cassette/1`), whose requests are matched to the worker's prompt, so the worker's
/// definition must be in `registry` (the host program's, or `--project`'s). Also the origins of
/// the cassette's interactions skipped because their prompt reads as several sets of arguments.
fn evidence(
    path: &Path,
    worker: &str,
    registry: &Registry,
) -> Result<(Vec<llm_do::testing::hardening::Observation>, Vec<String>), String> {
    use llm_do::testing::cassette::{CASSETTE_FORMAT, Cassette};
    // A run log cut off in the middle of a character is read as `log show` reads it.
    let text = run_log::read_text(path).map_err(|e| e.to_string())?;
    let is_cassette = serde_json::from_str::<Value>(&text)
        .is_ok_and(|v| v.get("format").and_then(Value::as_str) == Some(CASSETTE_FORMAT));
    if !is_cassette {
        // Read once: the text already in hand is the run log's.
        let log = run_log::parse_log(path, &text).map_err(|e| e.to_string())?;
        if let Some(line) = log.torn_line {
            super::log::warn_torn(path, line, "replayed");
        }
        return Ok((run_log::RunLog(log.records).observations_of(worker), Vec::new()));
    }
    let cassette = Cassette::from_json(&text)
        .map_err(|e| format!("`{}` is not a valid cassette: {e}", path.display()))?;
    let spec = registry.get(worker).ok_or_else(|| {
        format!(
            "`{}` is a cassette: reading it needs the definition of the worker `{worker}` (its \
             prompt and output), which is not known here; pass --project DIR, or run from the \
             host program that registers it",
            path.display()
        )
    })?;
    let read =
        llm_do::testing::hardening::read_cassette(&cassette, spec).map_err(|e| e.to_string())?;
    Ok((read.observations, read.ambiguous))
}
