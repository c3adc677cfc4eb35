//! Request bodies as `llm-do serve` and llm-do-testkit read them: what a full conversation
//! becomes, the defaults, `tool_choice`, and every kind of bad body refused with the
//! parameter it concerns.

use llm_do_core::{Message, ModelSettings, OutputMode, ToolCall, ToolDefinition, ToolResult};
use llm_do_openai_wire::request::{BadRequest, ChatRequest, parse};
use serde_json::{Value, json};

fn ok(body: Value) -> ChatRequest {
    parse(body.to_string().as_bytes()).expect("valid request")
}

fn bad(body: &str) -> BadRequest {
    parse(body.as_bytes()).expect_err("invalid request")
}

#[test]
fn parses_a_full_conversation() {
    let r = ok(json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": [{"type": "text", "text": "add "}, {"type": "text", "text": "1 and 2"}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "add", "arguments": "{\"a\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_9", "content": "3"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "add", "description": "Add.", "parameters": {"type": "object"}}},
            {"type": "web_search"}
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "Sum", "schema": {"type": "integer"}, "strict": true}},
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": 0.5,
        "max_completion_tokens": 100,
        "max_tokens": 5,
        "seed": 7,
        "stop": ["\n\n", "END"],
        "n": 1,
        "logprobs": false,
        "unknown": {"ignored": true}
    }));
    assert!(r.stream && r.include_usage);
    assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
    let m = &r.model_request;
    assert_eq!(m.model, "gpt-4o-mini");
    assert_eq!(
        m.messages,
        vec![
            Message::system("Be terse."),
            Message::user("add 1 and 2"),
            Message::assistant(None, vec![ToolCall::raw("call_9", "add", "{\"a\":1}")]),
            Message::Tool(ToolResult::ok("call_9", "add", "3")),
        ]
    );
    assert_eq!(*m.tools, [ToolDefinition::new("add", "Add.", json!({"type": "object"}))]);
    assert_eq!(m.output, OutputMode::json("Sum", json!({"type": "integer"})));
    assert_eq!(
        m.settings,
        ModelSettings {
            temperature: Some(0.5),
            max_tokens: Some(100),
            seed: Some(7),
            stop: vec!["\n\n".into(), "END".into()],
            ..Default::default()
        }
    );
    let one = ok(json!({"messages": [{"role": "user", "content": "hi"}], "stop": "Observation:"}));
    assert_eq!(one.model_request.settings.stop, ["Observation:"]);
}

#[test]
fn defaults() {
    let r = ok(json!({"messages": [{"role": "user", "content": "hi"}]}));
    assert!(!r.stream && !r.include_usage);
    assert_eq!((r.model, r.model_request.model.as_str()), (None, ""));
    assert_eq!(r.model_request.output, OutputMode::Text);
    assert_eq!(r.model_request.settings, ModelSettings::default());
    let r = ok(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_object"}, "max_tokens": 9}));
    assert_eq!(r.model_request.output.schema(), Some(&json!({"type": "object"})));
    assert_eq!(r.model_request.settings.max_tokens, Some(9));
}

#[test]
fn tool_choice_narrows_the_tools() {
    let body = |choice: Value| {
        json!({
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}],
            "tool_choice": choice,
        })
    };
    let names =
        |r: ChatRequest| r.model_request.tools.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(ok(body(json!({"type": "function", "function": {"name": "b"}})))), ["b"]);
    assert_eq!(names(ok(body(json!("auto")))), ["a", "b"]);
    assert!(names(ok(body(json!("none")))).is_empty());
    // A named function or "required" must be called; "auto" and "none" need no call.
    let required = |choice: Value| ok(body(choice)).model_request.tool_required;
    assert!(required(json!({"type": "function", "function": {"name": "b"}})));
    assert!(required(json!("required")));
    assert!(!required(json!("auto")) && !required(json!("none")) && !required(Value::Null));
    let e = bad(&body(json!("any")).to_string());
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
    assert!(e.message.contains("unknown tool_choice `any`"), "{}", e.message);
    let e = bad(&body(json!({"type": "function", "function": {"name": "c"}})).to_string());
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
    assert!(e.message.contains("unknown tool `c`"), "{}", e.message);
}

