//! A test helper that escapes its process group the way a daemon does: it starts
//! `sleep SECONDS` in a new process group with stdin, stdout and stderr closed, prints that
//! process's pid, and exits at once, leaving it orphaned. With `--keep-output`, the sleeper
//! keeps this process's stdout and stderr open instead (so the caller's pipes stay open).
//!
//! Used by `tools_shell_reap.rs`: nothing a shell command starts may outlive its call.

use std::process::{Command, Stdio};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut keep_output = false;
    let mut seconds = "300".to_owned();
    for arg in args.by_ref() {
        if arg == "--keep-output" {
            keep_output = true;
        } else {
            seconds = arg;
        }
    }
    let mut sleep = Command::new("sleep");
    sleep.arg(&seconds).stdin(Stdio::null());
    if !keep_output {
        sleep.stdout(Stdio::null()).stderr(Stdio::null());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        sleep.process_group(0);
    }
    match sleep.spawn() {
        Ok(child) => println!("{}", child.id()),
        Err(e) => {
            eprintln!("detach: cannot start sleep: {e}");
            std::process::exit(1);
        }
    }
}
