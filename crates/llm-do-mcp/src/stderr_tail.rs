//! The last few KiB of a server's stderr, kept for error messages.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt as _};

/// Bytes of stderr kept.
pub(crate) const KEEP: usize = 4096;

/// A shared buffer holding the end of a stream.
#[derive(Clone)]
pub(crate) struct StderrTail {
    buf: Arc<Mutex<Vec<u8>>>,
    /// Whether the stream followed has ended: true while none is followed (an HTTP server's
    /// tail), so that [`StderrTail::settle`] waits for nothing.
    ended: tokio::sync::watch::Sender<bool>,
}

impl Default for StderrTail {
    fn default() -> Self {
        Self { buf: Arc::default(), ended: tokio::sync::watch::Sender::new(true) }
    }
}

impl StderrTail {
    /// Reads `stream` to its end in a task, keeping the last [`KEEP`] bytes.
    pub(crate) fn follow(&self, mut stream: impl AsyncRead + Unpin + Send + 'static) {
        let buf = self.buf.clone();
        let ended = self.ended.clone();
        ended.send_replace(false);
        tokio::spawn(async move {
            let mut chunk = [0u8; 1024];
            while let Ok(n) = stream.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                let mut b = buf.lock().unwrap_or_else(|p| p.into_inner());
                b.extend_from_slice(&chunk[..n]);
                if b.len() > KEEP {
                    let cut = b.len() - KEEP;
                    b.drain(..cut);
                }
            }
            ended.send_replace(true);
        });
    }

    /// Waits (at most `max`) until the stream has ended: after a process died, so that its
    /// last words are in the error message. Returns at once when no stream is followed.
    pub(crate) async fn settle(&self, max: Duration) {
        let mut rx = self.ended.subscribe();
        let _ = tokio::time::timeout(max, rx.wait_for(|ended| *ended)).await;
    }

    /// The text kept so far, with every character a terminal acts on but `\n` and `\t`
    /// escaped ([`llm_do_core::controls::escape_controls`]): safe to print on a terminal.
    pub(crate) fn text(&self) -> String {
        let b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        llm_do_core::controls::escape_controls(&String::from_utf8_lossy(&b)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    /// Far longer than any test waits: a `settle` that returns did not wait for `max`.
    const FOREVER: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn a_tail_that_follows_nothing_settles_at_once() {
        let tail = StderrTail::default();
        let settled = tokio::time::timeout(Duration::from_secs(60), tail.settle(FOREVER)).await;
        assert!(settled.is_ok(), "an HTTP server's tail waited for a stream it does not have");
        assert_eq!(tail.text(), "");
    }

    #[tokio::test]
    async fn a_followed_stream_settles_when_it_ends_keeping_its_last_bytes_escaped() {
        let tail = StderrTail::default();
        let (mut child, stderr) = tokio::io::duplex(64);
        tail.follow(stderr);
        let early = tokio::time::timeout(Duration::from_millis(50), tail.settle(FOREVER)).await;
        assert!(early.is_err(), "settled before the stream ended");
        let noise = "x".repeat(KEEP);
        child.write_all(noise.as_bytes()).await.unwrap();
        child.write_all("panicked: \x1b[2J \u{202e} gone\n".as_bytes()).await.unwrap();
        drop(child);
        let settled = tokio::time::timeout(Duration::from_secs(60), tail.settle(FOREVER)).await;
        assert!(settled.is_ok(), "the stream ended but settle waited on");
        let text = tail.text();
        assert!(text.ends_with("panicked: \\x1b[2J \\u{202e} gone\n"), "{text:?}");
        assert_eq!(
            text.len(),
            KEEP - 1 - 3 + "\\x1b".len() + "\\u{202e}".len(),
            "the last {KEEP} bytes, escaped"
        );
    }
}
