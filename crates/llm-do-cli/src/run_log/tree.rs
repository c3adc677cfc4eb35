//! A run log as a call tree ([`render_tree`], `llm-do log show FILE`).

use super::calls::error_message;
use super::record::LogRecord;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

/// Renders a run log as a call tree: one line per call (name, kind, model, elapsed time,
/// tokens, outcome), its input and output, the approvals, the output retries, and the tool
/// calls its model asked for that were refused before they became calls (an unknown tool,
/// arguments that do not fit), indented by depth.
///
/// ```
/// # use llm_do_cli::run_log::render_tree;
/// assert_eq!(render_tree(&[]), "(empty run log)\n");
/// ```
pub fn render_tree(records: &[LogRecord]) -> String {
    if records.is_empty() {
        return "(empty run log)\n".to_owned();
    }
    let mut order: Vec<u64> = Vec::new();
    let mut by_call: HashMap<u64, Vec<&LogRecord>> = HashMap::new();
    let mut children: BTreeMap<Option<u64>, Vec<u64>> = BTreeMap::new();
    for r in records {
        let entry = by_call.entry(r.call).or_default();
        if entry.is_empty() {
            order.push(r.call);
            children.entry(r.parent).or_default().push(r.call);
        }
        entry.push(r);
    }
    let mut out = String::new();
    let mut roots: Vec<u64> = order
        .iter()
        .copied()
        .filter(|c| by_call[c][0].parent.is_none_or(|p| !by_call.contains_key(&p)))
        .collect();
    // A log is a file anyone can edit: calls whose parent links form a loop are reached from
    // no root. They are shown after the tree, each once, rather than left out without a word.
    let mut shown: HashSet<u64> = HashSet::new();
    for root in &roots {
        reachable(*root, &children, &mut shown);
    }
    for call in &order {
        if !shown.contains(call) {
            roots.push(*call);
            reachable(*call, &children, &mut shown);
        }
    }
    let mut total = llm_do::Usage::default();
    let mut rendered = HashSet::new();
    for root in roots {
        render_call(root, 0, &by_call, &children, &mut rendered, &mut out);
        if let Some(u) = by_call[&root]
            .iter()
            .find(|r| r.event == "call_finished" || r.event == "call_cancelled")
            .and_then(|r| r.data.get("usage"))
            .and_then(|u| serde_json::from_value::<llm_do::Usage>(u.clone()).ok())
        {
            total += u;
        }
    }
    let _ = writeln!(
        out,
        "total: {} request(s), {} input + {} output tokens",
        total.requests, total.input_tokens, total.output_tokens
    );
    out
}

/// Adds `call` and every call below it to `seen`, without entering a call twice (the parent
/// links of a hand-written log may loop).
fn reachable(call: u64, children: &BTreeMap<Option<u64>, Vec<u64>>, seen: &mut HashSet<u64>) {
    let mut stack = vec![call];
    while let Some(call) = stack.pop() {
        if seen.insert(call) {
            stack.extend(children.get(&Some(call)).into_iter().flatten().copied());
        }
    }
}

/// Deepest call nesting [`render_tree`] shows (a log is a file anyone can write: its parent
/// links may form a chain of any length).
const MAX_SHOWN_DEPTH: usize = 64;

