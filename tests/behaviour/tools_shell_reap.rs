//! Hostile input: nothing a shell command starts outlives its call. A program that leaves
//! its process group (a daemon, `setsid`) is killed at the time limit, at the end of the call,
//! and when the call is dropped; and the command, with what it started in its group, dies with
//! the process that called the tool even when that process is killed outright. Checked by pid in `/proc`.

#![cfg(target_os = "linux")]

use llm_do::tools::ToolError;
use llm_do::tools::shell::{Shell, ShellOutput, ShellRule};
use std::time::Duration;

const DETACH: &str = env!("CARGO_BIN_EXE_llm-do-test-detach");

/// Whether `pid` is a live process (not a zombie).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next());
            !matches!(state, Some("Z" | "X"))
        }
    }
}

/// The pids of live processes whose command line is exactly `argv`.
fn pids_of(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .filter(|pid| alive(*pid))
        .collect()
}

/// Waits (up to 10 s, polling) until `pid` is gone: SIGKILL is asynchronous.
async fn gone(pid: u32) -> bool {
    for _ in 0..500 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Waits (up to `within`, polling) until a live process runs exactly `argv`; their pids.
async fn started(argv: &[&str], within: Duration) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let seen = pids_of(argv);
        if !seen.is_empty() || tokio::time::Instant::now() >= deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn shell(root: &std::path::Path, timeout: Duration) -> Shell {
    Shell::new(root)
        .unwrap()
        .rule(ShellRule::allow(DETACH))
        .rule(ShellRule::allow("setsid"))
        .rule(ShellRule::allow("sleep"))
        .timeout(timeout)
}

#[tokio::test]
async fn a_daemon_left_behind_by_a_command_that_exits_is_killed_with_the_call() {
    let root = tempfile::tempdir().unwrap();
    let out =
        shell(root.path(), Duration::from_secs(20)).run(&format!("{DETACH} 301.25")).await.unwrap();
    assert!(out.success, "{out:?}");
    let pid: u32 = out.stdout.trim().parse().expect("the helper prints the daemon's pid");
    assert!(gone(pid).await, "the detached sleep {pid} outlived the call");
}

/// A shell call of `setsid sleep SECONDS` limited to `limit`, started, and the pid of its
/// setsid child once it runs. `setsid sleep` forks (the command leads its own group), the
/// child makes a new session and sleeps; the parent exits at once. The sleeper keeps stdout
/// open, so the call lasts until the time limit.
async fn setsid_sleeper(
    limit: Duration,
    seconds: &'static str,
) -> (tokio::task::JoinHandle<Result<ShellOutput, ToolError>>, u32) {
    let root = tempfile::tempdir().unwrap();
    let call = tokio::spawn(async move {
        shell(root.path(), limit).run(&format!("setsid sleep {seconds}")).await
    });
    let seen = started(&["sleep", seconds], Duration::from_secs(2)).await;
    assert_eq!(seen.len(), 1, "the setsid child is running");
    (call, seen[0])
}

#[tokio::test]
async fn a_setsid_child_holding_the_output_open_is_killed_at_the_time_limit() {
    let (call, pid) = setsid_sleeper(Duration::from_millis(1500), "302.5").await;
    let result = call.await.unwrap();
    assert!(matches!(result, Err(ToolError::Timeout { .. })), "{result:?}");
    assert!(gone(pid).await, "the setsid child {pid} escaped the time limit");
}

#[tokio::test]
async fn a_detached_child_holding_the_output_open_is_killed_at_the_time_limit() {
    let root = tempfile::tempdir().unwrap();
    let result = shell(root.path(), Duration::from_millis(1500))
        .run(&format!("{DETACH} --keep-output 303.75"))
        .await;
    let Err(ToolError::Timeout { stdout, .. }) = result else { panic!("{result:?}") };
    let pid: u32 = stdout.trim().parse().expect("pid");
    assert!(gone(pid).await, "the detached sleep {pid} escaped the time limit");
}

#[tokio::test]
async fn a_dropped_call_kills_its_command_and_what_it_started() {
    let (call, pid) = setsid_sleeper(Duration::from_secs(60), "304.5").await;
    call.abort(); // drops the call's future, as a run that ends for any reason does
    assert!(call.await.unwrap_err().is_cancelled());
    assert!(gone(pid).await, "the setsid child {pid} outlived the dropped call");
}

/// Run by [`a_command_dies_with_a_process_that_is_killed_outright`] in a child process: runs
/// `xargs`, which starts `sleep 305.5` as its own child (in the command's process group),
/// through the shell tool until it is killed.
#[tokio::test]
#[ignore = "run by a_command_dies_with_a_process_that_is_killed_outright in a child process"]
async fn holder_of_a_running_command() {
    let root = std::env::var_os("LLM_DO_TEST_SHELL_HOLDER").expect("run by its parent test");
    let shell = shell(std::path::Path::new(&root), Duration::from_secs(600))
        .rule(ShellRule::allow("xargs"));
    let result = shell.run(&HOLDER_COMMAND.join(" ")).await;
    eprintln!("the holder's command ended: {result:?}");
}

/// The holder's command: `xargs` with no input runs its command once, as a child.
const HOLDER_COMMAND: [&str; 5] = ["xargs", "-a", "/dev/null", "sleep", "305.5"];

/// No destructor runs when the process that called the tool is killed with SIGKILL: the
/// command and what it started in its process group die anyway (the supervisor of
/// `llm_do_process::guard_group` kills the group when its parent dies).
#[tokio::test]
async fn a_command_dies_with_a_process_that_is_killed_outright() {
    let root = tempfile::tempdir().unwrap();
    let mut holder = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "tools_shell_reap::holder_of_a_running_command"])
        .args(["--test-threads=1", "--nocapture"])
        .env("LLM_DO_TEST_SHELL_HOLDER", root.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let command = started(&HOLDER_COMMAND, Duration::from_secs(30)).await;
    let background = started(&["sleep", "305.5"], Duration::from_secs(30)).await;
    assert_eq!((command.len(), background.len()), (1, 1), "the holder's command is running");
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let mut outlived = Vec::new();
    for pid in [command[0], background[0]] {
        if !gone(pid).await {
            outlived.push(pid);
            // Leave nothing behind when the test fails.
            llm_do_process::kill_group(pid);
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
    assert!(outlived.is_empty(), "{outlived:?} outlived the process killed with SIGKILL");
}
