//! `llm-do`: see `llm-do --help`.

use clap::{Parser, Subcommand};
use llm_do_cli::models::{self, LocalOptions};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// llm-do: LLM workers as ordinary async Rust functions.
#[derive(Debug, Parser)]
#[command(name = "llm-do", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { model, port, host, threads, context_size } => {
            let served = models::resolve(&model, LocalOptions { threads, context_size }).await?;
            llm_do_cli::serve::bind_and_run(SocketAddr::new(host, port), Arc::new(served)).await?;
            Ok(())
        }
        Command::FetchModel => fetch_model(),
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
