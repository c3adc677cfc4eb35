//! Attachments over real HTTP (the loopback test server): what the request carries for an
//! image, a PDF as a `file` part, a PDF as extracted text, a file returned by a tool; and the
//! typed errors raised before any request for what cannot be sent.

#[allow(dead_code)]
mod common;

use common::bounded;
use common::config;
use llm_do::attachment::{AttachmentErrorKind, AttachmentLimits, InputCapabilities, PdfSupport};
use llm_do::prelude::*;
use llm_do::testing::Reply;
use llm_do::tools::fs::AttachmentFiles;
use llm_do_openai::OpenAiProvider;
use llm_do_testkit::TestServer;
use serde_json::Value;

/// The example deck every test attaches (written by `cargo xtask pdfs`).
const DECK: &[u8] = include_bytes!("../../../examples/pitchdeck_data/aquaroute.pdf");

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0x54, 0xa2, 0x4f, 0x5d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Answer a question about a pitch deck.
#[worker(prompt = "Question: {question}\nDeck: {deck}", model = "openai:gpt-4o-mini")]
async fn ask_deck(ctx: &Ctx, deck: Attachment, question: String) -> Result<String>;

/// Describe the charts.
#[worker(prompt = "Describe these charts.", model = "openai:gpt-4o-mini")]
async fn describe(ctx: &Ctx, charts: Vec<Attachment>) -> Result<String>;

/// Render the revenue chart.
#[tool]
async fn revenue_chart() -> Result<Attachment> {
    Attachment::from_bytes(PNG.to_vec(), Some("revenue.png")).map_err(Error::other)
}

/// Explain the revenue chart, rendering it first.
#[worker(prompt = "Explain the revenue chart.", tools = [revenue_chart], model = "openai:gpt-4o-mini")]
async fn explain_chart(ctx: &Ctx) -> Result<String>;

fn runtime(server: &TestServer, capabilities: InputCapabilities) -> Runtime {
    Runtime::builder()
        .provider("openai", OpenAiProvider::new(config(server, false).attachments(capabilities)))
        .build()
}

/// The messages of a request body, with each `data:` URL longer than 120 characters cut to
/// its head and its length (the full content is asserted separately).
fn messages(body: &Value) -> Value {
    fn cut(v: &mut Value) {
        match v {
            Value::String(s) if s.starts_with("data:") && s.len() > 120 => {
                *s = format!("{}…({} chars)", &s[..60], s.len());
            }
            Value::Array(items) => items.iter_mut().for_each(cut),
            Value::Object(map) => map.values_mut().for_each(cut),
            _ => {}
        }
    }
    let mut messages = body["messages"].clone();
    cut(&mut messages);
    messages
}

fn deck() -> Attachment {
    Attachment::from_bytes(DECK.to_vec(), Some("aquaroute.pdf")).unwrap()
}

#[tokio::test]
async fn an_image_goes_as_an_image_url_part() {
    let server =
        TestServer::builder().script([Reply::text("A tiny chart.")]).start().await.unwrap();
    let ctx = runtime(&server, InputCapabilities::ALL).ctx();
    let png = Attachment::from_bytes(PNG.to_vec(), Some("q3.png")).unwrap();
    let url = Attachment::url("https://example.com/charts/q4.jpg").unwrap();
    let answer = bounded(describe(&ctx, vec![png, url])).await.unwrap();
    assert_eq!(answer, "A tiny chart.");
    let body = server.last_request().unwrap().body;
    insta::assert_json_snapshot!("image_parts", messages(&body));
}

#[tokio::test]
async fn a_pdf_goes_as_a_file_part() {
    let server = TestServer::builder().script([Reply::text("2M EUR.")]).start().await.unwrap();
    let ctx = runtime(&server, InputCapabilities::ALL).ctx();
    let answer = bounded(ask_deck(&ctx, deck(), "How much do they ask?".into())).await.unwrap();
    assert_eq!(answer, "2M EUR.");
    let body = server.last_request().unwrap().body;
    insta::assert_json_snapshot!("pdf_file_part", messages(&body));
    // The whole file travels, base64 in a data: URL.
    let sent = body["messages"][1]["content"][1]["file"]["file_data"].as_str().unwrap();
    assert_eq!(sent, deck().data_url().unwrap());
}

