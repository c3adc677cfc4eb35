//! Secret redaction for cassettes: nothing that looks like a credential reaches a cassette.
//!
//! What a secret is, and how it is replaced, is defined once for the whole project in
//! [`llm_do_core::secrets`]; cassettes use that rule with the values of the environment's
//! secret-looking variables ([`redactor`]). Requests carry no headers (providers add
//! `Authorization` themselves), so a secret can only reach a cassette through text: a prompt,
//! a tool result, an answer, the arguments of a tool call.
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
    Redactor::new().with_env(std::env::vars())
}

/// Redacts the text and tool call arguments of an answer.
///
/// ```
/// use llm_do_core::ModelResponse;
/// use llm_do_testing::cassette::redact::redact_response;
/// let r = redact_response(ModelResponse::text("here: ghp_abcdefghijklmnopqrstuvwxyz"));
/// assert_eq!(r.text.as_deref(), Some("here: [redacted]"));
/// ```
pub fn redact_response(mut response: ModelResponse) -> ModelResponse {
    let redactor = redactor();
    for text in [&mut response.text, &mut response.refusal].into_iter().flatten() {
        *text = redactor.redact(text);
    }
    for call in &mut response.tool_calls {
        call.arguments = redactor.redact(&call.arguments);
    }
    response
}
