//! The normalized form of a request: what is recorded and what replay compares.

use super::redact::redactor;
use llm_do_core::ModelRequest;
use serde_json::Value;

/// A request as a cassette stores it: its JSON form with the tools sorted by name, float
/// settings written as short decimals (`0.8`, not `0.800000011920929`) and secrets redacted.
/// Two requests match on replay when their normalized forms are equal (object key order
/// aside).
///
/// ```
/// use llm_do_core::{Message, ModelRequest, ModelSettings, ToolDefinition};
/// use llm_do_testing::cassette::normalize_request;
/// let t = |n: &str| ToolDefinition::new(n, "", serde_json::json!({"type": "object"}));
/// let req = ModelRequest::new("m", vec![Message::user("hi")])
///     .with_tools(vec![t("b"), t("a")])
///     .with_settings(ModelSettings { temperature: Some(0.8), ..Default::default() });
/// let n = normalize_request(&req);
/// assert_eq!(n["tools"][0]["name"], "a");
/// assert_eq!(n["settings"]["temperature"].to_string(), "0.8");
/// ```
pub fn normalize_request(request: &ModelRequest) -> Value {
    let mut value = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Some(tools) = value.get_mut("tools").and_then(Value::as_array_mut) {
        tools.sort_by(|a, b| {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
            name(a).cmp(&name(b))
        });
    }
    if let Some(settings) = value.get_mut("settings").and_then(Value::as_object_mut) {
        for (key, float) in
            [("temperature", request.settings.temperature), ("top_p", request.settings.top_p)]
        {
            if let (Some(f), Some(slot)) = (float, settings.get_mut(key)) {
                // f32 -> shortest decimal -> f64, so that 0.8 is written as 0.8.
                if let Some(n) =
                    f.to_string().parse::<f64>().ok().and_then(serde_json::Number::from_f64)
                {
                    *slot = Value::Number(n);
                }
            }
        }
    }
    redactor().redact_value(&mut value);
    value
}

/// Compact JSON with sorted keys: equal for equal values whatever their key order.
pub(crate) fn canonical_string(value: &Value) -> String {
    llm_do_core::canonical::string(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::Message;

    #[test]
    fn normalizing_is_idempotent_through_a_round_trip() {
        let req = ModelRequest::new("m", vec![Message::system("s"), Message::user("u")]);
        let n = normalize_request(&req);
        let back: ModelRequest = serde_json::from_value(n.clone()).unwrap();
        assert_eq!(normalize_request(&back), n);
    }

    #[test]
    fn attachments_are_recorded_by_digest_and_replay_compares_the_hash() {
        use crate::cassette::{Cassette, Interaction, ReplayModel};
        use llm_do_core::{Attachment, ContentPart, ModelResponse};
        let pdf = |text: &str| {
            let bytes = format!("%PDF-1.4\n{text}").into_bytes();
            Attachment::from_bytes(bytes, Some("deck.pdf")).unwrap()
        };
        let ask = |a: Attachment| {
            let parts = vec![ContentPart::text("Read it."), ContentPart::Attachment(a)];
            ModelRequest::new("m", vec![Message::UserParts { parts }])
        };
        let n = normalize_request(&ask(pdf("one")));
        let part = &n["messages"][0]["parts"][1];
        assert_eq!(part["type"], "attachment");
        assert_eq!(part["media_type"], "application/pdf");
        assert_eq!(part["name"], "deck.pdf");
        assert_eq!(part["size"], 12);
        assert_eq!(part["sha256"].as_str().map(str::len), Some(64));
        assert!(!n.to_string().contains("base64"), "{n}");

        let mut cassette = Cassette::default();
        cassette.push(Interaction::new(&ask(pdf("one")), ModelResponse::text("ok")));
        let replay = ReplayModel::new(Cassette::from_json(&cassette.to_pretty_json()).unwrap());
        assert_eq!(replay.find(&ask(pdf("one"))).unwrap().text.as_deref(), Some("ok"));
        let other = replay.find(&ask(pdf("two"))).unwrap_err().to_string();
        assert!(other.contains("sha256"), "{other}");
    }
}
