//! `llm-do chat PROJECT [--worker W]`: a conversation with a project's worker.
//!
//! Each input is one turn of a [`Conversation`] ([`Ctx::chat_value`](llm_do::Ctx::chat_value)):
//! the worker sees the history (trimmed by `--keep-turns`, `--max-history-tokens`,
//! `--summarise-with`) and its prompt rendered from the input.
//!
//! - On a terminal (stdin and stdout): a line editor ([`input`]), the worker's text streamed as
//!   it arrives and its nested calls as lines ([`view`]), approvals asked inline, the commands
//!   of [`HELP`]; Ctrl-C cancels the turn in flight (its future, and so its HTTP request, is
//!   dropped; the history keeps nothing of it), Ctrl-D or `/exit` leaves.
//! - Otherwise: one turn per input line, one answer per turn on stdout (`--json`: one JSON
//!   object per line, for commands too). The exit code is 0 when every turn succeeded.
//!
//! `--log FILE` records every turn's events in a run log (flushed after each turn).

mod input;
mod view;

use crate::app::{checked, host_builder};
use crate::approve::{Abort, AnswerReader, HeadlessApprover, TerminalApprover};
use crate::display::{Display, Mode};
use crate::exit::Exit;
use crate::run_log::RunLogWriter;
use clap::{ArgAction, Args};
use futures::FutureExt as _;
use input::{LineInput, Read};
use llm_do::approval::{ApproveAll, DenyAll};
use llm_do::history::{HistoryProcessor, KeepLastTurns, Summarise, TokenBudget};
use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider};
use llm_do::setup::RuntimeBuilderExt as _;
use llm_do::{CallableSpec, Conversation, Ctx, ModelRef, Registry, Usage};
use llm_do_project::ApprovalMode;
use serde_json::{Value, json};
use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::sync::Arc;
use view::{ChatView, terminal_safe};

/// The arguments of `llm-do chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The project directory.
    project: PathBuf,
    /// The worker to chat with (default: `entry` of llm-do.toml, else `main`, else the only
    /// worker). Each input is its prompt's one parameter, or a JSON object of its parameters.
    #[arg(long)]
    worker: Option<String>,
    /// The model of every file worker (`provider:name`, e.g. `local:smollm2`).
    #[arg(long)]
    model: Option<String>,
    /// Keep only the last N turns of history (the new one included).
    #[arg(long, value_name = "N")]
    keep_turns: Option<usize>,
    /// Keep only the newest turns that fit this many tokens (reported by the provider where
    /// known, estimated otherwise); an input that alone needs more is refused.
    #[arg(long, value_name = "TOKENS")]
    max_history_tokens: Option<u64>,
    /// Replace older turns by a summary this worker writes (from the transcript, its one
    /// parameter) once there are more than 4, keeping the last 2.
    #[arg(long, value_name = "WORKER")]
    summarise_with: Option<String>,
    /// Approve every tool call that needs approval (no prompts).
    #[arg(long, conflicts_with = "deny_all")]
    approve_all: bool,
    /// Deny every tool call that needs approval (the model is told; the turn goes on).
    #[arg(long)]
    deny_all: bool,
    /// Without a terminal: print one JSON object per input line.
    #[arg(long)]
    json: bool,
    /// Show more: -v the tool calls models ask for.
    #[arg(short, long, action = ArgAction::Count)]
    verbose: u8,
    /// Write a run log of every turn (see docs/cli.md for the schema).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

/// The commands, as `/help` prints them.
pub(crate) const HELP: &str = "\
/save FILE   save the conversation (JSON) to FILE
/load FILE   replace the conversation with the one saved in FILE
/reset       forget the conversation
/usage       turns, history size and tokens used
/help        this text
/exit        leave (Ctrl-D too); Ctrl-C cancels the answer in progress
A line ending with \\ continues on the next line.";

/// Everything a session needs.
struct Session {
    ctx: Ctx,
    spec: Arc<CallableSpec>,
    conversation: Conversation,
    log: Option<RunLogWriter>,
    abort: Abort,
    json: bool,
}

