//! The JSON/YAML form of [`Reply`] (documented on [`Reply`]).

use super::reply::{Answer, Args, Body, Call, Failure, Reply};
use llm_do_core::{ModelErrorKind, Usage};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool_call: Option<CallRepr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<CallRepr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorRepr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    usage: Option<UsageRepr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refusal: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    args: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw_args: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<KindRepr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
    /// `Retry-After`, in whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    /// The server's own code for the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindRepr {
    Transport,
    Timeout,
    Status,
    Decode,
    InvalidRequest,
    Refused,
    Other,
}

impl KindRepr {
    fn name(self) -> &'static str {
        match self {
            KindRepr::Transport => "transport",
            KindRepr::Timeout => "timeout",
            KindRepr::Status => "status",
            KindRepr::Decode => "decode",
            KindRepr::InvalidRequest => "invalid_request",
            KindRepr::Refused => "refused",
            KindRepr::Other => "other",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageRepr {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

/// Deserializes a present field as `Some`, even when it is `null` (`"json": null` is a
/// final answer of `null`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The retry default for errors that do not say: transport failures and statuses 408, 429
/// and 5xx are retryable.
fn default_retryable(kind: ModelErrorKind) -> bool {
    match kind {
        ModelErrorKind::Transport | ModelErrorKind::Timeout => true,
        ModelErrorKind::Status(code) => code == 408 || code == 429 || (500..600).contains(&code),
        _ => false,
    }
}

impl TryFrom<ErrorRepr> for Failure {
    type Error = String;

    fn try_from(e: ErrorRepr) -> Result<Self, String> {
        let kind = match (e.kind, e.status) {
            (Some(KindRepr::Status) | None, Some(code)) => ModelErrorKind::Status(code),
            (Some(KindRepr::Status), None) => {
                return Err("an error of kind `status` needs a `status` code".into());
            }
            (Some(kind), Some(_)) => {
                return Err(format!(
                    "`status` only goes with kind `status`, not `{}`",
                    kind.name()
                ));
            }
            (Some(KindRepr::Transport), None) => ModelErrorKind::Transport,
            (Some(KindRepr::Timeout), None) => ModelErrorKind::Timeout,
            (Some(KindRepr::Decode), None) => ModelErrorKind::Decode,
            (Some(KindRepr::InvalidRequest), None) => ModelErrorKind::InvalidRequest,
            (Some(KindRepr::Refused), None) => ModelErrorKind::Refused,
            (Some(KindRepr::Other) | None, None) => ModelErrorKind::Other,
        };
        let retryable = e.retryable.unwrap_or_else(|| default_retryable(kind));
        Ok(Failure {
            kind,
            message: e.message,
            retryable,
            retry_after: e.retry_after,
            code: e.code,
        })
    }
}

impl From<&Failure> for ErrorRepr {
    fn from(f: &Failure) -> Self {
        let (kind, status) = match f.kind {
            ModelErrorKind::Status(code) => (KindRepr::Status, Some(code)),
            ModelErrorKind::Transport => (KindRepr::Transport, None),
            ModelErrorKind::Timeout => (KindRepr::Timeout, None),
            ModelErrorKind::Decode => (KindRepr::Decode, None),
            ModelErrorKind::InvalidRequest => (KindRepr::InvalidRequest, None),
            ModelErrorKind::Refused => (KindRepr::Refused, None),
            _ => (KindRepr::Other, None),
        };
        let retryable = (f.retryable != default_retryable(f.kind)).then_some(f.retryable);
        ErrorRepr {
            kind: Some(kind),
            status,
            message: f.message.clone(),
            retryable,
            retry_after: f.retry_after,
            code: f.code.clone(),
        }
    }
}

impl TryFrom<CallRepr> for Call {
    type Error = String;

    fn try_from(c: CallRepr) -> Result<Self, String> {
        let args = match (c.args, c.raw_args) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "tool call `{}` has both `args` and `raw_args`; keep one",
                    c.name
                ));
            }
            (Some(args), None) => Args::Json(args),
            (None, Some(raw)) => Args::Raw(raw),
            (None, None) => Args::Json(Value::Object(Default::default())),
        };
        Ok(Call { id: c.id, name: c.name, args })
    }
}

