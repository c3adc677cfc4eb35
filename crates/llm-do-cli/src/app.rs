//! The command line itself: argument parsing (clap) and the commands. [`main_with`] runs it
//! with a host program's Rust workers and tools in the project's name space.

use crate::approve::{HeadlessApprover, TerminalApprover};
use crate::attach;
use crate::display::{Display, Mode};
use crate::exit::{self, Exit};
use crate::models::{self, LocalOptions};
use crate::run_log::{self, RunLogWriter};
use clap::{ArgAction, Args, Parser, Subcommand};
use llm_do::approval::{ApproveAll, DenyAll};
use llm_do::attachment::{AttachmentLimits, is_attachment_schema};
use llm_do::setup::RuntimeBuilderExt as _;
use llm_do::testing::hardening::AgreementReport;
use llm_do::tools::fs::AttachmentFiles;
use llm_do::{CallableSpec, Error, ModelRef, Registry, Runtime};
use llm_do_project::{ApprovalMode, Project};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{IsTerminal as _, Read as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// llm-do: run LLM workers written as `.worker` files (or in Rust), watch their calls, approve
/// their tool calls, and keep a log of every run.
#[derive(Debug, Parser)]
#[command(name = "llm-do", version, after_help = exit::HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a project's entry worker (or one .worker file) on an input and print its result.
    ///
    /// Progress (the live call tree, approvals, token usage) goes to stderr; stdout gets only
    /// the result: text as is, JSON pretty-printed, or with --json one JSON object
    /// {"worker", "ok", "output" | "error", "usage"}.
    #[command(after_help = exit::HELP)]
    Run(RunArgs),
    /// Chat with a project's worker: each input is one turn of a conversation that the worker
    /// sees. On a terminal: a line editor, streamed answers, /help for commands; otherwise one
    /// answer per input line (--json: one JSON object per line).
    #[command(after_help = exit::HELP)]
    Chat(crate::chat::ChatArgs),
    /// Validate a project (every file, schema, model string and tool reference) without calling
    /// a model. Problems are printed as `file:line:col: error: ...` on stderr (exit code 2).
    #[command(after_help = exit::HELP)]
    Check {
        /// The project directory.
        project: PathBuf,
    },
    /// List a project's workers and tools with their kinds and schemas.
    #[command(after_help = exit::HELP)]
    List {
        /// The project directory.
        project: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Read run logs written by `llm-do run --log FILE`.
    #[command(subcommand)]
    Log(LogCommand),
    /// Measure a candidate (a Rust tool of the host program, or any callable of --project)
    /// against a worker's calls recorded in run logs: replay each recorded input, compare the
    /// candidate's output with the worker's, and print the agreement rate and a table of the
    /// disagreeing cases.
    ///
    /// The plain `llm-do` binary has no Rust tools: run this from a host program that embeds
    /// the command line with `llm_do_cli::main_with` and registers the candidate.
    #[command(after_help = exit::HELP)]
    HardenReport(HardenArgs),
    /// Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models).
    Serve {
        /// The model to serve, `provider:name`.
        #[arg(long, default_value = "local:smollm2")]
        model: String,
        /// Port to listen on (0 picks a free one; the address is printed on stdout).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        host: IpAddr,
        /// Inference threads of a local model (default: cores, at most 4).
        #[arg(long)]
        threads: Option<u32>,
        /// Context window of a local model, in tokens.
        #[arg(long)]
        context_size: Option<u32>,
    },
    /// Fetch the embedded model into the cache (once; verified) and print its path.
    FetchModel,
    /// Serve a project's workers and tools as MCP tools (stdio; --http ADDR for streamable
    /// HTTP), for other agents and MCP clients. See docs/mcp.md.
    #[command(after_help = exit::HELP)]
    Mcp(crate::mcp::McpArgs),
    /// Durable runs on Restate: serve a project's workers as a Restate service, answer the
    /// approvals its runs wait for. See docs/durable.md.
    #[command(subcommand)]
    Restate(crate::restate::RestateCommand),
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Render a run log as a call tree: each call with its model, time, tokens, input and
    /// output, approvals and nested calls.
    Show {
        /// The log file (JSON lines).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct HardenArgs {
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
    /// A project directory whose callables (file workers, built-in tools) the candidate may
    /// call, or which holds the candidate.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Exit with code 1 when the agreement rate (0 to 1) is below this.
    #[arg(long, value_name = "RATE")]
    min_rate: Option<f64>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// A project directory (its entry worker runs) or a `.worker` file (that worker runs, with
    /// its directory as the project).
    target: PathBuf,
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
    /// The model of every file worker and of Rust workers that name none (`provider:name`,
    /// e.g. `local:smollm2`, `openai:gpt-4o-mini`).
    #[arg(long)]
    model: Option<String>,
    /// Approve every tool call that needs approval (no prompts).
    #[arg(long, conflicts_with = "deny_all")]
    approve_all: bool,
    /// Deny every tool call that needs approval (the model is told; the run goes on).
    #[arg(long)]
    deny_all: bool,
    /// The deepest nested call allowed (default: llm-do.toml `max_depth`, else 5).
    #[arg(long)]
    max_depth: Option<u32>,
    /// Most model requests the run may make (default: the entry worker's `budget:`, else
    /// llm-do.toml `[budget] requests`, else 200).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: Option<u64>,
    /// Most input + output tokens the run may use (default: the entry worker's `budget:`,
    /// else llm-do.toml `[budget] tokens`, else no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_tokens: Option<u64>,
    /// Most tool calls the run's models may ask for (default: the entry worker's `budget:`,
    /// else llm-do.toml `[budget] tool_calls`, else 2000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_tool_calls: Option<u64>,
    /// Seconds connecting to an OpenAI-compatible server may take (default: llm-do.toml
    /// `[providers.openai] connect_timeout`, else 10).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    connect_timeout: Option<Duration>,
    /// Seconds from sending a request to the server's first response bytes (its headers)
    /// (default: llm-do.toml `[providers.openai] first_byte_timeout`, else 60).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    first_byte_timeout: Option<Duration>,
    /// Seconds one request attempt may take in all (default: llm-do.toml
    /// `[providers.openai] request_timeout`, else 300; failed attempts are retried at most 4
    /// times in all).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    request_timeout: Option<Duration>,
    /// Print the result and usage as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Show more on stderr: -v the tool calls models ask for, -vv also the models' text.
    #[arg(short, long, action = ArgAction::Count)]
    verbose: u8,
    /// Write a run log: one JSON object per event (see docs/cli.md for the schema).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Attach a file (PDF, image, text, Markdown, CSV, JSON) to the worker's attachment
    /// parameter; repeatable. Paths are relative to the project root and confined to it.
    #[arg(long, value_name = "PATH")]
    attach: Vec<PathBuf>,
}

/// A timeout on the command line: seconds, above 0, at most a day.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("`{text}` is not a number of seconds above 0 (at most 86400)")),
    }
}

