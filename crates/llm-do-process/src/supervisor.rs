//! The supervisor of [`guard_group`](crate::guard_group) (Linux): a process between llm-do
//! and the command, so that the command's whole process group dies with llm-do.
//!
//! The parent-death signal reaches one process, the child llm-do started. For a command that
//! starts processes of its own (`sh -c '… &'`, `npm test`), those were orphaned when llm-do
//! was killed outright. So the forked child splits in two before `exec`:
//!
//! - the **supervisor** (the child llm-do knows: it leads the process group) gets the
//!   parent-death signal `SIGTERM`, never `exec`s, closes every file descriptor it inherited
//!   and waits. When llm-do dies it kills its own process group (`SIGKILL`: the command and
//!   whatever it started that stayed in the group, itself included). When the command ends,
//!   it ends the same way: the same exit code, or the same signal;
//! - the **command** (its child, in the same group) gets the parent-death signal `SIGKILL`
//!   (if the supervisor is killed, the command dies with it) and `exec`s the program.
//!
//! Everything here runs in a child forked from a multi-threaded process, before `exec`: only
//! async-signal-safe system calls, no allocation, no lock. The second fork is the raw `clone`
//! system call rather than glibc's `fork`, whose at-fork handlers take locks that another
//! thread of llm-do may have held when the first fork copied them.

use std::io;

/// Splits the forked child into the supervisor, which never returns, and the command, which
/// returns `Ok` to go on to `exec`. `parent` is llm-do's pid.
///
/// # Safety
///
/// Only to be called in a `pre_exec` closure (in the forked child, before `exec`).
#[allow(unsafe_code)]
pub(crate) unsafe fn split(parent: rustix::process::Pid) -> io::Result<()> {
    // SAFETY: every call below is a plain system call on memory of this stack frame.
    unsafe {
        let mut waited: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut waited);
        libc::sigaddset(&mut waited, libc::SIGCHLD);
        libc::sigaddset(&mut waited, libc::SIGTERM);
        let mut before: libc::sigset_t = std::mem::zeroed();
        // Blocked before anything can send them: they wait for `sigwaitinfo`.
        check(libc::sigprocmask(libc::SIG_BLOCK, &waited, &mut before))?;
        crate::die_with(parent, rustix::process::Signal::TERM)?;
        // The default action for SIGCHLD: one inherited as ignored (or with `SA_NOCLDWAIT`)
        // would reap the command before `waitpid` could learn how it ended.
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        check(libc::sigaction(libc::SIGCHLD, &default, std::ptr::null_mut()))?;
        let supervisor = rustix::process::getpid();
        let flags = libc::SIGCHLD as libc::c_ulong;
        let command = libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize);
        if command < 0 {
            return Err(io::Error::last_os_error());
        }
        if command == 0 {
            crate::die_with(supervisor, rustix::process::Signal::KILL)?;
            check(libc::sigprocmask(libc::SIG_SETMASK, &before, std::ptr::null_mut()))?;
            return Ok(());
        }
        // The supervisor. Its copies of the command's pipes and of the pipe on which the
        // standard library learns whether `exec` worked must not keep them open.
        close_every_fd();
        let command = command as libc::pid_t;
        loop {
            let signal = libc::sigwaitinfo(&waited, std::ptr::null_mut());
            if signal == libc::SIGTERM {
                // llm-do died (or someone asks the tree to end): the whole group ends now.
                libc::kill(0, libc::SIGKILL);
                libc::_exit(128 + libc::SIGKILL);
            }
            if signal == libc::SIGCHLD {
                let mut status = 0;
                match libc::waitpid(command, &mut status, libc::WNOHANG) {
                    reaped if reaped == command => end_like(status),
                    // Cannot happen (the command is this process's only child): never wait
                    // for a child that is not there.
                    -1 if io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) => {
                        libc::_exit(1)
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Ends the supervisor as the command ended: with its exit code, or by its signal.
#[allow(unsafe_code)]
fn end_like(status: libc::c_int) -> ! {
    // SAFETY: plain system calls on memory of this stack frame.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            // Die of the same signal, with its default action and without a core file.
            let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, std::ptr::null_mut());
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            libc::kill(libc::getpid(), signal);
            libc::_exit(128 + signal);
        }
        libc::_exit(if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 1 })
    }
}

/// Closes every file descriptor (`close_range`, else one by one up to the limit).
#[allow(unsafe_code)]
fn close_every_fd() {
    // SAFETY: plain system calls; nothing in this process uses a descriptor afterwards.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) == 0 {
            return;
        }
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        let top = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1 << 16) as libc::c_int
        } else {
            1024
        };
        for fd in 0..top {
            libc::close(fd);
        }
    }
}

/// A system call's `-1` as the error it reports.
fn check(result: libc::c_int) -> io::Result<()> {
    if result == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
}