impl From<&Call> for CallRepr {
    fn from(c: &Call) -> Self {
        let (args, raw_args) = match &c.args {
            Args::Json(v) => (Some(v.clone()), None),
            Args::Raw(raw) => (None, Some(raw.clone())),
        };
        CallRepr { id: c.id.clone(), name: c.name.clone(), args, raw_args }
    }
}

impl TryFrom<ReplyRepr> for Reply {
    type Error = String;

    fn try_from(r: ReplyRepr) -> Result<Self, String> {
        let has_turn = r.text.is_some()
            || r.refusal.is_some()
            || r.json.is_some()
            || r.tool_call.is_some()
            || !r.tool_calls.is_empty();
        let body = match r.error {
            Some(_) if has_turn => {
                return Err(
                    "an `error` reply cannot also have `text`, `json`, `refusal` or tool calls"
                        .into(),
                );
            }
            Some(e) => Body::Error(Failure::try_from(e)?),
            None => {
                let answer = match (r.text, r.json) {
                    (Some(_), Some(_)) => {
                        return Err("a reply has either `text` or `json`, not both".into());
                    }
                    (Some(text), None) => Some(Answer::Text(text)),
                    (None, Some(json)) => Some(Answer::Json(json)),
                    (None, None) => None,
                };
                let calls = match (r.tool_call, r.tool_calls.is_empty()) {
                    (Some(_), false) => {
                        return Err("use either `tool_call` or `tool_calls`, not both".into());
                    }
                    (Some(call), true) => vec![Call::try_from(call)?],
                    (None, _) => {
                        r.tool_calls.into_iter().map(Call::try_from).collect::<Result<_, _>>()?
                    }
                };
                if answer.is_none() && calls.is_empty() && r.refusal.is_none() {
                    return Err("a reply needs one of `text`, `json`, `tool_call`, `tool_calls`, \
                                `refusal` or `error`"
                        .into());
                }
                Body::Turn { answer, calls }
            }
        };
        Ok(Reply {
            body,
            usage: r.usage.map(|u| Usage::tokens(u.input_tokens, u.output_tokens)),
            model: r.model,
            finish_reason: r.finish_reason,
            refusal: r.refusal,
        })
    }
}

impl From<&Reply> for ReplyRepr {
    fn from(reply: &Reply) -> Self {
        let mut r = ReplyRepr {
            usage: reply.usage.map(|u| UsageRepr {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
            }),
            model: reply.model.clone(),
            finish_reason: reply.finish_reason.clone(),
            refusal: reply.refusal.clone(),
            ..ReplyRepr::default()
        };
        match &reply.body {
            Body::Error(f) => r.error = Some(f.into()),
            Body::Turn { answer, calls } => {
                match answer {
                    Some(Answer::Text(text)) => r.text = Some(text.clone()),
                    Some(Answer::Json(value)) => r.json = Some(value.clone()),
                    None => {}
                }
                match calls.as_slice() {
                    [one] => r.tool_call = Some(one.into()),
                    many => r.tool_calls = many.iter().map(CallRepr::from).collect(),
                }
            }
        }
        r
    }
}

impl Serialize for Reply {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ReplyRepr::from(self).serialize(serializer)
    }
}