/// Runs the `llm-do` command line with the process's arguments, with `host`'s Rust workers and
/// tools in every project's name space: file workers can list them in `tools:` and they can
/// call file workers by name. This is how a program with its own `#[tool]`s gets the whole CLI
/// (`run`, `check`, `list`, `log`, `serve`) — and how hardening a file worker into Rust keeps
/// the project's call sites.
///
/// ```no_run
/// use llm_do::prelude::*;
///
/// /// Count the words of a text.
/// #[tool]
/// async fn word_count(text: String) -> Result<usize> {
///     Ok(text.split_whitespace().count())
/// }
///
/// fn main() -> std::process::ExitCode {
///     let mut host = llm_do::Registry::default();
///     host.insert(word_count::spec());
///     llm_do_cli::main_with(host)
/// }
/// ```
pub fn main_with(host: Registry) -> ExitCode {
    run_with(std::env::args_os(), host)
}

/// [`main_with`] with explicit arguments (the first is the program name).
///
/// ```
/// let code = llm_do_cli::run_with(["llm-do", "check", "/no/such/project"], llm_do::Registry::default());
/// assert_eq!(code, std::process::ExitCode::from(2));
/// ```
pub fn run_with<I, T>(args: I, host: Registry) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // `run --json` promises one JSON object on stdout, also for a command line that
            // does not parse.
            let run_json =
                args.get(1).is_some_and(|a| a == "run") && args.iter().any(|a| a == "--json");
            if e.use_stderr() && run_json {
                let message = e.render().to_string();
                let first =
                    message.lines().next().unwrap_or_default().trim_start_matches("error: ");
                println!("{}", not_started_json(None, first));
            }
            return ExitCode::from(if e.use_stderr() { Exit::Usage.code() } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("llm-do: cannot start the async runtime: {e}");
            return Exit::RunFailed.into();
        }
    };
    let exit = runtime.block_on(command(cli.command, host));
    // Do not wait for a blocking read of stdin (an approval prompt cut short by a signal).
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    exit.into()
}

