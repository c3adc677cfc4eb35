//! File organizer: a worker proposes a descriptive name for each file of a folder. The naming
//! convention is hardened Rust (`sanitize_filename`), and every rename waits for approval.
//!
//! ```text
//! cargo run -p llm-do-examples --example file_organizer [-- --yes] [-- --agent]
//! ```
//!
//! By default (what runs on the embedded model) Rust lists the folder and reads each file; the
//! worker `propose_name` proposes a title from the file's first line (the stochastic part);
//! `name_for` adds the file's own extension and applies `sanitize_filename` (the hardened
//! part: the extension and the convention are never left to the model); then each rename is
//! asked on the terminal (`y` approves; `--yes` approves all) and done by the same checked
//! `rename_in` as the tool below.
//!
//! With `--agent` the whole loop is a worker's (it needs a larger model than the 135M default:
//! set `LLM_DO_MODEL`). The worker `organizer` decides what each file should be called (the stochastic part). It
//! sees the folder only through sandboxed tools: `list_files` and `read_file` from
//! `llm_do::tools::fs::Filesystem` (read-only), the deterministic `sanitize_filename`, and
//! `rename_file`, which declares the approval verdict `Ask` and only accepts plain file names
//! inside the folder that are already sanitized. The folder reaches `rename_file` as program
//! state (`Runtime::builder().state(Folder(..))`, read with `ctx.state::<Folder>()`). `main` copies a few sample files into a
//! temporary folder, asks before each rename on the terminal (`y` approves; `--yes` approves
//! all), and lists the folder afterwards.
//!
//! `main` runs on the default setup (the embedded `local:smollm2` when nothing is configured).
//! The tests replay answers recorded from it (`file_organizer/cassettes`: the plan at
//! temperature 0, and 3 inputs × 4 samples of `propose_name` at 0.8 for a `Sampler` test);
//! re-record with `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example file_organizer`.

use anyhow::Context as _;
use llm_do::approval::{ApprovalRequest, ApproveAll, Decision};
use llm_do::prelude::*;
use llm_do::tools::fs::Filesystem;
use llm_do::{CallableSpec, EventPrinter, RuntimeBuilder, WorkerSpecBuilder};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The sample files `main` organizes: (name, content).
const SAMPLES: &[(&str, &str)] = &[
    ("Scan 0042 (copy).TXT", "Invoice March 2024\nACME Corp, 3 widgets, 42.00 EUR\n"),
    ("untitled.md", "Meeting notes: roadmap review\n- ship v2 in May\n"),
    ("New Document (3).md", "Recipe: lemon cake\n200 g flour, 3 lemons\n"),
];

/// Longest stem `sanitize_filename` keeps, in characters.
pub const MAX_STEM: usize = 60;

/// Turns a proposed file name into the folder's convention: lowercase ASCII letters and digits
/// separated by single hyphens, an optional lowercase alphanumeric extension, at most 60
/// characters before it, no directories.
#[tool]
async fn sanitize_filename(
    /** the proposed name, e.g. "Meeting Notes (Final).TXT" */
    name: String,
) -> Result<String> {
    sanitized(&name)
}

/// The body of [`sanitize_filename`], for synchronous callers.
fn sanitized(name: &str) -> Result<String> {
    let (stem, ext) = match name.trim().rsplit_once('.') {
        Some((stem, ext))
            if !ext.is_empty()
                && ext.len() <= 10
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && stem.chars().any(|c| c.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext.to_ascii_lowercase()))
        }
        _ => (name.trim(), None),
    };
    let mut clean = String::with_capacity(stem.len());
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            clean.push(c.to_ascii_lowercase());
        } else if !clean.ends_with('-') {
            clean.push('-');
        }
    }
    let mut clean: String = clean.trim_matches('-').chars().take(MAX_STEM).collect();
    while clean.ends_with('-') {
        clean.pop();
    }
    if clean.is_empty() {
        return Err(Error::msg(format!(
            "{name:?} has no letters or digits to build a file name from; propose another name"
        )));
    }
    Ok(match ext {
        Some(ext) => format!("{clean}.{ext}"),
        None => clean,
    })
}

/// Arguments of `rename_file` (and of the approval requests for it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameArgs {
    /// The current name of a file in the folder.
    from: String,
    /// The new name; it must be the output of sanitize_filename.
    to: String,
}