/// Accepts the object form, or a bare string as a text reply.
impl<'de> Deserialize<'de> for Reply {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Reply::text(text)),
            other => {
                let repr: ReplyRepr = serde_json::from_value(other).map_err(D::Error::custom)?;
                Reply::try_from(repr).map_err(D::Error::custom)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::ModelError;
    use serde_json::json;

    fn parse(v: Value) -> Result<Reply, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse(json!("hi")), Ok(Reply::text("hi")));
        assert_eq!(parse(json!({"json": null})), Ok(Reply::json(Value::Null)));
        assert_eq!(
            parse(json!({"tool_call": {"name": "now"}})),
            Ok(Reply::tool_call("now", json!({})))
        );
        assert_eq!(
            parse(json!({"tool_call": {"name": "t", "args": null}})),
            Ok(Reply::tool_call("t", Value::Null))
        );
        assert_eq!(
            parse(json!({"tool_call": {"name": "add", "raw_args": "{"}})),
            Ok(Reply::raw_tool_call("add", "{"))
        );
        assert_eq!(
            parse(
                json!({"text": "checking", "tool_calls": [{"name": "a", "args": [1]}], "finish_reason": "tool_calls"})
            ),
            Ok(Reply::tool_calls([("a", json!([1]))])
                .with_text("checking")
                .with_finish_reason("tool_calls"))
        );
        assert_eq!(
            parse(json!({"error": {"status": 503, "message": "overloaded"}})),
            Ok(Reply::error(
                ModelError::new(ModelErrorKind::Status(503), "overloaded").retryable(true)
            ))
        );
        assert_eq!(
            parse(json!({"error": {"kind": "status", "status": 400, "message": "bad"}})),
            Ok(Reply::error(ModelError::new(ModelErrorKind::Status(400), "bad")))
        );
        assert_eq!(
            parse(json!({"error": {"kind": "transport", "message": "reset", "retryable": false}})),
            Ok(Reply::error(ModelError::new(ModelErrorKind::Transport, "reset")))
        );
        assert_eq!(
            parse(json!({"error": {"message": "?"}})),
            Ok(Reply::error(ModelError::new(ModelErrorKind::Other, "?")))
        );
    }

    #[test]
    fn rejects_ambiguous_replies() {
        let bad = [
            (json!({}), "a reply needs one of"),
            (json!({"text": "a", "json": 1}), "either `text` or `json`"),
            (json!({"error": {"message": "x"}, "text": "a"}), "cannot also have"),
            (
                json!({"tool_call": {"name": "a"}, "tool_calls": [{"name": "b"}]}),
                "either `tool_call` or `tool_calls`",
            ),
            (
                json!({"tool_call": {"name": "a", "args": {}, "raw_args": "{}"}}),
                "both `args` and `raw_args`",
            ),
            (json!({"error": {"kind": "status", "message": "x"}}), "needs a `status` code"),
            (
                json!({"error": {"kind": "decode", "status": 500, "message": "x"}}),
                "only goes with kind `status`",
            ),
            (json!({"txt": "typo"}), "unknown field `txt`"),
            (json!({"text": "a", "usage": {"input": 3}}), "unknown field `input`"),
            (json!(42), "invalid type"),
        ];
        for (input, expected) in bad {
            let err = parse(input.clone()).expect_err("rejected");
            assert!(err.contains(expected), "{input}: {err}");
        }
    }

    #[test]
    fn serializes_readably_and_round_trips() {
        let replies = [
            Reply::text("hi"),
            Reply::json(json!({"a": [1, 2]})).with_tokens(10, 2).with_model("m"),
            Reply::tool_call("add", json!({"a": 1})),
            Reply::tool_calls([("a", json!({})), ("b", json!(null))]).with_text("both"),
            Reply::raw_tool_call("add", "{oops"),
            Reply::error(
                ModelError::new(ModelErrorKind::Status(503), "overloaded").retryable(true),
            ),
            Reply::error(ModelError::new(ModelErrorKind::Status(503), "overloaded")),
            Reply::error(ModelError::new(ModelErrorKind::InvalidRequest, "no")),
            Reply::error(
                ModelError::new(ModelErrorKind::Status(429), "slow down")
                    .with_retry_after(std::time::Duration::from_secs(3)),
            ),
        ];
        let text = serde_json::to_value(&replies).expect("serializes");
        assert_eq!(
            text,
            json!([
                {"text": "hi"},
                {"json": {"a": [1, 2]}, "usage": {"input_tokens": 10, "output_tokens": 2}, "model": "m"},
                {"tool_call": {"name": "add", "args": {"a": 1}}},
                {"text": "both", "tool_calls": [{"name": "a", "args": {}}, {"name": "b", "args": null}]},
                {"tool_call": {"name": "add", "raw_args": "{oops"}},
                {"error": {"kind": "status", "status": 503, "message": "overloaded"}},
                {"error": {"kind": "status", "status": 503, "message": "overloaded", "retryable": false}},
                {"error": {"kind": "invalid_request", "message": "no"}},
                {"error": {"kind": "status", "status": 429, "message": "slow down", "retryable": false, "retry_after": 3}},
            ])
        );
        let back: Vec<Reply> = serde_json::from_value(text).expect("parses");
        assert_eq!(back, replies);
    }
}
