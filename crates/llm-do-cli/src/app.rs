//! The command line itself: the clap types of the command line ([`Cli`], [`Command`]), the
//! dispatch to one module per command, and what the commands share (loading a project, the
//! host's builder, reporting). [`main_with`] runs it with a host program's Rust workers and
//! tools in the project's name space.
//!
//! Commands: [`run`], [`check`], [`list`], [`log`], [`harden`] (`harden-report`), [`serve`]
//! (`serve`, `fetch-model`); `chat`, `mcp` and `restate` live in the crate's modules of
//! those names.

mod check;
pub(crate) mod flags;
mod harden;
mod list;
mod log;
mod run;
pub(crate) use run::error_text;
mod serve;

use crate::exit::{self, Exit};
use clap::{Parser, Subcommand};
use llm_do::{Registry, Runtime};
use llm_do_project::Project;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    Run(run::RunArgs),
    /// Chat with a project's worker: each input is one turn of a conversation that the worker
    /// sees. On a terminal: a line editor, streamed answers, /help for commands; otherwise one
    /// answer per input line (--json: one JSON object per line).
    #[command(after_help = exit::HELP)]
    Chat(crate::chat::ChatArgs),
    /// Validate a project (every file, schema, model string and tool reference) without calling
    /// a model. Problems are printed as `file:line:col: error: ...` on stderr (exit code 2).
    #[command(after_help = exit::HELP)]
    Check {
        /// The project directory (or a `.worker`/`.agent` file or project.json in it).
        project: PathBuf,
        /// Do not start the `[mcp]` servers of llm-do.toml (programs of the project): their
        /// declarations are checked, not the tools they list. For a project you do not trust.
        #[arg(long)]
        no_servers: bool,
    },
    /// List a project's workers and tools with their kinds and schemas.
    #[command(after_help = exit::HELP)]
    List {
        /// The project directory (or a `.worker`/`.agent` file or project.json in it).
        project: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Read run logs written by `llm-do run --log FILE`.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Measure a candidate (a Rust tool of the host program, or any callable of --project)
    /// against a worker's calls recorded in run logs: replay each recorded input, compare the
    /// candidate's output with the worker's, and print the agreement rate and a table of the
    /// disagreeing cases.
    ///
    /// The plain `llm-do` binary has no Rust tools: run this from a host program that embeds
    /// the command line with `llm_do_cli::main_with` and registers the candidate.
    #[command(after_help = exit::HELP)]
    HardenReport(harden::HardenArgs),
    /// Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models).
    Serve(serve::ServeArgs),
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
    hide_secrets_from_children();
    run_with(std::env::args_os(), host)
}

/// On Linux, the values of every variable of llm-do's environment out of `/proc/PID/environ`,
/// where a command the shell tool runs or an MCP server could read them (`cat
/// /proc/$PPID/environ`; they are never passed to those; see
/// `llm_do_process::hide_secrets_from_proc`). Every value, not only the secret-looking
/// variables': a `DATABASE_URL=postgres://app:PASSWORD@…` or a webhook URL is not named like a
/// secret. llm-do itself still reads them all. It needs the process to have one thread: a host
/// program that starts threads before `main_with` is told how to do it itself. Without `/proc`
/// there is nothing to hide.
fn hide_secrets_from_children() {
    #[cfg(target_os = "linux")]
    if let Err(llm_do_process::HideError::Threads(n)) =
        llm_do_process::hide_secrets_from_proc(|_| true)
    {
        crate::output::errln!(
            "llm-do: warning: the process has {n} threads when main_with starts, so its \
             environment (API keys included) stays readable to the commands it starts in \
             /proc/PID/environ; call llm_do_process::hide_secrets_from_proc at the start of \
             main"
        );
    }
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
                crate::output::outln!("{}", run::not_started_json(None, first));
            }
            return ExitCode::from(if e.use_stderr() { Exit::Usage.code() } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            crate::output::errln!("llm-do: cannot start the async runtime: {e}");
            return Exit::RunFailed.into();
        }
    };
    let exit = runtime.block_on(command(cli.command, host));
    // Do not wait for a blocking read of stdin (an approval prompt cut short by a signal).
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    exit.into()
}