async fn command(command: Command, host: Registry) -> Exit {
    // The MCP servers of the project's llm-do.toml: their tools join the host's name space.
    let dir = match &command {
        Command::Run(args) => Some(crate::mcp::project_dir(&args.target)),
        Command::Check { project } | Command::List { project, .. } => Some(project.clone()),
        _ => None,
    };
    let Some(dir) = dir else { return other_command(command, host).await };
    let servers = match crate::mcp::Servers::start(&dir).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let with_mcp = servers.registry(&host);
    let code = match command {
        Command::Run(args) => run(args, with_mcp).await,
        Command::Check { project } => {
            let code = check(&project, &with_mcp);
            if code == Exit::Ok {
                servers.summary().iter().for_each(|line| println!("{line}"));
            }
            code
        }
        Command::List { project, json } => list(&project, &with_mcp, json, &servers.names()),
        other => other_command(other, host).await,
    };
    servers.close().await;
    code
}

async fn other_command(command: Command, host: Registry) -> Exit {
    match command {
        Command::Run(args) => run(args, host).await,
        Command::Chat(args) => crate::chat::chat(args, host).await,
        Command::Check { project } => check(&project, &host),
        Command::List { project, json } => list(&project, &host, json, &Default::default()),
        Command::Mcp(args) => crate::mcp::serve(args, host).await,
        Command::Restate(command) => crate::restate::command(command, host).await,
        Command::Log(LogCommand::Show { file }) => match run_log::read_log(&file) {
            Ok(log) => {
                // The tree quotes models and tools: made safe for a terminal.
                print!("{}", crate::terminal::safe(&run_log::render_tree(&log.records)));
                if let Some(line) = log.torn_line {
                    eprintln!(
                        "llm-do: warning: {}:{line}: the last record was cut off (the run was \
                         killed while writing it); every complete record is shown",
                        file.display()
                    );
                }
                Exit::Ok
            }
            Err(e) => {
                report(&e.to_string());
                Exit::Usage
            }
        },
        Command::HardenReport(args) => harden_report(args, host).await,
        Command::Serve { model, port, host: addr, threads, context_size } => {
            let served = match models::resolve(&model, LocalOptions { threads, context_size }).await
            {
                Ok(s) => s,
                Err(e) => {
                    report(&format!("{e:#}"));
                    return Exit::Usage;
                }
            };
            match crate::serve::bind_and_run(SocketAddr::new(addr, port), Arc::new(served)).await {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    report(&e.to_string());
                    Exit::RunFailed
                }
            }
        }
        Command::FetchModel => match fetch_model() {
            Ok(()) => Exit::Ok,
            Err(e) => {
                report(&format!("{e:#}"));
                Exit::RunFailed
            }
        },
    }
}

#[cfg(feature = "local")]
fn fetch_model() -> anyhow::Result<()> {
    use llm_do::providers::local::cache::{ModelCache, SMOLLM2};
    let path = ModelCache::default_location()?.ensure(&SMOLLM2)?;
    println!("{}", path.display());
    Ok(())
}

#[cfg(not(feature = "local"))]
fn fetch_model() -> anyhow::Result<()> {
    anyhow::bail!("this build of llm-do has no `local` feature: rebuild with `--features local`")
}

/// Loads and checks a project, printing its diagnostics on failure.
fn load(dir: &Path, host: &Registry) -> Result<Project, Exit> {
    checked(dir, host).map_err(usage_error)
}

