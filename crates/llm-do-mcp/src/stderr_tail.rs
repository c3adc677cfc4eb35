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
    ended: tokio::sync::watch::Sender<bool>,
}

impl Default for StderrTail {
    fn default() -> Self {
        Self { buf: Arc::default(), ended: tokio::sync::watch::Sender::new(false) }
    }
}

impl StderrTail {
    /// Reads `stream` to its end in a task, keeping the last [`KEEP`] bytes.
    pub(crate) fn follow(&self, mut stream: impl AsyncRead + Unpin + Send + 'static) {
        let buf = self.buf.clone();
        let ended = self.ended.clone();
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
    /// last words are in the error message.
    pub(crate) async fn settle(&self, max: Duration) {
        let mut rx = self.ended.subscribe();
        let _ = tokio::time::timeout(max, rx.wait_for(|ended| *ended)).await;
    }

    /// The text kept so far, with control characters escaped (safe to print on a terminal).
    pub(crate) fn text(&self) -> String {
        let b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::with_capacity(b.len());
        for c in String::from_utf8_lossy(&b).chars() {
            if c == '\n' || c == '\t' || !c.is_control() {
                out.push(c);
            } else {
                out.extend(c.escape_default());
            }
        }
        out
    }
}
