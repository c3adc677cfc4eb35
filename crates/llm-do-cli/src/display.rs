//! The live display of `llm-do run`, on stderr, driven by the runtime's typed events.
//!
//! - On a terminal: the nested call tree, one line per call with a spinner and its elapsed
//!   time while it runs, then its outcome, time and tokens (indicatif).
//! - Otherwise: plain lines, one when a call starts and one when it ends.
//!
//! `llm-do chat` keeps one tree per turn: [`Display::settle`] writes a tree whose calls have all
//! ended as plain lines for good (so that the chat worker's text can follow it on the
//! terminal), [`Display::close`] ends the tree of a turn (a call still running shows as
//! cancelled), and [`Display::pause`] hides the tree while the line editor asks an approval.
//!
//! `-v` adds the tool calls models ask for (with arguments) and approval decisions; `-vv` adds
//! the models' text (streamed into the spinner line on a terminal). Nothing is ever written to stdout.
//! Everything it writes passes [`terminal::safe`](crate::terminal::safe): secrets redacted,
//! control characters from models, tools and servers escaped.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use llm_do::{Event, EventKind, EventSubscriber, StreamDelta, Usage};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::terminal::safe;

mod tree;

pub use tree::Paused;
use tree::{Line, Tree};

/// How the display draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Spinners and a redrawn tree (stderr is a terminal).
    Live,
    /// One line per change (stderr is a file or pipe).
    Plain,
}

/// The live display; an [`EventSubscriber`]. Cheap to clone.
#[derive(Clone)]
pub struct Display {
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mode,
    verbosity: u8,
    tree: Mutex<Tree>,
}

impl std::fmt::Debug for Display {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Display")
            .field("mode", &self.inner.mode)
            .field("verbosity", &self.inner.verbosity)
            .finish()
    }
}

impl Display {
    /// A display in `mode` with `verbosity` (0, 1 = tool calls, 2 = streamed text).
    pub fn new(mode: Mode, verbosity: u8) -> Self {
        let tree = Mutex::new(Tree::new(mode == Mode::Live, 0));
        Self { inner: Arc::new(Inner { mode, verbosity, tree }) }
    }

    fn tree(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.inner.tree.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn multi(&self) -> MultiProgress {
        self.tree().multi.clone()
    }

    /// Once every call of the live tree has ended: writes its lines for good, as plain lines
    /// on stderr, and starts an empty tree, so that what is written next (the chat worker's
    /// text on stdout) follows the tree and no redraw overwrites it. Returns whether the tree
    /// is empty now (`false`: a call still runs, nothing changed). Always `true` in
    /// [`Mode::Plain`].
    ///
    /// ```
    /// # use llm_do_cli::display::{Display, Mode};
    /// assert!(Display::new(Mode::Plain, 0).settle());
    /// ```
    pub fn settle(&self) -> bool {
        if self.inner.mode == Mode::Plain {
            return true;
        }
        let mut tree = self.tree();
        if !tree.bars.is_empty() {
            return false;
        }
        tree.flush();
        true
    }

    /// Ends the live tree (at the end of a chat turn, or when it was cancelled): a call still
    /// running is shown cancelled, then the tree is [settled](Self::settle). Nothing in
    /// [`Mode::Plain`].
    pub fn close(&self) {
        if self.inner.mode == Mode::Live {
            self.tree().flush();
        }
    }

    /// Clears the live tree from the terminal and draws nothing until the guard is dropped:
    /// for a question another thread reads (the chat's line editor), where
    /// [`suspend`](Self::suspend) would hold the display for the whole wait.
    ///
    /// ```
    /// # use llm_do_cli::display::{Display, Mode};
    /// let display = Display::new(Mode::Plain, 0);
    /// let paused = display.pause();
    /// display.line("written at once, under the question");
    /// drop(paused);
    /// ```
    pub fn pause(&self) -> Paused {
        if self.inner.mode == Mode::Live {
            let mut tree = self.tree();
            if tree.paused == 0 {
                let _ = tree.multi.clear();
                tree.multi.set_draw_target(ProgressDrawTarget::hidden());
            }
            tree.paused += 1;
        }
        Paused { display: self.clone() }
    }

    /// Runs `f` with the live tree cleared from the terminal (for prompts), then redraws it.
    ///
    /// ```
    /// # use llm_do_cli::display::{Display, Mode};
    /// let answer = Display::new(Mode::Plain, 0).suspend(|| 42);
    /// assert_eq!(answer, 42);
    /// ```
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi().suspend(f)
    }

