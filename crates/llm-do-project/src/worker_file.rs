//! [`WorkerFile`]: one `NAME.worker` file — YAML frontmatter (settings, tools, schemas,
//! approvals) and a markdown body (the prompt) — and the spec it builds. Its parser, which
//! reports every problem with its line and column, is in `parse` (the `.worker` format) and
//! `parser` (what `.worker` and `.agent` files share).
//!
//! The body is the worker's *prompt template*: the user message of each call, with `{param}`
//! placeholders replaced by the call's arguments (`{input}` with the default input schema).
//! The system prompt is the frontmatter's `system`, else its `description` — core's
//! convention for every worker.

mod parse;
mod parser;
mod toolsets;

pub(crate) use parse::parse;
pub(crate) use parser::{NAME_EXPECTED, Parser, is_valid_name, list};

use crate::config::Budget;
use crate::diagnostic::Pos;
use crate::toolset::ToolEntry;
use llm_do_core::approval::{Rule, Verdict};
use llm_do_core::{CallableSpec, WorkerSpecBuilder};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The frontmatter keys a worker file may have.
pub const KEYS: &[&str] = &[
    "name",
    "description",
    "system",
    "model",
    "temperature",
    "max_tokens",
    "seed",
    "stop",
    "max_turns",
    "budget",
    "tools",
    "input",
    "output",
    "approval",
];

/// A worker defined by a `.worker` file.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("greeter.worker"),
///     "---\ndescription: Greets people.\nmodel: openai:gpt-4o-mini\n---\nGreet {input}.\n",
/// )?;
/// let project = llm_do_project::Project::load(dir.path())?;
/// let greeter = &project.workers()[0];
/// assert_eq!(greeter.name, "greeter"); // the file's stem when `name:` is absent
/// assert_eq!(greeter.prompt, "Greet {input}.");
/// assert_eq!(greeter.input["required"][0], "input");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerFile {
    /// The file (project directory joined with the file name).
    pub path: PathBuf,
    /// `name:`, default the file's stem. Letters, digits, `_` and `-`, at most 64.
    pub name: String,
    /// `description:`: what calling models see, and the default system prompt.
    pub description: Option<String>,
    /// `system:`: the system prompt, when it should differ from the description.
    pub system: Option<String>,
    /// `model:`: `provider:name`; absent, the project's or runtime's default model is used.
    pub model: Option<String>,
    /// `temperature:`, between 0 and 2.
    pub temperature: Option<f32>,
    /// `max_tokens:`: most tokens of one model answer (at least 1).
    pub max_tokens: Option<u32>,
    /// `seed:`: the sampling seed, where the provider supports one.
    pub seed: Option<u64>,
    /// `stop:`: stop sequences of text answers (a string or up to 4 non-empty strings of at most
    /// 256 bytes each).
    pub stop: Vec<String>,
    /// `max_turns:`: most model requests per call (at least 1).
    pub max_turns: Option<u32>,
    /// `budget:` (`requests`, `tokens`, `tool_calls`): the budgets of a run that starts with
    /// this worker (`llm-do run`), over those of `llm-do.toml`. Ignored when the worker is
    /// called from another one: budgets belong to the whole run.
    pub budget: Budget,
    /// `tools:`, in order.
    pub tools: Vec<ToolEntry>,
    /// `input:`: JSON Schema of the arguments (an object schema); default `{input: string}`.
    pub input: Value,
    /// `output:`: JSON Schema of the result; default text (`{type: string}`).
    pub output: Value,
    /// `approval:` as a verdict (`allow`, `ask`, `deny`): what a model calling *this* worker
    /// needs when no policy rule matches.
    pub approval: Option<Verdict>,
    /// `approval:` as a list of rules, added to the project's approval policy.
    pub rules: Vec<Rule>,
    /// The body: the prompt template (user message), trimmed.
    pub prompt: String,
    /// `compatible_models:` of a `.agent` file: glob patterns (`*`, `?`, `[..]`, case-insensitive)
    /// the model chosen for it must match when it names no `model` (see
    /// [`Project::check_model`](crate::Project::check_model)).
    pub compatible_models: Option<Vec<String>>,
    pub(crate) compatible_pos: Pos,
    /// Where `model:` is written.
    pub(crate) model_pos: Pos,
    /// Defined by a `.agent` file (Python llm-do format) rather than a `.worker` file.
    pub(crate) agent_file: bool,
    pub(crate) name_pos: Pos,
    pub(crate) tool_pos: Vec<Pos>,
}

impl WorkerFile {
    /// A worker with every default, for the parsers to fill in.
    pub(crate) fn empty(path: &Path, name: String) -> WorkerFile {
        WorkerFile {
            path: path.to_owned(),
            name,
            description: None,
            system: None,
            model: None,
            temperature: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
            max_turns: None,
            budget: Budget::default(),
            tools: Vec::new(),
            input: default_input_schema(),
            output: json!({"type": "string"}),
            approval: None,
            rules: Vec::new(),
            prompt: String::new(),
            compatible_models: None,
            compatible_pos: Pos::START,
            model_pos: Pos::START,
            agent_file: false,
            name_pos: Pos::START,
            tool_pos: Vec::new(),
        }
    }
}

