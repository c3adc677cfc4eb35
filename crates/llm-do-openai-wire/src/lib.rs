//! The OpenAI chat-completions API (`POST /v1/chat/completions`) as a server speaks it: one
//! home for the wire format that `llm-do serve` (which serves a model) and llm-do-testkit
//! (the loopback test server) both answer in.
//!
//! - [`request`]: a request body parsed into a core [`ModelRequest`](llm_do_core::ModelRequest)
//!   (messages, tools, `tool_choice`, `response_format`, sampling settings, streaming), or a
//!   [`BadRequest`](request::BadRequest) naming the offending parameter as OpenAI does;
//! - [`response`]: `chat.completion` bodies, `chat.completion.chunk` objects and their deltas,
//!   `usage` and `finish_reason`, built from a core
//!   [`ModelResponse`](llm_do_core::ModelResponse);
//! - [`error`]: `{"error": {"message", "type", "param", "code"}}` bodies and the `type`/`code`
//!   of an HTTP status.
//!
//! It depends on llm-do-core and serde_json only: the HTTP server around it is the user's
//! (axum in both of the workspace's servers), and it never depends on the OpenAI client
//! (`llm-do-openai`), so that the test server does not compile the client it tests.
//!
//! ```
//! use llm_do_core::ModelResponse;
//! use llm_do_openai_wire::{request, response};
//!
//! let body = br#"{"model": "m", "messages": [{"role": "user", "content": "hi"}]}"#;
//! let parsed = request::parse(body).unwrap();
//! assert_eq!(parsed.model.as_deref(), Some("m"));
//! let head = response::Head { id: "chatcmpl-1", created: 0, model: "m", fingerprint: None };
//! let body = response::completion(&head, &ModelResponse::text("hello"));
//! assert_eq!(body["choices"][0]["message"]["content"], "hello");
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod request;
pub mod response;
