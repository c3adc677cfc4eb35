//! The results as a Markdown table: llm-do, its peer and the ratio, row by row. The peer of
//! benches 1–4 is pydantic-ai (same path in its results); bench 5's is llama.cpp's server
//! (`llama_cpp.local_serve`), beside both of llm-do's paths (in-process and served).

use serde_json::Value;

/// Whether a smaller or a larger figure is better.
#[derive(Clone, Copy)]
enum Better {
    Lower,
    Higher,
}

/// One row: a label, where the figure is in llm-do's results and in its peer's, its unit.
struct Row {
    label: String,
    path: Vec<String>,
    /// The peer's results (a top-level key) and the figure's path in them.
    peer: (&'static str, Vec<String>),
    unit: &'static str,
    better: Better,
    digits: usize,
}

fn row(label: &str, path: &str, unit: &'static str, better: Better, digits: usize) -> Row {
    let path: Vec<String> = path.split('.').map(str::to_owned).collect();
    Row { label: label.to_owned(), peer: ("pydantic_ai", path.clone()), path, unit, better, digits }
}

impl Row {
    /// The same row, compared with `path` in the `peer`'s results.
    fn versus(mut self, peer: &'static str, path: &str) -> Self {
        self.peer = (peer, path.split('.').map(str::to_owned).collect());
        self
    }
}

/// The peers, as keys of the results and as named in the table's header.
const PEERS: [(&str, &str); 2] = [("pydantic_ai", "pydantic-ai"), ("llama_cpp", "llama.cpp")];

/// Looks `path` up; a numeric segment indexes an array, `[variant=NAME]` picks an element.
fn lookup<'a>(mut value: &'a Value, path: &[String]) -> Option<&'a Value> {
    for key in path {
        value = if let Some(selector) = key.strip_prefix('[').and_then(|k| k.strip_suffix(']')) {
            let (field, wanted) = selector.split_once('=')?;
            let pairs: Vec<(&str, &str)> =
                wanted.split('&').map(|w| w.split_once(':').unwrap_or((field, w))).collect();
            value.as_array()?.iter().find(|item| {
                item[field].as_str() == Some(pairs[0].1)
                    && pairs[1..].iter().all(|(f, w)| item[*f].as_str() == Some(w))
            })?
        } else {
            value.get(key)?
        };
    }
    Some(value)
}