/// Loads and checks a project; on failure prints its diagnostics and returns the summary
/// (`N problems found in DIR`).
pub(crate) fn checked(dir: &Path, host: &Registry) -> Result<Project, String> {
    Project::check(dir, host).map_err(|diagnostics| {
        eprintln!("{}", crate::terminal::safe(&diagnostics.to_string()));
        let n = diagnostics.len();
        format!("{n} problem{} found in {}", if n == 1 { "" } else { "s" }, dir.display())
    })
}

fn check(dir: &Path, host: &Registry) -> Exit {
    match load(dir, host) {
        Ok(project) => {
            let tools = project.specs().count() - project.workers().len();
            println!(
                "ok: {} worker{} and {} built-in tool{} in {}{}",
                project.workers().len(),
                if project.workers().len() == 1 { "" } else { "s" },
                tools,
                if tools == 1 { "" } else { "s" },
                dir.display(),
                project.entry().map(|e| format!(" (entry: {e})")).unwrap_or_default()
            );
            Exit::Ok
        }
        Err(code) => code,
    }
}

/// Where a callable of a project's name space comes from.
fn source_of(project: &Project, spec: &CallableSpec, mcp: &BTreeSet<String>) -> String {
    if let Some((server, _)) = spec.name().split_once("__").filter(|_| mcp.contains(spec.name())) {
        return format!("mcp:{server}");
    }
    match project.workers().iter().find(|w| w.name == spec.name()) {
        Some(w) => w.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        None if project.specs().any(|s| s.name() == spec.name()) => "built-in".to_owned(),
        None => "rust".to_owned(),
    }
}

fn list(dir: &Path, host: &Registry, as_json: bool, mcp: &BTreeSet<String>) -> Exit {
    let project = match load(dir, host) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let rt = project.register(host_builder(host)).build();
    let mut specs: Vec<&Arc<CallableSpec>> = rt.registry().iter().collect();
    specs.sort_by_key(|s| (!s.kind().is_stochastic(), s.name().to_owned()));
    let entries: Vec<Value> = specs
        .iter()
        .map(|s| {
            let mut e = json!({
                "name": s.name(),
                "kind": if s.kind().is_stochastic() { "worker" } else { "tool" },
                "source": source_of(&project, s, mcp),
                "description": s.description(),
                "input": s.input_schema(),
                "output": s.output_schema(),
            });
            if let Some(w) = s.worker() {
                e["model"] = json!(w.model);
                e["tools"] = json!(w.tools.iter().map(|t| t.name()).collect::<Vec<_>>());
            }
            if let Some(v) = s.approval() {
                e["approval"] = json!(v);
            }
            e
        })
        .collect();
    if as_json {
        let out = json!({"project": dir, "entry": project.entry(), "callables": entries});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Exit::Ok;
    }
    // Names and descriptions come from project files: shown safe for a terminal.
    let mut shown = String::new();
    for e in &entries {
        let model = match e.get("model") {
            Some(Value::String(m)) => format!(", model {m}"),
            Some(_) => ", default model".to_owned(),
            None => String::new(),
        };
        let entry = if project.entry() == e["name"].as_str() { " (entry)" } else { "" };
        shown.push_str(&format!(
            "{} [{}, {}{model}]{entry}\n",
            e["name"].as_str().unwrap_or(""),
            e["kind"].as_str().unwrap_or(""),
            e["source"].as_str().unwrap_or("")
        ));
        let description = e["description"].as_str().unwrap_or("");
        if !description.is_empty() {
            shown.push_str(&format!("    {description}\n"));
        }
        if let Some(tools) = e.get("tools").and_then(Value::as_array).filter(|t| !t.is_empty()) {
            let names: Vec<&str> = tools.iter().filter_map(Value::as_str).collect();
            shown.push_str(&format!("    tools:  {}\n", names.join(", ")));
        }
        shown.push_str(&format!("    input:  {}\n    output: {}\n", e["input"], e["output"]));
    }
    print!("{}", crate::terminal::safe(&shown));
    Exit::Ok
}

