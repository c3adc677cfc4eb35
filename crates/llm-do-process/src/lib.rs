//! Child processes tied to llm-do's life: the one home of that rule for every crate that
//! starts a process (MCP stdio servers in `llm-do-mcp`, the local `restate-server` of
//! `llm-do-restate`, the shell tool's commands in `llm-do-tools`).
//!
//! - [`guard`]: the child runs as the leader of its own process group, so that
//!   [`kill_group`] ends it with whatever it started (the grandchildren of launchers such as
//!   `npx` or `uv run`).
//! - On Linux, [`guard`] also starts the child with `PR_SET_PDEATHSIG` = `SIGKILL`: when
//!   llm-do dies, even by `SIGKILL` (no destructor runs), the kernel kills the child. The
//!   signal fires when the *thread* that started the child ends; started on a thread of a
//!   tokio runtime, a child also ends with that runtime.
//!
//! - [`guard_group`]: as [`guard`], and on Linux the command's whole process group dies with
//!   llm-do, not only the command: a supervisor process stands between them (see
//!   `supervisor.rs`). For commands that start processes of their own and end soon (the shell
//!   tool's); a long-lived child (an MCP server) keeps [`guard`], since the supervisor, a
//!   fork of llm-do that never `exec`s, holds on to llm-do's memory pages as they were when
//!   it started for as long as it lives.
//!
//! - [`hide_secrets_from_proc`] (Linux): the values of this process's secret variables out
//!   of `/proc/PID/environ`, where the processes it starts could read them; to call at the
//!   start of `main`.
//!
//! This crate holds the workspace's `unsafe` code (in [`guard`], [`guard_group`], the
//! supervisor, and the one `set_var` of [`hide_secrets_from_proc`]): `pre_exec` runs code in the forked child before `exec`, where only
//! async-signal-safe calls are allowed.
//!
//! ```
//! # #[cfg(unix)] {
//! let mut cmd = std::process::Command::new("sleep");
//! cmd.arg("30");
//! llm_do_process::guard(&mut cmd);
//! let mut child = cmd.spawn().unwrap();
//! llm_do_process::kill_group(child.id());
//! assert!(!child.wait().unwrap().success());
//! # }
//! ```
//!
//! A `tokio::process::Command` is guarded through its `as_std_mut()`.

#![warn(missing_docs)]

/// Makes the command's child the leader of a new process group and, on Linux, asks the kernel
/// to kill it when this process (the thread that spawns it) dies. Elsewhere than on Unix it
/// does nothing.
pub fn guard(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(target_os = "linux")]
    die_with_parent(cmd);
    #[cfg(not(unix))]
    let _ = cmd;
}

#[cfg(target_os = "linux")]
mod supervisor;

#[cfg(target_os = "linux")]
mod environ;
#[cfg(target_os = "linux")]
pub use environ::{HideError, hide_secrets_from_proc};

/// Like [`guard`], and on Linux the kernel's kill when this process dies reaches the whole
/// process group: a supervisor process between this process and the command (the child that
/// [`std::process::Child::id`] names, the group's leader) kills the group when this process
/// dies, even by `SIGKILL`, and otherwise ends as the command ends (its exit code, or its
/// signal). What the command started and moved out of the group (`setsid`) is not reached.
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::unix::process::ExitStatusExt as _;
/// let mut cmd = std::process::Command::new("sh");
/// cmd.args(["-c", "exit 3"]);
/// llm_do_process::guard_group(&mut cmd);
/// assert_eq!(cmd.status().unwrap().code(), Some(3)); // the command's own status
/// let mut cmd = std::process::Command::new("sh");
/// cmd.args(["-c", "kill -TERM $$"]);
/// llm_do_process::guard_group(&mut cmd);
/// assert_eq!(cmd.status().unwrap().signal(), Some(15));
/// # }
/// ```
pub fn guard_group(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(target_os = "linux")]
    supervise(cmd);
    #[cfg(not(unix))]
    let _ = cmd;
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn supervise(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt as _;
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before `exec` (the process group is set
    // by then), and `supervisor::split` makes only async-signal-safe system calls and
    // allocates nothing.
    unsafe {
        cmd.pre_exec(move || supervisor::split(parent));
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt as _;
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before `exec`; `die_with` makes only
    // async-signal-safe system calls and allocates nothing.
    unsafe {
        cmd.pre_exec(move || die_with(parent, rustix::process::Signal::KILL));
    }
}

/// Asks the kernel to send `signal` to this process when `parent` dies; an error if `parent`
/// is not (or no longer) this process's parent, since the request would then never fire.
/// Makes only the system calls `prctl(2)` and `getppid(2)` (async-signal-safe) and allocates
/// nothing (an `io::Error` from a raw OS error holds no heap data): usable before `exec`.
#[cfg(target_os = "linux")]
fn die_with(parent: rustix::process::Pid, signal: rustix::process::Signal) -> std::io::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(signal))?;
    if rustix::process::getppid() != Some(parent) {
        return Err(rustix::io::Errno::SRCH.into());
    }
    Ok(())
}

