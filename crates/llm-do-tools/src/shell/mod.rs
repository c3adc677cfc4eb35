//! A `shell` tool that runs one program per call, checked against ordered rules, without a
//! shell.
//!
//! ```
//! use llm_do_tools::shell::{Shell, ShellRule};
//! use std::time::Duration;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let root = tempfile::tempdir()?;
//! # std::fs::write(root.path().join("notes.md"), "TODO: ship\n")?;
//! let shell = Shell::new(root.path())?
//!     .rule(ShellRule::ask("find").with_arg("-delete"))
//!     .rule(ShellRule::allow("find"))
//!     .rule(ShellRule::allow("grep"))
//!     .timeout(Duration::from_secs(10))
//!     .max_output(16 * 1024);
//!
//! let out = shell.run("grep -ri todo notes.md").await?;
//! assert_eq!(out.stdout, "TODO: ship\n");
//! assert!(shell.run("ls | wc -l").await.is_err());   // shell syntax: refused
//! assert!(shell.run("rm notes.md").await.is_err());  // no rule: denied
//! assert!(root.path().join("notes.md").exists());
//! # Ok(())
//! # }
//! ```
//!
//! How a command is handled, in order:
//!
//! 1. **Parse** ([`parse_command`]): shell syntax (`|`, `;`, `&`, `>`, `<`, backticks, `$(`,
//!    `${`, line breaks) is refused anywhere in the text, quotes included; the rest is split
//!    into words by `shell-words` (POSIX quoting, no expansion of any kind).
//! 2. **Rules** ([`ShellRule`], [`evaluate`]): ordered, first match wins, no match → deny,
//!    matched with the spelling of path arguments normalised (`cat ./a//b` is `cat a/b`).
//!    `Deny` refuses with an error result; nothing runs.
//! 3. **Run**: the argument vector as written (never its normalised form) is executed
//!    directly (`execvp`, never `sh -c`), in the root
//!    directory, with stdin closed, an environment reduced to [`DEFAULT_PASSED_ENV`] (plus
//!    [`Shell::pass_env`]) minus anything [`is_secret_name`], a time limit, and stdout and
//!    stderr each capped at [`Shell::max_output`] bytes.
//! 4. **End**: when the call ends — the program exited, the time limit passed, or the call was
//!    dropped (an error, an abort, the CLI's Ctrl-C) — everything the program started is
//!    killed: its process group and, on Linux, every process carrying the call's marker
//!    variable or descending from it, including programs that called `setsid`. On Linux the
//!    program also runs under a supervisor that gets the parent-death signal
//!    (`llm_do_process::guard_group`): killed outright, even by SIGKILL, the process that
//!    called the tool takes the program's whole process group with it (see
//!    `docs/hostile-input.md` for what this does not cover).
//!
//! `Ask` cannot be decided by the tool itself: the runtime's approval gate does that before
//! the tool runs. Put [`Shell::approval_rules`] into the runtime's
//! [`ApprovalPolicy`] (or use
//! [`Shell::approval_policy`]); see the crate documentation.
//!
//! The working directory is the root, but the shell is not a filesystem sandbox: an allowed
//! program can read or write wherever its arguments and the process's permissions let it
//! (`grep -r x /etc`). Allow only programs whose every use is acceptable, and prefer the
//! [`fs`](crate::fs) tools for file access.
//!
//! (Just over 400 lines: about 40 % is documentation — the rules and the security notes above;
//! running and reaping the commands are in the submodules.)

mod canonical;
mod env;
mod parse;
mod policy;
mod reap;
mod rules;
mod run;

pub use env::{DEFAULT_PASSED_ENV, is_secret_name};
pub use parse::{MAX_ARGS, MAX_COMMAND_BYTES, parse_command};
pub use rules::{ShellRule, evaluate, read_only_rules};
pub use run::ShellOutput;

