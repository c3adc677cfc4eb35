//! Checks across the files of a project: duplicate names, tools that name nothing, toolsets
//! configured differently by two workers, and an entry that is not a worker.
//!
//! Recursion is allowed: a worker may list itself, and workers may list each other in a cycle
//! (the runtime's depth limit bounds the calls).

use crate::config::{CONFIG_FILE, ProjectConfig};
use crate::diagnostic::{Diagnostic, Pos};
use crate::toolset::ToolEntry;
use crate::worker_file::WorkerFile;
use llm_do_core::Registry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn place(worker: &WorkerFile, pos: Pos) -> String {
    format!("{}:{}:{}", worker.path.display(), pos.line, pos.column)
}

/// The names the project's built-in toolsets add to the name space (`write_file` only when
/// some worker's filesystem is not read-only: otherwise it is not registered).
pub(crate) fn builtin_names(workers: &[WorkerFile]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in workers.iter().flat_map(|w| &w.tools) {
        match entry {
            ToolEntry::Filesystem(_) | ToolEntry::Shell(_) => names.extend(entry.tool_names()),
            ToolEntry::Name(_) | ToolEntry::Toolset(_) | ToolEntry::Mcp { .. } => {}
        }
    }
    names
}

/// Every cross-file problem. With `host`, names must also resolve (against the project, its
/// toolsets and the host's registry) and must not clash with the host's names; with
/// `servers_started`, `server.tool` entries must be tools the server listed (in `host`).
pub(crate) fn references(
    dir: &Path,
    config: &ProjectConfig,
    workers: &[WorkerFile],
    host: Option<&Registry>,
    servers_started: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let builtins = builtin_names(workers);
    let mut defined: BTreeMap<&str, &WorkerFile> = BTreeMap::new();
    for w in workers {
        if let Some(first) = defined.get(w.name.as_str()) {
            out.push(
                Diagnostic::at(&w.path, w.name_pos, format!("duplicate worker name `{}`", w.name))
                    .expected(format!(
                        "a name no other worker has (`{}` is defined at {})",
                        w.name,
                        place(first, first.name_pos)
                    )),
            );
            continue;
        }
        defined.insert(&w.name, w);
        if builtins.contains(&w.name) {
            out.push(
                Diagnostic::at(
                    &w.path,
                    w.name_pos,
                    format!("duplicate name `{}`: a built-in tool of this project has it", w.name),
                )
                .expected("a name other than `read_file`, `list_files`, `write_file` and `shell`"),
            );
        } else if host.is_some_and(|h| h.contains(&w.name)) {
            out.push(
                Diagnostic::at(&w.path, w.name_pos, format!("duplicate name `{}`: the host program registers a Rust worker or tool with it", w.name))
                    .expected("a name the host program does not use"),
            );
        }
    }
    out.extend(toolset_conflicts(workers));
    out.extend(mcp_references(dir, config, workers, host.filter(|_| servers_started)));
    if let Some(host) = host {
        let mut known: BTreeSet<&str> = defined.keys().copied().collect();
        known.extend(builtins.iter().map(String::as_str));
        known.extend(host.names());
        // Agents' names are resolved with the host's toolsets (`python::resolve_toolsets`).
        for w in workers.iter().filter(|w| !w.agent_file) {
            for (entry, pos) in w.tools.iter().zip(&w.tool_pos) {
                if let ToolEntry::Name(name) = entry
                    && !known.contains(name.as_str())
                {
                    out.push(
                        Diagnostic::at(&w.path, *pos, format!("unknown tool `{name}`"))
                            .expected(known_list(&known)),
                    );
                }
            }
        }
    }
    if let Some(entry) = &config.entry
        && !defined.contains_key(entry.as_str())
    {
        out.push(
            Diagnostic::at(
                &config.source.clone().unwrap_or_else(|| dir.join(CONFIG_FILE)),
                config.entry_pos,
                format!("the entry `{entry}` is not a worker of this project"),
            )
            .expected(format!(
                "the name of a `.worker` file's worker: {}",
                known_list(&defined.keys().copied().collect())
            )),
        );
    }
    out
}

