//! `llm-do chat PROJECT [--worker W]`: a conversation with a project's worker.
//!
//! Each input is one turn of a [`Conversation`] ([`Ctx::chat_value`](llm_do::Ctx::chat_value)):
//! the worker sees the history (trimmed by `--keep-turns`, `--max-history-tokens`,
//! `--summarise-with`) and its prompt rendered from the input.
//!
//! - On a terminal (stdin and stdout): a line editor ([`input`]), the worker's text streamed as
//!   it arrives and its nested calls in the live call tree of `llm-do run` when stderr is a
//!   terminal too, as lines otherwise ([`view`]), approvals asked inline, the commands
//!   of [`commands`]; Ctrl-C cancels the turn in flight (its future, and so its HTTP request, is
//!   dropped; the history keeps nothing of it), Ctrl-D or `/exit` leaves.
//! - Otherwise: one turn per input line, one answer per turn on stdout (`--json`: one JSON
//!   object per line, for commands too). The exit code is 0 when every turn succeeded.
//!
//! `--log FILE` records every turn's events in a run log (flushed after each turn).

mod commands;
mod input;
mod interrupt;
mod scripted;
mod view;

use crate::app::flags::{
    ApprovalFlags, BudgetFlags, LogFlag, ModelFlag, ProviderFlags, VerboseFlag,
};
use crate::app::{checked, host_builder, usage_error};
use crate::approve::{AnswerReader, HeadlessApprover, TerminalApprover};
use crate::display::{Display, Mode};
use crate::exit::Exit;
use crate::run_log::RunLogWriter;
use crate::signals::{Signals, Stop};
use clap::Args;
use commands::Outcome;
use input::{LineInput, Read};
use interrupt::Interrupt;
use llm_do::approval::{ApproveAll, DenyAll};
use llm_do::cancel::Cancellation;
use llm_do::history::{HistoryProcessor, KeepLastTurns, Summarise, TokenBudget};
use llm_do::{CallableSpec, Conversation, Ctx, Registry};
use llm_do_project::ApprovalMode;
use serde_json::Value;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use view::{ChatView, terminal_safe};

/// The arguments of `llm-do chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The project directory, or a `.worker`/`.agent` file in it (its worker is the one to
    /// chat with) or its project.json.
    project: PathBuf,
    /// The worker to chat with (default: the worker file given, else `entry` of llm-do.toml,
    /// else `main`, else the only worker). Each input is its prompt's one parameter, or a JSON object of its parameters.
    #[arg(long)]
    worker: Option<String>,
    #[command(flatten)]
    model: ModelFlag,
    #[command(flatten)]
    provider: ProviderFlags,
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
    #[command(flatten)]
    approvals: ApprovalFlags,
    // The budgets count the whole session (it is one run); `/usage` shows what is used.
    #[command(flatten)]
    budget: BudgetFlags,
    /// Without a terminal: print one JSON object per input line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    verbose: VerboseFlag,
    #[command(flatten)]
    log: LogFlag,
}

/// Everything a session needs.
pub(crate) struct Session {
    ctx: Ctx,
    spec: Arc<CallableSpec>,
    conversation: Conversation,
    log: Option<RunLogWriter>,
    /// The cancellation token of the current turn: an approver that ends the run ends the turn.
    turn: Cancellation,
    json: bool,
    /// The project, for what an error tells a command-line user to change.
    project: llm_do_project::Project,
}

impl ChatArgs {
    /// The project, as given.
    pub(crate) fn project(&self) -> &std::path::Path {
        &self.project
    }
}

/// `llm-do chat`.
pub(crate) async fn chat(args: ChatArgs, host: Registry) -> Exit {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // The live call tree where `llm-do run` draws it (stderr is a terminal), for the sessions
    // on a terminal; the others keep their plain lines.
    let mode =
        if interactive && std::io::stderr().is_terminal() { Mode::Live } else { Mode::Plain };
    let display = Display::new(mode, args.verbose.verbose);
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
        None => scripted::run(&mut session).await,
    }
}

