//! `Ctx::ask`: a tool's question reaches the run's approver (the run's own before the
//! runtime's), its events name the fields but never the values, a form that is not flat and an
//! answer that does not fit are typed errors, and a cancelled run stops waiting; a page to open
//! (`Ctx::ask_to_open`) is put the same way, checked before anyone is asked.

use futures::future::BoxFuture;
use llm_do_core::approval::{Answer, ApprovalRequest, Approver, Decision, Question};
use llm_do_core::error::ErrorKind;
use llm_do_core::{EventKind, EventLog, RunOptions, Runtime, ToolSpecBuilder};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Answers every question with `answer`, and keeps the questions.
#[derive(Clone)]
struct Person {
    answer: Answer,
    asked: Arc<Mutex<Vec<Question>>>,
}

impl Person {
    fn answering(answer: Answer) -> Self {
        Person { answer, asked: Arc::default() }
    }
}

impl Approver for Person {
    fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async { Decision::ApproveOnce })
    }
    fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        self.asked.lock().unwrap().push(question.clone());
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}

fn form() -> Value {
    json!({"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string", "minLength": 4},
        "keep": {"type": "boolean"},
    }})
}

/// A tool that asks with `form` and returns the answer as JSON; called by `outer`, so the
/// question comes from depth 2.
fn runtime(form: Value, approver: impl Approver) -> (Runtime, EventLog) {
    let ask = ToolSpecBuilder::new("ask")
        .handler(move |ctx, _| {
            let form = form.clone();
            async move {
                serde_json::to_value(ctx.ask("Your token?", form).await?)
                    .map_err(llm_do_core::Error::other)
            }
        })
        .build();
    let outer = ToolSpecBuilder::new("outer")
        .handler(|ctx, _| async move { ctx.call::<Value>("ask", json!({})).await })
        .build();
    let log = EventLog::new();
    let rt = Runtime::builder()
        .register(ask)
        .register(outer)
        .approver(approver)
        .subscribe(log.clone())
        .build();
    (rt, log)
}

#[tokio::test]
async fn the_approver_answers_and_the_events_name_fields_not_values() {
    let person =
        Person::answering(Answer::accept(json!({"token": "ghp_s3cr3t-value", "keep": true})));
    let (rt, log) = runtime(form(), person.clone());
    let answer: Value = rt.ctx().call("outer", json!({})).await.unwrap();
    assert_eq!(
        answer,
        json!({"action": "accept", "content": {"token": "ghp_s3cr3t-value", "keep": true}})
    );

    let asked = person.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].asker, "ask");
    assert_eq!(asked[0].message, "Your token?");
    assert_eq!(asked[0].call_path, ["outer", "ask"]);
    assert_eq!(asked[0].depth, 2);
    // In the form's order, which is serde_json's map order: sorted, or as written with
    // `preserve_order` (feature unification decides).
    let mut fields = asked[0].fields();
    fields.sort_unstable();
    assert_eq!(fields, ["keep", "token"]);

    let events = log.events();
    let asked_event = events.iter().find(|e| matches!(e.kind, EventKind::QuestionAsked { .. }));
    assert_eq!(asked_event.map(|e| &*e.call.name), Some("ask"));
    let answered = events.iter().find_map(|e| match &e.kind {
        EventKind::QuestionAnswered { action, fields } => {
            let mut fields = fields.clone();
            fields.sort_unstable();
            Some((action.clone(), fields))
        }
        _ => None,
    });
    assert_eq!(answered, Some(("accept".to_owned(), vec!["keep".to_owned(), "token".to_owned()])));
    // The value typed into the form is in the tool's result, never in a question event.
    let question_events: Vec<String> = events
        .iter()
        .filter(|e| e.kind.label().starts_with("question"))
        .map(|e| serde_json::to_string(&e.kind).unwrap())
        .collect();
    assert_eq!(question_events.len(), 2);
    assert!(question_events.iter().all(|e| !e.contains("s3cr3t")), "{question_events:?}");
}

#[tokio::test]
async fn by_default_no_one_answers() {
    let (rt, log) = runtime(form(), llm_do_core::approval::ApproveAll);
    let answer: Value = rt.ctx().call("outer", json!({})).await.unwrap();
    assert_eq!(answer, json!({"action": "decline"}));
    assert!(
        log.transcript().contains("question_answered decline fields=[]"),
        "{}",
        log.transcript()
    );
}

