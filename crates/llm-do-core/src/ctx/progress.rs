//! [`Ctx::report_progress`]: how far a long call has come, as an event of that call; and the
//! [`Allowance`] that keeps a flood of reports (an MCP server's, say) from filling the run's
//! events.

use super::Ctx;
use crate::bounds::cut;
use crate::event::EventKind;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The most characters of a progress message kept (a server's text, shown at a terminal).
pub(crate) const MAX_PROGRESS_MESSAGE_CHARS: usize = 1000;

/// How many reports of one call may come at once before the rate counts.
pub(crate) const PROGRESS_BURST: u32 = 20;

/// How many reports of one call a second are kept past the burst.
pub(crate) const PROGRESS_PER_SECOND: u32 = 10;

/// A report's cost, in the thousandths of a report the allowance counts in.
const REPORT: u32 = 1000;

/// The reports a call may still make: a token bucket of [`PROGRESS_BURST`] reports, refilled
/// at [`PROGRESS_PER_SECOND`]. The report that reaches the total passes once without a token,
/// so that the last word of a finished call is never lost.
///
/// Kept packed in one word, an `AtomicU64` of the call's frame (so that a call that never
/// reports pays one word, and one that does takes no lock): bits 0–14 the reports left, in
/// thousandths; bit 15 whether the report that reaches the total has passed; bits 16–63 the
/// time of the last report, in ms since [`epoch`], plus one (0: no report yet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Allowance {
    left: u32,
    finished: bool,
    at: Option<u64>,
}

impl Allowance {
    /// A call's allowance before its first report, packed.
    pub(super) const FULL: u64 = 0;

    fn unpack(word: u64) -> Self {
        let at = (word >> 16).checked_sub(1);
        let left = if at.is_none() { PROGRESS_BURST * REPORT } else { (word & 0x7fff) as u32 };
        Self { left, finished: word & 0x8000 != 0, at }
    }

    fn pack(self) -> u64 {
        (self.at.map_or(0, |ms| ms + 1) << 16)
            | (u64::from(self.finished) << 15)
            | u64::from(self.left)
    }

    /// The allowance after a report made at `now` (ms since [`epoch`]; `last`: it reaches the
    /// call's total), and whether the report is kept.
    fn take(mut self, now: u64, last: bool) -> (Self, bool) {
        if let Some(at) = self.at {
            let refill = now.saturating_sub(at).saturating_mul(u64::from(PROGRESS_PER_SECOND));
            let left = u64::from(self.left).saturating_add(refill);
            self.left = left.min(u64::from(PROGRESS_BURST * REPORT)) as u32;
        }
        self.at = Some(now);
        if last && !self.finished {
            self.finished = true;
            return (self, true);
        }
        if self.left >= REPORT {
            self.left -= REPORT;
            return (self, true);
        }
        (self, false)
    }
}

/// Whether a report made now is kept, by the allowance packed in `slot`.
fn allowed(slot: &AtomicU64, last: bool) -> bool {
    let now = epoch().elapsed().as_millis() as u64;
    let mut word = slot.load(Ordering::Relaxed);
    loop {
        let (next, kept) = Allowance::unpack(word).take(now, last);
        match slot.compare_exchange_weak(word, next.pack(), Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return kept,
            Err(current) => word = current,
        }
    }
}

/// The instant the allowances count time from (the first report of the process).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Ctx {
    /// Reports how far this call has come: `progress` (growing with each report), out of
    /// `total` when known, and what it is doing. Subscribers see an [`EventKind::Progress`] of
    /// this call (`llm-do run` shows the latest beside the call); an MCP server's progress
    /// notifications for a call arrive here too. Tools and workers report alike, so a step
    /// keeps its reports when it moves between the two.
    ///
    /// A `progress` or `total` that is not a finite number is no report; the message is cut at
    /// 1000 characters. A call's reports are kept at the rate a person can read them: 20 at
    /// once, then 10 a second; the rest are dropped, except the first that reaches `total`.
    ///
    /// ```
    /// use llm_do_core::{EventKind, EventLog, Runtime, ToolSpecBuilder};
    /// use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let index = ToolSpecBuilder::new("index")
    ///     .handler(|ctx, _| async move {
    ///         for done in 1..=3 {
    ///             ctx.report_progress(done as f64, Some(3.0), Some(&format!("file {done}")));
    ///         }
    ///         Ok(json!("indexed"))
    ///     })
    ///     .build();
    /// let log = EventLog::new();
    /// let rt = Runtime::builder().register(index).subscribe(log.clone()).build();
    /// rt.ctx().call::<String>("index", json!({})).await?;
    /// assert!(log.transcript().contains("index progress 3/3 \"file 3\""));
    /// # Ok(())
    /// # }
    /// ```
    pub fn report_progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        if !progress.is_finite() || total.is_some_and(|t| !t.is_finite()) {
            return;
        }
        let Some(frame) = &self.frame else { return };
        let last = total.is_some_and(|t| progress >= t);
        if !self.listening() || !allowed(&frame.progress, last) {
            return;
        }
        let message = message.map(|m| cut(m, MAX_PROGRESS_MESSAGE_CHARS));
        self.emit(|| EventKind::Progress { progress, total, message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports made at `at` ms until one is dropped or `n` are made; how many were kept.
    fn burst(allowance: &mut Allowance, at: u64, n: usize) -> usize {
        let mut kept = 0;
        for _ in 0..n {
            let (next, ok) = allowance.take(at, false);
            *allowance = Allowance::unpack(next.pack());
            kept += usize::from(ok);
        }
        kept
    }

    #[test]
    fn a_burst_passes_then_the_rate_counts() {
        let mut allowance = Allowance::unpack(Allowance::FULL);
        assert_eq!(burst(&mut allowance, 5, 100), PROGRESS_BURST as usize);
        // A tenth of a second later, one more; a second later, ten.
        assert_eq!(burst(&mut allowance, 105, 100), 1);
        assert_eq!(burst(&mut allowance, 1105, 100), 10);
        // After a long quiet stretch, a full burst again, not more.
        assert_eq!(burst(&mut allowance, 1105 + 3_600_000, 100), 20);
    }

    #[test]
    fn the_last_report_passes_once_when_the_rest_are_dropped() {
        let mut allowance = Allowance::unpack(Allowance::FULL);
        burst(&mut allowance, 0, 100);
        let (allowance, kept) = allowance.take(0, true);
        assert!(kept, "the report that reaches the total");
        assert!(!allowance.take(0, true).1, "a second one counts like any other");
    }

    #[test]
    fn it_packs_into_one_word_and_back() {
        for a in [
            Allowance { left: 0, finished: false, at: Some(0) },
            Allowance { left: PROGRESS_BURST * REPORT, finished: true, at: Some(u64::MAX >> 17) },
            Allowance { left: 12_345, finished: false, at: Some(987_654) },
        ] {
            assert_eq!(Allowance::unpack(a.pack()), a);
        }
        assert_eq!(
            Allowance::unpack(Allowance::FULL),
            Allowance { left: PROGRESS_BURST * REPORT, finished: false, at: None }
        );
    }
}
