//! The pieces the three pitch-deck examples share: the evaluator worker, the report (one
//! markdown file per deck, the same shape whoever orchestrates), and the sample decks (PDFs).
//!
//! The decks are PDF files, and [`evaluate_deck`] takes one as an [`Attachment`]: a part of
//! its user message, not text in its prompt. A model that reads PDFs gets the file; the
//! embedded model (text only) gets the PDF's extracted text, inline with the file name (the
//! runtime's text fallback, see `docs/attachments.md`). A model calling `evaluate_deck` as a
//! tool names the deck by its path, which the runtime reads through its attachment loader,
//! confined to the work folder: the orchestrators never read a deck themselves.
//!
//! - `pitchdeck_eval`: an orchestrator worker lists the decks with `list_files`, calls
//!   [`evaluate_deck`] and [`write_report_spec`] per deck — all LLM.
//! - `pitchdeck_eval_hardened`: the listing is the Rust tool [`list_pitchdecks_spec`].
//! - `pitchdeck_eval_code_entry`: Rust orchestrates; the LLM only evaluates.
//!
//! The orchestrators' tools are shaped for the embedded 135M model, which copies a path out of
//! a tool result badly, and makes an evaluation up rather than asking the evaluator for one:
//! [`write_report_spec`] takes a path chosen among the decks there are (an `enum`, so the
//! grammar offers exactly those), and a report holds the evaluation `evaluate_deck` returned
//! for its deck ([`Evaluations`], keyed by the deck's file name), never one the orchestrator
//! wrote itself: when the orchestrator writes a report without having called the evaluator
//! (what SmolLM2-135M does), `write_report` calls `evaluate_deck` itself. Which decks, in which
//! order, and when to stop stay the model's decisions.
//!
//! The scripted stand-in and the checks the examples' recorded tests share are in
//! `pitchdeck/checks.rs`.

use llm_do::approval::Verdict;
use llm_do::attachment::AttachmentSource;
use llm_do::prelude::*;
use llm_do::{CallableSpec, Event, EventKind, ToolSpecBuilder};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

mod checks;

pub use checks::{
    RecordedRun, assert_recorded_orchestrator_run, check_recorded_orchestrator, stand_in,
};

/// The sample decks, as (file name, PDF bytes), for tests and for copying into a work folder.
/// They are written by `cargo xtask pdfs` from the Markdown decks beside them in
/// `examples/pitchdeck_data/`.
pub const SAMPLE_DECKS: &[(&str, &[u8])] = &[
    ("aquaroute.pdf", include_bytes!("pitchdeck_data/aquaroute.pdf")),
    ("ledgerlight.pdf", include_bytes!("pitchdeck_data/ledgerlight.pdf")),
    ("snackbox.pdf", include_bytes!("pitchdeck_data/snackbox.pdf")),
];

/// What an investor would do with the deck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Recommendation {
    /// Not a fit.
    Pass,
    /// Worth a second meeting.
    Consider,
    /// Worth investing.
    Invest,
}

/// An evaluation of one pitch deck.
///
/// The string bounds matter on a tiny model: the embedded model's grammar honours them, so an
/// answer cannot run on until the token budget is spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evaluation {
    /// The company's name.
    #[schemars(length(max = 40))]
    pub company: String,
    /// Overall score from 1 (weak) to 10 (strong).
    #[schemars(range(min = 1, max = 10))]
    pub score: u8,
    /// The strongest point of the deck, quoted from it (often its traction).
    #[schemars(length(max = 120))]
    pub strength: String,
    /// The biggest risk, in one short sentence (what the deck does not show).
    #[schemars(length(max = 120))]
    pub risk: String,
    /// What to do.
    pub recommendation: Recommendation,
}

/// Evaluate a startup's pitch deck.
// (Not in the doc comment, which is the description a model calling the worker reads: the deck
// is an attachment, a PDF; called from Rust an `Attachment` value, called by a model or by name
// the deck's path, read through the runtime's attachment loader.)
#[worker(
    system = "You are a seed-stage investor. Quote the deck's strongest line as its strength, \
              say in a few words what is missing or unproven as its risk, and score it.",
    prompt = "Evaluate this pitch deck: {deck}",
    temperature = 0.0
)]
pub async fn evaluate_deck(
    ctx: &Ctx,
    /** the deck, a PDF file (its path, as listed) */
    deck: Attachment,
) -> Result<Evaluation>;

/// The report file name for a deck file: `reports/<stem>.md`.
pub fn report_path(deck: &str) -> String {
    let file = deck.rsplit('/').next().unwrap_or(deck);
    let stem = file.strip_suffix(".pdf").unwrap_or(file);
    format!("reports/{stem}.md")
}

