//! How an answer ended, and whether that leaves anything to use: a refusal, a provider's
//! content filter, or a token budget that cut off a tool call or a structured answer ends
//! the call with a typed [`ModelError`] — fed back to the model, each would only be met the
//! same way again, until the turns ran out.

use crate::model::{ModelError, ModelErrorKind, ModelRequest, ModelResponse, OutputMode};

/// The error a response ends the call with, if it leaves nothing usable: a refusal
/// ([`ModelErrorKind::Refused`]), `finish_reason` `content_filter` (the same kind), or
/// `length` when a tool call's arguments or a structured answer were cut off so that they are
/// not JSON ([`ModelErrorKind::InvalidRequest`]: raise the budget). A text answer cut off by
/// the budget is kept, as far as it got.
pub(crate) fn unusable(request: &ModelRequest, response: &ModelResponse) -> Option<ModelError> {
    if let Some(refusal) = response.refusal.as_deref().filter(|r| !r.trim().is_empty()) {
        return Some(ModelError::new(
            ModelErrorKind::Refused,
            format!("the model refused to answer: {refusal}"),
        ));
    }
    match response.finish_reason.as_deref() {
        Some("content_filter") => Some(ModelError::new(
            ModelErrorKind::Refused,
            "the provider's content filter stopped the answer",
        )),
        Some("length") => {
            let cut = match response.tool_calls.iter().find(|c| c.parse_arguments().is_err()) {
                Some(call) => format!("a call of `{}`", call.name),
                None if response.tool_calls.is_empty()
                    && matches!(request.output, OutputMode::Json { .. })
                    && super::parse_json_answer(response.text.as_deref().unwrap_or(""))
                        .is_err() =>
                {
                    "the structured answer".to_owned()
                }
                None => return None,
            };
            let budget = match request.settings.max_tokens {
                Some(n) => format!("max_tokens = {n}"),
                None => "the model's default max_tokens".to_owned(),
            };
            Some(ModelError::new(
                ModelErrorKind::InvalidRequest,
                format!(
                    "the token budget ({budget}) ran out before {cut} was complete; raise \
                     max_tokens"
                ),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ToolCall;
    use crate::model::ModelSettings;

    fn ended(reason: &str, response: ModelResponse) -> ModelResponse {
        let mut response = response;
        response.finish_reason = Some(reason.to_owned());
        response
    }

    #[test]
    fn refusals_and_content_filters_are_refused() {
        let text = ModelRequest::new("m", vec![]);
        let e = unusable(&text, &ModelResponse::refused("No.")).unwrap();
        assert_eq!(e.kind(), ModelErrorKind::Refused);
        assert_eq!(e.message(), "the model refused to answer: No.");
        let e = unusable(&text, &ended("content_filter", ModelResponse::text("par"))).unwrap();
        assert_eq!(e.kind(), ModelErrorKind::Refused);
        assert!(unusable(&text, &ModelResponse::refused(" ")).is_none());
    }

    #[test]
    fn a_budget_that_cuts_a_call_or_a_structured_answer_is_the_requests_fault() {
        let json = ModelRequest::new("m", vec![])
            .with_output(OutputMode::json("n", serde_json::json!({"type": "integer"})))
            .with_settings(ModelSettings { max_tokens: Some(5), ..ModelSettings::default() });
        let e = unusable(&json, &ended("length", ModelResponse::text("{\"a\": 1"))).unwrap();
        assert_eq!(e.kind(), ModelErrorKind::InvalidRequest);
        assert!(e.message().contains("max_tokens = 5") && e.message().contains("structured"));
        let call = ModelResponse::tool_calls(vec![ToolCall::raw("1", "add", "{\"a\":")]);
        let e = unusable(&json, &ended("length", call)).unwrap();
        assert!(e.message().contains("a call of `add`"), "{e}");
        // Complete despite the budget, or a text answer: kept.
        assert!(unusable(&json, &ended("length", ModelResponse::text("42"))).is_none());
        let text = ModelRequest::new("m", vec![]);
        assert!(unusable(&text, &ended("length", ModelResponse::text("cut sho"))).is_none());
        assert!(unusable(&text, &ended("stop", ModelResponse::text("done"))).is_none());
    }
}