#[tokio::test]
async fn a_pdf_goes_as_its_text_to_a_model_without_file_parts() {
    let server = TestServer::builder().script([Reply::text("2M EUR.")]).start().await.unwrap();
    let text_pdfs = InputCapabilities { images: true, pdf: PdfSupport::ExtractText };
    let ctx = runtime(&server, text_pdfs).ctx();
    bounded(ask_deck(&ctx, deck(), "How much do they ask?".into())).await.unwrap();
    let body = server.last_request().unwrap().body;
    // One plain text message: no parts left.
    assert!(body["messages"][1]["content"].is_string());
    insta::assert_json_snapshot!("pdf_as_text", messages(&body));
}

#[tokio::test]
async fn a_file_returned_by_a_tool_follows_the_tool_result_as_a_part() {
    let server = TestServer::builder()
        .script([Reply::tool_call("revenue_chart", json!({})), Reply::text("Up and to the right.")])
        .start()
        .await
        .unwrap();
    let ctx = runtime(&server, InputCapabilities::ALL).ctx();
    bounded(explain_chart(&ctx)).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    insta::assert_json_snapshot!("tool_returns_image", messages(&requests[1].body));
}

/// Calls `ask_deck` by name with `deck` as a path under a project root holding `files`;
/// returns the error kind and how many requests the server received.
async fn refused(
    files: &[(&str, &[u8])],
    deck: &str,
    capabilities: InputCapabilities,
    limits: AttachmentLimits,
) -> (AttachmentErrorKind, String, usize) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(dir.path().join("secret.pdf"), DECK).unwrap();
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes).unwrap();
    }
    let server = TestServer::builder().script([Reply::text("unused")]).start().await.unwrap();
    let rt = Runtime::builder()
        .provider("openai", OpenAiProvider::new(config(&server, false).attachments(capabilities)))
        .register(ask_deck::spec())
        .attachment_loader(AttachmentFiles::new(&root).unwrap())
        .attachment_limits(limits)
        .build();
    let args = json!({"deck": deck, "question": "How much do they ask?"});
    let err = bounded(rt.ctx().call_value("ask_deck", args)).await.unwrap_err();
    let Error::Attachment { source, .. } = &err else { panic!("not an attachment error: {err}") };
    (source.kind(), err.to_string(), server.request_count())
}

/// A refused attachment: (what, project files, the path given, the model's capabilities, the
/// limits, the expected kind).
type Case =
    (&'static str, Files, &'static str, InputCapabilities, AttachmentLimits, AttachmentErrorKind);

/// Files of a test project: (name, content).
type Files = &'static [(&'static str, &'static [u8])];

#[tokio::test]
async fn bad_attachments_are_typed_errors_and_send_nothing() {
    let all = InputCapabilities::ALL;
    let limits = AttachmentLimits::default();
    let cases: Vec<Case> = vec![
        ("escape", &[], "../secret.pdf", all, limits, AttachmentErrorKind::PathEscape),
        ("absolute", &[], "/etc/passwd", all, limits, AttachmentErrorKind::PathEscape),
        (
            "too large",
            &[("deck.pdf", DECK)],
            "deck.pdf",
            all,
            AttachmentLimits { max_bytes: 100, ..limits },
            AttachmentErrorKind::TooLarge,
        ),
        (
            "unknown type",
            &[("deck.zip", b"PK\x03\x04\x14\x00\x00\x00zip")],
            "deck.zip",
            all,
            limits,
            AttachmentErrorKind::UnknownMediaType,
        ),
        (
            "unreadable pdf",
            &[("broken.pdf", b"%PDF-1.4\nthis is no PDF")],
            "broken.pdf",
            InputCapabilities::TEXT_ONLY,
            limits,
            AttachmentErrorKind::UnreadablePdf,
        ),
        (
            "image for a text-only model",
            &[("chart.png", PNG)],
            "chart.png",
            InputCapabilities::TEXT_ONLY,
            limits,
            AttachmentErrorKind::Unsupported,
        ),
        (
            "pdfs refused",
            &[("deck.pdf", DECK)],
            "deck.pdf",
            InputCapabilities { images: true, pdf: PdfSupport::Reject },
            limits,
            AttachmentErrorKind::Unsupported,
        ),
        ("missing", &[], "nowhere.pdf", all, limits, AttachmentErrorKind::Io),
        // What a run log keeps of a file, given as a fresh input: no content to send.
        (
            "digest reference",
            &[],
            "attachment:image/png;name=chart.png;size=67;\
             sha256=557a10800f88d3a9fbc2e2e4d3d9e0ef2b0c8a1f0d5e6c7b8a9f0e1d2c3b4a59",
            all,
            limits,
            AttachmentErrorKind::ContentMissing,
        ),
        (
            "digest reference of an unsupported type",
            &[],
            "attachment:application/zip;name=deck.zip;size=9;\
             sha256=557a10800f88d3a9fbc2e2e4d3d9e0ef2b0c8a1f0d5e6c7b8a9f0e1d2c3b4a59",
            all,
            limits,
            AttachmentErrorKind::UnknownMediaType,
        ),
    ];
    for (case, files, deck, capabilities, limits, expected) in cases {
        let (kind, message, requests) = refused(files, deck, capabilities, limits).await;
        assert_eq!(kind, expected, "{case}: {message}");
        assert_eq!(requests, 0, "{case}: a request was sent");
        assert!(message.starts_with("attachment for `ask_deck`: "), "{case}: {message}");
    }
    // The model is named when it cannot take a part.
    let (_, message, _) =
        refused(&[("chart.png", PNG)], "chart.png", InputCapabilities::TEXT_ONLY, limits).await;
    assert!(message.contains("openai:gpt-4o-mini"), "{message}");
}