/// A builder with the host's callables.
pub(crate) fn host_builder(host: &Registry) -> llm_do::RuntimeBuilder {
    let builder = host.iter().fold(Runtime::builder(), |b, spec| b.register(spec.clone()));
    host.sources().fold(builder, |b, source| b.source(source.clone()))
}

/// The `--json` result of a run that did not start: no output, no usage.
fn not_started_json(worker: Option<&str>, message: &str) -> Value {
    json!({
        "worker": worker,
        "ok": false,
        "error": message,
        "usage": {"requests": 0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
    })
}

fn usage_error(message: impl std::fmt::Display) -> Exit {
    report(&message.to_string());
    Exit::Usage
}

/// The project directory and the worker a `run` starts with.
fn target(args: &RunArgs, host: &Registry) -> Result<(Project, String), String> {
    let is_file = args.target.is_file();
    let dir = if is_file {
        let ext = args.target.extension().and_then(|e| e.to_str()).unwrap_or_default();
        let manifest = args.target.file_name().is_some_and(|f| f == llm_do_project::MANIFEST_FILE);
        if ![llm_do_project::project::WORKER_EXTENSION, llm_do_project::AGENT_EXTENSION]
            .contains(&ext)
            && !manifest
        {
            return Err(format!(
                "{} is neither a project directory, a `.worker` or `.agent` file nor a project.json",
                args.target.display()
            ));
        }
        match args.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        }
    } else {
        args.target.clone()
    };
    let project = checked(&dir, host)?;
    let file_worker = is_file.then(|| {
        project
            .workers()
            .iter()
            .find(|w| w.path.file_name() == args.target.file_name())
            .map(|w| w.name.clone())
    });
    let entry = match (&args.worker, file_worker.flatten(), project.entry()) {
        (Some(w), _, _) => w.clone(),
        (None, Some(w), _) => w,
        (None, None, Some(e)) => e.to_owned(),
        (None, None, None) => {
            let names: Vec<&str> = project.workers().iter().map(|w| w.name.as_str()).collect();
            return Err(format!(
                "{} has several workers ({}) and no entry: pass --worker NAME, or set `entry = \"NAME\"` in llm-do.toml",
                dir.display(),
                names.join(", ")
            ));
        }
    };
    Ok((project, entry))
}

/// The arguments of the entry call: from the command line, else the project's `entry.args`
/// (project.json) when the entry runs.
fn input(args: &RunArgs, spec: &CallableSpec, project: &Project) -> Result<Value, String> {
    let config = project.config();
    let given = args.input.is_some() || args.input_json.is_some();
    if given && !config.allow_cli_input {
        return Err(format!(
            "{} does not accept input on the command line (`allow_cli_input: false` in project.json): its `entry.args` are the input",
            project.root().display()
        ));
    }
    if let (false, Some(entry_args)) = (given, &config.entry_args)
        && project.entry() == Some(spec.name())
    {
        return Ok(entry_args.clone());
    }
    if let Some(text) = &args.input_json {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("--input-json is not valid JSON: {e}"))?;
        // Checked before the run starts: bad input is a usage error (exit 2), like bad JSON.
        return match spec.validate_input(&value) {
            Err(Error::InvalidArguments { message, .. }) => Err(format!(
                "--input-json does not fit the input schema of `{}`: {message} (expected {})",
                spec.name(),
                spec.input_schema()
            )),
            _ => Ok(value),
        };
    }
    let text = match args.input.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the input from stdin: {e}"))?;
            s
        }
        Some(text) => text.to_owned(),
        None => {
            let required =
                spec.input_schema()["required"].as_array().is_some_and(|r| !r.is_empty());
            if required {
                return Err(format!(
                    "`{}` needs an input: give it as an argument (`-` reads stdin) or as --input-json, matching {}",
                    spec.name(),
                    spec.input_schema()
                ));
            }
            return Ok(json!({}));
        }
    };
    // With --attach, the attachment parameter is filled from the files, not from the text.
    let props = spec.input_schema()["properties"].as_object().map_or(0, |p| {
        p.values().filter(|s| args.attach.is_empty() || !is_attachment_schema(s)).count()
    });
    if props != 1 {
        return Err(format!(
            "`{}` takes {props} parameters, not one text: pass them as --input-json matching {}",
            spec.name(),
            spec.input_schema()
        ));
    }
    Ok(Value::String(text))
}

