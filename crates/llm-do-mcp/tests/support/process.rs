//! Waiting for a server process to be gone, for the tests that check none is left behind.

use llm_do_process::running;
use std::time::Duration;

/// Waits (up to 5 s, polling) until `pid` is gone: a kill is asynchronous.
pub async fn wait_gone(pid: u32) -> bool {
    for _ in 0..100 {
        if !running(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
