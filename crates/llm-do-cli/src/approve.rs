//! Approvers of `llm-do run`: who decides the tool calls the approval policy marks `Ask`.
//!
//! - [`TerminalApprover`] asks the person at the terminal: tool, depth, caller, reason and
//!   pretty-printed arguments, then `y` (approve once), `s` (approve identical calls for the rest
//!   of the session), `n` (deny: the model is told and the run goes on — in a `project.json`
//!   project without `return_permission_errors`, the run ends, as upstream) or `q` (deny and
//!   abort the run: exit code 3).
//!   It also answers the questions tools ask ([`llm_do::Ctx::ask`]; an MCP server's
//!   elicitation): the question, then the form's fields one by one.
//! - [`HeadlessApprover`], used when stdin is not a terminal (it declines questions): the first `Ask` aborts the run
//!   (exit code 3) with a message saying how to proceed (`--approve-all`, or an approval rule
//!   in `llm-do.toml`; for a `project.json`, its approval mode or agent overrides).
//!
//! Both end the run with [`Decision::DenyAndAbort`], whose reason is the message to print:
//! the run's cancellation token carries it ([`llm_do::Ctx::cancellation`]), and every call of
//! the run still in flight stops.

use crate::display::Display;
use futures::future::BoxFuture;
use llm_do::approval::{Answer, ApprovalRequest, Approver, Decision, Question};
use llm_do_project::{MANIFEST_FILE, Project};
use std::io::BufRead as _;
use std::sync::Arc;

mod form;

/// The approval request as shown to a person: tool, depth, caller, reason and the arguments
/// pretty-printed; secrets redacted and control characters escaped
/// ([`terminal::safe`](crate::terminal::safe)).
///
/// ```
/// # use llm_do::approval::ApprovalRequest;
/// # fn show(req: &ApprovalRequest) {
/// eprintln!("{}", llm_do_cli::approve::describe(req));
/// # }
/// ```
pub fn describe(request: &ApprovalRequest) -> String {
    let head = crate::terminal::safe(&format!(
        "approval needed: `{}` ({}) at depth {}, asked by `{}`\n  call path: {}\n  reason: {}\n  arguments:\n",
        request.tool,
        if request.kind.is_stochastic() { "worker" } else { "tool" },
        request.depth,
        request.caller,
        request.call_path.join(" > "),
        request.reason,
    ));
    head + &describe_arguments(&request.args)
}

/// A call's arguments as the approval prompt shows them: pretty-printed and indented, secrets
/// redacted, control characters escaped — and, when redaction hid anything, a warning that
/// the call runs with what is hidden ([`HIDDEN_IN_ARGUMENTS`](llm_do::secrets::HIDDEN_IN_ARGUMENTS)).
///
/// ```
/// use llm_do_cli::approve::describe_arguments;
/// let shown = describe_arguments(&serde_json::json!({"command": "rm -rf Bearer important_dir"}));
/// assert!(shown.contains("\"rm -rf [redacted]\""), "{shown}");
/// assert!(shown.contains("the call runs with it"), "{shown}");
/// let plain = describe_arguments(&serde_json::json!({"command": "ls docs"}));
/// assert_eq!(plain, "    {\n      \"command\": \"ls docs\"\n    }\n");
/// ```
pub fn describe_arguments(args: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(args).unwrap_or_else(|_| "?".into());
    let text: String = text.lines().map(|l| format!("    {l}\n")).collect();
    let shown = crate::terminal::safe(&text);
    if crate::terminal::redactor().redact(&text) == text {
        return shown;
    }
    format!("{shown}  {}\n", llm_do::secrets::HIDDEN_IN_ARGUMENTS)
}

/// Where a project's settings live, which decides how a user can change them: the remedies
/// messages give depend on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConfigFile {
    /// `llm-do.toml` (or none): approval rules per tool.
    #[default]
    LlmDoToml,
    /// The Python llm-do's `project.json`: an approval mode, and per-agent overrides; no rules.
    ProjectJson,
}

impl ConfigFile {
    /// The kind of configuration file `project` was read from.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_cli::approve::ConfigFile;
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\n---\nA\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// assert_eq!(ConfigFile::of(&project), ConfigFile::LlmDoToml);
    /// # Ok(())
    /// # }
    /// ```
    pub fn of(project: &Project) -> Self {
        let source = project.config().source().and_then(|p| p.file_name());
        if source.is_some_and(|name| name == MANIFEST_FILE) {
            ConfigFile::ProjectJson
        } else {
            ConfigFile::LlmDoToml
        }
    }
}

