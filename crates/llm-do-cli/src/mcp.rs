//! MCP in the command line: the servers a project declares in `llm-do.toml` (`[mcp.NAME]`),
//! started by every command that takes a project (`crate::app`) so that their tools join the
//! name space; and `llm-do mcp PROJECT`, which serves the project's workers and tools as MCP
//! tools (stdio, or streamable HTTP with `--http ADDR`). See `docs/mcp.md`.

use crate::app::flags::{LogFlag, ModelFlag, ProviderFlags};
use crate::app::usage_error;
use crate::exit::Exit;
use clap::Args;
use llm_do::approval::{ApprovalPolicy, ApprovalRequest, ApproveAll, Decision, Pattern};
use llm_do::{CallableSpec, Registry};
use llm_do_mcp::serve::McpService;
use llm_do_mcp::{McpServer, McpToolset};
use llm_do_project::{ApprovalMode, McpServerConfig, McpServerSettings, Project};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `llm-do mcp` arguments.
#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// The project directory whose workers and tools are served (or a `.worker`/`.agent`
    /// file or project.json in it).
    project: PathBuf,
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (e.g. 127.0.0.1:8765; port 0
    /// picks a free one; the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// With --http: answer only clients that send `Authorization: Bearer <token>`, the token
    /// being the value of the environment variable VAR (not given on the command line, where
    /// `ps` would show it); then requests for any `Host` are taken, so that the server can be
    /// reached by name. Without it, only `localhost`, `127.0.0.1` and `::1` are served.
    #[arg(long, value_name = "VAR", requires = "http")]
    token_env: Option<String>,
    /// Most tool calls in flight at once, over every client; one more is refused at once with
    /// a JSON-RPC error (-32001) and runs nothing.
    #[arg(long, value_name = "N", default_value_t = llm_do_mcp::serve::DEFAULT_MAX_CALLS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_calls: usize,
    /// Run every call that needs approval without asking (without this, such calls are asked
    /// of the client's user by MCP elicitation when the client supports it, else refused with a
    /// tool error unless the project's rules allow them).
    #[arg(long)]
    approve_all: bool,
    /// Serve only the workers and tools whose names match GLOB (repeatable, e.g. `--expose
    /// main --expose 'report_*'`); the served workers still call the whole name space. Without
    /// it, every worker and tool is served.
    #[arg(long, value_name = "GLOB")]
    expose: Vec<String>,
    #[command(flatten)]
    model: ModelFlag,
    #[command(flatten)]
    provider: ProviderFlags,
    #[command(flatten)]
    log: LogFlag,
}

/// How many of a project's MCP servers start at the same time.
const MAX_STARTING: usize = 8;

/// The MCP servers of a project, connected.
#[derive(Default)]
pub(crate) struct Servers {
    toolsets: Vec<McpToolset>,
}

impl Servers {
    /// Starts every server of `dir`'s `llm-do.toml` ([`MAX_STARTING`] at a time) and lists
    /// its tools. A configuration that does not parse starts nothing (the project check
    /// reports it). Failures are printed on stderr, with each server's stderr tail, and end
    /// the command with a usage error: `Err` holds what was printed (one line per failure,
    /// for `run --json`'s object).
    pub(crate) async fn start(dir: &Path) -> Result<Servers, String> {
        let Ok(config) = Project::read_config(dir) else { return Ok(Servers::default()) };
        let mut servers = Servers::default();
        let file = dir.join(llm_do_project::CONFIG_FILE);
        // `${VAR}` references first: a variable that is not set starts nothing.
        let lookup = |name: &str| std::env::var(name).ok();
        let mut resolved = Vec::with_capacity(config.mcp.len());
        let mut failures = Vec::new();
        let mut fail = |message: String| {
            crate::output::errln!("{}", crate::terminal::safe(&message));
            failures.push(message);
        };
        for (name, settings) in &config.mcp {
            match settings.resolved(&lookup) {
                Ok(settings) => resolved.push((name, to_server(&settings))),
                Err(e) => fail(format!("{}: error: MCP server `{name}`: {e}", file.display())),
            }
        }
        if resolved.len() < config.mcp.len() {
            return Err(failures.join("\n"));
        }
        // Several at a time (each may take up to its start timeout), in the file's order.
        use futures::StreamExt as _;
        let started: Vec<_> = futures::stream::iter(resolved)
            .map(|(name, server)| McpToolset::connect(name, server))
            .buffered(MAX_STARTING)
            .collect()
            .await;
        for result in started {
            match result {
                Ok(t) => servers.toolsets.push(t),
                // The error quotes the server (its stderr, its error messages): shown safe
                // for a terminal.
                Err(e) => fail(format!("{}: error: {e}", file.display())),
            }
        }
        if !failures.is_empty() {
            servers.close().await;
            return Err(failures.join("\n"));
        }
        Ok(servers)
    }

