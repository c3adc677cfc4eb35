//! [`Ctx::report_progress`]: how far a long call has come, as an event of that call.

use super::Ctx;
use crate::event::EventKind;

/// The most characters of a progress message kept (a server's text, shown at a terminal).
pub(crate) const MAX_PROGRESS_MESSAGE_CHARS: usize = 1000;

impl Ctx {
    /// Reports how far this call has come: `progress` (growing with each report), out of
    /// `total` when known, and what it is doing. Subscribers see an [`EventKind::Progress`] of
    /// this call (`llm-do run` shows the latest beside the call); an MCP server's progress
    /// notifications for a call arrive here too. Tools and workers report alike, so a step
    /// keeps its reports when it moves between the two.
    ///
    /// A `progress` or `total` that is not a finite number is no report; the message is cut at
    /// 1000 characters.
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
        let message = message.map(|m| match m.char_indices().nth(MAX_PROGRESS_MESSAGE_CHARS) {
            Some((end, _)) => format!("{}…", &m[..end]),
            None => m.to_owned(),
        });
        self.emit(|| EventKind::Progress { progress, total, message });
    }
}