/// Writes `llm-do: <message>` on stderr, made safe for a terminal ([`crate::terminal::safe`]).
fn report(message: &str) {
    eprintln!("llm-do: {}", crate::terminal::safe(message));
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

async fn run(args: RunArgs, host: Registry) -> Exit {
    // A run that cannot start: a usage error, on stderr and (--json) as the JSON result.
    let not_started = |worker: Option<&str>, message: String| {
        if args.json {
            println!("{}", not_started_json(worker, &message));
        }
        usage_error(message)
    };
    let (project, entry) = match target(&args, &host) {
        Ok(t) => t,
        Err(message) => return not_started(None, message),
    };
    if let Some(m) = &args.model
        && let Err(e) = ModelRef::parse(m)
    {
        return not_started(Some(&entry), format!("--model: {e}"));
    }
    // Everything that will be registered: the host's callables, then the project's (file
    // workers re-made with --model when given).
    let mut specs: Vec<Arc<CallableSpec>> = host.iter().cloned().collect();
    specs.extend(project.specs().cloned());
    let mut builder = project.register(host_builder(&host).with_default_providers());
    if let Some(model) = &args.model {
        builder = builder.default_model(model.clone());
        for w in project.workers() {
            let mut w = w.clone();
            w.model = Some(model.clone());
            match w.to_spec() {
                Ok(spec) => {
                    specs.retain(|s| s.name() != spec.name());
                    specs.push(spec.clone());
                    builder = builder.register(spec);
                }
                Err(e) => return not_started(Some(&entry), e.to_string()),
            }
        }
    }
    let Some(spec) = specs.iter().rev().find(|s| s.name() == entry).cloned() else {
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        return not_started(
            Some(&entry),
            format!("no worker or tool named `{entry}` (known: {})", names.join(", ")),
        );
    };
    // Agents that accept only some models (`compatible_models`) are checked against the model
    // this run gives workers that name none.
    let chosen = args
        .model
        .clone()
        .or_else(|| std::env::var(llm_do::setup::MODEL_ENV).ok().filter(|m| !m.trim().is_empty()))
        .or_else(|| project.config().model.clone());
    if let Some(model) = &chosen
        && let Err(diagnostics) = project.check_model(model)
    {
        eprintln!("{}", crate::terminal::safe(&diagnostics.to_string()));
        return not_started(
            Some(&entry),
            format!("the model `{model}` is not compatible with the project"),
        );
    }
    let input = match input(&args, &spec, &project).and_then(|input| {
        let files = AttachmentFiles::new(project.root()).map_err(|e| e.to_string())?;
        attach::add_attachments(&spec, input, &args.attach, &files, &AttachmentLimits::default())
    }) {
        Ok(v) => v,
        Err(message) => return not_started(Some(&entry), message),
    };
    if let Some(depth) = args.max_depth {
        builder = builder.max_depth(depth);
    }
    // Budgets: the command line, else the entry worker's `budget:` (the project's and the
    // defaults are already set by `register`).
    let mut budget = llm_do_project::Budget {
        requests: args.max_requests,
        tokens: args.max_tokens,
        tool_calls: args.max_tool_calls,
    };
    if let Some(w) = project.workers().iter().find(|w| w.name == entry) {
        budget = budget.or(w.budget);
    }
    builder = budget.apply(builder);
    let mut timeouts = project.config().openai;
    timeouts.connect = args.connect_timeout.or(timeouts.connect);
    timeouts.first_byte = args.first_byte_timeout.or(timeouts.first_byte);
    timeouts.request = args.request_timeout.or(timeouts.request);
    builder = models::with_openai_timeouts(builder, timeouts);
    let stderr_tty = std::io::stderr().is_terminal();
    let display = Display::new(if stderr_tty { Mode::Live } else { Mode::Plain }, args.verbose);
    builder = builder.subscribe(display.clone());
    if args.approve_all {
        builder = builder.approver(ApproveAll);
    } else if args.deny_all {
        builder = builder.approver(DenyAll);
    } else if project.config().approval_mode == ApprovalMode::Prompt {
        let stdin_tty = std::io::stdin().is_terminal() && args.input.as_deref() != Some("-");
        builder = if stdin_tty {
            builder.approver(TerminalApprover::new(display.clone()))
        } else if project.config().return_permission_errors {
            // project.json's `return_permission_errors`: the model is told, the run goes on.
            builder.approver(DenyAll)
        } else {
            builder.approver(HeadlessApprover)
        };
    }
    let log = match &args.log {
        Some(path) => match RunLogWriter::create(path, &specs) {
            Ok(w) => {
                builder = builder.subscribe(w.clone());
                Some(w)
            }
            Err(e) => {
                return not_started(
                    Some(&entry),
                    format!("cannot create the run log {}: {e}", path.display()),
                );
            }
        },
        None => None,
    };
    let rt = builder.build();
    let ctx = rt.ctx();
    // SIGINT/SIGTERM end the run like an abort: the run's future is dropped, which kills
    // every command a shell tool is running (and everything they started), then the CLI
    // reports, finishes its log and exits with 130/143.
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
        Ok(Err(e)) => (exit_for(&e, &entry), None, Some(e.to_string())),
        Err(reason) => (interrupted.map_or(Exit::Denied, |s| s.exit()), None, Some(reason)),
    };
    // stdout: secrets redacted always; control characters escaped when it is a terminal
    // (see `terminal`), the raw value otherwise (it is data for the next program).
    let redactor = crate::terminal::redactor();
    if args.json {
        let mut out = json!({"worker": entry, "ok": code == Exit::Ok, "usage": usage_json});
        if let Some(v) = &output {
            out["output"] = redactor.redact_json(v.clone());
        }
        if let Some(e) = &error {
            out["error"] = json!(redactor.redact(e));
        }
        println!("{out}");
    } else if let Some(v) = &output {
        let text = match v {
            Value::String(s) => redactor.redact(s),
            other => serde_json::to_string_pretty(&redactor.redact_json(other.clone()))
                .unwrap_or_default(),
        };
        if std::io::stdout().is_terminal() {
            println!("{}", crate::terminal::escape_controls(&text));
        } else {
            println!("{text}");
        }
    }
    if let Some(e) = &error {
        report(&e.to_string());
    }
    code
}

