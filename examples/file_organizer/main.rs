//! File organizer: a worker reads the files of a folder and gives each a descriptive name. The
//! naming convention is hardened Rust (`sanitize_filename`), and every rename waits for
//! approval.
//!
//! ```text
//! cargo run -p llm-do-examples --example file_organizer [-- --yes]
//! ```
//!
//! The worker `organizer` decides what each file should be called (the stochastic part). It
//! sees the folder only through sandboxed tools: `list_files` and `read_file` from
//! `llm_do::tools::fs::Filesystem` (read-only), the deterministic `sanitize_filename`, and
//! `rename_file`, which declares the approval verdict `Ask` and only accepts plain file names
//! inside the folder that are already sanitized. `main` copies a few sample files into a
//! temporary folder, asks before each rename on the terminal (`y` approves; `--yes` approves
//! all), and lists the folder afterwards.
//!
//! `main` runs on the default setup (the embedded `local:smollm2` when nothing is configured).

use anyhow::Context as _;
use llm_do::approval::{ApprovalRequest, ApproveAll, Decision, Verdict};
use llm_do::prelude::*;
use llm_do::setup::RuntimeBuilderExt;
use llm_do::tools::fs::Filesystem;
use llm_do::{CallableSpec, Event, EventKind, RuntimeBuilder, ToolSpecBuilder, WorkerSpecBuilder};
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

/// Arguments of `rename_file`.
#[derive(Debug, Deserialize, JsonSchema)]
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

/// `rename_file`: renames a file directly in `root`. Declares `Ask`: a model's renames wait for
/// the approver.
fn rename_file(root: PathBuf) -> Arc<CallableSpec> {
    ToolSpecBuilder::new("rename_file")
        .description(
            "Rename a file in the folder. The new name must be the output of sanitize_filename.",
        )
        .input::<RenameArgs>()
        .approval(Verdict::Ask)
        .handler(move |_ctx: Ctx, args| {
            let root = root.clone();
            async move {
                let args: RenameArgs = serde_json::from_value(args).map_err(|e| {
                    Error::InvalidArguments { name: "rename_file".into(), message: e.to_string() }
                })?;
                Ok(json!(rename_in(&root, args).await?))
            }
        })
        .build()
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
        .input_schema(json!({
            "type": "object",
            "properties": { "goal": { "type": "string", "description": "extra instructions" } },
            "required": ["goal"]
        }))
        .tool_name("list_files")
        .tool_name("read_file")
        .tool(sanitize_filename::spec)
        .tool_name("rename_file")
        .temperature(0.0)
        .max_turns(12)
        .build()
        .expect("the worker definition is valid")
}

/// The example's runtime on the folder `root`; `builder` brings the model and the approver.
fn runtime(builder: RuntimeBuilder, root: &Path) -> anyhow::Result<Runtime> {
    let fs = Filesystem::new(root).context("opening the folder")?.read_only();
    let root = fs.root().to_path_buf();
    let mut builder = builder
        .register(organizer())
        .register(sanitize_filename::spec())
        .register(rename_file(root));
    for spec in fs.specs() {
        builder = builder.register(spec);
    }
    Ok(builder.build())
}

/// Asks on the terminal: `y` approves this rename, anything else (or no terminal) denies it.
fn ask_terminal(req: &ApprovalRequest) -> Decision {
    eprintln!("rename {} → {}? [y/N]", req.args["from"], req.args["to"]);
    match std::io::stdin().lock().lines().next().and_then(|l| l.ok()) {
        Some(line) if line.trim().eq_ignore_ascii_case("y") => Decision::ApproveOnce,
        _ => Decision::deny("the user said no"),
    }
}

fn print_event(event: &Event) {
    if let EventKind::ToolResult { result } = &event.kind {
        let mark = if result.is_error { "✗" } else { "←" };
        eprintln!("  {mark} {}: {}", result.name, result.content.lines().next().unwrap_or(""));
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let yes = std::env::args().skip(1).any(|a| a == "--yes");
    let dir = tempfile::tempdir()?;
    for (name, content) in SAMPLES {
        std::fs::write(dir.path().join(name), content)?;
    }
    let builder = Runtime::builder().subscribe(print_event);
    let builder = if yes { builder.approver(ApproveAll) } else { builder.approver(ask_terminal) };
    let rt = runtime(builder.with_default_providers(), dir.path())?;
    let report: String =
        rt.ctx().call("organizer", json!({ "goal": "Name each file after its content." })).await?;
    println!("{report}");
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
    use llm_do::{Message, ModelRequest, ToolResult};
    use serde_json::Value;
    use std::sync::Mutex;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    fn sanitize(name: &str) -> Result<String> {
        block_on(sanitize_filename(name.to_owned()))
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
                    let listing: Value = serde_json::from_str(&last.content).unwrap_or_default();
                    let files: Vec<_> = listing["entries"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .filter(|e| !e.ends_with('/'))
                        .map(|e| ("read_file", json!({ "path": e })))
                        .collect();
                    Reply::tool_calls(files)
                }
                "read_file" => Reply::tool_calls(batch.iter().map(|r| {
                    let read: Value = serde_json::from_str(&r.content).unwrap_or_default();
                    let path = read["path"].as_str().unwrap_or_default();
                    let first_line = read["content"].as_str().unwrap_or_default().lines().next();
                    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("txt");
                    let proposal = format!("{}.{ext}", first_line.unwrap_or("file"));
                    ("sanitize_filename", json!({ "name": proposal }))
                })),
                "sanitize_filename" => {
                    let reads = results_of(req, "read_file");
                    Reply::tool_calls(reads.iter().zip(&batch).map(|(read, name)| {
                        let read: Value = serde_json::from_str(&read.content).unwrap_or_default();
                        ("rename_file", json!({ "from": read["path"], "to": text_of(name) }))
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
            if req.args["to"].as_str().is_some_and(|to| to.starts_with("recipe")) {
                Decision::deny("keep the recipe as it is")
            } else {
                Decision::ApproveOnce
            }
        };
        let builder = Runtime::builder().model_override(organizer_model()).approver(approver);
        let rt = runtime(builder.ignore_env(), dir.path()).unwrap();
        let report: String = block_on(
            rt.ctx().call("organizer", json!({ "goal": "Name each file after its content." })),
        )
        .unwrap();
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
        let report: String = block_on(rt.ctx().call("organizer", json!({ "goal": "" }))).unwrap();
        assert_eq!(report, "renamed 0 of 1 files");
        assert!(dir.path().join("untitled.md").exists());
    }
}
