//! [`Conversation`]: the message history a worker call continues, and its saved form.
//!
//! A conversation is a list of [`Entry`]s: provider-neutral [`Message`]s, each with the turn
//! it belongs to, the worker and call that produced it, the kind of that call, and its token
//! count when the provider reported one. A *turn* is one call of
//! [`Ctx::chat`](crate::Ctx::chat): it starts with the user message rendered from the
//! worker's prompt and ends with the model's final answer, with every tool call and tool
//! result in between. [`HistoryProcessor`]s trim it before
//! each turn, a whole turn at a time, so that a tool call and its result are never split.
//!
//! A conversation serialises to JSON (`{"format": "llm-do-conversation/1", ...}`) and resumes
//! in another process; [`Conversation::load_json`] refuses a corrupt or foreign file with a
//! typed [`ConversationError`] and leaves the current history as it was.
//!
//! (Over 400 lines: the type, its saved form and the checks on loading it are one concept;
//! half of the file is doc examples and tests.)

use crate::call::{CallId, CallKind};
use crate::estimate;
use crate::history::HistoryProcessor;
use crate::message::Message;
use crate::usage::Usage;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `format` of a saved conversation.
pub const CONVERSATION_FORMAT: &str = "llm-do-conversation/1";

/// The largest saved conversation [`Conversation::load`] reads, in bytes.
pub const MAX_CONVERSATION_BYTES: u64 = 64 * 1024 * 1024;

/// One message of a [`Conversation`], with where it came from.
///
/// ```
/// use llm_do_core::{Message, conversation::Entry};
/// let e = Entry::new(1, "main", Message::user("hi"));
/// assert_eq!(serde_json::to_value(&e).unwrap()["message"]["role"], "user");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// The turn it belongs to (turns are numbered from 1; a summary takes the number of the
    /// last turn it replaces).
    pub turn: u32,
    /// The worker of the turn (or the summariser that wrote a summary).
    pub worker: String,
    /// The id, within its run, of the turn's worker call. `None` when not known (a summary, an
    /// entry built by hand). Tool calls and results are matched by their own ids, in the
    /// message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
    /// The kind of the call that produced the message: `stochastic` for a worker's prompt and
    /// answers and for results of workers called as tools, `deterministic` for results of
    /// tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CallKind>,
    /// The message's tokens as the provider counted them, derived from the usage it reported:
    /// an answer's output tokens; for tool results (and retry prompts), the growth of the next
    /// request's input tokens. `None` when not reported (and for prompts);
    /// [`Entry::tokens`] falls back to an estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_tokens: Option<u64>,
    /// The message. Tool calls carry their ids, tool results the id of the call they answer.
    pub message: Message,
}

impl Entry {
    /// An entry of turn `turn` by `worker`, with no call id, kind or token count.
    ///
    /// ```
    /// # use llm_do_core::{Message, conversation::Entry};
    /// assert_eq!(Entry::new(2, "w", Message::user("x")).turn, 2);
    /// ```
    pub fn new(turn: u32, worker: impl Into<String>, message: Message) -> Self {
        Self {
            turn,
            worker: worker.into(),
            call_id: None,
            kind: None,
            reported_tokens: None,
            message,
        }
    }

    /// The message's tokens: as the provider reported them, else
    /// [estimated](crate::estimate::message_tokens).
    ///
    /// ```
    /// # use llm_do_core::{Message, conversation::Entry};
    /// let mut e = Entry::new(1, "w", Message::user("12345678"));
    /// assert_eq!(e.tokens(), 2);
    /// e.reported_tokens = Some(5);
    /// assert_eq!(e.tokens(), 5);
    /// ```
    pub fn tokens(&self) -> u64 {
        self.reported_tokens.unwrap_or_else(|| estimate::message_tokens(&self.message))
    }
}

/// The message history of a chat with workers. See the [module docs](self).
///
/// Continue it with [`Ctx::chat`](crate::Ctx::chat) (by name) or a worker's generated
/// `NAME::chat` (typed): each call is one turn, and the conversation grows by that turn's
/// messages only when the turn succeeds — a failed or cancelled turn leaves it unchanged.
///
/// Why a `&mut Conversation` argument rather than a `Ctx` scoped to a conversation: the
/// history belongs to one call, not to the context that nested calls inherit (a worker called
/// as a tool inside a chat turn must not see the chat), and `&mut` makes the borrow checker
/// say who may add to it and that two turns of one conversation cannot overlap.
///
/// ```
/// use llm_do_core::{Message, conversation::Conversation};
/// let conversation = Conversation::new();
/// assert!(conversation.is_empty());
/// let json = conversation.to_json();
/// let again = Conversation::from_json(&json).unwrap();
/// assert_eq!(again.turns(), 0);
/// assert!(Conversation::from_json("{\"format\": \"something-else\"}").is_err());
/// ```
#[derive(Clone, Default)]
pub struct Conversation {
    entries: Vec<Entry>,
    turns: u32,
    usage: Usage,
    processor: Option<Arc<dyn HistoryProcessor>>,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversation")
            .field("turns", &self.turns)
            .field("entries", &self.entries)
            .field("usage", &self.usage)
            .field("processor", &self.processor.is_some())
            .finish()
    }
}

