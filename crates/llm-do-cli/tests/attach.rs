//! `llm-do run … --attach PATH` against the loopback test server: the file reaches the
//! worker's `format: attachment` input as a part of the request, the run log keeps its digest
//! (never its bytes), and refused files are usage errors with no request sent; a worker whose
//! only input is the file runs with --attach alone, and a chat line naming a file sends it.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

const CONFIG: &str = "model = \"openai:test-model\"\n";
const ASK: &str = "---
description: Answers a question about a pitch deck.
input:
  type: object
  properties:
    question: {type: string}
    deck: {type: string, format: attachment}
  required: [question, deck]
---
Answer about the attached deck: {question}
";

fn deck() -> Vec<u8> {
    std::fs::read(repo_root().join("examples/pitchdeck_data/aquaroute.pdf")).expect("the deck")
}

fn files() -> tempfile::TempDir {
    let dir = project(&[("llm-do.toml", CONFIG), ("ask.worker", ASK)]);
    std::fs::create_dir(dir.path().join("decks")).unwrap();
    std::fs::write(dir.path().join("decks/aquaroute.pdf"), deck()).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_pdf_is_sent_as_a_file_part_and_logged_by_digest() {
    let server = TestServer::builder().script([Reply::text("2M EUR.")]).start().await.unwrap();
    let dir = files();
    let log = dir.path().join("run.jsonl");
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--attach", "decks/aquaroute.pdf", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("How much do they ask?"),
    );
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "2M EUR.\n");
    let body = server.last_request().unwrap().body;
    let content = &body["messages"][1]["content"];
    assert_eq!(
        content[0],
        json!({"type": "text", "text": "Answer about the attached deck: How much do they ask?"})
    );
    assert_eq!(content[1]["type"], "file");
    assert_eq!(content[1]["file"]["filename"], "aquaroute.pdf");
    let data = content[1]["file"]["file_data"].as_str().unwrap();
    assert!(data.starts_with("data:application/pdf;base64,JVBERi0"), "{data:.40}");

    // The log keeps the digest (media type, name, size, hash), not the base64.
    let text = std::fs::read_to_string(&log).unwrap();
    let base64 = data.trim_start_matches("data:application/pdf;base64,");
    assert!(!text.contains(&base64[..64]), "the file's bytes reached the log");
    let size = deck().len();
    assert!(
        text.contains(&format!(
            "attachment:application/pdf;name=aquaroute.pdf;size={size};sha256="
        )),
        "{text}"
    );
    assert!(
        text.contains(
            r#""type":"attachment","media_type":"application/pdf","name":"aquaroute.pdf""#
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_attachments_are_usage_errors_and_send_nothing() {
    let dir = files();
    std::fs::write(dir.path().join("data.bin"), b"\x00\x01\x02\xff\xfe binary").unwrap();
    let big = std::fs::File::create(dir.path().join("big.pdf")).unwrap();
    big.set_len(21 * 1024 * 1024).unwrap();
    std::fs::write(dir.path().join("../outside.pdf"), deck()).ok();
    let cases = [
        ("../outside.pdf", "attachment path refused"),
        ("/etc/hostname", "attachment path refused"),
        // Shown whole: a path ending in `passwd` is not a key/value secret.
        ("/etc/passwd", "--attach /etc/passwd: attachment path refused"),
        ("big.pdf", "attachment too large"),
        ("data.bin", "unsupported attachment type"),
        ("nowhere.pdf", "attachment cannot be read"),
    ];
    for (path, message) in cases {
        let server = TestServer::builder().script([Reply::text("unused")]).start().await.unwrap();
        let out = output(
            command(BIN, Some(&server.base_url()))
                .args(["run", "--attach", path])
                .arg(dir.path())
                .arg("How much?"),
        );
        assert_eq!(code(&out), 2, "{path}");
        assert!(stderr(&out).contains(message), "{path}: {}", stderr(&out));
        assert_eq!(server.request_count(), 0, "{path}: a request was sent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_an_attachment_input_refuses_attach() {
    let server = TestServer::builder().script([Reply::text("unused")]).start().await.unwrap();
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", "---\n---\nAnswer {input}.\n")]);
    std::fs::write(dir.path().join("deck.pdf"), deck()).unwrap();
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--attach", "deck.pdf"])
            .arg(dir.path())
            .arg("x"),
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("takes no attachments"), "{}", stderr(&out));
    assert_eq!(server.request_count(), 0);
}

/// `[providers.openai] pdf = "extract_text"` (and `images = false`) in llm-do.toml: a server
/// whose model reads text gets the PDF's text, and an image is refused before any request
/// (before, only Rust code could say so: worker files always sent a `file` part).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_toml_says_which_attachments_the_server_s_model_takes() {
    let server = TestServer::builder().script([Reply::text("2M EUR.")]).start().await.unwrap();
    let dir = files();
    let text_only = format!("{CONFIG}[providers.openai]\nimages = false\npdf = \"extract_text\"\n");
    std::fs::write(dir.path().join("llm-do.toml"), text_only).unwrap();
    let run = |file: &str| {
        output(
            command(BIN, Some(&server.base_url()))
                .args(["run", "--attach", file])
                .arg(dir.path())
                .arg("How much do they ask?"),
        )
    };
    let out = run("decks/aquaroute.pdf");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let body = server.last_request().unwrap().body;
    let content = body["messages"][1]["content"].to_string();
    assert!(!content.contains("\"type\":\"file\""), "{content:.300}");
    assert!(content.contains("aquaroute.pdf"), "{content:.300}");
    std::fs::write(dir.path().join("decks/chart.png"), b"\x89PNG\r\n\x1a\n0000").unwrap();
    let out = run("decks/chart.png");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("`chart.png` is image/png"), "{}", stderr(&out));
    assert_eq!(server.request_count(), 1, "the image was refused before any request");
}

/// A project with the repository's `evaluate_deck.worker` (whose only input is the deck) and
/// its deck.
fn evaluate_deck_project() -> tempfile::TempDir {
    let worker = std::fs::read_to_string(
        repo_root().join("examples/pitchdeck_eval/project/evaluate_deck.worker"),
    )
    .expect("the example worker");
    let dir = project(&[("llm-do.toml", CONFIG), ("evaluate_deck.worker", &worker)]);
    std::fs::create_dir(dir.path().join("decks")).unwrap();
    std::fs::write(dir.path().join("decks/aquaroute.pdf"), deck()).unwrap();
    dir
}

const VERDICT: &str = r#"{"company": "AquaRoute", "score": 7, "strength": "2M EUR ARR", "risk": "unproven", "recommendation": "Consider"}"#;

/// The first user message the server received: its text part and its file name.
fn sent_deck(server: &TestServer) -> (Value, Value) {
    let body = server.last_request().unwrap().body;
    let content = &body["messages"][1]["content"];
    (content[0]["text"].clone(), content[1]["file"]["filename"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_alone_fills_a_worker_whose_only_input_is_the_file() {
    let server = TestServer::builder().script([Reply::text(VERDICT)]).start().await.unwrap();
    let dir = evaluate_deck_project();
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--worker", "evaluate_deck", "--attach", "decks/aquaroute.pdf"])
            .arg(dir.path()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("\"company\": \"AquaRoute\""), "{}", stdout(&out));
    let (text, file) = sent_deck(&server);
    assert_eq!(text, "Evaluate this pitch deck: [attached: aquaroute.pdf]");
    assert_eq!(file, "aquaroute.pdf");

    // An input text has nowhere to go: a usage error that says so, nothing sent.
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--worker", "evaluate_deck", "--attach", "decks/aquaroute.pdf"])
            .arg(dir.path())
            .arg("x"),
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(
            "`evaluate_deck` takes no input besides its attachment `deck`, which --attach fills"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.request_count(), 1);

    // Without --attach, the deck is still needed.
    let out = output(
        command(BIN, Some(&server.base_url()))
            .args(["run", "--worker", "evaluate_deck"])
            .arg(dir.path()),
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("`evaluate_deck` needs an input"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_line_naming_a_file_sends_the_file() {
    let server = TestServer::builder().script([Reply::text(VERDICT)]).start().await.unwrap();
    let dir = evaluate_deck_project();
    let log = dir.path().join("chat.jsonl");
    let out = output_with_stdin(
        command(BIN, Some(&server.base_url()))
            .args(["chat", "--worker", "evaluate_deck", "--log"])
            .arg(&log)
            .arg(dir.path()),
        "decks/aquaroute.pdf\n",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (text, file) = sent_deck(&server);
    assert_eq!(text, "Evaluate this pitch deck: [attached: aquaroute.pdf]");
    assert_eq!(file, "aquaroute.pdf");
    // The log keeps the prompt and the file's digest, as for a run.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("Evaluate this pitch deck: [attached: aquaroute.pdf]"), "{logged}");
    assert!(logged.contains(r#""media_type":"application/pdf","name":"aquaroute.pdf""#));
}
