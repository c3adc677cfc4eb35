//! `llm-do-testkit serve`: the OpenAI-compatible test server as a standalone process, for
//! benchmarks and for clients of other frameworks.

use clap::{Args, Parser, Subcommand};
use llm_do_testkit::{FaultKind, TestServer, TestkitError, load_script};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// An OpenAI-compatible HTTP test server on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "llm-do-testkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the chat completions API until Ctrl-C.
    Serve(Serve),
}

#[derive(Debug, Args)]
struct Serve {
    /// Port on 127.0.0.1 (0 picks a free one; the line printed says which).
    #[arg(long)]
    port: u16,
    /// Milliseconds to wait before every chat answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// A JSON array of replies, served in order before the default behaviour.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Share of chat requests (0 to 1, e.g. 0.3 for 30%) that get one of `--faults`.
    #[arg(long, requires = "faults", allow_negative_numbers = true)]
    fault_rate: Option<f64>,
    /// Seed for drawing faults.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Fault kinds to draw from, comma-separated (e.g. `429,500,close-mid-body`).
    #[arg(long, value_delimiter = ',')]
    faults: Vec<FaultKind>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Serve(args) = Cli::parse().command;
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        // A bad argument is a usage error, as clap's own are.
        Err(e @ TestkitError::FaultRate { .. }) => {
            eprintln!("llm-do-testkit: error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("llm-do-testkit: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Serve) -> Result<(), TestkitError> {
    let script = match &args.script {
        Some(path) => load_script(path)?,
        None => Vec::new(),
    };
    // Nobody can read a standalone server's recorded requests: it keeps none, so that its
    // memory stays flat under a benchmark's load.
    let mut builder = TestServer::builder()
        .keep_requests(0)
        .port(args.port)
        .latency(Duration::from_millis(args.latency_ms))
        .script(script);
    if let Some(rate) = args.fault_rate {
        builder = builder.fault_rate(rate, args.fault_seed, args.faults);
    }
    let server = builder.start().await?;
    let mut stdout = std::io::stdout();
    // If stdout is gone there is nobody to tell; the server still runs.
    let _ = writeln!(stdout, "listening on {}", server.base_url());
    let _ = stdout.flush();
    tokio::signal::ctrl_c().await.map_err(TestkitError::Serve)?;
    server.shutdown().await
}
