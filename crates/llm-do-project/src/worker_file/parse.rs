//! The parser of the `.worker` format: frontmatter keys ([`KEYS`]) and the prompt template
//! of the body, every problem reported with its line and column.

use super::parser::{NAME_EXPECTED, Parser, is_valid_name, list};
use super::{KEYS, WorkerFile};
use crate::config::Budget;
use crate::diagnostic::{Diagnostic, Pos};
use crate::frontmatter::Fences;
use crate::yaml::Kind;
use llm_do_core::prompt::Template;
use serde_json::Value;
use std::path::Path;

/// Parses one worker file. Returns the worker whenever its frontmatter could be read (possibly
/// with defaults where a value was wrong), and every problem found.
pub(crate) fn parse(file: &Path, dir: &Path, text: &str) -> (Option<WorkerFile>, Vec<Diagnostic>) {
    let mut p = Parser { file, dir, diagnostics: Vec::new() };
    let Some((split, entries)) =
        p.frontmatter(text, "keys such as `description:` and `model:`", Fences::Worker)
    else {
        return (None, p.diagnostics);
    };
    let mut worker = p.worker();
    let mut name_given = false;
    let mut input_ok = true;
    for (key_node, value) in &entries {
        let Some(key) = key_node.as_str() else {
            p.error(key_node.pos, format!("a key is {}", key_node.describe()), list(KEYS));
            continue;
        };
        match key {
            "name" => {
                name_given = true;
                p.name(value, "worker", &mut worker);
            }
            "description" => worker.description = p.string(key, value),
            "system" => worker.system = p.string(key, value),
            "model" => p.model(value, &mut worker),
            "temperature" => match value.kind {
                Kind::Int(i) if (0..=2).contains(&i) => worker.temperature = Some(i as f32),
                Kind::Float(f) if (0.0..=2.0).contains(&f) => worker.temperature = Some(f as f32),
                _ => p.error(
                    value.pos,
                    format!("`temperature` is {}", value.describe_value()),
                    "a number from 0 to 2",
                ),
            },
            "max_tokens" => match value.kind {
                Kind::Int(i) if (1..=i64::from(u32::MAX)).contains(&i) => {
                    worker.max_tokens = Some(i as u32)
                }
                _ => p.error(
                    value.pos,
                    format!("`max_tokens` is {}", value.describe_value()),
                    "a whole number of at least 1",
                ),
            },
            "seed" => match value.kind {
                Kind::Int(i) if i >= 0 => worker.seed = Some(i as u64),
                _ => p.error(
                    value.pos,
                    format!("`seed` is {}", value.describe_value()),
                    "a whole number of at least 0",
                ),
            },
            "stop" => {
                let stops: Option<Vec<String>> = match &value.kind {
                    Kind::Str(s) => Some(vec![s.clone()]),
                    Kind::Seq(items) => {
                        items.iter().map(|i| i.as_str().map(str::to_owned)).collect()
                    }
                    _ => None,
                };
                match stops {
                    Some(stops) if llm_do_syntax::stop::check(&stops).is_ok() => {
                        worker.stop = stops
                    }
                    _ => p.error(
                        value.pos,
                        format!("`stop` is {}", value.describe_value()),
                        llm_do_syntax::stop::EXPECTED,
                    ),
                }
            }
            "max_turns" => match value.kind {
                Kind::Int(i) if i >= 1 => {
                    worker.max_turns = Some(u32::try_from(i).unwrap_or(u32::MAX))
                }
                _ => p.error(
                    value.pos,
                    format!("`max_turns` is {}", value.describe_value()),
                    "a whole number of at least 1",
                ),
            },
            "tools" => match &value.kind {
                Kind::Seq(items) => {
                    for item in items {
                        if let Some(entry) = p.tool(item) {
                            worker.tools.push(entry);
                            worker.tool_pos.push(item.pos);
                        }
                    }
                }
                Kind::Null => {}
                _ => p.error(
                    value.pos,
                    format!("`tools` is {}", value.describe()),
                    "a list of tools",
                ),
            },
            "input" => match p.schema(key, value, true) {
                Some(schema) => worker.input = schema,
                None => input_ok = false,
            },
            "output" => {
                if let Some(schema) = p.schema(key, value, false) {
                    worker.output = schema;
                }
            }
            "approval" => p.approval(value, &mut worker),
            "budget" => {
                let expected = "a mapping with `requests`, `tokens` and `tool_calls`, each a whole \
                                number of at least 1";
                match p.json(value).map(serde_json::from_value::<Budget>) {
                    None => {}
                    Some(Ok(budget)) => match budget.zero_key() {
                        None => worker.budget = budget,
                        Some(key) => p.error(value.pos, format!("`budget.{key}` is 0"), expected),
                    },
                    Some(Err(e)) => p.error(value.pos, format!("invalid `budget`: {e}"), expected),
                }
            }
            unknown => {
                p.unknown_key(key_node.pos, format!("unknown key `{unknown}`"), unknown, KEYS)
            }
        }
    }
    if !name_given && !is_valid_name(&worker.name) {
        p.error(
            Pos::START,
            format!("the file name gives the worker name `{}`, which is not valid", worker.name),
            format!("`name:` with {NAME_EXPECTED}"),
        );
    }
    let body_base = Pos { line: split.body_line, column: 1 };
    match Template::parse(split.body) {
        Err(e) => {
            p.error(Pos::of_offset(split.body, e.offset(), body_base), e.problem(), e.expected())
        }
        Ok(template) if input_ok => {
            let properties = worker.input.get("properties").and_then(Value::as_object);
            for (name, offset) in template.placeholder_offsets() {
                if properties.is_some_and(|props| props.contains_key(name)) {
                    continue;
                }
                let declared: Vec<&str> =
                    properties.map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
                let expected = if declared.is_empty() {
                    "an input schema that declares it under `properties`".to_owned()
                } else {
                    format!("an input property: {}", list(&declared))
                };
                p.error(
                    Pos::of_offset(split.body, offset, body_base),
                    format!(
                        "placeholder `{{{}}}` is not an input property",
                        // An identifier may be a whole file long.
                        llm_do_syntax::text::cut(name, llm_do_syntax::template::MAX_SHOWN_CHARS)
                    ),
                    expected,
                );
            }
        }
        Ok(_) => {}
    }
    worker.prompt = split.body.trim_start_matches(['\n', '\r']).trim_end().to_owned();
    if worker.prompt.trim().is_empty() {
        p.error(
            Pos { line: split.closing_line, column: 1 },
            "the worker has no prompt",
            "the prompt (markdown) after the closing `---`",
        );
    }
    (Some(worker), p.diagnostics)
}
