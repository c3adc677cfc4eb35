//! What an MCP server says reaches the terminal only made safe: `llm-do check` prints each
//! tool a server lists but that cannot be offered, with the reason, which quotes the server's
//! schema. The server here is a shell script speaking just enough MCP, listing a tool whose
//! schema holds escape sequences, a bidirectional override and a credential.

#![cfg(unix)]

#[path = "support/cli.rs"]
mod support;

use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// Answers `initialize`, `tools/list` (a tool with a hostile, invalid schema and a good one)
/// and anything else with an empty result; notifications have no `id` and get no answer.
const SERVER: &str = r#"#!/bin/sh
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p')
  [ -z "$id" ] && continue
  case "$line" in
    *'"initialize"'*) printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"x","version":"1"}}}\n' "$id" ;;
    *'"tools/list"'*) printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"bad","description":"d","inputSchema":{"type":"object","properties":{"a":{"type":"\\u009b2J\\u202eevil \\u001b[2J sk-abcdefghijklmnopqrstuvwxyz0123"}}}},{"name":"good","description":"fine","inputSchema":{"type":"object"}}]}}\n' "$id" ;;
    *) printf '{"jsonrpc":"2.0","id":%s,"result":{}}\n' "$id" ;;
  esac
done
"#;

#[test]
fn check_shows_a_left_out_tool_s_reason_safe_for_a_terminal() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = project(&[
        ("srv.sh", SERVER),
        ("llm-do.toml", "[mcp.s]\ncommand = \"./srv.sh\"\n"),
        ("main.worker", "---\ntools: [s.*]\n---\nSay {input}\n"),
    ]);
    let script = dir.path().join("srv.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("mcp server `s`: 1 tool (s__good)"), "{text}");
    let warning = text.lines().find(|l| l.contains("warning: tool `bad` left out")).unwrap();
    assert!(warning.contains("is not a valid JSON Schema"), "{warning}");
    for hostile in ['\x1b', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(hostile), "{hostile:?} in {text:?}");
    }
    assert!(!text.contains("sk-abcdefghijklmnopqrstuvwxyz0123"), "{text}");
    assert!(warning.contains("[redacted]"), "{warning}");
}
