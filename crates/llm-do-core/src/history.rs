//! History processors: what a [`Conversation`](crate::conversation::Conversation) keeps
//! before each turn.
//!
//! A [`HistoryProcessor`] receives the history followed by the pending turn (its prompt, the
//! last entry) and returns the history to send. The result is what the model sees *and* what
//! the conversation keeps: trimming happens once, a summary is written once.
//!
//! Processors remove whole turns only, so a tool call and its result are never split, and the
//! pending turn is never removed. They compose: `KeepLastTurns(20).then(TokenBudget::new(4000))`
//! runs the first, then the second on its result.
//!
//! - [`KeepLastTurns`]: the last N turns (the pending one counts).
//! - [`TokenBudget`]: the newest turns whose tokens fit a budget, counted as the provider
//!   reported them where it did and [estimated](crate::estimate) otherwise. When the pending
//!   turn alone does not fit: [`Error::ContextOverflow`].
//! - [`Summarise`]: once there are more than `trigger` earlier turns, all but the last
//!   `keep_last` are replaced by one message written by a summariser worker (called by name,
//!   with the transcript as its one argument).
//! - [`from_fn`]: any function of the entries.

use crate::conversation::Entry;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::message::Message;
use futures::future::BoxFuture;
use serde_json::Value;
use std::ops::Range;
use std::sync::Arc;

/// Decides which history a conversation's next turn sees. See the [module docs](self).
///
/// ```
/// use llm_do_core::conversation::Entry;
/// use llm_do_core::history::HistoryProcessor;
/// use llm_do_core::{Ctx, Result};
/// use futures::future::BoxFuture;
///
/// /// Keeps nothing but the pending turn.
/// struct Forget;
/// impl HistoryProcessor for Forget {
///     fn process<'a>(&'a self, _: &'a Ctx, history: Vec<Entry>) -> BoxFuture<'a, Result<Vec<Entry>>> {
///         let turns = llm_do_core::history::turns(&history);
///         let last = turns.last().map_or(0, |t| t.start);
///         Box::pin(async move { Ok(history[last..].to_vec()) })
///     }
/// }
/// ```
pub trait HistoryProcessor: Send + Sync + 'static {
    /// The history to keep, from `history` (earlier turns, then the pending turn). `ctx` is the
    /// chat's context, for processors that call workers.
    fn process<'a>(
        &'a self,
        ctx: &'a Ctx,
        history: Vec<Entry>,
    ) -> BoxFuture<'a, Result<Vec<Entry>>>;
}

/// Combinators for every [`HistoryProcessor`].
pub trait HistoryProcessorExt: HistoryProcessor + Sized {
    /// Runs `self`, then `next` on its result.
    ///
    /// ```
    /// use llm_do_core::history::{HistoryProcessor, HistoryProcessorExt, KeepLastTurns, TokenBudget};
    /// use llm_do_core::{Message, Runtime, conversation::Entry};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let mut history: Vec<Entry> = (1..=5).map(|turn| Entry::new(turn, "w", Message::user("…"))).collect();
    /// history[3].reported_tokens = Some(1000); // turn 4 is long
    /// let ctx = Runtime::builder().build().ctx();
    /// // The last three turns (3, 4, 5), then the newest of them that fit 500 tokens (5).
    /// let kept = KeepLastTurns(3).then(TokenBudget::new(500)).process(&ctx, history).await?;
    /// assert_eq!(kept.iter().map(|e| e.turn).collect::<Vec<_>>(), [5]);
    /// # Ok(())
    /// # }
    /// ```
    fn then<B: HistoryProcessor>(self, next: B) -> Then<Self, B> {
        Then(self, next)
    }
}

impl<P: HistoryProcessor> HistoryProcessorExt for P {}

/// `A`, then `B` ([`HistoryProcessorExt::then`]).
#[derive(Debug, Clone)]
pub struct Then<A, B>(pub A, pub B);

impl<A: HistoryProcessor, B: HistoryProcessor> HistoryProcessor for Then<A, B> {
    fn process<'a>(
        &'a self,
        ctx: &'a Ctx,
        history: Vec<Entry>,
    ) -> BoxFuture<'a, Result<Vec<Entry>>> {
        Box::pin(async move {
            let history = self.0.process(ctx, history).await?;
            self.1.process(ctx, history).await
        })
    }
}

/// A list of processors, run in order (built at run time, e.g. from command-line options).
impl HistoryProcessor for Vec<Arc<dyn HistoryProcessor>> {
    fn process<'a>(
        &'a self,
        ctx: &'a Ctx,
        mut history: Vec<Entry>,
    ) -> BoxFuture<'a, Result<Vec<Entry>>> {
        Box::pin(async move {
            for p in self {
                history = p.process(ctx, history).await?;
            }
            Ok(history)
        })
    }
}

