//! How an MCP `CallToolResult` becomes a tool result: structured content as JSON, otherwise
//! the text of its content blocks, with its images as attachments; `isError` as an error the
//! calling model can act on.

use llm_do_core::attachment::{self, Attachment, AttachmentSource, MediaKind};
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::Value;

/// Most characters of a result kept: of its text, and of its structured content as JSON text
/// (longer is cut, with a note).
///
/// ```
/// assert_eq!(llm_do_mcp::MAX_RESULT_CHARS, 100_000);
/// ```
pub const MAX_RESULT_CHARS: usize = 100_000;

/// Converts a result: `Ok(json)` for a success, `Err(message)` for `isError`.
///
/// Structured content wins over content blocks, as it is while its JSON text is at most
/// [`MAX_RESULT_CHARS`] long, else as that text cut, with a note. Blocks are joined by
/// newlines: text as is, an embedded text resource as its text, an image of a supported type
/// (PNG, JPEG, GIF, WebP) as an attachment — the result is then
/// [`attachment::text_with_attachments`], and the runtime gives the images to a model that
/// takes them — other images, audio and binary resources as a short note (`[audio/wav audio,
/// 12 bytes of base64 not shown]`), a resource link as its URI.
pub(crate) fn convert(result: CallToolResult) -> Result<Value, String> {
    let is_error = result.is_error.unwrap_or(false);
    if !is_error && let Some(v) = result.structured_content {
        return Ok(structured(v));
    }
    let mut parts = Vec::new();
    let mut images: Vec<Attachment> = Vec::new();
    for block in &result.content {
        parts.push(match block {
            ContentBlock::Text(t) => t.text.clone(),
            ContentBlock::Image(i) => match image(&i.mime_type, &i.data, images.len() + 1) {
                Some(a) if !is_error => {
                    let shown = format!("[image {}]", a.display_name());
                    images.push(a);
                    shown
                }
                _ => format!("[{} image, {} bytes of base64 not shown]", i.mime_type, i.data.len()),
            },
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
    let text = capped(text, "result cut: longer than");
    if is_error {
        Err(text)
    } else if images.is_empty() {
        Ok(Value::String(text))
    } else {
        Ok(attachment::text_with_attachments(&text, &images))
    }
}

/// Structured content as the tool's JSON value, unless its JSON text is longer than
/// [`MAX_RESULT_CHARS`]: then that text, cut, with a note (a server's 5 MB object does not
/// reach the model whole, as 5 MB of text does not).
fn structured(value: Value) -> Value {
    let text = value.to_string();
    if !too_long(&text) {
        return value;
    }
    Value::String(capped(text, "structured result cut: its JSON is longer than"))
}

/// Whether `text` is longer than [`MAX_RESULT_CHARS`] characters.
pub(crate) fn too_long(text: &str) -> bool {
    // No more bytes than the limit: no more characters either (the common case, uncounted).
    text.len() > MAX_RESULT_CHARS && text.chars().count() > MAX_RESULT_CHARS
}

/// `text` cut to [`MAX_RESULT_CHARS`] characters when longer, with a note saying so and how
/// much was cut (`what`, then the limit: `[result cut: longer than 100000 characters; 52 bytes
/// cut]`): the one bound on what crosses MCP as text, both ways — what llm-do takes from a
/// server's results, and what `llm-do mcp` sends its clients, of a failure
/// ([`outgoing_error`](crate::serve::outgoing_error)) and of a success.
pub(crate) fn capped(mut text: String, what: &str) -> String {
    if !too_long(&text) {
        return text;
    }
    let end = text.char_indices().nth(MAX_RESULT_CHARS).map_or(text.len(), |(i, _)| i);
    let cut_bytes = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("\n[{what} {MAX_RESULT_CHARS} characters; {cut_bytes} bytes cut]"));
    text
}

/// An image block as an attachment named `image-N.EXT`, when its type is one llm-do takes and
/// its data is valid base64 of that type.
fn image(mime_type: &str, data: &str, n: usize) -> Option<Attachment> {
    if MediaKind::of(mime_type) != Some(MediaKind::Image) {
        return None;
    }
    let ext = match mime_type.split(';').next().unwrap_or_default().trim() {
        "image/jpeg" => "jpg",
        other => other.strip_prefix("image/").unwrap_or("img"),
    };
    let url = format!("data:{mime_type};name=image-{n}.{ext};base64,{data}");
    match AttachmentSource::parse(&url) {
        Ok(AttachmentSource::Inline(a)) => Some(a),
        _ => None,
    }
}
