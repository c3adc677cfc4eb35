//! Shell rules: which commands run, which need approval, which never run.
//!
//! A rule matches a command's parsed argument vector (never its raw text): a *prefix* of
//! whole words (`git log` matches `git log -3` but neither `git logs` nor `git -C x log`),
//! plus optional required arguments that must appear after the prefix (`find` with `-delete`
//! matches `find . -name x -delete`). Rules are ordered; the first that matches decides, and a
//! command no rule matches is denied.

use llm_do_core::approval::Verdict;
use std::fmt;

/// A required argument of a [`ShellRule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgMatch {
    /// An argument equal to this.
    Exact(String),
    /// An argument that starts with this.
    Prefix(String),
    /// A group of short options (`-` then not `-`) that contains this letter: `-o`, `-oFILE`,
    /// `-ro`. Counted even where the letter is another option's value (`-to`), so that a rule
    /// that asks errs on the side of asking.
    ShortOption(char),
}

impl ArgMatch {
    fn matches(&self, arg: &str) -> bool {
        match self {
            ArgMatch::Exact(a) => arg == a,
            ArgMatch::Prefix(p) => arg.starts_with(p.as_str()),
            ArgMatch::ShortOption(c) => {
                arg.strip_prefix('-').is_some_and(|o| !o.starts_with('-') && o.contains(*c))
            }
        }
    }
}

/// One ordered shell rule: a word prefix, optional required arguments, and a verdict.
///
/// ```
/// use llm_do_tools::shell::ShellRule;
/// use llm_do_core::approval::Verdict;
/// let rule = ShellRule::ask("find").with_arg("-delete");
/// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert!(rule.matches(&argv("find . -name *.tmp -delete")));
/// assert!(!rule.matches(&argv("find . -name *.tmp")));
/// assert_eq!(rule.verdict(), Verdict::Ask);
/// assert_eq!(rule.to_string(), "`find … -delete` → ask");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellRule {
    verdict: Verdict,
    prefix: Vec<String>,
    args: Vec<ArgMatch>,
    reason: Option<String>,
}

impl ShellRule {
    /// A rule with `verdict` for commands that start with the words of `prefix` (split on
    /// whitespace; an empty prefix matches every command).
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// # use llm_do_core::approval::Verdict;
    /// let rule = ShellRule::new(Verdict::Deny, "git push");
    /// assert!(rule.matches(&["git".into(), "push".into(), "--force".into()]));
    /// ```
    pub fn new(verdict: Verdict, prefix: &str) -> Self {
        Self {
            verdict,
            prefix: prefix.split_whitespace().map(str::to_owned).collect(),
            args: Vec::new(),
            reason: None,
        }
    }

    /// Runs commands starting with `prefix` without asking.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// assert!(ShellRule::allow("git log").matches(&["git".into(), "log".into()]));
    /// assert!(!ShellRule::allow("git log").matches(&["git".into(), "logs".into()]));
    /// ```
    pub fn allow(prefix: &str) -> Self {
        Self::new(Verdict::Allow, prefix)
    }

    /// Runs commands starting with `prefix` only after the runtime's approver agrees.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// # use llm_do_core::approval::Verdict;
    /// assert_eq!(ShellRule::ask("rm").verdict(), Verdict::Ask);
    /// ```
    pub fn ask(prefix: &str) -> Self {
        Self::new(Verdict::Ask, prefix)
    }

    /// Never runs commands starting with `prefix`.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// # use llm_do_core::approval::Verdict;
    /// assert_eq!(ShellRule::deny("rm").verdict(), Verdict::Deny);
    /// ```
    pub fn deny(prefix: &str) -> Self {
        Self::new(Verdict::Deny, prefix)
    }

