//! Reading an answer's body with a size limit ([`OpenAiConfig::max_answer_bytes`]), so that a
//! broken or hostile server cannot make the client hold more than that in memory.
//!
//! [`OpenAiConfig::max_answer_bytes`]: crate::OpenAiConfig::max_answer_bytes

use super::error::{Failure, from_reqwest};
use bytes::Bytes;
use llm_do_core::ModelErrorKind;

/// How much of a non-success answer's body is read (for its error message; the rest is
/// dropped with the connection).
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A body read up to a limit.
#[derive(Debug)]
pub(crate) struct Prefix {
    /// The body, or its first `limit` bytes.
    pub(crate) bytes: Bytes,
    /// Whether that is the whole body.
    pub(crate) complete: bool,
}

/// Reads `response`'s body until its end or until more than `limit` bytes have come (then
/// stops reading and keeps the first `limit`). A body in one piece is returned without a copy.
pub(crate) async fn read_at_most(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Prefix, Failure> {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut room = limit;
    while let Some(mut chunk) = response.chunk().await.map_err(from_reqwest)? {
        match room.checked_sub(chunk.len() as u64) {
            Some(left) => room = left,
            None => {
                chunk.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                chunks.push(chunk);
                return Ok(Prefix { bytes: concat(chunks), complete: false });
            }
        }
        chunks.push(chunk);
    }
    Ok(Prefix { bytes: concat(chunks), complete: true })
}

/// The pieces as one buffer (one piece as it is).
fn concat(mut chunks: Vec<Bytes>) -> Bytes {
    match chunks.len() {
        1 => chunks.pop().unwrap_or_default(),
        _ => chunks.concat().into(),
    }
}

/// The failure of an answer larger than the limit: not retried (the server would send the
/// same again).
pub(crate) fn too_large(limit: u64) -> Failure {
    Failure::new(
        ModelErrorKind::Decode,
        format!(
            "the answer is larger than the limit of {limit} bytes (OpenAiConfig::max_answer_bytes); \
             the rest was not read"
        ),
    )
}