/// The report of one deck, as markdown: the same shape in all three examples.
pub fn render_report(deck: &str, e: &Evaluation) -> String {
    format!(
        "# {company}\n\n- deck: {deck}\n- score: {score}/10\n- recommendation: {rec:?}\n\n## Strength\n\n{strength}\n\n## Risk\n\n{risk}\n",
        company = e.company,
        score = e.score,
        rec = e.recommendation,
        strength = e.strength,
        risk = e.risk,
    )
}

/// Reads a report back: the deck it is about and its evaluation, or `None` when the text is not
/// in the common shape of [`render_report`] (the examples' tests use it to check that all three
/// write the same shape).
///
/// ```
/// use llm_do_examples::pitchdeck::{Evaluation, Recommendation, parse_report, render_report};
/// let e = Evaluation {
///     company: "X".into(),
///     score: 7,
///     strength: "Paying users.".into(),
///     risk: "A small market.".into(),
///     recommendation: Recommendation::Consider,
/// };
/// assert_eq!(parse_report(&render_report("decks/x.pdf", &e)), Some(("decks/x.pdf".into(), e)));
/// assert_eq!(parse_report("# X\n\nsomething else"), None);
/// ```
pub fn parse_report(text: &str) -> Option<(String, Evaluation)> {
    let rest = text.strip_prefix("# ")?;
    let (company, rest) = rest.split_once("\n\n- deck: ")?;
    let (deck, rest) = rest.split_once("\n- score: ")?;
    let (score, rest) = rest.split_once("/10\n- recommendation: ")?;
    let (recommendation, rest) = rest.split_once("\n\n## Strength\n\n")?;
    let (strength, rest) = rest.split_once("\n\n## Risk\n\n")?;
    let risk = rest.strip_suffix('\n')?;
    let recommendation = match recommendation {
        "Pass" => Recommendation::Pass,
        "Consider" => Recommendation::Consider,
        "Invest" => Recommendation::Invest,
        _ => return None,
    };
    let e = Evaluation {
        company: company.to_owned(),
        score: score.parse().ok()?,
        strength: strength.to_owned(),
        risk: risk.to_owned(),
        recommendation,
    };
    (render_report(deck, &e) == text).then(|| (deck.to_owned(), e))
}

/// The reports under `root/reports/`, each read back with [`parse_report`] as (deck,
/// evaluation), checking that each is in the common shape and about the deck it is named after.
pub fn parsed_reports(root: &Path) -> std::result::Result<Vec<(String, Evaluation)>, String> {
    let reports = match read_reports(root) {
        Ok(reports) => reports,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("cannot read the reports: {e}")),
    };
    let mut parsed = Vec::new();
    for (name, text) in &reports {
        let (deck, e) = parse_report(text)
            .ok_or_else(|| format!("{name} is not in the common shape:\n{text}"))?;
        let stem = name.strip_suffix(".md").unwrap_or(name);
        if deck != format!("decks/{stem}.pdf") {
            return Err(format!("{name} is about {deck}"));
        }
        parsed.push((deck, e));
    }
    Ok(parsed)
}

/// Checks that the reports under `root/reports/` are one per sample deck, each in the common
/// shape and about its deck; returns the evaluations in the decks' order.
pub fn check_reports(root: &Path) -> std::result::Result<Vec<Evaluation>, String> {
    let reports = parsed_reports(root)?;
    let decks: Vec<&str> = reports.iter().map(|(d, _)| d.as_str()).collect();
    let expected: Vec<String> = SAMPLE_DECKS.iter().map(|(n, _)| format!("decks/{n}")).collect();
    if decks != expected {
        return Err(format!("reports about {decks:?}, expected one per deck: {expected:?}"));
    }
    Ok(reports.into_iter().map(|(_, e)| e).collect())
}

/// Checks a deck path: a `.pdf` file name in `decks/`, nothing else.
fn deck_name(deck: &str) -> Result<&str> {
    let name = deck.strip_prefix("decks/").unwrap_or(deck);
    if name.is_empty()
        || !name.ends_with(".pdf")
        || name.contains(['/', '\\'])
        || name.starts_with('.')
    {
        return Err(Error::msg(format!("{deck:?} is not a deck: expected decks/NAME.pdf")));
    }
    Ok(name)
}

