//! [`ProjectConfig`]: the optional `llm-do.toml` of a project.
//!
//! ```toml
//! entry = "main"                       # the worker `llm-do run` starts (default: see Project::entry)
//! model = "openai:gpt-4o-mini"         # the model of workers that name none
//! max_depth = 6                        # deepest nested call (runtime default 5)
//!
//! [budget]                             # per run; see DEFAULT_MAX_REQUESTS and friends
//! requests = 200                       # model requests (default 200)
//! tool_calls = 2000                    # tool calls models ask for (default 2000)
//! tokens = 500000                      # input + output tokens (default: no limit)
//!
//! [providers.openai]                   # timeouts in seconds (defaults 10, 60, 300)
//! connect_timeout = 10                 # connecting to the server
//! first_byte_timeout = 60              # from the request to the response headers
//! request_timeout = 300                # one attempt in all (the provider retries at most 4)
//! max_answer_bytes = 67108864          # the most an answer may have (default 64 MiB)
//! images = true                        # the model takes image parts (default true)
//! pdf = "native"                       # PDFs as: native | extract_text | reject (default native)
//!
//! [approval]
//! mode = "prompt"                      # prompt | approve_all | deny_all
//! rules = [ { tool = "write_*", verdict = "ask" } ]
//!
//! [mcp.orders]                         # an MCP server run as a child process (stdio)
//! command = "orders-server"
//! args = ["--db", "orders.db"]
//! env = { LOG = "info" }               # set as given; llm-do's variables are passed on,
//! pass_env = ["ORDERS_DB_TOKEN"]       # except secret-looking ones not named here
//! cwd = "servers"                      # relative to the project directory
//! start_timeout = 60                   # seconds to answer `initialize` (default 20)
//! # `${VAR}` / `${VAR:-default}` in `args`, `env`, `headers`: see `env_refs`
//! call_timeout = 120                   # seconds one tool call may take (default 60)
//! protocol = "2025-11-25"              # pin an MCP revision (default: the newest both speak)
//!
//! [mcp.search]                         # an MCP server over streamable HTTP
//! url = "http://127.0.0.1:8000/mcp"
//! headers = { Authorization = "Bearer ${SEARCH_TOKEN}" }
//! pass_env = ["SEARCH_TOKEN"]          # a secret-looking variable is filled in only if named
//! ```
//!
//! The tools of server `orders` are named `orders__TOOL` in the name space; worker files list
//! them as `orders.TOOL` or all of them as `orders.*` (see `docs/mcp.md`).
//!
//! Unknown keys are errors.
//!
//! (Over 400 lines: the file's schema — one struct per table with its checks — so that what
//! `llm-do.toml` accepts reads in one place; only the `[mcp.NAME]` tables, a product of their
//! own, are in `config/mcp.rs`.)

mod mcp;

pub(crate) use mcp::is_valid_server_name;
pub use mcp::{McpServerConfig, McpServerSettings};

use crate::diagnostic::{Diagnostic, Pos};
use crate::rules::{RULE_KEYS, RuleSpec};
use llm_do_core::approval::{OnDenied, Rule};
use llm_do_core::attachment::{InputCapabilities, PdfSupport};
use llm_do_core::{Limits, ModelRef, RuntimeBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// Model requests one run may make when nothing configures it (`[budget] requests`).
pub const DEFAULT_MAX_REQUESTS: u64 = 200;

/// Tool calls the models of one run may ask for when nothing configures it
/// (`[budget] tool_calls`): ten per request of [`DEFAULT_MAX_REQUESTS`], so that a run whose
/// models ask for up to ten calls per turn meets the request budget first.
pub const DEFAULT_MAX_TOOL_CALLS: u64 = 2000;

/// Longest timeout accepted in `[providers.*]` (one day), in seconds.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// Per-run budgets: `[budget]` in `llm-do.toml`, `budget:` in a worker file (for runs that
/// start with that worker). Unset values fall back to the next level (command line, entry
/// worker, `llm-do.toml`, then [`DEFAULT_MAX_REQUESTS`] and [`DEFAULT_MAX_TOOL_CALLS`]; tokens
/// have no default limit).
///
/// ```
/// use llm_do_project::config::Budget;
/// let mine = Budget { requests: Some(50), ..Budget::default() };
/// let b = mine.or(Budget { tokens: Some(9), requests: Some(7), tool_calls: None });
/// assert_eq!((b.requests, b.tokens, b.tool_calls), (Some(50), Some(9), None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Most model requests per run.
    pub requests: Option<u64>,
    /// Most input + output tokens per run.
    pub tokens: Option<u64>,
    /// Most tool calls models may ask for per run.
    pub tool_calls: Option<u64>,
}