    /// Prints a line on stderr without disturbing the live tree (while it is
    /// [paused](Self::pause), straight away).
    pub fn line(&self, text: &str) {
        let text = safe(text);
        let multi = match self.inner.mode {
            Mode::Live => {
                let tree = self.tree();
                (tree.paused == 0).then(|| tree.multi.clone())
            }
            Mode::Plain => None,
        };
        match multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => crate::output::errln!("{text}"),
        }
    }

    /// Ends the display: the live tree is written for good as plain lines, every call's line
    /// (those that left a screen too short for the tree included; a call still running shows as
    /// cancelled), then the run's usage, e.g. `tokens: 10 in + 2 out = 12 (1 model request)`.
    pub fn finish(&self, usage: &Usage) {
        self.close();
        self.line(&format!(
            "tokens: {} in + {} out = {} ({})",
            usage.input_tokens,
            usage.output_tokens,
            usage.total_tokens(),
            crate::plural::counted(usage.requests, "model request")
        ));
    }

    fn indent(depth: u32) -> String {
        "  ".repeat(depth.saturating_sub(1) as usize)
    }
}

/// `850ms`, `1.2s`, `2m05s`.
///
/// ```
/// use llm_do_cli::display::format_elapsed_ms;
/// assert_eq!(format_elapsed_ms(850), "850ms");
/// assert_eq!(format_elapsed_ms(1250), "1.2s");
/// assert_eq!(format_elapsed_ms(125_000), "2m05s");
/// ```
pub fn format_elapsed_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}.{}s", ms / 1000, ms % 1000 / 100)
    } else {
        format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000)
    }
}

/// The bar style of `template` (the display's templates are fixed and valid; a spinner if one
/// were not).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// The line of a call that was cancelled (or still ran when its tree was closed).
fn cancelled_line(indent: &str, head: &str) -> String {
    format!("{indent}∅ {head} cancelled")
}

fn kind_label(event: &Event) -> &'static str {
    if event.call.kind.is_stochastic() { "worker" } else { "tool" }
}

fn tokens(usage: &Usage) -> String {
    if usage.total_tokens() == 0 {
        String::new()
    } else {
        format!(", {}+{} tokens", usage.input_tokens, usage.output_tokens)
    }
}

/// `text` on one line of at most `max` characters (its end kept), secrets redacted first (so
/// that a cut never leaves half a secret the redactor would not recognise).
fn one_line(text: &str, max: usize) -> String {
    let flat = flat_redacted(text);
    if flat.chars().count() > max {
        let tail: String =
            flat.chars().rev().take(max - 1).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    } else {
        flat
    }
}

/// [`one_line`] keeping the start instead: for a denial, whose start says who denied the call
/// (`denied by the approver: …`, `denied by rule …`) and whose remedy follows in full on stderr.
fn one_line_head(text: &str, max: usize) -> String {
    let flat = flat_redacted(text);
    if flat.chars().count() > max {
        let head: String = flat.chars().take(max - 1).collect();
        format!("{head}…")
    } else {
        flat
    }
}

