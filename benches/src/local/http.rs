//! Bench 5 over HTTP: the same generations streamed from an OpenAI-compatible server, either
//! `llm-do serve` or llama.cpp's server (llama-cpp-python), measured the same way.

use super::{Args, Generation, PROMPT, SEED, Server, Untimed, schema, system_prompt};
use anyhow::{Context, Result, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The request body of generation number `n` (`structured`: under the JSON Schema).
fn body(args: &Args, structured: bool, n: usize, stream: bool) -> Value {
    let mut body = json!({
        "model": "smollm2",
        "messages": [
            {"role": "system", "content": system_prompt(n)},
            {"role": "user", "content": PROMPT},
        ],
        "max_tokens": args.max_tokens,
        "temperature": 0.0,
        "seed": SEED,
        "stream": stream,
    });
    match args.server {
        Server::LlmDo => {
            if stream {
                body["stream_options"] = json!({"include_usage": true});
            }
            if structured {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": "Story", "schema": schema()},
                });
            }
        }
        Server::LlamaCpp => {
            // Plain greedy decoding, as ours: llama-cpp-python's server applies a repeat
            // penalty of 1.1 unless told otherwise. It takes the schema in its own shape
            // (it has no `json_schema` response format) and reports no usage when streaming.
            body["repeat_penalty"] = json!(1.0);
            if structured {
                body["response_format"] = json!({"type": "json_object", "schema": schema()});
            }
        }
    }
    body
}

/// Generations `first..=first + repeats` (under the JSON Schema when `structured`): the
/// first untimed and not streamed (so that llama.cpp's server reports its usage too), then
/// the timed ones, streamed, from the request to the first content chunk and to the end of
/// the stream.
pub(super) async fn generate(
    base_url: &str,
    args: &Args,
    structured: bool,
    first: usize,
) -> Result<(Untimed, Vec<Generation>)> {
    let client = llm_do_openai::http::client();
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let name = match args.server {
        Server::LlmDo => "llm-do serve",
        Server::LlamaCpp => "llama.cpp's server",
    };
    let response = client.post(&url).json(&body(args, structured, first, false)).send().await?;
    if !response.status().is_success() {
        bail!("{name} answered {}: {}", response.status(), response.text().await?);
    }
    let answer: Value = response.json().await?;
    let untimed = Untimed {
        load: Duration::ZERO,
        prompt_tokens: answer["usage"]["prompt_tokens"].as_u64(),
        completion_tokens: answer["usage"]["completion_tokens"].as_u64(),
    };
    let mut generations = Vec::new();
    for n in first + 1..=first + args.repeats {
        let started = Instant::now();
        let response = client.post(&url).json(&body(args, structured, n, true)).send().await?;
        if !response.status().is_success() {
            bail!("{name} answered {}: {}", response.status(), response.text().await?);
        }
        let mut stream = response.bytes_stream();
        let (mut buffer, mut first_token, mut chunks, mut usage) = (Vec::new(), None, 0u64, None);
        while let Some(piece) = stream.next().await {
            buffer.extend_from_slice(&piece?);
            while let Some(end) = find_event_end(&buffer) {
                let event: Vec<u8> = buffer.drain(..end).collect();
                let text = String::from_utf8_lossy(&event);
                let Some(data) = text.trim().strip_prefix("data:") else { continue };
                let data = data.trim();
                if data == "[DONE]" {
                    continue;
                }
                let chunk: Value = serde_json::from_str(data)
                    .with_context(|| format!("{name} streamed a chunk that is not JSON: {data}"))?;
                let content = &chunk["choices"][0]["delta"]["content"];
                if content.as_str().is_some_and(|c| !c.is_empty()) {
                    chunks += 1;
                    first_token.get_or_insert_with(|| started.elapsed());
                }
                if let Some(n) = chunk["usage"]["completion_tokens"].as_u64() {
                    usage = Some(n);
                }
            }
        }
        let total = started.elapsed();
        let first_token = first_token.with_context(|| format!("{name} streamed no content"))?;
        // llama.cpp's server streams one chunk per token and reports no usage when streaming.
        let tokens = usage.unwrap_or(chunks);
        generations.push(Generation { first_token, total, tokens });
    }
    Ok((untimed, generations))
}

/// The end (exclusive) of the first complete server-sent event in `buffer`: after a blank
/// line, `\n\n` or `\r\n\r\n` (llama.cpp's server, through sse-starlette, ends lines with
/// CRLF).
fn find_event_end(buffer: &[u8]) -> Option<usize> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = buffer.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_end_at_a_blank_line_with_either_line_ending() {
        assert_eq!(find_event_end(b"data: 1\n\ndata: 2\n\n"), Some(9));
        assert_eq!(find_event_end(b"data: 1\r\n\r\ndata: 2"), Some(11));
        assert_eq!(find_event_end(b"data: 1\r\n"), None);
    }

    #[test]
    fn each_server_gets_the_schema_in_its_own_shape() {
        let mut args = Args {
            max_tokens: 8,
            repeats: 1,
            threads: None,
            base_url: None,
            server: Server::LlmDo,
        };
        let ours = body(&args, true, 3, true);
        assert_eq!(ours["response_format"]["json_schema"]["schema"], schema());
        assert_eq!(ours["stream_options"]["include_usage"], true);
        assert_eq!(ours["messages"][0]["content"], system_prompt(3));
        args.server = Server::LlamaCpp;
        let theirs = body(&args, true, 3, false);
        assert_eq!(theirs["response_format"], json!({"type": "json_object", "schema": schema()}));
        assert_eq!(theirs["repeat_penalty"], 1.0);
        assert_eq!(theirs["messages"], ours["messages"]);
        assert!(body(&args, false, 0, true).get("response_format").is_none());
    }
}
