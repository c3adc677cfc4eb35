//! `llm-do restate ...`: a project's workers as a durable Restate service, and the commands
//! that answer its approvals. See `docs/durable.md`.
//!
//! - `llm-do restate serve PROJECT --port P [--register ADMIN_URL]`
//! - `llm-do restate approve ID [--deny [--reason TEXT]] [--ingress URL]`
//! - `llm-do restate pending RUN_ID [--ingress URL]`

use crate::exit::Exit;
use crate::mcp::Servers;
use clap::{Args, Subcommand};
use llm_do::setup::RuntimeBuilderExt as _;
use llm_do::{Registry, Runtime};
use llm_do_project::Project;
use llm_do_restate::{ApprovalAnswer, Client, DurableService};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

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
}

/// `llm-do restate serve` arguments.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The project directory.
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
    /// The model of workers that name none (`provider:name`).
    #[arg(long)]
    model: Option<String>,
}

/// Runs a `llm-do restate` command.
pub(crate) async fn command(command: RestateCommand, host: Registry) -> Exit {
    match command {
        RestateCommand::Serve(args) => serve(args, host).await,
        RestateCommand::Approve { id, deny, reason, ingress } => {
            let answer = ApprovalAnswer { approve: !deny, reason };
            match Client::new(ingress).approve(&id, &answer).await {
                Ok(()) => {
                    eprintln!(
                        "llm-do: {} {}",
                        if deny { "denied" } else { "approved" },
                        id.escape_debug()
                    );
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                    Exit::RunFailed
                }
            }
        }
        RestateCommand::Pending { run_id, ingress } => {
            match Client::new(ingress).pending(&run_id).await {
                Ok(pending) => {
                    println!("{}", serde_json::to_string_pretty(&pending).unwrap_or_default());
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                    Exit::RunFailed
                }
            }
        }
    }
}

async fn serve(args: ServeArgs, host: Registry) -> Exit {
    let servers = match Servers::start(&args.project).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let host = servers.registry(&host);
    let project = match Project::check(&args.project, &host) {
        Ok(p) => p,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            servers.close().await;
            return Exit::Usage;
        }
    };
    let mut builder = project
        .register(host.iter().fold(Runtime::builder(), |b, s| b.register(s.clone())))
        .with_default_providers();
    if let Some(model) = &args.model {
        if let Err(e) = llm_do::ModelRef::parse(model) {
            eprintln!("llm-do: --model: {e}");
            servers.close().await;
            return Exit::Usage;
        }
        builder = builder.default_model(model.clone());
    }
    let listener = match tokio::net::TcpListener::bind((args.host, args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("llm-do: cannot listen on {}:{}: {e}", args.host, args.port);
            servers.close().await;
            return Exit::Usage;
        }
    };
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    eprintln!("llm-do: serving the Restate service LlmDo at http://{bound}");
    let service = DurableService::new(builder.build());
    let served = tokio::spawn(service.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    if let Some(admin) = &args.register {
        let client = Client::new("http://127.0.0.1:8080").admin(admin.clone());
        match client.register(&format!("http://{bound}")).await {
            Ok(()) => eprintln!("llm-do: registered with {}", admin.escape_debug()),
            Err(e) => {
                eprintln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
                served.abort();
                servers.close().await;
                return Exit::RunFailed;
            }
        }
    }
    let _ = served.await;
    servers.close().await;
    Exit::Ok
}
