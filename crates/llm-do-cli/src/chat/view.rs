//! What `llm-do chat` shows on a terminal while a turn runs: the chat worker's text streamed
//! to stdout as it arrives, and its nested calls, tool calls and approval decisions shown by
//! the run command's [`Display`] on stderr: the live call tree when stderr is a terminal
//! ([`Mode::Live`](crate::display::Mode::Live)), else one line when a call starts and one
//! when it ends.
//!
//! Text and tree share the terminal: the text is written with the tree
//! [suspended](Display::suspend), and the tree is [settled](Display::settle) (written for good
//! once its calls have ended) before the chat worker's next request, so that no redraw of
//! the tree overwrites the text. While a nested call still runs, only whole lines of text
//! are written (above the tree); the rest waits for the tree to settle or the line to end.

use crate::display::Display;
use crate::terminal::{StreamRedactor, escape_controls};
use llm_do::{Event, EventKind, EventSubscriber, StreamDelta};
use std::io::Write as _;
use std::sync::{Arc, Mutex};

/// The event subscriber of an interactive chat. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ChatView {
    display: Display,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Text was written to stdout after the last newline.
    mid_line: bool,
    /// The text streamed for the chat worker's latest request.
    streamed: String,
    /// Text (made terminal-safe) not yet written: the end of a line, while the tree runs.
    pending: String,
    /// The streamed text's redaction: a secret cut between two pieces is redacted whole.
    stream: StreamRedactor,
}

/// Text from models and servers made safe for a terminal: the CLI's one rule ([`crate::terminal::safe`]).
pub(crate) use crate::terminal::safe as terminal_safe;

impl ChatView {
    pub(crate) fn new(display: Display) -> Self {
        Self { display, state: Arc::new(Mutex::new(State::default())) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends a line of streamed text, if one is open.
    pub(crate) fn end_line(&self) {
        let mut state = self.state();
        if state.mid_line || !state.pending.is_empty() {
            let text = std::mem::take(&mut state.pending) + "\n";
            self.display.suspend(|| print(&text));
            state.mid_line = false;
        }
    }

    /// Ends a turn: its open line of text, then its call tree (a call still running, as when
    /// the turn was cancelled, shows as cancelled), leaving the terminal to the next prompt.
    pub(crate) fn end_turn(&self) {
        // A stream cut off (Ctrl-C, an error) may end in half a secret: not shown.
        self.state().stream.discard();
        self.end_line();
        self.display.close();
    }

    /// The text streamed for the chat worker's latest request (and forgets it).
    pub(crate) fn take_streamed(&self) -> String {
        std::mem::take(&mut self.state().streamed)
    }

    /// Writes a streamed piece: what of it [`StreamRedactor`] lets out.
    fn write(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut state = self.state();
        state.streamed.push_str(text);
        let shown = state.stream.push(text);
        self.show(state, &shown);
    }

    /// The stream has ended: writes the text held back.
    fn finish_stream(&self) {
        let mut state = self.state();
        let rest = state.stream.finish();
        self.show(state, &rest);
    }

    /// Writes redacted text, its control characters escaped.
    fn show(&self, mut state: std::sync::MutexGuard<'_, State>, text: &str) {
        state.pending.push_str(&escape_controls(text));
        // Below a running tree a line's start would be erased by the next redraw: only whole
        // lines go out until the tree settles.
        let upto = if self.display.settle() {
            state.pending.len()
        } else {
            state.pending.rfind('\n').map_or(0, |i| i + 1)
        };
        if upto == 0 {
            return;
        }
        let chunk: String = state.pending.drain(..upto).collect();
        self.display.suspend(|| print(&chunk));
        state.mid_line = !chunk.ends_with('\n');
    }
}

/// Writes `text` to stdout at once.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

impl EventSubscriber for ChatView {
    fn on_event(&self, event: &Event) {
        let chat_worker = event.call.depth <= 1;
        match &event.kind {
            EventKind::ModelRequest { .. } if chat_worker => {
                self.end_line();
                // The calls it asked for have ended: their tree stays above its next text.
                self.display.settle();
                self.state().streamed.clear();
            }
            EventKind::ModelDelta { delta: StreamDelta::Text { text }, .. } if chat_worker => {
                self.write(text);
            }
            EventKind::ModelResponse { .. } if chat_worker => self.finish_stream(),
            EventKind::ModelDelta { delta: StreamDelta::Restart { reason }, .. } if chat_worker => {
                // The pieces so far are void; the last word may be half a secret.
                self.state().stream.discard();
                self.end_line();
                self.state().streamed.clear();
                self.display.line(&format!("(the answer restarts: {})", terminal_safe(reason)));
            }
            // The chat worker's own call is the turn: the chat loop reports its end.
            EventKind::CallStarted { .. }
            | EventKind::CallFinished { .. }
            | EventKind::CallCancelled { .. }
                if chat_worker => {}
            // The chat worker's answer is the streamed text; a nested worker's text goes to
            // the display, which shows it with -vv as `llm-do run` does.
            EventKind::ModelDelta { .. } if chat_worker => {}
            _ => {
                self.end_line();
                self.display.on_event(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_run() {
        assert_eq!(terminal_safe("a\x1b[2Jb\n\tc"), "a\\x1b[2Jb\n\tc");
    }
}
