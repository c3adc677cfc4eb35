//! The checks that only projects written for the Python llm-do need: approval settings of
//! `project.json` applied to agents, toolsets resolved against the host program (and refused,
//! naming the Python file, when only Python defines them), and `entry.args` checked against
//! the entry's input schema.

use crate::config::ProjectConfig;
use crate::diagnostic::{Diagnostic, Pos};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::toolset::ToolEntry;
use crate::worker_file::WorkerFile;
use llm_do_core::Registry;
use llm_do_core::approval::{Pattern, Rule, Verdict};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// Applies `agent_calls_require_approval`, `agent_attachments_require_approval` and
/// `agent_approval_overrides` to the agents (the global settings to `.agent` files, an
/// override to the agent or worker it names).
pub(crate) fn agent_approvals(
    manifest: &Manifest,
    config: &ProjectConfig,
    workers: &mut [WorkerFile],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let file = config.source.clone().unwrap_or_else(|| MANIFEST_FILE.into());
    let named = manifest.agent_overrides.iter().map(|(name, _, pos)| (name, pos));
    let named = named.chain(manifest.attachment_overrides.iter().map(|(name, _, pos)| (name, pos)));
    for (name, pos) in named {
        if !workers.iter().any(|w| &w.name == name) {
            out.push(
                Diagnostic::at(&file, *pos, format!("`{name}` is not an agent of this project"))
                    .expected("the name of an agent or worker of the project"),
            );
        }
    }
    for w in workers.iter_mut() {
        let calls = override_for(&manifest.agent_overrides, &w.name)
            .or(manifest.agent_calls.filter(|_| w.agent_file));
        if calls.is_some() {
            w.approval = calls;
        }
        let attachments = override_for(&manifest.attachment_overrides, &w.name)
            .unwrap_or(manifest.agent_attachments && w.agent_file);
        if attachments {
            let rules = attachment_rules(&w.name, &w.input);
            w.rules.extend(rules);
        }
    }
    out
}

/// The setting an `agent_approval_overrides` entry gives `name`, if any.
fn override_for<T: Copy>(overrides: &[(String, T, Pos)], name: &str) -> Option<T> {
    overrides.iter().rev().find(|(n, _, _)| n == name).map(|(_, value, _)| *value)
}

/// The rules that make a call of `agent` ask when it carries attachments: one per attachment
/// parameter of its input schema, matching a parameter holding an attachment (`/NAME`) or a
/// list with at least one (`/NAME/0`). They come before the agent's declared approval
/// (`calls_require_approval`), as upstream checks attachments whatever that says.
fn attachment_rules(agent: &str, input: &serde_json::Value) -> Vec<Rule> {
    let Some(properties) = input.get("properties").and_then(serde_json::Value::as_object) else {
        return Vec::new();
    };
    let reason = "the call carries attachments (attachments_require_approval in project.json)";
    let mut rules = Vec::new();
    for (name, schema) in properties {
        if !llm_do_core::attachment::is_attachment_schema(schema) {
            continue;
        }
        let escaped = name.replace('~', "~0").replace('/', "~1");
        for pointer in [format!("/{escaped}"), format!("/{escaped}/0")] {
            // Agent names are valid tool-name globs (letters, digits, `_`, `-`).
            if let Ok(rule) = Rule::new(agent, Verdict::Ask) {
                rules.push(rule.arg(pointer, Pattern::prefix("")).reason(reason));
            }
        }
    }
    rules
}

