//! Pitch-deck evaluation, code entry: Rust lists the decks, opens each PDF as an
//! [`Attachment`], and writes the reports; the LLM is used for one thing only, the
//! `evaluate_deck` worker (a typed async call: `evaluate_deck(ctx, deck).await`).
//!
//! ```text
//! cargo run -p llm-do-examples --example pitchdeck_eval_code_entry
//! ```
//!
//! The reports have the same shape as those of `pitchdeck_eval` and `pitchdeck_eval_hardened`
//! (all three use `llm_do_examples::pitchdeck::write_report`). `main` runs on the default setup
//! (the embedded `local:smollm2` when nothing is configured) and prints each call as it starts
//! and what it returns, indented by depth (the library's `EventPrinter`).
//!
//! The tests replay `cassettes/evaluate.json`, recorded from `local:smollm2`; re-record with
//! `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example pitchdeck_eval_code_entry`. That
//! model, a text-only one, is given each PDF's extracted text (the runtime's text fallback; a
//! model that reads PDFs would get the file). Its evaluations have the right shape, and the
//! names of two decks of three (SnackBox's company comes back as "The company"), but the
//! judgement is poor (every deck scores low and gets `Invest`): the example is about where the
//! LLM sits, not about a 135M model's taste.

use llm_do::prelude::*;
use llm_do::setup::RuntimeBuilderExt;
use llm_do::{EventPrinter, RuntimeBuilder};
use llm_do_examples::pitchdeck::{self, Evaluation, evaluate_deck};
use std::path::Path;

/// The example's runtime: only the evaluator is needed.
fn runtime(builder: RuntimeBuilder) -> Runtime {
    builder.register(evaluate_deck::spec()).build()
}

/// Evaluates every deck under `root/decks/` and writes its report; returns (report path,
/// evaluation) per deck, in the decks' order.
async fn evaluate_all(ctx: &Ctx, root: &Path) -> anyhow::Result<Vec<(String, Evaluation)>> {
    let decks = pitchdeck::list_pitchdecks(root)?;
    let mut out = Vec::with_capacity(decks.len());
    for deck in &decks {
        // The PDF itself; a text-only model gets its extracted text (the runtime's fallback).
        let file = Attachment::from_path(root.join(deck), &Default::default())?;
        let evaluation = evaluate_deck(ctx, file).await?;
        out.push((pitchdeck::write_report(root, deck, &evaluation)?, evaluation));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = pitchdeck::sample_workspace()?;
    let rt = runtime(Runtime::builder().subscribe(EventPrinter::stderr()).with_default_providers());
    for (path, e) in evaluate_all(&rt.ctx(), dir.path()).await? {
        println!("{path}: {} {}/10 {:?}", e.company, e.score, e.recommendation);
    }
    for (name, report) in pitchdeck::read_reports(dir.path())? {
        println!("--- reports/{name}\n{report}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::{CallKind, EventKind, EventLog};

    #[test]
    fn code_orchestrates_and_the_llm_only_evaluates() {
        let dir = pitchdeck::sample_workspace().unwrap();
        let model = pitchdeck::stand_in("list_pitchdecks");
        let rt = runtime(Runtime::builder().model_override(model.clone()).ignore_env());
        let tokio_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let results = tokio_rt.block_on(evaluate_all(&rt.ctx(), dir.path())).unwrap();
        // One model request per deck, none offering tools: the model only evaluates.
        assert_eq!(model.request_count(), 3);
        assert!(model.requests().iter().all(|r| r.tools.is_empty()));
        let companies: Vec<&str> = results.iter().map(|(_, e)| e.company.as_str()).collect();
        assert_eq!(companies, ["AquaRoute", "LedgerLight", "SnackBox"]);
        // Each evaluation was given its deck's PDF, as the text fallback makes of it.
        for (request, (name, _)) in model.requests().iter().zip(pitchdeck::SAMPLE_DECKS) {
            let header = format!("--- {name} (application/pdf, text extracted) ---");
            assert!(
                matches!(&request.messages[1], llm_do::Message::User { content } if content.contains(&header))
            );
        }
        // Each report is the common rendering of the deck's evaluation.
        let reports = pitchdeck::read_reports(dir.path()).unwrap();
        for ((path, e), (name, report)) in results.iter().zip(&reports) {
            assert_eq!(path, &format!("reports/{name}"));
            let deck = format!("decks/{}", name.replace(".md", ".pdf"));
            assert_eq!(report, &pitchdeck::render_report(&deck, e));
        }
    }

    /// Replays `cassettes/evaluate.json`, recorded from the embedded `local:smollm2`; re-record
    /// with `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example pitchdeck_eval_code_entry`.
    #[test]
    fn on_the_recorded_embedded_model_each_deck_gets_a_report() {
        let dir = pitchdeck::sample_workspace().unwrap();
        let cassette = llm_do_examples::cassettes::recorded(
            "pitchdeck_eval_code_entry/cassettes/evaluate.json",
        );
        let log = EventLog::new();
        let rt = runtime(
            llm_do_examples::cassettes::builder(&cassette).subscribe(log.clone()).ignore_env(),
        );
        let tokio_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let results = tokio_rt.block_on(evaluate_all(&rt.ctx(), dir.path())).unwrap();
        llm_do_examples::cassettes::assert_replayed(
            &cassette,
            "pitchdeck_eval_code_entry/cassettes/evaluate.json",
        );
        // One report per deck, in the common shape, holding what the model answered.
        let evaluations = pitchdeck::check_reports(dir.path()).unwrap();
        let answered: Vec<&Evaluation> = results.iter().map(|(_, e)| e).collect();
        assert_eq!(evaluations.iter().collect::<Vec<_>>(), answered);
        // The only calls are the evaluator's, one per deck, and they are stochastic.
        let started: Vec<_> = log
            .events()
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::CallStarted { .. }))
            .collect();
        assert_eq!(started.len(), pitchdeck::SAMPLE_DECKS.len());
        assert!(started.iter().all(|e| &*e.call.name == "evaluate_deck"));
        assert!(started.iter().all(|e| e.call.kind == CallKind::Worker));
        // The embedded model read each PDF through the text fallback: the recorded requests
        // carry the decks' extracted text, in order.
        let recorded = cassette.cassette();
        for (interaction, (name, _)) in recorded.interactions.iter().zip(pitchdeck::SAMPLE_DECKS) {
            let user = interaction.request["messages"][1]["content"].as_str().unwrap_or_default();
            let header = format!("--- {name} (application/pdf, text extracted) ---");
            assert!(user.contains(&header) && user.contains("Ask. "), "{user}");
        }
    }
}
