//! [`Sampler`]: run a worker many times and check invariants on every sample.

use super::sample_report::{Sample, SampleReport, SamplingError};
use futures::StreamExt as _;
use llm_do_core::{CallableSpec, Ctx, ModelSettings};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// The worker a [`Sampler`] runs: a registered name or a spec.
///
/// ```
/// use llm_do::testing::SampleTarget;
/// assert_eq!(SampleTarget::from("classify").name(), "classify");
/// ```
#[derive(Debug, Clone)]
pub enum SampleTarget {
    /// Called by name through the registry (late binding).
    Name(String),
    /// Called directly (e.g. `classify::spec()`).
    Spec(Arc<CallableSpec>),
}

impl SampleTarget {
    /// The worker's name.
    ///
    /// ```
    /// # use llm_do::testing::SampleTarget;
    /// assert_eq!(SampleTarget::from(String::from("w")).name(), "w");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            SampleTarget::Name(n) => n,
            SampleTarget::Spec(s) => s.name(),
        }
    }
}

impl From<&str> for SampleTarget {
    fn from(name: &str) -> Self {
        SampleTarget::Name(name.to_owned())
    }
}

impl From<String> for SampleTarget {
    fn from(name: String) -> Self {
        SampleTarget::Name(name)
    }
}

impl From<Arc<CallableSpec>> for SampleTarget {
    fn from(spec: Arc<CallableSpec>) -> Self {
        SampleTarget::Spec(spec)
    }
}

type Check<T> = Box<dyn Fn(&T) -> bool + Send + Sync>;

/// Runs a worker N times — concurrently, each sample with its own seed, optionally at a
/// given temperature — checks named invariants on every output and asserts a minimum pass
/// rate. On failure the error is a readable report: the failing samples (input, output, the
/// invariants they broke) and the distribution of outputs.
///
/// Samples are seeded `0, 1, 2, ...` by default (see [`seeds`](Self::seeds)), so a run
/// against a model that honours seeds is reproducible. Settings are applied with
/// [`Ctx::with_settings`], over the worker's own.
///
/// ```
/// use llm_do::prelude::*;
/// use llm_do::ModelRequest;
/// use llm_do::testing::{Reply, Sampler, ScriptedModel};
///
/// #[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
/// enum Category { Bug, Billing }
///
/// /// Classify a support ticket.
/// #[worker(model = "openai:gpt-4o-mini", prompt = "Classify: {ticket}")]
/// async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let model = ScriptedModel::new(|_req: &ModelRequest| Ok(Reply::json(json!("Billing"))));
/// let rt = Runtime::builder().register(classify::spec()).model_override(model).build();
/// let ctx = rt.ctx();
///
/// let report = Sampler::new(&ctx, classify::spec())
///     .input(json!({"ticket": "I was charged twice"}))
///     .runs(20)
///     .temperature(0.8)
///     .invariant("is Billing", |c: &Category| *c == Category::Billing)
///     .min_pass_rate(1.0)
///     .run()
///     .await?;
/// assert_eq!(report.passed(), 20);
/// # Ok(())
/// # }
/// ```
#[must_use = "a sampler does nothing until `run` or `sample` is awaited"]
pub struct Sampler<T> {
    ctx: Ctx,
    target: SampleTarget,
    inputs: Vec<Value>,
    runs: usize,
    temperature: Option<f32>,
    first_seed: Option<u64>,
    concurrency: usize,
    invariants: Vec<(String, Check<T>)>,
    min_pass_rate: f64,
}