use crate::error::ToolError;
use crate::fs::canonical_root;
use llm_do_core::approval::{ApprovalPolicy, Rule, Verdict};
use llm_do_core::{CallableSpec, ToolSpecBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The name of the tool [`Shell::spec`] builds.
pub const TOOL_NAME: &str = "shell";

/// Default time limit of one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default cap of stdout and of stderr, in bytes.
pub const DEFAULT_MAX_OUTPUT: usize = 16 * 1024;

/// Arguments of the `shell` tool.
///
/// ```
/// let args: llm_do_tools::shell::ShellArgs =
///     serde_json::from_value(serde_json::json!({"command": "git log -3"})).unwrap();
/// assert_eq!(args.command, "git log -3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShellArgs {
    /// One program and its arguments, for example `grep -rn TODO src`. Quote arguments that
    /// contain spaces ('two words'). No pipes, redirections, `;`, `&&`, `||`, `$(..)`,
    /// backticks or `${..}`, even inside quotes; `$VAR`, `*` and `~` are not expanded.
    pub command: String,
}

/// The shell tool: a root directory, ordered rules and limits.
///
/// A `Shell` without rules runs nothing (the default is deny).
///
/// ```
/// use llm_do_tools::shell::{Shell, ShellRule};
/// use llm_do_core::approval::Verdict;
/// # let dir = tempfile::tempdir().unwrap();
/// let shell = Shell::new(dir.path()).unwrap().rule(ShellRule::allow("git log"));
/// assert_eq!(shell.verdict("git log --oneline").unwrap(), Verdict::Allow);
/// assert_eq!(shell.verdict("git push").unwrap(), Verdict::Deny);
/// assert!(shell.verdict("git log; rm -rf /").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Shell {
    root: PathBuf,
    rules: Vec<ShellRule>,
    timeout: Duration,
    max_output: usize,
    env: Vec<String>,
    syntax_denied: bool,
}

impl Shell {
    /// A shell working in `root`, which must be an existing directory (canonicalised), with no
    /// rules, [`DEFAULT_TIMEOUT`] and [`DEFAULT_MAX_OUTPUT`].
    ///
    /// ```
    /// # use llm_do_tools::shell::Shell;
    /// assert!(Shell::new("/this/does/not/exist").is_err());
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Result<Self, ToolError> {
        Ok(Self {
            root: canonical_root(root.as_ref())?,
            rules: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            env: DEFAULT_PASSED_ENV.iter().map(|s| (*s).to_owned()).collect(),
            syntax_denied: false,
        })
    }

    /// Makes a model's command with shell syntax (a pipe, `;`, a redirection, ...) a denial, to
    /// which [`OnDenied`](llm_do_core::approval::OnDenied) applies — the run ends under
    /// `OnDenied::Abort` — instead of an error the model is told and can correct. How the
    /// Python llm-do treats shell metacharacters (a permission error); its shell toolsets use
    /// it. Either way, no such command runs.
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let spec = Shell::new(dir.path()).unwrap().rule(ShellRule::allow("ls")).deny_shell_syntax(true).spec();
    /// let why = spec.forbidden_args(&serde_json::json!({"command": "ls | sh"})).unwrap();
    /// assert!(why.starts_with("the command contains `|`"), "{why}");
    /// assert_eq!(spec.forbidden_args(&serde_json::json!({"command": "ls -la"})), None);
    /// ```
    pub fn deny_shell_syntax(mut self, denied: bool) -> Self {
        self.syntax_denied = denied;
        self
    }

    /// Appends a rule (earlier rules win).
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let shell = Shell::new(dir.path()).unwrap().rule(ShellRule::allow("ls"));
    /// assert_eq!(shell.shell_rules().len(), 1);
    /// ```
    pub fn rule(mut self, rule: ShellRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Appends rules, in order.
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, read_only_rules};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let shell = Shell::new(dir.path()).unwrap().rules(read_only_rules());
    /// assert!(!shell.shell_rules().is_empty());
    /// ```
    pub fn rules(mut self, rules: impl IntoIterator<Item = ShellRule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Sets the time limit of one command (default [`DEFAULT_TIMEOUT`]).
    ///
    /// ```
    /// # use llm_do_tools::{ToolError, shell::{Shell, ShellRule}};
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let shell = Shell::new(dir.path())?
    ///     .rule(ShellRule::allow("sleep"))
    ///     .timeout(Duration::from_millis(200));
    /// let err = shell.run("sleep 60").await.unwrap_err(); // killed after 0.2 s
    /// assert!(matches!(err, ToolError::Timeout { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the cap of stdout and of stderr, in bytes (default [`DEFAULT_MAX_OUTPUT`]).
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let shell = Shell::new(dir.path())?.rule(ShellRule::allow("echo")).max_output(5);
    /// let out = shell.run("echo hello world").await?;
    /// assert_eq!(out.stdout, "hello\n[… truncated 7 bytes]");
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// Also passes this variable from the parent environment, when set (unless its name looks
    /// like a secret: [`is_secret_name`]).
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        self.env.push(name.into());
        self
    }

