//! The user message a worker call starts with — the one home of that rule for a run's first
//! message and a chat turn's prompt — and the earlier turns of a chat as the model can take
//! them.
//!
//! - [`user_message`]: the rendered prompt, with the attachment arguments (by input schema)
//!   read, confined and lowered to parts the model can take ([`crate::attachment`]), or an
//!   error before any request.
//! - [`earlier_turns`]: a chat's history, where an attachment of an earlier turn whose bytes
//!   are gone (a conversation saved and loaded again keeps only digests) or that the model
//!   cannot take is replaced by a text placeholder naming it, rather than failing the turn.

use crate::agent::resolve_model;
use crate::attachment::{self, Attachment, AttachmentLimits, InputCapabilities};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::message::{ContentPart, Message};
use crate::spec::{CallableSpec, WorkerConfig};
use serde_json::Value;

/// The first user message of a call of `spec` with `args`: the rendered prompt, with the
/// attachment arguments as parts the model can take — or as text, or an
/// [`Error::Attachment`] before any request.
pub(crate) fn user_message(
    ctx: &Ctx,
    spec: &CallableSpec,
    config: &WorkerConfig,
    args: &Value,
) -> Result<Message> {
    if !spec.has_attachment_params() {
        return Ok(Message::user(config.prompt.render(args)));
    }
    let (loader, limits) = ctx.attachments();
    let attachment_error = |source| Error::Attachment { name: spec.name().to_owned(), source };
    let (shown, files) = attachment::split_arguments(spec.input_schema(), args, loader, limits)
        .map_err(attachment_error)?;
    let prompt = config.prompt.render(&shown);
    if files.is_empty() {
        return Ok(Message::user(prompt));
    }
    let resolved = resolve_model(ctx, spec, config)?;
    let mut parts = vec![ContentPart::text(prompt)];
    parts.extend(files.into_iter().map(ContentPart::Attachment));
    attachment::lower(parts, &resolved.model.input_capabilities(), &resolved.label, limits)
        .map_err(attachment_error)
}

/// The messages of a chat's earlier turns as `model` (a label) can take them: in each
/// [`Message::UserParts`], an attachment whose content is not at hand (only its digest was
/// kept) or that the model cannot take becomes a text placeholder naming it; the others are
/// lowered as usual ([`attachment::lower`]). Never fails: an earlier turn's file must not make
/// every later turn fail.
pub(crate) fn earlier_turns(
    messages: impl IntoIterator<Item = Message>,
    capabilities: &InputCapabilities,
    model: &str,
    limits: &AttachmentLimits,
) -> Vec<Message> {
    messages
        .into_iter()
        .map(|message| match message {
            Message::UserParts { parts } => attachment::user_message_of(
                parts
                    .into_iter()
                    .map(|part| match part {
                        ContentPart::Attachment(a) => earlier_part(a, capabilities, model, limits),
                        text => text,
                    })
                    .collect(),
            ),
            other => other,
        })
        .collect()
}

/// One attachment of an earlier turn: as the model takes it, else a placeholder.
fn earlier_part(
    a: Attachment,
    capabilities: &InputCapabilities,
    model: &str,
    limits: &AttachmentLimits,
) -> ContentPart {
    if a.bytes().is_none() && a.source_url().is_none() {
        return ContentPart::text(format!("{} not available]", placeholder(&a)));
    }
    match attachment::lower_one(a.clone(), capabilities, model, limits) {
        Ok(part) => part,
        Err(e) => ContentPart::text(format!("{} not shown: {e}]", placeholder(&a))),
    }
}

