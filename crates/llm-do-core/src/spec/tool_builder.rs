//! [`ToolSpecBuilder`]: the spec of a deterministic tool.

use super::{
    Body, CallableSpec, CanonicalArgs, Declared, ForbiddenArgs, Handler, any_object_schema,
};
use crate::approval::Verdict;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::schema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// Builds the spec of a deterministic tool.
///
/// With a typed body ([`typed_handler`](ToolSpecBuilder::typed_handler)) the schemas come
/// from the argument and result types; [`handler`](ToolSpecBuilder::handler) takes a raw JSON
/// body instead, for tools whose schema is only known at run time (e.g. from a file or an MCP
/// server).
///
/// ```
/// use llm_do_core::{Ctx, Error, ToolSpecBuilder};
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Add { a: i64, b: i64 }
/// let spec = ToolSpecBuilder::new("add")
///     .description("Adds two integers.")
///     .typed_handler(|_ctx: Ctx, args: Add| async move { Ok::<_, Error>(args.a + args.b) })
///     .build();
/// assert_eq!(spec.input_schema()["required"], serde_json::json!(["a", "b"]));
/// assert_eq!(spec.output_schema()["type"], "integer");
/// ```
#[must_use]
pub struct ToolSpecBuilder {
    name: Arc<str>,
    description: String,
    /// `None` until set: [`typed_handler`](Self::typed_handler) fills it from its argument
    /// type, [`build`](Self::build) from nothing (any object).
    input_schema: Option<Value>,
    /// As `input_schema`; unconstrained when nothing sets it.
    output_schema: Option<Value>,
    approval: Option<Verdict>,
    canonical_args: Option<CanonicalArgs>,
    runs_canonical_args: bool,
    forbidden_args: Option<ForbiddenArgs>,
    handler: Option<Handler>,
}