#[tokio::test]
async fn a_path_under_the_root_is_read_and_sent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("decks")).unwrap();
    std::fs::write(dir.path().join("decks/aquaroute.pdf"), DECK).unwrap();
    let server = TestServer::builder().script([Reply::text("2M EUR.")]).start().await.unwrap();
    let rt = Runtime::builder()
        .provider("openai", OpenAiProvider::new(config(&server, false)))
        .register(ask_deck::spec())
        .attachment_loader(AttachmentFiles::new(dir.path()).unwrap())
        .build();
    let args = json!({"deck": "decks/aquaroute.pdf", "question": "Ask?"});
    let answer: String = bounded(rt.ctx().call("ask_deck", args)).await.unwrap();
    assert_eq!(answer, "2M EUR.");
    let body = server.last_request().unwrap().body;
    assert_eq!(
        body["messages"][1]["content"][0]["text"],
        "Question: Ask?\nDeck: [attached: aquaroute.pdf]"
    );
    assert_eq!(body["messages"][1]["content"][1]["file"]["filename"], "aquaroute.pdf");
}

/// A conversation whose tool returned an image, saved (`/save`) and loaded again, keeps only
/// the image's digest: the next turn sends a placeholder naming it instead of failing.
#[tokio::test]
async fn a_resumed_conversation_sends_a_placeholder_for_a_file_it_no_longer_has() {
    let server = TestServer::builder()
        .script([
            Reply::tool_call("revenue_chart", json!({})),
            Reply::text("Up and to the right."),
            Reply::text("It rose."),
        ])
        .start()
        .await
        .unwrap();
    let ctx = runtime(&server, InputCapabilities::ALL).ctx();
    let mut chat = Conversation::new();
    bounded(explain_chart::chat(&ctx, &mut chat)).await.unwrap();
    // In the same process the image is at hand, and is sent again as a part.
    assert_eq!(chat.turns(), 1);

    let mut resumed = Conversation::from_json(&chat.to_json()).unwrap();
    let answer = bounded(explain_chart::chat(&ctx, &mut resumed)).await.unwrap();
    assert_eq!(answer, "It rose.");
    let body = server.last_request().unwrap().body;
    let files = &body["messages"][4];
    assert_eq!(files["role"], "user");
    let sha = Attachment::from_bytes(PNG.to_vec(), None).unwrap().sha256().unwrap();
    assert_eq!(
        files["content"],
        format!(
            "Files returned by `revenue_chart`:\n\n[attachment revenue.png (image/png, {} bytes, \
             sha256 {}…) from an earlier turn, not available]",
            PNG.len(),
            &sha[..12]
        )
    );
    assert_eq!(resumed.turns(), 2);
}
