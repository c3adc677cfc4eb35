//! `llm-do run TARGET [INPUT]`: a project's entry worker (or one `.worker` file) run on an
//! input, with the live call tree and approvals on stderr, the result on stdout and an
//! optional run log.

mod entry;

use super::flags::{ApprovalFlags, BudgetFlags, LogFlag, ModelFlag, ProviderFlags, VerboseFlag};
use super::{host_builder, report, usage_error};
use crate::approve::{HeadlessApprover, TerminalApprover};
use crate::attach;
use crate::display::{Display, Mode};
use crate::exit::Exit;
use crate::models;
use clap::Args;
use llm_do::approval::{ApproveAll, DenyAll};
use llm_do::attachment::AttachmentLimits;
use llm_do::tools::fs::AttachmentFiles;
use llm_do::{CallableSpec, Error, Registry};
use llm_do_project::ApprovalMode;
use serde_json::json;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// A project directory (its entry worker runs) or a `.worker` file (that worker runs, with
    /// its directory as the project).
    pub(super) target: PathBuf,
    /// The input text, for workers with one string parameter (the default `{input}`); `-`
    /// reads it from stdin.
    input: Option<String>,
    /// The arguments as a JSON object (for workers with several parameters).
    #[arg(long, value_name = "JSON", conflicts_with = "input")]
    input_json: Option<String>,
    /// The worker to run (default: the file given, else `entry` of llm-do.toml, else `main`,
    /// else the only worker).
    #[arg(long)]
    worker: Option<String>,
    #[command(flatten)]
    model: ModelFlag,
    #[command(flatten)]
    approvals: ApprovalFlags,
    /// The deepest nested call allowed, at least 1: the entry call is depth 1 (default:
    /// llm-do.toml `max_depth`, else 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_depth: Option<u32>,
    #[command(flatten)]
    budget: BudgetFlags,
    #[command(flatten)]
    provider: ProviderFlags,
    /// Print the result and usage as one JSON object on stdout.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    verbose: VerboseFlag,
    #[command(flatten)]
    log: LogFlag,
    /// Attach a file (PDF, image, text, Markdown, CSV, JSON) to the worker's attachment
    /// parameter; repeatable. Paths are relative to the project root and confined to it.
    #[arg(long, value_name = "PATH")]
    attach: Vec<PathBuf>,
}

