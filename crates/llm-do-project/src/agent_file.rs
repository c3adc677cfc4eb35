//! `NAME.agent` files, the agent format of the Python llm-do, read into [`WorkerFile`]s.
//!
//! ```text
//! ---
//! name: main                       # default here: the file's stem
//! description: Greets people.      # what callers see; default: the instructions' start
//! model: openai:gpt-4o-mini        # or compatible_models: ["openai:*"]
//! toolsets: [filesystem_project, helper]   # built-in toolsets and other agents
//! ---
//! Instructions (the system prompt).
//! ```
//!
//! The difference from a `.worker` file: the body is the *system prompt* (the agent's
//! instructions), and the user message is the call's `input` argument as it is, with the
//! files of its optional `attachments` (see [`default_agent_input_schema`]). Built-in
//! toolsets map onto [`llm_do_tools`] (see [`builtin`]); other toolset names are agents of the
//! project or toolsets of the host program.
//!
//! (Over 400 lines: the built-in toolsets' shell rules and `compatible_models`' glob belong to
//! this format and are kept with it.)

use crate::diagnostic::{Diagnostic, Pos};
use crate::toolset::{FilesystemOptions, ShellOptions, ToolEntry};
use crate::worker_file::{NAME_EXPECTED, Parser, WorkerFile, is_valid_name, list};
use crate::yaml::{Kind, Node};
use llm_do_core::attachment::attachment_schema;
use llm_do_tools::shell::ShellRule;
use serde_json::{Value, json};
use std::path::Path;

/// The extension of agent files.
pub const AGENT_EXTENSION: &str = "agent";

/// The frontmatter keys of a `.agent` file.
pub const AGENT_KEYS: &[&str] = &[
    "name",
    "description",
    "model",
    "compatible_models",
    "input_model_ref",
    "tools",
    "toolsets",
    "server_side_tools",
];

/// The built-in toolset names of the Python llm-do that map onto llm-do-tools.
pub const BUILTIN_TOOLSETS: &[&str] = &[
    "filesystem_project",
    "filesystem_project_ro",
    "filesystem_cwd",
    "filesystem_cwd_ro",
    "shell_readonly",
    "shell_file_ops",
];

/// Longest tool description taken from the instructions when `description` is absent.
const DESCRIPTION_CHARS: usize = 200;

/// The toolset a built-in name stands for, rooted at the project directory `dir` or the
/// current directory `cwd`; `None` for other names.
///
/// - `filesystem_project[_ro]`: `read_file`, `list_files` and (not `_ro`) `write_file`, confined
///   to the project directory; writes ask for approval.
/// - `filesystem_cwd[_ro]`: the same, confined to the current directory.
/// - `shell_readonly`: `wc`, `grep`, `head`, `tail`, `sort`, `cat`, `ls`, `find`,
///   `git log|diff|show|status` run without asking; `find` with an action that deletes, writes or
///   runs something, `sort -o` (also glued, bundled or abbreviated: `-oFILE`, `-ro`, `--o=`),
///   `sort --compress-program`, git's `--output` and `uniq` (which writes its second operand)
///   ask; anything else is refused.
/// - `shell_file_ops`: `ls` runs, `mv` asks, anything else is refused.
///
/// Both shells work in the current directory, as in the Python llm-do.
pub fn builtin(name: &str, dir: &Path, cwd: &Path) -> Option<ToolEntry> {
    let filesystem = |root: &Path, read_only| {
        ToolEntry::Filesystem(FilesystemOptions {
            root: root.to_owned(),
            read_only,
            only: None,
            max_read_chars: None,
            max_list_entries: None,
            max_write_chars: None,
            max_path_chars: None,
        })
    };
    let shell = |rules| {
        ToolEntry::Shell(ShellOptions {
            root: cwd.to_owned(),
            rules,
            timeout_secs: None,
            max_output: None,
            // Upstream blocks metacharacters with a permission error.
            deny_shell_syntax: true,
        })
    };
    Some(match name {
        "filesystem_project" => filesystem(dir, false),
        "filesystem_project_ro" => filesystem(dir, true),
        "filesystem_cwd" => filesystem(cwd, false),
        "filesystem_cwd_ro" => filesystem(cwd, true),
        "shell_readonly" => shell(shell_readonly_rules()),
        "shell_file_ops" => shell(vec![ShellRule::allow("ls"), ShellRule::ask("mv")]),
        _ => return None,
    })
}

