//! Ctrl-C during a turn of `llm-do chat` on a terminal.

use futures::FutureExt as _;

/// The Ctrl-C signal, listened to from the start (so that it never kills the session) and
/// drained before each turn.
pub(crate) struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    pub(crate) fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self { signal: signal(SignalKind::interrupt()).ok() }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Forgets a Ctrl-C pressed while no turn ran.
    pub(crate) fn drain(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            while signal.recv().now_or_never().flatten().is_some() {}
        }
    }

    pub(crate) async fn pressed(&mut self) {
        #[cfg(unix)]
        match &mut self.signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => futures::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
