//! [`CallableSpec`]: what the runtime knows about one worker or tool, and the builders that make
//! one. The `#[worker]` and `#[tool]` macros generate calls to these builders; a program can also
//! use them directly to define workers and tools at run time (e.g. from files).

use crate::agent::WorkerTools;
use crate::approval::Verdict;
use crate::call::CallKind;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{ModelSettings, OutputMode, ToolDefinition};
use crate::model_ref::ModelRef;
use crate::prompt::Template;
use crate::resolve::ResolvedModel;
use crate::runtime_cache::RuntimeCache;
use crate::schema;
use crate::tool_files::OutputFiles;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A lazy reference to a spec: the `spec` function the macros generate (`my_tool::spec`).
///
/// Lazy so that workers can list themselves (recursion) or each other as tools.
pub type SpecRef = fn() -> Arc<CallableSpec>;

/// What [`RuntimeBuilder::register`](crate::RuntimeBuilder::register) takes: a spec, or a
/// function that makes one, such as the `spec` function the macros generate. So
/// `register(my_tool::spec)` and `register(my_tool::spec())` are the same.
///
/// ```
/// use llm_do_core::{IntoSpec, ToolSpecBuilder};
/// let make = || ToolSpecBuilder::new("t").build();
/// assert_eq!(make.into_spec().name(), make().into_spec().name());
/// ```
pub trait IntoSpec {
    /// The spec.
    fn into_spec(self) -> Arc<CallableSpec>;
}

impl IntoSpec for Arc<CallableSpec> {
    fn into_spec(self) -> Arc<CallableSpec> {
        self
    }
}

impl<F: FnOnce() -> Arc<CallableSpec>> IntoSpec for F {
    fn into_spec(self) -> Arc<CallableSpec> {
        self()
    }
}

/// The Rust body of a tool: takes the call's context and its JSON arguments, returns JSON.
pub type Handler = Arc<dyn Fn(Ctx, Value) -> BoxFuture<'static, Result<Value>> + Send + Sync>;

/// Checks that a value converts to the output type (the macros pass a `T::deserialize` check).
pub type OutputCheck = fn(&Value) -> std::result::Result<(), String>;

/// A tool's "canonicalise arguments for approval" hook: turns the arguments a model gave into
/// the form that names what the call will actually touch (for file tools: every path
/// normalised and resolved inside the sandbox), or explains why the call cannot run. The
/// approval gate matches rules and session approvals against the result, and the tool then runs
/// with it. See [`ToolSpecBuilder::canonical_args`].
pub type CanonicalArgs = Arc<dyn Fn(&Value) -> std::result::Result<Value, String> + Send + Sync>;

/// Default [`WorkerConfig::max_turns`].
pub const DEFAULT_MAX_TURNS: u32 = 20;
/// Default [`WorkerConfig::output_retries`].
pub const DEFAULT_OUTPUT_RETRIES: u32 = 2;

/// One worker or tool: its name, description, schemas and body.
///
/// Workers and tools share this type, which is what lets one replace the other: callers, the
/// registry and calling models only ever see the name, description and schemas.
///
/// ```
/// use llm_do_core::{CallKind, ToolSpecBuilder};
/// let spec = ToolSpecBuilder::new("shout")
///     .description("Upper-cases text.")
///     .input_schema(serde_json::json!({"type": "object", "properties": {"text": {"type": "string"}}}))
///     .handler(|_ctx, args| async move {
///         Ok(serde_json::json!(args["text"].as_str().unwrap_or("").to_uppercase()))
///     })
///     .build();
/// assert_eq!(spec.kind(), CallKind::Tool);
/// assert_eq!(spec.tool_definition().name, "shout");
/// ```
pub struct CallableSpec {
    name: Arc<str>,
    description: String,
    input_schema: Value,
    output_schema: Value,
    output_check: Option<OutputCheck>,
    approval: Option<Verdict>,
    canonical_args: Option<CanonicalArgs>,
    body: Body,
    input_validator: OnceLock<std::result::Result<schema::Validator, String>>,
    output_validator: OnceLock<std::result::Result<schema::Validator, String>>,
    /// [`output_mode`](CallableSpec::output_mode), built once.
    output_mode: OnceLock<OutputMode>,
    /// A worker's tools as resolved in the last runtime that ran it (by runtime id).
    tools: RuntimeCache<WorkerTools>,
    /// A worker's model as resolved in the last runtime that ran it (by runtime id).
    model: RuntimeCache<ResolvedModel>,
    /// What every call reads from the schemas (attachment parameters, files in the result),
    /// worked out once.
    schema_traits: OnceLock<SchemaTraits>,
}

