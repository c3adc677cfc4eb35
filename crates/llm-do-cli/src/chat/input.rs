//! The line editor of `llm-do chat` on a terminal (rustyline), on a thread of its own.
//!
//! One thread owns the editor and the terminal while it reads; the chat loop and the approver
//! both ask it for lines, so that only one reader ever touches stdin. The history is kept in a
//! file (see [`history_file`]). A line ending with `\` continues on the next line (multi-line
//! input).

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, Helper};
use std::path::PathBuf;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// What a read gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Read {
    /// A line (continuation lines joined with newlines).
    Line(String),
    /// Ctrl-C while reading.
    Interrupted,
    /// Ctrl-D, or the terminal went away.
    Eof,
}

struct Ask {
    preface: String,
    prompt: String,
    remember: bool,
    reply: oneshot::Sender<Read>,
}

/// The terminal's echo turned off, until dropped: see [`LineInput::quiet`].
pub(crate) struct Quiet {
    #[cfg(unix)]
    before: Option<rustix::termios::Termios>,
}

impl Drop for Quiet {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(before) = &self.before {
            use rustix::termios::{OptionalActions, tcsetattr};
            let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, before);
        }
    }
}

/// The handle of the editor thread. Cheap to clone.
#[derive(Clone)]
pub(crate) struct LineInput {
    tx: mpsc::Sender<Ask>,
    /// The terminal's settings before the editor first changed them.
    #[cfg(unix)]
    saved: Option<rustix::termios::Termios>,
}

/// The history file: `$LLM_DO_CHAT_HISTORY`, else `$XDG_DATA_HOME/llm-do/chat_history`, else
/// `$HOME/.local/share/llm-do/chat_history`; `None` when none of them is set.
pub(crate) fn history_file() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(file) = var("LLM_DO_CHAT_HISTORY") {
        return Some(file);
    }
    let data = var("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|h| h.join(".local/share")))?;
    Some(data.join("llm-do").join("chat_history"))
}

/// Continues a line that ends with `\`.
struct ChatHelper;

impl Helper for ChatHelper {}
impl Completer for ChatHelper {
    type Candidate = String;
}
impl Hinter for ChatHelper {
    type Hint = String;
}
impl Highlighter for ChatHelper {}
impl Validator for ChatHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if ctx.input().ends_with('\\') {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

/// `a\` + newline + `b` is `a` + newline + `b`.
fn join_continuations(text: &str) -> String {
    text.replace("\\\n", "\n")
}

impl LineInput {
    /// Starts the editor thread.
    pub(crate) fn start() -> anyhow::Result<Self> {
        #[cfg(unix)]
        let saved = rustix::termios::tcgetattr(std::io::stdin()).ok();
        let mut editor: Editor<ChatHelper, DefaultHistory> = Editor::new()?;
        editor.set_helper(Some(ChatHelper));
        let history = history_file();
        if let Some(file) = &history {
            // A missing or unreadable history is not an error: the chat starts without it.
            let _ = editor.load_history(file);
        }
        let (tx, rx) = mpsc::channel::<Ask>();
        std::thread::Builder::new().name("llm-do-chat-input".into()).spawn(move || {
            while let Ok(ask) = rx.recv() {
                if !ask.preface.is_empty() {
                    crate::output::err!("{}", ask.preface);
                }
                let read = match editor.readline(&ask.prompt) {
                    Ok(line) => {
                        if ask.remember && !line.trim().is_empty() {
                            let _ = editor.add_history_entry(line.as_str());
                            if let Some(file) = &history {
                                if let Some(dir) = file.parent() {
                                    let _ = std::fs::create_dir_all(dir);
                                }
                                let _ = editor.append_history(file);
                            }
                        }
                        Read::Line(join_continuations(&line))
                    }
                    Err(ReadlineError::Interrupted) => Read::Interrupted,
                    Err(_) => Read::Eof,
                };
                let _ = ask.reply.send(read);
            }
        })?;
        Ok(Self {
            tx,
            #[cfg(unix)]
            saved,
        })
    }

    /// Puts the terminal's settings back as they were before the editor started: for a session
    /// that ends while the editor thread is still reading (in raw mode), on a signal.
    pub(crate) fn restore_terminal(&self) {
        #[cfg(unix)]
        if let Some(saved) = &self.saved {
            use rustix::termios::{OptionalActions, tcsetattr};
            let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, saved);
        }
    }

    /// Stops the terminal echoing keys until the guard is dropped: for the time of a turn, so
    /// that neither typed-ahead keys nor the `^C` of a Ctrl-C land in the streamed answer or
    /// move the cursor under the live call tree (whose redraw would then erase the wrong
    /// lines). Keys typed meanwhile wait for the next prompt, which shows them.
    ///
    /// Line editing (`ICANON`) is off too: in canonical mode the kernel keeps a Ctrl-D typed
    /// while nobody reads as an end-of-file mark that becomes a NUL byte once the editor puts
    /// the terminal in raw mode, so "Ctrl-D leaves" was lost when pressed during an answer;
    /// without it the key waits as itself and leaves at the next prompt. Signals (`ISIG`)
    /// stay on: Ctrl-C still cancels the answer.
    pub(crate) fn quiet(&self) -> Quiet {
        #[cfg(unix)]
        {
            use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
            let before = tcgetattr(std::io::stdin()).ok();
            if let Some(before) = &before {
                let mut quiet = before.clone();
                quiet.local_modes.remove(LocalModes::ECHO | LocalModes::ICANON);
                let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &quiet);
            }
            Quiet { before }
        }
        #[cfg(not(unix))]
        Quiet {}
    }

    /// Prints `preface` (on stderr), then reads a line after `prompt`; `remember` adds it to
    /// the history.
    pub(crate) async fn read(&self, preface: String, prompt: &str, remember: bool) -> Read {
        let (reply, answer) = oneshot::channel();
        let ask = Ask { preface, prompt: prompt.to_owned(), remember, reply };
        if self.tx.send(ask).is_err() {
            return Read::Eof;
        }
        answer.await.unwrap_or(Read::Eof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_are_joined() {
        assert_eq!(join_continuations("first\\\nsecond"), "first\nsecond");
        assert_eq!(join_continuations("a \\ b"), "a \\ b");
    }
}