fn rows() -> Vec<Row> {
    use Better::{Higher, Lower};
    let mut rows = Vec::new();
    for v in ["text", "structured"] {
        rows.push(row(
            &format!("1. in-process, µs per run ({v})"),
            &format!("inprocess.results.[variant={v}&model:fn_model].us_per_run"),
            "µs",
            Lower,
            1,
        ));
        rows.push(row(
            &format!("1. in-process on ScriptedModel, µs per run ({v})"),
            &format!("inprocess.results.[variant={v}&model:scripted_model].us_per_run"),
            "µs",
            Lower,
            1,
        ));
    }
    rows.push(row(
        "1. `ctx.call` by name to a trivial tool",
        "inprocess.call_by_name.ns_per_call",
        "ns",
        Lower,
        0,
    ));
    for v in ["text", "structured"] {
        rows.push(row(
            &format!("2. loopback sequential, runs/s ({v})"),
            &format!("loopback.results.[variant={v}].contender.runs_per_s"),
            "runs/s",
            Higher,
            0,
        ));
        rows.push(row(
            &format!("2. raw HTTP floor, runs/s ({v})"),
            &format!("loopback.results.[variant={v}].raw_http.runs_per_s"),
            "runs/s",
            Higher,
            0,
        ));
        rows.push(row(
            &format!("2. harness share of a loopback run ({v})"),
            &format!("loopback.results.[variant={v}].harness_share"),
            "share",
            Lower,
            1,
        ));
        rows.push(row(
            &format!("2. loopback rate as a share of the bare client's ({v}; median of processes)"),
            &format!("loopback_ratio.{v}.median"),
            "share",
            Higher,
            1,
        ));
    }
    rows.push(row("3. C=200 wall time", "concurrency.wall_s", "s", Lower, 3));
    rows.push(row("3. C=200 ideal wall time", "concurrency.ideal_s", "s", Lower, 3));
    rows.push(row("3. C=200 over the ideal", "concurrency.over_ideal_pct", "%", Lower, 1));
    rows.push(row(
        "3. C=200 raw HTTP floor over the ideal",
        "concurrency_raw_http.over_ideal_pct",
        "%",
        Lower,
        1,
    ));
    rows.push(row("3. C=200 run latency p50", "concurrency.p50_ms", "ms", Lower, 1));
    rows.push(row("3. C=200 run latency p99", "concurrency.p99_ms", "ms", Lower, 1));
    rows.push(row(
        "3. C=200 client CPU per run",
        "concurrency.client_cpu_us_per_run",
        "µs",
        Lower,
        0,
    ));
    rows.push(row(
        "3. C=200 test server CPU per run",
        "concurrency.server_cpu_us_per_run",
        "µs",
        Lower,
        0,
    ));
    rows.push(row(
        "3. C=200 raw HTTP floor, client CPU per run",
        "concurrency_raw_http.client_cpu_us_per_run",
        "µs",
        Lower,
        0,
    ));
    rows.push(row("3. C=200 client peak RSS", "concurrency.peak_rss_kib", "MiB", Lower, 1));
    rows.push(row("4. scale: workers in flight", "scale.concurrency", "", Higher, 0));
    rows.push(row("4. scale: runs completed", "scale.completed", "", Higher, 0));
    rows.push(row("4. scale: wall time (ideal 2 × delay)", "scale.wall_s", "s", Lower, 2));
    rows.push(row("4. scale: peak RSS", "scale.peak_rss_kib", "MiB", Lower, 1));
    rows.push(row(
        "4. scale: memory per in-flight worker",
        "scale.bytes_per_worker_in_flight",
        "KiB",
        Lower,
        1,
    ));
    rows.push(row(
        "4. scale: peak memory per worker",
        "scale.bytes_per_worker_peak",
        "KiB",
        Lower,
        1,
    ));
    for (path, label) in [("local_in_process", "in-process"), ("local_serve", "via `llm-do serve`")]
    {
        for (field, what, unit, better) in [
            ("ttft_ms", "time to first token", "ms", Lower),
            ("decode_tokens_per_s", "decode tokens/s", "tok/s", Higher),
            ("tokens_per_s", "overall tokens/s", "tok/s", Higher),
            ("json.ttft_ms", "JSON Schema: time to first token", "ms", Lower),
            ("json.decode_tokens_per_s", "JSON Schema: decode tokens/s", "tok/s", Higher),
        ] {
            let (sep, what) = match what.strip_prefix("JSON Schema: ") {
                Some(rest) => (", JSON Schema: ", rest),
                None => (": ", what),
            };
            rows.push(
                row(
                    &format!("5. local model {label}{sep}{what}"),
                    &format!("{path}.{field}"),
                    unit,
                    better,
                    1,
                )
                .versus("llama_cpp", &format!("local_serve.{field}")),
            );
        }
    }
    rows.push(row(
        "5. JSON Schema constraint: share of decode time (masks)",
        "local_in_process.json.constraint_cost_pct",
        "%",
        Lower,
        1,
    ));
    rows.push(row(
        "5. JSON Schema constraint: grammar compile time",
        "local_in_process.json.grammar_compile_ms",
        "ms",
        Lower,
        1,
    ));
    rows.push(
        row(
            "5. `llm-do serve`, model loaded: peak RSS",
            "local_serve.peak_rss_kib",
            "MiB",
            Lower,
            1,
        )
        .versus("llama_cpp", "local_serve.peak_rss_kib"),
    );
    for stat in ["median", "p99"] {
        rows.push(row(
            &format!("6. durable run on Restate: overhead per journaled step ({stat})"),
            &format!("durable.ms_overhead_per_step.{stat}"),
            "ms",
            Lower,
            2,
        ));
    }
    rows
}

