//! A run id names one run, as an idempotency key: submitted again with the same worker and
//! input it is the same run; with another worker or another input it is a typed error, never
//! the other run's output (Restate itself keeps the first run of a key and answers a second
//! submission `PreviouslyAccepted`, whatever its input). Against a real Restate server
//! (`LLM_DO_TEST_RESTATE_SERVER`, installed by `.ci/run`); the service runs in this process,
//! its workers are Rust tools (no model). Every wait is bounded.

use llm_do_core::{Runtime, ToolSpecBuilder};
use llm_do_restate::{Client, Difference, DurableError, DurableService, LocalServer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(60);
const SECRET: &str = "sk-live-0123456789abcdef";

/// The Restate server binary, or `None` (with a note) outside CI; under CI a missing server
/// fails the test.
fn server_binary() -> Option<PathBuf> {
    match LocalServer::find_binary() {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some() => {
            panic!("{} is not set and no restate-server is installed", llm_do_restate::SERVER_ENV)
        }
        None => {
            eprintln!("note: skipped: no Restate server ({} unset)", llm_do_restate::SERVER_ENV);
            None
        }
    }
}

/// Two workers: `echo` and `shout`, each answering with its name and its input.
fn runtime() -> Runtime {
    let tool = |name: &'static str| {
        ToolSpecBuilder::new(name)
            .description("Answers with its input.")
            .input_schema(json!({"type": "object"}))
            .handler(move |_, args| async move { Ok(json!({name: args})) })
            .build()
    };
    Runtime::builder().ignore_env().register(tool("echo")).register(tool("shout")).build()
}

/// Serves the service on `listener` until the returned sender is dropped or fires.
fn serve(listener: tokio::net::TcpListener) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(DurableService::new(runtime()).serve(listener, stopped));
    (stop, task)
}

/// Asserts that `err` is `RunIdReused` for `run_id` with `difference`, naming the workers and
/// never showing the input.
fn assert_reused(err: DurableError, run_id: &str, difference: Difference, worker: &str) {
    let text = err.to_string();
    match err {
        DurableError::RunIdReused { run_id: id, difference: d, existing_worker, worker: w } => {
            assert_eq!((id.as_str(), d), (run_id, difference), "{text}");
            assert_eq!((existing_worker.as_str(), w.as_str()), ("echo", worker), "{text}");
        }
        other => panic!("expected RunIdReused, got {other:?}"),
    }
    assert!(text.contains(&format!("`{run_id}`")), "{text}");
    assert!(!text.contains(SECRET) && !text.contains("other text"), "{text}");
}

fn input(text: &str) -> Value {
    json!({"text": text, "token": SECRET})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_id_submitted_again_is_the_same_run_only_with_the_same_worker_and_input() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let restate = LocalServer::start(&binary, dir.path()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, task) = serve(listener);
    let client = restate.client();
    client.register(&format!("http://127.0.0.1:{port}")).await.unwrap();

    client.submit("reuse", "echo", input("some text")).await.unwrap();
    let first = client.output("reuse", WAIT).await.unwrap();
    assert_eq!(first.output, json!({"echo": input("some text")}));
    // The same worker and input (in another key order): the same run, its output again.
    let same = json!({"token": SECRET, "text": "some text"});
    let again = client.run("reuse", "echo", same, WAIT).await.unwrap();
    assert_eq!(again.output, first.output);

    // Another worker, another input, or both: a typed error, not `echo`'s output.
    let err = client.run("reuse", "shout", input("some text"), WAIT).await.unwrap_err();
    assert_reused(err, "reuse", Difference::Worker, "shout");
    let err = client.submit("reuse", "echo", input("other text")).await.unwrap_err();
    assert_reused(err, "reuse", Difference::Input, "echo");
    let err = client.submit("reuse", "shout", input("other text")).await.unwrap_err();
    assert_reused(err, "reuse", Difference::WorkerAndInput, "shout");
    // The run is as it was.
    assert_eq!(client.output("reuse", WAIT).await.unwrap().output, first.output);

    drop(stop);
    task.await.unwrap();
    restate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_id_whose_run_has_not_started_is_compared_once_it_runs() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let restate = LocalServer::start(&binary, dir.path()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, task) = serve(listener);
    let client: Client = restate.client().start_wait(Duration::from_secs(1));
    client.register(&format!("http://{addr}")).await.unwrap();
    // The service stops: runs are accepted, none starts.
    stop.send(()).unwrap();
    task.await.unwrap();

    client.submit("queued", "echo", input("some text")).await.unwrap();
    // Submitted again before it starts: what it was started with is not known yet, so it can
    // be neither accepted as the same run nor refused as another one.
    let err = client.submit("queued", "shout", input("some text")).await.unwrap_err();
    assert!(matches!(&err, DurableError::RunUnverified { run_id } if run_id == "queued"), "{err}");
    assert!(err.to_string().contains("`queued`"), "{err}");

    // The service is back: the run runs, and submissions are compared with it.
    let (stop, task) = serve(tokio::net::TcpListener::bind(addr).await.unwrap());
    let out = client.output("queued", WAIT).await.unwrap();
    assert_eq!(out.output, json!({"echo": input("some text")}));
    let err = client.submit("queued", "shout", input("some text")).await.unwrap_err();
    assert_reused(err, "queued", Difference::Worker, "shout");
    client.submit("queued", "echo", input("some text")).await.unwrap();

    drop(stop);
    task.await.unwrap();
    restate.stop().await;
}