/// `llm-do harden-report`: the worker's recorded calls replayed against the candidate.
async fn harden_report(args: HardenArgs, host: Registry) -> Exit {
    if let Some(rate) = args.min_rate
        && !(0.0..=1.0).contains(&rate)
    {
        return usage_error(format!("--min-rate must be between 0 and 1, not {rate}"));
    }
    let builder = match &args.project {
        Some(dir) => match load(dir, &host) {
            Ok(project) => project.register(host_builder(&host).with_default_providers()),
            Err(code) => return code,
        },
        None => host_builder(&host),
    };
    let rt = builder.approver(DenyAll).build();
    let mut seen = Vec::new();
    for path in &args.logs {
        let found = match evidence(path, &args.worker, rt.registry()) {
            Ok(found) => found,
            Err(e) => return usage_error(e),
        };
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
    println!("{}", crate::terminal::safe(&report.to_string()));
    match args.min_rate {
        Some(rate) if report.agreement_rate() < rate => {
            eprintln!(
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
/// definition must be in `registry` (the host program's, or `--project`'s).
fn evidence(
    path: &Path,
    worker: &str,
    registry: &Registry,
) -> Result<Vec<llm_do::testing::hardening::Observation>, String> {
    use llm_do::testing::cassette::{CASSETTE_FORMAT, Cassette};
    let text = llm_do_project::file::read_text(path, run_log::MAX_LOG_BYTES)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let is_cassette = serde_json::from_str::<Value>(&text)
        .is_ok_and(|v| v.get("format").and_then(Value::as_str) == Some(CASSETTE_FORMAT));
    if !is_cassette {
        // Read once: the text already in hand is the run log's.
        return run_log::parse(path, &text)
            .map(|records| run_log::RunLog(records).observations_of(worker))
            .map_err(|e| e.to_string());
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
    llm_do::testing::hardening::observations(&cassette, spec).map_err(|e| e.to_string())
}