/// A plain name of an entry directly in the folder: no separators, not `.` or `..`.
fn plain_name(name: &str) -> Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(Error::msg(format!("{name:?} is not a file name in the folder")));
    }
    Ok(name)
}

/// Renames a file inside `root` after checking both names (see [`rename_file`]).
async fn rename_in(root: &Path, args: RenameArgs) -> Result<String> {
    let from = plain_name(&args.from)?;
    let to = plain_name(&args.to)?;
    let sanitized = sanitize_filename(to.to_owned()).await?;
    if sanitized != to {
        return Err(Error::msg(format!(
            "{to:?} does not follow the naming convention; call sanitize_filename first (it gives {sanitized:?})"
        )));
    }
    let (src, dst) = (root.join(from), root.join(to));
    match std::fs::symlink_metadata(&src) {
        Ok(meta) if meta.is_file() => {}
        _ => return Err(Error::msg(format!("there is no regular file named {from:?}"))),
    }
    if std::fs::symlink_metadata(&dst).is_ok() {
        return Err(Error::msg(format!("{to:?} already exists; choose another name")));
    }
    std::fs::rename(&src, &dst).map_err(Error::other)?;
    Ok(format!("renamed {from:?} to {to:?}"))
}

/// The folder being organized: program state of the runtime, read by [`rename_file`].
struct Folder(PathBuf);

// Declares `Ask`: a model's renames wait for the approver.
/// Rename a file in the folder. The new name must be the output of sanitize_filename.
#[tool(approval = "ask")]
async fn rename_file(
    ctx: &Ctx,
    /** The current name of a file in the folder. */
    from: String,
    /** The new name; it must be the output of sanitize_filename. */
    to: String,
) -> Result<String> {
    let Folder(root) = ctx.state::<Folder>()?;
    rename_in(root, RenameArgs { from, to }).await
}

/// The input of `propose_name`.
#[derive(Serialize, JsonSchema)]
struct ProposeArgs {
    /// the start of the file
    content: String,
}

/// Longest name `propose_name` may answer, in characters (a tiny model's string can otherwise
/// run on until the token budget is spent).
pub const MAX_PROPOSAL: u64 = 40;

/// The naming worker: proposes a few words describing a file, from the start of its content.
/// Only a proposal: [`name_for`] (Rust) turns it into a valid name with the file's extension.
fn propose_name() -> Arc<CallableSpec> {
    WorkerSpecBuilder::new("propose_name")
        .description("Propose a short title for a file, from its content.")
        // No system turn: the tiny default model follows one concrete instruction best.
        .system("")
        .prompt("Write a short title of a few words for a file that starts with: \"{content}\"")
        .input::<ProposeArgs>()
        .output_schema(json!({
            "type": "string",
            "maxLength": MAX_PROPOSAL,
            "description": "a few words describing the file"
        }))
        .temperature(0.0)
        .max_turns(2)
        .build()
        .expect("the worker definition is valid")
}

/// The hardened half of naming: the proposal with the file's own extension, through
/// [`sanitize_filename`]'s convention. The extension is never left to the model.
fn name_for(file: &str, proposal: &str) -> Result<String> {
    match file.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => sanitized(&format!("{proposal}.{ext}")),
        _ => sanitized(proposal),
    }
}

/// The input of `organizer`.
#[derive(Serialize, JsonSchema)]
struct OrganizeArgs {
    /// extra instructions
    goal: String,
}

/// The organizing worker; its tools are found by name in the runtime.
fn organizer() -> Arc<CallableSpec> {
    WorkerSpecBuilder::new("organizer")
        .description("Give the files of a folder descriptive names.")
        .system(
            "You organize a folder. List its files, read each one, propose a short descriptive \
             name from its content (keep the extension), pass it through sanitize_filename, \
             then rename the file to the sanitized name with rename_file. Finally report what \
             you renamed.",
        )
        .prompt("Organize the folder. {goal}")
        .input::<OrganizeArgs>()
        .tool_name("list_files")
        .tool_name("read_file")
        .tool(sanitize_filename::spec)
        .tool(rename_file::spec)
        .temperature(0.0)
        .max_turns(12)
        .build()
        .expect("the worker definition is valid")
}

