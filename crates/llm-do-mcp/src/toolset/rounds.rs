//! A call in rounds (MCP protocol 2026-07-28): a server that needs something from the client
//! before it can finish a call answers with an `InputRequiredResult` — requests keyed by the
//! server, and an opaque state — and the client sends the call again with its answers and that
//! state. Questions (elicitation) are put to the person behind the very call they belong to
//! ([`listener::put`]), one after the other; sampling and roots, which llm-do does not
//! declare, fail the call, as do more than [`MAX_REQUESTS`] requests in a round.

use crate::listener;
use llm_do_core::{Ctx, Error};
use rmcp::model::{InputRequest, InputRequests, InputResponses};

/// At most this many rounds of one call (rmcp's own cap).
pub(super) const MAX_ROUNDS: usize = rmcp::model::DEFAULT_MRTR_MAX_ROUNDS;

/// At most this many requests in one round (each may be a question for a person).
pub(super) const MAX_REQUESTS: usize = 16;

/// The pause before sending a call again when the server asked for nothing but time (a round
/// with only its state): 50 ms, doubling up to 400 ms, as rmcp's own client waits.
pub(super) fn pause(rounds_without_requests: usize) -> std::time::Duration {
    std::time::Duration::from_millis(50 << rounds_without_requests.min(3))
}

/// The answers to one round's `requests`, from `server` during a call made by `asker`
/// (`None`: a call made outside any run, whose questions are declined).
pub(super) async fn answer(
    server: &str,
    asker: Option<&Ctx>,
    requests: InputRequests,
) -> Result<InputResponses, Error> {
    if requests.len() > MAX_REQUESTS {
        return Err(refused(
            server,
            format!("it asked for {} things at once (at most {MAX_REQUESTS})", requests.len()),
        ));
    }
    let mut answers = InputResponses::new();
    for (key, request) in requests {
        let answer = match request {
            InputRequest::Elicitation(request) => {
                listener::put(server, asker.cloned(), request.params).await?
            }
            InputRequest::CreateMessage(_) => {
                return Err(refused(server, "it asked for sampling, which llm-do does not offer"));
            }
            InputRequest::ListRoots(_) => {
                return Err(refused(server, "it asked for roots, which llm-do does not offer"));
            }
            _ => return Err(refused(server, "it asked for something llm-do does not know")),
        };
        let answer = serde_json::to_value(answer).map_err(|e| refused(server, e.to_string()))?;
        answers.insert(key, answer);
    }
    Ok(answers)
}

/// The server asked for what llm-do does not give: the tool failed.
pub(super) fn refused(server: &str, message: impl Into<String>) -> Error {
    Error::msg(format!("the MCP server `{server}` {}", crate::error::escaped(&message.into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::error::ErrorKind;
    use serde_json::{Value, json};

    fn request(value: Value) -> InputRequest {
        serde_json::from_value(value).unwrap()
    }

    fn form(message: &str) -> InputRequest {
        request(json!({"method": "elicitation/create", "params": {
            "mode": "form", "message": message,
            "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        }}))
    }

    fn one(key: &str, request: InputRequest) -> InputRequests {
        [(key.to_owned(), request)].into_iter().collect()
    }

    #[tokio::test]
    async fn questions_outside_a_run_are_declined_under_their_keys_forms_and_pages_alike() {
        let url = request(json!({"method": "elicitation/create", "params": {
            "mode": "url", "message": "Sign in", "url": "https://example.com/login",
            "elicitationId": "e1",
        }}));
        let mut requests = one("a", form("Sure?"));
        requests.insert("b".into(), url);
        let answers = answer("orders", None, requests).await.unwrap();
        assert_eq!(answers.len(), 2);
        assert_eq!(answers["a"]["action"], "decline");
        assert_eq!(answers["b"]["action"], "decline");
    }

    #[tokio::test]
    async fn sampling_roots_and_floods_fail_the_call_as_the_tools_failure() {
        let sampling = request(json!({"method": "sampling/createMessage", "params": {
            "messages": [], "maxTokens": 10,
        }}));
        let e = answer("orders", None, one("s", sampling)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tool);
        assert!(e.to_string().contains("`orders` it asked for sampling"), "{e}");
        let roots = request(json!({"method": "roots/list"}));
        let e = answer("orders", None, one("r", roots)).await.unwrap_err();
        assert!(e.to_string().contains("roots"), "{e}");
        let flood: InputRequests =
            (0..=MAX_REQUESTS).map(|i| (format!("q{i}"), form("again?"))).collect();
        let e = answer("orders", None, flood).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tool);
        assert!(e.to_string().contains("17 things at once (at most 16)"), "{e}");
    }

    #[test]
    fn rounds_without_requests_pause_longer_up_to_a_bound() {
        let pauses: Vec<u64> = (0..6).map(|n| pause(n).as_millis() as u64).collect();
        assert_eq!(pauses, [50, 100, 200, 400, 400, 400]);
    }
}