/// Kills (`SIGKILL`) the process group led by `pid`: a [`guard`]ed child and whatever it
/// started that stayed in its group. Does nothing for a `pid` that leads no group, and
/// elsewhere than on Unix.
pub fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Whether the process `pid` runs: it exists and is not a zombie (dead, waiting to be reaped).
/// On Linux, read from `/proc`; elsewhere on Unix a zombie counts as running; elsewhere always
/// `false`. For tests that check that a child is gone.
///
/// ```
/// assert_eq!(llm_do_process::running(std::process::id()), cfg!(unix));
/// ```
pub fn running(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            // `PID (COMMAND) STATE ...`; the command may hold spaces and parentheses.
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start().chars().next();
                state.is_some() && state != Some('Z') && state != Some('X')
            }
        }
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|pid| rustix::process::test_kill_process(pid).is_ok())
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::{Child, Command};

    /// A guarded `sh` that starts a `sleep` of its own (in its group) and waits for it.
    fn guarded_shell() -> Child {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & wait"]);
        guard(&mut cmd);
        cmd.spawn().expect("sh")
    }

    #[test]
    fn a_guarded_child_leads_its_group_and_kill_group_ends_it() {
        let mut child = guarded_shell();
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        assert_eq!(rustix::process::getpgid(Some(pid)).unwrap(), pid);
        assert_ne!(rustix::process::getpgid(None).unwrap(), pid, "not this process's group");
        assert!(running(child.id()));
        kill_group(child.id());
        assert_eq!(child.wait().unwrap().signal(), Some(rustix::process::Signal::KILL.as_raw()));
    }

    /// Waits up to 10 s for `pid` to be gone.
    fn gone(pid: u32) -> bool {
        for _ in 0..200 {
            if !running(pid) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }

    #[test]
    fn a_group_guarded_child_passes_on_output_status_and_spawn_errors() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 7"]);
        guard_group(&mut cmd);
        let out = cmd.output().unwrap();
        assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
        assert_eq!(out.status.code(), Some(7));

        let mut cmd = Command::new("/nonexistent/llm-do-test-program");
        guard_group(&mut cmd);
        let error = cmd.spawn().expect_err("no such program");
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);

        // The group's leader is the child whose id the caller holds: kill_group ends it all.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & echo $!; wait"]).stdout(std::process::Stdio::piped());
        guard_group(&mut cmd);
        let (mut child, sleep) = started(cmd);
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        assert_eq!(rustix::process::getpgid(Some(pid)).unwrap(), pid);
        kill_group(child.id());
        assert_eq!(child.wait().unwrap().signal(), Some(rustix::process::Signal::KILL.as_raw()));
        assert!(gone(sleep), "the command's own child {sleep} outlived kill_group");
    }

    #[test]
    fn group_guarded_children_start_and_end_while_other_threads_allocate() {
        // Children started at once from several threads while others allocate (the state in
        // which a fork copies locks held by other threads): 8 threads start 25 children each,
        // and each child reports its own command's exit code.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn: Vec<_> = (0..4)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let v: Vec<Vec<u8>> = (1..64).map(|n| vec![0u8; n * 97]).collect();
                        std::hint::black_box(v);
                    }
                })
            })
            .collect();
        let spawners: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    for j in 0..25 {
                        let mut cmd = Command::new("sh");
                        cmd.args(["-c", &format!("exit {}", (i + j) % 5)]);
                        guard_group(&mut cmd);
                        assert_eq!(cmd.status().unwrap().code(), Some((i + j) % 5));
                    }
                })
            })
            .collect();
        for s in spawners {
            s.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in churn {
            c.join().unwrap();
        }
    }

    /// Spawns `cmd` (a shell that prints the pid of a `sleep` it started) and reads that pid.
    fn started(mut cmd: Command) -> (Child, u32) {
        use std::io::BufRead as _;
        let mut child = cmd.spawn().expect("sh");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        (child, line.trim().parse().expect("a pid"))
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_group_guarded_childs_whole_group_dies_with_the_thread_that_started_it() {
        // As below, and the `sleep` that the command started dies too (with `guard` alone it
        // is orphaned and sleeps on).
        let (mut child, sleep) = std::thread::spawn(|| {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "sleep 30 & echo $!; wait"]).stdout(std::process::Stdio::piped());
            guard_group(&mut cmd);
            started(cmd)
        })
        .join()
        .unwrap();
        let status = child.wait().unwrap();
        let dead = gone(sleep);
        if !dead {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(sleep as i32).unwrap(),
                rustix::process::Signal::KILL,
            );
        }
        assert!(dead, "the command's own child {sleep} outlived the thread that started it");
        assert_eq!(status.signal(), Some(rustix::process::Signal::KILL.as_raw()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_guarded_child_dies_with_the_thread_that_started_it() {
        // The thread ends as soon as the child is started: the kernel kills the child then,
        // long before its 30 s are up (without the signal it would exit 0 after them).
        let mut child = std::thread::spawn(guarded_shell).join().unwrap();
        let status = child.wait().unwrap();
        // Its `sleep`, not the child, stays in the group: ended here.
        kill_group(child.id());
        assert_eq!(status.signal(), Some(rustix::process::Signal::KILL.as_raw()));
    }
}
