//! `llm-do restate ...`: a project's workers as a durable Restate service, and the commands
//! that answer its approvals. See `docs/durable.md`.
//!
//! - `llm-do restate serve PROJECT --port P [--register ADMIN_URL] [--model M] [--log DIR]
//!   [--retention-days N]`
//! - `llm-do restate approve ID [--deny [--reason TEXT]] [--ingress URL]`
//! - `llm-do restate pending RUN_ID [--ingress URL]`
//! - `llm-do restate events RUN_ID [--json] [--ingress URL]`
//! - `llm-do restate cancel RUN_ID [--reason TEXT] [--ingress URL]`
//! - `llm-do restate submit RUN_ID WORKER [INPUT | --input-json JSON] [--wait SECS] [--ingress URL]`
//! - `llm-do restate output RUN_ID [--timeout SECS] [--ingress URL]`
//!
//! A served project's runs keep their events as run-log records (the `llm-do run --log`
//! schema, [`crate::run_log`]), so `events` prints what `run --log` writes.

use crate::app::flags::{ModelFlag, ProviderFlags};
use crate::exit::Exit;
use crate::run_log;
use clap::{Args, Subcommand};
use llm_do::{Registry, Runtime};
use llm_do_restate::{ApprovalAnswer, Client, DurableService, Recorder};
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod submit;

/// `llm-do restate` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum RestateCommand {
    /// Serve a project's workers as the Restate service `LlmDo` (one run per run id; every
    /// model request and tool execution journaled; approvals wait durably).
    Serve(ServeArgs),
    /// Answer an approval a durable run waits for (the id the service prints, or `pending`
    /// lists): run the call, or with --deny refuse it and end the run with the denial error.
    Approve {
        /// The approval's id.
        id: String,
        /// Refuse the call.
        #[arg(long)]
        deny: bool,
        /// Why (with --deny).
        #[arg(long, requires = "deny")]
        reason: Option<String>,
        /// The Restate ingress URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ingress: String,
    },
    /// List the approvals a durable run waits for (JSON).
    Pending {
        /// The run id.
        run_id: String,
        /// The Restate ingress URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ingress: String,
    },
    /// Print a durable run's events so far, one run-log record per line (the `llm-do run
    /// --log` schema: `llm-do log show` reads them), and its status and usage on stderr. Kept
    /// by Restate across restarts of the service, and after the run for its retention.
    Events {
        /// The run id.
        run_id: String,
        /// Print one JSON object instead: `status`, `usage`, `failure` and `events`.
        #[arg(long)]
        json: bool,
        /// The Restate ingress URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ingress: String,
    },
    /// Start a durable run of WORKER under RUN_ID (Restate runs it once per id: submitting
    /// the same id again with the same worker and input is the same run; with another worker
    /// or input it is refused, exit 2); with --wait, wait for its output and print it as
    /// `llm-do run` prints a result (exit 1 if the run failed, 2 for bad input or an unknown
    /// worker, 3 if a call was denied).
    Submit {
        /// The run id (letters, digits, `_`, `-` and `.`).
        run_id: String,
        /// The worker (or tool) to run, by name.
        worker: String,
        /// The input, as text, for a worker of one parameter (`{input}`).
        #[arg(conflicts_with = "input_json")]
        input: Option<String>,
        /// The input as JSON (an object of named arguments).
        #[arg(long, value_name = "JSON")]
        input_json: Option<String>,
        /// Wait at most SECS for the run's output and print it (the run goes on if it takes
        /// longer: `llm-do restate output RUN_ID` waits again).
        #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
        wait: Option<u64>,
        /// The Restate ingress URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ingress: String,
    },
    /// Wait for a durable run's output and print it as `llm-do run` prints a result (its
    /// usage on stderr; exit 1 if the run failed, 2 for bad input or an unknown worker, 3 if a
    /// call was denied).
    Output {
        /// The run id.
        run_id: String,
        /// Wait at most this many seconds (the run goes on if it takes longer).
        #[arg(long, value_name = "SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
        timeout: u64,
        /// The Restate ingress URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ingress: String,
    },
    /// Cancel a durable run under way: it ends at its next step (a step already under way, a
    /// model request or a tool, runs to its end first) with the error kind `cancelled`, its
    /// record kept. A run that has ended stays as it ended.
    Cancel {
        /// The run id.
        run_id: String,
        /// Why (the run's error and record carry it).
        #[arg(long)]
        reason: Option<String>,
        /// The Restate ingress URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        ingress: String,
    },
}

