//! [`WorkerFile`]: one `NAME.worker` file — YAML frontmatter (settings, tools, schemas,
//! approvals) and a markdown body (the prompt) — and its parser, which reports every problem
//! with its line and column.
//!
//! The body is the worker's *prompt template*: the user message of each call, with `{param}`
//! placeholders replaced by the call's arguments (`{input}` with the default input schema).
//! The system prompt is the frontmatter's `system`, else its `description` — core's
//! convention for every worker.

use crate::diagnostic::{Diagnostic, Pos};
use crate::frontmatter;

use crate::config::Budget;
use crate::rules::{RULE_KEYS, RuleSpec};
use crate::toolset::{
    FILESYSTEM_KEYS, FILESYSTEM_TOOLS, FilesystemOptions, FilesystemRaw, SHELL_KEYS,
    SHELL_RULE_KEYS, ShellOptions, ShellRaw, ShellRuleRaw, ToolEntry,
};
use crate::yaml::{self, Kind, Node};
use llm_do_core::approval::{Rule, Verdict};
use llm_do_core::prompt::Template;
use llm_do_core::{CallableSpec, ModelRef, WorkerSpecBuilder};
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

/// `true` for names providers accept as tool names: 1 to 64 ASCII letters, digits, `_`, `-`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(crate) const NAME_EXPECTED: &str = "1 to 64 ASCII letters, digits, `_` or `-`";

pub(crate) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|k| format!("`{k}`")).collect();
    format!("one of {}", quoted.join(", "))
}

