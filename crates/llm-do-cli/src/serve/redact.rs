//! Secrets in what `llm-do serve` sends. A served model's answers (text and tool-call
//! arguments) and error messages pass the CLI's redactor ([`crate::terminal::redactor`]), as
//! everything else the CLI writes does: an upstream that echoes the server's API key, or a
//! model that repeats a token it was shown, does not hand it to the server's clients. Streamed
//! pieces go through [`StreamRedactor`]s, one per text and per tool call, so that a secret cut
//! between two pieces is redacted whole.

use crate::terminal::{StreamRedactor, redactor};
use llm_do::{ModelResponse, StreamDelta};
use std::collections::BTreeMap;

/// `response` with its text, refusal and tool-call arguments redacted.
pub(super) fn response(mut response: ModelResponse) -> ModelResponse {
    for text in [&mut response.text, &mut response.refusal].into_iter().flatten() {
        *text = redactor().redact(text);
    }
    for call in &mut response.tool_calls {
        call.arguments = redactor().redact(&call.arguments);
    }
    response
}

/// An error message, redacted.
pub(super) fn message(message: &str) -> String {
    redactor().redact(message)
}

/// The deltas of one streamed answer, redacted as they pass.
#[derive(Debug, Default)]
pub(super) struct Deltas {
    text: StreamRedactor,
    calls: BTreeMap<u32, StreamRedactor>,
}

impl Deltas {
    /// The part of `delta` that may be sent now, redacted (`None`: nothing yet).
    pub(super) fn push(&mut self, delta: StreamDelta) -> Option<StreamDelta> {
        match delta {
            StreamDelta::Text { text } => {
                let text = self.text.push(&text);
                (!text.is_empty()).then_some(StreamDelta::Text { text })
            }
            StreamDelta::ToolCall { index, id, name, arguments } => {
                let arguments = self.calls.entry(index).or_default().push(&arguments);
                let news = id.is_some() || name.is_some() || !arguments.is_empty();
                news.then_some(StreamDelta::ToolCall { index, id, name, arguments })
            }
            // The answer starts over: what was held back belonged to the abandoned attempt.
            restart @ StreamDelta::Restart { .. } => {
                self.text.discard();
                self.calls.values_mut().for_each(StreamRedactor::discard);
                Some(restart)
            }
        }
    }

    /// The end of the answer: what was held back, redacted.
    pub(super) fn finish(&mut self) -> Vec<StreamDelta> {
        let mut rest = Vec::new();
        let text = self.text.finish();
        if !text.is_empty() {
            rest.push(StreamDelta::Text { text });
        }
        for (&index, held) in &mut self.calls {
            let arguments = held.finish();
            if !arguments.is_empty() {
                rest.push(StreamDelta::ToolCall { index, id: None, name: None, arguments });
            }
        }
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text and each call's arguments as a client puts them together.
    fn assembled(deltas: &[StreamDelta]) -> (String, BTreeMap<u32, String>) {
        let mut text = String::new();
        let mut calls = BTreeMap::<u32, String>::new();
        for d in deltas {
            match d {
                StreamDelta::Text { text: t } => text.push_str(t),
                StreamDelta::ToolCall { index, arguments, .. } => {
                    calls.entry(*index).or_default().push_str(arguments)
                }
                _ => {}
            }
        }
        (text, calls)
    }

    #[test]
    fn a_secret_cut_between_pieces_is_redacted_in_text_and_in_arguments() {
        let mut deltas = Deltas::default();
        let pieces = [
            StreamDelta::Text { text: "the key is sk-abcdefgh".into() },
            StreamDelta::ToolCall {
                index: 0,
                id: Some("c1".into()),
                name: Some("save".into()),
                arguments: r#"{"note":"ghp_abcdefghij"#.into(),
            },
            StreamDelta::Text { text: "ijklmnopqrstuv, done".into() },
            StreamDelta::ToolCall {
                index: 0,
                id: None,
                name: None,
                arguments: r#"klmnopqrstuvwxyz"}"#.into(),
            },
        ];
        let mut sent: Vec<StreamDelta> =
            pieces.into_iter().filter_map(|d| deltas.push(d)).collect();
        sent.extend(deltas.finish());
        let (text, calls) = assembled(&sent);
        assert_eq!(text, "the key is [redacted], done");
        assert_eq!(calls[&0], r#"{"note":"[redacted]"}"#);
        // The call's id and name went out with its first piece, its arguments held back.
        assert!(
            matches!(&sent[1], StreamDelta::ToolCall { id: Some(id), arguments, .. }
                if id == "c1" && arguments.is_empty()),
            "{sent:?}"
        );
    }

    #[test]
    fn a_whole_answer_is_redacted() {
        let mut answer = ModelResponse::text("use Bearer abcdefghijklmnop now");
        answer.tool_calls.push(llm_do::ToolCall::raw("c", "f", r#"{"api_key":"x"}"#));
        let answer = response(answer);
        assert_eq!(answer.text.as_deref(), Some("use [redacted] now"));
        assert_eq!(answer.tool_calls[0].arguments, r#"{"api_key":"[redacted]"}"#);
    }
}