/// A timeout on the command line: seconds, above 0, at most a day.
/// The `--json` line of a run that did not start: no output, no usage, and the message (its
/// secrets redacted, as every output of the CLI: [`crate::terminal::json_line`]).
pub(super) fn not_started_json(worker: Option<&str>, message: &str) -> String {
    crate::terminal::json_line(&json!({
        "worker": worker,
        "ok": false,
        "error": message,
        "usage": {"requests": 0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
    }))
}

/// The text of the error a run (or a chat turn) of `project` ended with: core's message, and
/// for a call past `max_depth` where a command-line user raises it (core's message names
/// `Runtime::builder().max_depth(..)`, the Rust way); `flag` when the command has
/// `--max-depth`.
pub(crate) fn error_text(error: &Error, project: &llm_do_project::Project, flag: bool) -> String {
    let Error::DepthExceeded { max_depth, .. } = error else { return error.to_string() };
    if *max_depth >= llm_do::bounds::MAX_CALL_DEPTH {
        return format!("{error} (no setting goes deeper: {max_depth} is the most any run allows)");
    }
    let file = project.config().source().and_then(|f| f.file_name()).map(|f| f.to_string_lossy());
    let setting = match file.as_deref() {
        Some("project.json") => "`runtime.max_depth` in project.json",
        _ => "`max_depth` in llm-do.toml",
    };
    let flag = if flag { ", or --max-depth N" } else { "" };
    format!("{error} (here: {setting}{flag})")
}

/// The exit code for the error a run of `entry` ended with.
fn exit_for(error: &Error, entry: &str) -> Exit {
    match error {
        Error::Denied { .. } => Exit::Denied,
        // The input given on the command line does not fit the entry's schema.
        Error::InvalidArguments { name, .. } if name == entry => Exit::Usage,
        Error::NoModel { .. }
        | Error::Attachment { .. }
        | Error::InvalidModel { .. }
        | Error::UnknownProvider { .. }
        | Error::ProviderUnavailable { .. }
        | Error::InvalidSpec { .. } => Exit::Usage,
        _ => Exit::RunFailed,
    }
}

/// `llm-do run`: builds the runtime from the project and the flags, runs the entry call, and
/// prints its result; the exit code says how it ended ([`Exit`]).
pub(super) async fn run(args: RunArgs, host: Registry) -> Exit {
    // A run that cannot start: a usage error, on stderr and (--json) as the JSON result.
    let not_started = |worker: Option<&str>, message: String| {
        if args.json {
            crate::output::outln!("{}", not_started_json(worker, &message));
        }
        usage_error(message)
    };
    let (project, entry) = match entry::target(&args, &host) {
        Ok(t) => t,
        Err(message) => return not_started(None, message),
    };
    // Everything that will be registered: the host's callables, then the project's (file
    // workers re-made with --model when given).
    let mut specs: Vec<Arc<CallableSpec>> = host.iter().cloned().collect();
    specs.extend(project.specs().cloned());
    let builder = project.register(models::default_providers(host_builder(&host)));
    let mut builder = match args.model.apply(builder, &project, &host, &mut specs) {
        Ok(builder) => builder,
        Err(message) => return not_started(Some(&entry), message),
    };
    let Some(spec) = specs.iter().rev().find(|s| s.name() == entry).cloned() else {
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        return not_started(
            Some(&entry),
            format!("no worker or tool named `{entry}` (known: {})", names.join(", ")),
        );
    };
    let input = match entry::input(&args, &spec, &project).and_then(|input| {
        let files = AttachmentFiles::new(project.root()).map_err(|e| e.to_string())?;
        attach::add_attachments(&spec, input, &args.attach, &files, &AttachmentLimits::default())
    }) {
        Ok(v) => v,
        Err(message) => return not_started(Some(&entry), message),
    };
    if let Some(depth) = args.max_depth {
        builder = builder.max_depth(depth);
    }
    builder = args.budget.apply(builder, &project, &entry);
    builder =
        models::with_openai_settings(builder, args.provider.over(&project.config().openai), false);
    let stderr_tty = std::io::stderr().is_terminal();
    let display =
        Display::new(if stderr_tty { Mode::Live } else { Mode::Plain }, args.verbose.verbose);
    builder = builder.subscribe(display.clone());
    if args.approvals.approve_all {
        builder = builder.approver(ApproveAll);
    } else if args.approvals.deny_all {
        builder = builder.approver(DenyAll);
    } else if project.config().approval_mode == ApprovalMode::Prompt {
        let stdin_tty = std::io::stdin().is_terminal() && args.input.as_deref() != Some("-");
        builder = if stdin_tty {
            builder.approver(TerminalApprover::new(display.clone()))
        } else {
            builder.approver(HeadlessApprover::for_project(&project))
        };
    }
    let (builder, log) = match args.log.open(builder, &specs) {
        Ok(opened) => opened,
        Err(message) => return not_started(Some(&entry), message),
    };
    let rt = builder.build();
    let ctx = rt.ctx();
    // SIGINT/SIGTERM/SIGHUP end the run like an abort: the run's future is dropped, which
    // kills every command a shell tool is running (and everything they started), then the CLI
    // reports, finishes its log and exits with 130/143/129 (see `signals`).
    let mut signals = crate::signals::Signals::install();
    let mut interrupted = None;
    let outcome = tokio::select! {
        biased;
        signal = signals.received() => {
            interrupted = Some(signal);
            Err(format!("interrupted by {}: the run was stopped, with every command it was running", signal.name()))
        }
        result = ctx.call_value(&entry, input) => Ok(result),
    };
    // An approver that ends the run cancels it (every call in flight stops) and makes it fail
    // (`Error::Denied`); the approver's reason, which the run's token carries, is the one to show.
    let outcome = match (outcome, ctx.cancellation().reason()) {
        (Ok(Err(_)), Some(reason)) => Err(reason),
        (outcome, _) => outcome,
    };
    let usage = ctx.usage();
    display.finish(&usage);
    if let Some(log) = &log
        && let Err(e) = log.finish()
    {
        report(&format!("the run log could not be written completely: {e}"));
    }
    let usage_json = json!({
        "requests": usage.requests,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens(),
    });
    let (code, output, error) = match outcome {
        Ok(Ok(value)) => (Exit::Ok, Some(value), None),
        Ok(Err(e)) => (exit_for(&e, &entry), None, Some(error_text(&e, &project, true))),
        Err(reason) => (interrupted.map_or(Exit::Denied, |s| s.exit()), None, Some(reason)),
    };
    // stdout: secrets redacted always; control characters escaped (see `terminal`): as JSON
    // escapes in JSON, in a text result when stdout is a terminal.
    if args.json {
        let mut out = json!({"worker": entry, "ok": code == Exit::Ok, "usage": usage_json});
        if let Some(v) = &output {
            out["output"] = v.clone();
        }
        if let Some(e) = &error {
            out["error"] = json!(e);
        }
        crate::output::outln!("{}", crate::terminal::json_line(&out));
    } else if let Some(v) = &output {
        crate::output::outln!("{}", crate::terminal::stdout_result(v));
    }
    if let Some(e) = &error {
        report(&e.to_string());
    }
    code
}
