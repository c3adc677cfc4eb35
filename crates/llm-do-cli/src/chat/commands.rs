//! The commands of `llm-do chat`: `/save FILE`, `/load FILE`, `/reset`, `/usage`, `/help`,
//! `/exit`.

use super::Session;

/// The commands, as `/help` prints them.
pub(crate) const HELP: &str = "\
/save FILE   save the conversation (JSON) to FILE
/load FILE   replace the conversation with the one saved in FILE
/reset       forget the conversation
/usage       turns, history size, and what this session has used
/help        this text
/exit        leave (Ctrl-D too); Ctrl-C cancels the answer in progress
A line ending with \\ continues on the next line.";

/// What a command did, for the person or (`--json`) the script.
pub(crate) enum Outcome {
    /// Done; this is what to show.
    Said(String),
    /// Failed (nothing changed); this is why.
    Failed(String),
    /// `/exit`.
    Exit,
    /// The line is an input for the worker.
    NotACommand,
}

impl Session {
    pub(crate) fn command(&mut self, line: &str) -> Outcome {
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
            ("/save", file) => match self.save(file) {
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

    /// Writes the conversation to `file` with its secrets redacted, as everything the CLI
    /// writes: a later `/load` sends `[redacted]` to the model where a secret was.
    fn save(&self, file: &str) -> Result<(), llm_do::ConversationError> {
        let saved = serde_json::from_str(&self.conversation.to_json())
            .map(|v| crate::terminal::redactor().redact_json(v))
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_default();
        std::fs::write(file, saved + "\n")
            .map_err(|source| llm_do::ConversationError::Io { path: file.into(), source })
    }

    /// The history, and what the session's budget has counted: every request of the session
    /// (failed turns and summaries included), whatever `/reset` and `/load` did to the history.
    fn usage_text(&self) -> String {
        let u = self.ctx.run_usage();
        format!(
            "{} turns; history: {} messages, about {} tokens; used this session: {} in + {} out = {} tokens in {} model request{}",
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
}
