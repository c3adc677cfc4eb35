//! [`LocalServer`]'s `restate-server` does not outlive the process that started it, even when
//! that process is killed with SIGKILL (no destructor runs): the kernel's parent-death signal
//! (`llm_do_process::guard`). Needs the real server (`LLM_DO_TEST_RESTATE_SERVER`, installed by
//! `.ci/run`); every wait is bounded.

use llm_do_restate::LocalServer;
use std::time::{Duration, Instant};

const HOLDER_ENV: &str = "LLM_DO_RESTATE_TEST_HOLDER";

/// Not a test of its own: the process that `a_local_server_dies_with_its_starter_even_on_sigkill`
/// starts and kills (`HOLDER_ENV` = `BINARY DIR`). It starts a server, writes the server's pid
/// to DIR/pid, and waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_of_a_local_server() {
    let Ok(spec) = std::env::var(HOLDER_ENV) else { return };
    let (binary, dir) = spec.split_once(' ').unwrap();
    let dir = std::path::Path::new(dir);
    let server = LocalServer::start(std::path::Path::new(binary), dir).await.unwrap();
    std::fs::write(dir.join("pid"), server.pid().unwrap().to_string()).unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[cfg(target_os = "linux")]
#[test]
fn a_local_server_dies_with_its_starter_even_on_sigkill() {
    let Some(binary) = LocalServer::find_binary() else {
        assert!(std::env::var_os("CI").is_none(), "{} is not set", llm_do_restate::SERVER_ENV);
        eprintln!("note: skipped: no Restate server ({} unset)", llm_do_restate::SERVER_ENV);
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut holder = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["holder_of_a_local_server", "--exact", "--nocapture", "--test-threads=1"])
        .env(HOLDER_ENV, format!("{} {}", binary.display(), dir.path().display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let server: u32 = loop {
        if let Some(pid) =
            std::fs::read_to_string(dir.path().join("pid")).ok().and_then(|s| s.parse().ok())
        {
            break pid;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "the holder started no server");
        assert!(holder.try_wait().unwrap().is_none(), "the holder failed");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(llm_do_process::running(server));
    holder.kill().unwrap(); // SIGKILL: LocalServer's drop never runs
    holder.wait().unwrap();
    let killed = Instant::now();
    while llm_do_process::running(server) {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "restate-server {server} outlived the SIGKILLed process that started it"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