/// What `tool_choice` asks for but cannot be honoured is refused, as OpenAI refuses it, not
/// dropped: `"required"` with no function tool (none given, or only built-in ones), an object
/// without `function.name`, or one naming a tool `tools` does not have.
#[test]
fn a_tool_choice_that_cannot_be_honoured_is_refused() {
    let body = |tools: Value, choice: Value| json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools, "tool_choice": choice});
    let a = json!([{"type": "function", "function": {"name": "a"}}]);
    let cases = [
        (body(Value::Null, json!("required")), "needs at least one function tool"),
        (body(json!([]), json!("required")), "needs at least one function tool"),
        (body(json!([{"type": "web_search"}]), json!("required")), "needs at least one"),
        (body(a.clone(), json!({"type": "function"})), "must name a function"),
        (body(a.clone(), json!({"type": "function", "function": {}})), "must name a function"),
        (body(a.clone(), json!({"type": "function", "function": {"name": 7}})), "must name"),
        (body(a.clone(), json!({})), "must name a function"),
        (
            body(Value::Null, json!({"type": "function", "function": {"name": "a"}})),
            "unknown tool `a`",
        ),
        (
            body(a.clone(), json!({"type": "function", "function": {"name": "b"}})),
            "unknown tool `b`",
        ),
    ];
    for (body, expected) in cases {
        let e = bad(&body.to_string());
        assert_eq!(e.param.as_deref(), Some("tool_choice"), "{body}");
        assert!(e.message.contains(expected), "{body}: {}", e.message);
    }
    // Without tools, "auto" and "none" ask for nothing that cannot be given.
    for choice in [json!("auto"), json!("none")] {
        assert!(ok(body(Value::Null, choice)).model_request.tools.is_empty());
    }
}

