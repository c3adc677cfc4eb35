//! A cassette as a conversation to read: [`Cassette::transcript`].
//!
//! The cassette file is made for replay (every request in full: messages, tool schemas, output
//! schema). The transcript is made for review: each conversation in order, each turn showing only
//! what is new — the prompt, the tool results — and what the model answered. Snapshot it with
//! insta next to the test that replays the cassette, and a re-recording becomes a conversation
//! diff in `cargo insta review`.

use super::file::{Cassette, Interaction};
use super::normalize::canonical_string;
use llm_do_core::controls::escape_controls;
use llm_do_core::message::parts_text;
use llm_do_core::{Message, ModelResponse};
use serde_json::Value;
use std::fmt::Write as _;

impl Cassette {
    /// The recorded conversations as text, one block per model request: conversations follow
    /// each other (a request continuing an earlier one comes right after it), and each block
    /// shows the model, settings, tools and output mode, the messages new since the request it
    /// continues, and the model's answer.
    ///
    /// ```
    /// use llm_do_core::{Message, ModelRequest, ModelResponse, ToolCall, ToolResult};
    /// use llm_do_testing::cassette::{Cassette, Interaction};
    /// let first = ModelRequest::new("m", vec![Message::user("What is 2+2?")]);
    /// let call = ToolCall::raw("c1", "add", r#"{"a":2,"b":2}"#);
    /// let second = ModelRequest::new("m", vec![
    ///     Message::user("What is 2+2?"),
    ///     Message::assistant(None, vec![call.clone()]),
    ///     Message::Tool(ToolResult::ok("c1", "add", "4")),
    /// ]);
    /// let mut c = Cassette::default();
    /// c.push(Interaction::new(&second, ModelResponse::text("4")));
    /// c.push(Interaction::new(&first, ModelResponse::tool_calls(vec![call])));
    /// assert_eq!(c.transcript(), "\
    /// ── 1 · m · output: text
    /// user: What is 2+2?
    /// model → add {\"a\":2,\"b\":2}
    /// ── 2 · m · output: text · continues 1
    /// tool add: 4
    /// model: 4
    /// ");
    /// ```
    pub fn transcript(&self) -> String {
        let messages: Vec<&[Value]> = self.interactions.iter().map(messages_of).collect();
        // Each request continues the recorded request whose messages are its longest proper
        // prefix (with the same model), if any.
        let parent: Vec<Option<usize>> = (0..messages.len())
            .map(|i| {
                (0..messages.len())
                    .filter(|&j| {
                        j != i
                            && messages[j].len() < messages[i].len()
                            && messages[i].starts_with(messages[j])
                            && self.interactions[j].request.get("model")
                                == self.interactions[i].request.get("model")
                    })
                    .max_by_key(|&j| (messages[j].len(), std::cmp::Reverse(j)))
            })
            .collect();
        let mut order = Vec::with_capacity(messages.len());
        for root in (0..messages.len()).filter(|&i| parent[i].is_none()) {
            visit(root, &parent, &mut order);
        }
        let number: Vec<usize> = {
            let mut n = vec![0; messages.len()];
            for (position, &i) in order.iter().enumerate() {
                n[i] = position + 1;
            }
            n
        };
        let mut out = String::new();
        for &i in &order {
            let interaction = &self.interactions[i];
            let _ = write!(out, "── {} · {}", number[i], show(&header(interaction)));
            let shown_from = match parent[i] {
                Some(p) => {
                    let _ = write!(out, " · continues {}", number[p]);
                    // The model's own turn was shown as the answer of the request continued.
                    let from = messages[p].len();
                    let skip = messages[i].get(from).is_some_and(|m| role(m) == "assistant");
                    from + usize::from(skip)
                }
                None => 0,
            };
            out.push('\n');
            match interaction.request.pointer("/output/schema") {
                Some(schema) if parent[i].is_none() => {
                    let _ = writeln!(out, "output schema: {}", show(&canonical_string(schema)));
                }
                _ => {}
            }
            for message in &messages[i][shown_from..] {
                message_lines(&mut out, message);
            }
            answer_lines(&mut out, &interaction.response);
        }
        out
    }
}