/// The saved form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    format: String,
    turns: u32,
    #[serde(default)]
    usage: Usage,
    entries: Vec<Entry>,
}

impl Conversation {
    /// An empty conversation without history processing.
    ///
    /// ```
    /// assert_eq!(llm_do_core::conversation::Conversation::new().len(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// This conversation with `processor` run on the history before every turn (combine
    /// several with [`HistoryProcessorExt::then`](crate::history::HistoryProcessorExt::then)).
    ///
    /// ```
    /// use llm_do_core::conversation::Conversation;
    /// use llm_do_core::history::KeepLastTurns;
    /// let c = Conversation::new().with_processor(KeepLastTurns(10));
    /// assert!(c.processor().is_some());
    /// ```
    pub fn with_processor(mut self, processor: impl HistoryProcessor) -> Self {
        self.processor = Some(Arc::new(processor));
        self
    }

    /// Replaces the history processor (`None`: keep everything).
    ///
    /// ```
    /// # use llm_do_core::conversation::Conversation;
    /// let mut c = Conversation::new();
    /// c.set_processor(None);
    /// assert!(c.processor().is_none());
    /// ```
    pub fn set_processor(&mut self, processor: Option<Arc<dyn HistoryProcessor>>) {
        self.processor = processor;
    }

    /// The history processor, if any.
    ///
    /// ```
    /// assert!(llm_do_core::conversation::Conversation::new().processor().is_none());
    /// ```
    pub fn processor(&self) -> Option<&Arc<dyn HistoryProcessor>> {
        self.processor.as_ref()
    }

    /// The entries, oldest first.
    ///
    /// ```
    /// assert!(llm_do_core::conversation::Conversation::new().entries().is_empty());
    /// ```
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The messages, oldest first.
    ///
    /// ```
    /// assert!(llm_do_core::conversation::Conversation::new().messages().is_empty());
    /// ```
    pub fn messages(&self) -> Vec<Message> {
        self.entries.iter().map(|e| e.message.clone()).collect()
    }

    /// How many entries there are.
    ///
    /// ```
    /// assert_eq!(llm_do_core::conversation::Conversation::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there is no entry.
    ///
    /// ```
    /// assert!(llm_do_core::conversation::Conversation::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many turns succeeded (trimmed ones included).
    ///
    /// ```
    /// assert_eq!(llm_do_core::conversation::Conversation::new().turns(), 0);
    /// ```
    pub fn turns(&self) -> u32 {
        self.turns
    }

    /// Requests and tokens of every successful turn (summaries included).
    ///
    /// ```
    /// assert!(llm_do_core::conversation::Conversation::new().usage().is_zero());
    /// ```
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The tokens of the history as it stands: reported where known, estimated otherwise.
    ///
    /// ```
    /// assert_eq!(llm_do_core::conversation::Conversation::new().tokens(), 0);
    /// ```
    pub fn tokens(&self) -> u64 {
        self.entries.iter().map(Entry::tokens).sum()
    }

    /// Forgets the history and usage (the processor stays).
    ///
    /// ```
    /// # use llm_do_core::conversation::Conversation;
    /// let mut c = Conversation::new();
    /// c.reset();
    /// assert!(c.is_empty());
    /// ```
    pub fn reset(&mut self) {
        self.entries.clear();
        self.turns = 0;
        self.usage = Usage::default();
    }

    /// Ends a successful turn: the history becomes `entries` (the processed history, the
    /// turn's prompt and every message after it).
    pub(crate) fn commit(&mut self, entries: Vec<Entry>, usage: Usage) {
        self.entries = entries;
        self.turns = self.turns.saturating_add(1);
        self.usage += usage;
    }

    /// Adds usage spent on the conversation outside a turn (a summariser's).
    pub(crate) fn add_usage(&mut self, usage: Usage) {
        self.usage += usage;
    }

