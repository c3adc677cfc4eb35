//! The signals that stop the CLI in order: SIGINT, SIGTERM and SIGHUP, caught instead of
//! ending the process on the spot.
//!
//! - `llm-do run` drops the run's future (which kills the commands shell tools are running,
//!   with everything they started), reports, finishes its run log and exits with 128 + the
//!   signal's number.
//! - The servers (`serve`, `mcp`, `restate serve`) stop accepting, let the requests in flight
//!   end, finish their run log and exit with 0 — what a service manager (systemd, Docker,
//!   Kubernetes) expects of a SIGTERM.
//! - `chat` ends its session as at end of input (the turn in flight is cancelled, the run log
//!   is finished); on a terminal, Ctrl-C keeps cancelling an answer instead.
//!
//! A signal the process was started with ignored stays ignored: `nohup llm-do run …` goes on
//! after the terminal is closed, and a background job of a script (which the shell starts with
//! SIGINT ignored) is not stopped by the Ctrl-C meant for the foreground.

use crate::exit::Exit;

/// A signal that stops a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP (the terminal was closed).
    Hangup,
}

impl Stop {
    const ALL: [Stop; 3] = [Stop::Interrupt, Stop::Terminate, Stop::Hangup];

    /// The signal's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }

    /// The exit code of a run it stopped.
    pub(crate) fn exit(self) -> Exit {
        match self {
            Stop::Interrupt => Exit::Interrupted,
            Stop::Terminate => Exit::Terminated,
            Stop::Hangup => Exit::HungUp,
        }
    }

    #[cfg(unix)]
    fn number(self) -> i32 {
        match self {
            Stop::Interrupt => 2,
            Stop::Terminate => 15,
            Stop::Hangup => 1,
        }
    }
}

/// The handlers, installed for the lifetime of the value.
pub(crate) struct Signals {
    #[cfg(unix)]
    streams: Vec<(Stop, tokio::signal::unix::Signal)>,
    /// Elsewhere, only Ctrl-C can be listened to.
    #[cfg(not(unix))]
    ctrl_c: bool,
}

impl Signals {
    /// Installs the handlers (from now on, the signals no longer end the process by
    /// themselves), except for the signals the process was started ignoring.
    pub(crate) fn install() -> Self {
        Self::of(&Stop::ALL)
    }

    /// [`Signals::install`] for some of the signals only.
    pub(crate) fn of(stops: &[Stop]) -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let ignored = ignored_at_start();
            let streams = stops
                .iter()
                .copied()
                .filter(|stop| ignored & (1 << (stop.number() - 1)) == 0)
                .filter_map(|stop| Some((stop, signal(SignalKind::from_raw(stop.number())).ok()?)))
                .collect();
            Self { streams }
        }
        #[cfg(not(unix))]
        Self { ctrl_c: stops.contains(&Stop::Interrupt) }
    }

    /// Resolves when one of the signals arrives (never, when no handler could be installed).
    pub(crate) async fn received(&mut self) -> Stop {
        #[cfg(unix)]
        {
            std::future::poll_fn(|cx| {
                for (stop, stream) in &mut self.streams {
                    if let std::task::Poll::Ready(Some(())) = stream.poll_recv(cx) {
                        return std::task::Poll::Ready(*stop);
                    }
                }
                std::task::Poll::Pending
            })
            .await
        }
        #[cfg(not(unix))]
        {
            if !self.ctrl_c || tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            Stop::Interrupt
        }
    }
}

/// A server's shutdown: resolves at the first of the signals, after saying on stderr that the
/// server stops once the requests in flight have ended; a second signal ends the process at
/// once (128 + its number). The handlers are installed at once.
pub(crate) fn shutdown() -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut signals = Signals::install();
    async move {
        let stop = signals.received().await;
        crate::output::errln!(
            "llm-do: {}: no new requests; stopping once those in flight have ended \
             (again to stop at once)",
            stop.name()
        );
        tokio::spawn(async move {
            let stop = signals.received().await;
            crate::output::errln!("llm-do: {}: stopping now", stop.name());
            std::process::exit(stop.exit().code().into());
        });
    }
}

/// The signals this process inherited as ignored (bit `n - 1` for signal `n`), from the
/// `SigIgn` line of `/proc/self/status`; none where there is no such file. Read before any
/// handler of ours is installed, so it is what the parent set (`nohup`, a shell's `&`).
#[cfg(unix)]
fn ignored_at_start() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find_map(|l| l.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(line.trim(), 16).ok()
        })
        .unwrap_or(0)
}
