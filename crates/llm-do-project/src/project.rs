//! [`Project`]: a directory of `.worker` files with an optional `llm-do.toml` (or a Python
//! llm-do project: `project.json` and `.agent` files), loaded and checked as a whole, and
//! registered into a runtime.
//!
//! (Over 400 lines: most of it is the doc examples of `Project`'s public methods.)

use crate::agent_file::{self, AGENT_EXTENSION};
use crate::check;
use crate::config::{self, ApprovalMode, Budget, ProjectConfig};
use crate::diagnostic::{Diagnostic, Diagnostics, Pos};
use crate::python;
use crate::source::{absolute_dir, files_with, links_out_of, read, read_config};
use crate::toolset::{FilesystemOptions, ShellOptions, ToolEntry};
use crate::worker_file::{self, WorkerFile};
use llm_do_core::approval::{ApprovalPolicy, ApproveAll, DenyAll};
use llm_do_core::{CallableSpec, Registry, RuntimeBuilder};
use llm_do_tools::fs::{AttachmentFiles, Filesystem};
use llm_do_tools::shell::Shell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The extension of worker files.
pub const WORKER_EXTENSION: &str = "worker";

/// Largest worker or configuration file read (1 MiB); larger files are reported, not read.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Most bytes of worker and agent files read for one project, all files together (32 MiB):
/// each file is at most [`MAX_FILE_BYTES`], but a directory of many (hard links to one file
/// cost no disk) would otherwise be read and kept whole. The file that goes over is reported,
/// and neither it nor the ones after it (in load order) are read.
pub const MAX_PROJECT_BYTES: u64 = 32 << 20;

/// A loaded, valid project: its workers, configuration, built-in toolsets and approval rules.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use llm_do_core::{Registry, Runtime};
/// use llm_do_project::Project;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("llm-do.toml"), "model = \"openai:gpt-4o-mini\"\n")?;
/// std::fs::write(dir.path().join("main.worker"), "---\ndescription: Answers.\ntools: [helper]\n---\nAnswer {input}.\n")?;
/// std::fs::write(dir.path().join("helper.worker"), "---\ndescription: Helps.\n---\nHelp with {input}.\n")?;
///
/// let project = Project::check(dir.path(), &Registry::default())?;
/// assert_eq!(project.entry(), Some("main"));
/// let rt = project.register(Runtime::builder()).build();
/// assert!(rt.registry().contains("helper"));
///
/// // Problems are collected across all files, each with file:line:col.
/// std::fs::write(dir.path().join("bad.worker"), "---\ntemprature: 1\n---\nHi\n")?;
/// let errors = Project::load(dir.path()).unwrap_err();
/// assert!(errors.to_string().contains("bad.worker:2:1: error: unknown key `temprature`"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
    config: ProjectConfig,
    workers: Vec<WorkerFile>,
    specs: Vec<Arc<CallableSpec>>,
    builtins: Vec<Arc<CallableSpec>>,
    policy: ApprovalPolicy,
    entry: Option<String>,
}

impl Project {
    /// Loads the project in `dir`: `llm-do.toml` or `project.json` (optional), every `*.worker`
    /// file directly in `dir`, in file-name order, then the `.agent` files (those listed in
    /// `project.json`'s `agent_files`, else every `*.agent` file of `dir`). Collects *all*
    /// problems across files.
    ///
    /// Names a worker lists that are not defined by the project are assumed to be Rust tools
    /// of the host program: use [`check`](Self::check) to verify them against a registry.
    ///
    /// ```
    /// let errors = llm_do_project::Project::load("/no/such/dir").unwrap_err();
    /// assert!(errors.to_string().contains("not a directory"));
    /// ```
    pub fn load(dir: impl AsRef<Path>) -> Result<Project, Diagnostics> {
        Self::load_with(dir.as_ref(), None, false)
    }

