//! The conversation between a worker and its model.

use crate::attachment::{Attachment, AttachmentDigest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One message of a worker's conversation with its model.
///
/// ```
/// use llm_do_core::Message;
/// let m = Message::user("Classify this ticket: I was charged twice");
/// assert!(matches!(m, Message::User { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Message {
    /// Instructions for the model.
    System {
        /// The instructions.
        content: String,
    },
    /// The rendered prompt, or feedback from the runtime (e.g. an output validation error).
    User {
        /// The text.
        content: String,
    },
    /// What the model answered: text, tool calls, or both.
    Assistant {
        /// Text the model produced, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// Tools the model asked to call, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, sent back to the model.
    Tool(ToolResult),
    /// A user message of several parts: text and attachments (files, images, PDFs), in
    /// order. The runtime sends it only to models that take every part natively; for the
    /// others it is first turned into a [`Message::User`] (see
    /// [`attachment::lower`](crate::attachment::lower)). Serialized, attachments keep only
    /// their digest (media type, name, size, SHA-256).
    UserParts {
        /// The parts.
        parts: Vec<ContentPart>,
    },
}

/// One part of a [`Message::UserParts`].
///
/// ```
/// use llm_do_core::attachment::Attachment;
/// use llm_do_core::message::ContentPart;
/// let part = ContentPart::Attachment(Attachment::from_bytes(b"hi".to_vec(), Some("a.txt")).unwrap());
/// assert_eq!(
///     serde_json::to_value(&part).unwrap(),
///     serde_json::json!({"type": "attachment", "media_type": "text/plain", "name": "a.txt", "size": 2,
///         "sha256": "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A file, image or PDF.
    Attachment(Attachment),
}

impl ContentPart {
    /// A text part.
    ///
    /// ```
    /// # use llm_do_core::message::ContentPart;
    /// assert_eq!(ContentPart::text("hi"), ContentPart::Text { text: "hi".into() });
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }
}

/// The text of parts, joined by blank lines, with `[attachment: NAME (TYPE, N bytes)]` for
/// each attachment: how tests, estimates and displays read a [`Message::UserParts`].
///
/// ```
/// use llm_do_core::message::{ContentPart, parts_text};
/// use llm_do_core::Attachment;
/// let a = Attachment::url("https://example.com/chart.png").unwrap();
/// let text = parts_text(&[ContentPart::text("Describe:"), ContentPart::Attachment(a)]);
/// assert_eq!(text, "Describe:\n\n[attachment: chart.png (image/png)]");
/// ```
pub fn parts_text(parts: &[ContentPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            ContentPart::Text { text } => text.clone(),
            ContentPart::Attachment(a) => format!("[attachment: {}]", a.describe()),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The serde form of a [`ContentPart`]: attachments as their digest.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum PartRepr {
    Text { text: String },
    Attachment(AttachmentDigest),
}

impl Serialize for ContentPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ContentPart::Text { text } => PartRepr::Text { text: text.clone() },
            ContentPart::Attachment(a) => PartRepr::Attachment(a.digest()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match PartRepr::deserialize(deserializer)? {
            PartRepr::Text { text } => ContentPart::Text { text },
            PartRepr::Attachment(d) => ContentPart::Attachment(Attachment::from_digest(d)),
        })
    }
}

impl Message {
    /// A system message.
    ///
    /// ```
    /// # use llm_do_core::Message;
    /// assert_eq!(Message::system("Be terse."), Message::System { content: "Be terse.".into() });
    /// ```
    pub fn system(content: impl Into<String>) -> Self {
        Message::System { content: content.into() }
    }

    /// A user message.
    ///
    /// ```
    /// # use llm_do_core::Message;
    /// assert_eq!(Message::user("hi"), Message::User { content: "hi".into() });
    /// ```
    pub fn user(content: impl Into<String>) -> Self {
        Message::User { content: content.into() }
    }

    /// An assistant message with the given text and tool calls.
    ///
    /// ```
    /// # use llm_do_core::Message;
    /// let m = Message::assistant(Some("done".into()), vec![]);
    /// assert!(matches!(m, Message::Assistant { .. }));
    /// ```
    pub fn assistant(content: Option<String>, tool_calls: Vec<ToolCall>) -> Self {
        Message::Assistant { content, tool_calls }
    }
}

