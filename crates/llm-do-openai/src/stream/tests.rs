//! The assembler's tests: chunks in, the assembled answer and the pieces passed on out.

use super::*;
use crate::decode;
use std::sync::Mutex;

fn run(plan: OutputPlan, chunks: &[&str]) -> (Result<ModelResponse, Failure>, Vec<StreamDelta>) {
    let seen = Mutex::new(Vec::new());
    let sink = |d: StreamDelta| seen.lock().unwrap().push(d);
    let mut a = Assembler::new(plan, &sink);
    for chunk in chunks {
        if let Err(f) = a.push(chunk) {
            return (Err(f), seen.into_inner().unwrap());
        }
    }
    let out = a.finish();
    (out, seen.into_inner().unwrap())
}

#[test]
fn text_and_tool_calls_are_streamed_and_assembled() {
    let chunks = [
        r#"{"model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"add","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"mul","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4}}"#,
    ];
    let (out, deltas) = run(OutputPlan::default(), &chunks);
    let out = out.unwrap();
    assert_eq!(out.text.as_deref(), Some("Hello"));
    assert_eq!(
        out.tool_calls,
        [ToolCall::raw("c1", "add", r#"{"a":1}"#), ToolCall::raw("c2", "mul", "{}")]
    );
    assert_eq!(out.usage, Usage::tokens(9, 4));
    assert_eq!(out.model.as_deref(), Some("m1"));
    assert_eq!(out.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(deltas.len(), 6);
    assert_eq!(deltas[0], StreamDelta::Text { text: "Hel".into() });
    assert_eq!(
        deltas[2],
        StreamDelta::ToolCall {
            index: 0,
            id: Some("c1".into()),
            name: Some("add".into()),
            arguments: String::new()
        }
    );
}

#[test]
fn the_assembled_answer_equals_the_decoded_one() {
    let body = r#"{"model":"m","choices":[{"index":0,"message":{"content":"Hi","tool_calls":[
        {"id":"c1","function":{"name":"t","arguments":"{\"x\":1}"}}]},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":3,"completion_tokens":2}}"#;
    let decoded = OutputPlan::default().finish(decode::response(body).unwrap());
    let chunks = [
        r#"{"model":"m","choices":[{"index":0,"delta":{"content":"H"}}]}"#,
        r#"{"model":"m","choices":[{"index":0,"delta":{"content":"i","tool_calls":[{"index":0,"id":"c1","function":{"name":"t","arguments":"{\"x\":"}}]}}]}"#,
        r#"{"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"stop"}]}"#,
        r#"{"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
    ];
    assert_eq!(run(OutputPlan::default(), &chunks).0.unwrap(), decoded);
}

#[test]
fn the_choice_followed_is_the_one_the_decoder_takes() {
    // Index 0 when a choice has it, else the first choice, in both paths.
    let cases: [(&str, &[&str]); 3] = [
        (
            r#"{"choices":[{"index":1,"message":{"content":"one"}}]}"#,
            &[
                r#"{"choices":[{"index":1,"delta":{"content":"o"}}]}"#,
                r#"{"choices":[{"index":1,"delta":{"content":"ne"},"finish_reason":"stop"}]}"#,
            ],
        ),
        (
            r#"{"choices":[{"index":1,"message":{"content":"one"}},{"index":0,"message":{"content":"zero"}}]}"#,
            &[
                r#"{"choices":[{"index":1,"delta":{"content":"one"}},{"index":0,"delta":{"content":"ze"}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"ro"}},{"index":1,"delta":{"content":"!"}}]}"#,
            ],
        ),
        (
            r#"{"choices":[{"index":2,"message":{"content":"two"}},{"index":1,"message":{"content":"one"}}]}"#,
            &[
                r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
                r#"{"choices":[{"index":2,"delta":{"content":"two"}},{"index":1,"delta":{"content":"one"}}]}"#,
                r#"{"choices":[{"index":1,"delta":{"content":"!"}},{"index":2,"delta":{}}]}"#,
            ],
        ),
    ];
    for (body, chunks) in cases {
        let decoded = OutputPlan::default().finish(decode::response(body).unwrap());
        let (streamed, deltas) = run(OutputPlan::default(), chunks);
        let streamed = streamed.unwrap();
        assert_eq!(streamed.text, decoded.text, "{body}");
        let text: String = deltas
            .iter()
            .map(|d| match d {
                StreamDelta::Text { text } => text.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(Some(text), decoded.text, "{body}");
    }
}

#[test]
fn pieces_without_index_follow_their_ids() {
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"x","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"y","arguments":"{}"}}]}}]}"#,
    ];
    let out = run(OutputPlan::default(), &chunks).0.unwrap();
    assert_eq!(out.tool_calls, [ToolCall::raw("a", "x", "{}"), ToolCall::raw("b", "y", "{}")]);
}

#[test]
fn whole_calls_without_index_or_id_stay_apart() {
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"b","arguments":"{\"x\":1}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"b","arguments":"{\"x\":2}"}}]}}]}"#,
    ];
    let out = run(OutputPlan::default(), &chunks).0.unwrap();
    assert_eq!(
        out.tool_calls,
        [
            ToolCall::raw("call_0", "a", "{}"),
            ToolCall::raw("call_1", "b", r#"{"x":1}"#),
            ToolCall::raw("call_2", "b", r#"{"x":2}"#)
        ]
    );
    // A name repeated in every piece of one call does not split it.
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":"{\"x\""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":":1}"}}]}}]}"#,
    ];
    let out = run(OutputPlan::default(), &chunks).0.unwrap();
    assert_eq!(out.tool_calls, [ToolCall::raw("call_0", "a", r#"{"x":1}"#)]);
}

#[test]
fn whole_calls_at_one_index_with_new_ids_stay_apart() {
    // Some servers number every whole call `"index": 0`; a new id starts a new call.
    let chunks = [
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"x","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"y","arguments":"{\"n\":1}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}}]}}]}"#,
    ];
    let (out, deltas) = run(OutputPlan::default(), &chunks);
    assert_eq!(
        out.unwrap().tool_calls,
        [ToolCall::raw("a", "x", "{}"), ToolCall::raw("b", "y", r#"{"n":1}"#)]
    );
    // The pieces passed on name the calls by their positions in the answer.
    let indexes: Vec<u32> = deltas
        .iter()
        .filter_map(|d| match d {
            StreamDelta::ToolCall { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(indexes, [0, 1]);
    // The usual form: the id on a call's first piece only, parallel calls interleaved,
    // and an id repeated on a later piece of its call, merge per index.
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"x","arguments":"{\"p\":"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"y","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"arguments":"}"}}]}}]}"#,
    ];
    let out = run(OutputPlan::default(), &chunks).0.unwrap();
    assert_eq!(
        out.tool_calls,
        [ToolCall::raw("a", "x", r#"{"p":1}"#), ToolCall::raw("b", "y", "{}")]
    );
}

#[test]
fn the_final_answer_tool_streams_as_text() {
    let plan = OutputPlan { wrapped: true, final_tool: true };
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"f","function":{"name":"final_result","arguments":"{\"response\":"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"7}"}}]},"finish_reason":"tool_calls"}]}"#,
    ];
    let (out, deltas) = run(plan, &chunks);
    let out = out.unwrap();
    assert_eq!(out.text.as_deref(), Some("7"));
    assert!(out.tool_calls.is_empty());
    // Wrapped, the answer comes unwrapped, in one piece at the end.
    assert_eq!(deltas, [StreamDelta::Text { text: "7".into() }]);
    let plan = OutputPlan { wrapped: false, final_tool: true };
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"f","function":{"name":"final_result","arguments":"{\"a\":"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"7}"}}]},"finish_reason":"tool_calls"}]}"#,
    ];
    let (out, deltas) = run(plan, &chunks);
    assert_eq!(out.unwrap().text.as_deref(), Some(r#"{"a":7}"#));
    assert_eq!(
        deltas,
        [StreamDelta::Text { text: r#"{"a":"#.into() }, StreamDelta::Text { text: "7}".into() }]
    );
}

#[test]
fn a_wrapped_text_answer_streams_as_the_final_text() {
    let plan = OutputPlan { wrapped: true, final_tool: false };
    let chunks = [
        r#"{"choices":[{"delta":{"content":"{\"response\": "}}]}"#,
        r#"{"choices":[{"delta":{"content":"42}"},"finish_reason":"stop"}]}"#,
    ];
    let (out, deltas) = run(plan, &chunks);
    assert_eq!(out.unwrap().text.as_deref(), Some("42"));
    assert_eq!(deltas, [StreamDelta::Text { text: "42".into() }]);
}

#[test]
fn broken_streams_are_typed_errors() {
    let (out, _) = run(OutputPlan::default(), &[r#"{"choices":[]}"#]);
    let f = out.unwrap_err();
    assert_eq!(f.kind, ModelErrorKind::Decode);
    assert!(f.message.contains("no choices"));
    let (out, _) = run(OutputPlan::default(), &["not json"]);
    assert_eq!(out.unwrap_err().kind, ModelErrorKind::Decode);
    let (out, _) = run(OutputPlan::default(), &[r#"{"error":{"message":"overloaded"}}"#]);
    assert!(out.unwrap_err().message.contains("overloaded"));
    let (out, _) = run(OutputPlan::default(), &[]);
    assert!(out.is_err());
}

#[test]
fn pieces_naming_the_current_call_again_cost_time_linear_in_the_answer() {
    // A hostile (or broken) server: a call whose arguments never end (an open string), then
    // thousands of pieces without index or id naming the same tool. Re-reading all the
    // arguments so far for each piece would be quadratic: 64 MiB of such pieces (the default
    // answer limit) would hold the task (and its thread) for hours, out of the timeout's reach.
    let open = "x".repeat(100_000);
    let first = format!(
        r#"{{"choices":[{{"delta":{{"tool_calls":[{{"function":{{"name":"a","arguments":"{{\"s\":\"{open}"}}}}]}}}}]}}"#
    );
    let piece = r#"{"function":{"name":"a","arguments":"y"}}"#;
    let more = format!(
        r#"{{"choices":[{{"delta":{{"tool_calls":[{}]}}}}]}}"#,
        vec![piece; 2_000].join(",")
    );
    let sink = |_: StreamDelta| {};
    let mut a = Assembler::new(OutputPlan::default(), &sink);
    a.push(&first).unwrap();
    a.push(&more).unwrap();
    let arguments = open.len() + 6 + 2_000;
    assert!(a.examined() <= 2 * arguments as u64, "{} bytes examined", a.examined());
    let out = a.finish().unwrap();
    assert_eq!(out.tool_calls.len(), 1, "the pieces belong to the one open call");
    assert_eq!(out.tool_calls[0].arguments.len(), arguments);
}
