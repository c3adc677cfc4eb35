//! [`Fault`]: what can go wrong with one response, and [`FaultKind`], the fieldless names that
//! rate-based injection picks from.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How long [`FaultKind::Delay`] delays a response.
pub const RATE_DELAY: Duration = Duration::from_millis(100);

/// A fault injected into one `POST /v1/chat/completions` response.
///
/// Queue one with [`TestServer::push_fault`](crate::TestServer::push_fault) (the next chat
/// request gets it) or let [`TestServerBuilder::fault_rate`](crate::TestServerBuilder::fault_rate)
/// draw them. Faults that make the request *fail* ([`Status`](Fault::Status),
/// [`CloseMidBody`](Fault::CloseMidBody), [`TruncatedStream`](Fault::TruncatedStream),
/// [`InvalidJson`](Fault::InvalidJson), [`EmptyChoices`](Fault::EmptyChoices)) do not use up
/// a scripted reply, so a client's retry gets it; the partial content they send is that reply
/// (or the default behaviour's answer), looked at but left in place. Faults that still deliver
/// an answer ([`Delay`](Fault::Delay) and the lenient-decoding quirks
/// [`MinimalBody`](Fault::MinimalBody), [`ExtraFields`](Fault::ExtraFields),
/// [`EmptyFinishReason`](Fault::EmptyFinishReason)) use it as usual.
///
/// ```
/// use llm_do_testkit::Fault;
/// use std::time::Duration;
///
/// let faults = [
///     Fault::Status { code: 429, retry_after: Some(1), message: None },
///     Fault::Delay(Duration::from_millis(200)),
///     Fault::CloseMidBody,
///     Fault::TruncatedStream,
///     Fault::InvalidJson,
///     Fault::EmptyChoices,
///     Fault::MinimalBody,
///     Fault::ExtraFields,
///     Fault::EmptyFinishReason,
/// ];
/// assert_eq!(faults[0].kind(), Some(llm_do_testkit::FaultKind::Status429));
/// let custom = Fault::Status { code: 429, retry_after: Some(30), message: Some("slow down".into()) };
/// assert_eq!(custom.kind(), None); // no fieldless kind has these details
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this HTTP status and an OpenAI-style error body
    /// `{"error": {"message", "type", "param", "code"}}`. `retry_after` (seconds) sets the
    /// `Retry-After` header; `message` replaces the default message for the status. A code that
    /// is not a valid HTTP status (outside 100..=999) is sent as 500.
    Status {
        /// The HTTP status code.
        code: u16,
        /// Seconds for the `Retry-After` header, if any.
        retry_after: Option<u64>,
        /// The error message; `None` gives a default for the status.
        message: Option<String>,
    },
    /// Wait this long (after the server's latency), then answer normally.
    Delay(Duration),
    /// Send the status line, the headers (with `Content-Length` set to the full length for a
    /// JSON body; chunked for a stream) and part of the body, then abort the connection: the
    /// client sees a transport error while reading the body.
    CloseMidBody,
    /// Streaming request: send part of the SSE stream (the role and some content), then end it
    /// cleanly, without a `finish_reason` or `data: [DONE]`. Non-streaming request: send the
    /// first half of the JSON body as a complete response (its `Content-Length` matches), so the
    /// client reads a body that is cut off rather than hitting a transport error.
    TruncatedStream,
    /// Status 200 with a body that is not JSON (in a stream: a `data:` event that is not JSON,
    /// then `data: [DONE]`).
    InvalidJson,
    /// Status 200 with `"choices": []` (in a stream: one chunk with empty choices, then
    /// `data: [DONE]`).
    EmptyChoices,
    /// Lenient decoding: a normal answer without the optional fields `object`, `created`,
    /// `system_fingerprint` and `usage` (no usage chunk in a stream either), and with `content`
    /// left out rather than `null` when there is no text.
    MinimalBody,
    /// Lenient decoding: a normal answer with unknown extra fields at every level (response,
    /// choice, message or delta, tool call, usage), as newer or other OpenAI-compatible servers
    /// send them.
    ExtraFields,
    /// Lenient decoding: a normal answer whose `finish_reason` is `""`.
    EmptyFinishReason,
    /// Lenient decoding: a streamed request answered with the whole JSON body, as a server
    /// that ignores `"stream": true` answers (a request that is not streamed is answered as
    /// usual).
    WholeBody,
}

