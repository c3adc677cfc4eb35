//! Reading an answer's body with a size limit ([`OpenAiConfig::max_answer_bytes`]), so that a
//! broken or hostile server cannot make the client hold more than that in memory.
//!
//! [`OpenAiConfig::max_answer_bytes`]: crate::OpenAiConfig::max_answer_bytes

use super::error::{Failure, from_reqwest};
use bytes::{Bytes, BytesMut};
use llm_do_core::ModelErrorKind;

/// How much of a non-success answer's body is read (for its error message; the rest is
/// dropped with the connection).
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A body read up to a limit.
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
    let mut first: Option<Bytes> = None;
    let mut more = BytesMut::new();
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(from_reqwest)? {
        total = total.saturating_add(chunk.len() as u64);
        let chunk = if total > limit {
            // The bytes before this chunk were within the limit: cut off the excess.
            let excess = usize::try_from(total - limit).unwrap_or(usize::MAX).min(chunk.len());
            chunk.slice(..chunk.len() - excess)
        } else {
            chunk
        };
        match &first {
            None => first = Some(chunk),
            Some(_) => more.extend_from_slice(&chunk),
        }
        if total > limit {
            break;
        }
    }
    let complete = total <= limit;
    let bytes = match first {
        None => Bytes::new(),
        Some(first) if more.is_empty() => first,
        Some(first) => {
            let mut all = BytesMut::with_capacity(first.len() + more.len());
            all.extend_from_slice(&first);
            all.extend_from_slice(&more);
            all.freeze()
        }
    };
    Ok(Prefix { bytes, complete })
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
