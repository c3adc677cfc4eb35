//! [`TestkitError`]: what can fail when starting, running or configuring a test server.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// An error starting or stopping a [`TestServer`](crate::TestServer), or loading a script.
///
/// ```
/// use llm_do_testkit::{TestkitError, load_script};
/// let err = load_script("/no/such/script.json").unwrap_err();
/// assert!(matches!(err, TestkitError::ReadScript { .. }));
/// assert!(err.to_string().starts_with("could not read the script /no/such/script.json"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// [`TestServer::start`](crate::TestServer::start) was called outside a Tokio runtime.
    #[error("the test server needs a Tokio runtime (with I/O and time enabled) to run on")]
    NoRuntime,
    /// The listening socket could not be bound (e.g. the port is taken).
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The server stopped with an I/O error, or its task failed.
    #[error("the test server failed: {0}")]
    Serve(#[source] io::Error),
    /// [`TestServerBuilder::fault_rate`](crate::TestServerBuilder::fault_rate) was given a
    /// rate that is not a share from 0 to 1 (`NaN`, or `30` meant as 30 %).
    #[error("the fault rate must be a share from 0 to 1 (0.3 for 30%), not {rate}")]
    FaultRate {
        /// The rate given.
        rate: f64,
    },
    /// A script file could not be read.
    #[error("could not read the script {}: {source}", path.display())]
    ReadScript {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A script is not a JSON array of replies.
    #[error("invalid script{}: {source}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    ParseScript {
        /// The file, when the script came from one.
        path: Option<PathBuf>,
        /// What is wrong, with line and column.
        source: serde_json::Error,
    },
}