impl Fault {
    /// The fieldless kind this fault is, if any: `Status` faults with the details
    /// [`FaultKind::fault`] gives (e.g. 429 with `Retry-After: 1`) and `Delay` of
    /// [`RATE_DELAY`] have one, other `Status` and `Delay` faults do not.
    ///
    /// ```
    /// use llm_do_testkit::{Fault, FaultKind};
    /// assert_eq!(FaultKind::Status503.fault().kind(), Some(FaultKind::Status503));
    /// assert_eq!(Fault::InvalidJson.kind(), Some(FaultKind::InvalidJson));
    /// ```
    pub fn kind(&self) -> Option<FaultKind> {
        FaultKind::ALL.iter().copied().find(|kind| kind.fault() == *self)
    }

    /// `true` for faults that make the request fail, which leave the scripted reply for the
    /// next request.
    pub(crate) fn fails_request(&self) -> bool {
        matches!(
            self,
            Fault::Status { .. }
                | Fault::CloseMidBody
                | Fault::TruncatedStream
                | Fault::InvalidJson
                | Fault::EmptyChoices
        )
    }
}

/// The name of a fault without details, for rate-based injection
/// ([`TestServerBuilder::fault_rate`](crate::TestServerBuilder::fault_rate)) and the binary's
/// `--faults` option. [`FaultKind::fault`] gives the [`Fault`] each stands for.
///
/// The names (for [`FromStr`] and [`Display`](fmt::Display)) are `429`, `500`, `503`, `400`,
/// `delay`, `close-mid-body`, `truncated-stream`, `invalid-json`, `empty-choices`,
/// `minimal-body`, `extra-fields`, `empty-finish-reason` and `whole-body`.
///
/// ```
/// use llm_do_testkit::{Fault, FaultKind};
///
/// let kind: FaultKind = "close-mid-body".parse()?;
/// assert_eq!(kind, FaultKind::CloseMidBody);
/// assert_eq!(kind.to_string(), "close-mid-body");
/// assert_eq!(
///     FaultKind::Status429.fault(),
///     Fault::Status { code: 429, retry_after: Some(1), message: None }
/// );
/// # Ok::<(), llm_do_testkit::UnknownFaultKind>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// Status 429 with `Retry-After: 1`.
    Status429,
    /// Status 500.
    Status500,
    /// Status 503.
    Status503,
    /// Status 400.
    Status400,
    /// A delay of [`RATE_DELAY`], then a normal answer.
    Delay,
    /// [`Fault::CloseMidBody`].
    CloseMidBody,
    /// [`Fault::TruncatedStream`].
    TruncatedStream,
    /// [`Fault::InvalidJson`].
    InvalidJson,
    /// [`Fault::EmptyChoices`].
    EmptyChoices,
    /// [`Fault::MinimalBody`].
    MinimalBody,
    /// [`Fault::ExtraFields`].
    ExtraFields,
    /// [`Fault::EmptyFinishReason`].
    EmptyFinishReason,
    /// [`Fault::WholeBody`].
    WholeBody,
}