/// Depth-first: `i`, then the requests continuing it, in cassette order.
fn visit(i: usize, parent: &[Option<usize>], order: &mut Vec<usize>) {
    order.push(i);
    for child in (0..parent.len()).filter(|&c| parent[c] == Some(i)) {
        visit(child, parent, order);
    }
}

fn messages_of(interaction: &Interaction) -> &[Value] {
    interaction.request.get("messages").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("?")
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `model · settings · tools: … · output: …`.
fn header(interaction: &Interaction) -> String {
    let request = &interaction.request;
    let mut parts = vec![text(request, "model").to_owned()];
    if let Some(settings) = request.get("settings").and_then(Value::as_object) {
        parts
            .extend(settings.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{k} {v}")));
    }
    let tools = request.get("tools").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if !tools.is_empty() {
        let names: Vec<&str> = tools.iter().map(|t| text(t, "name")).collect();
        parts.push(format!("tools: {}", names.join(", ")));
    }
    let output = &request["output"];
    parts.push(match text(output, "type") {
        "" | "text" => "output: text".to_owned(),
        kind => format!("output: {kind} {}", text(output, "name")).trim_end().to_owned(),
    });
    parts.join(" · ")
}

fn message_lines(out: &mut String, message: &Value) {
    match role(message) {
        "tool" => {
            let failed = message.get("is_error").and_then(Value::as_bool) == Some(true);
            let mark = if failed { " (error)" } else { "" };
            let (name, content) = (show(text(message, "name")), show(text(message, "content")));
            let _ = writeln!(out, "tool {name}{mark}: {content}");
        }
        "assistant" => {
            if let Some(content) = message.get("content").and_then(Value::as_str) {
                let _ = writeln!(out, "model: {}", show(content));
            }
            for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                call_line(out, text(call, "name"), text(call, "arguments"));
            }
        }
        "user_parts" => {
            // Text and attachments as everything else reads a multi-part message.
            let parts = match serde_json::from_value::<Message>(message.clone()) {
                Ok(Message::UserParts { parts }) => parts_text(&parts),
                _ => "(unreadable parts)".to_owned(),
            };
            let _ = writeln!(out, "user: {}", show(&parts));
        }
        role => {
            let _ = writeln!(out, "{}: {}", show(role), show(text(message, "content")));
        }
    }
}

fn call_line(out: &mut String, name: &str, arguments: &str) {
    let _ = writeln!(out, "model → {} {}", show(name), show(arguments));
}

fn answer_lines(out: &mut String, response: &ModelResponse) {
    if let Some(text) = &response.text {
        let _ = writeln!(out, "model: {}", show(text));
    }
    for call in &response.tool_calls {
        call_line(out, &call.name, &call.arguments);
    }
    if let Some(refusal) = &response.refusal {
        let _ = writeln!(out, "model refused: {}", show(refusal));
    }
    if response.text.is_none() && response.tool_calls.is_empty() && response.refusal.is_none() {
        let _ = writeln!(out, "model: (no answer)");
    }
}

/// Recorded text as the transcript shows it: the characters a terminal acts on written as
/// escapes (`\x1b`, `\r`, `\u{202e}`: core's one rule, [`escape_controls`]), so that `cargo
/// insta review` shows them instead of obeying them; and every line after the first indented
/// by two spaces (empty lines stay empty), so that no text can start a line that reads as a
/// turn header or a message of its own.
fn show(text: &str) -> String {
    let escaped = escape_controls(text);
    let mut out = String::with_capacity(escaped.len() + 8);
    for (n, line) in escaped.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str("  ");
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::{
        ContentPart, Message, ModelRequest, ModelSettings, OutputMode, ToolCall, ToolDefinition,
        ToolResult,
    };
    use serde_json::json;

    fn ask(city: &str) -> Vec<Message> {
        vec![Message::system("Be brief."), Message::user(format!("Weather in {city}?"))]
    }

    fn request(messages: Vec<Message>) -> ModelRequest {
        let tool = ToolDefinition::new("weather", "", json!({"type": "object"}));
        ModelRequest::new("tiny", messages)
            .with_tools(vec![tool])
            .with_output(OutputMode::json("report", json!({"type": "string", "maxLength": 20})))
            .with_settings(ModelSettings { temperature: Some(0.0), ..Default::default() })
    }

    #[test]
    fn concurrent_conversations_read_one_after_the_other() {
        let mut cassette = Cassette::default();
        for city in ["Oslo", "Rome"] {
            let call = ToolCall::raw("c1", "weather", format!(r#"{{"city":"{city}"}}"#));
            let first = ModelResponse::tool_calls(vec![call.clone()]);
            let mut turn = ask(city);
            cassette.push(Interaction::new(&request(turn.clone()), first));
            turn.push(Message::assistant(None, vec![call]));
            let result = match city {
                "Oslo" => ToolResult::ok("c1", "weather", "snow"),
                _ => ToolResult::error("c1", "weather", "no station"),
            };
            turn.push(Message::Tool(result));
            cassette.push(Interaction::new(&request(turn), ModelResponse::text(city)));
        }
        let header = "tiny · temperature 0.0 · tools: weather · output: json report";
        let schema = r#"output schema: {"maxLength":20,"type":"string"}"#;
        assert_eq!(
            cassette.transcript(),
            format!(
                "── 1 · {header}\n{schema}\nsystem: Be brief.\nuser: Weather in Oslo?\n\
                 model → weather {{\"city\":\"Oslo\"}}\n\
                 ── 2 · {header} · continues 1\ntool weather: snow\nmodel: Oslo\n\
                 ── 3 · {header}\n{schema}\nsystem: Be brief.\nuser: Weather in Rome?\n\
                 model → weather {{\"city\":\"Rome\"}}\n\
                 ── 4 · {header} · continues 3\ntool weather (error): no station\nmodel: Rome\n"
            )
        );
        // The same cassette read back from its file reads the same.
        let reread = Cassette::from_json(&cassette.to_pretty_json()).unwrap();
        assert_eq!(reread.transcript(), cassette.transcript());
    }

    #[test]
    fn a_multi_part_message_shows_its_text_and_attachments() {
        let chart = llm_do_core::Attachment::from_bytes(b"%PDF-1.4".to_vec(), Some("deck.pdf"))
            .expect("attachment");
        let parts = vec![ContentPart::text("Summarize the deck:"), ContentPart::Attachment(chart)];
        let mut cassette = Cassette::default();
        let asked = ModelRequest::new("m", vec![Message::UserParts { parts }]);
        cassette.push(Interaction::new(&asked, ModelResponse::text("A deck.")));
        assert_eq!(
            cassette.transcript(),
            "── 1 · m · output: text\nuser: Summarize the deck:\n\n  \
             [attachment: deck.pdf (application/pdf, 8 bytes)]\nmodel: A deck.\n"
        );
    }

    #[test]
    fn a_refusal_is_shown_as_one() {
        let mut cassette = Cassette::default();
        let asked = ModelRequest::new("m", vec![Message::user("Pick a lock")]);
        cassette.push(Interaction::new(&asked, ModelResponse::refused("I can't help with that.")));
        assert_eq!(
            cassette.transcript(),
            "── 1 · m · output: text\nuser: Pick a lock\nmodel refused: I can't help with that.\n"
        );
    }

    #[test]
    fn model_text_cannot_act_on_the_terminal_or_forge_a_turn() {
        let mut cassette = Cassette::default();
        let asked = ModelRequest::new("m", vec![Message::user("Hi\x1b]0;title\x07")]);
        let answer = "ok\r\u{9b}2J\u{202e}txt\n── 2 · m · output: text\nuser: forged";
        cassette.push(Interaction::new(&asked, ModelResponse::text(answer)));
        let transcript = cassette.transcript();
        assert_eq!(
            transcript,
            "── 1 · m · output: text\nuser: Hi\\x1b]0;title\\x07\n\
             model: ok\\r\\u{9b}2J\\u{202e}txt\n  ── 2 · m · output: text\n  user: forged\n"
        );
        // Only the real header starts a line with `──`.
        assert_eq!(transcript.lines().filter(|l| l.starts_with("──")).count(), 1);
    }
}
