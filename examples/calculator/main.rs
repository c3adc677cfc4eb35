//! Calculator: an LLM worker with four deterministic Rust math tools answers
//! "What is the factorial of 7 plus fib(10)?".
//!
//! ```text
//! cargo run -p llm-do-examples --example calculator [-- "question"]
//! ```
//!
//! The worker names no model, so `main` runs it on the default setup: the embedded local model
//! `local:smollm2` when nothing is configured (see the `hello` example). Every number the model
//! gets comes from an exact Rust tool through the runtime (schemas, dispatch, the events printed
//! below, usage accounting). The 135M model picks tools and arguments for the terms of the
//! question (in the recorded run: `factorial(7)`, `fib(10)`, then `fib(9)` and `factorial(10)`),
//! but it does not combine the results: its final answer is poor (empty, in that run). Set
//! `LLM_DO_MODEL` to run the loop on a bigger model.
//!
//! The tests check the tools by equality, the loop's plumbing on a scripted stand-in for the
//! LLM, and replay a run of `local:smollm2` recorded in `calculator/cassettes/` (re-record with
//! `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example calculator`).

use llm_do::prelude::*;
use llm_do::{EventPrinter, RuntimeBuilder};

/// The question `main` asks when none is given.
const DEFAULT_QUESTION: &str = "What is the factorial of 7 plus fib(10)?";

/// The factorial of `n` (n ≤ 20).
#[tool]
async fn factorial(
    /** a whole number from 0 to 20 */
    n: u64,
) -> Result<u64> {
    if n > 20 {
        return Err(Error::msg(format!("factorial({n}) does not fit in 64 bits; use n ≤ 20")));
    }
    Ok((1..=n).product())
}

/// The `n`-th Fibonacci number (fib(0) = 0, fib(1) = 1; n ≤ 93).
#[tool]
async fn fib(
    /** index, from 0 to 93 */
    n: u64,
) -> Result<u64> {
    if n > 93 {
        return Err(Error::msg(format!("fib({n}) does not fit in 64 bits; use n ≤ 93")));
    }
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b)); // b runs one step ahead and may wrap; a never does
    }
    Ok(a)
}

/// The sum of two integers.
#[tool]
async fn add(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b).ok_or_else(|| Error::msg("the sum overflows 64 bits"))
}

/// The product of two integers.
#[tool]
async fn multiply(a: i64, b: i64) -> Result<i64> {
    a.checked_mul(b).ok_or_else(|| Error::msg("the product overflows 64 bits"))
}

/// Answers arithmetic questions using exact tools instead of mental arithmetic.
#[worker(
    system = "You are a calculator that never computes in its head. Work one step at a time: call factorial or fib once for each such term of the question, then call add or multiply on their results, then call final_answer with one sentence stating the last result.",
    prompt = "Question: {question}",
    max_turns = 8,
    tools = [factorial, fib, add, multiply],
    temperature = 0.0
)]
async fn calculator(ctx: &Ctx, question: String) -> Result<String>;