    /// `host` with every server's tools added.
    pub(crate) fn registry(&self, host: &Registry) -> Registry {
        let mut registry = host.clone();
        for toolset in &self.toolsets {
            for spec in toolset.specs() {
                registry.insert(spec);
            }
            // Tools the server adds later join too (`orders.*` stays a pattern).
            registry.insert_source(Arc::new(toolset.clone()));
        }
        registry
    }

    /// The names of the servers' tools.
    pub(crate) fn names(&self) -> BTreeSet<String> {
        self.toolsets.iter().flat_map(|t| t.tools()).map(|t| t.name).collect()
    }

    /// One line per server for `llm-do check`: its tools, the MCP revision agreed with it, and
    /// the tools it lists but that cannot be offered.
    pub(crate) async fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for t in &self.toolsets {
            let names: Vec<String> = t.tools().into_iter().map(|x| x.name).collect();
            let revision = t.protocol_version().await.unwrap_or_else(|| "?".to_owned());
            lines.push(format!(
                "mcp server `{}`: {} ({}); MCP {revision}",
                t.name(),
                crate::plural::counted(names.len(), "tool"),
                names.join(", ")
            ));
            for s in t.skipped() {
                lines.push(format!(
                    "  warning: tool `{}` left out: {}",
                    s.remote_name.escape_debug(),
                    s.reason
                ));
            }
        }
        lines
    }

    /// Closes every connection (child processes exit or are killed).
    pub(crate) async fn close(self) {
        for t in self.toolsets {
            t.close().await;
        }
    }
}

fn to_server(settings: &McpServerSettings) -> McpServer {
    let server = match &settings.reach {
        McpServerConfig::Stdio { command, args, env, pass_env, cwd } => {
            let s = McpServer::stdio(command.clone(), args.clone()).cwd(cwd.clone());
            let s = env.iter().fold(s, |s, (k, v)| s.env(k.clone(), v.clone()));
            pass_env.iter().fold(s, |s, name| s.pass_env(name.clone()))
        }
        McpServerConfig::Http { url, headers, .. } => headers
            .iter()
            .fold(McpServer::http(url.clone()), |s, (k, v)| s.header(k.clone(), v.clone())),
        #[allow(unreachable_patterns)]
        _ => McpServer::http(String::new()),
    };
    let server = match settings.start_timeout {
        Some(timeout) => server.start_timeout(timeout),
        None => server,
    };
    let server = match settings.call_timeout {
        Some(timeout) => server.call_timeout(timeout),
        None => server,
    };
    match &settings.protocol {
        Some(version) => server.protocol(version.clone()),
        None => server,
    }
}

impl McpArgs {
    /// The project the command serves, as given.
    pub(crate) fn project(&self) -> &Path {
        &self.project
    }
}