/// The input schema of a worker file that declares none: one string, `{input}`.
pub fn default_input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"input": {"type": "string"}},
        "required": ["input"],
        "additionalProperties": false
    })
}

impl WorkerFile {
    /// The names of all tools this worker offers its model, in order.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(
    ///     dir.path().join("w.worker"),
    ///     "---\ntools: [helper, {filesystem: {read_only: true}}]\n---\nGo.\n",
    /// )?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// assert_eq!(project.workers()[0].tool_names(), ["helper", "read_file", "list_files"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn tool_names(&self) -> Vec<String> {
        self.tools.iter().flat_map(ToolEntry::tool_names).collect()
    }

    /// Builds the worker's [`CallableSpec`]: tools are referenced by name (late-bound), so file
    /// workers, Rust tools and Rust workers call each other by name, both ways.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("w.worker"), "---\ntools: [search]\n---\nFind {input}.\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let spec = project.workers()[0].to_spec()?;
    /// assert_eq!(spec.worker().unwrap().tools[0].name(), "search");
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_spec(&self) -> llm_do_core::Result<Arc<CallableSpec>> {
        self.spec_with_tools(self.tool_names())
    }

    /// The tool names this worker offers, with `server.*` entries expanded to the names of
    /// `registry` that start with `server__` (the MCP tools registered for that server).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_core::{Registry, ToolSpecBuilder};
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("llm-do.toml"), "[mcp.orders]\ncommand = \"srv\"\n")?;
    /// std::fs::write(dir.path().join("w.worker"), "---\ntools: [orders.*]\n---\nGo.\n")?;
    /// let mut mcp = Registry::default();
    /// mcp.insert(ToolSpecBuilder::new("orders__lookup").handler(|_, a| async move { Ok(a) }).build());
    /// let project = llm_do_project::Project::check(dir.path(), &mcp)?;
    /// assert_eq!(project.workers()[0].tool_names_in(&mcp), ["orders__lookup"]);
    /// // With a source of `orders__` callables (an MCP toolset), `orders.*` stays a pattern,
    /// // resolved when the worker runs: see `llm_do_core::CallableSource`.
    /// # Ok(())
    /// # }
    /// ```
    pub fn tool_names_in(&self, registry: &llm_do_core::Registry) -> Vec<String> {
        let mut names = Vec::new();
        for entry in &self.tools {
            match entry {
                ToolEntry::Mcp { server, tool: None } => {
                    let prefix = format!("{server}{}", crate::toolset::MCP_SEPARATOR);
                    if registry.sources().any(|s| s.prefix() == prefix) {
                        // The server's tools as they are at each call (tools it adds later).
                        names.push(format!("{prefix}*"));
                    } else {
                        names.extend(
                            registry.names().filter(|n| n.starts_with(&prefix)).map(str::to_owned),
                        );
                    }
                }
                other => names.extend(other.tool_names()),
            }
        }
        names
    }

    /// Like [`to_spec`](Self::to_spec), with `server.*` entries expanded against `registry`
    /// ([`tool_names_in`](Self::tool_names_in)).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("w.worker"), "---\n---\nGo.\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let spec = project.workers()[0].to_spec_in(&llm_do_core::Registry::default())?;
    /// assert_eq!(spec.name(), "w");
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_spec_in(
        &self,
        registry: &llm_do_core::Registry,
    ) -> llm_do_core::Result<Arc<CallableSpec>> {
        self.spec_with_tools(self.tool_names_in(registry))
    }

    fn spec_with_tools(&self, tools: Vec<String>) -> llm_do_core::Result<Arc<CallableSpec>> {
        let mut b = WorkerSpecBuilder::new(self.name.as_str())
            .prompt(self.prompt.clone())
            .input_schema(self.input.clone())
            .output_schema(self.output.clone());
        if let Some(d) = &self.description {
            b = b.description(d.clone());
        }
        if let Some(s) = &self.system {
            b = b.system(s.clone());
        }
        if let Some(m) = &self.model {
            b = b.model(m.clone());
        }
        if let Some(t) = self.temperature {
            b = b.temperature(t);
        }
        if let Some(n) = self.max_tokens {
            b = b.max_tokens(n);
        }
        if let Some(seed) = self.seed {
            b = b.seed(seed);
        }
        if !self.stop.is_empty() {
            b = b.stop(self.stop.clone());
        }
        if let Some(n) = self.max_turns {
            b = b.max_turns(n);
        }
        if let Some(v) = self.approval {
            b = b.approval(v);
        }
        for name in tools {
            b = b.tool_name(name);
        }
        b.build()
    }
}
