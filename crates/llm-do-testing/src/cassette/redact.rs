//! Secret redaction for cassettes: nothing that looks like a credential reaches a cassette.
//!
//! What a secret is, and how it is replaced, is defined once for the whole project in
//! [`llm_do_core::secrets`]; cassettes use that rule with the values of the environment's
//! secret-looking variables ([`redactor`]). Requests carry no headers (providers add
//! `Authorization` themselves), so a secret can only reach a cassette through a string: a
//! prompt, a tool result, an answer, any string of a tool call or of the response — each is
//! redacted.
//!
//! ```
//! use llm_do_testing::cassette::redact::redactor;
//! assert_eq!(redactor().redact("use sk-proj-abcdefghijklmnop1234 now"), "use [redacted] now");
//! ```

use llm_do_core::ModelResponse;
use llm_do_core::secrets::Redactor;

pub use llm_do_core::secrets::REDACTED;

/// The redactor cassettes use: [`llm_do_core::secrets`]' patterns plus the values of this
/// process's secret-looking environment variables.
///
/// ```
/// let r = llm_do_testing::cassette::redact::redactor();
/// assert_eq!(r.redact("key AKIAABCDEFGHIJKLMNOP, done"), "key [redacted], done");
/// ```
pub fn redactor() -> Redactor {
    Redactor::new().with_env(std::env::vars_os())
}

/// Redacts every string of an answer — text, refusal, tool calls' ids, names and arguments,
/// model name, finish reason — by the same rule as requests ([`Redactor::redact_value`] on its
/// JSON form).
///
/// ```
/// use llm_do_core::{ModelResponse, ToolCall};
/// use llm_do_testing::cassette::redact::redact_response;
/// let r = redact_response(ModelResponse::text("here: ghp_abcdefghijklmnopqrstuvwxyz"));
/// assert_eq!(r.text.as_deref(), Some("here: [redacted]"));
/// let call = ToolCall::new("ghp_abcdefghijklmnopqrstuvwxyz", "now", &serde_json::json!({}));
/// let r = redact_response(ModelResponse::tool_calls(vec![call]));
/// assert_eq!(r.tool_calls[0].id, "[redacted]");
/// ```
pub fn redact_response(response: ModelResponse) -> ModelResponse {
    let value = match serde_json::to_value(&response) {
        Ok(value) => redactor().redact_json(value),
        Err(_) => return redacted_placeholder(),
    };
    // Redaction only rewrites strings of string fields (no field of a response has a secret
    // name), so the value reads back; if it ever did not, nothing unredacted is kept.
    serde_json::from_value(value).unwrap_or_else(|_| redacted_placeholder())
}

/// What is recorded for an answer that could not be redacted field by field.
fn redacted_placeholder() -> ModelResponse {
    ModelResponse::text(REDACTED)
}

#[cfg(test)]
mod tests {
    use super::super::{Cassette, Interaction};
    use llm_do_core::{Message, ModelRequest, ModelResponse, ToolCall};

    #[test]
    fn no_string_of_an_answer_reaches_the_cassette_file_in_clear() {
        let secret = |field: &str| format!("ghp_{field}0123456789abcdefghijklmnop");
        let fields = ["id", "name", "arguments", "model", "finish_reason", "refusal", "text"];
        let call = ToolCall::new(
            secret("id"),
            secret("name"),
            &serde_json::json!({"q": secret("arguments")}),
        );
        let mut response = ModelResponse::tool_calls(vec![call]);
        response.model = Some(secret("model"));
        response.finish_reason = Some(secret("finish_reason"));
        response.refusal = Some(secret("refusal"));
        response.text = Some(secret("text"));
        let mut cassette = Cassette::default();
        cassette
            .push(Interaction::new(&ModelRequest::new("m", vec![Message::user("hi")]), response));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.json");
        cassette.save(&path).expect("save");
        let saved = std::fs::read_to_string(&path).expect("read");
        for field in fields {
            assert!(!saved.contains(&secret(field)), "{field} in clear: {saved}");
        }
        assert_eq!(saved.matches(super::REDACTED).count(), fields.len(), "{saved}");
    }
}