    /// Loads the project and checks its references against the host program's registry (its
    /// Rust workers and tools; an empty [`Registry`] for a project on its own): every tool a
    /// worker lists must be a project worker, a built-in tool of a configured toolset or a
    /// host name, and no worker may take a host name. No model is called.
    ///
    /// The tools of the MCP servers of `llm-do.toml` are found in `host` too, as
    /// `server__tool` (the command line connects the servers and adds their tools first):
    /// `server.tool` entries must name one of them, and `server.*` entries expand to all of
    /// them in the workers' specs.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_core::{Registry, ToolSpecBuilder};
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("w.worker"), "---\ntools: [now]\n---\nWhat time is it?\n")?;
    /// let errors = llm_do_project::Project::check(dir.path(), &Registry::default()).unwrap_err();
    /// assert!(errors.to_string().contains("w.worker:2:9: error: unknown tool `now`"));
    ///
    /// let mut host = Registry::default();
    /// host.insert(ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::json!(0)) }).build());
    /// assert!(llm_do_project::Project::check(dir.path(), &host).is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn check(dir: impl AsRef<Path>, host: &Registry) -> Result<Project, Diagnostics> {
        Self::load_with(dir.as_ref(), Some(host), true)
    }

    /// [`check`](Self::check) for a project whose MCP servers were not started (`llm-do
    /// check --no-servers`): a `server.tool` entry must name a server `llm-do.toml` declares,
    /// but whether the server has the tool is not known, so it is not checked. Everything else
    /// is checked as `check` does.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_core::Registry;
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("llm-do.toml"), "[mcp.orders]\ncommand = \"orders-server\"\n")?;
    /// std::fs::write(dir.path().join("w.worker"), "---\ntools: [orders.lookup]\n---\nLook {input} up.\n")?;
    /// let unlisted = llm_do_project::Project::check(dir.path(), &Registry::default()).unwrap_err();
    /// assert!(unlisted.to_string().contains("the MCP server `orders` has no tool `lookup`"));
    /// assert!(llm_do_project::Project::check_without_servers(dir.path(), &Registry::default()).is_ok());
    /// std::fs::write(dir.path().join("w.worker"), "---\ntools: [nope.lookup]\n---\nLook {input} up.\n")?;
    /// let undeclared = llm_do_project::Project::check_without_servers(dir.path(), &Registry::default()).unwrap_err();
    /// assert!(undeclared.to_string().contains("unknown MCP server `nope`"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_without_servers(
        dir: impl AsRef<Path>,
        host: &Registry,
    ) -> Result<Project, Diagnostics> {
        Self::load_with(dir.as_ref(), Some(host), false)
    }

    fn load_with(
        dir: &Path,
        host: Option<&Registry>,
        servers_started: bool,
    ) -> Result<Project, Diagnostics> {
        if !dir.is_dir() {
            return Err(vec![
                Diagnostic::at(dir, Pos::START, "not a directory")
                    .expected("a project directory with `.worker` files"),
            ]
            .into());
        }
        let mut diagnostics = Vec::new();
        let (config, manifest) = read_config(dir, &mut diagnostics);
        // Toolset roots are resolved against the absolute project directory (diagnostics keep
        // the paths as they were given).
        let base = absolute_dir(dir);
        let mut workers = Vec::new();
        let agent_paths = match &manifest {
            Some(m) => Ok(m.agent_files.iter().map(|(p, _)| p.clone()).collect()),
            None => files_with(dir, AGENT_EXTENSION),
        };
        // A project.json that could not be read lists nothing known: its error is the one.
        let unread = manifest.as_ref().is_some_and(|m| m.unread);
        match (files_with(dir, WORKER_EXTENSION), agent_paths) {
            (Ok(paths), Ok(agents)) if paths.is_empty() && agents.is_empty() && unread => {}
            (Ok(paths), Ok(agents)) if paths.is_empty() && agents.is_empty() => {
                diagnostics.push(
                    Diagnostic::at(dir, Pos::START, "the project has no worker files").expected(
                        "at least one `NAME.worker` file in the directory, or `NAME.agent` files (listed in project.json's `agent_files` when there is one)",
                    ),
                )
            }
            (Ok(paths), Ok(agents)) => {
                let all: Vec<_> = paths
                    .into_iter()
                    .map(|p| (p, false))
                    .chain(agents.into_iter().map(|p| (p, true)))
                    .collect();
                let count = all.len();
                let mut total = 0u64;
                for (i, (path, is_agent)) in all.into_iter().enumerate() {
                    // Files found in the directory (listed ones were checked where listed) are
                    // confined on their resolved paths too: a link to a file elsewhere is not
                    // read, so none of its text reaches a prompt. (A link to anything but a
                    // file, a device say, is reported by `read` as what it is, unread.)
                    let found = !(is_agent && manifest.is_some());
                    let links_out = || {
                        std::fs::metadata(&path).is_ok_and(|m| m.is_file())
                            && path.file_name().is_some_and(|name| links_out_of(dir, name))
                    };
                    if found && links_out() {
                        let name = path.file_name().unwrap_or_default().to_string_lossy();
                        diagnostics.push(
                            Diagnostic::at(&path, Pos::START, format!("`{name}` is outside the project directory (a symbolic link leads out of it)"))
                                .expected("a worker file inside the project directory once links are resolved"),
                        );
                        continue;
                    }
                    match read(&path) {
                        Ok(text) => {
                            total = total.saturating_add(text.len() as u64);
                            if total > MAX_PROJECT_BYTES {
                                diagnostics.push(over_project_size(&path, count - i - 1));
                                break;
                            }
                            let (worker, d) = if is_agent {
                                agent_file::parse(&path, &base, &text)
                            } else {
                                worker_file::parse(&path, &base, &text)
                            };
                            diagnostics.extend(d);
                            workers.extend(worker);
                        }
                        Err(d) => diagnostics.extend(d),
                    }
                }
            }
            (Err(d), _) | (_, Err(d)) => diagnostics.push(d),
        }
        if let Some(m) = &manifest {
            diagnostics.extend(python::agent_approvals(m, &config, &mut workers));
        }
        diagnostics.extend(check::references(dir, &config, &workers, host, servers_started));
        if let Some(host) = host {
            let python_files = manifest.as_ref().map_or(&[][..], |m| &m.python_files[..]);
            diagnostics.extend(python::resolve_toolsets(dir, python_files, &mut workers, host));
        }
        diagnostics.extend(python::entry_args(&config, &workers));
        if !diagnostics.is_empty() {
            return Err(diagnostics.into());
        }
        let empty = Registry::default();
        Self::assemble(dir, config, workers, host.unwrap_or(&empty)).map_err(Diagnostics::from)
    }

    /// Builds specs, toolsets and the policy of a project whose files are all valid.
    fn assemble(
        dir: &Path,
        config: ProjectConfig,
        workers: Vec<WorkerFile>,
        host: &Registry,
    ) -> Result<Project, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        let mut specs = Vec::new();
        for w in &workers {
            match w.to_spec_in(host) {
                Ok(spec) => specs.push(spec),
                Err(e) => diagnostics.push(Diagnostic::at(
                    &w.path,
                    Pos::START,
                    format!("the worker cannot be built: {e}"),
                )),
            }
        }
        let mut policy =
            config.rules.iter().cloned().fold(ApprovalPolicy::new(), ApprovalPolicy::rule);
        policy =
            workers.iter().flat_map(|w| w.rules.iter().cloned()).fold(policy, ApprovalPolicy::rule);
        let mut builtins = Vec::new();
        let located = workers
            .iter()
            .flat_map(|w| w.tools.iter().zip(&w.tool_pos).map(move |(t, p)| (w, t, *p)));
        let filesystems: Vec<_> = located
            .clone()
            .filter_map(|(w, t, p)| match t {
                ToolEntry::Filesystem(fs) => Some((w, fs, p)),
                _ => None,
            })
            .collect();
        if let Some((w, fs, pos)) = filesystems.first() {
            // The shared toolset can write when some worker is offered `write_file`.
            let read_only = !located.clone().any(|(_, t, _)| {
                matches!(t, ToolEntry::Filesystem(_))
                    && t.tool_names().iter().any(|n| n == "write_file")
            });
            match filesystem(fs, read_only) {
                Ok(toolset) => builtins.extend(toolset.specs()),
                Err(e) => diagnostics.push(Diagnostic::at(
                    &w.path,
                    *pos,
                    format!("the filesystem toolset cannot be opened: {e}"),
                )),
            }
        }
        if let Some((w, sh, pos)) = located
            .filter_map(|(w, t, p)| match t {
                ToolEntry::Shell(sh) => Some((w, sh, p)),
                _ => None,
            })
            .next()
        {
            match shell(sh).and_then(|shell| Ok((shell.approval_policy(policy.clone())?, shell))) {
                Ok((with_shell_rules, shell)) => {
                    policy = with_shell_rules;
                    builtins.push(shell.spec());
                }
                Err(e) => diagnostics.push(Diagnostic::at(
                    &w.path,
                    pos,
                    format!("the shell toolset cannot be set up: {e}"),
                )),
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let entry = config.entry.clone().or_else(|| {
            if workers.iter().any(|w| w.name == "main") {
                Some("main".to_owned())
            } else if let [only] = workers.as_slice() {
                Some(only.name.clone())
            } else {
                None
            }
        });
        Ok(Project { root: dir.to_owned(), config, workers, specs, builtins, policy, entry })
    }

    /// Registers the project into a runtime: every file worker (a `CallableSpec` whose tools are
    /// referenced by name, resolved when called, so file workers call the host's Rust tools and
    /// Rust code calls file workers by name), the built-in toolsets with their options, and
    /// from `llm-do.toml` the default model, the depth limit (a `project.json`'s counting
    /// worker calls only: [`ProjectConfig::tools_past_max_depth`]), the run budgets (`[budget]`, else
    /// [`DEFAULT_MAX_REQUESTS`](config::DEFAULT_MAX_REQUESTS) requests and
    /// [`DEFAULT_MAX_TOOL_CALLS`](config::DEFAULT_MAX_TOOL_CALLS) tool calls), the approval policy
    /// ([`approval_policy`](Self::approval_policy) of an empty policy: this *replaces* a policy
    /// set on `builder` before) and the approval mode (`approve_all` / `deny_all` set the
    /// approver; `prompt` leaves it to the host), what a denied call does
    /// ([`ProjectConfig::on_denied`]: a `project.json` project's run ends unless
    /// `return_permission_errors`), and an attachment loader confined to the project root (for
    /// inputs with `format: attachment`).
    ///
    /// The environment's model (`LLM_DO_MODEL`, which `llm_do::setup` passes to
    /// [`RuntimeBuilder::env_model`]) still takes precedence over the project's default model;
    /// a worker's own `model:` over both.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("llm-do.toml"), "max_depth = 2\n")?;
    /// std::fs::write(dir.path().join("w.worker"), "---\ntools: [{filesystem: {read_only: true}}]\n---\nGo.\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let rt = project.register(llm_do_core::Runtime::builder()).build();
    /// assert_eq!(rt.limits().max_depth, 2);
    /// assert!(rt.registry().contains("read_file") && !rt.registry().contains("write_file"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn register(&self, builder: RuntimeBuilder) -> RuntimeBuilder {
        let mut b = builder;
        for spec in self.builtins.iter().chain(&self.specs) {
            b = b.register(spec.clone());
        }
        if let Some(model) = &self.config.model {
            b = b.default_model(model.clone());
        }
        if let Some(depth) = self.config.max_depth {
            b = b.max_depth(depth);
        }
        if self.config.tools_past_max_depth {
            b = b.tools_past_max_depth(true);
        }
        if self.config.max_depth_ends_run {
            b = b.max_depth_ends_run(true);
        }
        b = self.config.budget.or(default_budget()).apply(b);
        b = b.approval_policy(self.approval_policy(ApprovalPolicy::new()));
        if let Some(on_denied) = self.config.on_denied {
            b = b.on_denied(on_denied);
        }
        // Attachment paths given to workers (`format: attachment` inputs) are read beneath the
        // project root, with the filesystem toolset's confinement.
        if let Ok(files) = AttachmentFiles::new(&self.root) {
            b = b.attachment_loader(files);
        }
        match self.config.approval_mode {
            ApprovalMode::Prompt => b,
            ApprovalMode::ApproveAll => b.approver(ApproveAll),
            ApprovalMode::DenyAll => b.approver(DenyAll),
        }
    }

    /// `base`'s rules followed by the project's: those of `llm-do.toml`, then those of the
    /// worker files (in file-name order), then the shell toolset's mirrored rules. Rules are
    /// global to the runtime: a rule written in one worker file applies to every call a model
    /// requests, whichever worker's model requests it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_core::approval::{ApprovalPolicy, Rule, Verdict};
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("w.worker"), "---\napproval: [{tool: \"write_*\", verdict: deny}]\n---\nGo.\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let policy = project.approval_policy(ApprovalPolicy::new().rule(Rule::new("x", Verdict::Ask)?));
    /// assert_eq!(policy.rules().len(), 2);
    /// assert_eq!(policy.evaluate("write_file", &serde_json::json!({}), None).0, Verdict::Deny);
    /// # Ok(())
    /// # }
    /// ```
    pub fn approval_policy(&self, base: ApprovalPolicy) -> ApprovalPolicy {
        self.policy.rules().iter().cloned().fold(base, ApprovalPolicy::rule)
    }

    /// The worker a run starts with: `entry` from `llm-do.toml` (`entry.agent` from
    /// `project.json`), else the worker named `main`,
    /// else the only worker; `None` when none of these applies.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\n---\nA\n")?;
    /// assert_eq!(llm_do_project::Project::load(dir.path())?.entry(), Some("a"));
    /// std::fs::write(dir.path().join("b.worker"), "---\n---\nB\n")?;
    /// assert_eq!(llm_do_project::Project::load(dir.path())?.entry(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn entry(&self) -> Option<&str> {
        self.entry.as_deref()
    }

    /// Checks `model`, the model a run gives workers that name none (`--model`,
    /// `LLM_DO_MODEL`, the project's default), against the `compatible_models` patterns of the
    /// project's agents: every agent without its own `model` must accept it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("main.agent"), "---\nname: main\ncompatible_models: [\"openai:*\"]\n---\nBe brief.\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// assert!(project.check_model("openai:gpt-4o-mini").is_ok());
    /// let errors = project.check_model("local:smollm2").unwrap_err();
    /// assert!(errors.to_string().contains("main.agent:3:20: error: the model `local:smollm2` does not match `compatible_models` of `main`"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_model(&self, model: &str) -> Result<(), Diagnostics> {
        let mismatches = python::model_mismatches(&self.workers, model);
        if mismatches.is_empty() { Ok(()) } else { Err(mismatches.into()) }
    }

    /// Checks each file worker's `model:`, and the project's `model` (of `llm-do.toml`), with
    /// `check` (which says what is wrong with a model string, or `None`): a located diagnostic
    /// for each model it refuses. What `llm-do check` asks of the runtime it would run with: a
    /// provider it does not have (`anthropic:…`, or one the Python llm-do defines in Python) is
    /// found before any run.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\nmodel: anthropic:claude\n---\nA\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let known = |model: &str| (!model.starts_with("openai:")).then(|| "no such provider".to_owned());
    /// let errors = project.check_worker_models(known).unwrap_err().to_string();
    /// assert!(errors.contains("a.worker:2:8: error: no such provider"), "{errors}");
    /// std::fs::write(dir.path().join("llm-do.toml"), "max_depth = 3\nmodel = \"anthropic:claude\"\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let errors = project.check_worker_models(known).unwrap_err().to_string();
    /// assert!(errors.contains("llm-do.toml:2:9: error: no such provider"), "{errors}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_worker_models(
        &self,
        check: impl Fn(&str) -> Option<String>,
    ) -> Result<(), Diagnostics> {
        let mut refused: Vec<Diagnostic> = self
            .workers
            .iter()
            .filter_map(|w| {
                let model = w.model.as_deref()?;
                Some(Diagnostic::at(&w.path, w.model_pos, check(model)?))
            })
            .collect();
        if let (Some(model), Some(file)) = (&self.config.model, &self.config.source)
            && let Some(problem) = check(model)
        {
            refused.push(Diagnostic::at(file, self.config.model_pos, problem));
        }
        if refused.is_empty() { Ok(()) } else { Err(refused.into()) }
    }

    /// The settings from `llm-do.toml` or `project.json` (defaults when there is none).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\n---\nA\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// assert_eq!(project.config().approval_mode, llm_do_project::ApprovalMode::Prompt);
    /// assert_eq!(project.config().model, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn config(&self) -> &ProjectConfig {
        &self.config
    }

    /// The file workers, in file-name order.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\nname: alpha\n---\nA\n")?;
    /// assert_eq!(llm_do_project::Project::load(dir.path())?.workers()[0].name, "alpha");
    /// # Ok(())
    /// # }
    /// ```
    pub fn workers(&self) -> &[WorkerFile] {
        &self.workers
    }

    /// The limits of a run that starts with each file worker whose `budget:` sets one, over
    /// `base` (the runtime's: `Runtime::limits`), sorted by name. What a server that gives
    /// each call a run of its own (`llm-do mcp`, `llm-do restate serve`) passes to
    /// [`Runtime::ctx_with`](llm_do_core::Runtime::ctx_with).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\nbudget: {requests: 3}\n---\nA\n")?;
    /// std::fs::write(dir.path().join("b.worker"), "---\nmodel: openai:x\n---\nB\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let base = project.register(llm_do_core::Runtime::builder()).build().limits();
    /// let limits = project.entry_limits(base);
    /// assert_eq!(limits.len(), 1);
    /// assert_eq!((limits[0].0.as_str(), limits[0].1.max_requests), ("a", Some(3)));
    /// assert_eq!(limits[0].1.max_tool_calls, base.max_tool_calls);
    /// # Ok(())
    /// # }
    /// ```
    pub fn entry_limits(&self, base: llm_do_core::Limits) -> Vec<(String, llm_do_core::Limits)> {
        let mut limits: Vec<(String, llm_do_core::Limits)> = self
            .workers
            .iter()
            .filter(|w| w.budget != Budget::default())
            .map(|w| (w.name.clone(), w.budget.over(base)))
            .collect();
        limits.sort_by(|a, b| a.0.cmp(&b.0));
        limits
    }

    /// The specs [`register`](Self::register) registers: file workers, then built-in tools.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\ntools: [{shell: {rules: [{allow: ls}]}}]\n---\nA\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let names: Vec<_> = project.specs().map(|s| s.name().to_owned()).collect();
    /// assert_eq!(names, ["a", "shell"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn specs(&self) -> impl Iterator<Item = &Arc<CallableSpec>> {
        self.specs.iter().chain(&self.builtins)
    }

    /// Reads only the project's configuration (`llm-do.toml` or `project.json`; defaults when
    /// there is none): what is needed to start its MCP servers before [`check`](Self::check)
    /// resolves their tools.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("llm-do.toml"), "[mcp.orders]\ncommand = \"orders-server\"\n")?;
    /// let config = llm_do_project::Project::read_config(dir.path())?;
    /// assert!(config.mcp.contains_key("orders"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_config(dir: impl AsRef<Path>) -> Result<ProjectConfig, Diagnostics> {
        let mut diagnostics = Vec::new();
        let (config, _) = read_config(dir.as_ref(), &mut diagnostics);
        if diagnostics.is_empty() { Ok(config) } else { Err(diagnostics.into()) }
    }

    /// The project directory.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\n---\nA\n")?;
    /// assert_eq!(llm_do_project::Project::load(dir.path())?.root(), dir.path());
    /// # Ok(())
    /// # }
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn filesystem(
    options: &FilesystemOptions,
    read_only: bool,
) -> Result<Filesystem, llm_do_tools::ToolError> {
    let mut fs = Filesystem::new(&options.root)?;
    if read_only {
        fs = fs.read_only();
    }
    if let Some(max) = options.max_read_chars {
        fs = fs.max_read_chars(max);
    }
    if let Some(max) = options.max_list_entries {
        fs = fs.max_list_entries(max);
    }
    if let Some(max) = options.max_write_chars {
        fs = fs.max_write_chars(max);
    }
    if let Some(max) = options.max_path_chars {
        fs = fs.max_path_chars(max);
    }
    Ok(fs)
}

