//! Hardening evidence from real recorded data: a scripted run observed through its events and
//! its cassette, replayed against a keyword-rule candidate.

use llm_do::prelude::*;
use llm_do::testing::cassette::{Cassette, CassetteMode, cassette_with_mode};
use llm_do::testing::hardening::{AgreementReport, observations};
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{EventLog, Message, ModelRequest};
use serde_json::Value;

/// Route a support ticket to a team: "billing", "bugs" or "product".
#[worker(model = "openai:gpt-4o-mini", prompt = "Route this ticket: {ticket}")]
async fn route(ctx: &Ctx, ticket: String) -> Result<String>;

/// The hardened candidate: keyword rules.
fn rules(ticket: String) -> String {
    let t = ticket.to_lowercase();
    if t.contains("crash") || t.contains("error") {
        "bugs".into()
    } else if t.contains("charge") || t.contains("invoice") {
        "billing".into()
    } else {
        "product".into()
    }
}

/// The same rules as a registered tool.
#[tool]
async fn route_rules(ticket: String) -> Result<String> {
    Ok(rules(ticket))
}

const TICKETS: [&str; 5] = [
    "I was charged twice",
    "The app crashes on start",
    "Please add dark mode",
    "My invoice shows an error",
    "Refund my subscription",
];

/// The "LLM": knows that refunds are billing and that an invoice error is billing.
fn model() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| {
        let Some(Message::User { content }) = req.messages.get(1) else {
            return Ok(Reply::text("product"));
        };
        let t = content.to_lowercase();
        Ok(Reply::text(if t.contains("charge") || t.contains("invoice") || t.contains("refund") {
            "billing"
        } else if t.contains("crash") {
            "bugs"
        } else {
            "product"
        }))
    })
}

async fn recorded_run(path: &std::path::Path) -> Result<EventLog> {
    let log = EventLog::new();
    let recorder = cassette_with_mode(CassetteMode::Record, path, model).map_err(Error::msg)?;
    let rt = Runtime::builder()
        .register(route::spec())
        .model_override(recorder)
        .subscribe(log.clone())
        .build();
    for ticket in TICKETS {
        route(&rt.ctx(), ticket.into()).await?;
    }
    Ok(log)
}

#[tokio::test]
async fn events_and_cassettes_give_the_same_observations() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::msg)?;
    let path = dir.path().join("route.json");
    let log = recorded_run(&path).await?;

    let from_events = observations(&log, &route::spec()).map_err(Error::msg)?;
    let cassette = Cassette::load(&path).map_err(Error::msg)?;
    let from_cassette = observations(&cassette, &route::spec()).map_err(Error::msg)?;
    assert_eq!(from_events.len(), 5);
    let pairs = |obs: &[llm_do::testing::hardening::Observation]| {
        let mut v: Vec<(Value, Value)> =
            obs.iter().map(|o| (o.input.clone(), o.output.clone())).collect();
        v.sort_by_key(|(i, _)| i.to_string());
        v
    };
    assert_eq!(pairs(&from_events), pairs(&from_cassette));
    assert_eq!(from_events[0].input, json!({"ticket": "I was charged twice"}));
    assert_eq!(from_events[0].output, json!("billing"));
    Ok(())
}

#[tokio::test]
async fn the_candidate_is_measured_against_the_worker() -> Result<()> {
    let dir = tempfile::tempdir().map_err(Error::msg)?;
    let path = dir.path().join("route.json");
    let log = recorded_run(&path).await?;
    let seen = observations(&log, &route::spec()).map_err(Error::msg)?;

    let report = AgreementReport::of_fn("rules", "route", &seen, rules);
    assert_eq!((report.agreed(), report.cases.len()), (3, 5));
    let disagreeing: Vec<&Value> = report.disagreements().map(|c| &c.input["ticket"]).collect();
    assert_eq!(
        disagreeing,
        [&json!("My invoice shows an error"), &json!("Refund my subscription")]
    );
    insta::assert_snapshot!("agreement_table", report.to_string());

    // The same rules registered as a tool give the same verdicts.
    let ctx = Runtime::builder().register(route_rules::spec()).build().ctx();
    let by_tool = AgreementReport::of_tool(&ctx, "route_rules", "route", &seen).await;
    assert_eq!(by_tool.agreed(), 3);
    Ok(())
}

#[tokio::test]
async fn tools_cannot_be_read_from_cassettes() {
    let err = observations(&Cassette::default(), &route_rules::spec()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`route_rules` is not a worker: cassettes can only be read for workers (they need its prompt)"
    );
}