impl FaultKind {
    /// Every kind, in declaration order.
    ///
    /// ```
    /// # use llm_do_testkit::FaultKind;
    /// assert_eq!(FaultKind::ALL.len(), 13);
    /// ```
    pub const ALL: [FaultKind; 13] = [
        FaultKind::Status429,
        FaultKind::Status500,
        FaultKind::Status503,
        FaultKind::Status400,
        FaultKind::Delay,
        FaultKind::CloseMidBody,
        FaultKind::TruncatedStream,
        FaultKind::InvalidJson,
        FaultKind::EmptyChoices,
        FaultKind::MinimalBody,
        FaultKind::ExtraFields,
        FaultKind::EmptyFinishReason,
        FaultKind::WholeBody,
    ];

    /// The fault this kind stands for.
    ///
    /// ```
    /// # use llm_do_testkit::{Fault, FaultKind};
    /// assert_eq!(FaultKind::InvalidJson.fault(), Fault::InvalidJson);
    /// ```
    pub fn fault(self) -> Fault {
        let status = |code, retry_after| Fault::Status { code, retry_after, message: None };
        match self {
            FaultKind::Status429 => status(429, Some(1)),
            FaultKind::Status500 => status(500, None),
            FaultKind::Status503 => status(503, None),
            FaultKind::Status400 => status(400, None),
            FaultKind::Delay => Fault::Delay(RATE_DELAY),
            FaultKind::CloseMidBody => Fault::CloseMidBody,
            FaultKind::TruncatedStream => Fault::TruncatedStream,
            FaultKind::InvalidJson => Fault::InvalidJson,
            FaultKind::EmptyChoices => Fault::EmptyChoices,
            FaultKind::MinimalBody => Fault::MinimalBody,
            FaultKind::ExtraFields => Fault::ExtraFields,
            FaultKind::EmptyFinishReason => Fault::EmptyFinishReason,
            FaultKind::WholeBody => Fault::WholeBody,
        }
    }

    /// The kind's name, as [`FromStr`] accepts it.
    ///
    /// ```
    /// # use llm_do_testkit::FaultKind;
    /// assert_eq!(FaultKind::Status503.name(), "503");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Status429 => "429",
            FaultKind::Status500 => "500",
            FaultKind::Status503 => "503",
            FaultKind::Status400 => "400",
            FaultKind::Delay => "delay",
            FaultKind::CloseMidBody => "close-mid-body",
            FaultKind::TruncatedStream => "truncated-stream",
            FaultKind::InvalidJson => "invalid-json",
            FaultKind::EmptyChoices => "empty-choices",
            FaultKind::MinimalBody => "minimal-body",
            FaultKind::ExtraFields => "extra-fields",
            FaultKind::EmptyFinishReason => "empty-finish-reason",
            FaultKind::WholeBody => "whole-body",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`FaultKind`]; its message lists the known names.
///
/// ```
/// use llm_do_testkit::FaultKind;
/// let err = "teapot".parse::<FaultKind>().unwrap_err();
/// assert!(err.to_string().contains("close-mid-body"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault kind `{name}`; known kinds: {known}")]
pub struct UnknownFaultKind {
    name: String,
    known: String,
}

impl FromStr for FaultKind {
    type Err = UnknownFaultKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        FaultKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFaultKind {
                name: name.to_owned(),
                known: FaultKind::ALL.map(FaultKind::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in FaultKind::ALL {
            assert_eq!(kind.name().parse::<FaultKind>(), Ok(kind));
            assert_eq!(kind.fault().kind(), Some(kind));
        }
        assert_eq!(" Invalid-JSON ".parse::<FaultKind>(), Ok(FaultKind::InvalidJson));
    }

    #[test]
    fn failing_faults_are_the_ones_that_keep_the_reply() {
        let failing: Vec<FaultKind> =
            FaultKind::ALL.into_iter().filter(|k| k.fault().fails_request()).collect();
        assert_eq!(
            failing,
            [
                FaultKind::Status429,
                FaultKind::Status500,
                FaultKind::Status503,
                FaultKind::Status400,
                FaultKind::CloseMidBody,
                FaultKind::TruncatedStream,
                FaultKind::InvalidJson,
                FaultKind::EmptyChoices,
            ]
        );
    }
}