/// The index ranges of the turns in `entries`: runs of entries with the same turn number.
///
/// ```
/// use llm_do_core::{Message, conversation::Entry, history::turns};
/// let e = |t| Entry::new(t, "w", Message::user("x"));
/// assert_eq!(turns(&[e(1), e(1), e(2), e(4)]), [0..2, 2..3, 3..4]);
/// ```
pub fn turns(entries: &[Entry]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match out.last_mut() {
            Some(r) if entries[r.start].turn == entry.turn => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Keeps the last N turns, the pending one included (`KeepLastTurns(1)`: no history; 0 counts
/// as 1).
///
/// ```
/// use llm_do_core::history::{HistoryProcessor, KeepLastTurns};
/// use llm_do_core::{Message, Runtime, conversation::Entry};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do_core::Result<()> {
/// let history: Vec<Entry> = (1..=5).map(|turn| Entry::new(turn, "w", Message::user("…"))).collect();
/// let ctx = Runtime::builder().build().ctx();
/// let kept = KeepLastTurns(3).process(&ctx, history).await?; // the pending turn and the two before it
/// assert_eq!(kept.iter().map(|e| e.turn).collect::<Vec<_>>(), [3, 4, 5]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct KeepLastTurns(pub usize);

impl HistoryProcessor for KeepLastTurns {
    fn process<'a>(&'a self, _: &'a Ctx, history: Vec<Entry>) -> BoxFuture<'a, Result<Vec<Entry>>> {
        let turns = turns(&history);
        let keep = self.0.max(1);
        let start = turns.len().checked_sub(keep).map_or(0, |i| turns[i].start);
        Box::pin(async move { Ok(history.into_iter().skip(start).collect()) })
    }
}

/// Keeps the newest turns whose tokens fit `max_tokens` ([`Entry::tokens`]: reported by the
/// provider where it did, estimated otherwise). Counts the conversation's messages only, not
/// the system prompt or tool definitions: leave room for them.
///
/// When the pending turn alone needs more than the budget, the turn fails with
/// [`Error::ContextOverflow`] (and the conversation is unchanged).
///
/// ```
/// # use llm_do_core::history::TokenBudget;
/// assert_eq!(TokenBudget::new(2000).max_tokens, 2000);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokenBudget {
    /// The most tokens the kept history may have.
    pub max_tokens: u64,
}

impl TokenBudget {
    /// A budget of `max_tokens`.
    ///
    /// ```
    /// use llm_do_core::history::{HistoryProcessor, TokenBudget};
    /// use llm_do_core::{Error, Message, Runtime, conversation::Entry};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let turn = |turn, tokens| {
    ///     let mut entry = Entry::new(turn, "w", Message::user("…"));
    ///     entry.reported_tokens = Some(tokens);
    ///     entry
    /// };
    /// let ctx = Runtime::builder().build().ctx();
    /// let kept = TokenBudget::new(512).process(&ctx, vec![turn(1, 200), turn(2, 200), turn(3, 200)]).await?;
    /// assert_eq!(kept, [turn(2, 200), turn(3, 200)]); // 400 tokens fit, 600 would not
    /// let err = TokenBudget::new(512).process(&ctx, vec![turn(1, 600)]).await.unwrap_err();
    /// assert!(matches!(err, Error::ContextOverflow { tokens: 600, budget: 512 }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(max_tokens: u64) -> Self {
        Self { max_tokens }
    }
}

impl HistoryProcessor for TokenBudget {
    fn process<'a>(&'a self, _: &'a Ctx, history: Vec<Entry>) -> BoxFuture<'a, Result<Vec<Entry>>> {
        let result = (|| {
            let turns = turns(&history);
            let tokens: Vec<u64> = turns
                .iter()
                .map(|r| history[r.clone()].iter().map(Entry::tokens).sum::<u64>())
                .collect();
            let Some(&pending) = tokens.last() else { return Ok(history) };
            if pending > self.max_tokens {
                return Err(Error::ContextOverflow { tokens: pending, budget: self.max_tokens });
            }
            // Newest first, while they fit.
            let mut total = 0u64;
            let mut first_kept = turns.len();
            for (i, t) in tokens.iter().enumerate().rev() {
                if total.saturating_add(*t) > self.max_tokens {
                    break;
                }
                total = total.saturating_add(*t);
                first_kept = i;
            }
            let start = turns.get(first_kept).map_or(history.len(), |r| r.start);
            Ok(history.into_iter().skip(start).collect())
        })();
        Box::pin(async move { result })
    }
}

/// Replaces older turns by a summary that a worker writes.
///
/// When there are more than `trigger` turns before the pending one, all of them but the last
/// `keep_last` are replaced by one user message, `Summary of the earlier conversation:` and
/// the summariser's answer (a summary written earlier is summarised again with the rest). The
/// summariser is called by name through the chat's context, with the transcript of the
/// replaced turns as its one argument: any worker with one text parameter.
///
/// ```
/// # use llm_do_core::history::Summarise;
/// let s = Summarise::new("summarise").keep_last(2).trigger(6);
/// assert_eq!((s.keep_last, s.trigger), (2, 6));
/// ```
#[derive(Debug, Clone)]
pub struct Summarise {
    /// The summariser worker's name.
    pub worker: String,
    /// Earlier turns kept as they are.
    pub keep_last: usize,
    /// Summarise once there are more earlier turns than this (at least `keep_last + 1`).
    pub trigger: usize,
}

/// The text that introduces a summary in the history.
pub const SUMMARY_HEADING: &str = "Summary of the earlier conversation:";

impl Summarise {
    /// Summarises with `worker`, keeping 2 earlier turns, once there are more than 4.
    ///
    /// ```
    /// # use llm_do_core::history::Summarise;
    /// assert_eq!(Summarise::new("s").trigger, 4);
    /// ```
    pub fn new(worker: impl Into<String>) -> Self {
        Self { worker: worker.into(), keep_last: 2, trigger: 4 }
    }

    /// Keeps this many earlier turns as they are.
    ///
    /// ```
    /// # use llm_do_core::history::Summarise;
    /// assert_eq!(Summarise::new("s").keep_last(1).keep_last, 1);
    /// ```
    pub fn keep_last(mut self, turns: usize) -> Self {
        self.keep_last = turns;
        self
    }

    /// Summarises once there are more earlier turns than this.
    ///
    /// ```
    /// # use llm_do_core::history::Summarise;
    /// assert_eq!(Summarise::new("s").trigger(8).trigger, 8);
    /// ```
    pub fn trigger(mut self, turns: usize) -> Self {
        self.trigger = turns;
        self
    }
}

/// The transcript a summariser reads: one paragraph per message.
///
/// ```
/// use llm_do_core::{Message, conversation::Entry, history::transcript};
/// let t = transcript(&[Entry::new(1, "w", Message::user("hi")), Entry::new(1, "w", Message::assistant(Some("hello".into()), vec![]))]);
/// assert_eq!(t, "user: hi\n\nassistant: hello");
/// ```
pub fn transcript(entries: &[Entry]) -> String {
    let lines: Vec<String> = entries
        .iter()
        .map(|e| match &e.message {
            Message::System { content } => format!("system: {content}"),
            Message::User { content } => format!("user: {content}"),
            Message::UserParts { parts } => {
                format!("user: {}", crate::message::parts_text(parts))
            }
            Message::Assistant { content, tool_calls } => {
                let mut parts: Vec<String> = content.iter().cloned().collect();
                parts.extend(
                    tool_calls.iter().map(|c| format!("[calls {}({})]", c.name, c.arguments)),
                );
                format!("assistant: {}", parts.join(" "))
            }
            Message::Tool(r) => {
                format!(
                    "tool {}{}: {}",
                    r.name,
                    if r.is_error { " (error)" } else { "" },
                    r.content
                )
            }
        })
        .collect();
    lines.join("\n\n")
}

impl HistoryProcessor for Summarise {
    fn process<'a>(
        &'a self,
        ctx: &'a Ctx,
        history: Vec<Entry>,
    ) -> BoxFuture<'a, Result<Vec<Entry>>> {
        Box::pin(async move {
            let turns = turns(&history);
            let earlier = turns.len().saturating_sub(1);
            if earlier <= self.trigger.max(self.keep_last + 1) {
                return Ok(history);
            }
            let replaced = turns[earlier - self.keep_last - 1].end;
            let text = transcript(&history[..replaced]);
            let summary = match ctx.call_value(&self.worker, Value::String(text)).await? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let mut entry = Entry::new(
                history[replaced - 1].turn,
                self.worker.clone(),
                Message::user(format!("{SUMMARY_HEADING}\n{summary}")),
            );
            entry.kind = Some(crate::call::CallKind::Worker);
            let mut kept = vec![entry];
            kept.extend(history.into_iter().skip(replaced));
            Ok(kept)
        })
    }
}