/// What the runtime looks up in a spec's schemas on every call, worked out once.
#[derive(Debug, Clone, Copy)]
struct SchemaTraits {
    /// Some parameter is an attachment ([`crate::attachment::split_arguments`] has work to do).
    attachment_params: bool,
    /// Whether the result carries files.
    output_files: OutputFiles,
}

pub(crate) enum Body {
    Tool(Handler),
    Worker(WorkerConfig),
}

impl fmt::Debug for CallableSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallableSpec")
            .field("name", &self.name)
            .field("kind", &self.kind())
            .field("description", &self.description)
            .field("input_schema", &self.input_schema)
            .field("output_schema", &self.output_schema)
            .field("worker", &self.worker())
            .finish_non_exhaustive()
    }
}

impl CallableSpec {
    /// The name it is called by.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.name(), "now");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    /// The description shown to calling models (the item's doc comment for macro-made specs).
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("now").description("Current time.")
    ///     .handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.description(), "Current time.");
    /// ```
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Worker (stochastic) or tool (deterministic).
    ///
    /// ```
    /// # use llm_do_core::{CallKind, WorkerSpecBuilder};
    /// let spec = WorkerSpecBuilder::new("w").prompt("Say hi.").build().unwrap();
    /// assert_eq!(spec.kind(), CallKind::Worker);
    /// ```
    pub fn kind(&self) -> CallKind {
        match self.body {
            Body::Tool(_) => CallKind::Tool,
            Body::Worker(_) => CallKind::Worker,
        }
    }

    /// JSON Schema of the arguments object.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.input_schema()["type"], "object");
    /// ```
    pub fn input_schema(&self) -> &Value {
        &self.input_schema
    }