/// `server.tool` and `server.*` entries: the server must be declared in `llm-do.toml`; with
/// `host` (holding the servers' tools, `server__tool`), a single tool must be listed by it.
fn mcp_references(
    dir: &Path,
    config: &ProjectConfig,
    workers: &[WorkerFile],
    host: Option<&Registry>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for w in workers {
        for (entry, pos) in w.tools.iter().zip(&w.tool_pos) {
            let ToolEntry::Mcp { server, tool } = entry else { continue };
            if !config.mcp.contains_key(server) {
                let declared: Vec<String> = config.mcp.keys().map(|k| format!("`{k}`")).collect();
                out.push(
                    Diagnostic::at(&w.path, *pos, format!("unknown MCP server `{server}`"))
                        .expected(if declared.is_empty() {
                            format!(
                                "a server declared as `[mcp.{server}]` in {}",
                                dir.join(CONFIG_FILE).display()
                            )
                        } else {
                            format!("a server of {CONFIG_FILE}: {}", declared.join(", "))
                        }),
                );
                continue;
            }
            let (Some(host), Some(tool)) = (host, tool) else { continue };
            let prefix = format!("{server}{}", crate::toolset::MCP_SEPARATOR);
            if !host.contains(&format!("{prefix}{tool}")) {
                let listed: BTreeSet<&str> =
                    host.names().filter_map(|n| n.strip_prefix(prefix.as_str())).collect();
                out.push(
                    Diagnostic::at(
                        &w.path,
                        *pos,
                        format!("the MCP server `{server}` has no tool `{tool}`"),
                    )
                    .expected(if listed.is_empty() {
                        format!("a tool the server lists (it lists none), or `{server}.*`")
                    } else {
                        let shown: Vec<String> = listed.iter().map(|n| format!("`{n}`")).collect();
                        format!("one of {}", shown.join(", "))
                    }),
                );
            }
        }
    }
    out
}

fn known_list(known: &BTreeSet<&str>) -> String {
    if known.is_empty() {
        return "a worker of this project, a Rust tool of the host program or a built-in tool (none are defined)".to_owned();
    }
    let shown: Vec<String> = known.iter().take(12).map(|n| format!("`{n}`")).collect();
    let more =
        if known.len() > 12 { format!(" and {} more", known.len() - 12) } else { String::new() };
    format!("one of {}{more}", shown.join(", "))
}

/// Built-in toolsets share the name space, so their options must agree across workers.
fn toolset_conflicts(workers: &[WorkerFile]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut first_fs = None;
    let mut first_shell = None;
    for w in workers {
        for (entry, pos) in w.tools.iter().zip(&w.tool_pos) {
            match entry {
                ToolEntry::Filesystem(fs) => match first_fs {
                    None => first_fs = Some((fs, w, *pos)),
                    Some((first, fw, fpos)) if !first.same_toolset(fs) => out.push(
                        Diagnostic::at(&w.path, *pos, "the `filesystem` toolset is configured differently by another worker")
                            .expected(format!("the same options (all but `read_only` and `only`) as at {} (built-in tools share one name space)", place(fw, fpos))),
                    ),
                    Some(_) => {}
                },
                ToolEntry::Shell(sh) => match first_shell {
                    None => first_shell = Some((sh, w, *pos)),
                    Some((first, fw, fpos)) if first != sh => out.push(
                        Diagnostic::at(&w.path, *pos, "the `shell` toolset is configured differently by another worker")
                            .expected(format!("the same options and rules as at {} (built-in tools share one name space)", place(fw, fpos))),
                    ),
                    Some(_) => {}
                },
                ToolEntry::Name(_) | ToolEntry::Toolset(_) | ToolEntry::Mcp { .. } => {}
            }
        }
    }
    out
}
