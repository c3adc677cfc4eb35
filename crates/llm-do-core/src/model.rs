//! The [`Model`] trait that providers implement, and the request/response types crossing it.
//!
//! Core knows nothing about HTTP or local inference: a provider turns a [`ModelRequest`] into a
//! [`ModelResponse`] however it likes. The scripted and schema-driven test models in
//! `llm-do-testing` are the smallest examples.

use crate::attachment::InputCapabilities;
use futures::future::BoxFuture;

mod error;
mod request;
mod response;
mod settings;
mod stream;
pub use error::{ModelError, ModelErrorKind};
pub use request::{ModelRequest, OutputMode, ToolDefinition};
pub use response::ModelResponse;
pub use settings::{ModelSettings, StopError};
pub use stream::{DeltaSink, StreamDelta};

/// A language model backend.
///
/// Implementations must be cheap to share (`Arc<dyn Model>`) and safe to call concurrently.
/// Dropping the returned future must cancel the request.
///
/// ```
/// use llm_do_core::{Model, ModelError, ModelRequest, ModelResponse, Usage};
/// use futures::future::BoxFuture;
///
/// /// Answers every request with "ok".
/// struct Fixed;
/// impl Model for Fixed {
///     fn request<'a>(&'a self, _req: &'a ModelRequest)
///         -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
///         Box::pin(async { Ok(ModelResponse::text("ok")) })
///     }
/// }
/// ```
pub trait Model: Send + Sync + 'static {
    /// Sends one request and returns the model's complete answer.
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>>;

    /// Like [`request`](Model::request), reporting the answer's pieces to `sink` as they
    /// arrive. The returned response must be the same as the one `request` would assemble.
    /// The runtime always calls this method; the default does not stream.
    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let _ = sink;
        self.request(request)
    }

    /// The attachment parts this model takes natively. The runtime turns what it cannot
    /// take into text, or refuses it, before any request
    /// ([`attachment::lower`](crate::attachment::lower)). The default is
    /// [`InputCapabilities::TEXT_ONLY`]: PDFs as their extracted text, no images.
    fn input_capabilities(&self) -> InputCapabilities {
        InputCapabilities::TEXT_ONLY
    }
}

impl<M: Model + ?Sized> Model for std::sync::Arc<M> {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        (**self).request(request)
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        (**self).request_streaming(request, sink)
    }

    fn input_capabilities(&self) -> InputCapabilities {
        (**self).input_capabilities()
    }
}
