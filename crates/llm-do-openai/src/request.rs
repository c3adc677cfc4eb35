//! Mapping a [`ModelRequest`] to the chat-completions request body: messages, tools,
//! structured output and sampling settings. The body borrows the conversation; the tools and
//! the response format come serialised from [`Prepared`].

use super::config::{MaxTokensField, OpenAiConfig};
use super::error::Failure;
use super::prepared::Prepared;
use super::wire::{
    ChatMessage, ChatRequest, FileOut, FunctionOut, ImageUrlOut, PartOut, StreamOptions,
    ToolCallOut, UserContent,
};
use llm_do_core::attachment::MediaKind;
use llm_do_core::{ContentPart, Message, ModelErrorKind, ModelRequest};
use std::borrow::Cow;

/// The room a body's buffer starts with. A short conversation with a tool or two fits (bench
/// 2's two bodies are about 400 and 630 bytes), so it is written once, where serde_json's
/// 128 bytes grow three or four times, copying what is written so far each time (callgrind:
/// 2 200 fewer instructions per bench 2 run, 184 600 in all); 1 KiB is also the largest size
/// glibc's per-thread cache serves without a lock.
const BODY_CAPACITY: usize = 1024;

/// The body as JSON, serialised once for all the attempts of a non-streaming request.
pub(crate) fn to_bytes(body: &ChatRequest<'_>) -> Result<bytes::Bytes, Failure> {
    let mut buffer = Vec::with_capacity(BODY_CAPACITY);
    serde_json::to_writer(&mut buffer, body).map(|()| bytes::Bytes::from(buffer)).map_err(|e| {
        Failure::new(
            ModelErrorKind::InvalidRequest,
            format!("could not serialise the request: {e}"),
        )
    })
}

/// The request body for `request`, with the worker's parts in `prepared`; `stream` asks for
/// server-sent events (with a final usage chunk).
pub(crate) fn build<'a>(
    request: &'a ModelRequest,
    config: &OpenAiConfig,
    prepared: &'a Prepared,
    stream: bool,
) -> Result<ChatRequest<'a>, Failure> {
    let mut messages = request.messages.iter().map(message).collect::<Result<Vec<_>, _>>()?;
    if let Some(instructions) = &prepared.instructions {
        match messages.first_mut() {
            Some(ChatMessage::System { content }) => {
                let content = content.to_mut();
                if !content.is_empty() {
                    content.push_str("\n\n");
                }
                content.push_str(instructions);
            }
            _ => messages.insert(0, ChatMessage::System { content: Cow::Borrowed(instructions) }),
        }
    }
    let settings = &request.settings;
    let (max_completion_tokens, max_tokens) = match config.effective_max_tokens_field() {
        MaxTokensField::MaxCompletionTokens => (settings.max_tokens, None),
        MaxTokensField::MaxTokens => (None, settings.max_tokens),
    };
    Ok(ChatRequest {
        model: &request.model,
        messages,
        tools: prepared.tools.as_deref(),
        response_format: prepared.response_format.as_deref(),
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_completion_tokens,
        max_tokens,
        seed: settings.seed,
        stop: &settings.stop,
        tool_choice: (request.tool_required && !request.tools.is_empty()).then_some("required"),
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
    })
}

fn message(message: &Message) -> Result<ChatMessage<'_>, Failure> {
    Ok(match message {
        Message::System { content } => ChatMessage::System { content: Cow::Borrowed(content) },
        Message::User { content } => ChatMessage::User { content: UserContent::Text(content) },
        Message::UserParts { parts } => ChatMessage::User {
            content: UserContent::Parts(parts.iter().map(part).collect::<Result<_, _>>()?),
        },
        Message::Assistant { content, tool_calls } => ChatMessage::Assistant {
            content: match content.as_deref() {
                None if tool_calls.is_empty() => Some(""),
                content => content,
            },
            tool_calls: tool_calls
                .iter()
                .map(|c| ToolCallOut {
                    id: &c.id,
                    kind: "function",
                    function: FunctionOut { name: &c.name, arguments: &c.arguments },
                })
                .collect(),
        },
        Message::Tool(result) => {
            ChatMessage::Tool { tool_call_id: &result.tool_call_id, content: &result.content }
        }
        other => {
            return Err(Failure::new(
                ModelErrorKind::InvalidRequest,
                format!("the OpenAI provider cannot send this kind of message: {other:?}"),
            ));
        }
    })
}