/// `llm-do chat`.
pub(crate) async fn chat(args: ChatArgs, host: Registry) -> Exit {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let display = Display::new(Mode::Plain, args.verbose);
    let view = ChatView::new(display.clone());
    let input = if interactive {
        match LineInput::start() {
            Ok(input) => Some(input),
            Err(e) => return usage_error(format!("cannot start the line editor: {e}")),
        }
    } else {
        None
    };
    let mut session = match start(&args, &host, display, &view, input.as_ref()) {
        Ok(session) => session,
        Err(message) => return usage_error(message),
    };
    match input {
        Some(input) => interactive_loop(&mut session, &view, &input).await,
        None => scripted_loop(&mut session).await,
    }
}

fn usage_error(message: impl std::fmt::Display) -> Exit {
    eprintln!("llm-do: {message}");
    Exit::Usage
}

/// Loads the project and builds the runtime and the conversation.
fn start(
    args: &ChatArgs,
    host: &Registry,
    display: Display,
    view: &ChatView,
    input: Option<&LineInput>,
) -> Result<Session, String> {
    let project = checked(&args.project, host)?;
    let entry = match (&args.worker, project.entry()) {
        (Some(w), _) => w.clone(),
        (None, Some(e)) => e.to_owned(),
        (None, None) => {
            return Err(format!(
                "{} has several workers and no entry: pass --worker NAME",
                args.project.display()
            ));
        }
    };
    let mut specs: Vec<Arc<CallableSpec>> = host.iter().cloned().collect();
    specs.extend(project.specs().cloned());
    let mut builder = project.register(host_builder(host).with_default_providers());
    if input.is_some() && std::env::var_os("OPENAI_API_KEY").is_some() {
        // On a terminal the answer is shown as it arrives: ask OpenAI-compatible servers for a
        // stream (the default provider asks for whole answers).
        if let Ok(config) = OpenAiConfig::from_env() {
            builder = builder.provider("openai", OpenAiProvider::new(config.streaming(true)));
        }
    }
    if let Some(model) = &args.model {
        ModelRef::parse(model).map_err(|e| format!("--model: {e}"))?;
        builder = builder.default_model(model.clone());
        for w in project.workers() {
            let mut w = w.clone();
            w.model = Some(model.clone());
            let spec = w.to_spec().map_err(|e| e.to_string())?;
            specs.retain(|s| s.name() != spec.name());
            specs.push(spec.clone());
            builder = builder.register(spec);
        }
    }
    let spec = specs.iter().rev().find(|s| s.name() == entry).cloned().ok_or_else(|| {
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        format!("no worker named `{entry}` (known: {})", names.join(", "))
    })?;
    if spec.worker().is_none() {
        return Err(format!("`{entry}` is a tool: only a worker can chat"));
    }
    if let Some(summariser) = &args.summarise_with {
        if !specs.iter().any(|s| s.name() == summariser && s.worker().is_some()) {
            return Err(format!("--summarise-with: no worker named `{summariser}`"));
        }
    }
    let abort = Abort::new();
    builder = if args.approve_all {
        builder.approver(ApproveAll)
    } else if args.deny_all {
        builder.approver(DenyAll)
    } else if project.config().approval_mode != ApprovalMode::Prompt {
        builder
    } else if let Some(input) = input {
        let input = input.clone();
        let view = view.clone();
        let reader: AnswerReader = Arc::new(move |question: String| {
            let input = input.clone();
            view.end_line();
            Box::pin(async move {
                // The question's last line is the prompt the editor shows.
                let (preface, prompt) = match question.rfind('\n') {
                    Some(i) => (question[..=i].to_owned(), question[i + 1..].to_owned()),
                    None => (String::new(), question),
                };
                match input.read(preface, &prompt, false).await {
                    Read::Line(line) => Some(line),
                    Read::Interrupted | Read::Eof => None,
                }
            })
        });
        builder.approver(TerminalApprover::with_reader(display.clone(), abort.clone(), reader))
    } else {
        builder.approver(HeadlessApprover::new(abort.clone()))
    };
    // On a terminal the view streams text and shows nested calls; otherwise the display's
    // plain lines go to stderr, as for `llm-do run`.
    builder =
        if input.is_some() { builder.subscribe(view.clone()) } else { builder.subscribe(display) };
    let log = match &args.log {
        Some(path) => {
            let writer = RunLogWriter::create(path, &specs)
                .map_err(|e| format!("cannot create the run log {}: {e}", path.display()))?;
            builder = builder.subscribe(writer.clone());
            Some(writer)
        }
        None => None,
    };
    let mut processors: Vec<Arc<dyn HistoryProcessor>> = Vec::new();
    if let Some(worker) = &args.summarise_with {
        processors.push(Arc::new(Summarise::new(worker.clone())));
    }
    if let Some(n) = args.keep_turns {
        processors.push(Arc::new(KeepLastTurns(n)));
    }
    if let Some(tokens) = args.max_history_tokens {
        processors.push(Arc::new(TokenBudget::new(tokens)));
    }
    let mut conversation = Conversation::new();
    if !processors.is_empty() {
        conversation.set_processor(Some(Arc::new(processors)));
    }
    Ok(Session { ctx: builder.build().ctx(), spec, conversation, log, abort, json: args.json })
}

