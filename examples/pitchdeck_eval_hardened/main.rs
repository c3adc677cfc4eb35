//! Pitch-deck evaluation, hardened listing: the same orchestrator worker as `pitchdeck_eval`,
//! but listing the decks is now the Rust tool `list_pitchdecks` (only `decks/*.pdf` files,
//! sorted) instead of a model-chosen `list_files` pattern. That is the one definition that
//! changed: the orchestrator's prompt names the other tool, and nothing else moves.
//!
//! ```text
//! cargo run -p llm-do-examples --example pitchdeck_eval_hardened
//! ```
//!
//! The PDF decks are copied from `examples/pitchdeck_data/` into a temporary work folder
//! (`decks/`) and go to `evaluate_deck` as attachments, by their listed paths (read through the
//! runtime's attachment loader, confined to the work folder); reports go to its `reports/` (the same shape as in the other two examples) and
//! are printed. `main` runs on the default setup (the embedded `local:smollm2` when nothing is
//! configured) and prints each call as it starts
//! and what it returns, indented by depth (the library's `EventPrinter`).
//!
//! **On the embedded 135M model this orchestrator does not get through the decks either.**
//! SmolLM2-135M calls `list_pitchdecks`, then `evaluate_deck` with the first listed path
//! (`decks/aquaroute.pdf`: the runtime reads the PDF and gives the evaluator its extracted
//! text), and answers without writing a report (`main` prints what there is). Where the
//! all-LLM version only listed, the hardened listing got it to evaluate a deck. The recorded
//! test (`cassettes/evaluate_all.json`; re-record with
//! `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example pitchdeck_eval_hardened`) asserts
//! that run, and that the listing is a deterministic call; the scripted test checks that the
//! runtime writes one report per deck when the model follows the plan. The next hardening step,
//! taken by `pitchdeck_eval_code_entry`, moves the whole loop into Rust.

use llm_do::prelude::*;
use llm_do::setup::RuntimeBuilderExt;
use llm_do::tools::fs::AttachmentFiles;
use llm_do::{CallableSpec, EventPrinter, RuntimeBuilder, WorkerSpecBuilder};
use llm_do_examples::pitchdeck::{self, evaluate_deck};
use std::path::Path;
use std::sync::Arc;