/// How to let calls of `tool` (a worker or agent when `worker`) run without asking in every run
/// of a project configured by `config`: an approval rule in `llm-do.toml`; in a `project.json`,
/// which has no rules, the approval mode (and for an agent, its override).
///
/// ```
/// use llm_do_cli::approve::{ConfigFile, allow_remedy};
/// assert!(allow_remedy("write_file", false, ConfigFile::LlmDoToml).contains("[approval]"));
/// let m = allow_remedy("checker", true, ConfigFile::ProjectJson);
/// assert!(m.contains("\"approval_mode\": \"approve_all\"") && m.contains("agent_approval_overrides"));
/// ```
pub fn allow_remedy(tool: &str, worker: bool, config: ConfigFile) -> String {
    match config {
        ConfigFile::LlmDoToml => format!(
            "allow this tool in the project's llm-do.toml:\n\n  [approval]\n  rules = [{{ tool = \"{tool}\", verdict = \"allow\" }}]\n"
        ),
        ConfigFile::ProjectJson if worker => format!(
            "stop asking for calls of this agent in project.json:\n\n  \"runtime\": {{\"agent_approval_overrides\": {{\"{tool}\": {{\"calls_require_approval\": false, \"attachments_require_approval\": false}}}}}}\n\nor approve every call of every run: set \"approval_mode\": \"approve_all\" in the \"runtime\" of project.json\n"
        ),
        ConfigFile::ProjectJson => "approve every call of every run: set \"approval_mode\": \"approve_all\" in the \"runtime\" of project.json (a project.json has no per-tool rules)\n".to_owned(),
    }
}

/// What to tell a user whose headless run needed an approval (the remedy fits the project's
/// configuration file: [`allow_remedy`]).
///
/// ```
/// use llm_do_cli::approve::{ConfigFile, headless_message};
/// let m = headless_message("write_file", "main", 2, false, ConfigFile::LlmDoToml);
/// assert!(m.contains("--approve-all") && m.contains("llm-do.toml"));
/// let m = headless_message("write_file", "main", 2, false, ConfigFile::ProjectJson);
/// assert!(m.contains("--approve-all") && !m.contains("llm-do.toml"));
/// ```
pub fn headless_message(
    tool: &str,
    caller: &str,
    depth: u32,
    worker: bool,
    config: ConfigFile,
) -> String {
    format!(
        "the call to `{tool}` (asked by `{caller}` at depth {depth}) needs approval, but stdin is \
         not a terminal to ask on, so the run was aborted. To proceed: run it in a terminal to \
         approve calls one by one, or pass --approve-all to approve every call that asks, or \
         {}",
        allow_remedy(tool, worker, config)
    )
}

/// Decides where no one can be asked: the first `Ask` aborts the run with
/// [`headless_message`] — or, for a `project.json` with `return_permission_errors: true`, is
/// denied so that the model is told and the run goes on (as upstream).
///
/// ```
/// use llm_do::testing::{Reply, ScriptedModel};
/// use llm_do::{Runtime, ToolSpecBuilder, WorkerSpecBuilder, approval::Verdict};
/// use llm_do_cli::approve::{ConfigFile, HeadlessApprover};
/// use serde_json::json;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let rm = ToolSpecBuilder::new("rm").approval(Verdict::Ask)
///     .handler(|_, _| async { Ok(json!("gone")) })
///     .build();
/// let cleaner = WorkerSpecBuilder::new("cleaner").prompt("Clean up.").tool_name("rm").build()?;
/// let model = ScriptedModel::queue([Reply::tool_call("rm", json!({})), Reply::text("done")]);
/// let approver = HeadlessApprover::new(ConfigFile::LlmDoToml);
/// let rt = Runtime::builder().model_override(model).register(rm).register(cleaner).approver(approver).build();
/// // The model's call of `rm` needs approval: the run ends, saying how to allow it.
/// let err = rt.ctx().call_value("cleaner", json!({})).await.unwrap_err();
/// assert!(err.to_string().contains("--approve-all"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadlessApprover {
    config: ConfigFile,
    tell_model: bool,
}

impl HeadlessApprover {
    /// An approver that aborts, with the remedy of a project configured by `config`.
    pub fn new(config: ConfigFile) -> Self {
        Self { config, tell_model: false }
    }

    /// The approver for `project`: its configuration file's remedy, and its
    /// `return_permission_errors` (the model is told instead of the run ending).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.worker"), "---\n---\nA\n")?;
    /// let project = llm_do_project::Project::load(dir.path())?;
    /// let approver = llm_do_cli::approve::HeadlessApprover::for_project(&project);
    /// # let _ = approver;
    /// # Ok(())
    /// # }
    /// ```
    pub fn for_project(project: &Project) -> Self {
        Self {
            config: ConfigFile::of(project),
            tell_model: project.config().return_permission_errors,
        }
    }
}

