//! The shared corpus of secrets (`tests/fixtures/secrets.json`) against the one redaction rule:
//! every secret disappears from its text as it is, from the text JSON-encoded (where a line
//! break becomes `\n`), from a JSON value holding it, and from tool arguments, both parsed and
//! as raw JSON text.

use llm_do_core::secrets::{REDACTED, Redactor, is_secret_name};
use serde_json::{Value, json};

fn corpus() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/secrets.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn redactor(corpus: &Value) -> Redactor {
    let env = corpus["env"].as_object().unwrap();
    Redactor::new().with_env(env.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())))
}

#[test]
fn every_secret_of_the_corpus_is_redacted_in_every_form() {
    let corpus = corpus();
    let r = redactor(&corpus);
    for entry in corpus["secrets"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let secret = entry["secret"].as_str().unwrap();
        let mut forms: Vec<String> = Vec::new();
        if let Some(text) = entry["text"].as_str() {
            forms.push(r.redact(text));
            forms.push(r.redact(&Value::String(text.to_owned()).to_string()));
            forms.push(r.redact(&json!({"arguments": {"text": text}}).to_string()));
            forms.push(r.redact_json(json!({"content": text, "list": [text]})).to_string());
            forms.push(r.redact(&format!("prefix text {text} suffix")));
        }
        if let Some(args) = entry.get("args") {
            forms.push(r.redact(&args.to_string()));
            forms.push(r.redact(&serde_json::to_string_pretty(args).unwrap()));
            forms.push(r.redact_json(args.clone()).to_string());
            // Arguments as a string inside a JSON document (a tool call in a log or cassette).
            forms.push(r.redact(&json!({"arguments": args.to_string()}).to_string()));
        }
        assert!(!forms.is_empty(), "{name}: no text and no args");
        for form in forms {
            assert!(!form.contains(secret), "{name}: `{secret}` survived in {form}");
            assert!(form.contains(REDACTED), "{name}: {form}");
        }
    }
}

#[test]
fn the_corpus_environment_names_are_secret_names() {
    for name in corpus()["env"].as_object().unwrap().keys() {
        assert!(is_secret_name(name), "{name}");
    }
}

#[test]
fn text_without_secrets_is_left_alone() {
    let corpus = corpus();
    let r = redactor(&corpus);
    let look_alikes = corpus["not_secrets"].as_array().unwrap().iter().filter_map(Value::as_str);
    for text in [
        "The sky is blue.",
        "{\"max_tokens\": 100, \"path\": \"notes/a.md\", \"key\": \"k\"}",
        "task-manager ask-for-help desk-0123456789abcdefghij",
        "line one\nline two",
    ]
    .into_iter()
    .chain(look_alikes)
    {
        assert_eq!(r.redact(text), text);
        let json = Value::String(text.to_owned()).to_string();
        assert_eq!(r.redact(&json), json);
    }
}
