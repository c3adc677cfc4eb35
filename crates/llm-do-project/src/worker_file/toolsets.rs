//! The `.worker` keys that hold toolsets and approvals: `tools:` (names, MCP references,
//! `filesystem:` and `shell:` entries with their options) and `approval:`.

use super::WorkerFile;
use super::parser::{NAME_EXPECTED, Parser, is_valid_name, list};
use crate::diagnostic::Pos;
use crate::rules::{RULE_KEYS, RuleSpec};
use crate::toolset::{
    FILESYSTEM_KEYS, FILESYSTEM_TOOLS, FilesystemOptions, FilesystemRaw, SHELL_KEYS,
    SHELL_RULE_KEYS, ShellOptions, ShellRaw, ShellRuleRaw, ToolEntry,
};
use crate::yaml::{Kind, Node};
use llm_do_core::approval::Verdict;
use serde_json::Value;
use std::path::{Path, PathBuf};

impl Parser<'_> {
    fn directory(&mut self, node: Option<&Node>, root: Option<&str>) -> Option<PathBuf> {
        // `./docs` is shown as `DIR/docs`, not `DIR/./docs`.
        let relative: PathBuf = Path::new(root.unwrap_or("."))
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        let path = self.dir.join(&relative);
        if path.is_dir() {
            return Some(path);
        }
        let pos = node.map_or(Pos::START, |n| n.pos);
        // Shown beside the file, as the project directory was named.
        let shown = self.file.with_file_name(&relative);
        self.error(
            pos,
            format!("`{}` is not a directory", shown.display()),
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
                        Some(key) => self.unknown_key(
                            k.pos,
                            format!("unknown `{toolset}` option `{key}`"),
                            key,
                            keys,
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

    /// Reports each option of `toolset` in `zero` (its key, and whether its value is 0) whose
    /// value is 0, at the option in `options`: every call of the toolset would fail (a time
    /// limit of nothing, no character allowed). `None` if any is.
    fn nonzero(
        &mut self,
        toolset: &str,
        options: &[(&str, &Node)],
        zero: &[(&str, bool)],
    ) -> Option<()> {
        let mut ok = true;
        for (key, _) in zero.iter().filter(|(_, zero)| *zero) {
            let pos = options.iter().find(|(k, _)| k == key).map_or(Pos::START, |(_, v)| v.pos);
            self.error(
                pos,
                format!("`{toolset}` option `{key}` is 0"),
                "a whole number of at least 1 (or no value, for the default)",
            );
            ok = false;
        }
        ok.then_some(())
    }

    fn filesystem(&mut self, node: &Node) -> Option<ToolEntry> {
        let options = self.options("filesystem", node, FILESYSTEM_KEYS);
        let raw: FilesystemRaw = self.raw_options("filesystem", node, &options)?;
        self.nonzero(
            "filesystem",
            &options,
            &[
                ("max_read_chars", raw.max_read_chars == Some(0)),
                ("max_list_entries", raw.max_list_entries == Some(0)),
                ("max_write_chars", raw.max_write_chars == Some(0)),
                ("max_path_chars", raw.max_path_chars == Some(0)),
            ],
        )?;
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
        self.nonzero(
            "shell",
            &options,
            &[
                ("timeout_secs", raw.timeout_secs == Some(0)),
                ("max_output", raw.max_output == Some(0)),
            ],
        )?;
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
            deny_shell_syntax: false,
        }))
    }

    pub(crate) fn tool(&mut self, item: &Node) -> Option<ToolEntry> {
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

    pub(crate) fn approval(&mut self, node: &Node, worker: &mut WorkerFile) {
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
