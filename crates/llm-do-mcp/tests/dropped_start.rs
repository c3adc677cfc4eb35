//! A stdio server's start that is dropped before it completes (a cancelled run, a caller's own
//! timeout) leaves none of the server's processes running. Before, only a start that failed
//! killed the server's process group; a dropped one killed only the leader (`kill_on_drop`),
//! so the real server a launcher such as `npx` or `uv run` starts was orphaned.

#![cfg(unix)]

#[path = "support/process.rs"]
mod process;

use llm_do_mcp::{McpServer, McpToolset};
use process::wait_gone;
use std::path::Path;
use std::time::Duration;

/// The two process ids `path` holds (written by the server's shell), once it holds them
/// (waiting at most 30 s).
async fn pids_in(path: &Path) -> (u32, u32) {
    for _ in 0..600 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let [Ok(leader), Ok(child)] =
            text.split_whitespace().map(str::parse).collect::<Vec<_>>()[..]
        {
            return (leader, child);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server never wrote its process ids to {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_start_leaves_no_process_of_the_server_running() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    // A launcher that starts the real server (here `sleep`) as its child; neither answers.
    let script = format!("sleep 300 & echo $$ $! > {}; wait", pidfile.display());
    let server = McpServer::stdio("sh", ["-c", script.as_str()]);
    let start = McpToolset::connect("slow", server);
    // The caller gives up once the launcher's child runs: the start future is dropped.
    let (leader, child) = tokio::select! {
        started = start => panic!("a server that never answers started: {:?}", started.err()),
        pids = pids_in(&pidfile) => pids,
    };
    let gone = wait_gone(child).await;
    if !gone {
        llm_do_process::kill_group(leader); // not left behind by a failing test
    }
    assert!(gone, "the server's child {child} outlived the dropped start");
}