fn shell(options: &ShellOptions) -> Result<Shell, llm_do_tools::ToolError> {
    let mut shell = Shell::new(&options.root)?
        .rules(options.rules.iter().cloned())
        .deny_shell_syntax(options.deny_shell_syntax);
    if let Some(secs) = options.timeout_secs {
        shell = shell.timeout(Duration::from_secs(secs));
    }
    if let Some(bytes) = options.max_output {
        shell = shell.max_output(bytes);
    }
    Ok(shell)
}

/// The budgets of a run nothing configures.
fn default_budget() -> Budget {
    Budget {
        requests: Some(config::DEFAULT_MAX_REQUESTS),
        tool_calls: Some(config::DEFAULT_MAX_TOOL_CALLS),
        tokens: None,
    }
}

/// The file that takes a project's files over [`MAX_PROJECT_BYTES`], with `rest` files after it.
fn over_project_size(path: &Path, rest: usize) -> Diagnostic {
    let unread = match rest {
        0 => "this file is not read".to_owned(),
        n => format!("this file and the {n} after it are not read"),
    };
    Diagnostic::at(
        path,
        Pos::START,
        format!(
            "the project's worker and agent files are larger than {MAX_PROJECT_BYTES} bytes \
             together: {unread}"
        ),
    )
    .expected("at most 32 MiB of worker and agent files in a project (each at most 1 MiB)")
}