/// One part in the wire format: images as `image_url` (the URL, or a `data:` URL), PDFs as
/// `file` with the content as a `data:` URL. Text files never get here (the runtime inlines
/// them); a part this provider cannot send is an invalid request, before anything is sent.
fn part(part: &ContentPart) -> Result<PartOut<'_>, Failure> {
    let attachment = match part {
        ContentPart::Text { text } => return Ok(PartOut::Text { text }),
        ContentPart::Attachment(a) => a,
    };
    let invalid = |why: String| Failure::new(ModelErrorKind::InvalidRequest, why);
    let data_url = || {
        attachment.data_url().ok_or_else(|| {
            invalid(format!(
                "the content of attachment `{}` is not at hand (only its digest is known)",
                attachment.display_name()
            ))
        })
    };
    match attachment.kind() {
        MediaKind::Image => {
            let url = match attachment.source_url() {
                Some(url) => url.to_owned(),
                None => data_url()?,
            };
            Ok(PartOut::ImageUrl { image_url: ImageUrlOut { url } })
        }
        MediaKind::Pdf => Ok(PartOut::File {
            file: FileOut {
                filename: attachment.display_name().to_owned(),
                file_data: data_url()?,
            },
        }),
        MediaKind::Text => Err(invalid(format!(
            "attachment `{}` ({}) has no part in the chat-completions API; the runtime gives text \
             files to models as text",
            attachment.display_name(),
            attachment.media_type()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StructuredOutput;
    use llm_do_core::{ModelSettings, OutputMode, ToolCall, ToolDefinition, ToolResult};
    use serde_json::json;

    fn conversation() -> ModelRequest {
        ModelRequest::new(
            "gpt-4o-mini",
            vec![
                Message::system("Be terse."),
                Message::user("2+3?"),
                Message::assistant(
                    None,
                    vec![ToolCall::new("c1", "add", &json!({"a": 2, "b": 3}))],
                ),
                Message::Tool(ToolResult::ok("c1", "add", "5")),
            ],
        )
        .with_tools(vec![ToolDefinition::new(
            "add",
            "Add.",
            json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
        )])
        .with_settings(ModelSettings {
            temperature: Some(0.5),
            top_p: Some(0.25),
            max_tokens: Some(100),
            seed: Some(7),
            stop: vec!["END".into()],
        })
    }

    #[test]
    fn maps_messages_tools_and_settings() {
        let config = OpenAiConfig::new().base_url("http://127.0.0.1:1/v1");
        let request = conversation();
        let prepared = Prepared::new(&request, StructuredOutput::JsonSchema).unwrap();
        let body = build(&request, &config, &prepared, false).unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be terse."},
                    {"role": "user", "content": "2+3?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "c1", "type": "function",
                         "function": {"name": "add", "arguments": "{\"a\":2,\"b\":3}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "c1", "content": "5"}
                ],
                "tools": [{"type": "function", "function": {
                    "name": "add", "description": "Add.",
                    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}
                }}],
                "temperature": 0.5,
                "top_p": 0.25,
                "max_tokens": 100,
                "seed": 7,
                "stop": ["END"]
            })
        );
        // A required tool call is OpenAI's tool_choice "required".
        let required = conversation().with_tool_required(true);
        let prepared = Prepared::new(&required, StructuredOutput::JsonSchema).unwrap();
        let body =
            serde_json::to_value(build(&required, &config, &prepared, false).unwrap()).unwrap();
        assert_eq!(body["tool_choice"], "required");
    }

    #[test]
    fn an_assistant_message_always_has_content() {
        // OpenAI refuses an assistant message without `content`: null beside tool calls (as
        // above), "" for an answer that had neither text nor tool calls (e.g. cut off by a
        // content filter, then followed by a retry prompt).
        let config = OpenAiConfig::new().base_url("http://127.0.0.1:1/v1");
        let request = ModelRequest::new(
            "m",
            vec![Message::user("n?"), Message::assistant(None, vec![]), Message::user("again")],
        );
        let prepared = Prepared::new(&request, StructuredOutput::JsonSchema).unwrap();
        let body = serde_json::to_value(build(&request, &config, &prepared, false).unwrap());
        assert_eq!(body.unwrap()["messages"][1], json!({"role": "assistant", "content": ""}));
    }

    #[test]
    fn the_body_is_the_same_text_with_the_parts_serialised_once() {
        // The tools and the response format are spliced in as serialised text (RawValue):
        // the body's bytes are those of the values serialised in place.
        let request = conversation().with_output(OutputMode::json(
            "sum",
            json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"],
                   "additionalProperties": false}),
        ));
        let config = OpenAiConfig::new().base_url("http://127.0.0.1:1/v1");
        let prepared = Prepared::new(&request, StructuredOutput::JsonSchema).unwrap();
        let body = serde_json::to_string(&build(&request, &config, &prepared, false).unwrap());
        let value = serde_json::to_value(build(&request, &config, &prepared, false).unwrap());
        assert_eq!(body.unwrap(), value.unwrap().to_string());
        assert!(prepared.tools.as_ref().unwrap().get().starts_with(r#"[{"type":"function""#));
        assert!(prepared.response_format.as_ref().unwrap().get().contains(r#""strict":true"#));
    }

    #[test]
    fn openai_itself_gets_max_completion_tokens_and_streams_ask_for_usage() {
        let request = conversation();
        let prepared = Prepared::new(&request, StructuredOutput::JsonSchema).unwrap();
        let body = build(&request, &OpenAiConfig::new(), &prepared, true).unwrap();
        let value = serde_json::to_value(&body).unwrap();
        assert_eq!(value["max_completion_tokens"], json!(100));
        assert!(value.get("max_tokens").is_none());
        assert_eq!(value["stream"], json!(true));
        assert_eq!(value["stream_options"], json!({"include_usage": true}));
    }

    #[test]
    fn prompted_json_instructions_join_the_system_prompt() {
        let schema_out = OutputMode::json("n", json!({"type": "integer"}));
        let request = conversation().with_output(schema_out.clone());
        let out = Prepared::new(&request, StructuredOutput::PromptedJson).unwrap();
        let body = build(&request, &OpenAiConfig::new(), &out, false).unwrap();
        let ChatMessage::System { content } = &body.messages[0] else { panic!("no system") };
        assert!(content.starts_with("Be terse.\n\nAnswer with a single JSON value"));

        let no_system = ModelRequest::new("m", vec![Message::user("hi")]).with_output(schema_out);
        let out = Prepared::new(&no_system, StructuredOutput::PromptedJson).unwrap();
        let body = build(&no_system, &OpenAiConfig::new(), &out, false).unwrap();
        assert!(matches!(&body.messages[0], ChatMessage::System { .. }));
        assert_eq!(body.messages.len(), 2);
    }
}
