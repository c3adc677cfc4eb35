//! [`CallableSpec`]: what the runtime knows about one worker or tool, and the builders that make
//! one. The `#[worker]` and `#[tool]` macros generate calls to these builders; a program can also
//! use them directly to define workers and tools at run time (e.g. from files).
//! The builders are in `spec/tool_builder.rs` and `spec/worker_builder.rs`.
//!
//! (Over 400 lines: most of it is the doc examples of `CallableSpec`'s public methods; the
//! builders are already apart.)

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
use serde_json::Value;
use std::fmt;
use std::sync::{Arc, OnceLock};

mod tool_builder;
mod worker_builder;

pub use tool_builder::ToolSpecBuilder;
pub use worker_builder::WorkerSpecBuilder;

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
/// approval gate matches rules against the result, and the tool then runs with it — or, set
/// with [`ToolSpecBuilder::canonical_args_for_rules`], with the arguments as given. See
/// [`ToolSpecBuilder::canonical_args`].
pub type CanonicalArgs = Arc<dyn Fn(&Value) -> std::result::Result<Value, String> + Send + Sync>;

/// A tool's check of the arguments a model gives for what no approval can allow: `Some(reason)`
/// denies the call before rules or approvers are consulted. See
/// [`ToolSpecBuilder::forbidden_args`].
pub type ForbiddenArgs = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;

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
    /// Whether a call the gate lets through runs with the canonical form (else as given).
    runs_canonical_args: bool,
    forbidden_args: Option<ForbiddenArgs>,
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

/// What a builder declares of a spec; the caches a spec fills as it is used start empty
/// ([`CallableSpec::declared`]), so that a new cache is added in one place.
struct Declared {
    name: Arc<str>,
    description: String,
    input_schema: Value,
    output_schema: Value,
    output_check: Option<OutputCheck>,
    approval: Option<Verdict>,
    canonical_args: Option<CanonicalArgs>,
    runs_canonical_args: bool,
    forbidden_args: Option<ForbiddenArgs>,
    body: Body,
}

impl CallableSpec {
    /// The spec of what a builder declared, with empty caches.
    fn declared(d: Declared) -> Self {
        Self {
            name: d.name,
            description: d.description,
            input_schema: d.input_schema,
            output_schema: d.output_schema,
            output_check: d.output_check,
            approval: d.approval,
            canonical_args: d.canonical_args,
            runs_canonical_args: d.runs_canonical_args,
            forbidden_args: d.forbidden_args,
            body: d.body,
            input_validator: OnceLock::new(),
            output_validator: OnceLock::new(),
            output_mode: OnceLock::new(),
            tools: RuntimeCache::default(),
            model: RuntimeCache::default(),
            schema_traits: OnceLock::new(),
        }
    }
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

    /// The parameter a bare (non-object) argument fills: the only parameter, or the only
    /// required one when every other is optional. `None` when a call must name its arguments.
    ///
    /// ```
    /// # use llm_do_core::{CallableSpec, ToolSpecBuilder};
    /// use serde_json::json;
    /// let with = |schema| ToolSpecBuilder::new("t").input_schema(schema)
    ///     .handler(|_, _| async { Ok(serde_json::Value::Null) }).build();
    /// let one = with(json!({"type": "object", "properties": {"text": {"type": "string"}}}));
    /// assert_eq!(one.bare_parameter(), Some("text"));
    /// // `input` is the one required parameter; `attachments` may be left out.
    /// let agent = with(json!({"type": "object", "required": ["input"], "properties": {
    ///     "input": {"type": "string"}, "attachments": {"type": "array"}}}));
    /// assert_eq!(agent.bare_parameter(), Some("input"));
    /// let two = with(json!({"type": "object", "required": ["a", "b"], "properties": {
    ///     "a": {"type": "string"}, "b": {"type": "string"}}}));
    /// assert_eq!(two.bare_parameter(), None);
    /// ```
    pub fn bare_parameter(&self) -> Option<&str> {
        let properties = self.input_schema.get("properties")?.as_object()?;
        if properties.len() == 1 {
            return properties.keys().next().map(String::as_str);
        }
        let required = self.input_schema.get("required")?.as_array()?;
        match required.as_slice() {
            [one] => one.as_str().filter(|name| properties.contains_key(*name)),
            _ => None,
        }
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

    /// The arguments in the form approval rules are matched against and, unless
    /// [`runs_canonical_args`](Self::runs_canonical_args) is `false`, the tool runs with (its
    /// [`ToolSpecBuilder::canonical_args`] hook; the arguments unchanged when it has none), or
    /// why the call cannot run.
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

    /// Whether a model's call that the approval gate lets through runs with the
    /// [`canonical_args`](Self::canonical_args) form the rules matched (`true`, also without a
    /// hook) or with the arguments as the model gave them (`false`: the hook was set with
    /// [`ToolSpecBuilder::canonical_args_for_rules`]).
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let trim = |a: &serde_json::Value| Ok(serde_json::json!({"p": a["p"].as_str().unwrap_or("").trim_start_matches("./")}));
    /// assert!(ToolSpecBuilder::new("read").canonical_args(trim).build().runs_canonical_args());
    /// assert!(!ToolSpecBuilder::new("shell").canonical_args_for_rules(trim).build().runs_canonical_args());
    /// ```
    pub fn runs_canonical_args(&self) -> bool {
        self.runs_canonical_args
    }

    /// Why no approval can allow a model's call with `args` (its
    /// [`ToolSpecBuilder::forbidden_args`] check), or `None`.
    ///
    /// ```
    /// # use llm_do_core::ToolSpecBuilder;
    /// let spec = ToolSpecBuilder::new("t")
    ///     .forbidden_args(|args| args["command"].as_str()?.contains('|').then(|| "a pipe".to_owned()))
    ///     .handler(|_, a| async move { Ok(a) }).build();
    /// assert_eq!(spec.forbidden_args(&serde_json::json!({"command": "ls | wc"})).as_deref(), Some("a pipe"));
    /// assert_eq!(spec.forbidden_args(&serde_json::json!({"command": "ls"})), None);
    /// ```
    pub fn forbidden_args(&self, args: &Value) -> Option<String> {
        self.forbidden_args.as_ref().and_then(|check| check(args))
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
    /// string or `()`'s (the text is then accepted as `null`), JSON otherwise.
    ///
    /// ```
    /// # use llm_do_core::{OutputMode, WorkerSpecBuilder};
    /// let spec = WorkerSpecBuilder::new("w").prompt("Hi").build().unwrap();
    /// assert_eq!(spec.output_mode(), OutputMode::Text);
    /// ```
    pub fn output_mode(&self) -> OutputMode {
        self.output_mode
            .get_or_init(|| {
                if schema::is_text_schema(&self.output_schema)
                    || schema::is_unit_schema(&self.output_schema)
                {
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
