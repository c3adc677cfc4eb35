//! The commands of `llm-do chat`: `/save FILE`, `/load FILE`, `/reset`, `/usage`, `/help`,
//! `/exit`.

use super::Session;
use crate::plural::counted;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The commands, as `/help` prints them.
pub(crate) const HELP: &str = "\
/save FILE   save the conversation (JSON) to FILE
/load FILE   replace the conversation with the one saved in FILE
/reset       forget the conversation
/usage       turns, history size, and what this session has used
/help        this text
/exit        leave (Ctrl-D too); Ctrl-C cancels the answer in progress
A line ending with \\ continues on the next line.";

/// What a command did, for the person or (`--json`) the script.
pub(crate) enum Outcome {
    /// Done; this is what to show.
    Said(String),
    /// Failed (nothing changed); this is why.
    Failed(String),
    /// `/exit`.
    Exit,
    /// The line is an input for the worker.
    NotACommand,
}

impl Session {
    /// Does the command `line` is, if it is one. `/save` and `/load` read and write their
    /// file on a blocking thread, off the async task (a signal is still seen meanwhile).
    pub(crate) async fn command(&mut self, line: &str) -> Outcome {
        let line = line.trim();
        if !line.starts_with('/') {
            return Outcome::NotACommand;
        }
        let (name, arg) = match line.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, arg.trim()),
            None => (line, ""),
        };
        match (name, arg) {
            ("/exit" | "/quit", _) => Outcome::Exit,
            ("/help", _) => Outcome::Said(HELP.to_owned()),
            ("/reset", _) => {
                self.conversation.reset();
                Outcome::Said("the conversation is empty".to_owned())
            }
            ("/usage", _) => Outcome::Said(self.usage_text()),
            ("/save" | "/load", "") => Outcome::Failed(format!("{name} needs a file: {name} FILE")),
            ("/save", file) => match self.save(file).await {
                Ok(()) => Outcome::Said(format!(
                    "saved {} ({}) to {file}",
                    counted(self.conversation.turns(), "turn"),
                    counted(self.conversation.len(), "message")
                )),
                Err(e) => Outcome::Failed(format!("cannot save to {file}: {e}")),
            },
            ("/load", file) => match self.load(file).await {
                Ok(()) => Outcome::Said(format!(
                    "loaded {} ({}) from {file}",
                    counted(self.conversation.turns(), "turn"),
                    counted(self.conversation.len(), "message")
                )),
                Err(e) => Outcome::Failed(format!(
                    "cannot load {file}: {e}; the conversation is unchanged"
                )),
            },
            _ => Outcome::Failed(format!("unknown command {name}; /help lists them")),
        }
    }

    /// Writes the conversation to `file` with its secrets redacted, as everything the CLI
    /// writes: a later `/load` sends `[redacted]` to the model where a secret was. Only a
    /// regular file (new, or one to replace) is written: a FIFO or a device would block or
    /// never end, as `/load` refuses them.
    async fn save(&self, file: &str) -> Result<(), String> {
        let saved = serde_json::from_str(&self.conversation.to_json())
            .map(|v| crate::terminal::redactor().redact_json(v))
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_default();
        let path = PathBuf::from(file);
        blocking(move || write_regular(&path, &(saved + "\n")).map_err(|e| e.to_string())).await
    }

    /// Replaces the conversation with the one saved in `file` (a regular file, at most
    /// the size `Conversation::load` takes); on error nothing changes.
    async fn load(&mut self, file: &str) -> Result<(), String> {
        let mut conversation = self.conversation.clone();
        let path = PathBuf::from(file);
        let loaded = blocking(move || {
            conversation.load(&path).map(|()| conversation).map_err(|e| e.to_string())
        })
        .await?;
        self.conversation = loaded;
        Ok(())
    }

    /// The history, and what the session's budget has counted: every request of the session
    /// (failed turns and summaries included), whatever `/reset` and `/load` did to the history.
    fn usage_text(&self) -> String {
        let u = self.ctx.run_usage();
        format!(
            "{}; history: {}, about {}; used this session: {} in + {} out = {} tokens in {}",
            counted(self.conversation.turns(), "turn"),
            counted(self.conversation.len(), "message"),
            counted(self.conversation.tokens(), "token"),
            u.input_tokens,
            u.output_tokens,
            u.total_tokens(),
            counted(u.requests, "model request")
        )
    }
}

/// Runs `work` (blocking file I/O) on a blocking thread; a thread that ends without a result
/// (it cannot, short of a panic) is an error.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(format!("the file could not be handled: {e}")))
}

/// Writes `text` to `path`, which must be a regular file or nothing (a new file is made).
/// Anything else at the path (a FIFO, a device, a directory, a link that leads nowhere) is
/// refused as `/load` refuses it; on Unix the file is opened with `O_NONBLOCK` and checked
/// again once open, so a path swapped for a FIFO meanwhile cannot hang either.
fn write_regular(path: &Path, text: &str) -> std::io::Result<()> {
    if llm_do_project::file::is_present(path) {
        llm_do_project::file::open_regular(path).map_err(std::io::Error::from)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let mut file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("the path is not a regular file"));
    }
    file.set_len(0)?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chat.json");
        write_regular(&file, "first, longer\n").unwrap();
        write_regular(&file, "second\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "second\n");
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = write_regular(&fifo, "x").unwrap_err();
        assert_eq!(e.to_string(), "the path is a FIFO, not a regular file");
        let e = write_regular(Path::new("/dev/null"), "x").unwrap_err();
        assert_eq!(e.to_string(), "the path is a device, not a regular file");
        let e = write_regular(dir.path(), "x").unwrap_err();
        assert_eq!(e.to_string(), "the path is a directory, not a regular file");
    }
}