/// A tool call requested by a model.
///
/// `arguments` is kept as the raw JSON text the model produced, so that malformed arguments
/// reach the runtime intact and can be reported back to the model instead of being lost.
///
/// ```
/// use llm_do_core::ToolCall;
/// use serde_json::json;
/// let call = ToolCall::new("call_1", "add", &json!({"a": 1, "b": 2}));
/// assert_eq!(call.arguments, r#"{"a":1,"b":2}"#);
/// assert_eq!(call.parse_arguments().unwrap(), json!({"a": 1, "b": 2}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Identifier chosen by the model (or provider), echoed in the matching [`ToolResult`].
    pub id: String,
    /// Name of the tool or worker to call.
    pub name: String,
    /// Arguments as raw JSON text.
    pub arguments: String,
}

/// Gives each call of one answer an id no other call of it has: a call whose id an earlier
/// call already has gets `{id}_{n}`, the first `n` (from 2) no call of the answer has. Results
/// are paired with their calls by id, and providers refuse two results with one id.
pub(crate) fn make_call_ids_unique(calls: &mut [ToolCall]) {
    // The common case (every answer with tool calls passes here) allocates nothing for one
    // call and copies no id for distinct ones.
    if calls.len() < 2 {
        return;
    }
    let distinct: std::collections::HashSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    if distinct.len() == calls.len() {
        return;
    }
    let mut taken: std::collections::HashSet<String> =
        distinct.into_iter().map(str::to_owned).collect();
    let mut seen = std::collections::HashSet::new();
    // The next suffix to try for each repeated id (a linear walk, whatever the answer's size).
    let mut next: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for call in calls.iter_mut() {
        if !seen.insert(call.id.clone()) {
            let n = next.entry(call.id.clone()).or_insert(2);
            let id = loop {
                let id = format!("{}_{n}", call.id);
                *n += 1;
                if !taken.contains(&id) {
                    break id;
                }
            };
            taken.insert(id.clone());
            seen.insert(id.clone());
            call.id = id;
        }
    }
}

impl ToolCall {
    /// A tool call whose arguments are the given JSON value.
    ///
    /// ```
    /// # use llm_do_core::ToolCall;
    /// let c = ToolCall::new("1", "now", &serde_json::json!({}));
    /// assert_eq!(c.arguments, "{}");
    /// ```
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: &Value) -> Self {
        Self { id: id.into(), name: name.into(), arguments: arguments.to_string() }
    }

    /// A tool call with raw (possibly malformed) argument text, as a provider received it.
    ///
    /// ```
    /// # use llm_do_core::ToolCall;
    /// let c = ToolCall::raw("1", "add", "{not json");
    /// assert!(c.parse_arguments().is_err());
    /// ```
    pub fn raw(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self { id: id.into(), name: name.into(), arguments: arguments.into() }
    }

    /// Parses the arguments. Empty text counts as `{}` (some servers send it for no arguments).
    ///
    /// ```
    /// # use llm_do_core::ToolCall;
    /// assert_eq!(ToolCall::raw("1", "now", "").parse_arguments().unwrap(), serde_json::json!({}));
    /// ```
    pub fn parse_arguments(&self) -> Result<Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_str(&self.arguments)
    }
}

/// The result of one tool call, as sent back to the model.
///
/// ```
/// use llm_do_core::ToolResult;
/// let r = ToolResult::error("call_1", "add", "unknown tool");
/// assert!(r.is_error);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The id of the [`ToolCall`] this answers.
    pub tool_call_id: String,
    /// Name of the tool that was called.
    pub name: String,
    /// The result (JSON text, or a plain string for string results), or the error message.
    pub content: String,
    /// `true` when the call failed and `content` is an error message meant for the model.
    #[serde(default)]
    pub is_error: bool,
}

impl ToolResult {
    /// A successful result.
    ///
    /// ```
    /// # use llm_do_core::ToolResult;
    /// assert!(!ToolResult::ok("1", "add", "3").is_error);
    /// ```
    pub fn ok(
        tool_call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            tool_call_id: tool_call_id.into(),
            name: name.into(),
            content: content.into(),
            is_error: false,
        }
    }

    /// A failed call; `message` tells the model what went wrong and how to fix it.
    ///
    /// ```
    /// # use llm_do_core::ToolResult;
    /// assert_eq!(ToolResult::error("1", "add", "boom").content, "boom");
    /// ```
    pub fn error(
        tool_call_id: impl Into<String>,
        name: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            tool_call_id: tool_call_id.into(),
            name: name.into(),
            content: message.into(),
            is_error: true,
        }
    }
}