/// The example's runtime on the folder `root`; `builder` brings the model and the approver.
fn runtime(builder: RuntimeBuilder, root: &Path) -> anyhow::Result<Runtime> {
    let fs = Filesystem::new(root).context("opening the folder")?.read_only();
    let mut builder = builder
        .state(Folder(fs.root().to_path_buf()))
        .register(organizer())
        .register(propose_name())
        .register(sanitize_filename::spec)
        .register(rename_file::spec);
    for spec in fs.specs() {
        builder = builder.register(spec);
    }
    Ok(builder.build())
}

/// The rename an approval request asks about (`None` for any other call).
fn rename_asked(req: &ApprovalRequest) -> Option<RenameArgs> {
    (req.tool == "rename_file").then(|| serde_json::from_value(req.args.clone()).ok()).flatten()
}

/// Asks on the terminal: `y` approves this rename, anything else (or no terminal) denies it.
fn ask_terminal(req: &ApprovalRequest) -> Decision {
    let Some(rename) = rename_asked(req) else { return Decision::deny("not a rename") };
    eprintln!("rename {:?} → {:?}? [y/N]", rename.from, rename.to);
    match std::io::stdin().lock().lines().next().and_then(|l| l.ok()) {
        Some(line) if line.trim().eq_ignore_ascii_case("y") => Decision::ApproveOnce,
        _ => Decision::deny("the user said no"),
    }
}

/// A rename the naming step proposes: `from` → `to` (a name following the convention).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rename {
    from: String,
    to: String,
}

/// The naming step for every regular file directly in `root`, in name order: the worker
/// `propose_name` proposes a title from the file's first line (the stochastic part), and
/// [`name_for`] makes it a name with the file's own extension (the hardened part). Files whose
/// proposal gives no usable name, or their current name, are left out.
async fn plan(ctx: &Ctx, root: &Path) -> anyhow::Result<Vec<Rename>> {
    let mut files: Vec<String> = std::fs::read_dir(root)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    files.sort();
    let mut plan = Vec::new();
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(root.join(&file))?).into_owned();
        let first_line: String = text.lines().next().unwrap_or_default().chars().take(80).collect();
        let proposal: String =
            ctx.call("propose_name", ProposeArgs { content: first_line }).await?;
        match name_for(&file, &proposal) {
            Ok(to) if to != file => plan.push(Rename { from: file, to }),
            Ok(_) => eprintln!("  {file}: already named {proposal:?}"),
            Err(e) => eprintln!("  {file}: no name from {proposal:?} ({e})"),
        }
    }
    Ok(plan)
}

/// Carries out the renames `approve` allows (one question per rename); returns those done.
async fn apply(
    root: &Path,
    plan: &[Rename],
    mut approve: impl FnMut(&Rename) -> bool,
) -> Vec<Rename> {
    let mut done = Vec::new();
    for rename in plan {
        if !approve(rename) {
            continue;
        }
        let args = RenameArgs { from: rename.from.clone(), to: rename.to.clone() };
        match rename_in(root, args).await {
            Ok(_) => done.push(rename.clone()),
            Err(e) => eprintln!("  {} not renamed: {e}", rename.from),
        }
    }
    done
}