/// `llm-do restate serve` arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The project directory (or a `.worker`/`.agent` file or project.json in it).
    project: PathBuf,
    /// Port to listen on for the Restate server.
    #[arg(long, default_value_t = 9080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Register this deployment with the Restate admin API at this URL once listening
    /// (e.g. http://127.0.0.1:9070).
    #[arg(long, value_name = "ADMIN_URL")]
    register: Option<String>,
    #[command(flatten)]
    model: ModelFlag,
    #[command(flatten)]
    provider: ProviderFlags,
    /// Keep each finished run (its output and its record, `events`) in Restate for this many
    /// days after it ends (Restate's workflow retention; default: Restate's, one day).
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    retention_days: Option<u32>,
    /// Write each run's log to DIR/RUN_ID.jsonl (the `llm-do run --log` schema), as the run
    /// goes; a run resumed after a crash rewrites its log whole.
    #[arg(long, value_name = "DIR")]
    log: Option<PathBuf>,
}

impl ServeArgs {
    /// The project the command serves, as given.
    pub(crate) fn project(&self) -> &Path {
        &self.project
    }
}

/// Runs a `llm-do restate` command.
pub(crate) async fn command(command: RestateCommand, host: Registry) -> Exit {
    match command {
        RestateCommand::Serve(args) => {
            let dir = args.project.clone();
            serve(args, &dir, &host).await
        }
        RestateCommand::Approve { id, deny, reason, ingress } => {
            let answer = ApprovalAnswer { approve: !deny, reason };
            match Client::new(ingress).approve(&id, &answer).await {
                Ok(()) => {
                    crate::output::errln!(
                        "llm-do: {} {}",
                        if deny { "denied" } else { "approved" },
                        id.escape_debug()
                    );
                    Exit::Ok
                }
                Err(e) => {
                    crate::output::errln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                    Exit::RunFailed
                }
            }
        }
        RestateCommand::Pending { run_id, ingress } => {
            match Client::new(ingress).pending(&run_id).await {
                Ok(pending) => {
                    // The arguments of the calls waiting: a model's words, shown as JSON data.
                    let pending = serde_json::to_value(&pending).unwrap_or_default();
                    crate::output::outln!("{}", crate::terminal::json_pretty(&pending));
                    Exit::Ok
                }
                Err(e) => {
                    crate::output::errln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                    Exit::RunFailed
                }
            }
        }
        RestateCommand::Events { run_id, json, ingress } => events(&run_id, json, ingress).await,
        RestateCommand::Submit { run_id, worker, input, input_json, wait, ingress } => {
            let wait = wait.map(Duration::from_secs);
            let submission = submit::Submission { run_id, worker, input, input_json, wait };
            submit::submit(submission, ingress).await
        }
        RestateCommand::Output { run_id, timeout, ingress } => {
            submit::output(&Client::new(ingress), &run_id, Duration::from_secs(timeout)).await
        }
        RestateCommand::Cancel { run_id, reason, ingress } => {
            match Client::new(ingress).cancel(&run_id, reason.as_deref()).await {
                Ok(true) => {
                    crate::output::errln!(
                        "llm-do: cancelled run {}: it ends at its next step",
                        run_id.escape_debug()
                    );
                    Exit::Ok
                }
                Ok(false) => {
                    crate::output::errln!(
                        "llm-do: run {} had already ended; nothing to cancel",
                        run_id.escape_debug()
                    );
                    Exit::Ok
                }
                Err(e) => {
                    crate::output::errln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                    Exit::RunFailed
                }
            }
        }
    }
}

async fn events(run_id: &str, json: bool, ingress: String) -> Exit {
    let record = match Client::new(ingress).record(run_id).await {
        Ok(r) => r,
        Err(e) => {
            crate::output::errln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
            return Exit::RunFailed;
        }
    };
    // Data for the next program: secrets redacted, controls escaped on a terminal only.
    let tty = std::io::stdout().is_terminal();
    let print = |text: &str| {
        let text = crate::terminal::redactor().redact(text);
        if tty {
            crate::output::outln!("{}", crate::terminal::escape_controls(&text));
        } else {
            crate::output::outln!("{text}");
        }
    };
    if json {
        let record = serde_json::to_value(&record).unwrap_or_default();
        crate::output::outln!("{}", crate::terminal::json_pretty(&record));
        return Exit::Ok;
    }
    for event in &record.events {
        print(&event.to_string());
    }
    let u = record.usage;
    let failure = record
        .failure
        .as_ref()
        .map(|f| format!(" ({}: {})", f.kind, f.message))
        .unwrap_or_default();
    crate::output::errln!(
        "llm-do: run {} {}{}: {} events, {} requests, {} input + {} output tokens",
        run_id.escape_debug(),
        record.status,
        crate::terminal::safe(&failure),
        record.events.len(),
        u.requests,
        u.input_tokens,
        u.output_tokens
    );
    Exit::Ok
}