/// Resolves the `tools` and `toolsets` names of agents: project workers, built-in tools, and
/// the host program's callables and toolsets ([`Registry::toolset`], expanded into its
/// members). A name nothing defines is reported — as Python code to port when one of the
/// project's `python_files` mentions it.
pub(crate) fn resolve_toolsets(
    dir: &Path,
    python_files: &[(String, Pos)],
    workers: &mut [WorkerFile],
    host: &Registry,
) -> Vec<Diagnostic> {
    let mut known: BTreeSet<String> = workers.iter().map(|w| w.name.clone()).collect();
    known.extend(crate::check::builtin_names(workers));
    known.extend(host.names().map(str::to_owned));
    let mut out = Vec::new();
    let mut python = PythonFiles::new(dir, python_files);
    for w in workers.iter_mut().filter(|w| w.agent_file) {
        let mut tools = Vec::new();
        let mut positions = Vec::new();
        for (entry, pos) in w.tools.drain(..).zip(w.tool_pos.drain(..)) {
            let (name, kind) = match &entry {
                ToolEntry::Toolset(n) => (n.clone(), "toolset"),
                ToolEntry::Name(n) => (n.clone(), "tool"),
                _ => {
                    tools.push(entry);
                    positions.push(pos);
                    continue;
                }
            };
            if let (ToolEntry::Toolset(_), Some(members), false) =
                (&entry, host.toolset(&name), known.contains(&name))
            {
                for member in members {
                    if !known.contains(member) {
                        out.push(Diagnostic::at(&w.path, pos, format!("the host program's toolset `{name}` lists `{member}`, which it does not register")).expected("toolset members registered with `Registry::insert`"));
                    }
                    tools.push(ToolEntry::Name(member.clone()));
                    positions.push(pos);
                }
                continue;
            }
            if !known.contains(&name) {
                out.push(unresolved(&mut python, &w.path, pos, &name, kind, &known));
            }
            tools.push(ToolEntry::Name(name));
            positions.push(pos);
        }
        w.tools = tools;
        w.tool_pos = positions;
    }
    out
}

/// The project's `python_files`, each read and scanned once (when a name is first looked for):
/// a check looks for every unresolved name in every file.
struct PythonFiles<'a> {
    dir: &'a Path,
    paths: &'a [(String, Pos)],
    /// Each readable file (by its index in `paths`): its text and its identifiers.
    scanned: Option<Vec<(usize, String, HashSet<String>)>>,
}

impl<'a> PythonFiles<'a> {
    fn new(dir: &'a Path, paths: &'a [(String, Pos)]) -> Self {
        Self { dir, paths, scanned: None }
    }

    /// The files that mention `name` as a whole identifier (see [`mentions`]).
    fn mentioning(&mut self, name: &str) -> Vec<&'a str> {
        let (dir, paths) = (self.dir, self.paths);
        let scanned = self.scanned.get_or_insert_with(|| {
            paths
                .iter()
                .enumerate()
                .filter_map(|(i, (p, _))| crate::source::read(&dir.join(p)).ok().map(|t| (i, t)))
                .map(|(i, text)| {
                    let mut idents = HashSet::new();
                    for ident in identifiers(&text) {
                        if !idents.contains(ident) {
                            idents.insert(ident.to_owned());
                        }
                    }
                    (i, text, idents)
                })
                .collect()
        });
        // Each identifier of `name` is a whole identifier of a text that mentions it: a name
        // that is one identifier (the usual one) is looked up, any other is also searched for.
        let single = identifiers(name).eq([name]);
        scanned
            .iter()
            .filter(|(_, text, idents)| {
                identifiers(name).all(|part| idents.contains(part))
                    && (single || mentions(text, name))
            })
            .map(|(i, _, _)| paths[*i].0.as_str())
            .collect()
    }
}

/// Whether `c` is part of an identifier (for [`mentions`]).
fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifiers of `text`: its longest runs of [identifier](is_ident) characters.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_ident(c)).filter(|s| !s.is_empty())
}

