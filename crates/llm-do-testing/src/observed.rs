//! [`ObservedModel`]: forwards every request to the model it wraps and shows each result to an
//! [`Observer`] on the way back. The one forwarding [`Model`] implementation behind the
//! recorders (a cassette's [`RecordingModel`](crate::cassette::RecordingModel), the providers'
//! tests that keep what a provider answered).

use futures::future::BoxFuture;
use llm_do_core::attachment::InputCapabilities;
use llm_do_core::{DeltaSink, Model, ModelError, ModelRequest, ModelResponse};

/// What an [`ObservedModel`] does with each result of the model it wraps.
///
/// Closures `Fn(&ModelRequest, &Result<ModelResponse, ModelError>) -> Result<(), ModelError>`
/// are observers.
pub trait Observer: Send + Sync + 'static {
    /// Sees `result`, the wrapped model's answer to `request` (streamed or not). An error
    /// returned here replaces a successful answer (a recorder that could not write it); a
    /// failed request keeps its own error.
    fn observe(
        &self,
        request: &ModelRequest,
        result: &Result<ModelResponse, ModelError>,
    ) -> Result<(), ModelError>;
}

impl<F> Observer for F
where
    F: Fn(&ModelRequest, &Result<ModelResponse, ModelError>) -> Result<(), ModelError>,
    F: Send + Sync + 'static,
{
    fn observe(
        &self,
        request: &ModelRequest,
        result: &Result<ModelResponse, ModelError>,
    ) -> Result<(), ModelError> {
        self(request, result)
    }
}

/// A model that forwards to `inner` (requests, streamed pieces and input capabilities alike)
/// and shows every result to its observer.
///
/// ```
/// use llm_do_core::{Message, Model, ModelRequest};
/// use llm_do_testing::ObservedModel;
/// use llm_do_testing::scripted::{Reply, ScriptedModel};
/// use std::sync::{Arc, Mutex};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let model = ObservedModel::new(ScriptedModel::queue([Reply::text("pong")]), move |_: &ModelRequest, r: &Result<_, _>| {
///     log.lock().unwrap().push(r.as_ref().map(|a: &llm_do_core::ModelResponse| a.text.clone()).ok());
///     Ok(())
/// });
/// model.request(&ModelRequest::new("m", vec![Message::user("ping")])).await?;
/// assert_eq!(*seen.lock().unwrap(), [Some(Some("pong".to_owned()))]);
/// # Ok(())
/// # }
/// ```
///
/// `Clone` when the model and the observer are (an observer that keeps what it sees shares it
/// between clones when it keeps it behind an `Arc`, as a cassette's writer does).
#[derive(Clone)]
pub struct ObservedModel<M, O> {
    inner: M,
    observer: O,
}

impl<M, O: std::fmt::Debug> std::fmt::Debug for ObservedModel<M, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedModel").field("observer", &self.observer).finish_non_exhaustive()
    }
}

impl<M: Model, O: Observer> ObservedModel<M, O> {
    /// Wraps `inner`, showing its results to `observer`.
    pub fn new(inner: M, observer: O) -> Self {
        Self { inner, observer }
    }

    /// The observer, with what it has kept.
    pub fn observer(&self) -> &O {
        &self.observer
    }

    fn after(
        &self,
        request: &ModelRequest,
        result: Result<ModelResponse, ModelError>,
    ) -> Result<ModelResponse, ModelError> {
        let seen = self.observer.observe(request, &result);
        let response = result?;
        seen.map(|()| response)
    }
}

impl<M: Model, O: Observer> Model for ObservedModel<M, O> {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move { self.after(request, self.inner.request(request).await) })
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(
            async move { self.after(request, self.inner.request_streaming(request, sink).await) },
        )
    }

    fn input_capabilities(&self) -> InputCapabilities {
        self.inner.input_capabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted::{Reply, ScriptedModel};
    use llm_do_core::{Message, ModelErrorKind, StreamDelta};
    use std::sync::{Arc, Mutex};

    type Log = Arc<Mutex<Vec<Result<Option<String>, ModelErrorKind>>>>;

    fn logging(log: Log, fail: bool) -> impl Observer {
        move |_: &ModelRequest, result: &Result<ModelResponse, ModelError>| {
            log.lock().unwrap().push(result.as_ref().map(|r| r.text.clone()).map_err(|e| e.kind()));
            if fail {
                Err(ModelError::new(ModelErrorKind::Other, "cannot keep it"))
            } else {
                Ok(())
            }
        }
    }

    fn request() -> ModelRequest {
        ModelRequest::new("m", vec![Message::user("ping")])
    }

    /// Streams its answer ("two") as two pieces; answers "one" when not streaming.
    struct Streams;

    impl Model for Streams {
        fn request<'a>(
            &'a self,
            _: &'a ModelRequest,
        ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
            Box::pin(async { Ok(ModelResponse::text("one")) })
        }

        fn request_streaming<'a>(
            &'a self,
            _: &'a ModelRequest,
            sink: &'a dyn DeltaSink,
        ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
            Box::pin(async move {
                sink.delta(StreamDelta::Text { text: "t".into() });
                sink.delta(StreamDelta::Text { text: "wo".into() });
                Ok(ModelResponse::text("two"))
            })
        }

        fn input_capabilities(&self) -> InputCapabilities {
            InputCapabilities::ALL
        }
    }

    #[tokio::test]
    async fn both_paths_are_observed_and_the_pieces_still_reach_the_sink() {
        let log = Log::default();
        let model = ObservedModel::new(Streams, logging(log.clone(), false));
        assert_eq!(model.request(&request()).await.unwrap().text.as_deref(), Some("one"));
        let pieces = Mutex::new(Vec::new());
        let sink = |d: StreamDelta| pieces.lock().unwrap().push(d);
        let streamed = model.request_streaming(&request(), &sink).await.unwrap();
        assert_eq!(streamed.text.as_deref(), Some("two"));
        assert_eq!(pieces.lock().unwrap().len(), 2);
        assert_eq!(*log.lock().unwrap(), [Ok(Some("one".into())), Ok(Some("two".into()))]);
        assert_eq!(model.input_capabilities(), InputCapabilities::ALL);
    }

    #[tokio::test]
    async fn an_observer_error_replaces_an_answer_but_not_a_failure() {
        let log = Log::default();
        let inner = ScriptedModel::queue([Reply::text("one")]);
        let model = ObservedModel::new(inner, logging(log.clone(), true));
        let e = model.request(&request()).await.unwrap_err();
        assert_eq!((e.kind(), e.message()), (ModelErrorKind::Other, "cannot keep it"));
        // The script is spent: the caller gets the inner model's own error.
        let e = model.request(&request()).await.unwrap_err();
        assert!(e.message().starts_with("all 1 scripted reply was used"), "{e}");
        assert_eq!(*log.lock().unwrap(), [Ok(Some("one".into())), Err(ModelErrorKind::Other)]);
    }
}