/// The example's runtime on `builder` (which brings the model and subscribers).
fn runtime(builder: RuntimeBuilder) -> Runtime {
    builder.register(calculator::spec()).build()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let question = std::env::args().nth(1).unwrap_or_else(|| DEFAULT_QUESTION.to_owned());
    let rt = runtime(Runtime::builder().subscribe(EventPrinter::stderr()).with_default_providers());
    let ctx = rt.ctx();
    let answer = calculator(&ctx, question).await?;
    println!("{answer}");
    eprintln!("usage: {} model requests", ctx.usage().requests);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{EventKind, EventLog, Message, ModelRequest, ToolResult};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[test]
    fn the_reference_used_below_is_right() {
        assert_eq!(correct("factorial", &json!({"n": 7})).as_deref(), Some("5040"));
        assert_eq!(correct("fib", &json!({"n": 10})).as_deref(), Some("55"));
        assert_eq!(correct("add", &json!({"a": 5040, "b": 55})).as_deref(), Some("5095"));
        assert_eq!(correct("factorial", &json!({"n": 21})), None);
        assert_eq!(correct("fib", &json!({"n": 94})), None);
    }

    #[test]
    fn tools_are_exact() {
        assert_eq!(block_on(factorial(7)).unwrap(), 5040);
        assert_eq!(block_on(factorial(0)).unwrap(), 1);
        assert_eq!(block_on(fib(10)).unwrap(), 55);
        assert_eq!(block_on(fib(93)).unwrap(), 12_200_160_415_121_876_738);
        assert!(block_on(factorial(21)).is_err());
        assert!(block_on(fib(94)).is_err());
        assert!(block_on(add(i64::MAX, 1)).is_err());
        assert_eq!(block_on(multiply(6, 7)).unwrap(), 42);
    }

    /// Numbers after "factorial of" and "fib(" in the question, in the simple phrasing the
    /// stand-in understands.
    fn parse_question(question: &str) -> Option<(u64, u64)> {
        let q = question.to_lowercase();
        let after = |marker: &str| -> Option<u64> {
            let rest = &q[q.find(marker)? + marker.len()..];
            let digits: String =
                rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        Some((after("factorial of")?, after("fib(")?))
    }

    /// A scripted stand-in for the LLM: decides the next step from the conversation so far.
    fn planner() -> ScriptedModel {
        ScriptedModel::new(|req: &ModelRequest| {
            let question = req.messages.iter().find_map(|m| match m {
                Message::User { content } => Some(content.clone()),
                _ => None,
            });
            let results: Vec<(String, String)> = req
                .messages
                .iter()
                .filter_map(|m| match m {
                    Message::Tool(r) if !r.is_error => Some((r.name.clone(), r.content.clone())),
                    _ => None,
                })
                .collect();
            let Some((f, n)) = question.as_deref().and_then(parse_question) else {
                return Ok(Reply::text(
                    "I can only answer questions like \"factorial of 7 plus fib(10)\".",
                ));
            };
            let result_of =
                |name: &str| results.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            Ok(match (result_of("factorial"), result_of("fib"), result_of("add")) {
                (None, _, _) | (_, None, _) => {
                    Reply::tool_calls([("factorial", json!({"n": f})), ("fib", json!({"n": n}))])
                }
                (Some(a), Some(b), None) => {
                    let a: i64 = a.parse().unwrap_or_default();
                    let b: i64 = b.parse().unwrap_or_default();
                    Reply::tool_call("add", json!({"a": a, "b": b}))
                }
                (Some(a), Some(b), Some(sum)) => Reply::text(format!(
                    "factorial({f}) = {a} and fib({n}) = {b}, so the answer is {sum}."
                )),
            })
        })
    }

    fn run_scripted(question: &str) -> (String, llm_do::Usage) {
        let rt = runtime(Runtime::builder().model_override(planner()).ignore_env());
        let ctx = rt.ctx();
        let answer = block_on(calculator(&ctx, question.to_owned())).unwrap();
        (answer, ctx.usage())
    }

    #[test]
    fn the_worker_computes_with_its_tools() {
        let (answer, usage) = run_scripted("factorial of 7 plus fib(10)");
        assert_eq!(answer, "factorial(7) = 5040 and fib(10) = 55, so the answer is 5095.");
        assert_eq!(usage.requests, 3);
        let (other, _) = run_scripted("factorial of 5 plus fib(20)");
        assert!(other.ends_with("the answer is 6885."), "{other}");
    }

    /// The correct result of tool `name` on `arguments`, computed independently of the tools
    /// (in 128 bits); `None` when the tool must refuse (the result does not fit in 64 bits).
    fn correct(name: &str, arguments: &serde_json::Value) -> Option<String> {
        let n = || arguments["n"].as_u64().map(u128::from);
        let a = arguments["a"].as_i64().map(i128::from);
        let b = arguments["b"].as_i64().map(i128::from);
        let value: i128 = match name {
            "factorial" => (1..=n()?).try_fold(1u128, |p, k| p.checked_mul(k))?.try_into().ok()?,
            "fib" => {
                let (mut x, mut y) = (0u128, 1u128);
                for _ in 0..n()?.min(200) {
                    (x, y) = (y, x.checked_add(y)?);
                }
                x.try_into().ok()?
            }
            "add" => a? + b?,
            "multiply" => a? * b?,
            _ => return None,
        };
        let fits = if matches!(name, "factorial" | "fib") {
            u64::try_from(value).is_ok()
        } else {
            i64::try_from(value).is_ok()
        };
        fits.then(|| value.to_string())
    }

    // A run of `main`'s question on the embedded model, recorded in
    // `calculator/cassettes/question.json` and replayed offline. Re-record with
    // `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example calculator`.
    #[test]
    fn the_recorded_model_gets_exact_results_for_every_call() {
        let model = llm_do_examples::cassettes::recorded("calculator/cassettes/question.json");
        let log = EventLog::new();
        let rt = runtime(
            llm_do_examples::cassettes::builder(&model).subscribe(log.clone()).ignore_env(),
        );
        let ctx = rt.ctx();
        let answer = block_on(calculator(&ctx, DEFAULT_QUESTION.to_owned()));
        llm_do_examples::cassettes::assert_replayed(&model, "calculator/cassettes/question.json");
        // The run completed with a text answer (its content is the tiny model's business).
        let answer = answer.unwrap();
        println!("answer: {answer:?}");

        let events = log.events();
        let calls: Vec<llm_do::ToolCall> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ToolCall { call } => Some(call.clone()),
                _ => None,
            })
            .collect();
        let results: Vec<ToolResult> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ToolResult { result } => Some(result.clone()),
                _ => None,
            })
            .collect();
        // The model did use the tools, and one of them on a term of the question.
        assert!(!calls.is_empty(), "the model called no tool");
        assert!(calls.iter().any(|c| c.name == "factorial" || c.name == "fib"), "{calls:?}");
        assert_eq!(results.len(), calls.len(), "every call got a result");
        for call in &calls {
            // Grammar-constrained, so schema-valid: the tool ran (no argument error).
            let arguments = call.parse_arguments().expect("arguments are JSON");
            let result = results.iter().find(|r| r.tool_call_id == call.id).expect("a result");
            assert_eq!(result.name, call.name);
            match correct(&call.name, &arguments) {
                Some(value) => {
                    assert!(!result.is_error, "{call:?}: {}", result.content);
                    assert_eq!(result.content, value, "{call:?}");
                }
                None => assert!(result.is_error, "{call:?} should have been refused"),
            }
        }
        // The local model makes one call per turn: a request per call, then the answer.
        let usage = ctx.usage();
        assert_eq!(
            usage.requests as usize,
            calls.len() + 1,
            "one request per call, then the answer"
        );
    }
}