async fn command(command: Command, host: Registry) -> Exit {
    // The MCP servers of the project's llm-do.toml: their tools join the host's name space,
    // for every command that takes a project.
    let target = match &command {
        Command::Run(args) => Some(args.target.as_path()),
        Command::Chat(args) => Some(args.project()),
        Command::Check { project, .. } | Command::List { project, .. } => Some(project.as_path()),
        Command::HardenReport(args) => args.project(),
        Command::Mcp(args) => Some(args.project()),
        Command::Restate(crate::restate::RestateCommand::Serve(args)) => Some(args.project()),
        _ => None,
    };
    let Some(target) = target else { return other_command(command, host).await };
    let dir = match project_dir(target) {
        Ok(dir) => dir,
        // `run` reports a bad target itself (with --json, as one JSON object).
        Err(_) if matches!(command, Command::Run(_)) => return other_command(command, host).await,
        Err(message) => return usage_error(message),
    };
    if let Command::Check { no_servers: true, .. } = command {
        return check::check_without_servers(&dir, &host);
    }
    let servers = match crate::mcp::Servers::start(&dir).await {
        Ok(s) => s,
        Err(message) => {
            // `run --json` prints its one JSON object also when the servers did not start.
            if let Command::Run(args) = &command
                && args.json
            {
                crate::output::outln!("{}", run::not_started_json(None, &message));
            }
            return Exit::Usage;
        }
    };
    let with_mcp = servers.registry(&host);
    let code = match command {
        Command::Run(args) => run::run(args, with_mcp).await,
        Command::Chat(args) => crate::chat::chat(args, with_mcp).await,
        Command::HardenReport(args) => harden::harden_report(args, with_mcp).await,
        Command::Check { .. } => {
            let code = check::check(&dir, &with_mcp);
            if code == Exit::Ok {
                // The lines quote the servers (a tool left out, with the schema error that
                // quotes the server's schema): shown safe for a terminal, secrets redacted.
                for line in servers.summary().await {
                    crate::output::outln!("{}", crate::terminal::safe(&line));
                }
            }
            code
        }
        Command::List { json, .. } => list::list(&dir, &with_mcp, json, &servers.names()),
        Command::Mcp(args) => crate::mcp::serve(args, &dir, &with_mcp).await,
        Command::Restate(crate::restate::RestateCommand::Serve(args)) => {
            crate::restate::serve(args, &dir, &with_mcp).await
        }
        other => other_command(other, host).await,
    };
    servers.close().await;
    code
}

/// The project directory `target` names: a directory, or the directory of the `.worker` or
/// `.agent` file or the `project.json` given (every command that takes a project takes it so;
/// `run` and `chat` then start with that file's worker). An agent file in a subdirectory of
/// its project ([`llm_do_project::listing_project`]) names the project that lists it.
pub(crate) fn project_dir(target: &Path) -> Result<PathBuf, String> {
    if !target.is_file() {
        return Ok(target.to_owned());
    }
    let ext = target.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let manifest = target.file_name().is_some_and(|f| f == llm_do_project::MANIFEST_FILE);
    if ![llm_do_project::project::WORKER_EXTENSION, llm_do_project::AGENT_EXTENSION].contains(&ext)
        && !manifest
    {
        return Err(format!(
            "{} is neither a project directory, a `.worker` or `.agent` file nor a project.json",
            target.display()
        ));
    }
    if !manifest && let Some(dir) = llm_do_project::listing_project(target) {
        return Ok(dir);
    }
    Ok(match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    })
}

/// Why `project` (`allow_cli_input: false`) refuses input from the command line, followed by
/// `then` (what that means for the command refused): one wording for `run` and `chat`.
pub(crate) fn cli_input_refused(project: &Project, then: &str) -> String {
    format!(
        "{} does not accept input on the command line (`allow_cli_input: false` in project.json){then}",
        project.root().display()
    )
}