/// Collects the diagnostics of one file.
pub(crate) struct Parser<'a> {
    pub(crate) file: &'a Path,
    pub(crate) dir: &'a Path,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Parser<'_> {
    pub(crate) fn error(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic::at(self.file, pos, message).expected(expected));
    }

    pub(crate) fn yaml_error(&mut self, e: yaml::YamlError) {
        let mut d = Diagnostic::at(self.file, e.pos, e.message);
        d.expected = e.expected;
        self.diagnostics.push(d);
    }

    pub(crate) fn string(&mut self, key: &str, node: &Node) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.error(node.pos, format!("`{key}` is {}", node.describe()), "a string");
                None
            }
        }
    }

    fn json(&mut self, node: &Node) -> Option<Value> {
        node.to_json().map_err(|e| self.yaml_error(e)).ok()
    }

    pub(crate) fn schema(&mut self, key: &str, node: &Node, object: bool) -> Option<Value> {
        let schema = self.json(node)?;
        if object && schema.get("type") != Some(&json!("object")) {
            self.error(
                node.pos,
                "the input schema does not describe an object",
                "a JSON Schema with `type: object` and the parameters under `properties`",
            );
            return None;
        }
        if let Err(e) = llm_do_core::schema::Validator::new(&schema) {
            self.error(
                node.pos,
                format!("`{key}` is not a valid JSON Schema: {e}"),
                "a JSON Schema",
            );
            return None;
        }
        Some(schema)
    }

    fn directory(&mut self, node: Option<&Node>, root: Option<&str>) -> Option<PathBuf> {
        // `./docs` is shown as `DIR/docs`, not `DIR/./docs`.
        let relative: PathBuf = Path::new(root.unwrap_or("."))
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        let path = self.dir.join(relative);
        if path.is_dir() {
            return Some(path);
        }
        let pos = node.map_or(Pos::START, |n| n.pos);
        self.error(
            pos,
            format!("`{}` is not a directory", path.display()),
            "an existing directory, relative to the project directory",
        );
        None
    }

    /// The options map of a toolset: unknown keys are reported at their position.
    fn options<'n>(
        &mut self,
        toolset: &str,
        node: &'n Node,
        keys: &[&str],
    ) -> Vec<(&'n str, &'n Node)> {
        match &node.kind {
            Kind::Null => Vec::new(),
            Kind::Map(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    match k.as_str() {
                        Some(key) if keys.contains(&key) => out.push((key, v)),
                        Some(key) => self.error(
                            k.pos,
                            format!("unknown `{toolset}` option `{key}`"),
                            list(keys),
                        ),
                        None => self.error(
                            k.pos,
                            format!("an option key is {}", k.describe()),
                            list(keys),
                        ),
                    }
                }
                out
            }
            _ => {
                self.error(
                    node.pos,
                    format!("the `{toolset}` options are {}", node.describe()),
                    format!("a mapping with keys {}", list(keys)),
                );
                Vec::new()
            }
        }
    }

    fn raw_options<T: serde::de::DeserializeOwned>(
        &mut self,
        toolset: &str,
        node: &Node,
        options: &[(&str, &Node)],
    ) -> Option<T> {
        let mut map = serde_json::Map::new();
        for (key, value) in options {
            if *key != "rules" {
                map.insert((*key).to_owned(), self.json(value)?);
            }
        }
        serde_json::from_value(Value::Object(map))
            .map_err(|e| {
                self.error(
                    node.pos,
                    format!("invalid `{toolset}` options: {e}"),
                    "the documented option types",
                )
            })
            .ok()
    }

    fn filesystem(&mut self, node: &Node) -> Option<ToolEntry> {
        let options = self.options("filesystem", node, FILESYSTEM_KEYS);
        let raw: FilesystemRaw = self.raw_options("filesystem", node, &options)?;
        let root_node = options.iter().find(|(k, _)| *k == "root").map(|(_, v)| *v);
        let root = self.directory(root_node.or(Some(node)), raw.root.as_deref())?;
        let only_node = options.iter().find(|(k, _)| *k == "only").map(|(_, v)| *v);
        if let (Some(only), Some(only_node)) = (&raw.only, only_node) {
            self.check_only(only, only_node, raw.read_only)?;
        }
        Some(ToolEntry::Filesystem(FilesystemOptions {
            root,
            read_only: raw.read_only,
            only: raw.only,
            max_read_chars: raw.max_read_chars,
            max_list_entries: raw.max_list_entries,
            max_write_chars: raw.max_write_chars,
            max_path_chars: raw.max_path_chars,
        }))
    }

    /// Checks a filesystem entry's `only:` list: known tool names, at least one, none twice,
    /// and no `write_file` in a `read_only` entry. Reports every problem; `None` if any.
    fn check_only(&mut self, only: &[String], node: &Node, read_only: bool) -> Option<()> {
        let before = self.diagnostics.len();
        if only.is_empty() {
            self.error(node.pos, "`only` is empty", format!("at least {}", list(FILESYSTEM_TOOLS)));
        }
        let items = match &node.kind {
            Kind::Seq(items) => items.as_slice(),
            _ => &[],
        };
        for (i, name) in only.iter().enumerate() {
            let pos = items.get(i).map_or(node.pos, |item| item.pos);
            if !FILESYSTEM_TOOLS.contains(&name.as_str()) {
                self.error(
                    pos,
                    format!("`{name}` is not a tool of the filesystem toolset"),
                    list(FILESYSTEM_TOOLS),
                );
            } else if only[..i].contains(name) {
                self.error(pos, format!("`{name}` is listed twice"), "each tool once");
            } else if read_only && name == "write_file" {
                self.error(
                    pos,
                    "`write_file` is offered by a `read_only` filesystem entry",
                    "`read_only: false`, or `only` without `write_file`",
                );
            }
        }
        (self.diagnostics.len() == before).then_some(())
    }

    fn shell(&mut self, node: &Node) -> Option<ToolEntry> {
        let options = self.options("shell", node, SHELL_KEYS);
        let raw: ShellRaw = self.raw_options("shell", node, &options)?;
        let mut rules = Vec::new();
        let mut ok = true;
        if let Some((_, rules_node)) = options.iter().find(|(k, _)| *k == "rules") {
            let Kind::Seq(items) = &rules_node.kind else {
                self.error(
                    rules_node.pos,
                    format!("`rules` is {}", rules_node.describe()),
                    "a list of shell rules",
                );
                return None;
            };
            for item in items {
                let Some(value) = self.json(item) else {
                    ok = false;
                    continue;
                };
                match serde_json::from_value::<ShellRuleRaw>(value)
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.to_rule())
                {
                    Ok(rule) => rules.push(rule),
                    Err(e) => {
                        ok = false;
                        self.error(item.pos, format!("invalid shell rule: {e}"), SHELL_RULE_KEYS);
                    }
                }
            }
        }
        let root_node = options.iter().find(|(k, _)| *k == "root").map(|(_, v)| *v);
        let root = self.directory(root_node.or(Some(node)), raw.root.as_deref())?;
        ok.then_some(ToolEntry::Shell(ShellOptions {
            root,
            rules,
            timeout_secs: raw.timeout_secs,
            max_output: raw.max_output,
        }))
    }

    fn tool(&mut self, item: &Node) -> Option<ToolEntry> {
        const EXPECTED: &str = "a worker or tool name, `filesystem: {..}` or `shell: {..}`";
        match &item.kind {
            Kind::Str(name) if is_valid_name(name) => Some(ToolEntry::Name(name.clone())),
            Kind::Str(name) if name.contains('.') => {
                let (server, tool) = name.split_once('.').unwrap_or_default();
                let tool_ok =
                    tool == "*" || (is_valid_name(tool) && server.len() + 2 + tool.len() <= 64);
                if crate::config::is_valid_server_name(server) && tool_ok {
                    let tool = (tool != "*").then(|| tool.to_owned());
                    Some(ToolEntry::Mcp { server: server.to_owned(), tool })
                } else {
                    self.error(
                        item.pos,
                        format!("`{name}` is not a valid MCP tool reference"),
                        "`SERVER.TOOL` or `SERVER.*`, SERVER an `[mcp.SERVER]` of llm-do.toml; SERVER__TOOL at most 64 characters of letters, digits, `_`, `-`",
                    );
                    None
                }
            }
            Kind::Str(name) => {
                self.error(item.pos, format!("`{name}` is not a valid tool name"), NAME_EXPECTED);
                None
            }
            Kind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                match key.as_str() {
                    Some("filesystem") => self.filesystem(value),
                    Some("shell") => self.shell(value),
                    _ => {
                        self.error(key.pos, "unknown built-in toolset", "`filesystem` or `shell`");
                        None
                    }
                }
            }
            _ => {
                self.error(item.pos, format!("a tool entry is {}", item.describe()), EXPECTED);
                None
            }
        }
    }

    fn approval(&mut self, node: &Node, worker: &mut WorkerFile) {
        match &node.kind {
            Kind::Str(s) => match s.parse::<Verdict>() {
                Ok(v) => worker.approval = Some(v),
                Err(_) => self.error(
                    node.pos,
                    format!("`{s}` is not an approval verdict"),
                    "`allow`, `ask` or `deny`, or a list of rules",
                ),
            },
            Kind::Seq(items) => {
                for item in items {
                    let Some(value) = self.json(item) else { continue };
                    let rule = serde_json::from_value::<RuleSpec>(value)
                        .map_err(|e| e.to_string())
                        .and_then(|spec| spec.compile());
                    match rule {
                        Ok(rule) => worker.rules.push(rule),
                        Err(e) => {
                            self.error(item.pos, format!("invalid approval rule: {e}"), RULE_KEYS)
                        }
                    }
                }
            }
            _ => self.error(
                node.pos,
                format!("`approval` is {}", node.describe()),
                "`allow`, `ask` or `deny`, or a list of rules",
            ),
        }
    }
}