fn shell_readonly_rules() -> Vec<ShellRule> {
    let writes = "this action deletes, writes or runs something";
    let mut rules: Vec<ShellRule> = [
        "-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls",
    ]
    .into_iter()
    .map(|action| ShellRule::ask("find").with_arg(action).reason(writes))
    .collect();
    // GNU sort writes its `-o` file however the option is spelled: glued (`-oFILE`), bundled
    // (`-ro FILE`), or long and abbreviated (`--o=FILE`); `--compress-program` (from `--co`)
    // runs a program.
    rules.push(ShellRule::ask("sort").with_short_option('o').reason(writes));
    rules.push(ShellRule::ask("sort").with_arg_prefix("--o").reason(writes));
    rules.push(ShellRule::ask("sort").with_arg_prefix("--co").reason(writes));
    // `uniq INPUT OUTPUT` writes OUTPUT: which operand is which, rules cannot tell.
    rules.push(ShellRule::ask("uniq").reason("uniq writes its second file operand, if it has one"));
    for git in ["git log", "git diff", "git show", "git status"] {
        rules.push(ShellRule::ask(git).with_arg_prefix("--output").reason(writes));
    }
    for allowed in [
        "wc",
        "find",
        "grep",
        "head",
        "tail",
        "sort",
        "cat",
        "ls",
        "git log",
        "git diff",
        "git show",
        "git status",
    ] {
        rules.push(ShellRule::allow(allowed));
    }
    rules
}

/// The keys whose `null` (or empty) value means "not given", as upstream's `X | None` fields.
const NULLABLE_KEYS: &[&str] = &["description", "model", "compatible_models", "input_model_ref"];