/// `[attachment NAME (TYPE, N bytes, sha256 PREFIX…) from an earlier turn,` (the caller ends
/// it).
fn placeholder(a: &Attachment) -> String {
    let mut about = vec![a.media_type().to_owned()];
    if let Some(size) = a.size() {
        about.push(format!("{size} bytes"));
    }
    if let Some(sha) = a.sha256().filter(|s| !s.is_empty()) {
        about.push(format!("sha256 {}…", sha.get(..12).unwrap_or(&sha)));
    }
    format!("[attachment {} ({}) from an earlier turn,", a.display_name(), about.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::attachment::{
        Attachment, AttachmentError, AttachmentErrorKind, AttachmentLimits, AttachmentLoader,
        InputCapabilities,
    };
    use crate::conversation::Conversation;
    use crate::message::{ContentPart, Message};
    use crate::model::{Model, ModelError, ModelRequest, ModelResponse};
    use crate::{Ctx, Error, Runtime, WorkerSpecBuilder};
    use futures::future::BoxFuture;
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    /// Keeps the messages of every request and answers "ok".
    #[derive(Clone)]
    struct Recorder(Arc<Mutex<Vec<Vec<Message>>>>, InputCapabilities);
    impl Model for Recorder {
        fn request<'a>(
            &'a self,
            req: &'a ModelRequest,
        ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
            self.0.lock().unwrap().push(req.messages.clone());
            Box::pin(async { Ok(ModelResponse::text("ok")) })
        }
        fn input_capabilities(&self) -> InputCapabilities {
            self.1
        }
    }

    /// Serves `chart.png` (a PNG) and `notes.txt`; every other path is refused.
    struct Files;
    impl AttachmentLoader for Files {
        fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
            match path {
                "chart.png" => Attachment::from_bytes(PNG.to_vec(), Some(path)),
                "notes.txt" => Attachment::from_bytes(b"Revenue grew 40%.".to_vec(), Some(path)),
                _ => Err(AttachmentError::new(
                    AttachmentErrorKind::PathEscape,
                    format!("`{path}` is outside the root"),
                )),
            }
        }
    }

    /// `look` (an attachment parameter) and `talk` (text), both on a recording model.
    fn runtime(capabilities: InputCapabilities) -> (Ctx, Arc<Mutex<Vec<Vec<Message>>>>) {
        let look = WorkerSpecBuilder::new("look")
            .prompt("Look at {file}")
            .input_schema(json!({"type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "attachment"}}}))
            .model("rec:m")
            .build()
            .unwrap();
        let talk = WorkerSpecBuilder::new("talk")
            .prompt("{input}")
            .input_schema(json!({"type": "object", "properties": {"input": {"type": "string"}}}))
            .model("rec:m")
            .build()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ctx = Runtime::builder()
            .ignore_env()
            .register(look)
            .register(talk)
            .provider("rec", Recorder(seen.clone(), capabilities))
            .attachment_loader(Files)
            .build()
            .ctx();
        (ctx, seen)
    }

    fn last_sent(seen: &Mutex<Vec<Vec<Message>>>) -> Vec<Message> {
        seen.lock().unwrap().last().cloned().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_chat_turn_sends_its_attachment_argument_as_a_part() {
        let (ctx, seen) = runtime(InputCapabilities::ALL);
        let mut chat = Conversation::new();
        ctx.chat_value("look", &mut chat, json!("chart.png")).await.unwrap();
        let png = Attachment::from_bytes(PNG.to_vec(), Some("chart.png")).unwrap();
        let prompt = Message::UserParts {
            parts: vec![
                ContentPart::text("Look at [attached: chart.png]"),
                ContentPart::Attachment(png),
            ],
        };
        assert_eq!(last_sent(&seen).last(), Some(&prompt));
        // The conversation keeps the message as sent; the next turn sends it again.
        assert_eq!(chat.messages()[0], prompt);
        ctx.chat_value("talk", &mut chat, json!("and now?")).await.unwrap();
        assert_eq!(last_sent(&seen)[0], prompt);
    }

    #[tokio::test]
    async fn a_chat_turn_lowers_files_for_a_text_model_and_confines_paths() {
        let (ctx, seen) = runtime(InputCapabilities::TEXT_ONLY);
        let mut chat = Conversation::new();
        ctx.chat_value("look", &mut chat, json!({"file": "notes.txt"})).await.unwrap();
        let Some(Message::User { content }) = last_sent(&seen).last().cloned() else {
            panic!("a text message: {:?}", last_sent(&seen))
        };
        assert!(content.starts_with("Look at [attached: notes.txt]\n\n--- notes.txt"), "{content}");
        assert!(content.contains("Revenue grew 40%."), "{content}");

        // A refused path, or an image for a text model: an error before any request, and
        // the conversation is unchanged.
        let requests = seen.lock().unwrap().len();
        for (file, kind) in [
            ("../secret.txt", AttachmentErrorKind::PathEscape),
            ("chart.png", AttachmentErrorKind::Unsupported),
        ] {
            let err = ctx.chat_value("look", &mut chat, json!(file)).await.unwrap_err();
            let Error::Attachment { name, source } = &err else { panic!("{err:?}") };
            assert_eq!((name.as_str(), source.kind()), ("look", kind), "{err}");
        }
        assert_eq!(seen.lock().unwrap().len(), requests);
        assert_eq!(chat.turns(), 1);
    }

    #[tokio::test]
    async fn a_resumed_conversation_names_the_files_it_no_longer_has() {
        let (ctx, seen) = runtime(InputCapabilities::ALL);
        let mut chat = Conversation::new();
        ctx.chat_value("look", &mut chat, json!("chart.png")).await.unwrap();
        // Saved and loaded: only the digest of the PNG is left.
        let mut resumed = Conversation::from_json(&chat.to_json()).unwrap();
        ctx.chat_value("talk", &mut resumed, json!("what did it show?")).await.unwrap();
        let sha = Attachment::from_bytes(PNG.to_vec(), None).unwrap().sha256().unwrap();
        let expected = format!(
            "Look at [attached: chart.png]\n\n[attachment chart.png (image/png, {} bytes, sha256 \
             {}…) from an earlier turn, not available]",
            PNG.len(),
            &sha[..12]
        );
        assert_eq!(last_sent(&seen)[0], Message::user(expected));
        // What is kept is still the record of the file, not the placeholder.
        assert!(matches!(resumed.messages()[0], Message::UserParts { .. }));
        assert_eq!(resumed.turns(), 2);
    }

    #[tokio::test]
    async fn an_earlier_file_the_model_cannot_take_is_named_not_fatal() {
        let (vision, _) = runtime(InputCapabilities::ALL);
        let mut chat = Conversation::new();
        vision.chat_value("look", &mut chat, json!("chart.png")).await.unwrap();
        // The same conversation continued with a text-only model.
        let (text, seen) = runtime(InputCapabilities::TEXT_ONLY);
        text.chat_value("talk", &mut chat, json!("and?")).await.unwrap();
        let Message::User { content } = &last_sent(&seen)[0] else { panic!() };
        assert!(
            content.contains("[attachment chart.png (image/png, 16 bytes, sha256 ")
                && content.contains(
                    "from an earlier turn, not shown: attachment not supported by the model"
                ),
            "{content}"
        );
    }
}
