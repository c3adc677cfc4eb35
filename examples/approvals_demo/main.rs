//! Approvals: a worker that writes files, where every write its model asks for waits for a
//! decision — approve once, approve for the session, or deny.
//!
//! ```text
//! cargo run -p llm-do-examples --example approvals_demo [-- "what to note"]
//! ```
//!
//! The worker `note_taker` has one tool, the sandboxed `write_file` of
//! `llm_do::tools::fs::Filesystem` (rooted at a fresh temporary directory), which declares the
//! approval verdict `Ask`. `main` answers the asks on the terminal through a
//! `ChannelApprover`: `o` approves the call once, `s` approves it and identical calls (same
//! tool, same arguments) for the rest of the session, anything else denies it. A denied call
//! never runs; the model receives a permission error as the tool result. Without a terminal
//! (stdin closed) every ask is denied: nothing that needs approval runs unattended.
//!
//! `main` runs on the default setup (the embedded `local:smollm2` when nothing is configured).

use anyhow::Context as _;
use llm_do::approval::{ApprovalRequest, ChannelApprover, Decision};
use llm_do::prelude::*;
use llm_do::setup::RuntimeBuilderExt;
use llm_do::tools::fs::Filesystem;
use llm_do::{CallableSpec, Event, EventKind, RuntimeBuilder, WorkerSpecBuilder};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// The note-taking worker: its only tool is `write_file`, found by name in the runtime.
fn note_taker() -> Arc<CallableSpec> {
    WorkerSpecBuilder::new("note_taker")
        .description("Write notes to markdown files.")
        .system(
            "You keep notes. Save the note the user gives you with the write_file tool, as a \
             markdown file under notes/, then say which file you wrote.",
        )
        .prompt("Save this note: {note}")
        .input_schema(json!({
            "type": "object",
            "properties": { "note": { "type": "string", "description": "the note to save" } },
            "required": ["note"]
        }))
        .tool_name("write_file")
        .temperature(0.0)
        .max_turns(4)
        .build()
        .expect("the worker definition is valid")
}

/// The example's runtime: the worker and a filesystem toolset rooted at `root`, on `builder`
/// (which brings the model and the approver).
fn runtime(builder: RuntimeBuilder, root: &Path) -> anyhow::Result<Runtime> {
    let fs = Filesystem::new(root).context("opening the notes directory")?;
    let mut builder = builder.register(note_taker());
    for spec in fs.specs() {
        builder = builder.register(spec);
    }
    Ok(builder.build())
}

/// Asks the worker to save one note; returns its final answer.
async fn take_note(ctx: &Ctx, note: &str) -> Result<String> {
    ctx.call("note_taker", json!({ "note": note })).await
}

/// Reads a decision for `request` from a line of text: `o`, `s`, or anything else (deny).
fn decision_from(line: Option<&str>, request: &ApprovalRequest) -> Decision {
    match line.map(str::trim) {
        Some("o") => Decision::ApproveOnce,
        Some("s") => Decision::ApproveForSession,
        Some(_) => Decision::deny(format!("the user refused {}", request.tool)),
        None => Decision::deny("no one is at the terminal to approve"),
    }
}

