//! The standalone binary: `llm-do-testkit serve --port 0` prints where it listens, serves,
//! and stops on Ctrl-C.

use crate::support::{ask, client, within};
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

fn serve(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_llm-do-testkit"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

/// The base URL from the first line the server prints.
async fn base_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await.expect("a line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"), "{url}");
    assert!(!url.contains(":0/"), "the actual port is printed: {url}");
    url.to_owned()
}

#[tokio::test]
async fn serves_a_script_and_stops_on_ctrl_c() {
    within(async {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/script.json");
        let mut child = serve(&["--port", "0", "--latency-ms", "1", "--script", script]);
        let url = base_url(&mut child).await;

        let answer: Value = client()
            .post(format!("{url}/chat/completions"))
            .json(&ask("2 + 3?"))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "add");
        let second = client()
            .post(format!("{url}/chat/completions"))
            .json(&ask("?"))
            .send()
            .await
            .expect("sent");
        assert_eq!(second.status(), 503);

        #[cfg(unix)]
        {
            // Ctrl-C is SIGINT, sent with the `kill` command (procps); without it, just kill.
            let pid = child.id().expect("running").to_string();
            match Command::new("kill").args(["-INT", &pid]).status().await {
                Ok(sent) => {
                    assert!(sent.success());
                    let status = child.wait().await.expect("exits");
                    assert!(status.success(), "Ctrl-C stops it cleanly: {status}");
                }
                Err(e) => {
                    eprintln!("no `kill` command ({e}); Ctrl-C not checked");
                    child.kill().await.expect("killed");
                }
            }
        }
        #[cfg(not(unix))]
        child.kill().await.expect("killed");
    })
    .await;
}

#[tokio::test]
async fn injects_faults_at_a_rate() {
    within(async {
        let mut child =
            serve(&["--port", "0", "--fault-rate", "1", "--fault-seed", "3", "--faults", "503"]);
        let url = base_url(&mut child).await;
        let response = client()
            .post(format!("{url}/chat/completions"))
            .json(&ask("x"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 503);
        child.kill().await.expect("killed");
    })
    .await;
}

#[tokio::test]
async fn a_bad_script_is_reported() {
    within(async {
        let dir = std::env::temp_dir().join(format!("llm-do-testkit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bad.json");
        std::fs::write(&path, r#"[{"txt": "typo"}]"#).expect("written");
        let mut child = serve(&["--port", "0", "--script", path.to_str().expect("UTF-8 path")]);
        let status = child.wait().await.expect("exits");
        assert!(!status.success());
        let mut stderr = String::new();
        child.stderr.take().expect("piped").read_to_string(&mut stderr).await.expect("stderr");
        assert!(
            stderr.contains("invalid script") && stderr.contains("unknown field `txt`"),
            "{stderr}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn a_fault_rate_without_faults_or_outside_0_to_1_is_a_usage_error() {
    within(async {
        for (args, message) in [
            (&["--fault-rate", "0.5"][..], "--faults"),
            (&["--fault-rate", "30", "--faults", "500"][..], "not 30"),
            (&["--fault-rate", "NaN", "--faults", "500"][..], "not NaN"),
            (&["--fault-rate", "-0.1", "--faults", "500"][..], "not -0.1"),
        ] {
            let mut child = serve(&[&["--port", "0"][..], args].concat());
            let status = child.wait().await.expect("exits");
            let mut stderr = String::new();
            child.stderr.take().expect("piped").read_to_string(&mut stderr).await.expect("stderr");
            assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(message), "{args:?}: {stderr}");
        }
    })
    .await;
}