    /// Also requires an argument equal to `arg` after the prefix (all required arguments must
    /// be present). Arguments are compared whole: `-r` does not match `-rf`.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// let rule = ShellRule::ask("find").with_arg("-delete");
    /// assert!(!rule.matches(&["find".into(), "-deleted".into()]));
    /// ```
    pub fn with_arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(ArgMatch::Exact(arg.into()));
        self
    }

    /// Also requires an argument that starts with `prefix` after the rule's prefix (for
    /// options written `--name=value`).
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// let rule = ShellRule::deny("git diff").with_arg_prefix("--output");
    /// assert!(rule.matches(&["git".into(), "diff".into(), "--output=/tmp/x".into()]));
    /// ```
    pub fn with_arg_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.args.push(ArgMatch::Prefix(prefix.into()));
        self
    }

    /// Also requires an argument that is a group of short options containing the letter
    /// `option` (for an option a program also takes bundled, as getopt does: `sort -ro out`
    /// writes `out` as `sort -r -o out` does). A letter that is another option's value
    /// (`sort -to`) counts too: an asking rule asks once too often rather than never.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// let rule = ShellRule::ask("sort").with_short_option('o');
    /// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    /// assert!(rule.matches(&argv("sort -o out in")));
    /// assert!(rule.matches(&argv("sort -nro out in")));
    /// assert!(rule.matches(&argv("sort -oout in")));
    /// assert!(!rule.matches(&argv("sort --reverse in")));
    /// assert_eq!(rule.to_string(), "`sort … -*o*` → ask");
    /// ```
    pub fn with_short_option(mut self, option: char) -> Self {
        self.args.push(ArgMatch::ShortOption(option));
        self
    }

    /// Sets a reason, shown in refusals and approval requests.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// let rule = ShellRule::deny("rm").reason("deleting is not delegated");
    /// assert_eq!(rule.to_string(), "`rm` → deny (deleting is not delegated)");
    /// ```
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The verdict.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// # use llm_do_core::approval::Verdict;
    /// assert_eq!(ShellRule::allow("ls").verdict(), Verdict::Allow);
    /// ```
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Whether the rule applies to a command's argument vector.
    ///
    /// ```
    /// # use llm_do_tools::shell::ShellRule;
    /// assert!(ShellRule::allow("ls").matches(&["ls".into(), "-la".into()]));
    /// assert!(!ShellRule::allow("ls").matches(&["/bin/ls".into()]));
    /// ```
    pub fn matches(&self, argv: &[String]) -> bool {
        if argv.len() < self.prefix.len() || argv.iter().zip(&self.prefix).any(|(a, p)| a != p) {
            return false;
        }
        let rest = &argv[self.prefix.len()..];
        self.args.iter().all(|m| rest.iter().any(|a| m.matches(a)))
    }

    pub(crate) fn prefix(&self) -> &[String] {
        &self.prefix
    }

    pub(crate) fn args(&self) -> &[ArgMatch] {
        &self.args
    }
}

impl fmt::Display for ShellRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = self.prefix.join(" ");
        for arg in &self.args {
            words.push_str(if words.is_empty() { "… " } else { " … " });
            match arg {
                ArgMatch::Exact(a) => words.push_str(a),
                ArgMatch::Prefix(p) => {
                    words.push_str(p);
                    words.push('*');
                }
                ArgMatch::ShortOption(c) => {
                    words.push_str("-*");
                    words.push(*c);
                    words.push('*');
                }
            }
        }
        if words.is_empty() {
            words.push_str("any command");
        }
        write!(f, "`{words}` → {}", self.verdict)?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

/// The verdict of an ordered rule list for `argv`, and the rule that decided (`None`: no rule
/// matched, so the command is denied).
///
/// ```
/// use llm_do_tools::shell::{ShellRule, evaluate};
/// use llm_do_core::approval::Verdict;
/// let rules = [ShellRule::ask("find").with_arg("-delete"), ShellRule::allow("find")];
/// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert_eq!(evaluate(&rules, &argv("find . -delete")).0, Verdict::Ask);
/// assert_eq!(evaluate(&rules, &argv("find .")).0, Verdict::Allow);
/// assert_eq!(evaluate(&rules, &argv("rm -rf .")), (Verdict::Deny, None));
/// ```
pub fn evaluate<'r>(rules: &'r [ShellRule], argv: &[String]) -> (Verdict, Option<&'r ShellRule>) {
    match rules.iter().find(|r| r.matches(argv)) {
        Some(rule) => (rule.verdict, Some(rule)),
        None => (Verdict::Deny, None),
    }
}

/// A conservative rule set for reading a project: listing, reading and searching files.
///
/// In order: `find` with an action that deletes, writes or runs something (`-delete`, `-exec`,
/// `-execdir`, `-ok`, `-okdir`, `-fprint`, `-fprint0`, `-fprintf`, `-fls`) asks; then `ls`,
/// `cat`, `head`, `tail`, `wc`, `grep`, `find`, `pwd`, `du`, `stat` and `diff` are
/// allowed. Everything else is denied by default.
///
/// ```
/// use llm_do_tools::shell::{read_only_rules, evaluate};
/// use llm_do_core::approval::Verdict;
/// let rules = read_only_rules();
/// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert_eq!(evaluate(&rules, &argv("grep -ri todo .")).0, Verdict::Allow);
/// assert_eq!(evaluate(&rules, &argv("find . -name *.tmp -delete")).0, Verdict::Ask);
/// assert_eq!(evaluate(&rules, &argv("rm -rf .")).0, Verdict::Deny);
/// ```
pub fn read_only_rules() -> Vec<ShellRule> {
    let mut rules: Vec<ShellRule> = [
        "-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls",
    ]
    .into_iter()
    .map(|action| {
        ShellRule::ask("find").with_arg(action).reason("this find action deletes, writes or runs")
    })
    .collect();
    rules.extend(
        ["ls", "cat", "head", "tail", "wc", "grep", "find", "pwd", "du", "stat", "diff"]
            .into_iter()
            .map(ShellRule::allow),
    );
    rules
}