impl Approver for HeadlessApprover {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        if self.tell_model {
            return Box::pin(async {
                Decision::deny("denied: it needs approval and there is no terminal to ask on")
            });
        }
        let message = headless_message(
            &request.tool,
            &request.caller,
            request.depth,
            request.kind.is_stochastic(),
            self.config,
        );
        Box::pin(async move { Decision::abort(message) })
    }
}

/// Asks at the terminal (prompt on stderr, answer on stdin, or through an [`AnswerReader`]), one
/// request at a time, with the live display [paused](Display::pause) meanwhile.
#[derive(Clone)]
pub struct TerminalApprover {
    display: Display,
    turn: Arc<tokio::sync::Mutex<()>>,
    reader: Option<AnswerReader>,
}

/// Asks a question at the terminal and reads the answer (`None`: no answer, e.g. end of input
/// or Ctrl-C): how [`TerminalApprover::with_reader`] reads, e.g. through `llm-do chat`'s line
/// editor.
pub type AnswerReader = Arc<dyn Fn(String) -> BoxFuture<'static, Option<String>> + Send + Sync>;

impl std::fmt::Debug for TerminalApprover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalApprover").field("display", &self.display).finish_non_exhaustive()
    }
}

impl TerminalApprover {
    /// An approver that prompts around `display` and ends the run on `q` (or end of input).
    pub fn new(display: Display) -> Self {
        Self { display, turn: Arc::new(tokio::sync::Mutex::new(())), reader: None }
    }

    /// An approver that asks its questions through `reader` instead of reading stdin itself.
    ///
    /// ```
    /// use llm_do_cli::{approve::TerminalApprover, display::{Display, Mode}};
    /// let reader = std::sync::Arc::new(|_question: String| -> futures::future::BoxFuture<'static, Option<String>> {
    ///     Box::pin(async { Some("y".to_owned()) })
    /// });
    /// let approver = TerminalApprover::with_reader(Display::new(Mode::Plain, 0), reader);
    /// # let _ = approver;
    /// ```
    pub fn with_reader(display: Display, reader: AnswerReader) -> Self {
        Self { reader: Some(reader), ..Self::new(display) }
    }
}

impl TerminalApprover {
    /// Shows `prompt` and reads one line: through the reader, or from stdin on a blocking
    /// thread. `None` at the end of input.
    fn read(&self, prompt: String) -> BoxFuture<'static, Option<String>> {
        match &self.reader {
            Some(reader) => reader(prompt),
            None => Box::pin(async move {
                tokio::task::spawn_blocking(move || {
                    crate::output::err!("{prompt}");
                    let mut line = String::new();
                    match std::io::stdin().lock().read_line(&mut line) {
                        Ok(0) | Err(_) => None,
                        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
                    }
                })
                .await
                .ok()
                .flatten()
            }),
        }
    }
}

/// The question asked for `request`, ending with the prompt `> `.
fn question(request: &ApprovalRequest) -> String {
    format!(
        "{}  [y] approve once  [s] approve for this session  [n] deny  [q] deny and abort the run\n> ",
        describe(request)
    )
}

impl Approver for TerminalApprover {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async move {
            let _turn = self.turn.lock().await;
            // The tree is hidden while the person answers (and drawn again however the wait
            // ends, the turn dropped included).
            let _paused = self.display.pause();
            loop {
                let answer = self.read(question(request)).await.map(|a| a.trim().to_lowercase());
                match answer.as_deref() {
                    Some("y" | "yes") => return Decision::ApproveOnce,
                    Some("s" | "session" | "a" | "always") => return Decision::ApproveForSession,
                    Some("n" | "no") => return Decision::deny("denied at the terminal"),
                    Some("q" | "quit" | "abort") | None => {
                        return Decision::abort(format!(
                            "the call to `{}` was denied at the terminal and the run was aborted",
                            request.tool
                        ));
                    }
                    Some(_) => crate::output::errln!("please answer y, s, n or q"),
                }
            }
        })
    }

    /// Asks the person at the terminal: the question (who asks, where, the message), then
    /// `a` (answer), `d` (decline) or `c` (dismiss), then each field of the form, typed and
    /// checked, with the live display hidden meanwhile. The end of input dismisses it.
    fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let _turn = self.turn.lock().await;
            let _paused = self.display.pause();
            form::fill(question, |prompt| self.read(prompt)).await
        })
    }
}