/// Parses one agent file of the project in `dir`: the worker (whenever its frontmatter could
/// be read) and every problem found.
pub(crate) fn parse(file: &Path, dir: &Path, text: &str) -> (Option<WorkerFile>, Vec<Diagnostic>) {
    let mut p = Parser { file, dir, diagnostics: Vec::new() };
    let Some((split, entries)) =
        p.frontmatter(text, "keys such as `name:` and `model:`", crate::frontmatter::Fences::Agent)
    else {
        return (None, p.diagnostics);
    };
    let mut worker = p.worker();
    worker.agent_file = true;
    worker.input = default_agent_input_schema();
    let instructions = split.body.trim().to_owned();
    let cwd = crate::source::absolute_dir(Path::new("."));
    let mut model_pos = None;
    let mut input_schema = false;
    for (key_node, value) in &entries {
        let Some(key) = key_node.as_str() else {
            p.error(key_node.pos, format!("a key is {}", key_node.describe()), list(AGENT_KEYS));
            continue;
        };
        if value.kind == Kind::Null && NULLABLE_KEYS.contains(&key) {
            continue;
        }
        match key {
            "name" => p.name(value, "agent", &mut worker),
            "description" => worker.description = p.string(key, value),
            "model" => {
                model_pos = Some(value.pos);
                p.model(value, &mut worker);
            }
            "compatible_models" => {
                worker.compatible_pos = value.pos;
                let patterns = strings(&mut p, key, value);
                if patterns.as_ref().is_some_and(Vec::is_empty) {
                    p.error(value.pos, "`compatible_models` is empty", "at least one pattern; `[\"*\"]` accepts any model");
                }
                worker.compatible_models = patterns;
            }
            "input_model_ref" => match &value.kind {
                Kind::Str(class) => p.error(
                    value.pos,
                    format!("`input_model_ref: {class}` names a Python class, which cannot be loaded here"),
                    "the input's JSON Schema written inline instead, e.g. `input_model_ref: {type: object, properties: {topic: {type: string}}, required: [topic]}` (what the class's fields describe)",
                ),
                _ => {
                    if let Some(schema) = p.schema(key, value, true) {
                        worker.input = schema;
                        input_schema = true;
                    }
                }
            },
            "tools" | "toolsets" => {
                let Some(names) = located_strings(&mut p, key, value) else { continue };
                for (name, pos) in names {
                    if key == "toolsets" && name == "dynamic_agents" {
                        p.error(pos, "the `dynamic_agents` toolset creates agents while running, which is not supported", "agents written as `.agent` or `.worker` files of the project");
                        continue;
                    }
                    if !is_valid_name(&name) {
                        p.error(pos, format!("`{name}` is not a valid tool name"), NAME_EXPECTED);
                        continue;
                    }
                    let entry = match key {
                        "toolsets" => builtin(&name, dir, &cwd).unwrap_or(ToolEntry::Toolset(name)),
                        _ => ToolEntry::Name(name),
                    };
                    worker.tools.push(entry);
                    worker.tool_pos.push(pos);
                }
            }
            "server_side_tools" => match &value.kind {
                Kind::Null => {}
                Kind::Seq(items) if items.is_empty() => {}
                _ => p.error(
                    value.pos,
                    "`server_side_tools` runs tools on the provider's servers, which is not supported",
                    "no `server_side_tools`: give the agent tools that run here (a Rust tool of a host program, e.g. a web search calling an API)",
                ),
            },
            "entry" => p.error(key_node.pos, "an agent file cannot declare `entry`", "the entry in project.json's `entry.agent`"),
            "schema_in_ref" => p.error(key_node.pos, "`schema_in_ref` is the old name of `input_model_ref`", "`input_model_ref` with an inline JSON Schema"),
            _ => p.unknown_key(key_node.pos, format!("unknown key `{key}` in an agent file"), key, AGENT_KEYS),
        }
    }
    if let (Some(pos), Some(_)) = (model_pos, &worker.compatible_models) {
        p.error(pos, "an agent cannot have both `model` and `compatible_models`", "one of them: `model` fixes the model, `compatible_models` checks the model chosen for the run");
    }
    if worker.description.is_none() && !instructions.is_empty() {
        let mut short: String = instructions.chars().take(DESCRIPTION_CHARS).collect();
        if instructions.chars().count() > DESCRIPTION_CHARS {
            short.push_str("...");
        }
        worker.description = Some(short);
    }
    worker.system = Some(instructions);
    // The user message: the `input` text as it is; with an inline schema, the arguments as
    // JSON (a template without placeholders renders them).
    worker.prompt = if input_schema { String::new() } else { "{input}".to_owned() };
    (Some(worker), p.diagnostics)
}

/// The input of an agent without `input_model_ref`, as the Python llm-do's: the `input` text,
/// and optional `attachments` (paths relative to the project root, or `data:` URLs) that
/// reach the model as parts of the user message.
///
/// ```
/// let schema = llm_do_project::agent_file::default_agent_input_schema();
/// assert_eq!(schema["required"], serde_json::json!(["input"]));
/// assert_eq!(schema["properties"]["attachments"]["items"]["format"], "attachment");
/// ```
pub fn default_agent_input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "input": {"type": "string"},
            "attachments": {"type": "array", "items": attachment_schema()}
        },
        "required": ["input"],
        "additionalProperties": false
    })
}

fn strings(p: &mut Parser<'_>, key: &str, node: &Node) -> Option<Vec<String>> {
    located_strings(p, key, node).map(|v| v.into_iter().map(|(s, _)| s).collect())
}

/// A list of non-empty strings, each with its position; duplicates are reported.
fn located_strings(p: &mut Parser<'_>, key: &str, node: &Node) -> Option<Vec<(String, Pos)>> {
    let items = match &node.kind {
        Kind::Null => return Some(Vec::new()),
        Kind::Seq(items) => items,
        _ => {
            p.error(node.pos, format!("`{key}` is {}", node.describe()), "a list of names");
            return None;
        }
    };
    let mut out: Vec<(String, Pos)> = Vec::new();
    for item in items {
        match item.as_str() {
            Some(s) if out.iter().any(|(seen, _)| seen == s) => {
                p.error(item.pos, format!("`{s}` is listed twice"), "each name once")
            }
            Some(s) if !s.trim().is_empty() => out.push((s.to_owned(), item.pos)),
            _ => p.error(
                item.pos,
                format!("an entry of `{key}` is {}", item.describe()),
                "a non-empty string",
            ),
        }
    }
    Some(out)
}

