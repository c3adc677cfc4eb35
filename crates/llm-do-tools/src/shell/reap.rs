//! Ending a command's whole process tree: nothing a command started outlives its call.
//!
//! A command runs as the leader of its own process group, with a marker variable
//! ([`MARKER_VAR`]) in its environment that is unique to the call and inherited by everything
//! it starts. When the call ends — normally, by its time limit, or because the run dropped
//! it (an error elsewhere, an abort, the CLI's SIGINT/SIGTERM handler) — [`Tree::kill`] sends
//! `SIGKILL` to:
//!
//! 1. the process group (while the leader has not been reaped);
//! 2. on Linux, every process whose environment carries the call's marker, and every
//!    descendant (by parent pid, in `/proc`) of the leader or of a marked process — which
//!    reaches programs that left the group with `setsid`/`setpgid` and daemons that were
//!    re-parented to init after a double fork.
//!
//! The scan is repeated until it finds nothing (at most [`ROUNDS`] times), so that a process
//! forked during one round is caught by the next.
//!
//! Not covered (documented in `docs/hostile-input.md`): a descendant that both clears its
//! environment (`env -i`, `execve` with an empty environment) and is re-parented away from the
//! tree (double fork); a descendant that changes user (setuid programs) — it cannot be
//! signalled; and, on systems other than Linux, anything that leaves the process group. A
//! cgroup would close these gaps but needs privileges or a delegated cgroup that a CLI run by
//! a user does not have.

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that marks every process of one shell call.
pub(crate) const MARKER_VAR: &str = "LLM_DO_SHELL_CALL";

/// How many times the scan is repeated while it still finds processes.
const ROUNDS: usize = 8;

/// The processes of one shell call.
pub(crate) struct Tree {
    /// The leader's pid (= the group id) until it has been reaped.
    leader: Option<i32>,
    /// `MARKER_VAR=value`, as found in `/proc/<pid>/environ`.
    marker: Vec<u8>,
}

impl Tree {
    /// A new call's marker value: unique among the calls of the live processes of the machine
    /// (this process's id and a counter).
    pub(crate) fn marker_value() -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The tree of the leader `pid` (`None` when the spawn gave no pid) marked with `value`.
    pub(crate) fn new(pid: Option<u32>, value: &str) -> Self {
        Self {
            leader: pid.and_then(|p| i32::try_from(p).ok()),
            marker: format!("{MARKER_VAR}={value}").into_bytes(),
        }
    }

    /// The leader has been reaped: its pid (and group id) may be reused from now on, so only
    /// marked processes are looked for.
    pub(crate) fn leader_reaped(&mut self) {
        self.leader = None;
    }

    /// Kills every process of the call that is still running.
    pub(crate) fn kill(&mut self) {
        if let Some(leader) = self.leader.and_then(|pid| u32::try_from(pid).ok()) {
            llm_do_process::kill_group(leader);
        }
        #[cfg(target_os = "linux")]
        for _ in 0..ROUNDS {
            let found = scan(&self.marker, self.leader);
            if found.is_empty() {
                break;
            }
            for pid in found {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = ROUNDS;
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The live (not zombie) processes that carry `marker` in their environment or descend from
/// `leader` or from a marked process. Never this process.
#[cfg(target_os = "linux")]
fn scan(marker: &[u8], leader: Option<i32>) -> Vec<i32> {
    let me = i32::try_from(std::process::id()).unwrap_or(-1);
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    // (pid, parent pid, marked)
    let mut all: Vec<(i32, i32, bool)> = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) state ppid …`; comm may contain anything, so split after the last `)`.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let mut fields = after.split_whitespace();
        let state = fields.next().unwrap_or("");
        let Some(ppid) = fields.next().and_then(|p| p.parse::<i32>().ok()) else { continue };
        if state == "Z" || state == "X" {
            continue; // already dead, waiting to be reaped
        }
        let marked = std::fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == marker));
        all.push((pid, ppid, marked));
    }
    let mut chosen: Vec<i32> = all
        .iter()
        .filter(|(pid, _, marked)| *marked || Some(*pid) == leader)
        .map(|(pid, _, _)| *pid)
        .collect();
    // Descendants, to a fixed point.
    loop {
        let before = chosen.len();
        for (pid, ppid, _) in &all {
            if (chosen.contains(ppid) || Some(*ppid) == leader) && !chosen.contains(pid) {
                chosen.push(*pid);
            }
        }
        if chosen.len() == before {
            break;
        }
    }
    chosen.retain(|pid| *pid != me);
    chosen
}
