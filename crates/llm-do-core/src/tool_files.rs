//! The files a tool hands back to the model: a result whose output schema is an attachment
//! (or a list of them), or text and files ([`attachment::text_with_attachments_schema`], as
//! MCP tools return). The text becomes the tool result; the files follow in a user message.

use crate::attachment;
use crate::ctx::Ctx;
use crate::message::{ContentPart, Message};
use crate::resolve::ResolvedModel;
use crate::spec::CallableSpec;
use serde_json::Value;

/// Whether a callable's result carries files, by its output schema (worked out once per spec:
/// [`CallableSpec::output_files`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFiles {
    /// A plain result.
    No,
    /// An attachment or a list of them.
    Attachments,
    /// Text and files ([`attachment::text_with_attachments_schema`]).
    TextWithAttachments,
}

impl OutputFiles {
    /// The kind of result `schema` describes.
    pub(crate) fn of(schema: &Value) -> Self {
        if attachment::is_text_with_attachments_schema(schema) {
            OutputFiles::TextWithAttachments
        } else if attachment::is_attachment_schema(schema) {
            OutputFiles::Attachments
        } else {
            OutputFiles::No
        }
    }
}

/// The files of a tool's result, when its output schema is an attachment (or a list of
/// them, or text and files): the text the tool result shows instead, and the user message
/// that carries them (none when the model can take none of them).
pub(crate) fn tool_files(
    ctx: &Ctx,
    spec: &CallableSpec,
    resolved: &ResolvedModel,
    value: &Value,
) -> std::result::Result<Option<(String, Option<Message>)>, String> {
    match spec.output_files() {
        OutputFiles::No => return Ok(None),
        OutputFiles::TextWithAttachments => return text_and_files(ctx, spec, resolved, value),
        OutputFiles::Attachments => {}
    }
    let (_, limits) = ctx.attachments();
    let refs: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(None),
    };
    let mut files = Vec::with_capacity(refs.len());
    for r in refs {
        match attachment::AttachmentSource::parse_fresh(r) {
            Ok(attachment::AttachmentSource::Inline(a)) => files.push(a),
            Ok(attachment::AttachmentSource::Path(_)) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        }
    }
    let names: Vec<String> = files.iter().map(|a| a.describe()).collect();
    let shown = format!("attached below: {}", names.join(", "));
    let mut parts = vec![ContentPart::text(format!("Files returned by `{}`:", spec.name()))];
    parts.extend(files.into_iter().map(ContentPart::Attachment));
    let message =
        attachment::lower(parts, &resolved.model.input_capabilities(), &resolved.label, limits)
            .map_err(|e| e.to_string())?;
    Ok(Some((shown, Some(message))))
}

/// The text and files of a result made of both (an MCP tool's): the text, naming the files,
/// is the tool result; the files the model can take follow in a user message, and each one
/// it cannot take (an image for a text-only model) is named in the text with the reason.
fn text_and_files(
    ctx: &Ctx,
    spec: &CallableSpec,
    resolved: &ResolvedModel,
    value: &Value,
) -> std::result::Result<Option<(String, Option<Message>)>, String> {
    let Some(split) = attachment::split_text_with_attachments(value) else { return Ok(None) };
    let (mut shown, files) = split.map_err(|e| e.to_string())?;
    let (_, limits) = ctx.attachments();
    let capabilities = resolved.model.input_capabilities();
    let mut parts = vec![ContentPart::text(format!("Files returned by `{}`:", spec.name()))];
    let mut attached = Vec::new();
    for file in files {
        let one = vec![ContentPart::Attachment(file.clone())];
        match attachment::lower(one, &capabilities, &resolved.label, limits) {
            Ok(_) => {
                attached.push(file.describe());
                parts.push(ContentPart::Attachment(file));
            }
            Err(e) => shown.push_str(&format!("\n[{} not shown: {e}]", file.describe())),
        }
    }
    if attached.is_empty() {
        return Ok(Some((shown, None)));
    }
    shown.push_str(&format!("\n[attached below: {}]", attached.join(", ")));
    let message = attachment::lower(parts, &capabilities, &resolved.label, limits)
        .map_err(|e| e.to_string())?;
    Ok(Some((shown, Some(message))))
}
