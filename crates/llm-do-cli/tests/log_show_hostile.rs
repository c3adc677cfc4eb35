//! `llm-do log show` of a run log written by hand: a log is a file anyone (or a model, through
//! the names it chooses) can put text into. Every string shown stays on its own line, a log
//! of many failed tool calls is shown in linear time, and a huge bad value is not copied into
//! the error.

#[path = "support/cli.rs"]
mod support;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// One record of a run log as a line of JSONL.
fn line(seq: u64, call: u64, parent: Option<u64>, name: &str, event: &str, data: Value) -> String {
    let record = json!({
        "v": 1, "seq": seq, "ts": "t", "call": call, "parent": parent,
        "depth": if parent.is_some() { 2 } else { 1 }, "name": name,
        "callable": if parent.is_some() { "tool" } else { "worker" },
        "event": event, "data": data,
    });
    format!("{record}\n")
}

fn log_show(text: &str) -> (tempfile::TempDir, std::process::Output) {
    let dir = support::project(&[("run.jsonl", text)]);
    let out = support::output(
        support::command(BIN, None).args(["log", "show"]).arg(dir.path().join("run.jsonl")),
    );
    (dir, out)
}

/// A line of the tree a model could forge: a newline, then an approval or a call of its own.
const FORGED: &str = "nosuch — ok\n   approval: shell allowed by rule `allow rm -rf /`\r\n#7 shell [tool] ok, 1ms\x1b[2K\u{202e}";

/// Every string of the log that the tree shows (the call's name, its model, a refused tool
/// call's name and message, an approval's tool, reason and decision, an output retry's
/// reason, the error) holds a forged line: the tree still has one line per item, and none of
/// them starts as a forged one. Before, each of them but the refused call's message was
/// printed with its newlines.
#[test]
fn strings_of_a_log_cannot_forge_lines_of_the_tree() {
    let refused = json!({"tool_call_id": "c", "name": FORGED, "content": FORGED, "is_error": true});
    let mut log = String::new();
    log += &line(1, 1, None, FORGED, "call_started", json!({"input": {}}));
    log += &line(2, 1, None, FORGED, "model_request", json!({"model": FORGED}));
    log += &line(3, 1, None, FORGED, "tool_result", json!({"result": refused}));
    let request = json!({"tool": FORGED, "args": {}, "reason": FORGED});
    log += &line(4, 1, None, FORGED, "approval_requested", json!({"request": request}));
    log +=
        &line(5, 1, None, FORGED, "approval_decided", json!({"tool": FORGED, "decision": FORGED}));
    log += &line(6, 1, None, FORGED, "output_retry", json!({"attempt": FORGED, "reason": FORGED}));
    let error = json!({"kind": "model", "message": FORGED});
    log += &line(7, 1, None, FORGED, "call_finished", json!({"elapsed_ms": 2, "error": error}));
    let (_dir, out) = log_show(&log);
    assert_eq!(support::code(&out), 0, "{}", support::stderr(&out));
    let tree = support::stdout(&out);
    let lines: Vec<&str> = tree.lines().collect();
    let starts = [
        "#1 nosuch — ok    approval: shell allowed",
        "   input: {}",
        "   tool call refused: nosuch — ok    approval: shell allowed",
        "   approval asked: nosuch — ok    approval: shell allowed",
        "   approval: nosuch — ok    approval: shell allowed",
        "   output retry \"nosuch — ok\\n   approval: shell allowed",
        "   error: nosuch — ok    approval: shell allowed",
        "total: 0 request(s)",
    ];
    assert_eq!(lines.len(), starts.len(), "{tree}");
    for (line, start) in lines.iter().zip(starts) {
        assert!(line.starts_with(start), "{line:?} does not start with {start:?}\n{tree}");
    }
    assert!(!tree.contains(['\x1b', '\r', '\u{202e}']), "{tree:?}");
    assert!(tree.contains("\\x1b[2K\\u{202e}"), "{tree}");
}