/// `true` when `model` matches a `compatible_models` glob: `*` any text, `?` one character,
/// `[..]` a class (`[!..]` negated), compared case-insensitively — as Python's `fnmatch`.
///
/// ```
/// use llm_do_project::agent_file::model_matches;
/// assert!(model_matches("openai:gpt-4o-mini", "openai:*"));
/// assert!(model_matches("OpenAI:GPT-4o", "openai:gpt-?o"));
/// assert!(!model_matches("local:smollm2", "openai:*"));
/// ```
pub fn model_matches(model: &str, pattern: &str) -> bool {
    let model: Vec<char> = model.trim().to_lowercase().chars().collect();
    let pattern: Vec<char> = pattern.trim().to_lowercase().chars().collect();
    glob(&model, &pattern)
}

/// Iterative glob matching with one backtrack point (linear in practice, never recursive).
fn glob(text: &[char], pattern: &[char]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => class(&pattern[p..], text[t]),
            Some(&c) => (c == text[t]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(len), _) => {
                p += len.max(1);
                t += 1;
            }
            (None, Some((sp, st))) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class at the start of `pattern` (`[abc]`, `[a-z]`, `[!x]`):
/// `Some(pattern length consumed)` on a match, `None` otherwise. An unclosed `[` is literal.
fn class(pattern: &[char], c: char) -> Option<usize> {
    let Some(close) = pattern.iter().skip(2).position(|&x| x == ']').map(|i| i + 2) else {
        return (c == '[').then_some(1);
    };
    let (negated, body) = match pattern[1] {
        '!' => (true, &pattern[2..close]),
        _ => (false, &pattern[1..close]),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    (hit != negated).then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_fnmatch() {
        for (model, pattern, expected) in [
            ("anthropic:claude-haiku-4-5", "anthropic:claude-haiku-*", true),
            ("anthropic:claude-haiku-4-5", "*", true),
            ("openai:gpt-4o", "anthropic:*", false),
            ("openai:gpt-4o", "openai:gpt-4[a-z]", true),
            ("openai:gpt-4o", "openai:gpt-4[!o]", false),
            ("a*b", "a[*]b", true),
            ("ab", "a*b*", true),
            ("abc", "a?", false),
        ] {
            assert_eq!(model_matches(model, pattern), expected, "{model} ~ {pattern}");
        }
    }

    #[test]
    fn the_readonly_shell_asks_before_writing() {
        use llm_do_core::approval::Verdict;
        use llm_do_tools::shell::evaluate;
        let rules = shell_readonly_rules();
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        for (command, verdict) in [
            ("grep -rn todo .", Verdict::Allow),
            ("git log --oneline", Verdict::Allow),
            ("sort names.txt", Verdict::Allow),
            ("sort -o out.txt names.txt", Verdict::Ask),
            // GNU sort takes `-o` bundled or glued, and long options abbreviated: all write.
            ("sort -oout.txt names.txt", Verdict::Ask),
            ("sort -ro out.txt names.txt", Verdict::Ask),
            ("sort --o=out.txt names.txt", Verdict::Ask),
            ("sort --outp out.txt names.txt", Verdict::Ask),
            // `--compress-program` runs a program, abbreviated from `--co`.
            ("sort -S 1 --compress-program=sh names.txt", Verdict::Ask),
            ("sort --comp=sh names.txt", Verdict::Ask),
            ("sort -rn names.txt", Verdict::Allow),
            ("sort --reverse names.txt", Verdict::Allow),
            // uniq writes its second operand.
            ("uniq names.txt out.txt", Verdict::Ask),
            ("uniq -- -c out.txt", Verdict::Ask),
            ("find . -delete", Verdict::Ask),
            ("git diff --output=x", Verdict::Ask),
            ("git push", Verdict::Deny),
            ("rm -rf .", Verdict::Deny),
        ] {
            assert_eq!(evaluate(&rules, &argv(command)).0, verdict, "{command}");
        }
    }
}