/// Formats a figure in its unit.
fn format(value: f64, unit: &str, digits: usize) -> String {
    match unit {
        "MiB" => format!("{:.*} MiB", digits, value / 1024.0),
        "KiB" => format!("{:.*} KiB", digits, value / 1024.0),
        "%" => format!("{:.*} %", digits, value),
        "share" => format!("{:.*} %", digits, value * 100.0),
        "" => format!("{value:.0}"),
        _ => format!("{:.*} {unit}", digits, value),
    }
}

/// The table of `results` (as written by the suite).
pub fn markdown(results: &Value) -> String {
    let peers: Vec<&str> = PEERS
        .iter()
        .filter(|(key, _)| results[*key].as_object().is_some_and(|m| !m.is_empty()))
        .map(|(_, name)| *name)
        .collect();
    let has_peer = !peers.is_empty();
    let mut out = String::new();
    if has_peer {
        let peers = peers.join(" / ");
        out.push_str(&format!("| bench | llm-do | {peers} | llm-do advantage |\n"));
        out.push_str("|---|---:|---:|---:|\n");
    } else {
        out.push_str("| bench | llm-do |\n|---|---:|\n");
    }
    for r in rows() {
        let find = |who: &str, path: &[String]| -> Option<f64> {
            let path: Vec<String> = path
                .iter()
                .map(|p| if p == "contender" { who.to_owned() } else { p.clone() })
                .collect();
            lookup(&results[who], &path)?.as_f64()
        };
        let Some(ours) = find("llm_do", &r.path) else { continue };
        let cell = format(ours, r.unit, r.digits);
        if !has_peer {
            out.push_str(&format!("| {} | {cell} |\n", r.label));
            continue;
        }
        let theirs = find(r.peer.0, &r.peer.1);
        let peer_cell = theirs.map_or_else(|| "—".to_owned(), |t| format(t, r.unit, r.digits));
        let ratio = match (theirs, r.better, r.unit) {
            (_, _, "%" | "share" | "") => None,
            (Some(t), Better::Lower, _) if ours > 0.0 => Some(t / ours),
            (Some(t), Better::Higher, _) if t > 0.0 => Some(ours / t),
            _ => None,
        };
        // Near 1 (bench 5 against llama.cpp), two decimals tell more than one.
        let ratio = ratio.map_or_else(String::new, |x| {
            if x < 2.0 { format!("{x:.2}×") } else { format!("{x:.1}×") }
        });
        out.push_str(&format!("| {} | {cell} | {peer_cell} | {ratio} |\n", r.label));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_put_both_contenders_side_by_side_with_the_advantage() {
        let results = json!({
            "llm_do": {
                "inprocess": {"results": [
                    {"variant": "text", "model": "fn_model", "us_per_run": 5.0},
                    {"variant": "text", "model": "scripted_model", "us_per_run": 9.0},
                ]},
                "loopback": {"results": [
                    {"variant": "text", "llm_do": {"runs_per_s": 3000.0}, "raw_http": {"runs_per_s": 3500.0}, "harness_share": 0.125},
                ]},
                "loopback_ratio": {"processes": 15, "text": {"median": 0.9314, "q1": 0.9, "q3": 0.95}},
                "concurrency": {"peak_rss_kib": 20480.0, "over_ideal_pct": 12.0},
            },
            "pydantic_ai": {
                "inprocess": {"results": [{"variant": "text", "model": "fn_model", "us_per_run": 5000.0}]},
                "loopback": {"results": [{"variant": "text", "pydantic_ai": {"runs_per_s": 60.0}}]},
                "concurrency": {"peak_rss_kib": 102400.0, "over_ideal_pct": 900.0},
            },
        });
        let table = markdown(&results);
        let line = |start: &str| table.lines().find(|l| l.starts_with(start)).unwrap().to_owned();
        assert_eq!(
            line("| 1. in-process, µs per run (text)"),
            "| 1. in-process, µs per run (text) | 5.0 µs | 5000.0 µs | 1000.0× |"
        );
        assert_eq!(
            line("| 1. in-process on ScriptedModel, µs per run (text)"),
            "| 1. in-process on ScriptedModel, µs per run (text) | 9.0 µs | — |  |"
        );
        assert_eq!(
            line("| 2. loopback sequential, runs/s (text)"),
            "| 2. loopback sequential, runs/s (text) | 3000 runs/s | 60 runs/s | 50.0× |"
        );
        assert_eq!(
            line("| 2. harness share of a loopback run (text)"),
            "| 2. harness share of a loopback run (text) | 12.5 % | — |  |"
        );
        assert_eq!(
            line("| 2. loopback rate as a share of the bare client's (text;"),
            "| 2. loopback rate as a share of the bare client's (text; median of processes) | 93.1 % | — |  |"
        );
        assert!(!table.contains("(structured; median of processes)"), "not measured");
        assert_eq!(
            line("| 3. C=200 client peak RSS"),
            "| 3. C=200 client peak RSS | 20.0 MiB | 100.0 MiB | 5.0× |"
        );
        assert_eq!(
            line("| 3. C=200 over the ideal"),
            "| 3. C=200 over the ideal | 12.0 % | 900.0 % |  |"
        );
        // Figures nobody measured are left out.
        assert!(!table.contains("local model"));
        assert!(!markdown(&json!({"llm_do": {}, "pydantic_ai": {}})).contains("| 1."));
    }

    #[test]
    fn bench_5_shows_the_constrained_generation_and_the_server_memory() {
        let results = json!({
            "llm_do": {
                "local_in_process": {
                    "decode_tokens_per_s": 30.0,
                    "json": {"decode_tokens_per_s": 28.0, "constraint_cost_pct": 0.7, "grammar_compile_ms": 2.0},
                },
                "local_serve": {"json": {"ttft_ms": 900.0}, "peak_rss_kib": 337920.0},
            },
            "pydantic_ai": {},
            "llama_cpp": {},
        });
        let table = markdown(&results);
        assert!(table.starts_with("| bench | llm-do |\n"), "no peer column without a peer");
        for line in [
            "| 5. local model in-process: decode tokens/s | 30.0 tok/s |",
            "| 5. local model in-process, JSON Schema: decode tokens/s | 28.0 tok/s |",
            "| 5. local model via `llm-do serve`, JSON Schema: time to first token | 900.0 ms |",
            "| 5. JSON Schema constraint: share of decode time (masks) | 0.7 % |",
            "| 5. JSON Schema constraint: grammar compile time | 2.0 ms |",
            "| 5. `llm-do serve`, model loaded: peak RSS | 330.0 MiB |",
        ] {
            assert!(table.contains(line), "{line} missing from:\n{table}");
        }
    }

    #[test]
    fn bench_5_compares_both_paths_with_llama_cpp_served() {
        let results = json!({
            "llm_do": {
                "local_in_process": {
                    "decode_tokens_per_s": 48.0, "ttft_ms": 300.0, "json": {"decode_tokens_per_s": 40.0},
                },
                "local_serve": {"decode_tokens_per_s": 45.0, "peak_rss_kib": 174080.0},
            },
            "pydantic_ai": {},
            "llama_cpp": {
                "local_serve": {"decode_tokens_per_s": 50.0, "ttft_ms": 150.0, "peak_rss_kib": 348160.0},
            },
        });
        let table = markdown(&results);
        for line in [
            "| bench | llm-do | llama.cpp | llm-do advantage |",
            "| 5. local model in-process: decode tokens/s | 48.0 tok/s | 50.0 tok/s | 0.96× |",
            "| 5. local model via `llm-do serve`: decode tokens/s | 45.0 tok/s | 50.0 tok/s | 0.90× |",
            "| 5. local model in-process: time to first token | 300.0 ms | 150.0 ms | 0.50× |",
            "| 5. `llm-do serve`, model loaded: peak RSS | 170.0 MiB | 340.0 MiB | 2.0× |",
        ] {
            assert!(table.contains(line), "{line} missing from:\n{table}");
        }
        // A figure only llm-do has: a dash and no ratio; one llm-do lacks: no row.
        let json =
            "| 5. local model in-process, JSON Schema: decode tokens/s | 40.0 tok/s | — |  |";
        assert!(table.contains(json), "{table}");
        assert!(!table.contains("via `llm-do serve`: time to first token"), "{table}");
    }
}