/// A processor from a function of the entries.
///
/// ```
/// use llm_do_core::history::from_fn;
/// use llm_do_core::Message;
/// // Keeps only the turns whose prompt does not start with "off the record".
/// let p = from_fn(|history| {
///     let turns = llm_do_core::history::turns(&history);
///     let pending = turns.last().map_or(0, |t| t.start);
///     let secret: Vec<u32> = turns
///         .iter()
///         .filter(|t| t.start < pending)
///         .filter(|t| matches!(&history[t.start].message, Message::User { content } if content.starts_with("off the record")))
///         .map(|t| history[t.start].turn)
///         .collect();
///     Ok(history.into_iter().filter(|e| !secret.contains(&e.turn)).collect())
/// });
/// # let _ = p;
/// ```
pub fn from_fn<F>(f: F) -> FromFn<F>
where
    F: Fn(Vec<Entry>) -> Result<Vec<Entry>> + Send + Sync + 'static,
{
    FromFn(f)
}

/// See [`from_fn`].
#[derive(Debug, Clone)]
pub struct FromFn<F>(F);

impl<F> HistoryProcessor for FromFn<F>
where
    F: Fn(Vec<Entry>) -> Result<Vec<Entry>> + Send + Sync + 'static,
{
    fn process<'a>(&'a self, _: &'a Ctx, history: Vec<Entry>) -> BoxFuture<'a, Result<Vec<Entry>>> {
        let result = (self.0)(history);
        Box::pin(async move { result })
    }
}
