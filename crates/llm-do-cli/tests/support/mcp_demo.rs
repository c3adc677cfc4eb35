//! The MCP demo server (llm-do-mcp's `llm-do-mcp-demo-server`, built here with cargo: it is a
//! binary of another package, so `CARGO_BIN_EXE_…` does not name it) and copies of the example
//! project `examples/projects/mcp_orders` that use it.

#![allow(dead_code)]

use crate::support::repo_root;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Builds the demo server once and returns its path.
pub fn demo_server() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new(cargo)
            .current_dir(repo_root())
            .args([
                "build",
                "--quiet",
                "--package",
                "llm-do-mcp",
                "--bin",
                "llm-do-mcp-demo-server",
                "--message-format=json",
            ])
            .output()
            .expect("run cargo build");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
            .find(|p| p.file_stem().is_some_and(|s| s == "llm-do-mcp-demo-server"))
            .expect("cargo names the demo server's executable")
    })
}

/// A copy of the example project whose server command is the built demo server, recording
/// calls and process ids in the project directory.
pub fn orders_project(server_args: &[&str]) -> tempfile::TempDir {
    let example = repo_root().join("examples/projects/mcp_orders");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example.join("main.worker"), dir.path().join("main.worker")).unwrap();
    let config = std::fs::read_to_string(example.join("llm-do.toml")).unwrap();
    let (head, rest) = config.split_once("[mcp.orders]").unwrap();
    let (_, tail) = rest.split_once("\n\n").unwrap();
    let args: Vec<String> = server_args.iter().map(|a| format!("{a:?}")).collect();
    let config = format!(
        "{}[mcp.orders]\ncommand = {:?}\nargs = [{}]\nenv = {{ LLM_DO_MCP_DEMO_RECORD = \"calls.jsonl\", LLM_DO_MCP_DEMO_PIDFILE = \"pids\" }}\n\n{tail}",
        head.replace("local:smollm2", "openai:test-model"),
        demo_server().display().to_string(),
        args.join(", ")
    );
    std::fs::write(dir.path().join("llm-do.toml"), config).unwrap();
    dir
}

pub fn pids(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

pub fn gone(pid: u32) -> bool {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat.rsplit(')').next().is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return true;
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}