impl Budget {
    /// Each value of `self`, else the one of `fallback`.
    pub fn or(self, fallback: Budget) -> Budget {
        Budget {
            requests: self.requests.or(fallback.requests),
            tokens: self.tokens.or(fallback.tokens),
            tool_calls: self.tool_calls.or(fallback.tool_calls),
        }
    }

    /// Sets the budgets that are set on a runtime builder.
    ///
    /// ```
    /// use llm_do_project::config::Budget;
    /// let b = Budget { tool_calls: Some(3), ..Budget::default() };
    /// let rt = b.apply(llm_do_core::Runtime::builder()).build();
    /// assert_eq!((rt.limits().max_tool_calls, rt.limits().max_requests), (Some(3), None));
    /// ```
    pub fn apply(self, mut builder: RuntimeBuilder) -> RuntimeBuilder {
        if let Some(n) = self.requests {
            builder = builder.max_requests(n);
        }
        if let Some(n) = self.tokens {
            builder = builder.max_total_tokens(n);
        }
        if let Some(n) = self.tool_calls {
            builder = builder.max_tool_calls(n);
        }
        builder
    }

    /// `limits` with the budgets that are set replaced (a run's limits from a worker's
    /// `budget:` over the runtime's, for [`Runtime::ctx_with`](llm_do_core::Runtime::ctx_with)).
    ///
    /// ```
    /// use llm_do_project::config::Budget;
    /// let base = llm_do_core::Runtime::builder().max_requests(9).max_tool_calls(4).build().limits();
    /// let l = Budget { tool_calls: Some(1), ..Budget::default() }.over(base);
    /// assert_eq!((l.max_requests, l.max_tool_calls, l.max_depth), (Some(9), Some(1), 5));
    /// ```
    pub fn over(self, mut limits: Limits) -> Limits {
        limits.max_requests = self.requests.or(limits.max_requests);
        limits.max_total_tokens = self.tokens.or(limits.max_total_tokens);
        limits.max_tool_calls = self.tool_calls.or(limits.max_tool_calls);
        limits
    }

    /// The first value that is zero, by key name (a budget of zero would stop every run).
    pub(crate) fn zero_key(&self) -> Option<&'static str> {
        [("requests", self.requests), ("tokens", self.tokens), ("tool_calls", self.tool_calls)]
            .into_iter()
            .find(|(_, v)| *v == Some(0))
            .map(|(k, _)| k)
    }
}

/// Settings of a model provider (`[providers.openai]`): its timeouts and how large an answer
/// may be. Unset ones keep the provider's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderSettings {
    /// `connect_timeout`: connecting to the server.
    pub connect: Option<Duration>,
    /// `first_byte_timeout`: from sending a request to the response headers.
    pub first_byte: Option<Duration>,
    /// `request_timeout`: one attempt in all.
    pub request: Option<Duration>,
    /// `max_answer_bytes`: the most bytes one answer may have (a body, or a stream's events
    /// together); a larger one is an error and the rest is not read.
    pub max_answer_bytes: Option<u64>,
    /// `images`: whether the server's model takes images (when `false`, an image attachment
    /// is an error before any request).
    pub images: Option<bool>,
    /// `pdf`: how PDFs reach the server's model (`native`, `extract_text`, `reject`).
    pub pdf: Option<PdfSupport>,
}