    /// The canonical working directory.
    ///
    /// ```
    /// # use llm_do_tools::shell::Shell;
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert!(Shell::new(dir.path()).unwrap().root().is_absolute());
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The rules, in order.
    ///
    /// ```
    /// # use llm_do_tools::shell::Shell;
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert!(Shell::new(dir.path()).unwrap().shell_rules().is_empty());
    /// ```
    pub fn shell_rules(&self) -> &[ShellRule] {
        &self.rules
    }

    /// What the rules say about a command (its path arguments' spelling normalised); an
    /// error when it cannot be parsed or uses shell syntax.
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # use llm_do_core::approval::Verdict;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let shell = Shell::new(dir.path()).unwrap().rule(ShellRule::ask("rm"));
    /// assert_eq!(shell.verdict("rm -r build").unwrap(), Verdict::Ask);
    /// ```
    pub fn verdict(&self, command: &str) -> Result<Verdict, ToolError> {
        let argv = parse_command(command)?;
        Ok(evaluate(&self.rules, &canonical::canonical_argv(&self.root, &argv)).0)
    }

    /// Parses and checks a command, then runs it, as written, unless the rules deny it (the
    /// body of the `shell` tool). Commands whose verdict is `Ask` run: asking is the approval gate's job,
    /// before the tool is called. A non-zero exit is a result, not an error.
    ///
    /// Needs a Tokio runtime with its IO and time drivers enabled (`#[tokio::main]`,
    /// `#[tokio::test]` and `Builder::enable_all` do that); outside any Tokio runtime it fails
    /// with [`ToolError::NoRuntime`].
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let shell = Shell::new(dir.path()).unwrap().rule(ShellRule::allow("ls"));
    /// let out = shell.run("ls no-such-file").await.unwrap();
    /// assert!(!out.success && out.exit_code.is_some());
    /// # }
    /// ```
    pub async fn run(&self, command: &str) -> Result<ShellOutput, ToolError> {
        let argv = parse_command(command)?;
        // The rules see the path arguments' canonical spelling; the program gets `argv`.
        let canonical = canonical::canonical_argv(&self.root, &argv);
        if let (Verdict::Deny, rule) = evaluate(&self.rules, &canonical) {
            return Err(ToolError::Denied {
                command: command.to_owned(),
                reason: self.denial(rule),
            });
        }
        run::run(run::Invocation {
            command,
            argv: &argv,
            cwd: &self.root,
            env: env::scrubbed_env(&self.env),
            timeout: self.timeout,
            max_output: self.max_output,
        })
        .await
    }

    /// The rules, as approval-policy rules for the tool [`TOOL_NAME`], in the same order, then
    /// `Ask` for commands with quotes, backslashes or `#` (which a policy cannot match
    /// exactly on the text), then `Deny` for everything else. Add them to the runtime's
    /// [`ApprovalPolicy`] so that the gate asks before `Ask` commands run.
    ///
    /// Fails only when a rule's words make a regular expression too large.
    ///
    /// ```
    /// use llm_do_tools::shell::{Shell, ShellRule};
    /// use llm_do_core::approval::{ApprovalPolicy, Verdict};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let shell = Shell::new(dir.path()).unwrap()
    ///     .rule(ShellRule::ask("find").with_arg("-delete"))
    ///     .rule(ShellRule::allow("find"));
    /// let policy = shell.approval_rules().unwrap().into_iter().fold(ApprovalPolicy::new(), ApprovalPolicy::rule);
    /// let verdict = |c: &str| policy.evaluate("shell", &serde_json::json!({"command": c}), None).0;
    /// assert_eq!(verdict("find . -name x -delete"), Verdict::Ask);
    /// assert_eq!(verdict("find . -name x"), Verdict::Allow);
    /// assert_eq!(verdict("rm x"), Verdict::Deny);
    /// ```
    pub fn approval_rules(&self) -> Result<Vec<Rule>, ToolError> {
        policy::approval_rules(TOOL_NAME, &self.rules)
    }

