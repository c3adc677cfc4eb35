//! Pitch-deck evaluation, all LLM: an orchestrator worker lists the PDF decks with the
//! filesystem toolset's `list_files`, has each evaluated by the `evaluate_deck` worker (the deck
//! goes to it as an attachment, by its path) and writes one report per deck.
//!
//! ```text
//! cargo run -p llm-do-examples --example pitchdeck_eval
//! cargo run -p llm-do-cli -- run examples/pitchdeck_eval/project "Review them all."   # as .worker files
//! ```
//!
//! The PDF decks are copied from `examples/pitchdeck_data/` into a temporary work folder
//! (`decks/`); reports go to its `reports/` and are printed. Compare with
//! `pitchdeck_eval_hardened` (the listing is Rust) and `pitchdeck_eval_code_entry` (Rust
//! orchestrates, the LLM only evaluates): all three write reports of the same shape.
//! `main` runs on the default setup (the embedded `local:smollm2` when nothing is configured)
//! and prints each call as it starts
//! and what it returns, indented by depth (the library's `EventPrinter`).
//!
//! The tools are the filesystem toolset's `list_files` on the decks' folder, `evaluate_deck` and
//! `write_report` (see `llm_do_examples::pitchdeck` for why they are shaped as they are). No
//! tool reads a deck: the orchestrator passes `evaluate_deck` a listed path (`aquaroute.pdf`),
//! and the runtime reads it through its attachment loader, confined to the decks' folder like
//! `list_files` (the same sandbox). The embedded model reads the PDF through the text fallback
//! (its extracted text). The folder is the decks' and not the work folder because SmolLM2-135M
//! asks for `*.pdf` when told `decks/*.pdf`.
//!
//! **On the embedded 135M model this orchestrator does not get through the decks.** SmolLM2-135M
//! lists them twice and then answers (with words from the tools' descriptions): no deck
//! evaluated, no report. Hardening the listing (`pitchdeck_eval_hardened`) gets it one step
//! further. The recorded test (`cassettes/evaluate_all.json`; re-record with
//! `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example pitchdeck_eval`) asserts exactly
//! that run; the scripted tests check that the same runtime writes one report per deck when the
//! model follows the plan. Use a bigger model (`LLM_DO_MODEL`) to see it work on a real LLM,
//! or `pitchdeck_eval_code_entry`, where code takes the steps this model cannot.
//!
//! `project/` is the same example as worker files (`main.worker`, `evaluate_deck.worker`,
//! `llm-do.toml`) for the `llm-do` command line. Its decks are in `project/decks/` (copies of
//! the sample PDFs, written by `cargo xtask pdfs` too): beneath the project root, where the
//! project's attachment loader reads `evaluate_deck`'s `deck` input (`format: attachment`), so
//! a path out of the project is refused. It writes `reports/NAME.md` in the project with the
//! filesystem toolset's `write_file` (allowed without asking for `reports/*.md` by a rule in
//! `llm-do.toml`; any other write asks). There the model writes the report text itself, so its
//! reports need not have the common shape; a tiny model may well write none, or ask for a
//! `write_file` outside `reports/`, which needs approval: at a terminal you are asked, without
//! one the run stops with exit code 3. `llm-do check examples/pitchdeck_eval/project` accepts
//! it; the tests run it on a scripted model.

