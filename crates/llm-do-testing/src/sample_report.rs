//! What a [`Sampler`](super::Sampler) observed: [`SampleReport`], its samples and the error
//! when too few passed.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One run of the sampled worker.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Sample<T> {
    /// Position among all samples, from 0.
    pub index: usize,
    /// The arguments it was called with.
    pub input: Value,
    /// Its seed, when the sampler set one.
    pub seed: Option<u64>,
    /// The worker's output as JSON, when the call succeeded.
    pub output: Option<Value>,
    /// The output converted to the sampled type.
    pub value: Option<T>,
    /// Why the call (or the conversion of its output) failed.
    pub error: Option<String>,
    /// Names of the invariants the output broke.
    pub failed: Vec<String>,
}

impl<T> Sample<T> {
    /// `true` when the call succeeded and every invariant held.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.failed.is_empty()
    }
}

/// Every sample of a [`Sampler`](super::Sampler) run, with pass rate and output distribution.
/// `Display` renders the report a failing test prints.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SampleReport<T> {
    /// The worker's name.
    pub worker: String,
    /// The invariants' names, in the order they were added.
    pub invariants: Vec<String>,
    /// The temperature the samples ran at, when the sampler set one.
    pub temperature: Option<f32>,
    /// The required pass rate.
    pub min_pass_rate: f64,
    /// The samples, in index order.
    pub samples: Vec<Sample<T>>,
}

impl<T> SampleReport<T> {
    /// Number of samples that passed.
    pub fn passed(&self) -> usize {
        self.samples.iter().filter(|s| s.passed()).count()
    }

    /// Share of samples that passed (1.0 for no samples).
    pub fn pass_rate(&self) -> f64 {
        if self.samples.is_empty() { 1.0 } else { self.passed() as f64 / self.samples.len() as f64 }
    }

    /// `true` when the pass rate reaches the minimum.
    pub fn meets_pass_rate(&self) -> bool {
        // Compare counts, not floats: 17 of 20 meets 0.85 exactly.
        let needed = (self.min_pass_rate * self.samples.len() as f64 - 1e-9).ceil().max(0.0);
        self.passed() as f64 >= needed
    }

    /// The samples that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Sample<T>> {
        self.samples.iter().filter(|s| !s.passed())
    }

    /// The values of the successful samples.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.samples.iter().filter_map(|s| s.value.as_ref())
    }

    /// How often each distinct output occurred, most frequent first (ties by output). Outputs
    /// are compact JSON; failed calls count as `(error)`.
    pub fn distribution(&self) -> Vec<(String, usize)> {
        distribution(self.samples.iter())
    }

    /// [`distribution`](Self::distribution) per input, inputs in order of first appearance.
    pub fn distribution_by_input(&self) -> Vec<(Value, Vec<(String, usize)>)> {
        let mut inputs: Vec<&Value> = Vec::new();
        for s in &self.samples {
            if !inputs.contains(&&s.input) {
                inputs.push(&s.input);
            }
        }
        inputs
            .into_iter()
            .map(|input| {
                (input.clone(), distribution(self.samples.iter().filter(|s| &s.input == input)))
            })
            .collect()
    }
}

fn distribution<'a, T: 'a>(samples: impl Iterator<Item = &'a Sample<T>>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for s in samples {
        let key = match &s.output {
            Some(v) => v.to_string(),
            None => "(error)".to_owned(),
        };
        *counts.entry(key).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

const MAX_FAILURES_SHOWN: usize = 10;
const BAR: usize = 30;

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}…")
    }
}

impl<T> fmt::Display for SampleReport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.samples.len();
        write!(
            f,
            "sampled `{}` {total} time(s): {} passed ({:.1}%), required {:.1}%",
            self.worker,
            self.passed(),
            self.pass_rate() * 100.0,
            self.min_pass_rate * 100.0
        )?;
        let mut settings = Vec::new();
        if let Some(t) = self.temperature {
            settings.push(format!("temperature {t}"));
        }
        let seeds: Vec<u64> = self.samples.iter().filter_map(|s| s.seed).collect();
        if let (Some(lo), Some(hi)) = (seeds.iter().min(), seeds.iter().max()) {
            settings.push(format!("seeds {lo}..={hi}"));
        }
        if !settings.is_empty() {
            write!(f, "\n  {}", settings.join(", "))?;
        }
        if !self.invariants.is_empty() {
            let names: Vec<String> = self.invariants.iter().map(|n| format!("{n:?}")).collect();
            write!(f, "\n  invariants: {}", names.join(", "))?;
        }
        let failures: Vec<&Sample<T>> = self.failures().collect();
        if !failures.is_empty() {
            write!(f, "\nfailing samples:")?;
            for s in failures.iter().take(MAX_FAILURES_SHOWN) {
                let seed = s.seed.map(|x| format!(" seed={x}")).unwrap_or_default();
                write!(f, "\n  #{}{seed} input={}", s.index, shorten(&s.input.to_string(), 100))?;
                if let Some(out) = &s.output {
                    write!(f, "\n    output: {}", shorten(&out.to_string(), 200))?;
                }
                match &s.error {
                    Some(e) => write!(f, "\n    error: {}", shorten(e, 300))?,
                    None => write!(f, "\n    broke: {}", s.failed.join(", "))?,
                }
            }
            if failures.len() > MAX_FAILURES_SHOWN {
                write!(f, "\n  ... and {} more", failures.len() - MAX_FAILURES_SHOWN)?;
            }
        }
        write!(f, "\noutput distribution:")?;
        let by_input = self.distribution_by_input();
        let several = by_input.len() > 1;
        for (input, dist) in by_input {
            let indent = if several {
                write!(f, "\n  input {}:", shorten(&input.to_string(), 100))?;
                "    "
            } else {
                "  "
            };
            let max = dist.first().map_or(1, |(_, n)| *n).max(1);
            let width = dist.iter().map(|(k, _)| shorten(k, 60).chars().count()).max().unwrap_or(0);
            for (key, n) in &dist {
                let bar = "#".repeat((n * BAR).div_ceil(max));
                write!(f, "\n{indent}{:<width$}  {n:>3}  {bar}", shorten(key, 60))?;
            }
        }
        Ok(())
    }
}

/// Why a [`Sampler`](super::Sampler) run failed. `Debug` prints the same readable report as
/// `Display`, so `?` in a test shows it.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum SamplingError {
    /// Too few samples passed; `report` is the rendered [`SampleReport`].
    #[error("{report}")]
    BelowPassRate {
        /// Samples that passed.
        passed: usize,
        /// Samples run.
        total: usize,
        /// The required pass rate.
        required: f64,
        /// The report.
        report: String,
    },
    /// The sampler was configured wrongly (no runs, a pass rate outside 0..=1).
    #[error("invalid sampler configuration: {0}")]
    Config(String),
}

/// So that `?` works in a function returning `llm_do::Result`, as for every other error of a
/// run (kept whole: `Error::Other` holds it).
///
/// ```
/// # use llm_do_testing::SamplingError;
/// fn gate() -> llm_do_core::Result<()> {
///     Err(SamplingError::Config("no runs".into()))?
/// }
/// assert_eq!(gate().unwrap_err().to_string(), "invalid sampler configuration: no runs");
/// ```
impl From<SamplingError> for llm_do_core::Error {
    fn from(error: SamplingError) -> Self {
        llm_do_core::Error::other(error)
    }
}

impl fmt::Debug for SamplingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