fn unresolved(
    python: &mut PythonFiles<'_>,
    file: &Path,
    pos: Pos,
    name: &str,
    kind: &str,
    known: &BTreeSet<String>,
) -> Diagnostic {
    let builtin_toolsets = crate::agent_file::BUILTIN_TOOLSETS;
    if kind == "tool" && builtin_toolsets.contains(&name) {
        return Diagnostic::at(file, pos, format!("`{name}` is a built-in toolset, not a tool"))
            .expected(format!("`{name}` under `toolsets:` (`tools:` names single tools)"));
    }
    // The Python files that mention the name: a name none mentions is no Python's.
    let mentioning = python.mentioning(name);
    if mentioning.is_empty() {
        // A built-in toolset is a `toolsets:` entry only.
        let toolsets = if kind == "toolset" { builtin_toolsets } else { &[] };
        let mut names: Vec<String> = toolsets
            .iter()
            .map(|s| (*s).to_owned())
            .chain(known.iter().cloned())
            .map(|n| format!("`{n}`"))
            .collect();
        names.dedup();
        let what = if kind == "toolset" { "a built-in toolset, " } else { "" };
        return Diagnostic::at(file, pos, format!("unknown {kind} `{name}`")).expected(format!(
            "{what}an agent of the project or a Rust tool of the host program: one of {}",
            names.join(", ")
        ));
    }
    let insert = if kind == "toolset" {
        format!("name the group with `registry.insert_toolset(\"{name}\", [..their names..])`")
    } else {
        format!("register it as `{name}`")
    };
    Diagnostic::at(
        file,
        pos,
        format!("the {kind} `{name}` is defined in Python ({}), which cannot run here", mentioning.join(", ")),
    )
    .expected(format!(
        "Rust tools of a host program: write them with #[tool], register them in a `Registry` ({insert}), and run the project with `llm_do_cli::main_with(registry)`: the same project then runs unchanged (docs/migrating-from-python.md)"
    ))
}

/// `true` when `name` occurs in `text` as a whole identifier.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(is_ident);
        !ident(before) && !ident(after)
    })
}

/// The agents whose `compatible_models` reject `model`, the model of workers naming none.
pub(crate) fn model_mismatches(workers: &[WorkerFile], model: &str) -> Vec<Diagnostic> {
    workers
        .iter()
        .filter(|w| w.model.is_none())
        .filter_map(|w| {
            let patterns = w.compatible_models.as_ref()?;
            if patterns.iter().any(|p| crate::agent_file::model_matches(model, p)) {
                return None;
            }
            let shown: Vec<String> = patterns.iter().map(|p| format!("`{p}`")).collect();
            Some(
                Diagnostic::at(
                    &w.path,
                    w.compatible_pos,
                    format!(
                        "the model `{model}` does not match `compatible_models` of `{}`",
                        w.name
                    ),
                )
                .expected(format!(
                    "a model matching {} (choose it with --model or LLM_DO_MODEL)",
                    shown.join(" or ")
                )),
            )
        })
        .collect()
}

/// `entry.args` must be valid arguments of the entry.
pub(crate) fn entry_args(config: &ProjectConfig, workers: &[WorkerFile]) -> Vec<Diagnostic> {
    let (Some(args), Some(entry)) = (&config.entry_args, &config.entry) else {
        return Vec::new();
    };
    let Some(worker) = workers.iter().find(|w| &w.name == entry) else {
        return Vec::new();
    };
    let file = config.source.clone().unwrap_or_else(|| MANIFEST_FILE.into());
    match llm_do_core::schema::Validator::new(&worker.input).and_then(|v| v.validate(args)) {
        Ok(()) => Vec::new(),
        Err(e) => vec![
            Diagnostic::at(
                &file,
                config.entry_args_pos,
                format!("`entry.args` are not valid arguments of `{entry}`: {e}"),
            )
            .expected(format!("arguments matching the input schema {}", worker.input)),
        ],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mentions_whole_identifiers_only() {
        assert!(super::mentions("TOOLSETS = {\"calc_tools\": build}", "calc_tools"));
        assert!(!super::mentions("def build_calc_tools(ctx):", "calc_tools"));
    }
}
