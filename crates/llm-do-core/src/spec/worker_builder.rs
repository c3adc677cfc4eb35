//! [`WorkerSpecBuilder`]: the spec of an LLM-backed worker.

use super::{
    Body, CallableSpec, DEFAULT_MAX_TURNS, DEFAULT_OUTPUT_RETRIES, Declared, OutputCheck, SpecRef,
    ToolSource, WorkerConfig, any_object_schema,
};
use crate::approval::Verdict;
use crate::error::{Error, Result};
use crate::model::ModelSettings;
use crate::model_ref::ModelRef;
use crate::prompt::Template;
use crate::schema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

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

    /// Sets the stop sequences of text answers ([`ModelSettings::stop`]): at most
    /// [`ModelSettings::MAX_STOP`], none empty, none longer than
    /// [`ModelSettings::MAX_STOP_BYTES`], or [`build`](Self::build) fails.
    ///
    /// ```
    /// # use llm_do_core::{Error, WorkerSpecBuilder};
    /// let s = WorkerSpecBuilder::new("w").prompt("go").stop(["\n\n"]).build().unwrap();
    /// assert_eq!(s.worker().unwrap().settings.stop, ["\n\n"]);
    /// let empty = WorkerSpecBuilder::new("w").prompt("go").stop([""]).build().unwrap_err();
    /// assert!(matches!(empty, Error::InvalidSpec { .. }), "{empty}");
    /// ```
    pub fn stop<S: Into<String>>(mut self, stops: impl IntoIterator<Item = S>) -> Self {
        self.config.settings.stop = stops.into_iter().map(Into::into).collect();
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

    /// Sets the most model requests per call (default 20; at least 1, [`build`](Self::build)
    /// refuses 0 with [`Error::InvalidSpec`]).
    ///
    /// ```
    /// # use llm_do_core::{Error, WorkerSpecBuilder};
    /// let s = WorkerSpecBuilder::new("w").prompt("go").max_turns(2).build().unwrap();
    /// assert_eq!(s.worker().unwrap().max_turns, 2);
    /// let zero = WorkerSpecBuilder::new("w").prompt("go").max_turns(0).build();
    /// assert!(matches!(zero, Err(Error::InvalidSpec { .. })));
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

    /// Finishes the spec; fails ([`Error::InvalidSpec`], or [`Error::InvalidModel`] for the
    /// model string) when the prompt is missing or its template is malformed, the stop
    /// sequences break [`stop`](Self::stop)'s rule, or `max_turns` or `max_tokens` is 0.
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
        self.config.settings.check_stop().map_err(|e| invalid(e.to_string()))?;
        // As worker files and the macro refuse them: a worker that could never answer.
        if self.config.max_turns == 0 {
            return Err(invalid(
                "`max_turns` is 0: a worker needs at least 1 model request".into(),
            ));
        }
        if self.config.settings.max_tokens == Some(0) {
            return Err(invalid("`max_tokens` is 0: an answer needs at least 1 token".into()));
        }
        Ok(Arc::new(CallableSpec::declared(Declared {
            name: self.name,
            description: self.description,
            input_schema: self.input_schema,
            output_schema: self.output_schema,
            output_check: self.output_check,
            approval: self.approval,
            // Attachment paths are resolved by the gate, through the runtime's loader.
            canonical_args: None,
            runs_canonical_args: true,
            forbidden_args: None,
            body: Body::Worker(self.config),
        })))
    }
}