impl ProviderSettings {
    /// The attachments the model takes, when `images` or `pdf` is set (the unset one as the
    /// provider's default, [`InputCapabilities::ALL`]).
    ///
    /// ```
    /// use llm_do_core::attachment::{InputCapabilities, PdfSupport};
    /// let mut s = llm_do_project::ProviderSettings::default();
    /// assert_eq!(s.attachments(), None);
    /// s.pdf = Some(PdfSupport::ExtractText);
    /// assert_eq!(s.attachments(), Some(InputCapabilities { images: true, pdf: PdfSupport::ExtractText }));
    /// ```
    pub fn attachments(&self) -> Option<InputCapabilities> {
        if self.images.is_none() && self.pdf.is_none() {
            return None;
        }
        let all = InputCapabilities::ALL;
        Some(InputCapabilities {
            images: self.images.unwrap_or(all.images),
            pdf: self.pdf.unwrap_or(all.pdf),
        })
    }
}

/// The former name of [`ProviderSettings`], from when it held timeouts only.
#[deprecated(note = "renamed to `ProviderSettings`")]
pub type ProviderTimeouts = ProviderSettings;

/// The name of a project's configuration file.
pub const CONFIG_FILE: &str = "llm-do.toml";

/// Who decides the tool calls that need approval (`[approval] mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// The host program's approver decides (the CLI asks on the terminal). A runtime without an
    /// approver denies every call that needs approval. The default.
    #[default]
    Prompt,
    /// Every call that needs approval is approved ([`llm_do_core::approval::ApproveAll`]).
    ApproveAll,
    /// Every call that needs approval is denied ([`llm_do_core::approval::DenyAll`]).
    DenyAll,
}

/// A project's settings, from `llm-do.toml` (all optional).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use llm_do_project::{ApprovalMode, Project};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("llm-do.toml"), "max_depth = 3\n[approval]\nmode = \"deny_all\"\n")?;
/// std::fs::write(dir.path().join("main.worker"), "---\n---\nHi {input}\n")?;
/// let project = Project::load(dir.path())?;
/// assert_eq!(project.config().max_depth, Some(3));
/// assert_eq!(project.config().approval_mode, ApprovalMode::DenyAll);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProjectConfig {
    /// `entry`: the worker a run starts with.
    pub entry: Option<String>,
    /// `model`: the model of workers that name none (`provider:name`).
    pub model: Option<String>,
    /// `max_depth`: the deepest nested call.
    pub max_depth: Option<u32>,
    /// `[approval] mode`.
    pub approval_mode: ApprovalMode,
    /// `[approval] rules`, in order; they come before the rules of worker files.
    pub rules: Vec<Rule>,
    /// `[budget]`.
    pub budget: Budget,
    /// `[providers.openai]`: timeouts and the answer size limit.
    pub openai: ProviderSettings,
    /// `entry.args` of `project.json`: the entry's arguments when the command line gives none.
    pub entry_args: Option<serde_json::Value>,
    /// `allow_cli_input` of `project.json` (default `true`): `false` refuses input given on the
    /// command line, so a run always uses `entry_args`.
    pub allow_cli_input: bool,
    /// `runtime.return_permission_errors` of `project.json` (default `false`): `true` tells the
    /// model of a denied call instead of ending the run (see [`on_denied`](Self::on_denied)),
    /// also with `approval_mode: prompt` and no terminal to ask on.
    pub return_permission_errors: bool,
    /// What a denied call does, when the configuration says
    /// ([`Project::register`](crate::Project::register) sets it): a `project.json` ends the run
    /// ([`OnDenied::Abort`]) unless `return_permission_errors` is true
    /// ([`OnDenied::ToolResult`]), as the Python llm-do does; `llm-do.toml` says nothing
    /// (`None`: the runtime builder's setting stays, by default the model is told).
    pub on_denied: Option<OnDenied>,
    /// Whether `max_depth` counts worker calls only, a tool running one level past it
    /// ([`Limits::tools_past_max_depth`]): `true` for a `project.json` (upstream's `max_depth`
    /// counts agent calls), `false` for `llm-do.toml` (every call counts).
    pub tools_past_max_depth: bool,
    /// Whether a model's call past `max_depth` ends the run ([`Limits::max_depth_ends_run`]):
    /// `true` for a `project.json` (upstream raises an error), `false` for `llm-do.toml` (the
    /// model is told).
    pub max_depth_ends_run: bool,
    /// The configuration file read (`llm-do.toml` or `project.json`), if any.
    pub(crate) source: Option<std::path::PathBuf>,
    /// `[mcp.NAME]`: the MCP servers whose tools join the name space, by name.
    pub mcp: BTreeMap<String, McpServerSettings>,
    pub(crate) entry_pos: Pos,
    pub(crate) entry_args_pos: Pos,
    /// Where `model` is written.
    pub(crate) model_pos: Pos,
}

