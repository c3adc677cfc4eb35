//! The harness runs with tiny sizes and prints valid JSON with the figures the suite reads.
//! Figures are checked for shape and sanity, never against timings.

use llm_do_testkit::TestServer;
use serde_json::Value;
use std::process::Command;

/// Runs `llm-do-bench ARGS` and parses the JSON it prints.
fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_llm-do-bench")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

fn positive(v: &Value) -> bool {
    v.as_f64().is_some_and(|x| x > 0.0 && x.is_finite())
}

#[test]
fn in_process_and_scale_print_their_figures() {
    let v = bench(&["inprocess", "--runs", "5", "--repeats", "1", "--warmup", "1"]);
    assert_eq!(v["bench"], "inprocess");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "2 variants × 2 models");
    assert!(results.iter().all(|r| positive(&r["us_per_run"])), "{v}");
    assert!(positive(&v["call_by_name"]["ns_per_call"]), "{v}");

    let v = bench(&["scale", "--concurrency", "50", "--delay-ms", "20"]);
    assert_eq!((v["completed"].as_u64(), v["failed"].as_u64()), (Some(50), Some(0)), "{v}");
    assert!(positive(&v["peak_rss_kib"]), "{v}");
    assert!(v["wall_s"].as_f64().unwrap() >= 0.04, "two answers of 20 ms each: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_and_concurrency_run_against_the_test_server() {
    let server = TestServer::builder().start().await.unwrap();
    let url = server.base_url();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            bench(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let v = run(args(&format!("loopback --base-url {url} --runs 3 --repeats 1 --warmup 1")))
        .await
        .unwrap();
    for r in v["results"].as_array().unwrap() {
        assert!(positive(&r["llm_do"]["runs_per_s"]) && positive(&r["raw_http"]["runs_per_s"]));
    }
    let base = format!("concurrency --base-url {url} --latency-ms 0 --concurrency 4 --runs 8");
    let v = run(args(&base)).await.unwrap();
    assert_eq!((v["completed"].as_u64(), v["failed"].as_u64()), (Some(8), Some(0)), "{v}");
    let raw = run(args(&format!("{base} --raw"))).await.unwrap();
    assert_eq!((raw["client"].as_str(), raw["completed"].as_u64()), (Some("raw_http"), Some(8)));
    // Every run made its 2 requests (warm-up rounds included), through both clients.
    let chat = server.requests().iter().filter(|r| r.path == "/v1/chat/completions").count();
    assert_eq!(chat, 2 * (3 + 1) * 2 + 2 * 2 * (3 + 1) + 2 * (8 + 4) * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_runs_on_a_local_restate_server() {
    let Some(binary) = llm_do_restate::LocalServer::find_binary() else {
        assert!(std::env::var_os("CI").is_none(), "{} is not set", llm_do_restate::SERVER_ENV);
        eprintln!("note: skipped: no Restate server ({} unset)", llm_do_restate::SERVER_ENV);
        return;
    };
    let server = TestServer::builder().start().await.unwrap();
    let args = format!(
        "durable --base-url {} --runs 3 --warmup 1 --restate-server {}",
        server.base_url(),
        binary.display()
    );
    let v = tokio::task::spawn_blocking(move || bench(&args.split(' ').collect::<Vec<_>>()))
        .await
        .unwrap();
    assert_eq!(
        (v["bench"].as_str(), v["runs"].as_u64(), v["steps_per_run"].as_u64()),
        (Some("durable"), Some(3), Some(3))
    );
    for figure in ["ms_per_run_durable", "ms_per_run_inprocess"] {
        assert!(positive(&v[figure]["median"]) && positive(&v[figure]["p99"]), "{v}");
    }
    assert!(v["ms_overhead_per_step"]["p99"].as_f64().is_some_and(f64::is_finite), "{v}");
    // Each of the 4 runs made its 2 requests twice: durably, then in-process.
    let chat = server.requests().iter().filter(|r| r.path == "/v1/chat/completions").count();
    assert_eq!(chat, 4 * 2 * 2);
}