use llm_do::prelude::*;
use llm_do::setup::RuntimeBuilderExt;
use llm_do::tools::fs::Filesystem;
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
             list_files (pattern *.pdf). Then, for each deck in the listing, in order: \
             evaluate it with evaluate_deck (its path), and write its report with \
             write_report. When every deck has a report, answer with the number of reports \
             written.",
        )
        .prompt(
            "Review the pitch decks. Step 1: list_files with pattern *.pdf. Step 2, for \
             each listed deck: evaluate_deck with its path, then write_report with its path. \
             {note}",
        )
        .input_schema(json!({"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}))
        .tool_name("list_files")
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
    // The model sees the decks' folder only: its paths are plain file names (`aquaroute.pdf`),
    // listed with the toolset's list_files as is, and chosen among for write_report.
    let fs = Filesystem::new(root.join("decks"))?.read_only();
    let decks = pitchdeck::files_in(fs.root())?;
    let evaluations = pitchdeck::Evaluations::default();
    let builder = builder
        .register(orchestrator())
        .register(evaluate_deck::spec())
        .register(fs.list_files_spec())
        .register(pitchdeck::write_report_spec(root.to_path_buf(), &decks, evaluations.clone()))
        // evaluate_deck's deck paths are read beneath the decks' folder, in the same sandbox.
        .attachment_loader(fs.attachment_files())
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

/// The worker-file form (`project/`, its files and its `decks/`) in a temporary copy, so that
/// running it writes its reports there and not into the repository; returns the copy and the
/// project directory in it.
#[cfg(test)]
fn project_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    let source = llm_do_examples::cassettes::path("pitchdeck_eval/project");
    for dir in ["", "decks"] {
        std::fs::create_dir_all(project.join(dir)).unwrap();
        for entry in std::fs::read_dir(source.join(dir)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), project.join(dir).join(entry.file_name())).unwrap();
            }
        }
    }
    (tmp, project)
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::project::Project;

    #[test]
    fn the_orchestrator_writes_one_report_per_deck() {
        let dir = pitchdeck::sample_workspace().unwrap();
        let model = pitchdeck::stand_in("list_files");
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
        let mut tools: Vec<String> =
            model.requests()[0].tools.iter().map(|t| t.name.clone()).collect();
        tools.sort();
        assert_eq!(tools, ["evaluate_deck", "list_files", "write_report"]);
        // The evaluator was given each deck's PDF text, not a path or the file's bytes.
        let evaluator = model.requests().into_iter().find(|r| r.tools.is_empty()).unwrap();
        let llm_do::Message::User { content } = &evaluator.messages[1] else {
            panic!("a text-only model gets plain text: {:?}", evaluator.messages)
        };
        assert!(content.starts_with("Evaluate this pitch deck: [attached: aquaroute.pdf]"));
        assert!(content.contains("--- aquaroute.pdf (application/pdf, text extracted) ---"));
        assert!(content.contains("Clip-on acoustic sensors"), "{content}");
    }

    #[test]
    fn the_worker_file_form_writes_one_report_per_deck() {
        let (_tmp, dir) = project_copy();
        let project = Project::check(&dir, &llm_do::Registry::default()).unwrap();
        assert_eq!(project.entry(), Some("main"));
        let model = pitchdeck::stand_in("list_files");
        let rt =
            project.register(Runtime::builder().model_override(model.clone())).ignore_env().build();
        let rt_tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let answer: String =
            rt_tokio.block_on(rt.ctx().call("main", json!({"input": ""}))).unwrap();
        assert_eq!(answer, "wrote 3 reports");
        // No read_file: the decks reach the evaluator as attachments, by path.
        let mut tools: Vec<String> =
            model.requests()[0].tools.iter().map(|t| t.name.clone()).collect();
        tools.sort();
        assert_eq!(tools, ["evaluate_deck", "list_files", "write_file"]);
        // The rule of llm-do.toml let write_file write the reports without an approver.
        let evaluations = pitchdeck::check_reports(&dir).unwrap();
        let companies: Vec<&str> = evaluations.iter().map(|e| e.company.as_str()).collect();
        assert_eq!(companies, ["AquaRoute", "LedgerLight", "SnackBox"]);
        // The file evaluator is offered the same output schema as the Rust one.
        let evaluator = model.requests().into_iter().find(|r| r.tools.is_empty()).unwrap();
        let schema = evaluator.output.schema().unwrap().clone();
        let rust = evaluate_deck::spec().output_schema().clone();
        for key in ["company", "score", "strength", "risk"] {
            for bound in ["maxLength", "minimum", "maximum", "description"] {
                assert_eq!(
                    schema["properties"][key][bound], rust["properties"][key][bound],
                    "{key}.{bound}"
                );
            }
        }
        assert_eq!(schema["required"], rust["required"]);
        // And takes the deck as an attachment, like the Rust one: the PDF's text reached it.
        let file_input = rt.registry().get("evaluate_deck").unwrap().input_schema().clone();
        let rust_input = evaluate_deck::spec().input_schema().clone();
        assert_eq!(file_input["properties"]["deck"]["format"], "attachment");
        assert_eq!(
            file_input["properties"]["deck"]["format"],
            rust_input["properties"]["deck"]["format"]
        );
        let user = evaluator.messages.iter().find_map(|m| match m {
            llm_do::Message::User { content } => Some(content.clone()),
            _ => None,
        });
        assert!(user.unwrap_or_default().contains("Team. Two hydraulic engineers"));
    }

    #[test]
    fn the_worker_file_form_reads_no_deck_outside_its_root() {
        let (_tmp, dir) = project_copy();
        let project = Project::check(&dir, &llm_do::Registry::default()).unwrap();
        let model = pitchdeck::stand_in("list_files");
        let rt = project.register(Runtime::builder().model_override(model.clone())).ignore_env();
        let rt = rt.build();
        let rt_tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outside = "../../pitchdeck_data/aquaroute.pdf";
        let err = rt_tokio
            .block_on(
                rt.ctx().call::<serde_json::Value>("evaluate_deck", json!({ "deck": outside })),
            )
            .unwrap_err();
        let Error::Attachment { source, .. } = &err else { panic!("{err:?}") };
        assert_eq!(source.kind(), llm_do::attachment::AttachmentErrorKind::PathEscape);
        assert_eq!(model.request_count(), 0, "nothing was sent");
    }

    /// The project's decks are the sample decks, byte for byte (`cargo xtask pdfs` writes both).
    #[test]
    fn the_projects_decks_are_the_sample_decks() {
        let decks = llm_do_examples::cassettes::path("pitchdeck_eval/project/decks");
        let mut names = pitchdeck::files_in(&decks).unwrap();
        names.sort();
        let samples: Vec<&str> = pitchdeck::SAMPLE_DECKS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, samples);
        for (name, bytes) in pitchdeck::SAMPLE_DECKS {
            assert_eq!(&std::fs::read(decks.join(name)).unwrap()[..], *bytes, "{name}");
        }
    }

    #[test]
    fn the_worker_file_form_asks_before_writing_anything_but_a_report() {
        let (_tmp, dir) = project_copy();
        let project = Project::check(&dir, &llm_do::Registry::default()).unwrap();
        let policy = project.approval_policy(llm_do::approval::ApprovalPolicy::new());
        use llm_do::approval::Verdict;
        let verdict = |path: &str| {
            policy.evaluate("write_file", &json!({ "path": path }), Some(Verdict::Ask)).0
        };
        assert_eq!(verdict("reports/aquaroute.md"), Verdict::Allow);
        assert_eq!(verdict("aquaroute.md"), Verdict::Ask);
        assert_eq!(verdict("reports/sub/x.md"), Verdict::Ask);
    }

    /// Replays `cassettes/evaluate_all.json`, recorded from the embedded `local:smollm2`;
    /// re-record with `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example pitchdeck_eval`.
    #[test]
    fn on_the_recorded_embedded_model() {
        use pitchdeck::RecordedRun;
        // What SmolLM2-135M does with this orchestrator: see the module docs.
        // Lists twice, then answers: no deck evaluated, no report.
        let expected =
            RecordedRun { listings: 2, evaluations: 0, nested_evaluations: 0, reports: 0 };
        pitchdeck::check_recorded_orchestrator("pitchdeck_eval", runtime, "list_files", expected);
    }
}