impl ProjectConfig {
    /// The configuration file read (`llm-do.toml` or `project.json`), if any.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("llm-do.toml"), "max_depth = 2\n")?;
    /// let config = llm_do_project::Project::read_config(dir.path())?;
    /// assert_eq!(config.source(), Some(dir.path().join("llm-do.toml").as_path()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
}

impl Default for ProjectConfig {
    fn default() -> Self {
        Self {
            entry: None,
            model: None,
            max_depth: None,
            approval_mode: ApprovalMode::default(),
            rules: Vec::new(),
            budget: Budget::default(),
            openai: ProviderSettings::default(),
            entry_args: None,
            allow_cli_input: true,
            return_permission_errors: false,
            on_denied: None,
            tools_past_max_depth: false,
            max_depth_ends_run: false,
            source: None,
            mcp: BTreeMap::new(),
            entry_pos: Pos::START,
            entry_args_pos: Pos::START,
            model_pos: Pos::START,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    entry: Option<Spanned<String>>,
    #[serde(default)]
    model: Option<Spanned<String>>,
    #[serde(default)]
    max_depth: Option<Spanned<u32>>,
    #[serde(default)]
    approval: Option<RawApproval>,
    #[serde(default)]
    budget: Option<Spanned<Budget>>,
    #[serde(default)]
    providers: Option<RawProviders>,
    #[serde(default)]
    mcp: BTreeMap<String, Spanned<mcp::RawMcp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProviders {
    #[serde(default)]
    openai: Option<RawTimeouts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    #[serde(default)]
    connect_timeout: Option<Spanned<f64>>,
    #[serde(default)]
    first_byte_timeout: Option<Spanned<f64>>,
    #[serde(default)]
    request_timeout: Option<Spanned<f64>>,
    #[serde(default)]
    max_answer_bytes: Option<Spanned<i64>>,
    #[serde(default)]
    images: Option<bool>,
    #[serde(default)]
    pdf: Option<PdfSupport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    #[serde(default)]
    mode: ApprovalMode,
    #[serde(default)]
    rules: Vec<Spanned<toml::Value>>,
}

/// Parses the text of `llm-do.toml` (`file` names it in diagnostics): the configuration (with
/// defaults where a value was wrong, so later checks still run) and every problem.
pub(crate) fn parse(file: &Path, text: &str) -> (ProjectConfig, Vec<Diagnostic>) {
    let at = |offset: usize| Pos::of_offset(text, offset, Pos::START);
    let raw: Raw = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let pos = e.span().map_or(Pos::START, |s| at(s.start));
            let message = e.message().trim().replace('\n', " ");
            // An unknown key: "did you mean" the close one of the table's keys, if there is one.
            let close = unknown_field(&message)
                .and_then(|(key, keys)| Some((key, crate::diagnostic::closest(key, &keys)?, keys)));
            if let Some((key, close, keys)) = close {
                let message =
                    format!("invalid {CONFIG_FILE}: unknown key `{key}`: did you mean `{close}`?");
                let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                return (
                    ProjectConfig { source: Some(file.to_owned()), ..ProjectConfig::default() },
                    vec![
                        Diagnostic::at(file, pos, message)
                            .expected(format!("one of {}", keys.join(", "))),
                    ],
                );
            }
            let d = Diagnostic::at(file, pos, format!("invalid {CONFIG_FILE}: {message}")).expected(
                "the keys `entry`, `model`, `max_depth`, and the tables `[budget]` (`requests`, `tokens`, `tool_calls`), `[providers.openai]` (`connect_timeout`, `first_byte_timeout`, `request_timeout`, `max_answer_bytes`, `images`, `pdf`), `[approval]` (`mode`, `rules`) and `[mcp.NAME]` (`command`, `args`, `env`, `pass_env`, `cwd` or `url`, `headers`, `pass_env`; `start_timeout`, `call_timeout`, `protocol`)",
            );
            return (
                ProjectConfig { source: Some(file.to_owned()), ..ProjectConfig::default() },
                vec![d],
            );
        }
    };
    let mut diagnostics = Vec::new();
    let mut config = ProjectConfig { source: Some(file.to_owned()), ..ProjectConfig::default() };
    if let Some(depth) = raw.max_depth {
        let pos = at(depth.span().start);
        match depth.into_inner() {
            // Every run would fail: the entry call is depth 1.
            0 => diagnostics.push(
                Diagnostic::at(file, pos, "`max_depth` is 0")
                    .expected("a whole number of at least 1 (the entry call is depth 1)"),
            ),
            depth => config.max_depth = Some(depth),
        }
    }
    if let Some(entry) = raw.entry {
        config.entry_pos = at(entry.span().start);
        config.entry = Some(entry.into_inner());
    }
    if let Some(model) = raw.model {
        let pos = at(model.span().start);
        let model = model.into_inner();
        match ModelRef::parse(&model) {
            Ok(_) => {
                config.model = Some(model);
                config.model_pos = pos;
            }
            Err(_) => diagnostics.push(
                Diagnostic::at(
                    file,
                    pos,
                    format!("invalid model string `{}`", llm_do_syntax::model::shown(&model)),
                )
                .expected("`provider:name`, for example `openai:gpt-4o-mini`"),
            ),
        }
    }
    if let Some(budget) = raw.budget {
        let pos = at(budget.span().start);
        let budget = budget.into_inner();
        match budget.zero_key() {
            Some(key) => diagnostics.push(
                Diagnostic::at(file, pos, format!("`[budget] {key}` is 0"))
                    .expected("a whole number of at least 1"),
            ),
            None => config.budget = budget,
        }
    }
    if let Some(openai) = raw.providers.and_then(|p| p.openai) {
        let table = "providers.openai";
        let mut seconds = |key, value| seconds(file, text, &mut diagnostics, table, key, value);
        let connect = seconds("connect_timeout", openai.connect_timeout);
        let first_byte = seconds("first_byte_timeout", openai.first_byte_timeout);
        let request = seconds("request_timeout", openai.request_timeout);
        let max_answer_bytes =
            openai.max_answer_bytes.and_then(|value| match u64::try_from(*value.get_ref()) {
                Ok(bytes) if bytes > 0 => Some(bytes),
                _ => {
                    diagnostics.push(
                        Diagnostic::at(
                            file,
                            at(value.span().start),
                            format!("`[providers.openai] max_answer_bytes` is {}", value.get_ref()),
                        )
                        .expected("a whole number of bytes, at least 1"),
                    );
                    None
                }
            });
        config.openai = ProviderSettings {
            connect,
            first_byte,
            request,
            max_answer_bytes,
            images: openai.images,
            pdf: openai.pdf,
        };
    }
    if let Some(approval) = raw.approval {
        config.approval_mode = approval.mode;
        for rule in approval.rules {
            let pos = at(rule.span().start);
            let compiled = serde_json::to_value(rule.get_ref())
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::from_value::<RuleSpec>(v).map_err(|e| e.to_string()))
                .and_then(|spec| spec.compile());
            match compiled {
                Ok(r) => config.rules.push(r),
                Err(e) => diagnostics.push(
                    Diagnostic::at(file, pos, format!("invalid approval rule: {e}"))
                        .expected(RULE_KEYS),
                ),
            }
        }
    }
    config.mcp = mcp::parse(raw.mcp, file, text, &mut diagnostics);
    (config, diagnostics)
}

