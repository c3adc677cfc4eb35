//! Driving `llm-do` on a real terminal: a tmux server on a private socket, its pane read and
//! keys typed by the test.

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// tmux on a private socket, so that no other tmux server is touched; killed when dropped.
pub struct Tmux {
    socket: String,
    session: &'static str,
}

impl Tmux {
    /// A tmux server named after this process and `session`.
    pub fn new(session: &'static str) -> Self {
        Self { socket: format!("llm-do-test-{}-{session}", std::process::id()), session }
    }

    /// `tmux -L SOCKET`.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Starts the session (160x50) running `sh SCRIPT`.
    pub fn start(&self, script: &std::path::Path) {
        self.start_sized(script, 160, 50);
    }

    /// Starts the session (`columns` x `rows`) running `sh SCRIPT`.
    pub fn start_sized(&self, script: &std::path::Path, columns: u16, rows: u16) {
        let (x, y) = (columns.to_string(), rows.to_string());
        let started = self
            .cmd()
            .args(["new-session", "-d", "-x", &x, "-y", &y, "-s", self.session, "sh"])
            .arg(script)
            .status()
            .expect("tmux new-session");
        assert!(started.success());
    }

    /// The pane's text, with 200 lines of scrollback.
    pub fn pane(&self) -> String {
        let out =
            self.cmd().args(["capture-pane", "-p", "-S", "-200", "-t", self.session]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    }

    /// What the pane shows now, without its scrollback.
    pub fn screen(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", self.session]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    }

    /// Types `keys` (tmux key names: `Enter`, `C-c`, ...).
    pub fn keys(&self, keys: &[&str]) {
        let status = self.cmd().args(["send-keys", "-t", self.session]).args(keys).status();
        assert!(status.is_ok_and(|s| s.success()), "tmux send-keys");
    }

    /// Types `text` literally, then Enter.
    pub fn line(&self, text: &str) {
        let status = self.cmd().args(["send-keys", "-t", self.session, "-l", text]).status();
        assert!(status.is_ok_and(|s| s.success()), "tmux send-keys -l");
        self.keys(&["Enter"]);
    }

    /// Waits (bounded) until `done` holds for the pane's text; returns that text.
    pub fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if done(&pane) {
                return pane;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "timed out waiting for {what}; pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// `true` when tmux is installed (tests that need it are skipped, saying so, otherwise).
pub fn available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}