impl<T: DeserializeOwned + Send + 'static> Sampler<T> {
    /// Samples `worker` (a name or a spec) in `ctx`: 10 runs, seeds from 0, 4 at a time, no
    /// invariant, a required pass rate of 100%.
    ///
    /// ```
    /// # use llm_do::prelude::*;
    /// # use llm_do::testing::Sampler;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// let ctx = Runtime::builder().build().ctx();
    /// let report = Sampler::<String>::new(&ctx, "summarize").sample().await?;
    /// assert_eq!(report.samples.len(), 10);
    /// assert_eq!(report.samples[9].seed, Some(9));
    /// assert_eq!((report.temperature, report.min_pass_rate), (None, 1.0));
    /// // No worker `summarize` is registered here: every sample failed.
    /// assert_eq!(report.passed(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(ctx: &Ctx, worker: impl Into<SampleTarget>) -> Self {
        Self {
            ctx: ctx.clone(),
            target: worker.into(),
            inputs: Vec::new(),
            runs: 10,
            temperature: None,
            first_seed: Some(0),
            concurrency: 4,
            invariants: Vec::new(),
            min_pass_rate: 1.0,
        }
    }

    /// Adds an input (the worker's arguments object). Each input is run [`runs`](Self::runs)
    /// times; without any input the worker is called with `{}`.
    pub fn input(mut self, args: impl Serialize) -> Self {
        self.inputs.push(serde_json::to_value(args).unwrap_or(Value::Null));
        self
    }

    /// Samples per input (default 10).
    pub fn runs(mut self, runs: usize) -> Self {
        self.runs = runs;
        self
    }

    /// Sampling temperature for every sample (default: the worker's own).
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Seeds samples `first, first + 1, ...` (default from 0).
    pub fn seeds(mut self, first: u64) -> Self {
        self.first_seed = Some(first);
        self
    }

    /// Leaves the seed to the worker's settings (or the provider): samples are then not
    /// reproducible.
    pub fn unseeded(mut self) -> Self {
        self.first_seed = None;
        self
    }

    /// How many samples run at the same time (default 4, at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Adds a named invariant every sample's output must satisfy. A sample whose call fails
    /// (or whose output does not convert to `T`) fails every invariant.
    pub fn invariant(
        mut self,
        name: impl Into<String>,
        check: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.invariants.push((name.into(), Box::new(check)));
        self
    }

    /// The share of samples (0.0 to 1.0) that must pass for [`run`](Self::run) to succeed
    /// (default 1.0).
    pub fn min_pass_rate(mut self, rate: f64) -> Self {
        self.min_pass_rate = rate;
        self
    }

    /// Runs every sample and returns the report, failing when the pass rate is below the
    /// minimum ([`SamplingError::BelowPassRate`], whose message is the report).
    pub async fn run(self) -> Result<SampleReport<T>, SamplingError> {
        let report = self.sample().await?;
        if report.meets_pass_rate() {
            Ok(report)
        } else {
            Err(SamplingError::BelowPassRate {
                passed: report.passed(),
                total: report.samples.len(),
                required: report.min_pass_rate,
                report: report.to_string(),
            })
        }
    }

    /// Runs every sample and returns the report without asserting anything.
    ///
    /// ```
    /// use llm_do::prelude::*;
    /// use llm_do::ModelRequest;
    /// use llm_do::testing::{Reply, Sampler, SamplingError, ScriptedModel};
    ///
    /// /// Pick a number.
    /// #[worker(model = "openai:gpt-4o-mini", prompt = "Pick a number up to {max}.")]
    /// async fn pick(ctx: &Ctx, max: u32) -> Result<u64>;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// // The model answers with the seed it was asked for.
    /// let model =
    ///     ScriptedModel::new(|req: &ModelRequest| Ok(Reply::json(json!(req.settings.seed))));
    /// let rt = Runtime::builder().model_override(model.clone()).build();
    /// let sampler = || {
    ///     Sampler::new(&rt.ctx(), pick::spec())
    ///         .input(json!({"max": 10}))
    ///         .input(json!({"max": 20}))
    ///         .runs(2)
    ///         .seeds(100)
    ///         .temperature(0.8)
    ///         .invariant("is even", |n: &u64| n % 2 == 0)
    ///         .min_pass_rate(0.9)
    /// };
    /// let report = sampler().sample().await?;
    /// // 2 inputs × 2 runs, seeded from 100, every request at temperature 0.8:
    /// let seeds: Vec<Option<u64>> = report.samples.iter().map(|s| s.seed).collect();
    /// assert_eq!(seeds, [Some(100), Some(101), Some(102), Some(103)]);
    /// assert_eq!(report.samples[2].input, json!({"max": 20}));
    /// assert!(model.requests().iter().all(|r| r.settings.temperature == Some(0.8)));
    /// assert_eq!(report.samples[1].failed, ["is even"]);
    /// // 2 of 4 passed, below the required 90%: `run` fails where `sample` does not.
    /// assert_eq!(report.passed(), 2);
    /// let err = sampler().run().await.unwrap_err();
    /// assert!(matches!(err, SamplingError::BelowPassRate { passed: 2, total: 4, .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sample(self) -> Result<SampleReport<T>, SamplingError> {
        if self.runs == 0 {
            return Err(SamplingError::Config("`runs` must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.min_pass_rate) {
            return Err(SamplingError::Config(format!(
                "`min_pass_rate` must be between 0.0 and 1.0, not {}",
                self.min_pass_rate
            )));
        }
        let inputs = if self.inputs.is_empty() {
            let none = Value::Object(Default::default());
            // A worker that takes arguments would fail every sample the same way: say so once.
            let spec = match &self.target {
                SampleTarget::Spec(spec) => Some(spec.clone()),
                SampleTarget::Name(name) => self.ctx.runtime().registry().get(name).cloned(),
            };
            if let Some(spec) = spec
                && let Err(e) = spec.validate_input(&none)
            {
                return Err(SamplingError::Config(format!(
                    "{e}: no input was given; give `{}`'s arguments with .input(..) (once per \
                     input to sample)",
                    spec.name()
                )));
            }
            vec![none]
        } else {
            self.inputs.clone()
        };
        let jobs: Vec<(usize, Value)> = inputs
            .iter()
            .flat_map(|input| std::iter::repeat_n(input.clone(), self.runs))
            .enumerate()
            .collect();
        let this = &self;
        let mut samples: Vec<Sample<T>> = futures::stream::iter(jobs)
            .map(|(index, input)| this.one(index, input))
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        samples.sort_by_key(|s| s.index);
        Ok(SampleReport {
            worker: self.target.name().to_owned(),
            invariants: self.invariants.iter().map(|(n, _)| n.clone()).collect(),
            temperature: self.temperature,
            min_pass_rate: self.min_pass_rate,
            samples,
        })
    }

    async fn one(&self, index: usize, input: Value) -> Sample<T> {
        let seed = self.first_seed.map(|s| s.wrapping_add(index as u64));
        let ctx = self.ctx.with_settings(ModelSettings {
            temperature: self.temperature,
            seed,
            ..Default::default()
        });
        let result = match &self.target {
            SampleTarget::Name(name) => ctx.call_value(name, input.clone()).await,
            SampleTarget::Spec(spec) => ctx.call_spec(spec, input.clone()).await,
        };
        let mut sample = Sample {
            index,
            input,
            seed,
            output: None,
            value: None,
            error: None,
            failed: Vec::new(),
        };
        match result {
            Err(e) => sample.error = Some(e.to_string()),
            Ok(output) => {
                match T::deserialize(&output) {
                    Ok(value) => {
                        sample.failed = self
                            .invariants
                            .iter()
                            .filter(|(_, check)| !check(&value))
                            .map(|(name, _)| name.clone())
                            .collect();
                        sample.value = Some(value);
                    }
                    Err(e) => {
                        sample.error =
                            Some(format!("the output does not convert to the sampled type: {e}"))
                    }
                }
                sample.output = Some(output);
            }
        }
        sample
    }
}
