//! Load: 1000 worker runs, 200 at a time, against the test server with 10 % injected faults
//! (5xx and connections closed mid-body). Every run ends in an answer or a typed error, the
//! counts add up, and the transient faults are cured by retries. Counts are asserted, never
//! timings.

#[allow(dead_code)]
mod common;

use common::{config, model_error};
use futures::StreamExt;
use llm_do::ModelErrorKind;
use llm_do::prelude::*;
use llm_do_openai::{OpenAiProvider, RetryPolicy};
use llm_do_testkit::{FaultKind, TestServer};
use std::time::Duration;

/// Add two integers.
#[tool]
async fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

/// Answer with the help of the tool.
#[worker(prompt = "Compute: {question}", tools = [add], model = "openai:gpt-4o-mini")]
async fn adder(ctx: &Ctx, question: String) -> Result<String>;

const RUNS: usize = 1000;
const CONCURRENCY: usize = 200;

/// A liveness bound for the whole load run (far above what it needs).
const BOUND: Duration = Duration::from_secs(300);

/// Runs [`RUNS`] workers, [`CONCURRENCY`] at a time; returns the answers and the errors.
async fn load(streaming: bool, retry: RetryPolicy) -> (Vec<String>, Vec<Error>, usize) {
    let server = TestServer::builder()
        .fault_rate(
            0.1,
            2024,
            [FaultKind::Status500, FaultKind::Status503, FaultKind::CloseMidBody],
        )
        .start()
        .await
        .unwrap();
    let provider = OpenAiProvider::new(config(&server, streaming).retry(retry));
    let rt = Runtime::builder().provider("openai", provider).build();
    let runs = futures::stream::iter(0..RUNS)
        .map(|i| {
            let ctx = rt.ctx();
            async move { adder(&ctx, format!("{i} + 1")).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>();
    let results = tokio::time::timeout(BOUND, runs).await.expect("the load run hung");
    let (mut answers, mut errors) = (Vec::new(), Vec::new());
    for result in results {
        match result {
            Ok(answer) => answers.push(answer),
            Err(error) => errors.push(error),
        }
    }
    (answers, errors, server.request_count())
}

fn patient_retries() -> RetryPolicy {
    // Ten attempts: ten faults in a row at a 10 % rate (1e-10) does not happen.
    RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(10),
        max_elapsed: Duration::from_secs(120),
        jitter: 0.5,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_runs_with_injected_faults_all_end_and_retries_cure_them() {
    let (answers, errors, requests) = load(false, patient_retries()).await;
    assert_eq!(answers.len() + errors.len(), RUNS, "every run ends");
    // Each run makes two model requests (tool call, then answer); about one in ten failed and
    // was retried, yet every run got its answer.
    assert!(errors.is_empty(), "transient faults were not cured: {:?}", errors.first());
    assert!(requests > 2 * RUNS, "faults were injected and retried ({requests} requests)");
    // The default behaviour answers with the tool's result: the run saw it.
    assert!(answers.iter().all(|a| a.contains("add")), "{:?}", answers.first());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_streamed_runs_with_injected_faults_all_end_in_an_answer_or_a_typed_error() {
    let (answers, errors, requests) = load(true, patient_retries()).await;
    assert_eq!(answers.len() + errors.len(), RUNS, "every run ends");
    assert!(requests > 2 * RUNS, "faults were injected and retried ({requests} requests)");
    // 5xx come before any piece; a connection closed after pieces were streamed restarts the
    // stream: both are retried, and every run gets its answer.
    assert!(errors.is_empty(), "transient faults were not cured: {:?}", errors.first());
    assert!(answers.iter().all(|a| a.contains("add")), "{:?}", answers.first());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retries_the_faults_surface_as_typed_errors_and_counts_still_add_up() {
    let (answers, errors, requests) = load(false, RetryPolicy::none()).await;
    assert_eq!(answers.len() + errors.len(), RUNS, "every run ends");
    assert!(!errors.is_empty(), "10 % faults and no retries: some runs fail");
    for error in &errors {
        let e = model_error(error);
        assert!(
            matches!(e.kind(), ModelErrorKind::Status(500 | 503) | ModelErrorKind::Transport),
            "{e}"
        );
        assert!(e.is_retryable(), "{e}");
    }
    // One request per turn, no retries: a failed run stops at its failed request.
    assert!(requests <= 2 * RUNS);
}
