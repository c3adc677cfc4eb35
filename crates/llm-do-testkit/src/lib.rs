//! A real OpenAI-compatible HTTP test server on loopback, so that no test needs a network or
//! an API key.
//!
//! [`TestServer`] binds `127.0.0.1` on an ephemeral port and serves the chat completions API
//! the way OpenAI does, from a script of [`Reply`](llm_do_testing::scripted::Reply)s (the
//! vocabulary of the in-process `ScriptedModel`) or from a deterministic default behaviour. It
//! records every request and can inject faults. The same server runs standalone:
//! `llm-do-testkit serve --port P [--latency-ms N] [--script FILE]`.
//!
//! ```
//! use llm_do_testing::scripted::Reply;
//! use llm_do_testkit::{Fault, TestServer};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
//! let server = TestServer::start().await?; // default behaviour, 127.0.0.1:0
//! let server = TestServer::builder()
//!     .script([Reply::tool_call("add", json!({"a": 1, "b": 2})), Reply::text("3")])
//!     .start()
//!     .await?;
//! server.push_fault(Fault::Status { code: 429, retry_after: Some(1), message: None });
//! let api_base = server.base_url(); // "http://127.0.0.1:PORT/v1"
//! // ... run the client under test against `api_base`, then:
//! for request in server.requests() {
//!     assert_eq!(request.path, "/v1/chat/completions");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! - `POST /v1/chat/completions`: the request's `model` (any name), `messages` (`system`,
//!   `developer`, `user`, `assistant` with `tool_calls`, `tool`; content as a string or text
//!   parts), `tools` (function tools), `response_format` (`text`, `json_object`,
//!   `json_schema`), `stream` and `stream_options.include_usage` are understood; other fields
//!   are ignored. A body that is not such a request is answered with 400 and an OpenAI-style
//!   error body naming the parameter.
//!   - Without `stream`: a `chat.completion` object: `id` (`chatcmpl-N`), `object`, `created`,
//!     `model` (the reply's model if it sets one, else the request's), `system_fingerprint`,
//!     `choices[0]` with `message` (`role`, `content`, `tool_calls` with `id`, `type` and
//!     `function.name`/`function.arguments` as JSON text) and `finish_reason` (the reply's, else
//!     `tool_calls` or `stop`), and `usage` (`prompt_tokens`, `completion_tokens`,
//!     `total_tokens`).
//!   - With `"stream": true`: server-sent events, each `data: {chunk}`: a
//!     `chat.completion.chunk` whose `choices[0].delta` carries the `role` first, then the
//!     content in pieces of at most 6 characters, then each tool call (its `index`, `id`,
//!     `type` and `function.name` in its first piece, `function.arguments` in pieces after
//!     it); then a chunk with an empty delta and the `finish_reason`; then, when
//!     `stream_options.include_usage` is true, a chunk with empty `choices` and the `usage`
//!     (every other chunk then has `"usage": null`); then `data: [DONE]`. Concatenating the
//!     pieces gives exactly the non-streaming message.
//! - `GET /v1/models`: `{"object": "list", "data": [{"id", "object": "model", ...}]}` with the
//!   names given to [`TestServerBuilder::models`] (default [`DEFAULT_MODEL`]) and every model
//!   name a client has asked for. `GET /v1/models/NAME` describes any model.
//! - Anything else: 404 (405 for a known path with the wrong method), with an OpenAI-style
//!   error body `{"error": {"message", "type", "param", "code"}}`.
//!
//! # Scripted replies
//!
//! Chat requests are answered by the script, in order (see [`TestServerBuilder::script`],
//! [`TestServer::push_reply`], and [`parse_script`] for the JSON form). Tool calls without an id
//! get `call_1`, `call_2`, ... over the server's lifetime; usage not scripted is
//! [estimated](llm_do_core::estimate) (characters / 4). An error reply is answered like
//! this:
//!
//! | error kind | answer |
//! |---|---|
//! | `status` | that HTTP status, with `{"error": {"message", "type", "param", "code"}}` |
//! | `invalid_request` | 400, same body |
//! | `transport` | as [`Fault::CloseMidBody`]: the connection is aborted mid-body |
//! | `decode` | as [`Fault::InvalidJson`]: 200 with a body that is not JSON |
//! | `script`, `other` | 500 |
//!
//! # Default behaviour
//!
//! When the script is empty (from the start, or once it has run out), the answer is
//! deterministic and schema-valid:
//!
//! - if tools are offered and the conversation has no `role: "tool"` message yet, the **first**
//!   tool is called, with arguments generated from its `parameters` schema by
//!   [`example_value`](llm_do_testing::example::example_value);
//! - otherwise the model answers: for `response_format` `json_schema`, an example of the schema
//!   as JSON text in `content`; for `json_object`, `{}`; for text, a JSON object mapping each
//!   tool called to its result (e.g. `{"add":3}`), or `success (no tool calls)`.
//!
//! A schema no example can be generated for is answered with 400.
//!
//! # Faults
//!
//! A [`Fault`] breaks one chat response: queue it with [`TestServer::push_fault`] (the next
//! chat request gets it) or draw faults at a seeded rate with
//! [`TestServerBuilder::fault_rate`]. Faults that fail the request leave the scripted reply
//! for the retry. [`Fault::MinimalBody`], [`Fault::ExtraFields`],
//! [`Fault::EmptyFinishReason`] and [`Fault::WholeBody`] are not failures but quirks of other OpenAI-compatible
//! servers, for testing lenient decoding. Malformed requests (400) and other paths get no
//! fault and do not use one up. The server's latency, if any, comes before every chat answer
//! and before the fault.
//!
//! # Pacing and cancelled streams
//!
//! [`TestServerBuilder::stream_pause`] pauses between the events of a streamed answer, so that
//! a client's live display of text can be watched, and a request cancelled while it streams.
//! [`TestServer::abandoned_streams`] counts the streamed answers whose client closed the
//! connection before their last event: a test asserts with it that cancelling really dropped
//! the HTTP request.
//!
//! # Recording
//!
//! Every request is recorded as a [`RecordedRequest`] (method, path, headers, JSON body), with
//! the values of `authorization`, `api-key`, `x-api-key` and `proxy-authorization` replaced by
//! `[redacted]`.
//!
//! # The binary
//!
//! ```text
//! llm-do-testkit serve --port 8080 --latency-ms 20 --script crates/llm-do-testkit/examples/script.json
//! ```
//!
//! prints `listening on http://127.0.0.1:PORT/v1` once bound (`--port 0` picks a free port and
//! prints it) and stops on Ctrl-C. `--fault-rate R --fault-seed S --faults 500,close-mid-body`
//! injects faults at a rate ([`FaultKind`] names). The script file is a JSON array of replies;
//! `examples/script.json` in this crate is an example.
#![warn(missing_docs)]

mod answer;
mod api_error;
mod chat;
mod chunks;
mod completion;
mod default_behaviour;
mod error;
mod fault;
mod fault_rate;
mod quirk;
mod recorded;
mod responses;
mod routes;
mod script;
mod server;
mod state;

pub use error::TestkitError;
pub use fault::{Fault, FaultKind, RATE_DELAY, UnknownFaultKind};
pub use recorded::{REDACTED, RecordedRequest};
pub use script::{load_script, parse_script};
pub use server::{DEFAULT_MODEL, TestServer, TestServerBuilder};