/// Loads the project and builds the runtime and the conversation.
fn start(
    args: &ChatArgs,
    host: &Registry,
    display: Display,
    view: &ChatView,
    input: Option<&LineInput>,
) -> Result<Session, String> {
    let dir = crate::app::project_dir(&args.project)?;
    let project = checked(&dir, host)?;
    // Every line of a chat is input from the command line, which such a project refuses.
    if !project.config().allow_cli_input {
        return Err(crate::app::cli_input_refused(
            &project,
            ", so it cannot chat: `llm-do run` runs its `entry.args`",
        ));
    }
    let entry = crate::app::start_worker(&project, &args.project, args.worker.as_deref())?;
    let mut specs: Vec<Arc<CallableSpec>> = host.iter().cloned().collect();
    specs.extend(project.specs().cloned());
    let builder = project.register(crate::models::default_providers(host_builder(host)));
    // On a terminal the answer is shown as it arrives: ask OpenAI-compatible servers for a
    // stream (the default provider asks for whole answers).
    let settings = args.provider.over(&project.config().openai);
    let mut builder = crate::models::with_openai_settings(builder, settings, input.is_some());
    builder = args.model.apply(builder, &project, host, &mut specs)?;
    let spec = specs.iter().rev().find(|s| s.name() == entry).cloned().ok_or_else(|| {
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        format!("no worker named `{entry}` (known: {})", names.join(", "))
    })?;
    if spec.worker().is_none() {
        return Err(format!("`{entry}` is a tool: only a worker can chat"));
    }
    builder = args.budget.apply(builder, &project, &entry);
    if let Some(summariser) = &args.summarise_with
        && !specs.iter().any(|s| s.name() == summariser && s.worker().is_some())
    {
        return Err(format!("--summarise-with: no worker named `{summariser}`"));
    }
    builder = if args.approvals.approve_all {
        builder.approver(ApproveAll)
    } else if args.approvals.deny_all {
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
        builder.approver(TerminalApprover::with_reader(display.clone(), reader))
    } else {
        builder.approver(HeadlessApprover::for_project(&project))
    };
    // On a terminal the view streams text and shows nested calls (through the display);
    // otherwise the display's plain lines go to stderr, as for `llm-do run`.
    builder =
        if input.is_some() { builder.subscribe(view.clone()) } else { builder.subscribe(display) };
    let (builder, log) = args.log.open(builder, &specs)?;
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
    let ctx = builder.build().ctx();
    Ok(Session {
        turn: ctx.cancellation().child(),
        ctx,
        spec,
        conversation,
        log,
        json: args.json,
        project,
    })
}

/// The arguments of a turn from an input line: the text for a worker with a
/// [bare parameter](CallableSpec::bare_parameter), else a JSON object of its parameters.
pub(crate) fn turn_input(spec: &CallableSpec, line: &str) -> Result<Value, String> {
    if spec.bare_parameter().is_some() {
        return Ok(Value::String(line.to_owned()));
    }
    let params = spec.input_schema()["properties"].as_object().map_or(0, |p| p.len());
    match serde_json::from_str::<Value>(line) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(format!(
            "`{}` takes {params} parameters: type them as one JSON object matching {}",
            spec.name(),
            spec.input_schema()
        )),
    }
}

impl Session {
    /// Flushes the run log after a turn.
    fn flush_log(&self) {
        if let Some(log) = &self.log
            && let Err(e) = log.finish()
        {
            crate::output::errln!("llm-do: the run log could not be written completely: {e}");
        }
    }

    /// The context of a new turn, with a token of its own linked to the session's
    /// ([`Ctx::with_child_cancellation`]): an approver that ends the turn leaves the session
    /// usable, and cancelling the session's token stops the turn too. The previous turn's
    /// token, dropped here, leaves nothing behind in the session's.
    fn turn_ctx(&mut self) -> Ctx {
        let turn = self.ctx.with_child_cancellation();
        self.turn = turn.cancellation();
        turn
    }

    /// The error of a failed turn, with the approver's reason when it aborted the turn.
    fn failure(&self, error: &llm_do::Error) -> String {
        match self.turn.reason() {
            Some(reason) => reason,
            None => crate::app::error_text(error, &self.project, false),
        }
    }
}

