//! The live tree of [`Display`](super::Display) in [`Mode::Live`]: its spinners, the lines of
//! its calls kept for [`Display::settle`](super::Display::settle), and the pause of
//! [`Display::pause`](super::Display::pause).

use super::{Display, Mode};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use llm_do::CallId;
use std::collections::HashMap;

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
        }
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
        for (_, bar) in self.bars.drain() {
            bar.disable_steady_tick();
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