/// The arguments of a turn from an input line: the text for a worker with one parameter, else
/// a JSON object of its parameters.
fn turn_input(spec: &CallableSpec, line: &str) -> Result<Value, String> {
    let params = spec.input_schema()["properties"].as_object().map_or(0, |p| p.len());
    if params == 1 {
        return Ok(Value::String(line.to_owned()));
    }
    match serde_json::from_str::<Value>(line) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(format!(
            "`{}` takes {params} parameters: type them as one JSON object matching {}",
            spec.name(),
            spec.input_schema()
        )),
    }
}

/// What a command did, for the person or (`--json`) the script.
enum Outcome {
    Said(String),
    Failed(String),
    Exit,
    NotACommand,
}

impl Session {
    fn command(&mut self, line: &str) -> Outcome {
        let line = line.trim();
        if !line.starts_with('/') {
            return Outcome::NotACommand;
        }
        let (name, arg) = match line.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, arg.trim()),
            None => (line, ""),
        };
        match (name, arg) {
            ("/exit" | "/quit", _) => Outcome::Exit,
            ("/help", _) => Outcome::Said(HELP.to_owned()),
            ("/reset", _) => {
                self.conversation.reset();
                Outcome::Said("the conversation is empty".to_owned())
            }
            ("/usage", _) => Outcome::Said(self.usage_text()),
            ("/save" | "/load", "") => Outcome::Failed(format!("{name} needs a file: {name} FILE")),
            ("/save", file) => match self.conversation.save(file) {
                Ok(()) => Outcome::Said(format!(
                    "saved {} turns ({} messages) to {file}",
                    self.conversation.turns(),
                    self.conversation.len()
                )),
                Err(e) => Outcome::Failed(e.to_string()),
            },
            ("/load", file) => match self.conversation.load(file) {
                Ok(()) => Outcome::Said(format!(
                    "loaded {} turns ({} messages) from {file}",
                    self.conversation.turns(),
                    self.conversation.len()
                )),
                Err(e) => Outcome::Failed(format!(
                    "cannot load {file}: {e}; the conversation is unchanged"
                )),
            },
            _ => Outcome::Failed(format!("unknown command {name}; /help lists them")),
        }
    }

    fn usage_text(&self) -> String {
        let u = self.conversation.usage();
        format!(
            "{} turns; history: {} messages, about {} tokens; used: {} in + {} out = {} tokens in {} model request{}",
            self.conversation.turns(),
            self.conversation.len(),
            self.conversation.tokens(),
            u.input_tokens,
            u.output_tokens,
            u.total_tokens(),
            u.requests,
            if u.requests == 1 { "" } else { "s" }
        )
    }

    /// Flushes the run log after a turn.
    fn flush_log(&self) {
        if let Some(log) = &self.log {
            if let Err(e) = log.finish() {
                eprintln!("llm-do: the run log could not be written completely: {e}");
            }
        }
    }

    /// The error of a failed turn, with the approver's reason when it aborted the turn.
    fn failure(&self, error: &llm_do::Error) -> String {
        match self.abort.take() {
            Some(reason) => reason,
            None => error.to_string(),
        }
    }
}

fn usage_json(u: Usage) -> Value {
    json!({
        "requests": u.requests,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "total_tokens": u.total_tokens(),
    })
}

fn since(before: Usage, after: Usage) -> Usage {
    Usage {
        requests: after.requests.saturating_sub(before.requests),
        input_tokens: after.input_tokens.saturating_sub(before.input_tokens),
        output_tokens: after.output_tokens.saturating_sub(before.output_tokens),
    }
}