#[test]
fn rejects_bad_bodies_with_the_parameter() {
    let cases = [
        ("", None, "could not parse the JSON body"),
        ("{", None, "could not parse the JSON body"),
        ("[1]", None, "must be a JSON object"),
        (r#"{"model": 1, "messages": []}"#, Some("model"), "must be a string"),
        (r#"{"model": "m"}"#, Some("messages"), "missing required"),
        (r#"{"model": "m", "messages": "nope"}"#, Some("messages"), "must be an array"),
        (r#"{"model": "m", "messages": []}"#, Some("messages"), "must not be empty"),
        (r#"{"model": "m", "messages": [1]}"#, Some("messages[0]"), "must be an object"),
        (
            r#"{"model": "m", "messages": [{"role": "robot"}]}"#,
            Some("messages[0].role"),
            "unknown role",
        ),
        (
            r#"{"model": "m", "messages": [{"content": "x"}]}"#,
            Some("messages[0].role"),
            "needs a `role`",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "user", "content": 5}]}"#,
            Some("messages[0].content"),
            "must be a string",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "tool", "content": "x"}]}"#,
            Some("messages[0].tool_call_id"),
            "needs a `tool_call_id`",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{}]}]}"#,
            Some("messages[0].tool_calls[0].function.name"),
            "needs `function.name`",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "user"}], "tools": [{"type": "function"}]}"#,
            Some("tools[0].function"),
            "needs a `function`",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "user"}], "stream": "yes"}"#,
            Some("stream"),
            "must be a boolean",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "user"}], "stream_options": {"include_usage": 1}}"#,
            Some("stream_options.include_usage"),
            "must be a boolean",
        ),
        (
            r#"{"model": "m", "messages": [{"role": "user"}], "response_format": {"type": "xml"}}"#,
            Some("response_format.type"),
            "unsupported",
        ),
        (
            r#"{"messages": [{"role": "user"}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": 12}}}}"#,
            Some("response_format.json_schema.schema"),
            "not a valid JSON Schema",
        ),
        (
            r#"{"messages": [{"role": "user"}], "temperature": "hot"}"#,
            Some("temperature"),
            "must be a number",
        ),
        (r#"{"messages": [{"role": "user"}], "seed": -1}"#, Some("seed"), "non-negative integer"),
        (
            r#"{"messages": [{"role": "user"}], "max_tokens": 5000000000}"#,
            Some("max_tokens"),
            "larger than",
        ),
        (r#"{"messages": [{"role": "user"}], "stop": 5}"#, Some("stop"), "must be a string"),
        (r#"{"messages": [{"role": "user"}], "stop": [""]}"#, Some("stop"), "non-empty"),
        (
            r#"{"messages": [{"role": "user"}], "stop": ["a","b","c","d","e"]}"#,
            Some("stop"),
            "at most 4 are allowed",
        ),
        // What one answer cannot give is refused, not silently dropped.
        (r#"{"messages": [{"role": "user"}], "n": 2}"#, Some("n"), "must be 1"),
        (
            r#"{"messages": [{"role": "user"}], "logprobs": true}"#,
            Some("logprobs"),
            "not available",
        ),
        (
            r#"{"messages": [{"role": "user"}], "top_logprobs": 3}"#,
            Some("top_logprobs"),
            "not available",
        ),
    ];
    for (body, param, message) in cases {
        let e = bad(body);
        assert_eq!(e.param.as_deref(), param, "{body}");
        assert!(e.message.contains(message), "{body}: {}", e.message);
        assert_eq!(e.code, None, "{body}");
    }
    // A stop sequence over the length bound: each generated token is scanned for it.
    let long =
        json!({"messages": [{"role": "user", "content": "hi"}], "stop": ["a", "b".repeat(257)]});
    let e = bad(&long.to_string());
    assert_eq!(e.param.as_deref(), Some("stop"));
    assert!(e.message.contains("stop sequence 1 is 257 bytes long; at most 256"), "{}", e.message);
    let at_bound =
        json!({"messages": [{"role": "user", "content": "hi"}], "stop": ["b".repeat(256)]});
    assert_eq!(ok(at_bound).model_request.settings.stop, ["b".repeat(256)]);
}

/// A tool name no model can call or no client can route is refused with its parameter and
/// `invalid_tool_name` (before: accepted, and a model called the tool `""`).
#[test]
fn tool_names_must_be_valid_and_unique() {
    let body = |names: &[&str]| {
        let tools: Vec<Value> =
            names.iter().map(|n| json!({"type": "function", "function": {"name": n}})).collect();
        json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools}).to_string()
    };
    let long = "a".repeat(65);
    let cases = [
        (vec!["ok", ""], "tools[1].function.name", "it is empty"),
        (vec!["a b"], "tools[0].function.name", "contains ` `"),
        (vec!["x\u{1b}[2J"], "tools[0].function.name", "contains `\\u{1b}`"),
        (vec![long.as_str()], "tools[0].function.name", "65 characters long"),
        (vec!["same", "other", "same"], "tools[2].function.name", "must be unique"),
    ];
    for (names, param, expected) in cases {
        let e = bad(&body(&names));
        assert_eq!(e.param.as_deref(), Some(param), "{names:?}");
        assert_eq!(e.code.as_deref(), Some("invalid_tool_name"), "{names:?}");
        assert!(e.message.contains(expected), "{names:?}: {}", e.message);
        assert!(!e.message.contains('\u{1b}'), "{}", e.message);
    }
    let names = ["a", "B-2", "c_3", &"d".repeat(64)];
    let r = ok(serde_json::from_str(&body(&names)).unwrap());
    assert_eq!(r.model_request.tools.len(), 4);
}
