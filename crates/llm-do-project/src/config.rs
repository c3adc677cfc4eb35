//! [`ProjectConfig`]: the optional `llm-do.toml` of a project.
//!
//! ```toml
//! entry = "main"                       # the worker `llm-do run` starts (default: see Project::entry)
//! model = "openai:gpt-4o-mini"         # the model of workers that name none
//! max_depth = 6                        # deepest nested call (runtime default 5)
//!
//! [approval]
//! mode = "prompt"                      # prompt | approve_all | deny_all
//! rules = [ { tool = "write_*", verdict = "ask" } ]
//! ```
//!
//! Unknown keys are errors.

use crate::diagnostic::{Diagnostic, Pos};
use crate::rules::{RULE_KEYS, RuleSpec};
use llm_do_core::ModelRef;
use llm_do_core::approval::Rule;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

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
    /// `entry.args` of `project.json`: the entry's arguments when the command line gives none.
    pub entry_args: Option<serde_json::Value>,
    /// `allow_cli_input` of `project.json` (default `true`): `false` refuses input given on the
    /// command line, so a run always uses `entry_args`.
    pub allow_cli_input: bool,
    /// `runtime.return_permission_errors` of `project.json` (default `false`): with
    /// `approval_mode: prompt` and no terminal to ask on, a call that needs approval is denied
    /// and the model told, instead of ending the run.
    pub return_permission_errors: bool,
    /// The configuration file read (`llm-do.toml` or `project.json`), if any.
    pub(crate) source: Option<std::path::PathBuf>,
    pub(crate) entry_pos: Pos,
    pub(crate) entry_args_pos: Pos,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        Self {
            entry: None,
            model: None,
            max_depth: None,
            approval_mode: ApprovalMode::default(),
            rules: Vec::new(),
            entry_args: None,
            allow_cli_input: true,
            return_permission_errors: false,
            source: None,
            entry_pos: Pos::START,
            entry_args_pos: Pos::START,
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
    max_depth: Option<u32>,
    #[serde(default)]
    approval: Option<RawApproval>,
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
            let d = Diagnostic::at(file, pos, format!("invalid {CONFIG_FILE}: {message}")).expected(
                "the keys `entry`, `model`, `max_depth` and an `[approval]` table with `mode` and `rules`",
            );
            return (
                ProjectConfig { source: Some(file.to_owned()), ..ProjectConfig::default() },
                vec![d],
            );
        }
    };
    let mut diagnostics = Vec::new();
    let mut config = ProjectConfig {
        max_depth: raw.max_depth,
        source: Some(file.to_owned()),
        ..ProjectConfig::default()
    };
    if let Some(entry) = raw.entry {
        config.entry_pos = at(entry.span().start);
        config.entry = Some(entry.into_inner());
    }
    if let Some(model) = raw.model {
        let pos = at(model.span().start);
        let model = model.into_inner();
        match ModelRef::parse(&model) {
            Ok(_) => config.model = Some(model),
            Err(_) => diagnostics.push(
                Diagnostic::at(file, pos, format!("invalid model string `{model}`"))
                    .expected("`provider:name`, for example `openai:gpt-4o-mini`"),
            ),
        }
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
    (config, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn errors_are_located() {
        let e = parse_str("entry = \"main\"\nentyr = 1\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (2, 1));
        assert!(e[0].message.contains("unknown field `entyr`"), "{}", e[0]);
        let e = parse_str(
            "model = \"gpt4\"\n[approval]\nrules = [{ tool = \"x\", verdict = \"maybe\" }]\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!((e[1].line, e[1].column), (3, 10));
        assert!(parse_str("[approval]\nmode = \"yes\"\n").is_err());
    }
}