    /// `policy` with [`approval_rules`](Self::approval_rules) appended.
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # use llm_do_core::approval::ApprovalPolicy;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let shell = Shell::new(dir.path()).unwrap().rule(ShellRule::allow("ls"));
    /// let policy = shell.approval_policy(ApprovalPolicy::new()).unwrap();
    /// assert_eq!(policy.rules().len(), 3);
    /// ```
    pub fn approval_policy(&self, policy: ApprovalPolicy) -> Result<ApprovalPolicy, ToolError> {
        Ok(self.approval_rules()?.into_iter().fold(policy, ApprovalPolicy::rule))
    }

    /// The `shell` tool. Its description lists the rules for the model; it declares
    /// [`Verdict::Ask`], so that without policy rules every command is asked about.
    ///
    /// ```
    /// # use llm_do_tools::shell::{Shell, ShellRule};
    /// # use llm_do_core::approval::Verdict;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let spec = Shell::new(dir.path()).unwrap().rule(ShellRule::allow("ls")).spec();
    /// assert_eq!(spec.name(), "shell");
    /// assert_eq!(spec.approval(), Some(Verdict::Ask));
    /// assert_eq!(spec.input_schema()["required"], serde_json::json!(["command"]));
    /// assert!(spec.description().contains("`ls` → allow"));
    /// ```
    pub fn spec(&self) -> Arc<CallableSpec> {
        let shell = self.clone();
        let root = self.root.clone();
        let mut builder = ToolSpecBuilder::new(TOOL_NAME);
        if self.syntax_denied {
            builder = builder.forbidden_args(|args| {
                let command = args.get("command")?.as_str()?;
                parse::shell_syntax(command).map(|e| e.to_string())
            });
        }
        builder
            .description(self.description())
            .approval(Verdict::Ask)
            // Rules see one spelling of each command and path argument; the call runs the
            // command as the model wrote it (a word that only looks like a path, `s/./X/`,
            // must reach the program unchanged).
            .canonical_args_for_rules(move |args| {
                let mut args = args.clone();
                if let Some(command) = args.get_mut("command")
                    && let Some(text) = command.as_str()
                {
                    *command = canonical::canonical_command(&root, text)
                        .map_err(|e| e.to_string())?
                        .into();
                }
                Ok(args)
            })
            .typed_handler(move |_ctx, args: ShellArgs| {
                let shell = shell.clone();
                async move { shell.run(&args.command).await }
            })
            .build()
    }

    /// The description the model sees.
    fn description(&self) -> String {
        let mut d = format!(
            "Run one program with its arguments in the sandbox directory (the working \
             directory) and return its exit code, stdout and stderr. The command is split into \
             words with shell quoting rules ('...', \"...\", backslash), but no shell runs it: \
             pipes, redirections, `;`, `&&`, `||`, `$(...)`, backticks and `${{...}}` are \
             refused, even inside quotes, and `$VAR`, `*` and `~` are passed literally, not \
             expanded. Stdin is empty. A command runs for at most {} s; stdout and stderr are \
             each cut after {} bytes.",
            self.timeout.as_secs_f64(),
            self.max_output
        );
        if self.rules.is_empty() {
            d.push_str(" No commands are allowed at the moment.");
            return d;
        }
        d.push_str(
            "\nCommands are checked against these rules in order; the first that matches the \
             leading words decides (allow: runs; ask: runs if a person approves; deny: refused), \
             and commands no rule matches are refused:",
        );
        for rule in &self.rules {
            d.push_str("\n- ");
            d.push_str(&rule.to_string());
        }
        d
    }

    /// Why a command is denied, with what is allowed.
    fn denial(&self, rule: Option<&ShellRule>) -> String {
        let why = match rule {
            Some(rule) => format!("denied by the rule {rule}"),
            None => "no rule allows it (commands are denied by default)".to_owned(),
        };
        let runnable: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.verdict() != Verdict::Deny)
            .map(|r| r.to_string())
            .collect();
        if runnable.is_empty() {
            format!("{why}; no commands are allowed")
        } else {
            format!("{why}; commands that can run: {}", runnable.join(", "))
        }
    }
}
