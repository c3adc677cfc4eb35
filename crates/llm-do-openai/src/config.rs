//! [`OpenAiConfig`]: where the server is, how to authenticate, and how the provider behaves
//! (timeout, retries, structured output, streaming).
//!
//! (Over 400 lines: one type — a setter per setting, each with its doc example, and the
//! environment's reading — so that the provider's configuration reads in one place.)

use super::retry::RetryPolicy;
use llm_do_core::attachment::InputCapabilities;
use llm_do_core::secrets::{REDACTED, Redactor, is_secret_name};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;

/// OpenAI's API, the base URL when none is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The default time one attempt may take in all ([`OpenAiConfig::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The default time connecting to the server may take ([`OpenAiConfig::connect_timeout`]).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time from sending a request to the server's response headers
/// ([`OpenAiConfig::first_byte_timeout`]).
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);

/// The default size limit of one answer ([`OpenAiConfig::max_answer_bytes`]): 64 MiB.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 64 << 20;

/// Configuration of an [`OpenAiProvider`](super::OpenAiProvider).
///
/// [`OpenAiConfig::new`] starts from fixed defaults and reads nothing from the environment;
/// [`OpenAiConfig::from_env`] reads `OPENAI_API_KEY` and `OPENAI_BASE_URL`. Either way the
/// builder methods override any setting, so two providers in one runtime can point at two
/// servers (e.g. OpenAI and a local Ollama). The API key is never shown: `Debug` prints
/// `[redacted]`, and errors have it scrubbed.
///
/// ```
/// use llm_do_openai::{OpenAiConfig, RetryPolicy, StructuredOutput};
/// use std::time::Duration;
///
/// let config = OpenAiConfig::new()
///     .base_url("http://127.0.0.1:11434/v1")
///     .api_key("sk-test-SECRET123")
///     .header("X-Title", "my app")
///     .timeout(Duration::from_secs(60))
///     .retry(RetryPolicy { max_attempts: 2, ..RetryPolicy::default() })
///     .structured_output(StructuredOutput::FinalAnswerTool)
///     .streaming(true);
/// let shown = format!("{config:?}");
/// assert!(shown.contains("[redacted]") && !shown.contains("SECRET123"));
/// ```
#[derive(Clone)]
pub struct OpenAiConfig {
    pub(crate) base_url: String,
    pub(crate) api_key: Option<SecretString>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) first_byte_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) structured_output: StructuredOutput,
    pub(crate) streaming: bool,
    pub(crate) max_tokens_field: Option<MaxTokensField>,
    pub(crate) attachments: InputCapabilities,
    pub(crate) max_answer_bytes: u64,
}

/// How a worker's structured (JSON) output is requested from the server.
///
/// ```
/// use llm_do_openai::{OpenAiConfig, StructuredOutput};
/// assert_eq!(StructuredOutput::default(), StructuredOutput::JsonSchema);
/// // A server without `response_format: json_schema` support:
/// let config = OpenAiConfig::new().structured_output(StructuredOutput::PromptedJson);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StructuredOutput {
    /// `response_format: {type: "json_schema", json_schema: {name, schema, strict}}`, with
    /// `strict: true` when the schema qualifies for OpenAI's strict mode. The default.
    #[default]
    JsonSchema,
    /// An extra tool, `final_result`, whose parameters are the output schema; the model
    /// answers by calling it, and the call becomes the final text. For servers with tool
    /// calling but without `json_schema` response formats.
    FinalAnswerTool,
    /// The schema is appended to the system prompt with an instruction to answer with
    /// matching JSON only. For servers with neither.
    PromptedJson,
}