/// The file name of the deck an `evaluate_deck` input names: the last segment of a path
/// (`decks/aquaroute.pdf`), or the `name` of a `data:` URL or of the digest reference events
/// show instead of one (a typed Rust call sends the bytes).
///
/// ```
/// use llm_do_examples::pitchdeck::deck_file_name;
/// assert_eq!(deck_file_name("decks/aquaroute.pdf").as_deref(), Some("aquaroute.pdf"));
/// let digest = "attachment:application/pdf;name=snackbox.pdf;size=9;sha256=00";
/// assert_eq!(deck_file_name(digest).as_deref(), Some("snackbox.pdf"));
/// ```
pub fn deck_file_name(reference: &str) -> Option<String> {
    match AttachmentSource::parse(reference).ok()? {
        AttachmentSource::Inline(a) => a.name().map(str::to_owned),
        AttachmentSource::Path(path) => path.rsplit(['/', '\\']).next().map(str::to_owned),
    }
}

/// Writes the report of `deck` under `root/reports/`; returns its path relative to `root`.
pub fn write_report(root: &Path, deck: &str, evaluation: &Evaluation) -> Result<String> {
    let name = deck_name(deck)?;
    let path = report_path(name);
    std::fs::create_dir_all(root.join("reports")).map_err(Error::other)?;
    std::fs::write(root.join(&path), render_report(&format!("decks/{name}"), evaluation))
        .map_err(Error::other)?;
    Ok(path)
}

/// The evaluations `evaluate_deck` returned during a run, by the file name of the deck each was
/// given: what the orchestrators' `write_report` writes. Feed it with [`Evaluations::subscriber`].
///
/// Why not let the model pass the evaluation to `write_report`: SmolLM2-135M then skips the
/// evaluator and makes an evaluation up. Here a report can only hold what the evaluator said.
#[derive(Debug, Clone, Default)]
pub struct Evaluations {
    started: Arc<Mutex<HashMap<llm_do::CallId, String>>>,
    done: Arc<Mutex<Vec<(String, Evaluation)>>>,
}

impl Evaluations {
    /// An event subscriber that records every finished `evaluate_deck` call.
    pub fn subscriber(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let this = self.clone();
        move |event: &Event| {
            if &*event.call.name != "evaluate_deck" {
                return;
            }
            let mut started = this.started.lock().unwrap_or_else(PoisonError::into_inner);
            match &event.kind {
                EventKind::CallStarted { input } => {
                    let deck = input["deck"].as_str().and_then(deck_file_name);
                    started.insert(event.call.id, deck.unwrap_or_default());
                }
                EventKind::CallFinished { output: Some(output), .. } => {
                    let deck = started.remove(&event.call.id).unwrap_or_default();
                    if let Ok(e) = serde_json::from_value::<Evaluation>(output.clone()) {
                        this.done.lock().unwrap_or_else(PoisonError::into_inner).push((deck, e));
                    }
                }
                _ => {}
            }
        }
    }

    /// The latest evaluation of the deck whose file name is `name` (`aquaroute.pdf`).
    pub fn of(&self, name: &str) -> Option<Evaluation> {
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        done.iter().rev().find(|(deck, _)| deck == name).map(|(_, e)| e.clone())
    }
}

/// `write_report`: writes the report of one deck under `root/reports/` in the common shape, with
/// the evaluation `evaluate_deck` gave for it; when the deck has not been evaluated yet, the
/// tool calls the `evaluate_deck` worker itself (a deterministic tool calling a stochastic
/// worker, by name, with the deck's path: the runtime's attachment loader reads it). Only report
/// files can be written, so it needs no approval. `decks` are the deck paths the model may name,
/// as it lists them (`decks/NAME.pdf` or `NAME.pdf`, relative to the attachment loader's root,
/// which is where `evaluate_deck` is given them): a choice
/// rather than a copy.
pub fn write_report_spec(
    root: PathBuf,
    decks: &[String],
    evaluations: Evaluations,
) -> Arc<CallableSpec> {
    ToolSpecBuilder::new("write_report")
        .description(
            "Write the report of one deck to reports/NAME.md, with the evaluation evaluate_deck \
             gave for it (the deck is evaluated first if it has not been).",
        )
        .input_schema(one_of("deck", "the deck's path, as listed", decks))
        .approval(Verdict::Allow)
        .handler(move |ctx: Ctx, args| {
            let root = root.clone();
            let evaluations = evaluations.clone();
            async move {
                let deck = args["deck"].as_str().unwrap_or_default().to_owned();
                let name = deck_name(&deck)?;
                let evaluation = match evaluations.of(name) {
                    Some(evaluation) => evaluation,
                    None => ctx.call("evaluate_deck", json!({ "deck": deck })).await?,
                };
                Ok(json!(write_report(&root, &deck, &evaluation)?))
            }
        })
        .build()
}

/// The schema of an arguments object with one string property, `name`, that must be one of
/// `values`: a tiny model copies a listed path badly, so the grammar lets it choose one instead.
fn one_of(name: &str, description: &str, values: &[String]) -> Value {
    json!({
        "type": "object",
        "properties": { name: { "type": "string", "enum": values, "description": description } },
        "required": [name],
        "additionalProperties": false,
    })
}

