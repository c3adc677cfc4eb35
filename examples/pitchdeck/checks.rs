//! What the pitch-deck examples' tests share: a scripted stand-in for the models, and the
//! checks of a recorded orchestrator run.

use super::{
    Evaluation, Recommendation, files_in, parsed_reports, render_report, report_path,
    sample_workspace,
};
use llm_do::prelude::*;
use llm_do::{EventKind, Runtime};
use serde_json::Value;
use std::path::Path;

/// A scripted stand-in for the models, for the examples' tests: the evaluator's "model" reads
/// the deck's text as the text fallback gives it (the company's name is the first line after
/// the file's header) and looks for paying customers; the orchestrator's "model" follows its
/// system prompt step by step (list with `listing`, evaluate each listed deck by its path,
/// write each report with `write_report`, or with `write_file` when that is what it is
/// offered).
pub fn stand_in(listing: &'static str) -> llm_do::testing::ScriptedModel {
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{Message, ModelRequest, ToolResult};
    ScriptedModel::new(move |req: &ModelRequest| {
        if req.tools.is_empty() {
            // The evaluator: the deck's extracted text in the user message, an Evaluation out.
            let deck = req
                .messages
                .iter()
                .find_map(|m| match m {
                    Message::User { content } => Some(content.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let company = deck
                .lines()
                .skip_while(|l| !(l.starts_with("--- ") && l.ends_with("text extracted) ---")))
                .nth(1)
                .unwrap_or("?");
            let paying = deck.contains("paying") || deck.contains("paid");
            let e = Evaluation {
                company: company.to_owned(),
                score: if paying { 8 } else { 3 },
                strength: "The problem is concrete.".into(),
                risk: if paying { "Sales cycles may be long." } else { "No revenue yet." }.into(),
                recommendation: if paying { Recommendation::Invest } else { Recommendation::Pass },
            };
            return Ok(Reply::json(json!(e)));
        }
        let batch = crate::conversation::last_tool_results(req);
        let parse = |r: &ToolResult| serde_json::from_str::<Value>(&r.content).unwrap_or_default();
        // The deck paths, as the listing gave them.
        let listed: Vec<Value> = req
            .messages
            .iter()
            .find_map(|m| match m {
                Message::Tool(r) if r.name == listing => Some(parse(r)),
                _ => None,
            })
            .map(|listed| if listed.is_array() { listed } else { listed["entries"].clone() })
            .and_then(|paths| paths.as_array().cloned())
            .unwrap_or_default();
        let Some(last) = batch.last() else {
            return Ok(Reply::tool_call(
                listing,
                // Matches the decks in a decks' folder and in a project's decks/ alike.
                if listing == "list_files" { json!({"pattern": "**/*.pdf"}) } else { json!({}) },
            ));
        };
        Ok(match last.name.as_str() {
            "list_files" | "list_pitchdecks" => Reply::tool_calls(
                listed.iter().map(|path| ("evaluate_deck", json!({ "deck": path }))),
            ),
            "evaluate_deck" if req.tools.iter().any(|t| t.name == "write_report") => {
                Reply::tool_calls(
                    listed.iter().map(|path| ("write_report", json!({ "deck": path }))),
                )
            }
            // The worker-file form writes with the filesystem's write_file.
            "evaluate_deck" => Reply::tool_calls(listed.iter().zip(&batch).map(|(path, e)| {
                let deck = path.as_str().unwrap_or_default();
                let content = serde_json::from_value(parse(e))
                    .map(|e: Evaluation| render_report(deck, &e))
                    .unwrap_or_default();
                ("write_file", json!({ "path": report_path(deck), "content": content }))
            })),
            _ => {
                let answer =
                    format!("wrote {} reports", batch.iter().filter(|r| !r.is_error).count());
                // A bounded answer is asked for as a JSON string.
                if req.output.schema().is_some() {
                    Reply::json(json!(answer))
                } else {
                    Reply::text(answer)
                }
            }
        })
    })
}

/// What one recorded run of an orchestrator did, as its test asserts it: how many times the
/// decks were listed, how many evaluations `evaluate_deck` made (and how many of them
/// `write_report` asked for itself, because the model had not), and how many reports were
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedRun {
    /// Calls of the listing tool.
    pub listings: usize,
    /// Calls of `evaluate_deck`, wherever from.
    pub evaluations: usize,
    /// Of those, the ones made by `write_report` (nested under it).
    pub nested_evaluations: usize,
    /// Reports written (one `write_report` call each).
    pub reports: usize,
}

/// The recorded test of the two orchestrator examples: builds the example's `runtime` on the
/// cassette `<example>/cassettes/evaluate_all.json` in a fresh sample workspace, runs
/// `evaluate_all`, checks the replay was complete ([`crate::cassettes::assert_replayed`]) and
/// what the model did ([`assert_recorded_orchestrator_run`], `listing` being the tool that lists
/// the decks, `expected` what the recorded model did).
pub fn check_recorded_orchestrator(
    example: &str,
    runtime: impl FnOnce(llm_do::RuntimeBuilder, &Path) -> anyhow::Result<Runtime>,
    listing: &str,
    expected: RecordedRun,
) {
    let dir = sample_workspace().unwrap();
    let relative = format!("{example}/cassettes/evaluate_all.json");
    let cassette = crate::cassettes::recorded(&relative);
    let log = llm_do::EventLog::new();
    let builder = crate::cassettes::builder(&cassette).subscribe(log.clone()).ignore_env();
    let rt = runtime(builder, dir.path()).unwrap();
    let tokio_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer = tokio_rt.block_on(rt.ctx().call::<String>("evaluate_all", json!({"note": ""})));
    crate::cassettes::assert_replayed(&cassette, &relative);
    assert_recorded_orchestrator_run(&log, dir.path(), answer, listing, expected);
    // Any evaluation the recorded model made was of a PDF deck's extracted text.
    for interaction in &cassette.cassette().interactions {
        let messages = interaction.request["messages"].as_array().cloned().unwrap_or_default();
        let tools = interaction.request["tools"].as_array().map_or(0, Vec::len);
        if tools == 0 {
            let user = messages.get(1).and_then(|m| m["content"].as_str()).unwrap_or_default();
            assert!(user.contains("(application/pdf, text extracted) ---"), "{user}");
        }
    }
}

/// The checks the two orchestrator examples' recorded tests share: what SmolLM2-135M did in the
/// replayed run of `evaluate_all` (see their module docs), with `listing` the tool that lists the
/// decks (`list_files` or `list_pitchdecks`). `root` is the work folder, `answer` the run's
/// result. Panics on the first check that fails.
///
/// Always: the run ends with an answer within its bound; the listing is a deterministic call;
/// any evaluation is a stochastic worker call, and any report holds an evaluation the evaluator
/// gave, in the common shape; not every deck gets a report (the tiny model stops early). Then
/// the counts of `expected`.
pub fn assert_recorded_orchestrator_run(
    log: &llm_do::EventLog,
    root: &Path,
    answer: Result<String>,
    listing: &str,
    expected: RecordedRun,
) {
    use llm_do::CallKind;
    let events = log.events();
    let calls: Vec<(String, CallKind)> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CallStarted { .. }))
        .map(|e| (e.call.name.to_string(), e.call.kind))
        .collect();
    println!("{answer:?}");
    for (name, kind) in &calls {
        println!("{name} [{kind}]");
    }
    let answer = answer.expect("the orchestrator ends with an answer");
    assert!(answer.chars().count() <= 200, "the answer's bound holds: {answer:?}");
    let kind_of = |name: &str| -> Vec<CallKind> {
        calls.iter().filter(|(n, _)| n == name).map(|(_, k)| *k).collect()
    };
    // The listing is a deterministic tool call, and so is writing a report.
    let listings = kind_of(listing);
    assert!(listings.iter().all(|k| *k == CallKind::Tool));
    assert!(kind_of("write_report").iter().all(|k| *k == CallKind::Tool));
    // Any evaluation is a stochastic worker call, and any report written holds one, in the
    // common shape.
    assert!(kind_of("evaluate_deck").iter().all(|k| *k == CallKind::Worker));
    let evaluated: Vec<Evaluation> = events
        .iter()
        .filter(|e| &*e.call.name == "evaluate_deck")
        .filter_map(|e| match &e.kind {
            EventKind::CallFinished { output: Some(output), .. } => {
                serde_json::from_value(output.clone()).ok()
            }
            _ => None,
        })
        .collect();
    let reports = parsed_reports(root).unwrap();
    assert!(reports.iter().all(|(_, e)| evaluated.contains(e)));
    assert!(reports.len() < files_in(&root.join("decks")).unwrap().len());
    // What the recorded model did.
    let nested = events
        .iter()
        .filter(|e| &*e.call.name == "evaluate_deck")
        .filter(|e| matches!(e.kind, EventKind::CallStarted { .. }))
        .filter(|e| {
            let parent = events.iter().find(|p| Some(p.call.id) == e.call.parent);
            parent.is_some_and(|p| &*p.call.name == "write_report")
        })
        .count();
    let run = RecordedRun {
        listings: listings.len(),
        evaluations: kind_of("evaluate_deck").len(),
        nested_evaluations: nested,
        reports: reports.len(),
    };
    assert_eq!(run, expected);
    assert_eq!(kind_of("write_report").len(), expected.reports);
}