fn print_event(event: &Event) {
    match &event.kind {
        EventKind::ApprovalDecided { tool, approved, decision, .. } => {
            eprintln!(
                "  approval: {tool} → {} ({decision})",
                if *approved { "runs" } else { "denied" }
            )
        }
        EventKind::ToolResult { result } => eprintln!("  {} → {}", result.name, result.content),
        _ => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let note = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Buy milk, call the plumber, renew the passport.".to_owned());
    let dir = tempfile::tempdir()?;
    let (approver, mut requests) = ChannelApprover::new(1);
    // The terminal side: shows each ask and reads the answer from stdin.
    tokio::spawn(async move {
        while let Some(pending) = requests.next().await {
            let req = pending.request();
            eprintln!(
                "{} wants to call {} with {} ({}). [o]nce / [s]ession / anything else denies:",
                req.caller, req.tool, req.args, req.reason
            );
            let line = tokio::task::spawn_blocking(|| {
                std::io::stdin().lock().lines().next().and_then(|l| l.ok())
            })
            .await
            .ok()
            .flatten();
            let decision = decision_from(line.as_deref(), req);
            pending.answer(decision);
        }
    });
    let builder = Runtime::builder().approver(approver).subscribe(print_event);
    let rt = runtime(builder.with_default_providers(), dir.path())?;
    let answer = take_note(&rt.ctx(), &note).await?;
    println!("{answer}");
    let notes = dir.path().join("notes");
    if let Ok(entries) = std::fs::read_dir(&notes) {
        for entry in entries.flatten() {
            println!("--- {}", entry.path().display());
            println!("{}", std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::EventLog;
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{Message, ModelRequest};
    use std::sync::Mutex;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// A stand-in model: writes the note to `notes/<first word>.md`, then reports the tool's
    /// result (success or error) as its answer.
    fn writer() -> ScriptedModel {
        ScriptedModel::new(|req: &ModelRequest| {
            if let Some(Message::Tool(result)) = req.messages.last() {
                let status = if result.is_error { "not saved" } else { "saved" };
                return Ok(Reply::text(format!("{status}: {}", result.content)));
            }
            let note = req
                .messages
                .iter()
                .find_map(|m| match m {
                    Message::User { content } => content.strip_prefix("Save this note: "),
                    _ => None,
                })
                .unwrap_or_default();
            let word: String = note.chars().take_while(|c| c.is_alphanumeric()).collect();
            Ok(Reply::tool_call(
                "write_file",
                json!({ "path": format!("notes/{}.md", word.to_lowercase()), "content": note }),
            ))
        })
    }

    /// An approver answering from a script, recording what it was asked.
    #[derive(Clone, Default)]
    struct Scripted {
        answers: Arc<Mutex<Vec<Decision>>>,
        asked: Arc<Mutex<Vec<ApprovalRequest>>>,
    }

    impl Scripted {
        fn new(answers: impl IntoIterator<Item = Decision>) -> Self {
            let mut answers: Vec<_> = answers.into_iter().collect();
            answers.reverse();
            Self { answers: Arc::new(Mutex::new(answers)), ..Self::default() }
        }
        fn approver(&self) -> impl Fn(&ApprovalRequest) -> Decision + Send + Sync + 'static {
            let this = self.clone();
            move |req: &ApprovalRequest| {
                this.asked.lock().unwrap().push(req.clone());
                this.answers.lock().unwrap().pop().unwrap_or_else(|| Decision::deny("unscripted"))
            }
        }
        fn asked(&self) -> usize {
            self.asked.lock().unwrap().len()
        }
    }

    #[test]
    fn approve_once_then_for_the_session_then_deny() {
        let dir = tempfile::tempdir().unwrap();
        let approver = Scripted::new([
            Decision::ApproveOnce,
            Decision::ApproveForSession,
            Decision::deny("not that one"),
        ]);
        let log = EventLog::new();
        let builder = Runtime::builder()
            .model_override(writer())
            .approver(approver.approver())
            .subscribe(log.clone())
            .ignore_env();
        let rt = runtime(builder, dir.path()).unwrap();
        let ctx = rt.ctx();
        let todo = dir.path().join("notes/todo.md");

        // 1. Approved once: the file is written.
        let answer = block_on(take_note(&ctx, "Todo: buy milk")).unwrap();
        assert!(answer.starts_with("saved"), "{answer}");
        assert_eq!(std::fs::read_to_string(&todo).unwrap(), "Todo: buy milk");
        assert_eq!(approver.asked(), 1);
        let first = approver.asked.lock().unwrap()[0].clone();
        assert_eq!((first.tool.as_str(), first.caller.as_str()), ("write_file", "note_taker"));
        assert_eq!(first.args["path"], "notes/todo.md");

        // 2. The identical call is asked again (a once-approval does not stick), and approved
        //    for the session.
        std::fs::remove_file(&todo).unwrap();
        block_on(take_note(&ctx, "Todo: buy milk")).unwrap();
        assert_eq!(approver.asked(), 2);
        assert!(todo.exists());

        // 3. The identical call again: the session approval holds, nobody is asked.
        std::fs::remove_file(&todo).unwrap();
        block_on(take_note(&ctx, "Todo: buy milk")).unwrap();
        assert_eq!(approver.asked(), 2);
        assert!(todo.exists());

        // 4. A different call is asked and denied: nothing is written, the model is told.
        let answer = block_on(take_note(&ctx, "Secrets: the safe code")).unwrap();
        assert_eq!(approver.asked(), 3);
        assert!(!dir.path().join("notes/secrets.md").exists());
        assert!(answer.starts_with("not saved: "), "{answer}");
        assert!(answer.contains("not that one"), "{answer}");

        // The events tell the same story.
        let decided: Vec<bool> = log
            .events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ApprovalDecided { approved, .. } => Some(*approved),
                _ => None,
            })
            .collect();
        assert_eq!(decided, [true, true, true, false]);
    }

    #[test]
    fn a_channel_approver_waits_for_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (approver, mut requests) = ChannelApprover::new(1);
            let answers = tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(pending) = requests.next().await {
                    seen.push(pending.request().args["path"].as_str().unwrap_or("").to_owned());
                    // The terminal's parser: "o" approves once, "x" denies.
                    let line = if seen.len() == 1 { "o" } else { "x" };
                    let decision = decision_from(Some(line), pending.request());
                    pending.answer(decision);
                }
                seen
            });
            let builder =
                Runtime::builder().model_override(writer()).approver(approver).ignore_env();
            let runtime = runtime(builder, dir.path()).unwrap();
            let ctx = runtime.ctx();
            take_note(&ctx, "Groceries: eggs").await.unwrap();
            let denied = take_note(&ctx, "Plans: none").await.unwrap();
            assert!(denied.contains("the user refused write_file"), "{denied}");
            drop(runtime);
            drop(ctx);
            assert_eq!(answers.await.unwrap(), ["notes/groceries.md", "notes/plans.md"]);
        });
        assert!(dir.path().join("notes/groceries.md").exists());
        assert!(!dir.path().join("notes/plans.md").exists());
    }

    #[test]
    fn without_an_approver_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let rt =
            runtime(Runtime::builder().model_override(writer()).ignore_env(), dir.path()).unwrap();
        let answer = block_on(take_note(&rt.ctx(), "Todo: nothing")).unwrap();
        assert!(answer.starts_with("not saved"), "{answer}");
        assert!(!dir.path().join("notes").exists());
    }
}
