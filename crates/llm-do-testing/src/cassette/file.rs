//! The cassette file: [`Cassette`] and its [`Interaction`]s, loaded and saved as pretty JSON in
//! a stable order.

use super::error::CassetteError;
use super::normalize::canonical_string;
use llm_do_core::ModelResponse;
use llm_do_core::attachment::InputCapabilities;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;

/// The `format` tag of cassettes written by this version.
pub const CASSETTE_FORMAT: &str = "llm-do-cassette/1";

/// Largest cassette file [`Cassette::load`] reads (64 MiB): attachments are recorded by
/// digest, so a cassette holds text only.
pub const MAX_CASSETTE_BYTES: u64 = 64 << 20;

const COMMENT: &str = "Recorded model answers, replayed offline by tests. Review changes like \
                       code; re-record with LLM_DO_RECORD=1 cargo test.";

/// A recorded set of model interactions.
///
/// ```
/// use llm_do_core::{Message, ModelRequest, ModelResponse};
/// use llm_do_testing::cassette::{Cassette, Interaction};
/// let mut c = Cassette::default();
/// c.push(Interaction::new(&ModelRequest::new("m", vec![Message::user("hi")]), ModelResponse::text("hello")));
/// let json = c.to_pretty_json();
/// assert!(json.contains("\"format\": \"llm-do-cassette/1\""));
/// assert_eq!(Cassette::from_json(&json).unwrap(), c);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cassette {
    /// Always [`CASSETTE_FORMAT`].
    pub format: String,
    /// A note for reviewers (ignored when read).
    #[serde(default)]
    pub comment: String,
    /// The attachments the recorded model took natively, when it took any (a text-only
    /// model's cassette leaves it out): replay declares the same, so that attachments reach
    /// the replayed model as they reached the recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_capabilities: Option<InputCapabilities>,
    /// The interactions, in stable order (see [`Cassette::sort`]).
    #[serde(default)]
    pub interactions: Vec<Interaction>,
}

impl Default for Cassette {
    fn default() -> Self {
        Self {
            format: CASSETTE_FORMAT.to_owned(),
            comment: COMMENT.to_owned(),
            input_capabilities: None,
            interactions: Vec::new(),
        }
    }
}

/// One request and the answer the model gave.
///
/// ```
/// use llm_do_core::{Message, ModelRequest, ModelResponse};
/// use llm_do_testing::cassette::Interaction;
/// let i = Interaction::new(&ModelRequest::new("m", vec![Message::user("hi")]), ModelResponse::text("hey"));
/// assert_eq!(i.request["messages"][0]["content"], "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interaction {
    /// The request in normalized, redacted form (see
    /// [`normalize_request`](super::normalize_request)).
    pub request: Value,
    /// The model's answer (redacted).
    pub response: ModelResponse,
}

impl Interaction {
    /// Records `request` (normalized and redacted) and `response` (redacted).
    ///
    /// ```
    /// use llm_do_core::{Message, ModelRequest, ModelResponse};
    /// use llm_do_testing::cassette::Interaction;
    /// let req = ModelRequest::new("m", vec![Message::user("my key is sk-abcdefghijklmnopqrstuvwx")]);
    /// let i = Interaction::new(&req, ModelResponse::text("ok"));
    /// assert_eq!(i.request["messages"][0]["content"], "my key is [redacted]");
    /// ```
    pub fn new(request: &llm_do_core::ModelRequest, response: ModelResponse) -> Self {
        Self {
            request: super::normalize_request(request),
            response: super::redact::redact_response(response),
        }
    }

    /// The key interactions are sorted by: conversations stay together (same model, settings
    /// and opening messages), shorter turns first.
    fn sort_key(&self) -> (String, usize, String) {
        let mut head = self.request.clone();
        let len = match head.get_mut("messages").and_then(Value::as_array_mut) {
            Some(messages) => {
                let len = messages.len();
                messages.truncate(2);
                len
            }
            None => 0,
        };
        if let Some(obj) = head.as_object_mut() {
            obj.remove("tools");
            obj.remove("output");
        }
        (canonical_string(&head), len, canonical_string(&self.request))
    }
}

impl Cassette {
    /// Adds an interaction and restores the stable order.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest, ModelResponse};
    /// # use llm_do_testing::cassette::{Cassette, Interaction};
    /// let mut c = Cassette::default();
    /// c.push(Interaction::new(&ModelRequest::new("m", vec![Message::user("b")]), ModelResponse::text("2")));
    /// c.push(Interaction::new(&ModelRequest::new("m", vec![Message::user("a")]), ModelResponse::text("1")));
    /// assert_eq!(c.interactions[0].response.text.as_deref(), Some("1"));
    /// ```
    pub fn push(&mut self, interaction: Interaction) {
        self.interactions.push(interaction);
        self.sort();
    }