/// Which request field carries the worker's `max_tokens` setting.
///
/// OpenAI deprecated `max_tokens` in favour of `max_completion_tokens` (its reasoning models
/// reject `max_tokens`), while many OpenAI-compatible servers only know `max_tokens`. Unless
/// set, the provider uses `max_completion_tokens` when the base URL is OpenAI's
/// (`api.openai.com`) and `max_tokens` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens`, OpenAI's current field.
    MaxCompletionTokens,
    /// `max_tokens`, the older field most compatible servers accept.
    MaxTokens,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenAiConfig {
    /// Defaults, nothing read from the environment: OpenAI's base URL, no API key, timeouts
    /// of 10 s to connect, 60 s to the response headers and 300 s per attempt,
    /// [`RetryPolicy::default`], [`StructuredOutput::JsonSchema`], no
    /// streaming.
    ///
    /// ```
    /// # use llm_do_openai::OpenAiConfig;
    /// let config = OpenAiConfig::new();
    /// assert!(format!("{config:?}").contains("https://api.openai.com/v1"));
    /// ```
    pub fn new() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            first_byte_timeout: DEFAULT_FIRST_BYTE_TIMEOUT,
            retry: RetryPolicy::default(),
            structured_output: StructuredOutput::default(),
            streaming: false,
            max_tokens_field: None,
            attachments: InputCapabilities::ALL,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        }
    }

    /// The defaults of [`new`](OpenAiConfig::new), with the API key from `OPENAI_API_KEY` and
    /// the base URL from `OPENAI_BASE_URL` when set (and not empty).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingApiKey`] when `OPENAI_API_KEY` is unset while the base URL is
    /// OpenAI's (a server elsewhere may need no key), [`ConfigError::InvalidBaseUrl`] when
    /// `OPENAI_BASE_URL` is not an `http(s)` URL, [`ConfigError::InvalidApiKey`] when the key
    /// cannot be sent in a header, [`ConfigError::NotUtf8`] when either variable is not UTF-8
    /// (read as unset, a base URL that is not would send the key to OpenAI's server).
    pub fn from_env() -> Result<Self, ConfigError> {
        for variable in ["OPENAI_BASE_URL", "OPENAI_API_KEY"] {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(variable) {
                return Err(ConfigError::NotUtf8 { variable });
            }
        }
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](OpenAiConfig::from_env) over any source of variables.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = Self::new();
        if let Some(url) = set("OPENAI_BASE_URL") {
            config = config.base_url(url);
        }
        match set("OPENAI_API_KEY") {
            Some(key) => config = config.api_key(key),
            None if config.base_url == DEFAULT_BASE_URL => return Err(ConfigError::MissingApiKey),
            None => {}
        }
        config.validate()?;
        Ok(config)
    }

    /// The server's base URL, up to and including the version (`.../v1`); requests go to
    /// `{base_url}/chat/completions`. A trailing `/` is ignored.
    ///
    /// ```
    /// # use llm_do_openai::OpenAiConfig;
    /// let ollama = OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1/");
    /// assert!(format!("{ollama:?}").contains("\"http://127.0.0.1:11434/v1\""));
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        self.base_url = url.trim().trim_end_matches('/').to_owned();
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`. Without one no `Authorization`
    /// header is sent.
    ///
    /// ```
    /// # use llm_do_openai::OpenAiConfig;
    /// let config = OpenAiConfig::new().api_key("sk-test-SECRET123");
    /// assert!(!format!("{config:?}").contains("SECRET123"));
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key: String = key.into();
        self.api_key = Some(SecretString::from(key));
        self
    }

    /// An extra header sent with every request (e.g. `OpenAI-Organization`, or `api-key` for
    /// servers that authenticate that way). Setting a header again replaces it. Header values
    /// are not shown by `Debug`, and values of credential-like headers (`api-key`, `*-token`,
    /// ...) are scrubbed from errors like the API key.
    ///
    /// ```
    /// # use llm_do_openai::OpenAiConfig;
    /// let config = OpenAiConfig::new().header("OpenAI-Organization", "org-123");
    /// assert!(format!("{config:?}").contains("openai-organization"));
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().trim().to_ascii_lowercase();
        let value = value.into();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value));
        self
    }

    /// The time one attempt may take in all, from sending the request to the end of the
    /// answer (streamed or not); default 300 s (`Duration::MAX`: no limit). An attempt that
    /// takes longer fails as a retryable [`Timeout`](llm_do_core::ModelErrorKind::Timeout)
    /// error. The [retry policy](Self::retry) bounds how many attempts are made (by default at
    /// most 4, and none starts later than 60 s after the first).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time connecting to the server (TCP and TLS) may take; default 10 s. A connection
    /// that takes longer fails as a retryable
    /// [`Timeout`](llm_do_core::ModelErrorKind::Timeout) error.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time from sending a request to the server's response headers (for a streamed
    /// answer, the headers come before the first chunk); default 60 s. A server that accepts
    /// the connection and sends nothing fails the attempt after this long with a retryable
    /// [`Timeout`](llm_do_core::ModelErrorKind::Timeout) error.
    pub fn first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.first_byte_timeout = timeout;
        self
    }

    /// The most bytes one answer may have: the body of a plain answer, every event of a
    /// streamed one together; default [`DEFAULT_MAX_ANSWER_BYTES`] (64 MiB). A larger answer
    /// fails its request, once no more than this has been read, with a
    /// [`Decode`](llm_do_core::ModelErrorKind::Decode) error that is not retried: a broken or
    /// hostile server cannot make the client hold more. (The body of an error status is read
    /// up to 64 KiB, for its message.)
    ///
    /// ```
    /// # use llm_do_openai::OpenAiConfig;
    /// let config = OpenAiConfig::new().max_answer_bytes(1 << 20);
    /// assert!(format!("{config:?}").contains("max_answer_bytes: 1048576"));
    /// ```
    pub fn max_answer_bytes(mut self, bytes: u64) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]; [`RetryPolicy::none`] disables
    /// retries).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How structured output is requested (default [`StructuredOutput::JsonSchema`]).
    pub fn structured_output(mut self, mode: StructuredOutput) -> Self {
        self.structured_output = mode;
        self
    }

    /// Whether answers are streamed (server-sent events). When `true`, text and tool-call
    /// pieces reach the runtime as they arrive (as `ModelDelta` events); the assembled answer
    /// is the same as without streaming. Default `false`.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }

    /// Which field carries `max_tokens` (see [`MaxTokensField`] for the default).
    pub fn max_tokens_field(mut self, field: MaxTokensField) -> Self {
        self.max_tokens_field = Some(field);
        self
    }

    /// Which attachments the server's model takes natively. The default,
    /// [`InputCapabilities::ALL`], sends images as `image_url` parts and PDFs as `file`
    /// parts (OpenAI's vision models). For a text-only model, or a server without those
    /// parts, choose what to send instead: PDFs as their extracted text
    /// ([`PdfSupport::ExtractText`](llm_do_core::attachment::PdfSupport)) or an error
    /// before any request ([`PdfSupport::Reject`](llm_do_core::attachment::PdfSupport), and
    /// `images: false`).
    ///
    /// ```
    /// use llm_do_core::attachment::{InputCapabilities, PdfSupport};
    /// # use llm_do_openai::OpenAiConfig;
    /// // A vision model on a server without `file` parts: PDFs go as text.
    /// let config = OpenAiConfig::new()
    ///     .attachments(InputCapabilities { images: true, pdf: PdfSupport::ExtractText });
    /// # let _ = config;
    /// ```
    pub fn attachments(mut self, capabilities: InputCapabilities) -> Self {
        self.attachments = capabilities;
        self
    }

    /// The field used for `max_tokens`, the configured one or the default for the base URL.
    pub(crate) fn effective_max_tokens_field(&self) -> MaxTokensField {
        self.max_tokens_field.unwrap_or_else(|| {
            let host = reqwest::Url::parse(&self.base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned));
            if host.as_deref() == Some("api.openai.com") {
                MaxTokensField::MaxCompletionTokens
            } else {
                MaxTokensField::MaxTokens
            }
        })
    }

    /// The secrets to scrub from messages: the key, the values of credential headers and a
    /// password in the base URL.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> =
            self.api_key.iter().map(|k| k.expose_secret().to_owned()).collect();
        secrets
            .extend(self.headers.iter().filter(|(n, _)| is_secret_name(n)).map(|(_, v)| v.clone()));
        if let Ok(url) = reqwest::Url::parse(&self.base_url)
            && let Some(password) = url.password()
        {
            secrets.push(password.to_owned());
        }
        secrets
    }

    /// The URL of `path` (`/chat/completions`) under the base URL.
    pub(crate) fn endpoint(&self, path: &str) -> Result<reqwest::Url, ConfigError> {
        reqwest::Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|e| self.invalid_url(&e.to_string()))
    }

    /// The error for an unusable base URL. A key pasted into the URL by mistake must not
    /// travel on in the error.
    fn invalid_url(&self, reason: &str) -> ConfigError {
        ConfigError::InvalidBaseUrl {
            url: Redactor::new().with_values(self.secrets()).redact(&self.base_url),
            reason: reason.to_owned(),
        }
    }

    /// Checks what can be checked without a request.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let invalid_url = |reason: &str| self.invalid_url(reason);
        match reqwest::Url::parse(&self.base_url) {
            Err(e) => return Err(invalid_url(&e.to_string())),
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                return Err(invalid_url("the scheme must be http or https"));
            }
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                return Err(invalid_url("a base URL has no query or fragment"));
            }
            Ok(_) => {}
        }
        if let Some(key) = &self.api_key
            && http::HeaderValue::from_str(&format!("Bearer {}", key.expose_secret())).is_err()
        {
            return Err(ConfigError::InvalidApiKey);
        }
        for (name, value) in &self.headers {
            if let Err(e) = http::HeaderName::from_bytes(name.as_bytes()) {
                return Err(ConfigError::InvalidHeader {
                    name: name.clone(),
                    reason: e.to_string(),
                });
            }
            if http::HeaderValue::from_str(value).is_err() {
                return Err(ConfigError::InvalidHeader {
                    name: name.clone(),
                    reason: "the value has characters a header cannot carry".to_owned(),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OpenAiConfig")
            .field("base_url", &Redactor::new().with_values(self.secrets()).redact(&self.base_url))
            .field("api_key", &self.api_key.as_ref().map(|_| REDACTED))
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("retry", &self.retry)
            .field("structured_output", &self.structured_output)
            .field("streaming", &self.streaming)
            .field("max_tokens_field", &self.effective_max_tokens_field())
            .field("attachments", &self.attachments)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .finish()
    }
}

/// A configuration that cannot work. Its messages never contain the API key.
///
/// ```
/// use llm_do_openai::{ConfigError, OpenAiProvider, OpenAiConfig};
/// let err = OpenAiProvider::try_new(OpenAiConfig::new().base_url("ftp://example.com")).unwrap_err();
/// assert!(matches!(err, ConfigError::InvalidBaseUrl { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `OPENAI_API_KEY` is not set, and the base URL is OpenAI's.
    MissingApiKey,
    /// The base URL is not an `http(s)` URL.
    InvalidBaseUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The API key contains characters an HTTP header cannot carry.
    InvalidApiKey,
    /// An extra header has an invalid name or value.
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be created (e.g. no TLS backend).
    Client(String),
    /// An environment variable of the configuration is not UTF-8.
    NotUtf8 {
        /// Its name.
        variable: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingApiKey => f.write_str(
                "OPENAI_API_KEY is not set: set it, or configure a key or another base URL \
                 in code (OpenAiConfig::new().api_key(..) / .base_url(..))",
            ),
            ConfigError::InvalidBaseUrl { url, reason } => {
                write!(f, "invalid base URL `{url}`: {reason}")
            }
            ConfigError::InvalidApiKey => f.write_str(
                "the API key cannot be sent in an HTTP header (it contains control or \
                 non-ASCII characters)",
            ),
            ConfigError::InvalidHeader { name, reason } => {
                write!(f, "invalid header `{name}`: {reason}")
            }
            ConfigError::Client(reason) => write!(f, "could not create the HTTP client: {reason}"),
            ConfigError::NotUtf8 { variable } => {
                write!(f, "{variable} is not UTF-8: set it to a URL or key of plain text")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn from_env_reads_key_and_base_url() {
        let c = OpenAiConfig::from_vars(vars(&[
            ("OPENAI_API_KEY", "sk-test-SECRET123"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
        ]))
        .unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:9/v1");
        assert_eq!(c.api_key.as_ref().map(|k| k.expose_secret()), Some("sk-test-SECRET123"));
    }

    #[test]
    fn from_env_needs_a_key_only_for_openai_itself() {
        assert_eq!(OpenAiConfig::from_vars(vars(&[])).unwrap_err(), ConfigError::MissingApiKey);
        assert_eq!(
            OpenAiConfig::from_vars(vars(&[("OPENAI_API_KEY", "  ")])).unwrap_err(),
            ConfigError::MissingApiKey
        );
        let local =
            OpenAiConfig::from_vars(vars(&[("OPENAI_BASE_URL", "http://localhost:11434/v1")]))
                .unwrap();
        assert!(local.api_key.is_none());
    }

    #[test]
    fn from_env_rejects_bad_urls_and_keys() {
        let bad_url = OpenAiConfig::from_vars(vars(&[("OPENAI_BASE_URL", "not a url")]));
        assert!(matches!(bad_url, Err(ConfigError::InvalidBaseUrl { .. })));
        let bad_key = OpenAiConfig::from_vars(vars(&[("OPENAI_API_KEY", "sk-\nSECRET123")]));
        assert_eq!(bad_key.unwrap_err(), ConfigError::InvalidApiKey);
    }

    #[test]
    fn validate_checks_scheme_and_headers() {
        assert!(OpenAiConfig::new().validate().is_ok());
        let ftp = OpenAiConfig::new().base_url("ftp://x/v1").validate();
        assert!(matches!(ftp, Err(ConfigError::InvalidBaseUrl { .. })));
        let keyed = OpenAiConfig::new().api_key("sk-test-SECRET123").base_url("sk-test-SECRET123");
        let shown = keyed.validate().unwrap_err().to_string();
        assert!(shown.contains("[redacted]") && !shown.contains("SECRET123"), "{shown}");
        let header = OpenAiConfig::new().header("bad name", "x").validate();
        assert!(matches!(header, Err(ConfigError::InvalidHeader { .. })));
        let value = OpenAiConfig::new().header("x-ok", "line\nbreak").validate();
        assert!(matches!(value, Err(ConfigError::InvalidHeader { .. })));
    }

    #[test]
    fn debug_hides_the_key_and_header_values() {
        let c = OpenAiConfig::new()
            .api_key("sk-test-SECRET123")
            .header("api-key", "azure-SECRET456")
            .header("X-Title", "visible-name");
        let shown = format!("{c:?}");
        assert!(shown.contains("[redacted]"));
        assert!(!shown.contains("SECRET123") && !shown.contains("SECRET456"));
        assert!(!shown.contains("visible-name") && shown.contains("x-title"));
        assert_eq!(c.secrets(), ["sk-test-SECRET123", "azure-SECRET456"]);
        let proxied = OpenAiConfig::new().base_url("https://alice:hunter2pass@proxy.example/v1");
        let shown = format!("{proxied:?}");
        assert!(shown.contains("https://alice:[redacted]@proxy.example/v1"), "{shown}");
        assert_eq!(proxied.secrets(), ["hunter2pass"]);
    }

    #[test]
    fn headers_are_replaced_not_repeated() {
        let c = OpenAiConfig::new().header("X-A", "1").header("x-a", "2");
        assert_eq!(c.headers, [("x-a".to_owned(), "2".to_owned())]);
    }

    #[test]
    fn max_tokens_field_depends_on_the_server_unless_set() {
        assert_eq!(
            OpenAiConfig::new().effective_max_tokens_field(),
            MaxTokensField::MaxCompletionTokens
        );
        let local = OpenAiConfig::new().base_url("http://127.0.0.1:8080/v1");
        assert_eq!(local.effective_max_tokens_field(), MaxTokensField::MaxTokens);
        let forced = local.max_tokens_field(MaxTokensField::MaxCompletionTokens);
        assert_eq!(forced.effective_max_tokens_field(), MaxTokensField::MaxCompletionTokens);
    }
}
