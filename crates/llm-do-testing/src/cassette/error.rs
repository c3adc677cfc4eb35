//! [`CassetteError`]: what can go wrong reading, writing or replaying a cassette.

use super::diff::RequestMismatch;
use std::path::PathBuf;

/// An error of the cassette machinery.
///
/// ```
/// use llm_do_testing::cassette::{CassetteError, ReplayModel};
/// let err = ReplayModel::load("no/such/cassette.json").unwrap_err();
/// assert!(matches!(err, CassetteError::Missing { .. }));
/// assert!(err.to_string().contains("LLM_DO_RECORD=1"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CassetteError {
    /// Replay was asked for a cassette that does not exist yet.
    #[error(
        "cassette {} does not exist; record it by running the test with LLM_DO_RECORD=1",
        path.display()
    )]
    Missing {
        /// The cassette file.
        path: PathBuf,
    },
    /// The cassette could not be read.
    #[error("cannot read cassette {}: {source}", path.display())]
    Read {
        /// The cassette file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The cassette could not be written.
    #[error("cannot write cassette {}: {source}", path.display())]
    Write {
        /// The cassette file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a cassette this version understands.
    #[error("{} is not a valid cassette: {message}", path.display())]
    Invalid {
        /// The cassette file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A request matches no recorded interaction.
    #[error(transparent)]
    Mismatch(Box<RequestMismatch>),
    /// The request was recorded, but every recorded answer to it has been served already.
    #[error(
        "cassette {}: the request was recorded {recorded} time(s) and every recorded answer has \
         been served; the test now makes this request more often than when it was recorded \
         (re-record with LLM_DO_RECORD=1 if that is intended)",
        path.display()
    )]
    Exhausted {
        /// The cassette file.
        path: PathBuf,
        /// How many times the request was recorded.
        recorded: usize,
    },
}
