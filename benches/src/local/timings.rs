//! Collects the engine's timing events ([`TIMINGS`](llm_do::providers::local::TIMINGS)) in
//! bench 5's in-process measurement.

use super::EngineTimings;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The events seen so far.
#[derive(Clone, Default)]
pub(super) struct Captured(Arc<Mutex<Vec<EngineTimings>>>);

impl Captured {
    /// Returns (and forgets) the events seen so far.
    pub(super) fn take(&self) -> Vec<EngineTimings> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct Layer(Captured);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != llm_do::providers::local::TIMINGS {
            return;
        }
        let mut timings = EngineTimings::default();
        event.record(&mut timings);
        self.0.0.lock().unwrap_or_else(|p| p.into_inner()).push(timings);
    }
}

impl Visit for EngineTimings {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "decode_us" => self.decode_us = value,
            "grammar_compile_us" => self.grammar_compile_us = value,
            "grammar_mask_us" => self.grammar_mask_us = value,
            _ => {}
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

/// Installs the collecting subscriber for the whole process (the engine's events come from
/// its own thread).
pub(super) fn capture() -> Captured {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(Layer(captured.clone()));
    let _ = tracing::subscriber::set_global_default(subscriber);
    captured
}