/// Asks on the terminal: `y` approves this rename, anything else (or no terminal) refuses it.
fn ask_rename(rename: &Rename) -> bool {
    eprintln!("rename {:?} → {:?}? [y/N]", rename.from, rename.to);
    let line = std::io::stdin().lock().lines().next().and_then(|l| l.ok());
    line.is_some_and(|l| l.trim().eq_ignore_ascii_case("y"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let yes = args.iter().any(|a| a == "--yes");
    let agent = args.iter().any(|a| a == "--agent");
    let dir = tempfile::tempdir()?;
    for (name, content) in SAMPLES {
        std::fs::write(dir.path().join(name), content)?;
    }
    let builder =
        Runtime::builder().subscribe(EventPrinter::stderr().calls(false).tool_results(true));
    if agent {
        // The whole loop is the worker's: it lists, reads, names and asks to rename.
        let builder =
            if yes { builder.approver(ApproveAll) } else { builder.approver(ask_terminal) };
        let rt = runtime(builder.with_default_providers(), dir.path())?;
        let goal = OrganizeArgs { goal: "Name each file after its content.".into() };
        let report: String = rt.ctx().call("organizer", goal).await?;
        println!("{report}");
    } else {
        // Rust lists and reads; the worker only proposes; Rust names and renames, asking first.
        let rt = runtime(builder.with_default_providers(), dir.path())?;
        let plan = plan(&rt.ctx(), dir.path()).await?;
        let done = apply(dir.path(), &plan, |r| yes || ask_rename(r)).await;
        for r in &done {
            println!("renamed {:?} → {:?}", r.from, r.to);
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("the folder now holds: {}", names.join(", "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::tools::fs::{ListFilesOutput, ReadFileOutput};
    use llm_do::{Message, ModelRequest, ToolResult};
    use serde::de::DeserializeOwned;
    use serde_json::Value;
    use std::sync::Mutex;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    fn sanitize(name: &str) -> Result<String> {
        let through_the_tool = block_on(sanitize_filename(name.to_owned()));
        assert_eq!(through_the_tool.as_ref().ok(), sanitized(name).as_ref().ok());
        through_the_tool
    }

    #[test]
    fn sanitize_filename_follows_the_convention() {
        assert_eq!(sanitize("Meeting Notes (Final) v2.TXT").unwrap(), "meeting-notes-final-v2.txt");
        assert_eq!(sanitize("  invoice_march 2024.PDF ").unwrap(), "invoice-march-2024.pdf");
        assert_eq!(sanitize("already-clean.md").unwrap(), "already-clean.md");
        assert_eq!(sanitize("no extension here").unwrap(), "no-extension-here");
        assert_eq!(sanitize("../../etc/passwd").unwrap(), "etc-passwd");
        assert_eq!(sanitize("C:\\Users\\x.doc").unwrap(), "c-users-x.doc");
        assert_eq!(sanitize(".hidden").unwrap(), "hidden");
        assert_eq!(sanitize("archive.tar.gz").unwrap(), "archive-tar.gz");
        assert_eq!(sanitize("Résumé 2024.pdf").unwrap(), "r-sum-2024.pdf");
        assert_eq!(sanitize("notes.with space").unwrap(), "notes-with-space");
        let long = "a".repeat(100) + ".md";
        assert_eq!(sanitize(&long).unwrap(), "a".repeat(MAX_STEM) + ".md");
        assert!(sanitize("").is_err());
        assert!(sanitize(" (!) ").is_err());
        assert!(sanitize("....").is_err());
        // Idempotent: a sanitized name stays as it is.
        for name in ["Meeting Notes (Final) v2.TXT", "../../etc/passwd", "archive.tar.gz"] {
            let once = sanitize(name).unwrap();
            assert_eq!(sanitize(&once).unwrap(), once);
        }
    }

    #[test]
    fn rename_file_accepts_only_sanitized_plain_names_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a b.txt"), "x").unwrap();
        std::fs::write(dir.path().join("taken.txt"), "y").unwrap();
        let rename = |from: &str, to: &str| {
            block_on(rename_in(dir.path(), RenameArgs { from: from.into(), to: to.into() }))
        };
        assert!(rename("a b.txt", "Not Clean.txt").unwrap_err().to_string().contains("sanitize"));
        assert!(rename("a b.txt", "../escaped.txt").is_err());
        assert!(rename("../a b.txt", "x.txt").is_err());
        assert!(rename("missing.txt", "x.txt").is_err());
        assert!(rename("a b.txt", "taken.txt").unwrap_err().to_string().contains("exists"));
        assert!(dir.path().join("a b.txt").exists());
        rename("a b.txt", "a-b.txt").unwrap();
        assert!(dir.path().join("a-b.txt").exists() && !dir.path().join("a b.txt").exists());
    }

    fn results_of(req: &ModelRequest, name: &str) -> Vec<ToolResult> {
        req.messages
            .iter()
            .filter_map(|m| match m {
                Message::Tool(r) if r.name == name => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    fn text_of(result: &ToolResult) -> String {
        serde_json::from_str::<String>(&result.content).unwrap_or_else(|_| result.content.clone())
    }

    /// A tool result decoded as the tool's output type (the stand-in model fails on anything
    /// else: the tools are the real ones).
    fn output_of<T: DeserializeOwned>(result: &ToolResult) -> T {
        serde_json::from_str(&result.content).expect("a result of the tool's output type")
    }

    /// A stand-in model that follows the system prompt: list, read each file, propose its
    /// first line (plus the old extension) as the name, sanitize it, rename, report.
    fn organizer_model() -> ScriptedModel {
        ScriptedModel::new(|req: &ModelRequest| {
            let batch = llm_do_examples::conversation::last_tool_results(req);
            let Some(last) = batch.last() else {
                return Ok(Reply::tool_call("list_files", json!({ "pattern": "*" })));
            };
            Ok(match last.name.as_str() {
                "list_files" => {
                    let listing: ListFilesOutput = output_of(last);
                    let files: Vec<_> = listing
                        .entries
                        .iter()
                        .filter(|e| !e.ends_with('/'))
                        .map(|e| ("read_file", json!({ "path": e })))
                        .collect();
                    Reply::tool_calls(files)
                }
                "read_file" => Reply::tool_calls(batch.iter().map(|r| {
                    let read: ReadFileOutput = output_of(r);
                    let first_line = read.content.lines().next();
                    let ext = read.path.rsplit_once('.').map(|(_, e)| e).unwrap_or("txt");
                    let proposal = format!("{}.{ext}", first_line.unwrap_or("file"));
                    ("sanitize_filename", json!({ "name": proposal }))
                })),
                "sanitize_filename" => {
                    let reads = results_of(req, "read_file");
                    Reply::tool_calls(reads.iter().zip(&batch).map(|(read, name)| {
                        let read: ReadFileOutput = output_of(read);
                        ("rename_file", json!({ "from": read.path, "to": text_of(name) }))
                    }))
                }
                _ => {
                    let done = batch.iter().filter(|r| !r.is_error).count();
                    Reply::text(format!("renamed {done} of {} files", batch.len()))
                }
            })
        })
    }

    #[test]
    fn the_worker_renames_what_the_approver_allows() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in SAMPLES {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let asked = Arc::new(Mutex::new(Vec::<ApprovalRequest>::new()));
        let seen = asked.clone();
        // Approves every rename except the recipe's.
        let approver = move |req: &ApprovalRequest| {
            seen.lock().unwrap().push(req.clone());
            if rename_asked(req).is_some_and(|r| r.to.starts_with("recipe")) {
                Decision::deny("keep the recipe as it is")
            } else {
                Decision::ApproveOnce
            }
        };
        let builder = Runtime::builder().model_override(organizer_model()).approver(approver);
        let rt = runtime(builder.ignore_env(), dir.path()).unwrap();
        let goal = OrganizeArgs { goal: "Name each file after its content.".into() };
        let report: String = block_on(rt.ctx().call("organizer", goal)).unwrap();
        assert_eq!(report, "renamed 2 of 3 files");

        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["New Document (3).md", "invoice-march-2024.txt", "meeting-notes-roadmap-review.md"]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("invoice-march-2024.txt")).unwrap(),
            SAMPLES[0].1,
            "renamed, not rewritten"
        );
        // Only the renames were gated: listing, reading and sanitizing are not asked about.
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 3);
        assert!(asked.iter().all(|r| r.tool == "rename_file" && r.caller == "organizer"));
    }

    #[test]
    fn without_an_approver_nothing_is_renamed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("untitled.md"), "Shopping list\n").unwrap();
        let rt =
            runtime(Runtime::builder().model_override(organizer_model()).ignore_env(), dir.path())
                .unwrap();
        let goal = OrganizeArgs { goal: String::new() };
        let report: String = block_on(rt.ctx().call("organizer", goal)).unwrap();
        assert_eq!(report, "renamed 0 of 1 files");
        assert!(dir.path().join("untitled.md").exists());
    }

    // The embedded model's proposals. `file_organizer/cassettes/proposals.json` was recorded
    // from `local:smollm2`; the test replays it offline. Re-record with
    // `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example file_organizer`.

    /// The least share of hot samples that must pass both invariants (see the printed report
    /// for what the recorded model does: 11 of 12 at the last recording).
    const MIN_PROPOSAL_PASS_RATE: f64 = 0.75;

    /// The extension of a file name (lowercase), if any.
    fn extension(name: &str) -> Option<String> {
        name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase())
    }

    /// The words of a text (lowercase ASCII letters and digits, at least three of them).
    fn words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_ascii_lowercase)
            .collect()
    }

    #[test]
    fn sampled_hot_proposals_sanitize_to_names_keeping_the_extension() {
        let cassette =
            llm_do_examples::cassettes::recorded("file_organizer/cassettes/proposals.json");
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(llm_do_examples::cassettes::builder(&cassette).ignore_env(), dir.path())
            .unwrap();
        let ctx = rt.ctx();
        let mut sampler = llm_do::testing::Sampler::new(&ctx, propose_name());
        for (_, content) in SAMPLES {
            let first_line = content.lines().next().unwrap_or_default();
            sampler = sampler.input(json!({ "content": first_line }));
        }
        let report = block_on(
            sampler
                .runs(4)
                .temperature(0.8)
                .concurrency(1)
                .invariant("sanitizes to a name", |p: &String| sanitized(p).is_ok())
                .invariant("shares a word with the content", |p: &String| {
                    // (The invariant sees only the output; every sample's input is checked
                    // below: here, a word of any sample's first line.)
                    let proposed = words(p);
                    SAMPLES.iter().any(|(_, c)| words(c).iter().any(|w| proposed.contains(w)))
                })
                .sample(),
        )
        .unwrap();
        llm_do_examples::cassettes::assert_replayed(
            &cassette,
            "file_organizer/cassettes/proposals.json",
        );
        println!("{report}");
        assert_eq!(report.samples.len(), SAMPLES.len() * 4);
        assert!(report.pass_rate() >= MIN_PROPOSAL_PASS_RATE, "{report}");
        // For every sample: its own content's word (the invariant above is looser), and the
        // hardened half: whatever the model said, the final name keeps the file's extension
        // and follows the convention.
        for sample in &report.samples {
            let Some(proposal) = sample.output.as_ref().and_then(Value::as_str) else { continue };
            let content = sample.input["content"].as_str().unwrap();
            let (file, _) = SAMPLES.iter().find(|(_, c)| c.starts_with(content)).unwrap();
            if sample.passed() {
                let proposed = words(proposal);
                assert!(words(content).iter().any(|w| proposed.contains(w)), "{proposal:?}");
            }
            if let Ok(name) = name_for(file, proposal) {
                assert_eq!(extension(&name), extension(file).map(|e| e.to_ascii_lowercase()));
                assert_eq!(sanitized(&name).unwrap(), name, "a fixed point of the convention");
            }
        }
    }

    /// The default flow on the recorded model (`file_organizer/cassettes/organize.json`, at
    /// temperature 0): every rename the approver allows happens, to a name that is a fixed
    /// point of the convention keeping the file's extension; the refused one does not.
    #[test]
    fn recorded_plan_renames_only_what_is_approved() {
        let cassette =
            llm_do_examples::cassettes::recorded("file_organizer/cassettes/organize.json");
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in SAMPLES {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let rt = runtime(llm_do_examples::cassettes::builder(&cassette).ignore_env(), dir.path())
            .unwrap();
        let plan = block_on(plan(&rt.ctx(), dir.path())).unwrap();
        llm_do_examples::cassettes::assert_replayed(
            &cassette,
            "file_organizer/cassettes/organize.json",
        );
        println!("{plan:#?}");
        assert!(plan.len() >= 2, "the recorded model names at least two files: {plan:?}");
        for r in &plan {
            assert_eq!(sanitized(&r.to).unwrap(), r.to, "a fixed point of the convention");
            assert_eq!(extension(&r.to), extension(&r.from), "{r:?}");
            assert!(SAMPLES.iter().any(|(name, _)| *name == r.from));
        }

        // Refuse the first rename, approve the others.
        let mut asked = Vec::new();
        let done = block_on(apply(dir.path(), &plan, |r| {
            asked.push(r.clone());
            asked.len() > 1
        }));
        assert_eq!(asked, plan, "every rename was asked about, once");
        assert_eq!(done, plan[1..]);
        let refused = &plan[0];
        assert!(dir.path().join(&refused.from).exists() && !dir.path().join(&refused.to).exists());
        for r in &done {
            assert!(!dir.path().join(&r.from).exists());
            let content = SAMPLES.iter().find(|(n, _)| *n == r.from).unwrap().1;
            let renamed = std::fs::read_to_string(dir.path().join(&r.to)).unwrap();
            assert_eq!(renamed, content, "renamed, not rewritten");
        }
    }
}