/// `llm-do mcp PROJECT`: the project in `dir`, whose name space is `host` (the host's
/// callables and the tools of the project's MCP servers, started by the caller).
pub(crate) async fn serve(args: McpArgs, dir: &Path, host: &Registry) -> Exit {
    let project = match crate::app::checked(dir, host) {
        Ok(p) => p,
        Err(summary) => return usage_error(summary),
    };
    let mut specs: Vec<Arc<CallableSpec>> = host.iter().cloned().collect();
    specs.extend(project.specs().cloned());
    let mut exposed = Vec::with_capacity(args.expose.len());
    for glob in &args.expose {
        let pattern = match Pattern::glob(glob) {
            Ok(p) => p,
            Err(e) => return usage_error(format!("--expose: {e}")),
        };
        if !specs.iter().any(|s| pattern.matches(&serde_json::Value::from(s.name()))) {
            let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
            return usage_error(format!(
                "--expose `{glob}` matches no worker or tool of the project; they are: {}",
                names.join(", ")
            ));
        }
        exposed.push(pattern);
    }
    let token = match args
        .token_env
        .as_deref()
        .map(|var| crate::app::flags::bearer_token_from_env("--token-env", var))
    {
        None => None,
        Some(Ok(token)) => Some(token),
        Some(Err(message)) => return usage_error(message),
    };
    // The providers first: the project's `model =` then wins over the environment's default
    // (the embedded model when no key is set), as in `run` and `chat`.
    let builder =
        project.register(crate::models::default_providers(crate::app::host_builder(host)));
    let settings = args.provider.over(&project.config().openai);
    let builder = crate::models::with_openai_settings(builder, settings, false);
    let mut builder = match args.model.apply(builder, &project, host, &mut specs) {
        Ok(builder) => builder,
        Err(message) => return usage_error(message),
    };
    let approve_all =
        args.approve_all || project.config().approval_mode == ApprovalMode::ApproveAll;
    if args.approve_all {
        builder = builder.approver(ApproveAll);
    } else if project.config().approval_mode == ApprovalMode::Prompt {
        // Calls made by the served workers' models: no terminal to ask on.
        let config = crate::approve::ConfigFile::of(&project);
        builder = builder.approver(move |r: &ApprovalRequest| {
            Decision::deny(format!(
                "`{}` needs approval and `llm-do mcp` has no terminal to ask (nor an MCP client \
                 that supports elicitation); start the server with --approve-all, or {}",
                r.tool,
                crate::approve::allow_remedy(&r.tool, r.kind.is_stochastic(), config).trim_end()
            ))
        });
    }
    let (builder, log) = match args.log.open(builder, &specs) {
        Ok(opened) => opened,
        Err(message) => return usage_error(message),
    };
    let rt = builder.build();
    // A client that supports elicitation is asked instead of the approver above.
    let elicit = !approve_all && project.config().approval_mode == ApprovalMode::Prompt;
    let mut service = McpService::new(rt.clone())
        .policy(project.approval_policy(ApprovalPolicy::new()))
        .approve_all(approve_all)
        .elicit_approvals(elicit)
        .expose(exposed)
        .max_calls(args.max_calls);
    if let Some(token) = token {
        service = service.bearer_token(token);
    }
    // A worker file's `budget:` holds for every call of it, as for `llm-do run`.
    for (worker, limits) in project.entry_limits(rt.limits()) {
        service = service.run_limits(worker, limits);
    }
    let result = match args.http {
        // On stdio a request in flight has nowhere to be answered once the client stops
        // reading: a signal ends the service at once (the run log is still finished).
        None => {
            let mut signals = crate::signals::Signals::install();
            tokio::select! {
                result = service.serve_stdio() => result,
                stop = signals.received() => {
                    crate::output::errln!("llm-do: {}: stopped", stop.name());
                    Ok(())
                }
            }
        }
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
                crate::output::errln!("llm-do: serving MCP at http://{bound}/mcp");
                service.serve_http(listener, crate::signals::shutdown()).await
            }
            Err(e) => Err(e),
        },
    };
    if let Some(log) = &log
        && let Err(e) = log.finish()
    {
        crate::output::errln!("llm-do: the run log could not be written completely: {e}");
    }
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            crate::output::errln!("llm-do: {e}");
            Exit::RunFailed
        }
    }
}
