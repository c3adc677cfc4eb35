//! What a worker offers its model when its tools come from a `CallableSource` whose list
//! changes while the runtime lives (as an MCP server's does after `list_changed`), beside
//! registered tools, which are resolved once per runtime.

use futures::future::BoxFuture;
use llm_do_core::{
    CallableSource, CallableSpec, Model, ModelError, ModelRequest, ModelResponse, Runtime,
    ToolSpecBuilder, WorkerSpecBuilder,
};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// Answers at once and records the tool names of every request.
#[derive(Clone, Default)]
struct Offered(Arc<Mutex<Vec<Vec<String>>>>);

impl Model for Offered {
    fn request<'a>(
        &'a self,
        req: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        self.0.lock().unwrap().push(req.tools.iter().map(|t| t.name.clone()).collect());
        Box::pin(async { Ok(ModelResponse::text("ok")) })
    }
}

/// A source whose tools are the names it currently holds.
#[derive(Debug, Default)]
struct Changing(Mutex<Vec<&'static str>>);

impl CallableSource for Changing {
    fn prefix(&self) -> &str {
        "srv__"
    }

    fn callables(&self) -> BoxFuture<'_, llm_do_core::Result<Vec<Arc<CallableSpec>>>> {
        let names = self.0.lock().unwrap().clone();
        Box::pin(async move {
            Ok(names
                .into_iter()
                .map(|n| ToolSpecBuilder::new(n).handler(|_, _| async { Ok(json!(1)) }).build())
                .collect())
        })
    }
}

fn tool(name: &str) -> Arc<CallableSpec> {
    ToolSpecBuilder::new(name).handler(|_, _| async { Ok(json!(0)) }).build()
}

#[tokio::test]
async fn tools_from_a_changing_source_are_resolved_for_every_call() {
    let model = Offered::default();
    let source = Arc::new(Changing(Mutex::new(vec!["srv__a"])));
    let by_pattern =
        WorkerSpecBuilder::new("by_pattern").prompt("go").tool_name("srv__*").build().unwrap();
    let by_name =
        WorkerSpecBuilder::new("by_name").prompt("go").tool_name("srv__b").build().unwrap();
    let fixed = WorkerSpecBuilder::new("fixed").prompt("go").tool_name("local").build().unwrap();
    let rt = Runtime::builder()
        .model_override(model.clone())
        .source(source.clone())
        .register(tool("local"))
        .register(by_pattern)
        .register(by_name)
        .register(fixed)
        .build();
    let ctx = rt.ctx();

    ctx.call_value("by_pattern", json!({})).await.unwrap();
    ctx.call_value("fixed", json!({})).await.unwrap();
    // srv__b does not exist yet: a typed error naming it.
    let err = ctx.call_value("by_name", json!({})).await.unwrap_err();
    assert!(
        matches!(err, llm_do_core::Error::UnknownCallable { ref name, .. } if name == "srv__b"),
        "{err}"
    );

    // The server's list changes: the next calls see it.
    *source.0.lock().unwrap() = vec!["srv__a", "srv__b"];
    ctx.call_value("by_pattern", json!({})).await.unwrap();
    ctx.call_value("by_name", json!({})).await.unwrap();
    ctx.call_value("fixed", json!({})).await.unwrap();
    *source.0.lock().unwrap() = vec!["srv__b"];
    ctx.call_value("by_pattern", json!({})).await.unwrap();

    assert_eq!(
        *model.0.lock().unwrap(),
        [
            vec!["srv__a"],
            vec!["local"],
            vec!["srv__a", "srv__b"],
            vec!["srv__b"],
            vec!["local"],
            vec!["srv__b"],
        ]
    );
}

/// A source that never finishes listing (a server that does not answer); it cancels the run
/// it is asked for first, as a person pressing Ctrl-C while it hangs would.
#[derive(Debug)]
struct Stuck(llm_do_core::cancel::Cancellation);

impl CallableSource for Stuck {
    fn prefix(&self) -> &str {
        "stuck__"
    }

    fn callables(&self) -> BoxFuture<'_, llm_do_core::Result<Vec<Arc<CallableSpec>>>> {
        self.0.cancel("stop");
        Box::pin(std::future::pending())
    }
}

/// A liveness bound: a hang becomes a failure instead of a stuck test run.
async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), fut).await.expect("no hang")
}

#[tokio::test]
async fn a_cancelled_run_does_not_wait_for_a_source_that_does_not_answer() {
    let worker = WorkerSpecBuilder::new("w").prompt("go").tool_name("stuck__*").build().unwrap();
    // A worker whose tools come from the source, and a call by name into it.
    for call in ["w", "stuck__x"] {
        let token = llm_do_core::cancel::Cancellation::new();
        let rt = Runtime::builder()
            .model_override(Offered::default())
            .source(Arc::new(Stuck(token.clone())))
            .register(worker.clone())
            .build();
        let ctx = rt.ctx().with_cancellation(token);
        let err = bounded(ctx.call_value(call, json!({}))).await.unwrap_err();
        assert!(
            matches!(err, llm_do_core::Error::Cancelled { ref reason } if reason == "stop"),
            "{call}: {err}"
        );
    }
}