/// The unknown key and the keys its table has, from serde's message for an unknown field
/// (``unknown field `x`, expected one of `a`, `b` ``, or ``expected `a` or `b` ``).
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let (key, rest) = message.strip_prefix("unknown field `")?.split_once('`')?;
    let expected = rest.strip_prefix(", expected ")?;
    Some((key, expected.split('`').skip(1).step_by(2).collect()))
}

/// A timeout in seconds at `[table] key`: above 0, at most a day; `None` (and a diagnostic)
/// for any other number.
fn seconds(
    file: &Path,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
    table: &str,
    key: &str,
    value: Option<Spanned<f64>>,
) -> Option<Duration> {
    let value = value?;
    let secs = *value.get_ref();
    if secs > 0.0 && secs <= MAX_TIMEOUT_SECS {
        return Some(Duration::from_secs_f64(secs));
    }
    let pos = Pos::of_offset(text, value.span().start, Pos::START);
    diagnostics.push(
        Diagnostic::at(file, pos, format!("`[{table}] {key}` is {secs}"))
            .expected("a number of seconds above 0, at most 86400"),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse_str(text: &str) -> Result<ProjectConfig, Vec<Diagnostic>> {
        match parse(Path::new("llm-do.toml"), text) {
            (config, d) if d.is_empty() => Ok(config),
            (_, d) => Err(d),
        }
    }

    #[test]
    fn reads_every_key() {
        let c = parse_str(
            "entry = \"main\"\nmodel = \"openai:gpt-4o\"\nmax_depth = 4\n[approval]\nmode = \"approve_all\"\nrules = [{ tool = \"x\", verdict = \"deny\" }]\n",
        )
        .unwrap();
        assert_eq!(c.entry.as_deref(), Some("main"));
        assert_eq!(c.entry_pos, Pos { line: 1, column: 9 });
        assert_eq!(c.approval_mode, ApprovalMode::ApproveAll);
        assert_eq!(c.rules.len(), 1);
    }

    #[test]
    fn reads_mcp_servers() {
        let c = parse_str(
            "[mcp.orders]\ncommand = \"srv\"\nargs = [\"-v\"]\npass_env = [\"DB_TOKEN\"]\ncwd = \"sub\"\n[mcp.web]\nurl = \"http://127.0.0.1:1/mcp\"\nheaders = { X = \"y\" }\n",
        )
        .unwrap();
        assert_eq!(
            c.mcp["orders"].reach,
            McpServerConfig::Stdio {
                command: "srv".into(),
                args: vec!["-v".into()],
                env: BTreeMap::new(),
                pass_env: vec!["DB_TOKEN".into()],
                cwd: PathBuf::from("sub"),
            }
        );
        assert!(
            matches!(&c.mcp["web"].reach, McpServerConfig::Http { headers, .. } if headers["X"] == "y")
        );
        let e = parse_str("[mcp.a__b]\ncommand = \"x\"\n[mcp.c]\nargs = []\n[mcp.d]\ncommand = \"x\"\nurl = \"y\"\n[mcp.e]\nurl = \"y\"\nenv = { T = \"t\" }\n")
            .unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[3].message.contains("the MCP server `e` needs either"), "{}", e[3]);
        assert!(e[0].message.contains("invalid MCP server name `a__b`"), "{}", e[0]);
        assert!(e[1].message.contains("needs either `command` or `url`"), "{}", e[1]);
        assert_eq!(e[1].line, 3);
    }

    #[test]
    fn reads_mcp_timeouts_and_locates_bad_ones() {
        let c = parse_str(
            "[mcp.orders]\ncommand = \"srv\"\nstart_timeout = 90\ncall_timeout = 0.5\n[mcp.web]\nurl = \"http://127.0.0.1:1/mcp\"\n",
        )
        .unwrap();
        let orders = &c.mcp["orders"];
        assert_eq!(orders.start_timeout, Some(Duration::from_secs(90)));
        assert_eq!(orders.call_timeout, Some(Duration::from_millis(500)));
        assert_eq!((c.mcp["web"].start_timeout, c.mcp["web"].call_timeout), (None, None));
        let e = parse_str(
            "[mcp.a]\ncommand = \"x\"\nstart_timeout = 0\n[mcp.b]\nurl = \"y\"\ncall_timeout = 100000\n",
        )
        .unwrap_err();
        let found: Vec<(usize, &str)> = e.iter().map(|d| (d.line, d.message.as_str())).collect();
        assert_eq!(
            found,
            [(3, "`[mcp.a] start_timeout` is 0"), (6, "`[mcp.b] call_timeout` is 100000")]
        );
    }

    #[test]
    fn environment_references_are_checked_when_read_and_resolved_at_start() {
        let c = parse_str(
            "[mcp.a]\ncommand = \"srv\"\nargs = [\"--db\", \"${DB:-x.db}\"]\nenv = { T = \"${TOKEN}\" }\npass_env = [\"TOKEN\"]\n",
        )
        .unwrap();
        let env = |name: &str| (name == "TOKEN").then(|| "t".to_owned());
        let McpServerConfig::Stdio { args, env, .. } = c.mcp["a"].resolved(&env).unwrap().reach
        else {
            panic!()
        };
        assert_eq!((args[1].as_str(), env["T"].as_str()), ("x.db", "t"));
        assert_eq!(
            c.mcp["a"].resolved(&|_| None).unwrap_err(),
            "`env.T`: the environment variable `TOKEN` is not set"
        );
        let e =
            parse_str("[mcp.a]\nurl = \"http://h/${PATH\"\n[mcp.b]\ncommand = \"${HOME}/srv\"\n[mcp.c]\ncommand = \"x\"\nargs = [\"${A\"]\n")
                .unwrap_err();
        // Each at the value that holds the reference.
        let found: Vec<(usize, usize, &str)> =
            e.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
        assert_eq!(
            found,
            [
                (2, 7, "`[mcp.a]`: `${…}` is not expanded in `command`, `cwd` or `url`"),
                (4, 11, "`[mcp.b]`: `${…}` is not expanded in `command`, `cwd` or `url`"),
                (7, 9, "`[mcp.c]` `args[0]`: `${` without its `}` in `${A`"),
            ]
        );
    }

    /// A relative command path is the project's and both it and `cwd` are absolute, so that
    /// `llm-do check proj` from another directory, or with `cwd` set, starts the right file
    /// (before, `./srv` was joined to `cwd` and run from `cwd`: `proj/./srv` from `proj`).
    #[test]
    fn a_relative_server_command_is_the_project_s_file() {
        let text = "[mcp.a]\ncommand = \"./bin/srv\"\ncwd = \"sub\"\n[mcp.b]\ncommand = \"srv\"\n";
        let (c, d) = parse(Path::new("proj/llm-do.toml"), text);
        assert!(d.is_empty(), "{d:?}");
        let root = std::env::current_dir().unwrap().join("proj");
        let McpServerConfig::Stdio { command, cwd, .. } = &c.mcp["a"].reach else { panic!() };
        assert_eq!(
            (Path::new(command), cwd),
            (root.join("./bin/srv").as_path(), &root.join("sub"))
        );
        let McpServerConfig::Stdio { command, cwd, .. } = &c.mcp["b"].reach else { panic!() };
        assert_eq!((command.as_str(), cwd), ("srv", &root));
    }

    #[test]
    fn an_unknown_key_close_to_a_known_one_is_suggested() {
        let e = parse_str("entry = \"main\"\nentyr = 1\n").unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "llm-do.toml:2:1: error: invalid llm-do.toml: unknown key `entyr`: did you mean `entry`? (expected one of `entry`, `model`, `max_depth`, `approval`, `budget`, `providers`, `mcp`)"
        );
        let e = parse_str("[mcp.a]\ncommand = \"x\"\ncall_timout = 3\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (3, 1));
        assert_eq!(
            e[0].message,
            "invalid llm-do.toml: unknown key `call_timout`: did you mean `call_timeout`?"
        );
        let expected = e[0].expected.as_deref().unwrap();
        assert!(expected.starts_with("one of `command`") && expected.contains("`call_timeout`"));
        // Nothing close: the keys are listed, as before.
        let e = parse_str("colour = 1\n").unwrap_err();
        assert!(
            e[0].message.starts_with(
                "invalid llm-do.toml: unknown field `colour`, expected one of `entry`"
            ),
            "{}",
            e[0]
        );
        assert!(
            e[0].expected.as_deref().is_some_and(|x| x.starts_with("the keys `entry`")),
            "{}",
            e[0]
        );
    }

    #[test]
    fn errors_are_located() {
        let e = parse_str("entry = \"main\"\nentyr = 1\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (2, 1));
        assert!(e[0].message.contains("unknown key `entyr`"), "{}", e[0]);
        let e = parse_str(
            "model = \"gpt4\"\n[approval]\nrules = [{ tool = \"x\", verdict = \"maybe\" }]\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!((e[1].line, e[1].column), (3, 10));
        assert!(parse_str("[approval]\nmode = \"yes\"\n").is_err());
    }

    #[test]
    fn budgets_and_timeouts() {
        let c = parse_str(
            "[budget]\nrequests = 20\ntool_calls = 5\n[providers.openai]\nconnect_timeout = 2\nfirst_byte_timeout = 0.5\n",
        )
        .unwrap();
        assert_eq!(c.budget, Budget { requests: Some(20), tokens: None, tool_calls: Some(5) });
        assert_eq!(c.openai.connect, Some(Duration::from_secs(2)));
        assert_eq!(c.openai.first_byte, Some(Duration::from_millis(500)));
        assert_eq!(c.openai.request, None);
        let e = parse_str("[budget]\nrequests = 0\n").unwrap_err();
        assert_eq!((e[0].line, e[0].message.as_str()), (1, "`[budget] requests` is 0"));
        let e = parse_str("[providers.openai]\nrequest_timeout = -1\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (2, 19), "{}", e[0]);
        assert!(parse_str("[providers.openai]\nrequest_timeout = nan\n").is_err());
        assert!(
            parse_str("[budget]\nrequest = 3\n").unwrap_err()[0]
                .message
                .ends_with("unknown key `request`: did you mean `requests`?")
        );
        assert!(parse_str("[providers.local]\nconnect_timeout = 3\n").is_err());
    }

    #[test]
    fn the_answer_size_limit() {
        let c = parse_str("[providers.openai]\nmax_answer_bytes = 1048576\n").unwrap();
        assert_eq!(c.openai.max_answer_bytes, Some(1 << 20));
        assert_eq!(c.openai.attachments(), None);
        let c = parse_str("[providers.openai]\nimages = false\npdf = \"extract_text\"\n").unwrap();
        assert_eq!(c.openai.attachments(), Some(InputCapabilities::TEXT_ONLY));
        assert!(parse_str("[providers.openai]\npdf = \"ocr\"\n").is_err());
        assert_eq!(c.openai.connect, None);
        for bad in ["0", "-5"] {
            let e =
                parse_str(&format!("[providers.openai]\nmax_answer_bytes = {bad}\n")).unwrap_err();
            assert_eq!((e[0].line, e[0].column), (2, 20), "{}", e[0]);
            assert_eq!(e[0].message, format!("`[providers.openai] max_answer_bytes` is {bad}"));
        }
        let e = parse_str("[providers.openai]\nmax_answer_bytes = \"1 MiB\"\n").unwrap_err();
        assert_eq!(e[0].line, 2, "{}", e[0]);
    }
}