    /// The saved form, pretty-printed JSON.
    ///
    /// ```
    /// let json = llm_do_core::conversation::Conversation::new().to_json();
    /// assert!(json.contains("llm-do-conversation/1"));
    /// ```
    pub fn to_json(&self) -> String {
        let saved = Saved {
            format: CONVERSATION_FORMAT.to_owned(),
            turns: self.turns,
            usage: self.usage,
            entries: self.entries.clone(),
        };
        // A tree of strings, numbers and enums: serialising it cannot fail.
        serde_json::to_string_pretty(&saved).unwrap_or_default()
    }

    /// A conversation from its saved form (without a processor).
    ///
    /// # Errors
    ///
    /// [`ConversationError::NotJson`], [`ConversationError::Foreign`] (another format or
    /// none), [`ConversationError::UnsupportedVersion`] (another version of this format),
    /// [`ConversationError::Invalid`] (a saved conversation that does not hold
    /// together: a tool result without its call, a tool call without its result, turns out of
    /// order, fewer `turns` than its entries name).
    ///
    /// ```
    /// use llm_do_core::conversation::{Conversation, ConversationError};
    /// assert!(matches!(Conversation::from_json("not json"), Err(ConversationError::NotJson { .. })));
    /// assert!(matches!(Conversation::from_json("[1, 2]"), Err(ConversationError::Foreign { .. })));
    /// ```
    pub fn from_json(text: &str) -> Result<Self, ConversationError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConversationError::NotJson { message: e.to_string() })?;
        let format = value.get("format").and_then(Value::as_str);
        if format != Some(CONVERSATION_FORMAT) {
            // `llm-do-conversation/` is the format's name; the number after it its version.
            let family = CONVERSATION_FORMAT.trim_end_matches(|c: char| c.is_ascii_digit());
            return Err(match format {
                Some(f) if f.starts_with(family) => {
                    ConversationError::UnsupportedVersion { found: f.to_owned() }
                }
                _ => ConversationError::Foreign { found: format.map(str::to_owned) },
            });
        }
        let saved: Saved = serde_json::from_value(value)
            .map_err(|e| ConversationError::Invalid { message: e.to_string() })?;
        validate(&saved.entries)?;
        // The next turn is numbered `turns + 1`: it must come after every saved entry.
        if let Some(last) = saved.entries.iter().map(|e| e.turn).max()
            && last > saved.turns
        {
            return Err(ConversationError::Invalid {
                message: format!(
                    "it counts {} turns but holds entries of turn {last}",
                    saved.turns
                ),
            });
        }
        Ok(Self { entries: saved.entries, turns: saved.turns, usage: saved.usage, processor: None })
    }

    /// Replaces the history with a saved one, keeping this conversation's processor. On error
    /// nothing changes.
    ///
    /// # Errors
    ///
    /// As [`from_json`](Self::from_json).
    ///
    /// ```
    /// # use llm_do_core::conversation::Conversation;
    /// let mut c = Conversation::new();
    /// assert!(c.load_json("{}").is_err());
    /// c.load_json(&Conversation::new().to_json()).unwrap();
    /// ```
    pub fn load_json(&mut self, text: &str) -> Result<(), ConversationError> {
        let loaded = Self::from_json(text)?;
        self.entries = loaded.entries;
        self.turns = loaded.turns;
        self.usage = loaded.usage;
        Ok(())
    }

    /// Writes the saved form to `path`.
    ///
    /// # Errors
    ///
    /// [`ConversationError::Io`].
    ///
    /// ```
    /// # use llm_do_core::conversation::Conversation;
    /// let dir = std::env::temp_dir().join(format!("llm-do-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("chat.json");
    /// Conversation::new().save(&path).unwrap();
    /// let mut c = Conversation::new();
    /// c.load(&path).unwrap();
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ConversationError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json() + "\n")
            .map_err(|source| ConversationError::Io { path: path.to_owned(), source })
    }

    /// Replaces the history with the one saved at `path` (at most
    /// [`MAX_CONVERSATION_BYTES`]), keeping the processor. On error nothing changes.
    ///
    /// # Errors
    ///
    /// [`ConversationError::Io`], [`ConversationError::TooLarge`], and those of
    /// [`from_json`](Self::from_json).
    ///
    /// ```
    /// # use llm_do_core::conversation::{Conversation, ConversationError};
    /// let err = Conversation::new().load("/no/such/file.json").unwrap_err();
    /// assert!(matches!(err, ConversationError::Io { .. }));
    /// ```
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<(), ConversationError> {
        use crate::file::ReadError;
        let path = path.as_ref();
        // A regular file only: a FIFO or a device would block or never end.
        let text = crate::file::read_text(path, MAX_CONVERSATION_BYTES).map_err(|e| match e {
            ReadError::TooLarge { .. } => {
                ConversationError::TooLarge { max: MAX_CONVERSATION_BYTES }
            }
            ReadError::NotUtf8 { .. } => ConversationError::NotJson { message: e.to_string() },
            ReadError::Io(source) => ConversationError::Io { path: path.to_owned(), source },
            other => ConversationError::Io {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
            },
        })?;
        self.load_json(&text)
    }
}

