//! What the parsers of `.worker` and `.agent` files share: the diagnostics collector
//! [`Parser`], reading the frontmatter, and the keys both formats have (`name`, `model`,
//! schemas).

use super::WorkerFile;
use crate::diagnostic::{Diagnostic, Pos};
use crate::frontmatter::{self, Split};
use crate::yaml::{self, Kind, Node};
use llm_do_core::ModelRef;
use serde_json::{Value, json};
use std::path::Path;

pub(crate) use llm_do_syntax::name::{EXPECTED as NAME_EXPECTED, is_valid as is_valid_name};

pub(crate) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|k| format!("`{k}`")).collect();
    format!("one of {}", quoted.join(", "))
}

/// Collects the diagnostics of one file.
pub(crate) struct Parser<'a> {
    /// The file, as the project directory was named (diagnostics show it).
    pub(crate) file: &'a Path,
    /// The project directory, absolute: toolset roots are resolved against it.
    pub(crate) dir: &'a Path,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Parser<'_> {
    pub(crate) fn error(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic::at(self.file, pos, message).expected(expected));
    }

    /// Reports the unknown key `key` at `pos` ([`Diagnostic::unknown_key`]: "did you mean"
    /// the close one of `keys`, else all of them).
    pub(crate) fn unknown_key(&mut self, pos: Pos, message: String, key: &str, keys: &[&str]) {
        let d = Diagnostic::unknown_key(self.file, pos, message, key, keys, || list(keys));
        self.diagnostics.push(d);
    }

    pub(crate) fn yaml_error(&mut self, e: yaml::YamlError) {
        let mut d = Diagnostic::at(self.file, e.pos, e.message);
        d.expected = e.expected;
        self.diagnostics.push(d);
    }

    pub(crate) fn string(&mut self, key: &str, node: &Node) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.error(node.pos, format!("`{key}` is {}", node.describe()), "a string");
                None
            }
        }
    }

    pub(crate) fn schema(&mut self, key: &str, node: &Node, object: bool) -> Option<Value> {
        let schema = self.json(node)?;
        if object && schema.get("type") != Some(&json!("object")) {
            self.error(
                node.pos,
                "the input schema does not describe an object",
                "a JSON Schema with `type: object` and the parameters under `properties`",
            );
            return None;
        }
        if let Err(e) = llm_do_core::schema::Validator::new(&schema) {
            self.error(
                node.pos,
                format!("`{key}` is not a valid JSON Schema: {e}"),
                "a JSON Schema",
            );
            return None;
        }
        Some(schema)
    }

    pub(crate) fn json(&mut self, node: &Node) -> Option<Value> {
        node.to_json().map_err(|e| self.yaml_error(e)).ok()
    }

    /// Splits a file into its frontmatter entries and body; `None` (the problem reported)
    /// when the frontmatter cannot be read or is not a mapping. `keys` is the hint for the
    /// latter (`` keys such as `name:` and `model:` ``).
    pub(crate) fn frontmatter<'t>(
        &mut self,
        text: &'t str,
        keys: &str,
        fences: frontmatter::Fences,
    ) -> Option<(Split<'t>, Vec<(Node, Node)>)> {
        let split = match frontmatter::split(text, fences) {
            Ok(s) => s,
            Err(e) => {
                self.error(Pos { line: e.line, column: 1 }, e.message, e.expected);
                return None;
            }
        };
        match yaml::parse(split.yaml, split.yaml_line) {
            Ok(None) => Some((split, Vec::new())),
            Ok(Some(Node { kind: Kind::Map(entries), .. })) => Some((split, entries)),
            Ok(Some(node)) => {
                self.error(node.pos, "the frontmatter is not a mapping", keys);
                None
            }
            Err(e) => {
                self.yaml_error(e);
                None
            }
        }
    }

    /// A worker with every default, named after the file's stem.
    pub(crate) fn worker(&self) -> WorkerFile {
        let stem = self.file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        WorkerFile::empty(self.file, stem.to_owned())
    }

    /// `name:` (of a `what`: worker or agent).
    pub(crate) fn name(&mut self, value: &Node, what: &str, worker: &mut WorkerFile) {
        worker.name_pos = value.pos;
        if let Some(name) = self.string("name", value) {
            if is_valid_name(&name) {
                worker.name = name;
            } else {
                self.error(
                    value.pos,
                    format!("`{name}` is not a valid {what} name"),
                    NAME_EXPECTED,
                );
            }
        }
    }

    /// `model:`, a `provider:name` string.
    pub(crate) fn model(&mut self, value: &Node, worker: &mut WorkerFile) {
        if let Some(model) = self.string("model", value) {
            match ModelRef::parse(&model) {
                Ok(_) => {
                    worker.model = Some(model);
                    worker.model_pos = value.pos;
                }
                Err(e) => self.error(
                    value.pos,
                    model_message(&model, &e),
                    "`provider:name`, for example `openai:gpt-4o-mini`",
                ),
            }
        }
    }
}

/// The part of a model-string error that the diagnostic's "expected" does not already say.
fn model_message(model: &str, e: &llm_do_core::Error) -> String {
    // As core shows it: on one line (it may hold the line break it is refused for), cut.
    let model = llm_do_syntax::model::shown(model);
    match e {
        llm_do_core::Error::InvalidModel { reason, .. } if !reason.starts_with("expected") => {
            format!("invalid model string `{model}`: {reason}")
        }
        _ => format!("invalid model string `{model}`"),
    }
}

impl Node {
    /// Like [`Node::describe`], quoting short scalars: "the string `hot`".
    pub(crate) fn describe_value(&self) -> String {
        match &self.kind {
            Kind::Str(s) if s.chars().count() <= 40 => format!("the string `{s}`"),
            Kind::Int(i) => format!("`{i}`"),
            Kind::Float(f) => format!("`{f}`"),
            _ => self.describe().to_owned(),
        }
    }
}