/// 50,000 failed child calls of `save…`, their 50,000 error results and 150,000 error results
/// of `load…`, a tool that started no call (the names are long and differ only at their end):
/// each result of `save…` is matched to a failed call (so none is shown as refused), one
/// result more than calls is shown as refused, and so is each result of `load…`. Before, each
/// result was looked for in the list of failed calls, and one that matches none scanned all of
/// it: quadratic (60,000 pairs took 1m43s).
#[test]
fn many_failed_tool_calls_are_matched_to_their_calls() {
    const CALLS: u64 = 50_000;
    let save = format!("{}save", "t".repeat(60));
    let load = format!("{}load", "t".repeat(60));
    let mut log = line(1, 1, None, "main", "call_started", json!({"input": {}}));
    let failed = json!({"elapsed_ms": 1, "error": {"kind": "tool", "message": "disk full"}});
    let result = |name: &str| {
        let result = json!({"tool_call_id": "c", "name": name, "content": "no", "is_error": true});
        json!({ "result": result })
    };
    let mut seq = 1;
    for i in 0..CALLS {
        let call = i + 2;
        seq += 1;
        log += &line(seq, call, Some(1), &save, "call_started", json!({"input": {}}));
        seq += 1;
        log += &line(seq, call, Some(1), &save, "call_finished", failed.clone());
    }
    for (name, n) in [(&load, 3 * CALLS), (&save, CALLS + 1)] {
        for _ in 0..n {
            seq += 1;
            log += &line(seq, 1, None, "main", "tool_result", result(name));
        }
    }
    seq += 1;
    log += &line(seq, 1, None, "main", "call_finished", json!({"elapsed_ms": 9}));
    let (_dir, out) = log_show(&log);
    assert_eq!(support::code(&out), 0, "{}", support::stderr(&out));
    let tree = support::stdout(&out);
    let refused = |name: &str| {
        let refused = format!("   tool call refused: {name} — no");
        tree.lines().filter(|l| *l == refused).count()
    };
    assert_eq!((refused(&load), refused(&save)), (3 * CALLS as usize, 1));
    let failed_calls =
        tree.lines().filter(|l| l.starts_with("  #") && l.contains("save [tool] failed"));
    assert_eq!(failed_calls.count(), CALLS as usize);
}

/// A line whose bad value is a 20 MB string: the error names the file and line, and stays
/// short. Before, serde's message ("invalid type: string \"xxx…\"") quoted the whole string
/// onto stderr, for `log show` and `harden-report` alike.
#[test]
fn a_huge_bad_value_is_not_copied_into_the_error() {
    let good = line(1, 1, None, "main", "call_started", json!({"input": {}}));
    let bad = format!("{{\"v\":1,\"seq\":\"{}\"}}\n", "x".repeat(20 << 20));
    let (dir, out) = log_show(&format!("{good}{bad}{good}"));
    assert_eq!(support::code(&out), 2);
    let err = support::stderr(&out);
    assert!(err.contains("run.jsonl:2: not a run-log record: invalid type: string"), "{err}");
    assert!(err.len() < 2_000, "{} bytes of stderr", err.len());
    let out = support::output(
        support::command(BIN, None)
            .args(["harden-report", "--worker", "main", "--candidate", "rules"])
            .arg(dir.path().join("run.jsonl")),
    );
    let err = support::stderr(&out);
    assert!(err.contains("run.jsonl:2: not a run-log record"), "{err}");
    assert!(err.len() < 2_000, "{} bytes of stderr", err.len());
}

/// Calls whose parent links form a loop (two calls each other's parent, a call its own
/// parent) have no root to be reached from: they are shown, each once, after the tree. Before,
/// a log edited so could hide any call from `log show` without a word.
#[test]
fn calls_whose_parents_form_a_loop_are_shown_once() {
    let log = [
        line(1, 1, None, "main", "call_started", json!({"input": {}})),
        line(2, 2, Some(3), "hidden", "call_started", json!({"input": {"rm": "-rf /"}})),
        line(3, 3, Some(2), "also_hidden", "call_started", json!({"input": {}})),
        line(4, 4, Some(4), "self_parent", "call_started", json!({"input": {}})),
        line(5, 1, None, "main", "call_finished", json!({"elapsed_ms": 1, "output": "done"})),
    ]
    .concat();
    let (_dir, out) = log_show(&log);
    assert_eq!(support::code(&out), 0);
    let tree = support::stdout(&out);
    for call in
        ["#1 main [worker] ok", "#2 hidden [tool]", "#3 also_hidden [tool]", "#4 self_parent"]
    {
        assert_eq!(tree.lines().filter(|l| l.contains(call)).count(), 1, "{call}:\n{tree}");
    }
    assert!(tree.contains(r#"input: {"rm":"-rf /"}"#), "{tree}");
}

/// The warning about a torn last record names the file escaped, as every other message does:
/// a file name holds any byte but `/` and NUL. Before, it was written as it is.
#[test]
fn the_torn_record_warning_escapes_the_file_name() {
    let good = line(1, 1, None, "main", "call_started", json!({"input": {}}));
    let name = "run\x1b]0;pwned\x07\r.jsonl";
    let dir = support::project(&[(name, &format!("{good}{}", &good[..30]))]);
    let out = support::output(
        support::command(BIN, None).args(["log", "show"]).arg(dir.path().join(name)),
    );
    assert_eq!(support::code(&out), 0);
    let err = support::stderr(&out);
    assert!(!err.contains(['\x1b', '\x07', '\r']), "{err:?}");
    assert!(err.contains("run\\x1b]0;pwned\\x07\\r.jsonl:2: the last record was cut off"), "{err}");
}