/// `text` redacted, its whitespace runs (newlines included) made single spaces.
fn flat_redacted(text: &str) -> String {
    let text = crate::terminal::redactor().redact(text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name a model chose (the tool it asks for) on one line: redacted, its newlines and other
/// control characters escaped (a newline shown as it is would start a forged line of the
/// display), cut to 100 characters.
fn name(text: &str) -> String {
    let text = crate::terminal::redactor().redact(text);
    llm_do::bounds::cut(&llm_do::controls::escape_controls_one_line(&text), 100)
}

/// The line of a denied call under its caller: `⊘ TOOL denied by …`.
fn denial_line(indent: &str, tool: &str, decision: &str) -> String {
    format!("{indent}  ⊘ {tool} {}", one_line_head(decision, 160))
}

impl EventSubscriber for Display {
    fn on_event(&self, event: &Event) {
        let indent = Self::indent(event.call.depth);
        let head = safe(&format!("{} {} [{}]", event.call.id, event.call.name, kind_label(event)));
        let verbosity = self.inner.verbosity;
        match (&event.kind, self.inner.mode) {
            (EventKind::CallStarted { .. }, Mode::Live) => {
                let mut tree = self.tree();
                let bar = tree.multi.add(ProgressBar::new_spinner());
                bar.set_style(style("{prefix}{spinner:.cyan} {msg} {elapsed:.dim}"));
                bar.set_prefix(indent.clone());
                bar.set_message(head.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                tree.bars.insert(event.call.id, bar);
                tree.lines.push(Line { id: event.call.id, indent, head, done: None });
                tree.fit();
            }
            (EventKind::CallStarted { .. }, Mode::Plain) => self.line(&format!("{indent}▸ {head}")),
            (EventKind::CallFinished { error, usage, elapsed, .. }, mode) => {
                let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
                let (mark, status) = match error {
                    Some(e) => ("✗", format!("failed: {}", one_line(&e.message, 160))),
                    None => ("✓", "ok".to_owned()),
                };
                let text = format!("{head} {status} ({}{})", format_elapsed_ms(ms), tokens(usage));
                let bar = self.tree().bars.remove(&event.call.id);
                match (mode, bar) {
                    (Mode::Live, Some(bar)) => {
                        bar.set_style(style("{prefix}{msg}"));
                        let done = safe(&format!("{mark} {text}"));
                        let mut tree = self.tree();
                        tree.end(event.call.id, format!("{indent}{done}"));
                        bar.finish_with_message(done);
                        tree.finished.push_back(bar);
                    }
                    _ => self.line(&format!("{indent}{mark} {text}")),
                }
            }
            (EventKind::CallCancelled { .. }, mode) => {
                let bar = self.tree().bars.remove(&event.call.id);
                match (mode, bar) {
                    (Mode::Live, Some(bar)) => {
                        let mut tree = self.tree();
                        tree.end(event.call.id, cancelled_line(&indent, &head));
                        bar.abandon_with_message(format!("{head} cancelled"));
                        tree.finished.push_back(bar);
                    }
                    _ => self.line(&cancelled_line(&indent, &head)),
                }
            }
            (EventKind::ToolCall { call }, _) if verbosity >= 1 => {
                self.line(&format!(
                    "{indent}  → {}({})",
                    name(&call.name),
                    one_line(&call.arguments, 200)
                ));
            }
            // A denied call never starts, so it has no line of its own in the tree: its
            // denial is shown at every verbosity. Approvals only with -v.
            (EventKind::ApprovalDecided { tool, approved: false, decision, .. }, _) => {
                // `decision` says how: "denied by the approver: …", "denied by rule …".
                self.line(&denial_line(&indent, &name(tool), decision));
            }
            (EventKind::ApprovalDecided { tool, decision, .. }, _) if verbosity >= 1 => {
                self.line(&format!("{indent}  ⚖ {}: {decision}", name(tool)));
            }
            // A call's progress: beside its spinner, or a line of its own with -v.
            (EventKind::Progress { progress, total, message }, mode) => {
                let done = llm_do::event::progress_fraction(*progress, *total);
                let what = message.as_deref().map(|m| format!(" {m}")).unwrap_or_default();
                let text = safe(&one_line(&format!("{done}{what}"), 100));
                let bar = self.tree().bars.get(&event.call.id).cloned();
                match (mode, bar) {
                    (Mode::Live, Some(bar)) => bar.set_message(format!("{head} {text}")),
                    _ if verbosity >= 1 => self.line(&format!("{indent}  … {head} {text}")),
                    _ => {}
                }
            }
            // A question's answer names the fields filled in, never their values.
            (EventKind::QuestionAnswered { action, fields }, _) if verbosity >= 1 => {
                let filled = if fields.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", fields.join(", "))
                };
                self.line(&format!("{indent}  ? {}: {action}{filled}", event.call.name));
            }
            (EventKind::ModelDelta { delta: StreamDelta::Text { text }, .. }, Mode::Live)
                if verbosity >= 2 =>
            {
                if let Some(bar) = self.tree().bars.get(&event.call.id) {
                    let shown = format!("{} {}", bar.message(), text);
                    bar.set_message(safe(&one_line(&shown, 100)));
                }
            }
            (EventKind::ModelResponse { text: Some(text), turn, .. }, _) if verbosity >= 2 => {
                self.line(&format!("{indent}  ✎ turn {turn}: {}", one_line(text, 300)));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_denial_keeps_who_denied_it() {
        let decision = format!(
            "denied by the approver: the call to `write_file` needs approval, but stdin is not \
             a terminal to ask on, so the run was aborted. To proceed: {}",
            "pass --approve-all or allow the tool in llm-do.toml; ".repeat(5)
        );
        let line = denial_line("", "write_file", &decision);
        assert!(line.starts_with("  ⊘ write_file denied by the approver: the call"), "{line}");
        assert!(line.ends_with('…'), "{line}");
        assert_eq!(line.chars().count(), "  ⊘ write_file ".chars().count() + 160, "{line}");
        let short = denial_line("  ", "helper", "denied by rule helper → deny");
        assert_eq!(short, "    ⊘ helper denied by rule helper → deny");
    }
}