/// The orchestrator: every step is the model's decision.
fn orchestrator() -> Arc<CallableSpec> {
    WorkerSpecBuilder::new("evaluate_all")
        .description("Evaluate every pitch deck in decks/ and write one report per deck.")
        .system(
            "You run a pitch-deck review, one tool call at a time. First list the decks with \
             list_pitchdecks. Then, for each deck in the listing, in order: evaluate it with \
             evaluate_deck (its path), and write its report with write_report. When every deck \
             has a report, answer with the number of reports written.",
        )
        .prompt(
            "Review the pitch decks. Step 1: list_pitchdecks. Step 2, for each listed deck: \
             evaluate_deck with its path, then write_report with its path. {note}",
        )
        .input_schema(json!({"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}))
        .tool_name("list_pitchdecks")
        .tool(evaluate_deck::spec)
        .tool_name("write_report")
        // A bounded answer: a tiny model's free text otherwise runs on to the token budget.
        .output_schema(json!({"type": "string", "maxLength": 200}))
        .temperature(0.0)
        .max_turns(8)
        .build()
        .expect("the worker definition is valid")
}

/// The example's runtime on the work folder `root`.
fn runtime(builder: RuntimeBuilder, root: &Path) -> anyhow::Result<Runtime> {
    let decks = pitchdeck::list_pitchdecks(root)?;
    let evaluations = pitchdeck::Evaluations::default();
    let builder = builder
        .register(orchestrator())
        .register(evaluate_deck::spec())
        .register(pitchdeck::list_pitchdecks_spec(root.to_path_buf()))
        .register(pitchdeck::write_report_spec(root.to_path_buf(), &decks, evaluations.clone()))
        // evaluate_deck's deck paths are read beneath the work folder, nowhere else.
        .attachment_loader(AttachmentFiles::new(root)?)
        .subscribe(evaluations.subscriber());
    Ok(builder.build())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = pitchdeck::sample_workspace()?;
    let rt = runtime(
        Runtime::builder().subscribe(EventPrinter::stderr()).with_default_providers(),
        dir.path(),
    )?;
    pitchdeck::review_and_print(&rt, dir.path()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orchestrator_writes_one_report_per_deck() {
        let dir = pitchdeck::sample_workspace().unwrap();
        let model = pitchdeck::stand_in("list_pitchdecks");
        let rt = runtime(Runtime::builder().model_override(model.clone()).ignore_env(), dir.path())
            .unwrap();
        let rt_tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let answer: String =
            rt_tokio.block_on(rt.ctx().call("evaluate_all", json!({"note": ""}))).unwrap();
        assert_eq!(answer, "wrote 3 reports");
        let reports = pitchdeck::read_reports(dir.path()).unwrap();
        let names: Vec<&str> = reports.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["aquaroute.md", "ledgerlight.md", "snackbox.md"]);
        assert!(reports[2].1.starts_with("# SnackBox\n\n- deck: decks/snackbox.pdf\n"));
        // In the common shape, each holding what the evaluator answered for its deck.
        let companies: Vec<String> =
            pitchdeck::check_reports(dir.path()).unwrap().into_iter().map(|e| e.company).collect();
        assert_eq!(companies, ["AquaRoute", "LedgerLight", "SnackBox"]);
        // 1 listing + 1 evaluating + 1 writing + 1 final turn, and 3 evaluations.
        assert_eq!(model.request_count(), 4 + 3);
        // The model was offered the hardened listing, not the generic one.
        let tools: Vec<String> = model.requests()[0].tools.iter().map(|t| t.name.clone()).collect();
        assert!(
            tools.contains(&"list_pitchdecks".to_owned())
                && !tools.contains(&"list_files".to_owned())
        );
    }

    /// What `main` shows as it runs (the library's `EventPrinter`, here into a buffer): the
    /// routing, each call indented under its caller, worker or tool.
    #[test]
    fn the_printer_shows_the_routing() {
        let dir = pitchdeck::sample_workspace().unwrap();
        let model = pitchdeck::stand_in("list_pitchdecks");
        let printer = EventPrinter::to_buffer();
        let builder = Runtime::builder().subscribe(printer.clone()).model_override(model);
        let rt = runtime(builder.ignore_env(), dir.path()).unwrap();
        let rt_tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _: String =
            rt_tokio.block_on(rt.ctx().call("evaluate_all", json!({"note": ""}))).unwrap();
        // The calls as they start, without their input; the three of a turn on one line.
        let mut started: Vec<(String, usize)> = Vec::new();
        for line in printer.buffer().lines().filter(|l| l.trim_start().starts_with('→')) {
            let call = line.split(" {").next().unwrap_or(line).to_owned();
            match started.last_mut() {
                Some((last, n)) if *last == call => *n += 1,
                _ => started.push((call, 1)),
            }
        }
        let expected = [
            ("→ evaluate_all [stochastic]", 1),
            ("  → list_pitchdecks [deterministic]", 1),
            ("  → evaluate_deck [stochastic]", 3),
            ("  → write_report [deterministic]", 3),
        ];
        assert_eq!(started, expected.map(|(c, n)| (c.to_owned(), n)), "{}", printer.buffer());
        assert!(printer.buffer().contains("← evaluate_all = wrote 3 reports"));
    }

    /// Replays `cassettes/evaluate_all.json`, recorded from the embedded `local:smollm2`;
    /// re-record with `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example pitchdeck_eval_hardened`.
    #[test]
    fn on_the_recorded_embedded_model() {
        use pitchdeck::RecordedRun;
        // What SmolLM2-135M does with this orchestrator: see the module docs.
        // Lists, evaluates the first deck (its PDF, by path), then answers: no report.
        let expected =
            RecordedRun { listings: 1, evaluations: 1, nested_evaluations: 0, reports: 0 };
        pitchdeck::check_recorded_orchestrator(
            "pitchdeck_eval_hardened",
            runtime,
            "list_pitchdecks",
            expected,
        );
    }
}
