//! How an MCP `CallToolResult` becomes a tool result: structured content as JSON, otherwise
//! the text of its content blocks; `isError` as an error the calling model can act on.

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::Value;

/// Most characters of a result's text kept (longer text is cut, with a note).
pub const MAX_RESULT_CHARS: usize = 100_000;

/// Converts a result: `Ok(json)` for a success, `Err(message)` for `isError`.
///
/// Structured content wins over content blocks; blocks are joined by newlines: text as is, an
/// embedded text resource as its text, an image, audio or binary resource as a short note
/// (`[image/png image, 12 bytes of base64 not shown]`), a resource link as its URI.
pub(crate) fn convert(result: CallToolResult) -> Result<Value, String> {
    let is_error = result.is_error.unwrap_or(false);
    if !is_error && let Some(v) = result.structured_content {
        return Ok(v);
    }
    let mut parts = Vec::new();
    for block in &result.content {
        parts.push(match block {
            ContentBlock::Text(t) => t.text.clone(),
            ContentBlock::Image(i) => {
                format!("[{} image, {} bytes of base64 not shown]", i.mime_type, i.data.len())
            }
            ContentBlock::Audio(a) => {
                format!("[{} audio, {} bytes of base64 not shown]", a.mime_type, a.data.len())
            }
            ContentBlock::Resource(r) => match &r.resource {
                ResourceContents::TextResourceContents { text, .. } => text.clone(),
                ResourceContents::BlobResourceContents { uri, blob, .. } => {
                    format!("[resource {uri}, {} bytes of base64 not shown]", blob.len())
                }
                #[allow(unreachable_patterns)]
                _ => "[resource not shown]".to_owned(),
            },
            ContentBlock::ResourceLink(link) => format!("[resource {}]", link.uri),
            _ => "[content of a kind llm-do does not show]".to_owned(),
        });
    }
    let mut text = parts.join("\n");
    if is_error
        && text.is_empty()
        && let Some(v) = result.structured_content
    {
        text = v.to_string();
    }
    if text.chars().count() > MAX_RESULT_CHARS {
        text = text.chars().take(MAX_RESULT_CHARS).collect::<String>()
            + "\n[result cut: longer than 100000 characters]";
    }
    if is_error { Err(text) } else { Ok(Value::String(text)) }
}