/// Parses one worker file. Returns the worker whenever its frontmatter could be read (possibly
/// with defaults where a value was wrong), and every problem found.
pub(crate) fn parse(file: &Path, dir: &Path, text: &str) -> (Option<WorkerFile>, Vec<Diagnostic>) {
    let mut p = Parser { file, dir, diagnostics: Vec::new() };
    let split = match frontmatter::split(text) {
        Ok(s) => s,
        Err(e) => {
            p.error(Pos { line: e.line, column: 1 }, e.message, e.expected);
            return (None, p.diagnostics);
        }
    };
    let root = match yaml::parse(split.yaml, split.yaml_line) {
        Ok(root) => root,
        Err(e) => {
            p.yaml_error(e);
            return (None, p.diagnostics);
        }
    };
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
    let mut worker = WorkerFile::empty(file, stem);
    let entries = match root.map(|r| (r.kind, r.pos)) {
        None => Vec::new(),
        Some((Kind::Map(entries), _)) => entries,
        Some((_, pos)) => {
            p.error(
                pos,
                "the frontmatter is not a mapping",
                "keys such as `description:` and `model:`",
            );
            return (None, p.diagnostics);
        }
    };
    let mut name_given = false;
    let mut input_ok = true;
    for (key_node, value) in &entries {
        let Some(key) = key_node.as_str() else {
            p.error(key_node.pos, format!("a key is {}", key_node.describe()), list(KEYS));
            continue;
        };
        match key {
            "name" => {
                name_given = true;
                worker.name_pos = value.pos;
                if let Some(name) = p.string(key, value) {
                    if is_valid_name(&name) {
                        worker.name = name;
                    } else {
                        p.error(
                            value.pos,
                            format!("`{name}` is not a valid worker name"),
                            NAME_EXPECTED,
                        );
                    }
                }
            }
            "description" => worker.description = p.string(key, value),
            "system" => worker.system = p.string(key, value),
            "model" => {
                if let Some(model) = p.string(key, value) {
                    match ModelRef::parse(&model) {
                        Ok(_) => worker.model = Some(model),
                        Err(e) => p.error(
                            value.pos,
                            model_message(&model, &e),
                            "`provider:name`, for example `openai:gpt-4o-mini`",
                        ),
                    }
                }
            }
            "temperature" => match value.kind {
                Kind::Int(i) if (0..=2).contains(&i) => worker.temperature = Some(i as f32),
                Kind::Float(f) if (0.0..=2.0).contains(&f) => worker.temperature = Some(f as f32),
                _ => p.error(
                    value.pos,
                    format!("`temperature` is {}", value.describe_value()),
                    "a number from 0 to 2",
                ),
            },
            "max_turns" => match value.kind {
                Kind::Int(i) if i >= 1 => {
                    worker.max_turns = Some(u32::try_from(i).unwrap_or(u32::MAX))
                }
                _ => p.error(
                    value.pos,
                    format!("`max_turns` is {}", value.describe_value()),
                    "a whole number of at least 1",
                ),
            },
            "tools" => match &value.kind {
                Kind::Seq(items) => {
                    for item in items {
                        if let Some(entry) = p.tool(item) {
                            worker.tools.push(entry);
                            worker.tool_pos.push(item.pos);
                        }
                    }
                }
                Kind::Null => {}
                _ => p.error(
                    value.pos,
                    format!("`tools` is {}", value.describe()),
                    "a list of tools",
                ),
            },
            "input" => match p.schema(key, value, true) {
                Some(schema) => worker.input = schema,
                None => input_ok = false,
            },
            "output" => {
                if let Some(schema) = p.schema(key, value, false) {
                    worker.output = schema;
                }
            }
            "approval" => p.approval(value, &mut worker),
            "budget" => {
                let expected = "a mapping with `requests`, `tokens` and `tool_calls`, each a whole \
                                number of at least 1";
                match p.json(value).map(serde_json::from_value::<Budget>) {
                    None => {}
                    Some(Ok(budget)) => match budget.zero_key() {
                        None => worker.budget = budget,
                        Some(key) => p.error(value.pos, format!("`budget.{key}` is 0"), expected),
                    },
                    Some(Err(e)) => p.error(value.pos, format!("invalid `budget`: {e}"), expected),
                }
            }
            unknown => p.error(key_node.pos, format!("unknown key `{unknown}`"), list(KEYS)),
        }
    }
    if !name_given && !is_valid_name(&worker.name) {
        p.error(
            Pos::START,
            format!("the file name gives the worker name `{}`, which is not valid", worker.name),
            format!("`name:` with {NAME_EXPECTED}"),
        );
    }
    let body_base = Pos { line: split.body_line, column: 1 };
    match Template::parse(split.body) {
        Err(e) => {
            p.error(Pos::of_offset(split.body, e.offset(), body_base), e.problem(), e.expected())
        }
        Ok(template) if input_ok => {
            let properties = worker.input.get("properties").and_then(Value::as_object);
            for (name, offset) in template.placeholder_offsets() {
                if properties.is_some_and(|props| props.contains_key(name)) {
                    continue;
                }
                let declared: Vec<&str> =
                    properties.map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
                let expected = if declared.is_empty() {
                    "an input schema that declares it under `properties`".to_owned()
                } else {
                    format!("an input property: {}", list(&declared))
                };
                p.error(
                    Pos::of_offset(split.body, offset, body_base),
                    format!("placeholder `{{{name}}}` is not an input property"),
                    expected,
                );
            }
        }
        Ok(_) => {}
    }
    worker.prompt = split.body.trim_start_matches(['\n', '\r']).trim_end().to_owned();
    if worker.prompt.trim().is_empty() {
        p.error(
            Pos { line: split.closing_line, column: 1 },
            "the worker has no prompt",
            "the prompt (markdown) after the closing `---`",
        );
    }
    (Some(worker), p.diagnostics)
}

/// The part of a model-string error that the diagnostic's "expected" does not already say.
pub(crate) fn model_message(model: &str, e: &llm_do_core::Error) -> String {
    match e {
        llm_do_core::Error::InvalidModel { reason, .. } if !reason.starts_with("expected") => {
            format!("invalid model string `{model}`: {reason}")
        }
        _ => format!("invalid model string `{model}`"),
    }
}

impl Node {
    /// Like [`Node::describe`], quoting short scalars: "the string `hot`".
    fn describe_value(&self) -> String {
        match &self.kind {
            Kind::Str(s) if s.chars().count() <= 40 => format!("the string `{s}`"),
            Kind::Int(i) => format!("`{i}`"),
            Kind::Float(f) => format!("`{f}`"),
            _ => self.describe().to_owned(),
        }
    }
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
