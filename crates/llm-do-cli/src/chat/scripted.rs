//! `llm-do chat` without a terminal: one turn per line of stdin, one answer per turn on stdout
//! (`--json`: one JSON object per input line, commands included).

use super::commands::Outcome;
use super::{Session, turn_input};
use crate::exit::Exit;
use crate::terminal::safe;
use llm_do::Usage;
use serde_json::{Value, json};
use std::io::{BufRead, Read as _};

/// Without a terminal: one turn per line of stdin.
pub(crate) async fn run(session: &mut Session) -> Exit {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Input>>(1);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        while let Some(line) = read_line(&mut stdin).transpose() {
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
            Ok(Input::Line(line)) => line,
            Ok(Input::Unreadable(message)) => {
                // That line's turn fails; the session goes on.
                turn += 1;
                failed = true;
                if session.json {
                    json_line(json!({"turn": turn, "ok": false, "error": message,
                        "usage": usage_json(Usage::default())}));
                }
                crate::output::errln!("llm-do: {}", safe(&message));
                continue;
            }
            Err(e) => {
                crate::output::errln!("llm-do: cannot read stdin: {}", safe(&e.to_string()));
                failed = true;
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        // `/save` and `/load` touch a file (on a blocking thread): a signal still ends the
        // session meanwhile.
        let outcome = tokio::select! {
            biased;
            stop = signals.received() => {
                crate::output::errln!("llm-do: {}: the session ends", stop.name());
                stopped = Some(stop);
                break;
            }
            outcome = session.command(&line) => outcome,
        };
        match outcome {
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

/// The longest input line (1 MiB): a longer one fails its turn, and is not kept in memory.
const MAX_LINE: usize = 1 << 20;

/// A line of stdin.
enum Input {
    /// A line of text, without its line ending.
    Line(String),
    /// A line that cannot be a turn (not UTF-8, too long): why.
    Unreadable(String),
}

/// The next line of `from` (`None` at its end), read with at most [`MAX_LINE`] bytes in
/// memory.
fn read_line(from: &mut impl BufRead) -> std::io::Result<Option<Input>> {
    let mut bytes = Vec::new();
    if from.take(MAX_LINE as u64 + 1).read_until(b'\n', &mut bytes)? == 0 {
        return Ok(None);
    }
    if bytes.len() > MAX_LINE {
        // The rest of the line is skipped, piece by piece.
        while !bytes.ends_with(b"\n") {
            bytes.clear();
            if from.take(1 << 16).read_until(b'\n', &mut bytes)? == 0 {
                break;
            }
        }
        return Ok(Some(Input::Unreadable(format!(
            "an input line is longer than {MAX_LINE} bytes: it was skipped"
        ))));
    }
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    Ok(Some(match String::from_utf8(bytes) {
        Ok(line) => Input::Line(line),
        Err(e) => Input::Unreadable(format!(
            "the input line is not UTF-8 text (invalid byte at offset {}): it was skipped",
            e.utf8_error().valid_up_to()
        )),
    }))
}

/// One `--json` line on stdout, secrets redacted (its strings escape control characters).
fn json_line(line: Value) {
    crate::output::outln!("{}", crate::terminal::json_line(&line));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Result<String, String>> {
        let mut from = input;
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut from).expect("read") {
            out.push(match line {
                Input::Line(l) => Ok(l),
                Input::Unreadable(why) => Err(why),
            });
        }
        out
    }

    #[test]
    fn a_bad_line_is_reported_and_the_next_ones_read() {
        let long = vec![b'x'; MAX_LINE + 10];
        let input = [b"a\r\n\xff\xfe\n".as_slice(), &long, b"\nb"].concat();
        let read = lines(&input);
        assert_eq!(read.len(), 4, "{read:?}");
        assert_eq!(read[0], Ok("a".to_owned()));
        assert!(read[1].as_ref().is_err_and(|e| e.contains("not UTF-8")), "{read:?}");
        assert!(read[2].as_ref().is_err_and(|e| e.contains("longer than")), "{:?}", read[2]);
        assert_eq!(read[3], Ok("b".to_owned()));
    }
}
