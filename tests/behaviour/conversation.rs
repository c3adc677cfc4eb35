//! Conversations over the loopback OpenAI-compatible test server: what each request of a chat
//! carries (history, trimming by each history processor, summaries), saving and resuming, and
//! the bad inputs (over-long input, corrupt file, provider fault mid-turn) that leave the
//! history unchanged.

#[path = "../../crates/llm-do-openai/tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use llm_do::conversation::{Conversation, ConversationError};
use llm_do::history::{HistoryProcessorExt as _, KeepLastTurns, Summarise, TokenBudget};
use llm_do::testing::Reply;
use llm_do::{
    Ctx, Error, Message, ModelError, ModelErrorKind, Runtime, ToolSpecBuilder, WorkerSpecBuilder,
};
use llm_do_testkit::{RecordedRequest, TestServer};
use llm_do_tests::bounded;
use serde_json::{Value, json};

/// A runtime whose workers talk to `server` (streaming): `geo` (one parameter, a system
/// prompt, the tool `lookup`), the tool `lookup`, and the summariser `summarise`.
fn runtime(server: &TestServer) -> Ctx {
    let geo = WorkerSpecBuilder::new("geo")
        .system("Answer in a few words.")
        .prompt("{question}")
        .input_schema(json!({"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}))
        .tool_name("lookup")
        .model("openai:m")
        .build()
        .expect("geo");
    let summarise = WorkerSpecBuilder::new("summarise")
        .system("Summarise conversations.")
        .prompt("Summarise this conversation:\n{transcript}")
        .input_schema(json!({"type": "object", "properties": {"transcript": {"type": "string"}}, "required": ["transcript"]}))
        .model("openai:m")
        .build()
        .expect("summarise");
    let lookup = ToolSpecBuilder::new("lookup")
        .description("Looks a city up.")
        .input_schema(json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}))
        .handler(|_, args| async move {
            Ok(json!(format!("{} is a city of about two million people.", args["city"].as_str().unwrap_or("?"))))
        })
        .build();
    Runtime::builder()
        .ignore_env()
        .provider("openai", common::provider(server, true))
        .register(geo)
        .register(summarise)
        .register(lookup)
        .build()
        .ctx()
}

/// The messages of every chat request the server received.
fn sent(server: &TestServer) -> Vec<Value> {
    server
        .requests()
        .iter()
        .filter(|r: &&RecordedRequest| r.path.ends_with("/chat/completions"))
        .map(|r| r.body["messages"].clone())
        .collect()
}

/// Every `role: tool` message of a request follows the assistant message that made its call.
fn pairs_intact(messages: &Value) -> bool {
    let mut calls: Vec<String> = Vec::new();
    for m in messages.as_array().into_iter().flatten() {
        if let Some(tc) = m["tool_calls"].as_array() {
            calls.extend(tc.iter().filter_map(|c| c["id"].as_str().map(str::to_owned)));
        }
        if m["role"] == "tool" && !calls.iter().any(|c| m["tool_call_id"] == c.as_str()) {
            return false;
        }
    }
    true
}

async fn ask(ctx: &Ctx, chat: &mut Conversation, question: &str) -> String {
    ctx.chat("geo", chat, question).await.expect("the turn succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_request_carries_the_first_turn() {
    bounded(async {
        let server = TestServer::builder()
            .script([Reply::text("Paris."), Reply::text("About 2.1 million.")])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new();
        assert_eq!(ask(&ctx, &mut chat, "What is the capital of France?").await, "Paris.");
        assert_eq!(ask(&ctx, &mut chat, "How many people live there?").await, "About 2.1 million.");
        let requests = sent(&server);
        assert_eq!(requests.len(), 2);
        insta::assert_json_snapshot!(requests);
        // The saved form names the turn, worker, call and kind of every message.
        insta::assert_snapshot!(chat.to_json());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_and_results_stay_in_the_history() {
    bounded(async {
        let server = TestServer::builder()
            .script([
                Reply::tool_call("lookup", json!({"city": "Paris"})),
                Reply::text("About two million."),
                Reply::text("Yes, in 1900 and 1924."),
            ])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new();
        ask(&ctx, &mut chat, "How big is Paris?").await;
        ask(&ctx, &mut chat, "Did it host the Olympics?").await;
        let requests = sent(&server);
        let third = requests[2].as_array().expect("messages");
        let roles: Vec<&str> = third.iter().filter_map(|m| m["role"].as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "tool", "assistant", "user"]);
        assert_eq!(third[2]["tool_calls"][0]["id"], third[3]["tool_call_id"]);
        let saved: Value = serde_json::from_str(&chat.to_json()).expect("json");
        let kinds: Vec<Option<&str>> = saved["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["kind"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                Some("stochastic"),
                Some("stochastic"),
                Some("deterministic"),
                Some("stochastic"),
                Some("stochastic"),
                Some("stochastic")
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_last_turns_sends_only_the_last_turns() {
    bounded(async {
        let server = TestServer::builder()
            .script([Reply::text("one"), Reply::text("two"), Reply::text("three")])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new().with_processor(KeepLastTurns(2));
        for q in ["first?", "second?", "third?"] {
            ask(&ctx, &mut chat, q).await;
        }
        // The third request: the second turn and the third prompt, not the first turn.
        insta::assert_json_snapshot!(sent(&server)[2]);
        assert_eq!(chat.turns(), 3);
        assert_eq!(chat.len(), 4, "what was sent is what is kept");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_budget_drops_whole_turns_and_keeps_tool_pairs() {
    bounded(async {
        let big = "x".repeat(400); // 100 estimated tokens
        let server = TestServer::builder()
            .script([
                Reply::tool_call("lookup", json!({"city": big})),
                Reply::text("That city is small."),
                Reply::text("Short answer."),
                Reply::text("Another short answer."),
            ])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new().with_processor(TokenBudget::new(60));
        ask(&ctx, &mut chat, "How big is the long city?").await;
        ask(&ctx, &mut chat, "And a short question?").await;
        ask(&ctx, &mut chat, "A third one?").await;
        let requests = sent(&server);
        assert!(requests.iter().all(pairs_intact), "no tool result without its call");
        // Turn 1 (with its long tool call) no longer fits: the third turn's request carries
        // turn 2 and its own prompt.
        insta::assert_json_snapshot!(requests[3]);
        assert!(chat.tokens() <= 60, "{}", chat.tokens());
        // Where the provider reported usage, it is what counts.
        assert!(chat.entries().iter().any(|e| e.reported_tokens.is_some()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_input_is_refused_and_the_session_goes_on() {
    bounded(async {
        let server = TestServer::builder()
            .script([Reply::text("ok"), Reply::text("fine")])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat =
            Conversation::new().with_processor(KeepLastTurns(10).then(TokenBudget::new(50)));
        ask(&ctx, &mut chat, "hello").await;
        let before = chat.to_json();
        let err = ctx.chat::<String>("geo", &mut chat, "y".repeat(1000)).await.unwrap_err();
        assert!(matches!(err, Error::ContextOverflow { tokens: 250, budget: 50 }), "{err}");
        assert_eq!(chat.to_json(), before, "the history is unchanged");
        assert_eq!(server.request_count(), 1, "nothing was sent");
        assert_eq!(ask(&ctx, &mut chat, "short again").await, "fine");
        assert_eq!(chat.turns(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summariser_worker_replaces_older_turns() {
    bounded(async {
        let server = TestServer::builder()
            .script([
                Reply::text("a1"),
                Reply::text("a2"),
                Reply::text("a3"),
                Reply::text("The user asked q1 and q2; the answers were a1 and a2."),
                Reply::text("a4"),
            ])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat =
            Conversation::new().with_processor(Summarise::new("summarise").keep_last(1).trigger(2));
        // Turns 1 to 3 are kept whole; before turn 4, three turns precede it (more than the
        // trigger, 2): turns 1 and 2 become a summary, turn 3 stays.
        for q in ["q1", "q2", "q3", "q4"] {
            ask(&ctx, &mut chat, q).await;
        }
        let requests = sent(&server);
        assert_eq!(requests.len(), 5);
        // Request 4 is the summariser's (turns 1 and 2), request 5 the fourth turn's.
        insta::assert_json_snapshot!(&requests[3..5]);
        assert_eq!(chat.turns(), 4);
        let first = &chat.entries()[0];
        assert_eq!(first.worker, "summarise");
        assert!(
            matches!(&first.message, Message::User { content } if content.contains("a1 and a2"))
        );
        assert_eq!(chat.usage().requests, 5, "the summary's request counts too");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_conversation_resumes_elsewhere_and_bad_files_change_nothing() {
    bounded(async {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("chat.json");
        {
            let server = TestServer::builder()
                .script([
                    Reply::tool_call("lookup", json!({"city": "Lyon"})),
                    Reply::text("Lyon is big."),
                    Reply::text("Yes."),
                ])
                .start()
                .await
                .expect("server");
            let ctx = runtime(&server);
            let mut chat = Conversation::new();
            ask(&ctx, &mut chat, "Tell me about Lyon.").await;
            ask(&ctx, &mut chat, "Is it old?").await;
            chat.save(&file).expect("saved");
        }
        // Another runtime and server: the history comes from the file only.
        let server =
            TestServer::builder().script([Reply::text("Roman.")]).start().await.expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new();
        chat.load(&file).expect("loaded");
        assert_eq!((chat.turns(), chat.len()), (2, 6));
        let saved = std::fs::read_to_string(&file).expect("read");
        assert_eq!(chat.to_json() + "\n", saved, "a round trip changes nothing");

        for (name, text) in [
            ("corrupt.json", "{\"format\": \"llm-do-conversation/1\", \"entries\": [".to_owned()),
            (
                "foreign.json",
                json!({"format": "llm-do-cassette/1", "interactions": []}).to_string(),
            ),
            ("binary.json", "\u{0}\u{1}garbage".to_owned()),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &text).expect("write");
            let err = chat.load(&path).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConversationError::NotJson { .. } | ConversationError::Foreign { .. }
                ),
                "{name}: {err}"
            );
            assert_eq!(chat.to_json() + "\n", saved, "{name}: the history is unchanged");
        }

        assert_eq!(ask(&ctx, &mut chat, "Roman or older?").await, "Roman.");
        let request = &sent(&server)[0];
        let roles: Vec<&str> = request
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["role"].as_str())
            .collect();
        assert_eq!(
            roles,
            ["system", "user", "assistant", "tool", "assistant", "user", "assistant", "user"]
        );
        assert!(pairs_intact(request));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_fault_mid_turn_keeps_no_half_answer() {
    bounded(async {
        let bad = ModelError::new(ModelErrorKind::Status(400), "the server refused the request");
        let server = TestServer::builder()
            .script([
                Reply::text("first answer"),
                Reply::tool_call("lookup", json!({"city": "Nice"})),
                Reply::error(bad),
                Reply::text("second answer"),
            ])
            .start()
            .await
            .expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new();
        ask(&ctx, &mut chat, "one").await;
        let before = chat.to_json();
        // The turn calls the tool, then its second request fails: nothing of it is kept.
        let err = ctx.chat::<String>("geo", &mut chat, "two").await.unwrap_err();
        assert!(matches!(&err, Error::Model { source, .. } if source.kind() == ModelErrorKind::Status(400)), "{err}");
        assert_eq!(chat.to_json(), before);
        assert_eq!(ask(&ctx, &mut chat, "three").await, "second answer");
        let last = sent(&server).pop().expect("requests");
        let texts: Vec<&str> = last.as_array().expect("messages").iter().filter_map(|m| m["content"].as_str()).collect();
        assert_eq!(texts, ["Answer in a few words.", "one", "first answer", "three"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_workers_chat() {
    bounded(async {
        let server = TestServer::start().await.expect("server");
        let ctx = runtime(&server);
        let mut chat = Conversation::new();
        let err = ctx.chat::<Value>("lookup", &mut chat, json!({"city": "x"})).await.unwrap_err();
        assert!(matches!(&err, Error::NotAWorker { name } if name == "lookup"), "{err}");
        let err = ctx.chat::<Value>("nobody", &mut chat, json!({})).await.unwrap_err();
        assert!(matches!(err, Error::UnknownCallable { .. }));
        assert!(chat.is_empty());
    })
    .await;
}

/// Answers questions in a few words.
#[llm_do::worker(prompt = "{question}", model = "openai:m")]
async fn geo_typed(ctx: &Ctx, question: String) -> llm_do::Result<String>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_worker_chats_like_the_one_by_name() {
    bounded(async {
        let server = TestServer::builder()
            .script([Reply::text("Paris."), Reply::text("Lyon.")])
            .start()
            .await
            .expect("server");
        let ctx = Runtime::builder()
            .ignore_env()
            .provider("openai", common::provider(&server, false))
            .build()
            .ctx();
        let mut chat = Conversation::new();
        let a =
            geo_typed::chat(&ctx, &mut chat, "Capital of France?".into()).await.expect("turn 1");
        let b =
            geo_typed::chat(&ctx, &mut chat, "And the second city?".into()).await.expect("turn 2");
        assert_eq!((a.as_str(), b.as_str()), ("Paris.", "Lyon."));
        // The plain typed call is unchanged, and knows nothing of the chat.
        let c = geo_typed(&ctx, "Alone?".into()).await.expect("plain call");
        assert!(!c.is_empty());
        let requests = sent(&server);
        assert_eq!(requests[1].as_array().map(Vec::len), Some(4), "system, q1, a1, q2");
        assert_eq!(requests[2].as_array().map(Vec::len), Some(2), "system, q");
    })
    .await;
}

/// Drops every tool message (calls and results) from the history: it splits tool calls from
/// their results, which processors must not do.
struct DropToolMessages;

impl llm_do::history::HistoryProcessor for DropToolMessages {
    fn process<'a>(
        &'a self,
        _: &'a Ctx,
        history: Vec<llm_do::conversation::Entry>,
    ) -> futures::future::BoxFuture<'a, llm_do::Result<Vec<llm_do::conversation::Entry>>> {
        let kept = history.into_iter().filter(|e| !matches!(e.message, Message::Tool(_))).collect();
        Box::pin(async move { Ok(kept) })
    }
}

#[tokio::test]
async fn a_processor_that_drops_tool_results_is_refused_and_changes_nothing() {
    let model = llm_do::testing::ScriptedModel::queue([
        Reply::tool_call("lookup", json!({"city": "Lyon"})),
        Reply::text("Lyon is big."),
        Reply::text("not reached"),
    ]);
    let lookup = ToolSpecBuilder::new("lookup")
        .description("Looks a city up.")
        .handler(|_, _| async move { Ok(json!("a city")) })
        .build();
    let geo = WorkerSpecBuilder::new("geo")
        .prompt("{question}")
        .tool_name("lookup")
        .build()
        .expect("geo");
    let ctx = Runtime::builder()
        .ignore_env()
        .model_override(model.clone())
        .register(geo)
        .register(lookup)
        .build()
        .ctx();
    let mut chat = Conversation::new();
    let first: String =
        bounded(ctx.chat("geo", &mut chat, json!({"question": "Lyon?"}))).await.expect("turn 1");
    assert_eq!(first, "Lyon is big.");
    let before = chat.to_json();
    chat.set_processor(Some(std::sync::Arc::new(DropToolMessages)));
    let err = bounded(ctx.chat::<String>("geo", &mut chat, json!({"question": "Old?"})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), llm_do::error::ErrorKind::History, "{err}");
    assert!(err.to_string().contains("has no result"), "{err}");
    assert_eq!(chat.to_json(), before, "the conversation is unchanged");
    assert_eq!(model.request_count(), 2, "nothing was sent for the refused turn");
}