/// Checks that saved entries hold together: turns never go back, every tool result answers a
/// tool call made before it in the same turn, and every tool call has its result before the
/// turn's next message that is not a tool result, and before the turn ends.
///
/// No turn is exempt: a conversation holds only turns that succeeded (a failed turn leaves it
/// unchanged), and the pending turn a history processor sees is its prompt alone.
pub(crate) fn validate(entries: &[Entry]) -> Result<(), ConversationError> {
    let mut turn = 0;
    let mut calls: HashSet<&str> = HashSet::new();
    // The calls of the turn's last assistant message still waiting for their results.
    let mut open: Vec<&str> = Vec::new();
    let unanswered = |open: &[&str], turn: u32, before: String| ConversationError::Invalid {
        message: format!(
            "tool call `{}` of turn {turn} has no result {before}",
            open.first().copied().unwrap_or_default()
        ),
    };
    for (i, entry) in entries.iter().enumerate() {
        if entry.turn < turn {
            return Err(ConversationError::Invalid {
                message: format!("entry {i} is of turn {} after turn {turn}", entry.turn),
            });
        }
        if entry.turn != turn {
            if !open.is_empty() {
                return Err(unanswered(&open, turn, "before the turn ends".into()));
            }
            calls.clear();
            turn = entry.turn;
        }
        match &entry.message {
            Message::Tool(result) if !calls.contains(result.tool_call_id.as_str()) => {
                return Err(ConversationError::Invalid {
                    message: format!(
                        "entry {i} is the result of tool call `{}`, which no earlier message of turn {turn} made",
                        result.tool_call_id
                    ),
                });
            }
            Message::Tool(result) => open.retain(|id| *id != result.tool_call_id),
            _ if !open.is_empty() => {
                return Err(unanswered(&open, turn, format!("before entry {i}")));
            }
            Message::Assistant { tool_calls, .. } => {
                calls.extend(tool_calls.iter().map(|c| c.id.as_str()));
                open.extend(tool_calls.iter().map(|c| c.id.as_str()));
            }
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(unanswered(&open, turn, "before the turn ends".into()));
    }
    Ok(())
}

/// Why a saved conversation could not be loaded. The conversation loaded into is unchanged.
///
/// ```
/// use llm_do_core::conversation::ConversationError;
/// let e = ConversationError::Foreign { found: Some("llm-do-cassette/1".into()) };
/// assert!(e.to_string().contains("llm-do-cassette/1"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConversationError {
    /// The file could not be read or written.
    #[error("cannot access `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONVERSATION_BYTES`].
    #[error("the file is larger than {max} bytes: not a saved conversation")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The text is not JSON (or not UTF-8).
    #[error("not a saved conversation: not JSON ({message})")]
    NotJson {
        /// The parser's message.
        message: String,
    },
    /// JSON, but not of the format `llm-do-conversation/1`.
    #[error(
        "not a saved conversation: its format is {}, expected `{CONVERSATION_FORMAT}`",
        found.as_deref().map_or("missing".to_owned(), |f| format!("`{f}`"))
    )]
    Foreign {
        /// The format it names, if any.
        found: Option<String>,
    },
    /// A saved conversation of another version of the format (`llm-do-conversation/2`, as a
    /// later llm-do may write), which this one cannot read.
    ///
    /// ```
    /// use llm_do_core::conversation::{Conversation, ConversationError};
    /// let e = Conversation::from_json(r#"{"format": "llm-do-conversation/2"}"#).unwrap_err();
    /// assert!(matches!(e, ConversationError::UnsupportedVersion { .. }));
    /// assert!(e.to_string().contains("saved by another version of llm-do"), "{e}");
    /// ```
    #[error(
        "a saved conversation of format `{found}`, saved by another version of llm-do: this one \
         reads `{CONVERSATION_FORMAT}` only (load it with the llm-do that saved it)"
    )]
    UnsupportedVersion {
        /// The format it names.
        found: String,
    },
    /// A saved conversation that does not hold together.
    #[error("invalid saved conversation: {message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ToolCall, ToolResult};
    use serde_json::json;

    fn sample() -> Conversation {
        let call = ToolCall::new("call_1", "add", &json!({"a": 1}));
        let mut result = Entry::new(1, "main", Message::Tool(ToolResult::ok("call_1", "add", "2")));
        result.kind = Some(CallKind::Tool);
        result.call_id = Some(CallId(2));
        let mut c = Conversation::new();
        c.commit(
            vec![
                Entry::new(1, "main", Message::user("add")),
                Entry::new(1, "main", Message::assistant(None, vec![call])),
                result,
                Entry::new(1, "main", Message::assistant(Some("2".into()), vec![])),
            ],
            Usage::tokens(10, 3),
        );
        c
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let again = Conversation::from_json(&c.to_json()).unwrap();
        assert_eq!(again.entries(), c.entries());
        assert_eq!((again.turns(), again.usage()), (1, Usage::tokens(10, 3)));
    }

    #[test]
    fn refuses_broken_files_and_keeps_the_history() {
        let mut c = sample();
        let orphan = json!({"format": CONVERSATION_FORMAT, "turns": 1, "entries": [
            {"turn": 1, "worker": "w", "message": {"role": "tool", "tool_call_id": "x", "name": "t", "content": "1"}}
        ]});
        let backwards = json!({"format": CONVERSATION_FORMAT, "turns": 2, "entries": [
            {"turn": 2, "worker": "w", "message": {"role": "user", "content": "a"}},
            {"turn": 1, "worker": "w", "message": {"role": "user", "content": "b"}}
        ]});
        let bad_role = json!({"format": CONVERSATION_FORMAT, "turns": 1, "entries": [
            {"turn": 1, "worker": "w", "message": {"role": "wizard", "content": "a"}}
        ]});
        // A tool call without its result, before the turn's answer or at the turn's end.
        let call = serde_json::to_value(Message::assistant(
            None,
            vec![ToolCall::new("c1", "t", &json!({}))],
        ))
        .unwrap();
        let dangling = json!({"format": CONVERSATION_FORMAT, "turns": 1, "entries": [
            {"turn": 1, "worker": "w", "message": {"role": "user", "content": "a"}},
            {"turn": 1, "worker": "w", "message": call},
            {"turn": 1, "worker": "w", "message": {"role": "assistant", "content": "done"}}
        ]});
        let dangling_at_end = json!({"format": CONVERSATION_FORMAT, "turns": 2, "entries": [
            {"turn": 1, "worker": "w", "message": {"role": "user", "content": "a"}},
            {"turn": 1, "worker": "w", "message": call},
            {"turn": 2, "worker": "w", "message": {"role": "user", "content": "b"}},
            {"turn": 2, "worker": "w", "message": {"role": "assistant", "content": "c"}}
        ]});
        // Fewer turns than its entries name: the next turn would be numbered before them.
        let too_few_turns = json!({"format": CONVERSATION_FORMAT, "turns": 0, "entries": [
            {"turn": 2, "worker": "w", "message": {"role": "user", "content": "a"}},
            {"turn": 2, "worker": "w", "message": {"role": "assistant", "content": "b"}}
        ]});
        for (text, kind) in [
            ("{not json".to_owned(), "not_json"),
            (json!({"format": "llm-do-cassette/1"}).to_string(), "foreign"),
            // A later version of this format: not "not a saved conversation".
            (json!({"format": "llm-do-conversation/2", "v2": []}).to_string(), "unsupported"),
            (json!({"entries": []}).to_string(), "foreign"),
            (orphan.to_string(), "invalid"),
            (backwards.to_string(), "invalid"),
            (bad_role.to_string(), "invalid"),
            (too_few_turns.to_string(), "invalid"),
            (dangling.to_string(), "invalid"),
            (dangling_at_end.to_string(), "invalid"),
        ] {
            let err = c.load_json(&text).unwrap_err();
            let got = match err {
                ConversationError::NotJson { .. } => "not_json",
                ConversationError::Foreign { .. } => "foreign",
                ConversationError::UnsupportedVersion { .. } => "unsupported",
                ConversationError::Invalid { .. } => "invalid",
                _ => "other",
            };
            assert_eq!(got, kind, "{text}: {err}");
            assert_eq!(c.entries(), sample().entries());
        }
    }
}