    /// Sorts the interactions so that the file does not depend on the order in which
    /// concurrent requests arrived: by conversation (model, settings, opening messages), then
    /// by number of messages. The sort is stable, so identical requests keep their order.
    ///
    /// ```
    /// # use llm_do_testing::cassette::Cassette;
    /// let mut c = Cassette::default();
    /// c.sort();
    /// assert!(c.interactions.is_empty());
    /// ```
    pub fn sort(&mut self) {
        self.interactions.sort_by_cached_key(Interaction::sort_key);
    }

    /// Parses a cassette.
    ///
    /// ```
    /// # use llm_do_testing::cassette::Cassette;
    /// assert!(Cassette::from_json(r#"{"format": "llm-do-cassette/1"}"#).is_ok());
    /// assert!(Cassette::from_json(r#"{"format": "other/9"}"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Self, String> {
        let cassette: Cassette = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if cassette.format != CASSETTE_FORMAT {
            return Err(format!(
                "unknown format `{}` (expected `{CASSETTE_FORMAT}`)",
                cassette.format
            ));
        }
        Ok(cassette)
    }

    /// The cassette as pretty JSON, ending with a newline.
    ///
    /// ```
    /// # use llm_do_testing::cassette::Cassette;
    /// assert!(Cassette::default().to_pretty_json().ends_with("}\n"));
    /// ```
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned());
        text.push('\n');
        text
    }

    /// Reads a cassette file: a regular file (a symbolic link to one is followed) of UTF-8
    /// text, at most [`MAX_CASSETTE_BYTES`], read as llm-do reads every file it is pointed at
    /// ([`llm_do_core::file`]). A FIFO, a device, a dangling link, a larger file or one that is
    /// not UTF-8 is a [`CassetteError::Read`] that says which; nothing at the path is
    /// [`CassetteError::Missing`].
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, CassetteError};
    /// assert!(matches!(Cassette::load("missing.json"), Err(CassetteError::Missing { .. })));
    /// let dir = tempfile::tempdir().unwrap();
    /// let err = Cassette::load(dir.path()).unwrap_err();
    /// assert!(matches!(err, CassetteError::Read { .. }));
    /// assert!(err.to_string().ends_with("the path is a directory, not a regular file"), "{err}");
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let text = match llm_do_core::file::read_text(path, MAX_CASSETTE_BYTES) {
            Ok(text) => text,
            Err(llm_do_core::file::ReadError::NotFound) => {
                return Err(CassetteError::Missing { path: path.to_owned() });
            }
            Err(e) => return Err(CassetteError::Read { path: path.to_owned(), source: e.into() }),
        };
        Self::from_json(&text)
            .map_err(|message| CassetteError::Invalid { path: path.to_owned(), message })
    }

    /// Writes the cassette (creating parent directories), replacing the file atomically.
    ///
    /// ```
    /// # use llm_do_testing::cassette::Cassette;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("sub/c.json");
    /// Cassette::default().save(&path).unwrap();
    /// assert!(Cassette::load(&path).unwrap().interactions.is_empty());
    ///
    /// // A save that fails (here: a directory is in the way) is an error that names the
    /// // path, and leaves no temporary file behind.
    /// let blocked = dir.path().join("blocked.json");
    /// std::fs::create_dir(&blocked).unwrap();
    /// let err = Cassette::default().save(&blocked).unwrap_err();
    /// assert!(matches!(err, llm_do_testing::cassette::CassetteError::Write { .. }), "{err}");
    /// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2); // `sub`, `blocked.json`
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CassetteError> {
        let path = path.as_ref();
        let write_err = |source| CassetteError::Write { path: path.to_owned(), source };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write_err)?;
        // A temporary file of this save's own beside the cassette (two saves never share
        // one), renamed into place; deleted when the write or the rename fails.
        let mut builder = tempfile::Builder::new();
        builder.prefix(".cassette-");
        // The mode a plain `fs::write` gives (0666 less the umask), not tempfile's 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut tmp = builder.tempfile_in(dir).map_err(write_err)?;
        tmp.write_all(self.to_pretty_json().as_bytes()).map_err(write_err)?;
        tmp.persist(path).map(drop).map_err(|e| write_err(e.error))
    }
}