/// The worker `run` and `chat` start with: `--worker`, else the worker of the `.worker` or
/// `.agent` file `target` names (that very file: an error when the project does not load it),
/// else the project's entry.
pub(crate) fn start_worker(
    project: &Project,
    target: &Path,
    worker: Option<&str>,
) -> Result<String, String> {
    if let Some(w) = worker {
        return Ok(w.to_owned());
    }
    let is_manifest = target.file_name().is_some_and(|f| f == llm_do_project::MANIFEST_FILE);
    if target.is_file() && !is_manifest {
        let wanted =
            std::fs::canonicalize(target).map_err(|e| format!("{}: {e}", target.display()))?;
        let same = |w: &&llm_do_project::WorkerFile| {
            std::fs::canonicalize(&w.path).is_ok_and(|p| p == wanted)
        };
        return match project.workers().iter().find(same) {
            Some(w) => Ok(w.name.clone()),
            None => {
                let listed = project.root().join(llm_do_project::MANIFEST_FILE);
                let why = if llm_do_project::file::is_present(&listed) {
                    format!("it is not listed in {}'s agent_files", listed.display())
                } else {
                    "the project does not load it".to_owned()
                };
                Err(format!(
                    "{} is not a worker of the project in {}: {why}",
                    target.display(),
                    project.root().display()
                ))
            }
        };
    }
    match project.entry() {
        Some(e) => Ok(e.to_owned()),
        None => {
            let names: Vec<&str> = project.workers().iter().map(|w| w.name.as_str()).collect();
            Err(format!(
                "{} has several workers ({}) and no entry: pass --worker NAME, or set `entry = \"NAME\"` in llm-do.toml",
                project.root().display(),
                names.join(", ")
            ))
        }
    }
}

/// A command without the project's MCP servers (those that take no project, and `run` with a
/// target it reports itself).
async fn other_command(command: Command, host: Registry) -> Exit {
    match command {
        Command::Run(args) => run::run(args, host).await,
        Command::Chat(args) => crate::chat::chat(args, host).await,
        Command::Check { project, .. } => check::check(&project, &host),
        Command::List { project, json } => list::list(&project, &host, json, &Default::default()),
        Command::Mcp(args) => {
            let dir = args.project().to_owned();
            crate::mcp::serve(args, &dir, &host).await
        }
        Command::Restate(command) => crate::restate::command(command, host).await,
        Command::Log(command) => log::log(command),
        Command::HardenReport(args) => harden::harden_report(args, host).await,
        Command::Serve(args) => serve::serve(args).await,
        Command::FetchModel => serve::fetch_model(),
    }
}

/// Loads and checks a project, printing its diagnostics on failure.
fn load(dir: &Path, host: &Registry) -> Result<Project, Exit> {
    checked(dir, host).map_err(usage_error)
}

/// Loads and checks a project; on failure prints its diagnostics and returns the summary
/// (`N problems found in DIR`).
pub(crate) fn checked(dir: &Path, host: &Registry) -> Result<Project, String> {
    reported(Project::check(dir, host), dir)
}

/// A project as loaded (or checked) from `dir`; on failure its diagnostics printed and the
/// summary returned.
fn reported<T>(loaded: Result<T, llm_do_project::Diagnostics>, dir: &Path) -> Result<T, String> {
    loaded.map_err(|diagnostics| {
        crate::output::errln!("{}", crate::terminal::safe(&diagnostics.to_string()));
        let problems = crate::plural::counted(diagnostics.len(), "problem");
        format!("{problems} found in {}", dir.display())
    })
}

/// A builder with the host's callables.
pub(crate) fn host_builder(host: &Registry) -> llm_do::RuntimeBuilder {
    let builder = host.iter().fold(Runtime::builder(), |b, spec| b.register(spec.clone()));
    host.sources().fold(builder, |b, source| b.source(source.clone()))
}

/// Reports `message` (a usage error: exit code 2).
pub(crate) fn usage_error(message: impl std::fmt::Display) -> Exit {
    report(&message.to_string());
    Exit::Usage
}

/// Writes `llm-do: <message>` on stderr, made safe for a terminal ([`crate::terminal::safe`]).
fn report(message: &str) {
    crate::output::errln!("llm-do: {}", crate::terminal::safe(message));
}
