//! The live tree of [`Display`](super::Display) in [`Mode::Live`]: its spinners, the lines of
//! its calls kept for [`Display::settle`](super::Display::settle), its fit to the terminal's
//! height, and the pause of [`Display::pause`](super::Display::pause).

use super::{Display, Mode};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use llm_do::CallId;
use std::collections::{HashMap, VecDeque};

/// The most columns the note at the top of a tree too tall for the screen takes
/// (`⋮ N finished calls not shown (listed in full at the end)`).
const NOTE_WIDTH: usize = 64;

/// The live tree (drawn in [`Mode::Live`] only).
pub(super) struct Tree {
    pub(super) multi: MultiProgress,
    /// The calls running, with their spinners.
    pub(super) bars: HashMap<CallId, ProgressBar>,
    /// Every call of the tree since it was last settled, in the order drawn: what
    /// [`Display::settle`] writes.
    pub(super) lines: Vec<Line>,
    /// How many [`Paused`] guards are alive: the tree is not drawn while there is one.
    pub(super) paused: usize,
    /// The finished calls' lines still drawn, oldest first: the first to leave the screen when
    /// the tree outgrows it (see [`Tree::fit`]).
    pub(super) finished: VecDeque<ProgressBar>,
    /// How many finished lines have left the screen, and the line at the top that says so.
    hidden: usize,
    note: Option<ProgressBar>,
}

/// A call's line of the tree.
pub(super) struct Line {
    pub(super) id: CallId,
    pub(super) indent: String,
    pub(super) head: String,
    /// Its last text, once the call has ended.
    pub(super) done: Option<String>,
}

impl Tree {
    /// An empty tree, drawn on stderr when `drawn`.
    pub(super) fn new(drawn: bool, paused: usize) -> Self {
        let target = if drawn && paused == 0 {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: HashMap::new(),
            lines: Vec::new(),
            paused,
            finished: VecDeque::new(),
            hidden: 0,
            note: None,
        }
    }

    /// Keeps the tree within the terminal's height. indicatif draws only the lines that fit,
    /// from the top: without this, once the finished calls filled the screen, the calls running
    /// now would be drawn below its bottom edge, and the tree's last frame would lose every line
    /// past it. So while the tree is taller than the screen, its oldest finished lines leave it
    /// (they stay in [`lines`](Self::lines), which [`flush`](Self::flush) writes in full), and a
    /// line at the top counts them. Running calls are never hidden.
    pub(super) fn fit(&mut self) {
        let Some((rows, columns)) = console::Term::stderr().size_checked() else { return };
        // One row is left free for the cursor's line below the tree.
        let room = usize::from(rows).saturating_sub(1).max(2);
        // The rows a bar takes: a line longer than the terminal is wide wraps (a failure's
        // message, a model's text with -vv). A running bar's spinner and elapsed time are
        // counted as 8 columns.
        let columns = usize::from(columns).max(1);
        let height = |bar: &ProgressBar, extra: usize| {
            let width = console::measure_text_width(&bar.prefix())
                + console::measure_text_width(&bar.message())
                + extra;
            width.div_ceil(columns).max(1)
        };
        let running: usize = self.bars.values().map(|bar| height(bar, 8)).sum();
        let mut finished: usize = self.finished.iter().map(|bar| height(bar, 0)).sum();
        // The note's rows (its message is at most this wide).
        let note = NOTE_WIDTH.div_ceil(columns);
        if running + finished + if self.hidden > 0 { note } else { 0 } <= room {
            return;
        }
        // The note takes its rows from now on.
        while running + finished + note > room {
            let Some(bar) = self.finished.pop_front() else { break };
            finished = finished.saturating_sub(height(&bar, 0));
            self.multi.remove(&bar);
            self.hidden += 1;
        }
        if self.hidden == 0 {
            return;
        }
        let multi = &self.multi;
        let note = self.note.get_or_insert_with(|| {
            let note = multi.insert(0, ProgressBar::new_spinner());
            note.set_style(super::style("{msg:.dim}"));
            note
        });
        note.set_message(format!(
            "⋮ {} not shown (listed in full at the end)",
            crate::plural::counted(self.hidden, "finished call")
        ));
    }

    pub(super) fn end(&mut self, id: CallId, text: String) {
        if let Some(line) = self.lines.iter_mut().rev().find(|l| l.id == id) {
            line.done = Some(text);
        }
    }

    /// Erases what is drawn, writes the lines as plain lines and starts an empty tree (the old
    /// one, dropped, never draws again).
    pub(super) fn flush(&mut self) {
        if self.lines.is_empty() {
            return;
        }
        // Every bar leaves the tree before it is cleared: one dropped while still in it would
        // draw the tree again, under what is written next.
        for (_, bar) in self.bars.drain() {
            bar.disable_steady_tick();
            self.multi.remove(&bar);
        }
        for bar in self.finished.drain(..).chain(self.note.take()) {
            self.multi.remove(&bar);
        }
        let _ = self.multi.clear();
        let text: String = self
            .lines
            .drain(..)
            .map(|l| match l.done {
                Some(done) => format!("{done}\n"),
                None => format!("{}\n", super::cancelled_line(&l.indent, &l.head)),
            })
            .collect();
        *self = Tree::new(true, self.paused);
        crate::output::err!("{text}");
    }
}

/// Hides the live tree until dropped: see [`Display::pause`].
#[must_use = "the tree is hidden only while the guard lives"]
pub struct Paused {
    pub(super) display: Display,
}

impl std::fmt::Debug for Paused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paused").finish_non_exhaustive()
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        if self.display.inner.mode == Mode::Live {
            let mut tree = self.display.tree();
            tree.paused = tree.paused.saturating_sub(1);
            if tree.paused == 0 {
                tree.multi.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }
}