/// The files directly in `dir`, sorted by name.
pub fn files_in(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(Error::other)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// The decks under `root/decks/`, as sorted `decks/NAME.pdf` paths (hardened listing).
pub fn list_pitchdecks(root: &Path) -> Result<Vec<String>> {
    let mut decks: Vec<String> = std::fs::read_dir(root.join("decks"))
        .map_err(Error::other)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|name| deck_name(name).is_ok())
        .map(|name| format!("decks/{name}"))
        .collect();
    decks.sort();
    Ok(decks)
}

/// `list_pitchdecks`: the hardened listing, as a tool without arguments.
pub fn list_pitchdecks_spec(root: PathBuf) -> Arc<CallableSpec> {
    ToolSpecBuilder::new("list_pitchdecks")
        .description("List the pitch decks to evaluate, as decks/NAME.pdf paths.")
        // No arguments, and no room for any: a grammar-constrained model would otherwise fill
        // an open object until its token budget runs out.
        .input_schema(json!({ "type": "object", "properties": {}, "additionalProperties": false }))
        .handler(move |_ctx: Ctx, _args| {
            let root = root.clone();
            async move { Ok(json!(list_pitchdecks(&root)?)) }
        })
        .build()
}

/// A work folder for the examples: `decks/` holding the sample decks, `reports/` empty.
pub fn sample_workspace() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("decks"))?;
    for (name, bytes) in SAMPLE_DECKS {
        std::fs::write(dir.path().join("decks").join(name), bytes)?;
    }
    Ok(dir)
}

/// The reports under `root/reports/`, as sorted (name, content) pairs.
pub fn read_reports(root: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut reports = Vec::new();
    for entry in std::fs::read_dir(root.join("reports"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        reports.push((name, std::fs::read_to_string(entry.path())?));
    }
    reports.sort();
    Ok(reports)
}

/// The `main` of the two orchestrator examples once their runtime is built: runs `evaluate_all`
/// on the work folder `root` and prints its answer and the reports written. A run that ends at
/// `max_turns` is shown too (what the embedded 135M model may do; see the examples' docs).
///
/// ```no_run
/// # async fn demo(rt: llm_do::Runtime, work_folder: &std::path::Path) -> llm_do::Result<()> {
/// llm_do_examples::pitchdeck::review_and_print(&rt, work_folder).await
/// # }
/// ```
pub async fn review_and_print(rt: &llm_do::Runtime, root: &Path) -> Result<()> {
    match rt.ctx().call::<String>("evaluate_all", json!({"note": ""})).await {
        Ok(answer) => println!("{answer}"),
        Err(e @ Error::MaxTurns { .. }) => println!("the orchestrator did not finish: {e}"),
        Err(e) => return Err(e),
    }
    let reports = read_reports(root).unwrap_or_default();
    println!("{} report(s) written", reports.len());
    for (name, report) in reports {
        println!("--- reports/{name}\n{report}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_have_one_shape() {
        let e = Evaluation {
            company: "X".into(),
            score: 7,
            strength: "s".into(),
            risk: "r".into(),
            recommendation: Recommendation::Consider,
        };
        assert_eq!(
            render_report("decks/x.pdf", &e),
            "# X\n\n- deck: decks/x.pdf\n- score: 7/10\n- recommendation: Consider\n\n## Strength\n\ns\n\n## Risk\n\nr\n"
        );
        assert_eq!(report_path("decks/x.pdf"), "reports/x.md");
    }

    #[test]
    fn only_decks_are_listed_and_only_reports_written() {
        let dir = sample_workspace().unwrap();
        std::fs::write(dir.path().join("decks/notes.txt"), "not a deck").unwrap();
        std::fs::write(dir.path().join("decks/notes.md"), "not a deck either").unwrap();
        std::fs::create_dir(dir.path().join("decks/sub.pdf")).unwrap();
        assert_eq!(
            list_pitchdecks(dir.path()).unwrap(),
            ["decks/aquaroute.pdf", "decks/ledgerlight.pdf", "decks/snackbox.pdf"]
        );
        let e = Evaluation {
            company: "X".into(),
            score: 1,
            strength: String::new(),
            risk: String::new(),
            recommendation: Recommendation::Pass,
        };
        assert!(write_report(dir.path(), "decks/../../etc.pdf", &e).is_err());
        assert!(write_report(dir.path(), "decks/x.md", &e).is_err());
        assert_eq!(write_report(dir.path(), "decks/x.pdf", &e).unwrap(), "reports/x.md");
    }
}
