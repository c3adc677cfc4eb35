//! Streamed answers: the [`StreamDelta`]s a provider delivers while an answer is produced,
//! and the [`DeltaSink`] that receives them.

use serde::{Deserialize, Serialize};

/// A piece of a streamed answer.
///
/// ```
/// use llm_do_core::StreamDelta;
/// let d = StreamDelta::Text { text: "Hel".into() };
/// assert_eq!(serde_json::to_value(&d).unwrap()["type"], "text");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamDelta {
    /// More answer text.
    Text {
        /// The new text.
        text: String,
    },
    /// A piece of a tool call: the first piece of a call usually carries its id and name, the
    /// following ones more argument text.
    ToolCall {
        /// Position of the call in the answer's tool calls.
        index: u32,
        /// The call's id, when this piece carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The tool's name, when this piece carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// More argument text.
        arguments: String,
    },
    /// The pieces delivered so far for this request are void: the provider lost the stream
    /// and is sending the request again from the start.
    Restart {
        /// Why the stream was restarted.
        reason: String,
    },
}

/// Receives [`StreamDelta`]s. Implemented for closures `Fn(StreamDelta)`.
///
/// ```
/// use llm_do_core::{DeltaSink, StreamDelta};
/// let print = |d: StreamDelta| println!("{d:?}");
/// print.delta(StreamDelta::Text { text: "hi".into() });
/// ```
pub trait DeltaSink: Send + Sync {
    /// Handles one piece.
    fn delta(&self, delta: StreamDelta);
}

impl<F: Fn(StreamDelta) + Send + Sync> DeltaSink for F {
    fn delta(&self, delta: StreamDelta) {
        self(delta)
    }
}
