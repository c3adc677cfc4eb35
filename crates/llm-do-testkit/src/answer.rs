//! Choosing the answer to one chat request: the next scripted [`Reply`], else the
//! [default behaviour](crate::default_behaviour).

use crate::default_behaviour;
use crate::state::Shared;
use llm_do_core::{ModelError, ModelRequest, ModelResponse};

/// Whether answering uses the next scripted reply up or only looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Take {
    /// The reply is taken from the script and tool call ids are handed out.
    Use,
    /// The reply stays in the script and no id is handed out: the answer is what the request
    /// would have got, for a fault that breaks it off.
    Peek,
}

/// The answer to `request`: the scripted reply converted (an error reply gives its error),
/// or the default behaviour's answer. Tool calls without an id get `call_N` from the server's
/// counter.
pub(crate) async fn answer(
    shared: &Shared,
    request: &ModelRequest,
    take: Take,
) -> Result<ModelResponse, ModelError> {
    let mut peeked = shared.calls_issued();
    let mut next_id = || match take {
        Take::Use => shared.next_call_id(),
        Take::Peek => {
            peeked = peeked.saturating_add(1);
            format!("call_{peeked}")
        }
    };
    match shared.next_reply(take == Take::Use) {
        Some(reply) => reply.into_response(request, next_id),
        None => {
            let mut response = default_behaviour::respond(request).await?;
            for call in &mut response.tool_calls {
                call.id = next_id();
            }
            Ok(response)
        }
    }
}