pub(crate) fn answer_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Whether the streamed text already showed the answer: the same text, or for a structured
/// answer the same JSON value (streamed compact, it would print pretty-printed).
fn is_streamed(streamed: &str, answer: &Value) -> bool {
    match answer {
        Value::String(text) => streamed.trim() == text.trim(),
        value => serde_json::from_str::<Value>(streamed).is_ok_and(|v| v == *value),
    }
}

/// What a session stopped by a signal says of the turn it was in.
pub(crate) fn stopped_by(stop: Stop) -> String {
    format!(
        "interrupted by {}: the turn was stopped, with every command it was running; the \
         session ends",
        stop.name()
    )
}

/// On a terminal: the line editor, streamed answers, Ctrl-C to cancel a turn; SIGTERM and
/// SIGHUP end the session (see `signals`).
/// A signal ends the session: the terminal is given back (from raw mode) first.
fn session_ends(input: &LineInput, stop: Stop) -> Stop {
    input.restore_terminal();
    crate::output::errln!("\nllm-do: {}: the session ends", stop.name());
    stop
}

async fn interactive_loop(session: &mut Session, view: &ChatView, input: &LineInput) -> Exit {
    let mut interrupt = Interrupt::new();
    let mut signals = Signals::of(&[Stop::Terminate, Stop::Hangup]);
    let mut stopped = None;
    crate::output::errln!(
        "chat with `{}` — /help for commands, Ctrl-C cancels an answer, Ctrl-D leaves",
        session.spec.name()
    );
    loop {
        let read = tokio::select! {
            biased;
            stop = signals.received() => {
                stopped = Some(session_ends(input, stop));
                break;
            }
            read = input.read(String::new(), "you> ", true) => read,
        };
        let line = match read {
            Read::Line(line) => line,
            Read::Interrupted => {
                crate::output::errln!("(Ctrl-D or /exit leaves)");
                continue;
            }
            Read::Eof => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        // `/save` and `/load` touch a file (on a blocking thread): a signal still ends the
        // session meanwhile.
        let outcome = tokio::select! {
            biased;
            stop = signals.received() => {
                stopped = Some(session_ends(input, stop));
                break;
            }
            outcome = session.command(&line) => outcome,
        };
        match outcome {
            Outcome::Exit => break,
            Outcome::Said(text) => crate::output::errln!("{}", terminal_safe(&text)),
            Outcome::Failed(text) => {
                crate::output::errln!("llm-do: {}", terminal_safe(&text))
            }
            Outcome::NotACommand => {
                let args = match turn_input(&session.spec, &line) {
                    Ok(args) => args,
                    Err(message) => {
                        crate::output::errln!("llm-do: {}", terminal_safe(&message));
                        continue;
                    }
                };
                interrupt.drain();
                let quiet = input.quiet();
                view.take_streamed();
                let spec = session.spec.clone();
                let ctx = session.turn_ctx();
                let outcome = tokio::select! {
                    result = ctx.chat_spec(&spec, &mut session.conversation, args) => Some(result),
                    () = interrupt.pressed() => None,
                    stop = signals.received() => {
                        stopped = Some(stop);
                        None
                    }
                };
                view.end_turn();
                drop(quiet);
                match outcome {
                    Some(Ok(value)) => {
                        if !is_streamed(&view.take_streamed(), &value) {
                            crate::output::outln!("{}", terminal_safe(&answer_text(&value)));
                        }
                    }
                    Some(Err(e)) => {
                        let message = session.failure(&e);
                        crate::output::errln!("llm-do: {}", terminal_safe(&message));
                    }
                    None => match stopped {
                        Some(stop) => {
                            // An approval question may have been reading in raw mode.
                            input.restore_terminal();
                            crate::output::errln!("\nllm-do: {}", stopped_by(stop));
                        }
                        None => crate::output::errln!(
                            "(cancelled: the conversation keeps nothing of this turn)"
                        ),
                    },
                }
                session.flush_log();
                if stopped.is_some() {
                    break;
                }
            }
        }
    }
    session.flush_log();
    stopped.map_or(Exit::Ok, Stop::exit)
}