    /// JSON Schema of the result (`{"type": "string"}` for text).
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.output_schema(), &serde_json::json!({}));
    /// ```
    pub fn output_schema(&self) -> &Value {
        &self.output_schema
    }

    /// The approval verdict this callable asks for when a model calls it and no policy rule
    /// matches (`None`: allowed).
    ///
    /// ```
    /// # use llm_do_core::{ToolSpecBuilder, approval::Verdict};
    /// let spec = ToolSpecBuilder::new("rm").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.approval(), Some(Verdict::Ask));
    /// ```
    pub fn approval(&self) -> Option<Verdict> {
        self.approval
    }

    /// The arguments in the form approval rules are matched against and the tool runs with
    /// (its [`ToolSpecBuilder::canonical_args`] hook; the arguments unchanged when it has
    /// none), or why the call cannot run.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t")
    ///     .canonical_args(|args| Ok(serde_json::json!({"path": args["path"].as_str().unwrap_or("").trim_start_matches("./")})))
    ///     .handler(|_, a| async move { Ok(a) }).build();
    /// assert_eq!(spec.canonical_args(&serde_json::json!({"path": "./a"})).unwrap()["path"], "a");
    /// let plain = ToolSpecBuilder::new("u").handler(|_, a| async move { Ok(a) }).build();
    /// assert_eq!(plain.canonical_args(&serde_json::json!({"x": 1})).unwrap()["x"], 1);
    /// ```
    pub fn canonical_args(&self, args: &Value) -> std::result::Result<Value, String> {
        match &self.canonical_args {
            Some(hook) => hook(args),
            None => Ok(args.clone()),
        }
    }

    /// [`canonical_args`](Self::canonical_args) of arguments the caller owns: without a hook,
    /// they are the canonical form as they are (no copy).
    pub(crate) fn canonical_args_owned(&self, args: Value) -> std::result::Result<Value, String> {
        match &self.canonical_args {
            Some(hook) => hook(&args),
            None => Ok(args),
        }
    }

    /// The worker's configuration, `None` for tools.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let spec = WorkerSpecBuilder::new("w").prompt("Hi {name}").build().unwrap();
    /// assert_eq!(spec.worker().unwrap().prompt.source(), "Hi {name}");
    /// ```
    pub fn worker(&self) -> Option<&WorkerConfig> {
        match &self.body {
            Body::Worker(w) => Some(w),
            Body::Tool(_) => None,
        }
    }

    pub(crate) fn body(&self) -> &Body {
        &self.body
    }

    /// How this callable is presented to a model that may call it.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("now").description("Current time.")
    ///     .handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert_eq!(spec.tool_definition().description, "Current time.");
    /// ```
    pub fn tool_definition(&self) -> ToolDefinition {
        ToolDefinition::new(&*self.name, &self.description, self.input_schema.clone())
    }

    /// The output mode a worker asks its model for: text when the output schema is a plain
    /// string, JSON otherwise.
    ///
    /// ```
    /// # use llm_do_core::{OutputMode, WorkerSpecBuilder};
    /// let spec = WorkerSpecBuilder::new("w").prompt("Hi").build().unwrap();
    /// assert_eq!(spec.output_mode(), OutputMode::Text);
    /// ```
    pub fn output_mode(&self) -> OutputMode {
        self.output_mode
            .get_or_init(|| {
                if schema::is_text_schema(&self.output_schema) {
                    OutputMode::Text
                } else {
                    OutputMode::json(
                        schema::schema_name(&self.output_schema, &self.name),
                        self.output_schema.clone(),
                    )
                }
            })
            .clone()
    }

    /// The worker's tools as resolved in the last runtime that ran it.
    pub(crate) fn runtime_tools(&self) -> &RuntimeCache<WorkerTools> {
        &self.tools
    }

    /// The worker's model as resolved in the last runtime that ran it.
    pub(crate) fn runtime_model(&self) -> &RuntimeCache<ResolvedModel> {
        &self.model
    }

    fn schema_traits(&self) -> SchemaTraits {
        *self.schema_traits.get_or_init(|| SchemaTraits {
            attachment_params: crate::attachment::has_attachment_params(&self.input_schema),
            output_files: OutputFiles::of(&self.output_schema),
        })
    }

    /// Whether some parameter is an attachment (by input schema).
    pub(crate) fn has_attachment_params(&self) -> bool {
        self.schema_traits().attachment_params
    }

    /// Whether the result carries files (by output schema).
    pub(crate) fn output_files(&self) -> OutputFiles {
        self.schema_traits().output_files
    }

    /// Validates arguments against the input schema.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t")
    ///     .input_schema(serde_json::json!({"type": "object", "required": ["x"]}))
    ///     .handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// assert!(spec.validate_input(&serde_json::json!({})).is_err());
    /// assert!(spec.validate_input(&serde_json::json!({"x": 1})).is_ok());
    /// ```
    pub fn validate_input(&self, args: &Value) -> Result<()> {
        let validator = self
            .input_validator
            .get_or_init(|| schema::Validator::new(&self.input_schema))
            .as_ref()
            .map_err(|m| Error::InvalidSpec { name: self.name.to_string(), message: m.clone() })?;
        validator
            .validate(args)
            .map_err(|message| Error::InvalidArguments { name: self.name.to_string(), message })
    }

    /// Validates a result against the output schema and the output type. Returns the problem as
    /// text meant for the model.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let spec = WorkerSpecBuilder::new("w").prompt("Pick").output_schema(serde_json::json!({"enum": ["a", "b"]}))
    ///     .build().unwrap();
    /// assert!(spec.validate_output(&serde_json::json!("c")).is_err());
    /// assert!(spec.validate_output(&serde_json::json!("a")).is_ok());
    /// ```
    pub fn validate_output(&self, value: &Value) -> std::result::Result<(), String> {
        let validator = self
            .output_validator
            .get_or_init(|| schema::Validator::new(&self.output_schema))
            .as_ref()
            .map_err(|m| format!("the output schema itself is invalid: {m}"))?;
        validator.validate(value)?;
        if let Some(check) = self.output_check {
            check(value)?;
        }
        Ok(())
    }
}

/// A worker's prompt, model and loop settings.
///
/// ```
/// # use llm_do_core::WorkerSpecBuilder;
/// let spec = WorkerSpecBuilder::new("w").prompt("Hi").max_turns(3).build().unwrap();
/// assert_eq!(spec.worker().unwrap().max_turns, 3);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// The user-message template; `{param}` placeholders are replaced by the arguments.
    pub prompt: Template,
    /// The system prompt; defaults to the worker's description.
    pub system: Option<String>,
    /// The model, parsed from `provider:name` when the spec was built, or `None` to use the
    /// runtime's default model.
    pub model: Option<ModelRef>,
    /// Tools (and workers) the model may call, resolved by name at call time.
    pub tools: Vec<ToolSource>,
    /// Sampling settings.
    pub settings: ModelSettings,
    /// Most model requests for one call of this worker.
    pub max_turns: u32,
    /// How many times an invalid final answer is sent back for correction.
    pub output_retries: u32,
}