fn render_call(
    call: u64,
    level: usize,
    by_call: &HashMap<u64, Vec<&LogRecord>>,
    children: &BTreeMap<Option<u64>, Vec<u64>>,
    rendered: &mut HashSet<u64>,
    out: &mut String,
) {
    if !rendered.insert(call) {
        return; // the way back into a loop of parent links
    }
    let records = &by_call[&call];
    let first = records[0];
    let indent = "  ".repeat((first.depth.saturating_sub(1) as usize).min(MAX_SHOWN_DEPTH));
    if level >= MAX_SHOWN_DEPTH {
        let _ =
            writeln!(out, "{indent}… calls nested more than {MAX_SHOWN_DEPTH} deep are not shown");
        return;
    }
    let model = records
        .iter()
        .find(|r| r.event == "model_request")
        .and_then(|r| r.data.get("model"))
        .and_then(Value::as_str)
        .map(|m| format!(" {}", short_text(m)))
        .unwrap_or_default();
    let end = records.iter().find(|r| r.event == "call_finished" || r.event == "call_cancelled");
    let outcome = match end {
        None => "unfinished".to_owned(),
        Some(r) if r.event == "call_cancelled" => "cancelled".to_owned(),
        Some(r) => {
            let ms = r.data.get("elapsed_ms").and_then(Value::as_u64).unwrap_or(0);
            let usage = r.data.get("usage");
            let tokens = usage
                .map(|u| {
                    let (i, o) = (
                        u["input_tokens"].as_u64().unwrap_or(0),
                        u["output_tokens"].as_u64().unwrap_or(0),
                    );
                    if i + o > 0 { format!(", {i}+{o} tokens") } else { String::new() }
                })
                .unwrap_or_default();
            let status = if r.data.get("error").is_some() { "failed" } else { "ok" };
            format!("{status}, {}{tokens}", crate::display::format_elapsed_ms(ms))
        }
    };
    let _ = writeln!(
        out,
        "{indent}#{call} {} [{}{model}] {outcome}",
        short_text(&first.name),
        short_text(&first.callable)
    );
    let detail = format!("{indent}   ");
    if let Some(input) = first.data.get("input") {
        let _ = writeln!(out, "{detail}input: {}", short(input));
    }
    // Failed tool calls that started no call of their own (an unknown tool, arguments that are
    // not JSON or do not match the schema, a denial) are seen only in their results: matched
    // by name against the failed child calls (counted by name: a log may hold any number of
    // them), the rest are shown here.
    let mut failed_children: HashMap<&str, usize> = HashMap::new();
    for name in children
        .get(&Some(call))
        .into_iter()
        .flatten()
        .filter(|c| {
            by_call[c].iter().any(|r| r.event == "call_finished" && r.data.get("error").is_some())
        })
        .map(|c| by_call[c][0].name.as_str())
    {
        *failed_children.entry(name).or_default() += 1;
    }
    for r in records {
        match r.event.as_str() {
            "tool_result" if r.data["result"]["is_error"] == Value::Bool(true) => {
                let result = &r.data["result"];
                let name = result["name"].as_str().unwrap_or("?");
                match failed_children.get_mut(name) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        let _ = writeln!(
                            out,
                            "{detail}tool call refused: {} — {}",
                            short_text(name),
                            short_text(result["content"].as_str().unwrap_or(""))
                        );
                    }
                }
            }
            "approval_requested" => {
                let req = &r.data["request"];
                let _ = writeln!(
                    out,
                    "{detail}approval asked: {}({}) — {}",
                    short_text(req["tool"].as_str().unwrap_or("?")),
                    short(&req["args"]),
                    short_text(&approval_reason(&req["reason"]))
                );
            }
            "approval_decided" => {
                let _ = writeln!(
                    out,
                    "{detail}approval: {} {}",
                    short_text(r.data["tool"].as_str().unwrap_or("?")),
                    short_text(r.data["decision"].as_str().unwrap_or(""))
                );
            }
            "output_retry" => {
                let _ = writeln!(
                    out,
                    "{detail}output retry {}: {}",
                    short(&r.data["attempt"]),
                    short_text(r.data["reason"].as_str().unwrap_or(""))
                );
            }
            _ => {}
        }
    }
    for child in children.get(&Some(call)).into_iter().flatten() {
        render_call(*child, level + 1, by_call, children, rendered, out);
    }
    if let Some(end) = end {
        if let Some(output) = end.data.get("output") {
            let _ = writeln!(out, "{detail}output: {}", short(output));
        }
        if let Some(error) = end.data.get("error").and_then(error_message) {
            let _ = writeln!(out, "{detail}error: {}", short_text(error));
        }
    }
}

/// A value on one line, its secrets redacted, cut to 200 characters.
fn short(value: &Value) -> String {
    let redactor = crate::terminal::redactor();
    match value {
        Value::String(s) => short_text(&format!("{:?}", redactor.redact(s))),
        other => short_text(&redactor.redact_json(other.clone()).to_string()),
    }
}

