//! [`AgreementReport`]: a candidate implementation replayed on a worker's observed inputs.

use super::source::Observation;
use llm_do_core::Ctx;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;

/// One observed input, what the worker answered and what the candidate answers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Case {
    /// The worker's arguments.
    pub input: Value,
    /// What the worker returned.
    pub observed: Value,
    /// What the candidate returned, or why it failed.
    pub candidate: Result<Value, String>,
    /// Where the observation came from.
    pub origin: String,
}

impl Case {
    /// `true` when the candidate returned exactly the observed output.
    pub fn agrees(&self) -> bool {
        self.candidate.as_ref() == Ok(&self.observed)
    }
}

/// How often a candidate agrees with a worker's observed outputs. `Display` renders a summary
/// line and a Markdown table of the disagreeing cases.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgreementReport {
    /// The candidate's name.
    pub candidate: String,
    /// The worker's name.
    pub worker: String,
    /// Every case, in observation order.
    pub cases: Vec<Case>,
}

/// `value` converted to `I`; for an arguments object with one field, the field's value is
/// tried too, so that `|ticket: String| ...` works for a worker taking `ticket`.
fn convert_input<I: DeserializeOwned>(value: &Value) -> Result<I, String> {
    match I::deserialize(value) {
        Ok(v) => Ok(v),
        Err(e) => match value.as_object() {
            Some(map) if map.len() == 1 => {
                map.values().next().map(I::deserialize).and_then(Result::ok).ok_or_else(|| {
                    format!("the input does not convert to the candidate's type: {e}")
                })
            }
            _ => Err(format!("the input does not convert to the candidate's type: {e}")),
        },
    }
}

impl AgreementReport {
    /// Replays the observations against a Rust function.
    ///
    /// ```
    /// use llm_do::testing::hardening::AgreementReport;
    /// use llm_do::testing::hardening::Observation;
    /// use serde_json::json;
    /// let seen = [
    ///     Observation::new(json!({"text": "abc"}), json!(3), "events #1"),
    ///     Observation::new(json!({"text": "héllo"}), json!(5), "events #2"),
    /// ];
    /// // A one-field arguments object converts to that field's type.
    /// let report = AgreementReport::of_fn("len", "count", &seen, |text: String| text.len());
    /// assert_eq!(report.agreed(), 1);   // `len` counts bytes: "héllo" is 6
    /// assert_eq!(report.disagreements().next().unwrap().origin, "events #2");
    /// ```
    pub fn of_fn<I, O>(
        candidate: &str,
        worker: &str,
        observations: &[Observation],
        f: impl Fn(I) -> O,
    ) -> Self
    where
        I: DeserializeOwned,
        O: Serialize,
    {
        let cases = observations
            .iter()
            .map(|o| {
                let result = convert_input::<I>(&o.input).and_then(|input| {
                    serde_json::to_value(f(input))
                        .map_err(|e| format!("the candidate's output is not JSON: {e}"))
                });
                case(o, result)
            })
            .collect();
        Self { candidate: candidate.to_owned(), worker: worker.to_owned(), cases }
    }

    /// Replays the observations against a tool (or anything callable) registered under
    /// `tool` in `ctx`'s runtime, one call at a time.
    ///
    /// ```
    /// use llm_do::prelude::*;
    /// use llm_do::testing::hardening::AgreementReport;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let ctx = Runtime::builder().build().ctx();
    /// let report = AgreementReport::of_tool(&ctx, "rules", "classify", &[]).await;
    /// assert!(report.cases.is_empty());
    /// # }
    /// ```
    pub async fn of_tool(
        ctx: &Ctx,
        tool: &str,
        worker: &str,
        observations: &[Observation],
    ) -> Self {
        let mut cases = Vec::with_capacity(observations.len());
        for o in observations {
            let result = ctx.call_value(tool, o.input.clone()).await.map_err(|e| e.to_string());
            cases.push(case(o, result));
        }
        Self { candidate: tool.to_owned(), worker: worker.to_owned(), cases }
    }

    /// Cases where the candidate returned the observed output.
    pub fn agreed(&self) -> usize {
        self.cases.iter().filter(|c| c.agrees()).count()
    }

    /// Share of agreeing cases; 0.0 when there are none (no evidence is no agreement, so a
    /// gate such as `agreement_rate() >= 0.95` does not pass on an empty log).
    ///
    /// ```
    /// # use llm_do_testing::hardening::AgreementReport;
    /// let empty = AgreementReport::of_fn("rules", "classify", &[], |s: String| s.len());
    /// assert_eq!(empty.agreement_rate(), 0.0);
    /// assert!(empty.to_string().contains("no observed calls"));
    /// ```
    pub fn agreement_rate(&self) -> f64 {
        if self.cases.is_empty() { 0.0 } else { self.agreed() as f64 / self.cases.len() as f64 }
    }

    /// The cases where the candidate differs from the worker.
    pub fn disagreements(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(|c| !c.agrees())
    }
}

fn case(o: &Observation, candidate: Result<Value, String>) -> Case {
    Case { input: o.input.clone(), observed: o.output.clone(), candidate, origin: o.origin.clone() }
}

/// A value for a Markdown table cell: compact JSON, `|` escaped, newlines flattened, cut.
fn cell(text: &str) -> String {
    let flat = text.replace('|', "\\|").replace('\n', " ");
    if flat.chars().count() > 80 {
        let head: String = flat.chars().take(80).collect();
        format!("{head}…")
    } else {
        flat
    }
}

fn show_input(input: &Value) -> String {
    match input.as_object() {
        Some(map) if map.len() == 1 => {
            map.values().next().map(Value::to_string).unwrap_or_default()
        }
        _ => input.to_string(),
    }
}

impl fmt::Display for AgreementReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cases.is_empty() {
            return write!(
                f,
                "`{}` was compared with worker `{}` on no observed calls: no evidence of agreement",
                self.candidate, self.worker
            );
        }
        write!(
            f,
            "`{}` agrees with worker `{}` on {} of {} observed calls ({:.1}%)",
            self.candidate,
            self.worker,
            self.agreed(),
            self.cases.len(),
            self.agreement_rate() * 100.0
        )?;
        let disagreements: Vec<(usize, &Case)> =
            self.cases.iter().enumerate().filter(|(_, c)| !c.agrees()).collect();
        if disagreements.is_empty() {
            return Ok(());
        }
        write!(f, "\n\n| # | input | worker | {} | observed in |", cell(&self.candidate))?;
        write!(
            f,
            "\n|---|-------|--------|{}|-------------|",
            "-".repeat(self.candidate.len() + 2)
        )?;
        for (i, c) in disagreements {
            let candidate = match &c.candidate {
                Ok(v) => v.to_string(),
                Err(e) => format!("error: {e}"),
            };
            write!(
                f,
                "\n| {} | {} | {} | {} | {} |",
                i + 1,
                cell(&show_input(&c.input)),
                cell(&c.observed.to_string()),
                cell(&candidate),
                cell(&c.origin)
            )?;
        }
        Ok(())
    }
}