#[tokio::test]
async fn the_runs_own_approver_answers_before_the_runtimes() {
    let runtime_person = Person::answering(Answer::Decline);
    let run_person = Person::answering(Answer::Cancel);
    let (rt, _) = runtime(form(), runtime_person.clone());
    let ctx = rt.ctx_with(RunOptions::new().approver(run_person.clone()));
    let answer: Value = ctx.call("outer", json!({})).await.unwrap();
    assert_eq!(answer, json!({"action": "cancel"}));
    assert_eq!(run_person.asked.lock().unwrap().len(), 1);
    assert!(runtime_person.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_answer_that_does_not_fit_is_the_approvers_error_without_its_values() {
    let person = Person::answering(Answer::accept(json!({"token": "ab", "other": 1})));
    let (rt, log) = runtime(form(), person);
    let err = rt.ctx().call::<Value>("outer", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
    let message = err.to_string();
    assert!(message.contains("`other`") && message.contains("`token`"), "{message}");
    assert!(!message.contains("\"ab\""), "{message}");
    assert!(!log.transcript().contains("question_answered"), "{}", log.transcript());
    // A required field left out.
    let person = Person::answering(Answer::accept(json!({"keep": false})));
    let (rt, _) = runtime(form(), person);
    let err = rt.ctx().call::<Value>("outer", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("required fields missing: `token`"), "{err}");
}

#[tokio::test]
async fn a_form_that_is_not_flat_is_refused_before_anyone_is_asked() {
    let person = Person::answering(Answer::Decline);
    let nested = json!({"type": "object", "properties": {"address": {"type": "object"}}});
    let (rt, log) = runtime(nested, person.clone());
    let err = rt.ctx().call::<Value>("outer", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArguments, "{err}");
    assert!(err.to_string().contains("`address`"), "{err}");
    assert!(person.asked.lock().unwrap().is_empty());
    assert!(!log.transcript().contains("question_asked"));
    let invalid =
        json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": "x"}}});
    let (rt, _) = runtime(invalid, person.clone());
    let err = rt.ctx().call::<Value>("outer", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArguments, "{err}");
    assert!(err.to_string().contains("not a valid JSON Schema"), "{err}");
}

/// Never answers.
struct Away;

impl Approver for Away {
    fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(futures::future::pending())
    }
    fn answer<'a>(&'a self, _: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(futures::future::pending())
    }
}

#[tokio::test]
async fn a_cancelled_run_stops_waiting_for_an_answer() {
    let (rt, _) = runtime(form(), Away);
    let ctx = rt.ctx();
    let cancel = ctx.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        cancel.cancel("the user left");
    });
    let err = ctx.call::<Value>("outer", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(err.to_string().contains("the user left"), "{err}");
}

#[tokio::test]
async fn a_channel_approver_hands_questions_to_a_ui() {
    use llm_do_core::approval::ChannelApprover;
    let (approver, _requests, mut questions) = ChannelApprover::with_questions(4);
    let ui = tokio::spawn(async move {
        let mut seen = Vec::new();
        // The first is answered, the second dropped unanswered (dismissed).
        if let Some(pending) = questions.next().await {
            seen.push(pending.question().asker.clone());
            pending.answer(Answer::accept(json!({"token": "abcd"})));
        }
        if let Some(pending) = questions.next().await {
            seen.push(pending.question().message.clone());
            drop(pending);
        }
        seen
    });
    let (rt, _) = runtime(form(), approver);
    let first: Value = rt.ctx().call("outer", json!({})).await.unwrap();
    assert_eq!(first, json!({"action": "accept", "content": {"token": "abcd"}}));
    let second: Value = rt.ctx().call("outer", json!({})).await.unwrap();
    assert_eq!(second, json!({"action": "cancel"}));
    assert_eq!(ui.await.unwrap(), ["ask", "Your token?"]);

    // Made with `new`, it has no one to ask: declined.
    let (approver, _requests) = ChannelApprover::new(4);
    let (rt, _) = runtime(form(), approver);
    let answer: Value = rt.ctx().call("outer", json!({})).await.unwrap();
    assert_eq!(answer, json!({"action": "decline"}));
}

/// A tool that asks to open the page at `url` and returns the answer's action.
fn page_runtime(url: &'static str, approver: impl Approver) -> (Runtime, EventLog) {
    let pay = ToolSpecBuilder::new("pay")
        .handler(move |ctx, _| async move {
            Ok(json!(ctx.ask_to_open("Pay invoice 7", url).await?.action()))
        })
        .build();
    let log = EventLog::new();
    let rt = Runtime::builder().register(pay).approver(approver).subscribe(log.clone()).build();
    (rt, log)
}

#[tokio::test]
async fn a_page_to_open_is_put_to_the_person_with_its_site_and_events() {
    let person = Person::answering(Answer::accept(json!({})));
    let (rt, log) = page_runtime("https://pay.example.com/i/7", person.clone());
    assert_eq!(rt.ctx().call::<String>("pay", json!({})).await.unwrap(), "accept");
    let asked = person.asked.lock().unwrap().clone();
    let page = asked[0].page.clone().expect("a page");
    assert_eq!(
        (page.url.as_str(), page.site.as_str()),
        ("https://pay.example.com/i/7", "pay.example.com")
    );
    assert!(asked[0].fields().is_empty());
    let transcript = log.transcript();
    assert!(
        transcript
            .contains("pay question_asked \"Pay invoice 7\" page=\"https://pay.example.com/i/7\""),
        "{transcript}"
    );
    assert!(transcript.contains("question_answered accept fields=[]"), "{transcript}");
    // An approver that does not answer questions declines: no one is sent anywhere.
    let (rt, _) = page_runtime("https://pay.example.com/i/7", llm_do_core::approval::ApproveAll);
    assert_eq!(rt.ctx().call::<String>("pay", json!({})).await.unwrap(), "decline");
}

#[tokio::test]
async fn a_page_not_fit_to_show_is_refused_before_anyone_is_asked_and_content_is_no_answer() {
    for url in ["https://bank.example@evil.example/", "javascript:alert(1)", "http://pay.example/"]
    {
        let person = Person::answering(Answer::accept(json!({})));
        let (rt, _) = page_runtime(url, person.clone());
        let e = rt.ctx().call::<String>("pay", json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArguments, "{url}: {e}");
        assert!(person.asked.lock().unwrap().is_empty(), "{url}: asked");
    }
    // Accepting a page says "I go there"; content would be an answer to a form it has not.
    let person = Person::answering(Answer::accept(json!({"card": "4242"})));
    let (rt, _) = page_runtime("https://pay.example.com/i/7", person);
    let e = rt.ctx().call::<String>("pay", json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert!(e.to_string().contains("`card`") && !e.to_string().contains("4242"), "{e}");
}
