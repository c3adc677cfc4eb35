//! What `llm-do chat` shows on a terminal while a turn runs: the chat worker's text streamed
//! to stdout as it arrives, and its nested calls, tool calls and approval decisions as lines
//! of the run command's [`Display`] on stderr (one line when a call starts, one when it ends).

use crate::display::Display;
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
        if state.mid_line {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out);
            let _ = out.flush();
            state.mid_line = false;
        }
    }

    /// The text streamed for the chat worker's latest request (and forgets it).
    pub(crate) fn take_streamed(&self) -> String {
        std::mem::take(&mut self.state().streamed)
    }

    fn write(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut state = self.state();
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(terminal_safe(text).as_bytes());
        let _ = out.flush();
        state.mid_line = !text.ends_with('\n');
        state.streamed.push_str(text);
    }
}

impl EventSubscriber for ChatView {
    fn on_event(&self, event: &Event) {
        let chat_worker = event.call.depth <= 1;
        match &event.kind {
            EventKind::ModelRequest { .. } if chat_worker => {
                self.end_line();
                self.state().streamed.clear();
            }
            EventKind::ModelDelta { delta: StreamDelta::Text { text }, .. } if chat_worker => {
                self.write(text);
            }
            EventKind::ModelDelta { delta: StreamDelta::Restart { reason }, .. } if chat_worker => {
                self.end_line();
                self.state().streamed.clear();
                self.display.line(&format!("(the answer restarts: {})", terminal_safe(reason)));
            }
            // The chat worker's own call is the turn: the chat loop reports its end.
            EventKind::CallStarted { .. }
            | EventKind::CallFinished { .. }
            | EventKind::CallCancelled { .. }
                if chat_worker => {}
            EventKind::ModelDelta { .. } | EventKind::ModelResponse { .. } => {}
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
