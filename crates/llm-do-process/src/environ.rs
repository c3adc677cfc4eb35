//! [`hide_secrets_from_proc`]: the values of this process's secret variables out of
//! `/proc/PID/environ`, where the processes it starts could read them.
//!
//! llm-do never passes a secret-looking variable to the commands it starts (the shell tool's
//! filter, an MCP server's `pass_env`). But on Linux a process of the same user may read
//! another's *initial* environment from `/proc/PID/environ`: a command allowed to run `cat`
//! could read llm-do's own (`/proc/$PPID/…`) and its API keys with it. That file shows the
//! block of memory the environment was given in at `exec`, not the current environment. So
//! the fix is in that block: each secret variable is first set again (the C library copies it
//! to memory of its own, where `getenv` and [`std::env::var`] find it from then on), then its
//! value in the initial block is overwritten with NUL bytes. `/proc/PID/environ` then shows
//! `NAME=` and zeros; the program itself still reads the value. Processes forked later (the
//! supervisor of [`guard_group`](crate::guard_group), which never `exec`s) inherit the
//! overwritten block.
//!
//! It must run while the process has one thread (setting a variable while another thread reads
//! the environment is undefined behaviour): at the start of `main`. With more threads it does
//! nothing and says so ([`HideError::Threads`]).
//!
//! Not covered: the memory of the process itself (`/proc/PID/mem`), which the kernel lets
//! only a process allowed to trace it read (see `ptrace(2)`, "ptrace access mode checking";
//! with Yama's default `ptrace_scope = 1` a child may not trace its parent).

use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};

/// Why [`hide_secrets_from_proc`] did not hide anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HideError {
    /// The process has more than one thread (it must run at the start of `main`).
    #[error("the process has {0} threads: the environment can be rewritten only while it has one")]
    Threads(u32),
    /// `/proc/self` could not be read or written, or did not say what was expected.
    #[error("cannot rewrite the environment block through /proc/self: {0}")]
    Proc(#[from] io::Error),
}

/// The largest initial environment block rewritten (Linux allows 2 MiB of arguments and
/// environment together by default).
const MAX_BLOCK: u64 = 32 << 20;

/// Overwrites, in this process's initial environment block, the values of the variables
/// whose names `is_secret` accepts; returns how many were hidden. The values stay readable to
/// the process itself.
///
/// On Linux a process may read the initial environment of another of its user from
/// `/proc/PID/environ`: a command llm-do runs could read llm-do's, and its API keys with it.
/// Each secret variable is set again first (the C library copies it to memory of its own,
/// where `getenv` and [`std::env::var`] find it from then on), then its value in the initial
/// block is overwritten with NUL bytes; processes forked later (the supervisor of
/// [`guard_group`](crate::guard_group)) inherit the overwritten block. It acts only while the
/// process has one thread, at the start of `main` ([`HideError::Threads`] otherwise). Not
/// covered: the memory of the process itself (`/proc/PID/mem`), which only a process allowed
/// to trace it may read (`ptrace(2)`).
///
/// ```
/// // A test process runs tests on several threads: nothing is rewritten there.
/// let hidden = llm_do_process::hide_secrets_from_proc(|name| name.ends_with("_TOKEN"));
/// assert!(matches!(hidden, Ok(_) | Err(llm_do_process::HideError::Threads(_))));
/// ```
pub fn hide_secrets_from_proc(is_secret: impl Fn(&str) -> bool) -> Result<usize, HideError> {
    let threads = threads()?;
    if threads != 1 {
        return Err(HideError::Threads(threads));
    }
    let (start, end) = env_block()?;
    let mut block = Vec::new();
    std::fs::File::open("/proc/self/environ")?.take(MAX_BLOCK).read_to_end(&mut block)?;
    let mut mem = std::fs::OpenOptions::new().write(true).open("/proc/self/mem")?;
    let mut hidden = 0;
    let mut offset = 0u64;
    for entry in block.split(|b| *b == 0) {
        let at = offset;
        offset += entry.len() as u64 + 1;
        let Some(eq) = entry.iter().position(|b| *b == b'=') else { continue };
        let (Ok(name), value) = (std::str::from_utf8(&entry[..eq]), &entry[eq + 1..]) else {
            continue;
        };
        if value.is_empty() || !is_secret(name) || at + entry.len() as u64 > end - start {
            continue;
        }
        // The variable as the program reads it, if it is still the one of the block.
        let Some(current) = std::env::var_os(name) else { continue };
        if std::os::unix::ffi::OsStrExt::as_bytes(current.as_os_str()) != value {
            continue;
        }
        // Set again first, so that the C library's `environ` points to a copy of its own
        // before the block is zeroed.
        set_again(name, &current);
        mem.seek(SeekFrom::Start(start + at + eq as u64 + 1))?;
        mem.write_all(&vec![0u8; value.len()])?;
        hidden += 1;
    }
    Ok(hidden)
}

/// Sets the variable `name` to `value` again: the C library copies it into memory of its own.
#[allow(unsafe_code)]
fn set_again(name: &str, value: &std::ffi::OsStr) {
    // SAFETY: the only thread of the process runs this (checked by the caller just before):
    // no other thread reads or writes the environment meanwhile.
    unsafe { std::env::set_var(name, value) };
}

/// The number of threads of this process (`/proc/self/status`).
fn threads() -> io::Result<u32> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| io::Error::other("no thread count in /proc/self/status"))
}

/// The addresses of the initial environment block (`env_start`, `env_end`: fields 50 and 51
/// of `/proc/self/stat`, see `proc(5)`).
fn env_block() -> io::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields counted after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (field(50), field(51)) {
        (Some(start), Some(end)) if start > 0 && end > start && end - start <= MAX_BLOCK => {
            Ok((start, end))
        }
        _ => Err(io::Error::other("no environment block in /proc/self/stat")),
    }
}