/// Records a served run's events as run-log records.
fn run_log_recorder(rt: &Runtime) -> Recorder {
    let specs: HashMap<String, run_log::SpecInfo> =
        rt.registry().iter().map(|s| (s.name().to_owned(), run_log::SpecInfo::of(s))).collect();
    let redactor = crate::terminal::redactor();
    Arc::new(move |event| {
        serde_json::to_value(run_log::record(event, &specs, redactor)).unwrap_or_default()
    })
}

/// `llm-do restate serve PROJECT`: the project in `dir`, whose name space is `host` (the
/// host's callables and the tools of the project's MCP servers, started by the caller).
pub(crate) async fn serve(args: ServeArgs, dir: &Path, host: &Registry) -> Exit {
    let project = match crate::app::checked(dir, host) {
        Ok(p) => p,
        Err(summary) => return crate::app::usage_error(summary),
    };
    // The providers first: the project's `model =` then wins over the environment's default
    // (the embedded model when no key is set), as in `run` and `chat`.
    let builder =
        project.register(crate::models::default_providers(crate::app::host_builder(host)));
    let settings = args.provider.over(&project.config().openai);
    let builder = crate::models::with_openai_settings(builder, settings, false);
    // --model as `llm-do run` has it: every file worker's model, and Rust workers' that name
    // none (the list of what is registered is not needed here).
    let mut builder = match args.model.apply(builder, &project, host, &mut Vec::new()) {
        Ok(builder) => builder,
        Err(message) => return crate::app::usage_error(message),
    };
    if project.config().approval_mode == llm_do_project::ApprovalMode::Prompt {
        // Asked only for a call inside a step (a worker that a Rust tool calls), where a
        // durable run cannot wait for a person; every other approval is a durable wait.
        builder = builder.approver(|r: &llm_do::approval::ApprovalRequest| {
            llm_do::approval::Decision::deny(format!(
                "`{}` needs approval, and it was asked for inside the step of a Rust tool, where \
                 a durable run cannot wait for a person; allow it with an approval rule in \
                 llm-do.toml",
                r.tool
            ))
        });
    }
    if let Some(dir) = &args.log
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        crate::output::errln!("llm-do: cannot create the log directory {}: {e}", dir.display());
        return Exit::Usage;
    }
    let listener = match tokio::net::TcpListener::bind((args.host, args.port)).await {
        Ok(l) => l,
        Err(e) => {
            crate::output::errln!("llm-do: cannot listen on {}:{}: {e}", args.host, args.port);
            return Exit::Usage;
        }
    };
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    crate::output::errln!("llm-do: serving the Restate service LlmDo at http://{bound}");
    let rt = builder.build();
    let mut service = DurableService::new(rt.clone()).recorder(run_log_recorder(&rt));
    // A worker file's `budget:` holds for every run of it, as for `llm-do run`.
    for (worker, limits) in project.entry_limits(rt.limits()) {
        service = service.run_limits(worker, limits);
    }
    if let Some(days) = args.retention_days {
        service = service.retention(std::time::Duration::from_secs(u64::from(days) * 86_400));
    }
    if let Some(dir) = &args.log {
        service = service.log_dir(dir.clone());
        crate::output::errln!("llm-do: logging runs to {}/RUN_ID.jsonl", dir.display());
    }
    let served = tokio::spawn(service.serve(listener, crate::signals::shutdown()));
    if let Some(admin) = &args.register {
        let client = Client::new("http://127.0.0.1:8080").admin(admin.clone());
        match client.register(&format!("http://{bound}")).await {
            Ok(()) => crate::output::errln!("llm-do: registered with {}", admin.escape_debug()),
            Err(e) => {
                crate::output::errln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                served.abort();
                return Exit::RunFailed;
            }
        }
    }
    let _ = served.await;
    Exit::Ok
}
