//! `llm-do chat` without a terminal: one turn per line of stdin, one answer per turn on stdout
//! (`--json`: one JSON object per input line, commands included).

use super::commands::Outcome;
use super::{Session, turn_input};
use crate::exit::Exit;
use crate::terminal::safe;
use llm_do::Usage;
use serde_json::{Value, json};
use std::io::BufRead as _;

/// Without a terminal: one turn per line of stdin.
pub(crate) async fn run(session: &mut Session) -> Exit {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<String>>(1);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    // SIGINT/SIGTERM/SIGHUP end the session as `llm-do run` ends a run (see `signals`).
    let mut signals = crate::signals::Signals::install();
    let mut stopped = None;
    let mut failed = false;
    let mut turn = 0u32;
    loop {
        let line = tokio::select! {
            biased;
            stop = signals.received() => {
                crate::output::errln!("llm-do: {}: the session ends", stop.name());
                stopped = Some(stop);
                break;
            }
            line = rx.recv() => line,
        };
        let Some(line) = line else { break };
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                crate::output::errln!("llm-do: cannot read stdin: {}", safe(&e.to_string()));
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
                json_line(json!({"command": line.trim(), "ok": true, "message": text}))
            }
            Outcome::Said(text) => crate::output::errln!("{}", safe(&text)),
            Outcome::Failed(text) => {
                failed = true;
                if session.json {
                    json_line(json!({"command": line.trim(), "ok": false, "error": text}));
                }
                crate::output::errln!("llm-do: {}", safe(&text));
            }
            Outcome::NotACommand => {
                turn += 1;
                // The run's counters (the session's budget): a failed turn's requests count too.
                let before = session.ctx.run_usage();
                let result = match turn_input(&session.spec, &line) {
                    Ok(args) => {
                        let ctx = session.turn_ctx();
                        let spec = session.spec.clone();
                        let outcome = tokio::select! {
                            biased;
                            stop = signals.received() => Err(stop),
                            result = ctx.chat_spec(&spec, &mut session.conversation, args) => Ok(result),
                        };
                        match outcome {
                            Ok(result) => result.map_err(|e| session.failure(&e)),
                            Err(stop) => {
                                stopped = Some(stop);
                                Err(super::stopped_by(stop))
                            }
                        }
                    }
                    Err(message) => Err(message),
                };
                session.flush_log();
                let usage = usage_json(since(before, session.ctx.run_usage()));
                match result {
                    Ok(value) if session.json => {
                        json_line(
                            json!({"turn": turn, "ok": true, "output": value, "usage": usage}),
                        );
                    }
                    Ok(value) => {
                        crate::output::outln!("{}", crate::terminal::stdout_result(&value))
                    }
                    Err(message) => {
                        failed = true;
                        if session.json {
                            json_line(
                                json!({"turn": turn, "ok": false, "error": message, "usage": usage}),
                            );
                        }
                        crate::output::errln!("llm-do: {}", safe(&message));
                    }
                }
                if stopped.is_some() {
                    break;
                }
            }
        }
    }
    session.flush_log();
    match stopped {
        Some(stop) => stop.exit(),
        None if failed => Exit::RunFailed,
        None => Exit::Ok,
    }
}

/// One `--json` line on stdout, secrets redacted (its strings escape control characters).
fn json_line(line: Value) {
    crate::output::outln!("{}", crate::terminal::redactor().redact_json(line));
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