fn answer_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Without a terminal: one turn per line of stdin.
async fn scripted_loop(session: &mut Session) -> Exit {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<String>>(1);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut failed = false;
    let mut turn = 0u32;
    while let Some(line) = rx.recv().await {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("llm-do: cannot read stdin: {e}");
                failed = true;
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match session.command(&line) {
            Outcome::Exit => break,
            Outcome::Said(text) if session.json => {
                println!("{}", json!({"command": line.trim(), "ok": true, "message": text}))
            }
            Outcome::Said(text) => eprintln!("{text}"),
            Outcome::Failed(text) => {
                failed = true;
                if session.json {
                    println!("{}", json!({"command": line.trim(), "ok": false, "error": text}));
                }
                eprintln!("llm-do: {text}");
            }
            Outcome::NotACommand => {
                turn += 1;
                let before = session.conversation.usage();
                let result = match turn_input(&session.spec, &line) {
                    Ok(args) => session
                        .ctx
                        .chat_spec(&session.spec, &mut session.conversation, args)
                        .await
                        .map_err(|e| session.failure(&e)),
                    Err(message) => Err(message),
                };
                session.flush_log();
                let usage = usage_json(since(before, session.conversation.usage()));
                match result {
                    Ok(value) if session.json => {
                        println!(
                            "{}",
                            json!({"turn": turn, "ok": true, "output": value, "usage": usage})
                        );
                    }
                    Ok(value) => println!("{}", answer_text(&value)),
                    Err(message) => {
                        failed = true;
                        if session.json {
                            println!(
                                "{}",
                                json!({"turn": turn, "ok": false, "error": message, "usage": usage})
                            );
                        }
                        eprintln!("llm-do: {message}");
                    }
                }
            }
        }
    }
    session.flush_log();
    if failed { Exit::RunFailed } else { Exit::Ok }
}

/// The Ctrl-C signal, listened to from the start (so that it never kills the session) and
/// drained before each turn.
struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self { signal: signal(SignalKind::interrupt()).ok() }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Forgets a Ctrl-C pressed while no turn ran.
    fn drain(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            while signal.recv().now_or_never().flatten().is_some() {}
        }
    }

    async fn pressed(&mut self) {
        #[cfg(unix)]
        match &mut self.signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => futures::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// On a terminal: the line editor, streamed answers, Ctrl-C to cancel a turn.
async fn interactive_loop(session: &mut Session, view: &ChatView, input: &LineInput) -> Exit {
    let mut interrupt = Interrupt::new();
    eprintln!(
        "chat with `{}` — /help for commands, Ctrl-C cancels an answer, Ctrl-D leaves",
        session.spec.name()
    );
    loop {
        let line = match input.read(String::new(), "you> ", true).await {
            Read::Line(line) => line,
            Read::Interrupted => {
                eprintln!("(Ctrl-D or /exit leaves)");
                continue;
            }
            Read::Eof => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        match session.command(&line) {
            Outcome::Exit => break,
            Outcome::Said(text) => eprintln!("{text}"),
            Outcome::Failed(text) => eprintln!("llm-do: {text}"),
            Outcome::NotACommand => {
                let args = match turn_input(&session.spec, &line) {
                    Ok(args) => args,
                    Err(message) => {
                        eprintln!("llm-do: {message}");
                        continue;
                    }
                };
                interrupt.drain();
                view.take_streamed();
                let spec = session.spec.clone();
                let outcome = tokio::select! {
                    result = session.ctx.chat_spec(&spec, &mut session.conversation, args) => Some(result),
                    () = interrupt.pressed() => None,
                };
                view.end_line();
                match outcome {
                    Some(Ok(value)) => {
                        let streamed = view.take_streamed();
                        let text = answer_text(&value);
                        if streamed.trim() != text.trim() {
                            println!("{}", terminal_safe(&text));
                        }
                    }
                    Some(Err(e)) => {
                        let message = session.failure(&e);
                        eprintln!("llm-do: {}", terminal_safe(&message));
                    }
                    None => eprintln!("(cancelled: the conversation keeps nothing of this turn)"),
                }
                session.flush_log();
            }
        }
    }
    session.flush_log();
    Exit::Ok
}
