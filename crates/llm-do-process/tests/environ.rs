//! `hide_secrets_from_proc` in a process of one thread: this test is its own `main` (no test
//! harness, whose tests run on threads). It starts itself again with a secret variable in its
//! initial environment; that child hides it, then checks that the value is gone from
//! `/proc/PID/environ` — read by itself, by a child, and by a command behind `guard_group`'s
//! supervisor — and that the program still reads it.

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {}

#[cfg(target_os = "linux")]
mod linux {
    use std::process::Command;

    const CHILD: &str = "LLM_DO_ENVIRON_TEST_CHILD";
    const NAME: &str = "LLM_DO_ENVIRON_TEST_TOKEN";
    const VALUE: &str = "tok-1f0e2d3c4b5a69788796a5b4c3d2e1f0";

    pub(super) fn main() {
        if std::env::var_os(CHILD).is_some() {
            child();
            return;
        }
        let out = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, "1")
            .env(NAME, VALUE)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "the child failed: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hidden 1\n", "{stderr}");

        // With a second thread, nothing is rewritten: a typed refusal.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || rx.recv());
        let err = llm_do_process::hide_secrets_from_proc(|_| true).unwrap_err();
        assert!(matches!(err, llm_do_process::HideError::Threads(n) if n >= 2), "{err}");
        drop(tx);
        let _ = thread.join();
        println!("environ: ok");
    }

    fn child() {
        let hidden = llm_do_process::hide_secrets_from_proc(|name| name == NAME).unwrap();
        // The program still reads the value.
        assert_eq!(std::env::var(NAME).unwrap(), VALUE);
        // Its /proc entry shows the name, zeros, and every other variable as it was.
        let own = std::fs::read("/proc/self/environ").unwrap();
        let own = String::from_utf8_lossy(&own);
        assert!(own.contains(&format!("{NAME}=")), "{own}");
        assert!(!own.contains(VALUE), "{own}");
        assert!(own.contains(&format!("{CHILD}=1")), "{own}");
        // A child reading its parent's entry: no value.
        let pid = std::process::id();
        let read = Command::new("cat").arg(format!("/proc/{pid}/environ")).output().unwrap();
        assert!(read.status.success());
        let read = String::from_utf8_lossy(&read.stdout);
        assert!(read.contains(&format!("{CHILD}=1")) && !read.contains(VALUE), "{read}");
        // A command behind the supervisor (a fork of this process that never execs) reading
        // the supervisor's entry: no value either. The command itself is given no secret.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "cat /proc/$PPID/environ"]).env_remove(NAME);
        llm_do_process::guard_group(&mut cmd);
        let read = cmd.output().unwrap();
        assert!(read.status.success());
        let read = String::from_utf8_lossy(&read.stdout);
        assert!(read.contains(&format!("{CHILD}=1")) && !read.contains(VALUE), "{read}");
        println!("hidden {hidden}");
    }
}
