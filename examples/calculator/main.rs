//! Calculator: an LLM worker with four deterministic Rust math tools answers
//! "What is the factorial of 7 plus fib(10)?".
//!
//! ```text
//! cargo run --example calculator [-- "question"]
//! ```
//!
//! Until the embedded local model lands, the worker runs on `planner`, a scripted in-process
//! stand-in for the LLM: it reads the question and the tool results in the conversation and
//! requests the tool calls a model would make. Every tool call still goes through the runtime:
//! the schemas, the concurrent dispatch, the events printed below and the usage accounting are
//! the real ones.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Event, EventKind, Message, ModelRequest};

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
    model = "openai:gpt-4o-mini",
    prompt = "Answer this question, using the tools for every computation: {question}",
    tools = [factorial, fib, add, multiply],
    temperature = 0.0
)]
async fn calculator(ctx: &Ctx, question: String) -> Result<String>;

/// Numbers after "factorial of" and "fib(" in the question, in the simple phrasing the
/// stand-in understands.
fn parse_question(question: &str) -> Option<(u64, u64)> {
    let q = question.to_lowercase();
    let after = |marker: &str| -> Option<u64> {
        let rest = &q[q.find(marker)? + marker.len()..];
        let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    Some((after("factorial of")?, after("fib(")?))
}

/// The scripted stand-in for the LLM: decides the next step from the conversation so far.
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

/// Prints each call and tool result as it happens (the honest boundary, made visible).
fn print_event(event: &Event) {
    let indent = "  ".repeat(event.call.depth.saturating_sub(1) as usize);
    match &event.kind {
        EventKind::CallStarted { input } => {
            eprintln!("{indent}→ {} [{}] {input}", event.call.name, event.call.kind)
        }
        EventKind::CallFinished { output: Some(out), .. } => {
            eprintln!("{indent}← {} = {out}", event.call.name)
        }
        EventKind::CallFinished { error: Some(err), .. } => {
            eprintln!("{indent}✗ {}: {err}", event.call.name)
        }
        _ => {}
    }
}

async fn run(question: String) -> Result<(String, llm_do::Usage)> {
    let rt = Runtime::builder()
        .register(calculator::spec())
        .model_override(planner())
        .subscribe(print_event)
        .build();
    let ctx = rt.ctx();
    let answer = calculator(&ctx, question).await?;
    Ok((answer, ctx.usage()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "What is the factorial of 7 plus fib(10)?".to_owned());
    eprintln!("model: scripted stand-in (no network, no API key)");
    let (answer, usage) = run(question).await?;
    println!("{answer}");
    eprintln!("usage: {} model requests", usage.requests);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_exact() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(rt.block_on(factorial(7)).unwrap(), 5040);
        assert_eq!(rt.block_on(fib(10)).unwrap(), 55);
        assert_eq!(rt.block_on(fib(93)).unwrap(), 12_200_160_415_121_876_738);
        assert!(rt.block_on(factorial(21)).is_err());
        assert!(rt.block_on(add(i64::MAX, 1)).is_err());
        assert_eq!(rt.block_on(multiply(6, 7)).unwrap(), 42);
    }

    #[test]
    fn the_worker_computes_with_its_tools() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (answer, usage) = rt.block_on(run("factorial of 7 plus fib(10)".into())).unwrap();
        assert_eq!(answer, "factorial(7) = 5040 and fib(10) = 55, so the answer is 5095.");
        assert_eq!(usage.requests, 3);
        let (other, _) = rt.block_on(run("factorial of 5 plus fib(20)".into())).unwrap();
        assert!(other.ends_with("the answer is 6885."), "{other}");
    }
}