impl ToolSpecBuilder {
    /// Starts a tool named `name` with no arguments and an unconstrained result.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t").build();
    /// assert_eq!(spec.name(), "t");
    /// assert_eq!(spec.input_schema(), &serde_json::json!({"type": "object"})); // any object
    /// assert_eq!(spec.output_schema(), &serde_json::json!({})); // any value
    /// ```
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            input_schema: None,
            output_schema: None,
            approval: None,
            canonical_args: None,
            runs_canonical_args: true,
            forbidden_args: None,
            handler: None,
        }
    }

    /// Sets the description shown to calling models.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t").description("Does t.").build();
    /// assert_eq!(spec.tool_definition().description, "Does t.");
    /// ```
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Derives the input schema from an arguments struct.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// #[derive(schemars::JsonSchema)]
    /// struct Args { text: String }
    /// let spec = ToolSpecBuilder::new("t").input::<Args>()
    ///     .handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.input_schema()["required"][0], "text");
    /// ```
    pub fn input<A: schemars::JsonSchema>(mut self) -> Self {
        self.input_schema = Some(schema::input_schema_for::<A>());
        self
    }

    /// Sets the input schema directly (an object schema), e.g. a derived schema with tighter
    /// bounds. Takes precedence over the one [`typed_handler`](Self::typed_handler) derives,
    /// whichever is called first.
    ///
    /// ```
    /// use llm_do_core::{Ctx, Error, ToolSpecBuilder};
    /// use serde_json::json;
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Args { n: u8 }
    /// let small = json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}, "required": ["n"]});
    /// let spec = ToolSpecBuilder::new("t")
    ///     .input_schema(small.clone())
    ///     .typed_handler(|_: Ctx, args: Args| async move { Ok::<_, Error>(args.n) })
    ///     .build();
    /// assert_eq!(spec.input_schema(), &small); // not the one derived from `Args`
    /// assert!(spec.validate_input(&json!({"n": 12})).is_err());
    /// ```
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = Some(schema);
        self
    }

    /// Derives the output schema from the result type.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t").output::<String>()
    ///     .handler(|_, _| async { Ok(serde_json::json!("x")) }).build();
    /// assert_eq!(spec.output_schema()["type"], "string");
    /// ```
    pub fn output<T: schemars::JsonSchema>(mut self) -> Self {
        self.output_schema = Some(schema::schema_for::<T>());
        self
    }

    /// Sets the output schema directly.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let schema = serde_json::json!({"type": "string", "format": "date"});
    /// let spec = ToolSpecBuilder::new("today").output_schema(schema.clone()).build();
    /// assert_eq!(spec.output_schema(), &schema);
    /// ```
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Sets the approval verdict used when a model calls this tool and no policy rule matches
    /// (built-in tools that write or execute use [`Verdict::Ask`]).
    ///
    /// ```
    /// # use llm_do_core::{ToolSpecBuilder, approval::Verdict};
    /// assert_eq!(ToolSpecBuilder::new("t").approval(Verdict::Deny).build().approval(), Some(Verdict::Deny));
    /// assert_eq!(ToolSpecBuilder::new("t").build().approval(), None); // allowed
    /// ```
    pub fn approval(mut self, verdict: Verdict) -> Self {
        self.approval = Some(verdict);
        self
    }

    /// Sets the "canonicalise arguments for approval" hook ([`CanonicalArgs`]): when a model
    /// calls the tool, the approval gate matches its rules (and standing session approvals)
    /// against what the hook returns, and the tool then runs with that value, so that a rule
    /// about a path holds for every spelling of the path. An `Err` refuses the call before
    /// anyone is asked; the model receives the message as the tool's error.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// use serde_json::json;
    /// let spec = ToolSpecBuilder::new("read")
    ///     .canonical_args(|args| {
    ///         let path = args["path"].as_str().ok_or("`path` is missing")?;
    ///         Ok(json!({"path": path.trim_start_matches("./")}))
    ///     })
    ///     .build();
    /// assert_eq!(spec.canonical_args(&json!({"path": "./notes.txt"})), Ok(json!({"path": "notes.txt"})));
    /// assert!(spec.canonical_args(&json!({})).is_err());
    /// ```
    pub fn canonical_args<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> std::result::Result<Value, String> + Send + Sync + 'static,
    {
        self.canonical_args = Some(Arc::new(f));
        self.runs_canonical_args = true;
        self
    }

    /// Sets a "canonicalise arguments for approval" hook whose form is for matching only:
    /// approval rules are matched against what it returns, as with
    /// [`canonical_args`](Self::canonical_args), but the tool runs with the arguments exactly
    /// as the model gave them, and the approver is asked about (and a session approval holds
    /// for) those. For tools whose canonical form cannot be run without changing what they do:
    /// the shell's normalises every word that may be a path, `s/./X/` included.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// use serde_json::json;
    /// let spec = ToolSpecBuilder::new("echo")
    ///     .canonical_args_for_rules(|args| Ok(json!({"text": args["text"].as_str().unwrap_or("").replace("//", "/")})))
    ///     .handler(|_, args| async move { Ok(args) })
    ///     .build();
    /// assert_eq!(spec.canonical_args(&json!({"text": "a//b"})), Ok(json!({"text": "a/b"})));
    /// assert!(!spec.runs_canonical_args()); // a model's call runs with {"text": "a//b"}
    /// ```
    pub fn canonical_args_for_rules<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> std::result::Result<Value, String> + Send + Sync + 'static,
    {
        self.canonical_args = Some(Arc::new(f));
        self.runs_canonical_args = false;
        self
    }

    /// Sets the check of what no approval can allow, for calls a model requests: when it
    /// returns `Some(reason)` the call is denied before rules or approvers are consulted, and
    /// [`OnDenied`](crate::approval::OnDenied) applies as to any denial — the model is told
    /// (`permission denied: …`), or the run ends. (An `Err` of
    /// [`canonical_args`](Self::canonical_args) is, by contrast, always told to the model.)
    /// How the Python llm-do treats shell metacharacters: a permission error.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("run")
    ///     .forbidden_args(|args| args["command"].as_str()?.contains(';').then(|| "a command list".into()))
    ///     .handler(|_, a| async move { Ok(a) }).build();
    /// assert!(spec.forbidden_args(&serde_json::json!({"command": "ls; rm -r ."})).is_some());
    /// ```
    pub fn forbidden_args<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Option<String> + Send + Sync + 'static,
    {
        self.forbidden_args = Some(Arc::new(f));
        self
    }

    /// Sets the body.
    ///
    /// ```
    /// # use llm_do_core::{Runtime, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let echo = ToolSpecBuilder::new("echo").handler(|_ctx, args| async move { Ok(args) }).build();
    /// let ctx = Runtime::builder().register(echo).build().ctx();
    /// assert_eq!(ctx.call_value("echo", serde_json::json!({"a": 1})).await?, serde_json::json!({"a": 1}));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handler<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Ctx, Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value>> + Send + 'static,
    {
        self.handler = Some(Arc::new(move |ctx, args| Box::pin(f(ctx, args))));
        self
    }

    /// Sets a typed body, `|ctx, args: A| async { Ok(output) }`, the run-time counterpart of
    /// `#[tool]`: the call's JSON arguments are decoded into `A` (an arguments struct; a
    /// mismatch is [`Error::InvalidArguments`]), the result is encoded from `O`, and unless
    /// [`input_schema`](Self::input_schema) / [`output_schema`](Self::output_schema) set them,
    /// the schemas models see are derived from `A` and `O`. The body's error type only needs
    /// to convert into [`Error`].
    ///
    /// ```
    /// use llm_do_core::{Ctx, Error, Runtime, ToolSpecBuilder};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Add { a: i64, b: i64 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let add = ToolSpecBuilder::new("add")
    ///     .description("Adds two integers.")
    ///     .typed_handler(|_ctx: Ctx, args: Add| async move { Ok::<_, Error>(args.a + args.b) })
    ///     .build();
    /// assert_eq!(add.input_schema()["required"], serde_json::json!(["a", "b"]));
    /// assert_eq!(add.output_schema()["type"], "integer");
    /// let ctx = Runtime::builder().register(add).build().ctx();
    /// assert_eq!(ctx.call::<i64>("add", serde_json::json!({"a": 2, "b": 3})).await?, 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn typed_handler<A, O, E, F, Fut>(mut self, f: F) -> Self
    where
        A: DeserializeOwned + schemars::JsonSchema + Send + 'static,
        O: Serialize + schemars::JsonSchema + 'static,
        E: Into<Error> + 'static,
        F: Fn(Ctx, A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = std::result::Result<O, E>> + Send + 'static,
    {
        self.input_schema.get_or_insert_with(schema::input_schema_for::<A>);
        self.output_schema.get_or_insert_with(schema::schema_for::<O>);
        let name = self.name.clone();
        let f = Arc::new(f);
        self.handler = Some(Arc::new(move |ctx, args| {
            let name = name.clone();
            let f = f.clone();
            Box::pin(async move {
                let args: A = crate::__private::decode_args(&name, args)?;
                let out = f(ctx, args).await.map_err(Into::into)?;
                crate::__private::encode_output(&name, out)
            })
        }));
        self
    }

    /// Finishes the spec. A builder without a handler gets one that fails with a clear error.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t").handler(|_, a| async move { Ok(a) }).build();
    /// assert_eq!(spec.name(), "t");
    /// ```
    pub fn build(self) -> Arc<CallableSpec> {
        let name = self.name.clone();
        let handler = self.handler.unwrap_or_else(|| {
            Arc::new(move |_ctx, _args| {
                let name = name.clone();
                Box::pin(async move {
                    Err(Error::InvalidSpec {
                        name: name.to_string(),
                        message: "the tool has no handler".into(),
                    })
                })
            })
        });
        Arc::new(CallableSpec::declared(Declared {
            name: self.name,
            description: self.description,
            input_schema: self.input_schema.unwrap_or_else(any_object_schema),
            output_schema: self.output_schema.unwrap_or_else(|| Value::Object(Default::default())),
            output_check: None,
            approval: self.approval,
            canonical_args: self.canonical_args,
            runs_canonical_args: self.runs_canonical_args,
            forbidden_args: self.forbidden_args,
            body: Body::Tool(handler),
        }))
    }
}
