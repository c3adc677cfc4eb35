//! `llm-do serve --model M --port P`: a model behind an OpenAI-compatible HTTP API
//! ([`crate::serve`]); and `llm-do fetch-model`, which caches the embedded model it serves by
//! default.

use super::flags::ProviderFlags;
use super::report;
use crate::exit::Exit;
use crate::models::{self, LocalOptions};
use crate::serve::Limits;
use clap::Args;
use clap::builder::RangedU64ValueParser;
use llm_do_project::ProviderSettings;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The model to serve, `provider:name`.
    #[arg(long, default_value = "local:smollm2")]
    model: String,
    /// Port to listen on (0 picks a free one; the address is printed on stdout).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Inference threads of a local model (default: cores, at most 8).
    #[arg(long)]
    threads: Option<u32>,
    /// Context window of a local model, in tokens.
    #[arg(long)]
    context_size: Option<u32>,
    /// Most requests in flight at once; one more is answered at once with a 503
    /// (`server_overloaded`, `Retry-After: 1`) and is not queued (default: four per core).
    #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    max_requests: Option<usize>,
    /// Most open connections; while that many are open, no other is accepted (it waits in
    /// the system's listen backlog).
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_CONNECTIONS,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    max_connections: usize,
    /// Require every request to carry `Authorization: Bearer <key>`, the key being the value
    /// of the environment variable VAR (not given on the command line, where `ps` would show
    /// it); a request without it is answered 401. Without it, anyone who can reach the
    /// address is served: give one whenever `--host` is not a loopback address.
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    #[command(flatten)]
    provider: ProviderFlags,
}

/// `llm-do serve`: resolves the model, then serves it until the process ends.
pub(super) async fn serve(args: ServeArgs) -> Exit {
    let ServeArgs {
        model,
        port,
        host,
        threads,
        context_size,
        max_requests,
        max_connections,
        api_key_env,
        provider,
    } = args;
    let limits = Limits {
        max_requests: max_requests.unwrap_or_else(Limits::default_max_requests),
        max_connections,
    };
    let api_key =
        match api_key_env.map(|var| super::flags::bearer_token_from_env("--api-key-env", &var)) {
            None => None,
            Some(Ok(key)) => Some(key),
            Some(Err(message)) => {
                report(&message);
                return Exit::Usage;
            }
        };
    if api_key.is_none() && !host.is_loopback() {
        crate::output::errln!(
            "llm-do: warning: serving on {host} without an API key: anyone who can reach this \
             address can use the model (give one with --api-key-env VAR)"
        );
    }
    let options = crate::serve::Options { limits, api_key };
    let openai = provider.over(&ProviderSettings::default());
    let local = LocalOptions { threads, context_size };
    let served = match models::resolve(&model, local, openai).await {
        Ok(s) => s,
        Err(e) => {
            report(&format!("{e:#}"));
            return Exit::Usage;
        }
    };
    match crate::serve::bind_and_run(SocketAddr::new(host, port), Arc::new(served), options).await {
        Ok(()) => Exit::Ok,
        Err(e) => {
            report(&e.to_string());
            Exit::RunFailed
        }
    }
}

/// `llm-do fetch-model`: the embedded model fetched into the cache; its path on stdout.
pub(super) fn fetch_model() -> Exit {
    match fetch() {
        Ok(()) => Exit::Ok,
        Err(e) => {
            report(&format!("{e:#}"));
            Exit::RunFailed
        }
    }
}

#[cfg(feature = "local")]
fn fetch() -> anyhow::Result<()> {
    use llm_do::providers::local::cache::{ModelCache, SMOLLM2};
    let path = ModelCache::default_location()?.ensure(&SMOLLM2)?;
    crate::output::outln!("{}", path.display());
    Ok(())
}

#[cfg(not(feature = "local"))]
fn fetch() -> anyhow::Result<()> {
    anyhow::bail!("this build of llm-do has no `local` feature: rebuild with `--features local`")
}
