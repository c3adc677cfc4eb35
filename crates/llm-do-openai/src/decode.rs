//! Decoding a non-streaming chat completion into an [`Answer`].

use super::error::{Failure, excerpt};
use super::output::Answer;
use super::wire::{ChatResponse, Choice, WireUsage, error_message};
use llm_do_core::{ModelErrorKind, ToolCall, Usage};

/// Decodes the body of a completion. The raw body is quoted (an excerpt) in any error.
pub(crate) fn response(raw: &str) -> Result<Answer, Failure> {
    let response: ChatResponse = serde_json::from_str(raw).map_err(|e| Failure::json(&e, raw))?;
    let ChatResponse { model, choices, usage, error } = response;
    let Some(choice) = first_choice(choices) else {
        return Err(match error {
            Some(error) => Failure::new(
                ModelErrorKind::Other,
                format!(
                    "the server answered with an error: {}; body: {}",
                    error_message(&error),
                    excerpt(raw)
                ),
            ),
            None => Failure::decode("the answer has no choices", raw),
        });
    };
    let message = choice.message.unwrap_or_default();
    let text = message.content.and_then(|c| c.into_text()).filter(|t| !t.is_empty());
    let tool_calls = message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(i, call)| {
            let function = call.function.unwrap_or_default();
            ToolCall::raw(
                call_id(call.id, i),
                function.name.unwrap_or_default(),
                function.arguments.map(|a| a.into_text()).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Answer {
        text,
        tool_calls,
        usage: usage.map(usage_of).unwrap_or_default(),
        model,
        finish_reason: choice.finish_reason,
        refusal: message.refusal.filter(|r| !r.is_empty()),
    })
}

/// The choice the answer is taken from.
fn first_choice(choices: Vec<Choice>) -> Option<Choice> {
    let position = followed_choice(choices.iter().map(|c| c.index))?;
    choices.into_iter().nth(position)
}

/// Of choices with these indexes, the position of the one an answer is taken from, streamed
/// or not: the choice with index 0 (a missing index counts as 0), else the first one (servers
/// that number their one choice from 1). Other choices (`n` > 1, which llm-do never asks
/// for) are ignored. `None` when there are no choices.
pub(crate) fn followed_choice(indexes: impl IntoIterator<Item = Option<u32>>) -> Option<usize> {
    let mut any = false;
    for (position, index) in indexes.into_iter().enumerate() {
        if index.unwrap_or(0) == 0 {
            return Some(position);
        }
        any = true;
    }
    any.then_some(0)
}

/// The call's id, or `call_{index}` when the server sent none.
pub(crate) fn call_id(id: Option<String>, index: usize) -> String {
    id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call_{index}"))
}

/// Usage as the runtime counts it; missing counts are 0.
pub(crate) fn usage_of(usage: WireUsage) -> Usage {
    Usage::tokens(usage.prompt_tokens.unwrap_or(0), usage.completion_tokens.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_tool_calls_usage_and_model() {
        let raw = r#"{"id":"x","object":"chat.completion","model":"gpt-4o-mini",
            "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
              {"id":"c1","type":"function","function":{"name":"add","arguments":"{\"a\":1}"}},
              {"type":"function","function":{"name":"mul","arguments":{"b":2}}}]},
              "finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
        let a = response(raw).unwrap();
        assert_eq!(a.text, None);
        assert_eq!(
            a.tool_calls,
            [
                ToolCall::raw("c1", "add", r#"{"a":1}"#),
                ToolCall::raw("call_1", "mul", r#"{"b":2}"#)
            ]
        );
        assert_eq!(a.usage, Usage::tokens(12, 3));
        assert_eq!(a.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn tolerates_minimal_bodies() {
        let a =
            response(r#"{"choices":[{"message":{"content":"hi"},"finish_reason":""}]}"#).unwrap();
        assert_eq!(a.text.as_deref(), Some("hi"));
        assert_eq!(a.usage, Usage::default());
        let a = response(r#"{"choices":[{"message":{"refusal":"I can't"}}]}"#).unwrap();
        assert_eq!((a.text, a.refusal.as_deref()), (None, Some("I can't")));
    }

    #[test]
    fn the_answer_is_the_choice_with_index_0_else_the_first() {
        let text = |raw: &str| response(raw).unwrap().text;
        let zero_second = r#"{"choices":[{"index":1,"message":{"content":"one"}},
            {"index":0,"message":{"content":"zero"}}]}"#;
        assert_eq!(text(zero_second).as_deref(), Some("zero"));
        let no_zero = r#"{"choices":[{"index":2,"message":{"content":"two"}},
            {"index":1,"message":{"content":"one"}}]}"#;
        assert_eq!(text(no_zero).as_deref(), Some("two"));
        let unnumbered = r#"{"choices":[{"index":3,"message":{"content":"three"}},
            {"message":{"content":"none"}}]}"#;
        assert_eq!(text(unnumbered).as_deref(), Some("none"));
        assert_eq!(followed_choice([]), None);
    }

    #[test]
    fn empty_choices_and_errors_are_typed() {
        let f = response(r#"{"choices":[]}"#).unwrap_err();
        assert_eq!(f.kind, ModelErrorKind::Decode);
        assert!(!f.retryable);
        assert!(f.message.contains("no choices") && f.message.contains(r#"{"choices":[]}"#));
        let f = response(r#"{"error":{"message":"quota"}}"#).unwrap_err();
        assert_eq!(f.kind, ModelErrorKind::Other);
        assert!(f.message.contains("quota"));
        let f = response(r#"{"choices":"many"}"#).unwrap_err();
        assert_eq!(f.kind, ModelErrorKind::Decode);
        assert!(!f.retryable);
    }
}
