//! Keeping a stdio server's process tree tied to llm-do's life.
//!
//! - The server runs as the leader of its own process group; when its connection is closed
//!   or dropped, the whole group gets `SIGKILL` (after rmcp's own close: stdin closed, then
//!   the child killed), so that the grandchildren of launchers such as `npx` or `uv run` do
//!   not outlive it either.
//! - On Linux, the server is started with `PR_SET_PDEATHSIG` = `SIGKILL`: when llm-do dies,
//!   even by `SIGKILL` (no destructor runs), the kernel kills the server. The signal fires
//!   when the *thread* that started the server ends; servers are started on the threads of
//!   the tokio runtime that uses them, so a server also ends with that runtime.
//!
//! This is the crate's one `unsafe` block ([`die_with_parent`]): `pre_exec` runs code in
//! the forked child before `exec`, where only async-signal-safe calls are allowed.

/// Makes the started command the leader of a new process group and, on Linux, asks the
/// kernel to kill it when this process (the thread starting it) dies.
pub(crate) fn guard(cmd: &mut tokio::process::Command) {
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    die_with_parent(cmd);
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut tokio::process::Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before `exec`. It calls only `prctl(2)`
    // and `getppid(2)` (both async-signal-safe system calls) and allocates nothing: an
    // `io::Error` from a raw OS error holds no heap data.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            // The parent may have died before the request took effect: then it never fires.
            if rustix::process::getppid() != Some(parent) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

/// Kills the process group led by `pid` (the server and whatever it started that stayed in
/// its group). Called when a connection is dropped, once its leader has been asked to exit.
pub(crate) fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}
