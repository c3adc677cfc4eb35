//! Reading a run log back: [`read`], [`parse_log`] and what can go wrong ([`RunLogError`]).

use super::SCHEMA_VERSION;
use super::record::LogRecord;
use std::path::{Path, PathBuf};

/// A run log that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RunLogError {
    /// The file cannot be opened or read, or is not a regular text file.
    #[error("cannot read the run log {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: llm_do_project::file::ReadError,
    },
    /// A line is not a record of this schema.
    #[error("{}:{line}: not a run-log record: {message}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Longest parser message a [`RunLogError::Record`] keeps (in characters).
const MAX_MESSAGE_CHARS: usize = 200;

/// Largest run log read (256 MiB).
pub const MAX_LOG_BYTES: u64 = 256 << 20;

/// Reads a run log (blank lines are skipped; a last line cut off by a kill is left out, see
/// [`parse_log`]). The file must be a regular file of at most [`MAX_LOG_BYTES`].
///
/// ```
/// let e = llm_do_cli::run_log::read("/no/such/log.jsonl").unwrap_err();
/// assert!(e.to_string().starts_with("cannot read the run log"));
/// ```
pub fn read(path: impl AsRef<Path>) -> Result<Vec<LogRecord>, RunLogError> {
    read_log(path).map(|log| log.records)
}

/// Reads a run log and says whether its last line was cut off (see [`parse_log`]).
///
/// ```
/// let e = llm_do_cli::run_log::read_log("/no/such/log.jsonl").unwrap_err();
/// assert!(e.to_string().contains("does not exist"));
/// ```
pub fn read_log(path: impl AsRef<Path>) -> Result<ParsedLog, RunLogError> {
    let path = path.as_ref();
    parse_log(path, &read_text(path)?)
}

/// The text of the file at `path` (a regular file of at most [`MAX_LOG_BYTES`]), for
/// [`parse_log`]. It must be UTF-8, except in a last line without its newline: a run killed
/// while writing it may have cut a character in two, and that line is torn anyway (its bytes
/// that are not UTF-8 are read as U+FFFD, and [`parse_log`] leaves the line out).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("run.jsonl");
/// std::fs::write(&path, b"{}\n{\"text\":\"\xe2\x9c").unwrap();
/// assert!(llm_do_cli::run_log::read_text(&path).unwrap().starts_with("{}\n"));
/// std::fs::write(&path, b"{\"text\":\"\xe2\x9c\n{}\n").unwrap();
/// assert!(llm_do_cli::run_log::read_text(&path).unwrap_err().to_string().contains("not UTF-8"));
/// ```
pub fn read_text(path: &Path) -> Result<String, RunLogError> {
    let io = |source| RunLogError::Io { path: path.to_owned(), source };
    let bytes = llm_do_project::file::read_bytes(path, MAX_LOG_BYTES).map_err(io)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let last_line = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            if offset < last_line {
                return Err(io(llm_do_project::file::ReadError::NotUtf8 { offset }));
            }
            // Every line before the last one is valid: the first invalid byte is after them.
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

/// Parses the text of a run log read from `path` (see [`parse_log`]) and returns its records.
///
/// ```
/// let line = r#"{"v":1,"seq":1,"ts":"t","call":1,"parent":null,"depth":1,"name":"w","callable":"worker","event":"call_started","data":{}}"#;
/// let records = llm_do_cli::run_log::parse("run.jsonl".as_ref(), &format!("{line}\n\n")).unwrap();
/// assert_eq!(records.len(), 1);
/// let e = llm_do_cli::run_log::parse("run.jsonl".as_ref(), "{\n").unwrap_err();
/// assert!(e.to_string().contains("run.jsonl:1"));
/// ```
pub fn parse(path: &Path, text: &str) -> Result<Vec<LogRecord>, RunLogError> {
    parse_log(path, text).map(|log| log.records)
}

/// A run log's records, and the line cut off at its end, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedLog {
    /// The complete records, in file order.
    pub records: Vec<LogRecord>,
    /// The 1-based number of the last line when it was cut off mid-record (the run was killed
    /// while writing it): left out of `records`.
    pub torn_line: Option<usize>,
}

/// Parses the text of a run log read from `path` (named in errors). Blank lines are skipped.
/// Every record is written as one line ending in a newline, so a last line *without* its
/// newline that is not a record was cut off by a kill: it is left out and reported in
/// [`ParsedLog::torn_line`]. Any other line that is not a record is an error.
///
/// ```
/// let line = r#"{"v":1,"seq":1,"ts":"t","call":1,"parent":null,"depth":1,"name":"w","callable":"worker","event":"call_started","data":{}}"#;
/// let torn = format!("{line}\n{}", &line[..40]);
/// let log = llm_do_cli::run_log::parse_log("run.jsonl".as_ref(), &torn).unwrap();
/// assert_eq!((log.records.len(), log.torn_line), (1, Some(2)));
/// // A bad line that is not the last one is an error.
/// let bad = format!("{}\n{line}\n", &line[..40]);
/// assert!(llm_do_cli::run_log::parse_log("run.jsonl".as_ref(), &bad).is_err());
/// ```
pub fn parse_log(path: &Path, text: &str) -> Result<ParsedLog, RunLogError> {
    let mut log = ParsedLog::default();
    let lines = text.split_inclusive('\n').count();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: LogRecord = match serde_json::from_str(line) {
            Ok(record) => record,
            Err(_) if i + 1 == lines && !line.ends_with('\n') => {
                log.torn_line = Some(i + 1);
                break;
            }
            Err(e) => {
                return Err(RunLogError::Record {
                    path: path.to_owned(),
                    line: i + 1,
                    // serde quotes a bad value whole ("invalid type: string \"…\""): a
                    // 20 MB string in the log is not copied into the message.
                    message: llm_do::bounds::cut(&e.to_string(), MAX_MESSAGE_CHARS),
                });
            }
        };
        if record.v > SCHEMA_VERSION {
            return Err(RunLogError::Record {
                path: path.to_owned(),
                line: i + 1,
                message: format!(
                    "schema version {} is newer than this build reads ({SCHEMA_VERSION})",
                    record.v
                ),
            });
        }
        log.records.push(record);
    }
    Ok(log)
}