impl fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("prompt", &self.prompt.source())
            .field("system", &self.system)
            .field("model", &self.model)
            .field("tools", &self.tools.iter().map(ToolSource::name).collect::<Vec<_>>())
            .field("settings", &self.settings)
            .field("max_turns", &self.max_turns)
            .field("output_retries", &self.output_retries)
            .finish()
    }
}

/// A tool a worker may call.
///
/// Either way the tool is looked up by name in the runtime's registry first (late binding), so a
/// registered replacement wins; a [`ToolSource::Spec`] falls back to its own definition when the
/// name is not registered.
///
/// ```
/// # use llm_do_core::spec::ToolSource;
/// assert_eq!(ToolSource::Name("search".into()).name(), "search");
/// ```
#[derive(Clone)]
pub enum ToolSource {
    /// A compiled tool or worker (what `tools = [my_tool]` produces).
    Spec(SpecRef),
    /// A name to be found in the registry at call time.
    Name(String),
}

impl ToolSource {
    /// The tool's name.
    ///
    /// ```
    /// # use llm_do_core::spec::ToolSource;
    /// assert_eq!(ToolSource::Name("x".into()).name(), "x");
    /// ```
    pub fn name(&self) -> String {
        match self {
            ToolSource::Spec(f) => f().name().to_owned(),
            ToolSource::Name(n) => n.clone(),
        }
    }
}

/// The input schema of a spec that declares none: any object.
fn any_object_schema() -> Value {
    serde_json::json!({"type": "object"})
}

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
    handler: Option<Handler>,
}

impl ToolSpecBuilder {
    /// Starts a tool named `name` with no arguments and an unconstrained result.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let b = ToolSpecBuilder::new("t");
    /// # let _ = b;
    /// ```
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            input_schema: None,
            output_schema: None,
            approval: None,
            canonical_args: None,
            handler: None,
        }
    }

    /// Sets the description shown to calling models.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let b = ToolSpecBuilder::new("t").description("Does t.");
    /// # let _ = b;
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
    /// # use llm_do_core::ToolSpecBuilder;
    /// let b = ToolSpecBuilder::new("t").input_schema(serde_json::json!({"type": "object"}));
    /// # let _ = b;
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
    /// let b = ToolSpecBuilder::new("t").output_schema(serde_json::json!({"type": "string"}));
    /// # let _ = b;
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
    /// let b = ToolSpecBuilder::new("t").approval(Verdict::Deny);
    /// # let _ = b;
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
    /// let b = ToolSpecBuilder::new("t").canonical_args(|args| Ok(args.clone()));
    /// # let _ = b;
    /// ```
    pub fn canonical_args<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> std::result::Result<Value, String> + Send + Sync + 'static,
    {
        self.canonical_args = Some(Arc::new(f));
        self
    }

    /// Sets the body.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let b = ToolSpecBuilder::new("t").handler(|_ctx, args| async move { Ok(args) });
    /// # let _ = b;
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
        Arc::new(CallableSpec {
            name: self.name,
            description: self.description,
            input_schema: self.input_schema.unwrap_or_else(any_object_schema),
            output_schema: self.output_schema.unwrap_or_else(|| Value::Object(Default::default())),
            output_check: None,
            approval: self.approval,
            canonical_args: self.canonical_args,
            body: Body::Tool(handler),
            input_validator: OnceLock::new(),
            output_validator: OnceLock::new(),
            output_mode: OnceLock::new(),
            tools: RuntimeCache::default(),
            model: RuntimeCache::default(),
            schema_traits: OnceLock::new(),
        })
    }
}

/// Builds the spec of an LLM-backed worker.
///
/// ```
/// use llm_do_core::WorkerSpecBuilder;
/// let spec = WorkerSpecBuilder::new("greeter")
///     .description("Greets someone.")
///     .prompt("Greet {name} warmly.")
///     .input_schema(serde_json::json!({
///         "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]
///     }))
///     .model("openai:gpt-4o-mini")
///     .temperature(0.7)
///     .build()
///     .unwrap();
/// assert_eq!(spec.worker().unwrap().model.as_ref().unwrap().to_string(), "openai:gpt-4o-mini");
/// ```
#[must_use]
pub struct WorkerSpecBuilder {
    name: Arc<str>,
    description: String,
    input_schema: Value,
    output_schema: Value,
    output_check: Option<OutputCheck>,
    approval: Option<Verdict>,
    prompt: Option<String>,
    model: Option<String>,
    config: WorkerConfig,
}

