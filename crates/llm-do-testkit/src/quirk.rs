//! [`Quirk`]: how a successful answer deviates from the standard OpenAI shape, to exercise a
//! client's lenient decoding.

use crate::fault::Fault;

/// The shape of a successful answer's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Quirk {
    /// Exactly OpenAI's shape.
    #[default]
    Standard,
    /// Without `object`, `created`, `system_fingerprint` and `usage`; no `content: null`.
    Minimal,
    /// With unknown extra fields at every level.
    ExtraFields,
    /// With `finish_reason: ""`.
    EmptyFinishReason,
}

impl Quirk {
    /// The quirk a fault asks for (`Standard` for every other fault).
    pub(crate) fn of(fault: Option<&Fault>) -> Self {
        match fault {
            Some(Fault::MinimalBody) => Quirk::Minimal,
            Some(Fault::ExtraFields) => Quirk::ExtraFields,
            Some(Fault::EmptyFinishReason) => Quirk::EmptyFinishReason,
            _ => Quirk::Standard,
        }
    }
}