/// A field of the log as the tree shows it: the one rule for every string of a log the tree
/// shows (names, model, reasons, errors, decisions), since a model chooses some of them (a
/// tool name) and a newline in one would forge lines of the tree. On one line (newlines shown
/// as spaces, any other control character escaped), its secrets redacted, cut to 200
/// characters: redacted first, since a secret cut in two is no longer recognised (`log show`
/// would have shown the start of a key cut at the limit).
fn short_text(text: &str) -> String {
    let text = crate::terminal::redactor().redact(text).replace(['\n', '\r'], " ");
    llm_do::bounds::cut(&llm_do::controls::escape_controls_one_line(&text), 199)
}

/// The sentence for an approval request's `reason`: the typed reason
/// ([`llm_do::approval::ApprovalReason`]), or (in older logs) the sentence itself.
fn approval_reason(reason: &Value) -> String {
    match serde_json::from_value::<llm_do::approval::ApprovalReason>(reason.clone()) {
        Ok(reason) => reason.to_string(),
        Err(_) => reason.as_str().unwrap_or("").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(
        seq: u64,
        call: u64,
        parent: Option<u64>,
        name: &str,
        event: &str,
        data: Value,
    ) -> LogRecord {
        LogRecord {
            v: 1,
            seq,
            ts: String::new(),
            call,
            parent,
            depth: if parent.is_some() { 2 } else { 1 },
            name: name.into(),
            callable: if call == 1 { "worker" } else { "tool" }.into(),
            event: event.into(),
            spec: None,
            data,
        }
    }

    fn tool_error(seq: u64, name: &str, content: &str) -> LogRecord {
        let result =
            json!({"tool_call_id": "c", "name": name, "content": content, "is_error": true});
        record(seq, 1, None, "main", "tool_result", json!({ "result": result }))
    }

    /// A tool call that started no call (an unknown tool) is shown under its worker; one that
    /// failed as a call of its own is shown once, as that call.
    #[test]
    fn failed_tool_calls_without_a_call_of_their_own_are_shown_under_their_worker() {
        let failed = json!({"elapsed_ms": 1, "error": {"kind": "tool", "message": "disk full"}});
        let records = [
            record(1, 1, None, "main", "call_started", json!({"input": {}})),
            tool_error(2, "nosuch", "there is no tool named `nosuch`;\navailable tools: save"),
            record(3, 2, Some(1), "save", "call_started", json!({"input": {}})),
            record(4, 2, Some(1), "save", "call_finished", failed),
            tool_error(5, "save", "disk full"),
            record(6, 1, None, "main", "call_finished", json!({"elapsed_ms": 2, "output": "done"})),
        ];
        let tree = render_tree(&records);
        let refused: Vec<&str> = tree.lines().filter(|l| l.contains("tool call refused")).collect();
        assert_eq!(
            refused,
            [
                "   tool call refused: nosuch — there is no tool named `nosuch`; available tools: save"
            ],
            "{tree}"
        );
        assert!(tree.contains("  #2 save [tool] failed"), "{tree}");
    }

    /// A secret that the 200-character cut falls in is redacted whole: before, the cut came
    /// first, and what was left of the key (`sk-abcdefghijklm…`) was no longer recognised.
    #[test]
    fn values_are_redacted_before_they_are_cut() {
        let key = "sk-abcdefghijklmnopqrstuvwxyz0123456789";
        // The input's line (`{"input":"xxx…`) was cut 18 characters into the key.
        let long = format!("{} {key} and more", "x".repeat(170));
        let records = [
            record(1, 1, None, "main", "call_started", json!({"input": {"input": long}})),
            tool_error(2, "nosuch", &long),
            record(3, 1, None, "main", "call_finished", json!({"elapsed_ms": 2, "output": long})),
        ];
        let shown = crate::terminal::safe(&render_tree(&records));
        assert!(!shown.contains("sk-abc"), "{shown}");
        let cut: Vec<&str> = shown.lines().filter(|l| l.contains("xxxxx")).collect();
        assert_eq!(cut.len(), 3, "{shown}");
        for line in cut {
            assert!(line.contains("x [redacted] and mo"), "{line}");
        }
    }
}
