//! The line editor of `llm-do chat` on a terminal (rustyline), on a thread of its own.
//!
//! One thread owns the editor and the terminal while it reads; the chat loop and the approver
//! both ask it for lines, so that only one reader ever touches stdin. The history is kept in a
//! file (see [`history_file`]), redacted; a file that is not a regular one, or is too large, is
//! not used. A line ending with `\` continues on the next line (multi-line
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

/// Largest history file read: rustyline keeps 100 entries, so a larger file is not one it
/// wrote (it reads a file whole, a line at a time, however long).
const MAX_HISTORY_BYTES: u64 = 8 << 20;

/// Why the history file `file` cannot be used, if it cannot: anything at the path must be a
/// regular file (rustyline would wait for ever on a FIFO and read `/dev/zero` until memory runs
/// out) of at most [`MAX_HISTORY_BYTES`]. Nothing at the path is fine: the file is created.
fn unusable_history(file: &std::path::Path) -> Option<String> {
    if !llm_do_project::file::is_present(file) {
        return None;
    }
    match llm_do_project::file::open_regular(file) {
        Ok((_, meta)) if meta.len() > MAX_HISTORY_BYTES => Some(format!(
            "the file is larger than {MAX_HISTORY_BYTES} bytes ({} bytes)",
            meta.len()
        )),
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// What of a typed line the history keeps: the line with its secrets redacted, as everything
/// the CLI writes.
fn history_entry(line: &str) -> String {
    crate::terminal::redactor().redact(line)
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
        let history = history_file().filter(|file| match unusable_history(file) {
            None => true,
            Some(why) => {
                let file = crate::terminal::safe(&file.display().to_string());
                crate::output::errln!("llm-do: the chat history {file} is not used: {why}");
                false
            }
        });
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
                            let _ = editor.add_history_entry(history_entry(&line));
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
    fn only_a_regular_history_file_of_a_bounded_size_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history");
        assert_eq!(unusable_history(&file), None, "a file still to be created");
        std::fs::write(&file, "#V2\nhello\n").unwrap();
        assert_eq!(unusable_history(&file), None);
        std::fs::File::options().write(true).open(&file).unwrap().set_len(9 << 20).unwrap();
        let why = unusable_history(&file).unwrap();
        assert!(why.starts_with("the file is larger than 8388608 bytes"), "{why}");
        assert_eq!(
            unusable_history(dir.path()).unwrap(),
            "the path is a directory, not a regular file"
        );
        #[cfg(unix)]
        assert_eq!(
            unusable_history(std::path::Path::new("/dev/zero")).unwrap(),
            "the path is a device, not a regular file"
        );
    }

    #[test]
    fn continuation_lines_are_joined() {
        assert_eq!(join_continuations("first\\\nsecond"), "first\nsecond");
        assert_eq!(join_continuations("a \\ b"), "a \\ b");
    }
}