impl WorkerSpecBuilder {
    /// Starts a worker named `name` with text output and default settings.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// assert!(WorkerSpecBuilder::new("w").build().is_err(), "a prompt is required");
    /// ```
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            input_schema: any_object_schema(),
            output_schema: schema::schema_for::<String>(),
            output_check: None,
            approval: None,
            prompt: None,
            model: None,
            config: WorkerConfig {
                prompt: Template::literal(""),
                system: None,
                model: None,
                tools: Vec::new(),
                settings: ModelSettings::default(),
                max_turns: DEFAULT_MAX_TURNS,
                output_retries: DEFAULT_OUTPUT_RETRIES,
            },
        }
    }

    /// Sets the description shown to calling models (and, by default, the system prompt).
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").description("Does w.").prompt("go").build().unwrap();
    /// assert_eq!(s.description(), "Does w.");
    /// ```
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the user-message template (required).
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// assert!(WorkerSpecBuilder::new("w").prompt("Hi {").build().is_err());
    /// ```
    pub fn prompt(mut self, template: impl Into<String>) -> Self {
        self.prompt = Some(template.into());
        self
    }

    /// Sets the system prompt (default: the description).
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").system("Be brief.").build().unwrap();
    /// assert_eq!(s.worker().unwrap().system.as_deref(), Some("Be brief."));
    /// ```
    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.config.system = Some(system.into());
        self
    }

    /// Sets the model, `provider:name`; [`build`](Self::build) parses it and fails with
    /// [`Error::InvalidModel`] when it is malformed.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").model("openai:gpt-4o").build().unwrap();
    /// assert_eq!(s.worker().unwrap().model.as_ref().unwrap().provider(), "openai");
    /// let bad = WorkerSpecBuilder::new("w").prompt("go").model("gpt-4o").build();
    /// assert!(matches!(bad, Err(llm_do_core::Error::InvalidModel { .. })));
    /// ```
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Adds a compiled tool or worker (its `spec` function).
    ///
    /// ```
    /// # use llm_do_core::{CallableSpec, ToolSpecBuilder, WorkerSpecBuilder};
    /// # use std::sync::Arc;
    /// fn now() -> Arc<CallableSpec> {
    ///     ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::json!(0)) }).build()
    /// }
    /// let s = WorkerSpecBuilder::new("w").prompt("go").tool(now).build().unwrap();
    /// assert_eq!(s.worker().unwrap().tools[0].name(), "now");
    /// ```
    pub fn tool(mut self, spec: SpecRef) -> Self {
        self.config.tools.push(ToolSource::Spec(spec));
        self
    }

    /// Adds a tool by name, resolved in the registry when the worker runs. A name ending in
    /// `*` (`orders__*`) adds every callable whose name starts with the rest, including those
    /// of the registry's [sources](crate::CallableSource) as they are when the worker runs.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").tool_name("search").build().unwrap();
    /// assert_eq!(s.worker().unwrap().tools[0].name(), "search");
    /// ```
    pub fn tool_name(mut self, name: impl Into<String>) -> Self {
        self.config.tools.push(ToolSource::Name(name.into()));
        self
    }

    /// Sets the approval verdict used when a model calls this worker and no policy rule matches.
    ///
    /// ```
    /// # use llm_do_core::{WorkerSpecBuilder, approval::Verdict};
    /// let s = WorkerSpecBuilder::new("w").prompt("go").approval(Verdict::Ask).build().unwrap();
    /// assert_eq!(s.approval(), Some(Verdict::Ask));
    /// ```
    pub fn approval(mut self, verdict: Verdict) -> Self {
        self.approval = Some(verdict);
        self
    }

    /// Sets the sampling temperature.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").temperature(0.0).build().unwrap();
    /// assert_eq!(s.worker().unwrap().settings.temperature, Some(0.0));
    /// ```
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.config.settings.temperature = Some(temperature);
        self
    }

    /// Sets nucleus sampling.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").top_p(0.9).build().unwrap();
    /// assert_eq!(s.worker().unwrap().settings.top_p, Some(0.9));
    /// ```
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.config.settings.top_p = Some(top_p);
        self
    }

    /// Sets the most tokens one model answer may have.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").max_tokens(64).build().unwrap();
    /// assert_eq!(s.worker().unwrap().settings.max_tokens, Some(64));
    /// ```
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.config.settings.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the sampling seed, where the provider supports one.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").seed(7).build().unwrap();
    /// assert_eq!(s.worker().unwrap().settings.seed, Some(7));
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.settings.seed = Some(seed);
        self
    }

    /// Sets all sampling settings.
    ///
    /// ```
    /// # use llm_do_core::{ModelSettings, WorkerSpecBuilder};
    /// let s = WorkerSpecBuilder::new("w").prompt("go")
    ///     .settings(ModelSettings { seed: Some(1), ..Default::default() }).build().unwrap();
    /// assert_eq!(s.worker().unwrap().settings.seed, Some(1));
    /// ```
    pub fn settings(mut self, settings: ModelSettings) -> Self {
        self.config.settings = settings;
        self
    }

    /// Sets the most model requests per call (default 20).
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").max_turns(2).build().unwrap();
    /// assert_eq!(s.worker().unwrap().max_turns, 2);
    /// ```
    pub fn max_turns(mut self, max_turns: u32) -> Self {
        self.config.max_turns = max_turns;
        self
    }

    /// Sets how often an invalid final answer is sent back for correction (default 2).
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go").output_retries(0).build().unwrap();
    /// assert_eq!(s.worker().unwrap().output_retries, 0);
    /// ```
    pub fn output_retries(mut self, retries: u32) -> Self {
        self.config.output_retries = retries;
        self
    }

    /// Derives the input schema from an arguments struct.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// #[derive(schemars::JsonSchema)]
    /// struct Args { ticket: String }
    /// let s = WorkerSpecBuilder::new("w").prompt("{ticket}").input::<Args>().build().unwrap();
    /// assert_eq!(s.input_schema()["properties"]["ticket"]["type"], "string");
    /// ```
    pub fn input<A: schemars::JsonSchema>(mut self) -> Self {
        self.input_schema = schema::input_schema_for::<A>();
        self
    }

    /// Sets the input schema directly (an object schema).
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go")
    ///     .input_schema(serde_json::json!({"type": "object"})).build().unwrap();
    /// assert_eq!(s.input_schema()["type"], "object");
    /// ```
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// Derives the output schema from the result type, and checks every final answer converts to
    /// it.
    ///
    /// ```
    /// # use llm_do_core::{OutputMode, WorkerSpecBuilder};
    /// let s = WorkerSpecBuilder::new("w").prompt("go").output::<u8>().build().unwrap();
    /// assert!(matches!(s.output_mode(), OutputMode::Json { .. }));
    /// assert!(s.validate_output(&serde_json::json!(300)).is_err());
    /// ```
    pub fn output<T: schemars::JsonSchema + DeserializeOwned + Serialize>(mut self) -> Self {
        self.output_schema = schema::schema_for::<T>();
        self.output_check = Some(|v| T::deserialize(v).map(drop).map_err(|e| e.to_string()));
        self
    }

    /// Sets the output schema directly.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// let s = WorkerSpecBuilder::new("w").prompt("go")
    ///     .output_schema(serde_json::json!({"type": "integer"})).build().unwrap();
    /// assert_eq!(s.output_schema()["type"], "integer");
    /// ```
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = schema;
        self.output_check = None;
        self
    }

    /// Finishes the spec; fails when the prompt is missing or its template is malformed.
    ///
    /// ```
    /// # use llm_do_core::WorkerSpecBuilder;
    /// assert!(WorkerSpecBuilder::new("w").prompt("Hi {name}").build().is_ok());
    /// ```
    pub fn build(mut self) -> Result<Arc<CallableSpec>> {
        let invalid = |message: String| Error::InvalidSpec { name: self.name.to_string(), message };
        let source =
            self.prompt.clone().ok_or_else(|| invalid("a worker needs a prompt".into()))?;
        self.config.prompt = Template::parse(&source).map_err(|e| invalid(e.to_string()))?;
        if let Some(model) = &self.model {
            self.config.model = Some(ModelRef::parse(model)?);
        }
        Ok(Arc::new(CallableSpec {
            name: self.name,
            description: self.description,
            input_schema: self.input_schema,
            output_schema: self.output_schema,
            output_check: self.output_check,
            approval: self.approval,
            canonical_args: None,
            body: Body::Worker(self.config),
            input_validator: OnceLock::new(),
            output_validator: OnceLock::new(),
            output_mode: OnceLock::new(),
            tools: RuntimeCache::default(),
            model: RuntimeCache::default(),
            schema_traits: OnceLock::new(),
        }))
    }
}
