//! `llm-do run … --attach PATH`: files given on the command line become the entry worker's
//! attachment argument.
//!
//! Each path is read through the project's attachment loader (confined to the project root,
//! like the filesystem toolset) before the run starts, so a refused path, an over-size file,
//! an unsupported type is a usage error and no request is sent. The files fill the worker's
//! one attachment parameter (`format: attachment` in its input schema): a list takes them
//! all, a single one takes exactly one. A worker whose only required parameter is that one
//! needs no input text (`llm-do run PROJECT --worker evaluate_deck --attach deck.pdf`).

use llm_do::CallableSpec;
use llm_do::attachment::{AttachmentLimits, AttachmentLoader, is_attachment_schema};
use serde_json::{Map, Value};
use std::path::Path;

/// Adds the files of `paths` to `input` (the arguments built from the input text or
/// `--input-json`) under the worker's attachment parameter.
pub(crate) fn add_attachments(
    spec: &CallableSpec,
    input: Value,
    paths: &[impl AsRef<Path>],
    loader: &dyn AttachmentLoader,
    limits: &AttachmentLimits,
) -> Result<Value, String> {
    if paths.is_empty() {
        return Ok(input);
    }
    let schema = spec.input_schema();
    let properties = schema.get("properties").and_then(Value::as_object);
    let slots: Vec<(&String, &Value)> = properties
        .map(|p| p.iter().filter(|(_, s)| is_attachment_schema(s)).collect())
        .unwrap_or_default();
    let (name, slot) = match slots.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "`{}` takes no attachments: --attach needs an input property with \
                 `format: attachment`",
                spec.name()
            ));
        }
        _ => {
            let names: Vec<&str> = slots.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "`{}` has several attachment parameters ({}): give the paths in --input-json \
                 instead of --attach",
                spec.name(),
                names.join(", ")
            ));
        }
    };
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let shown = path.as_ref().to_string_lossy();
        let file = loader.load(&shown, limits).map_err(|e| format!("--attach {shown}: {e}"))?;
        files.push(serde_json::to_value(&file).map_err(|e| e.to_string())?);
    }
    let is_list = slot.get("type").and_then(Value::as_str) == Some("array");
    let value = match (is_list, files.len()) {
        (true, _) => Value::Array(files),
        (false, 1) => files.remove(0),
        (false, n) => {
            return Err(format!(
                "`{}` takes one attachment as `{name}`, but --attach gave {n}",
                spec.name()
            ));
        }
    };
    let mut args = match input {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        Value::String(text) => {
            // The input text goes to the one other parameter, else to the bare parameter.
            let others: Vec<&str> = properties
                .map(|p| p.keys().map(String::as_str).filter(|k| *k != name).collect())
                .unwrap_or_default();
            let target = match others.as_slice() {
                [other] => Some(*other),
                _ => spec.bare_parameter().filter(|p| p != name),
            };
            match target {
                Some(target) => Map::from_iter([(target.to_owned(), Value::String(text))]),
                None if others.is_empty() => {
                    return Err(format!(
                        "`{}` takes no input besides its attachment `{name}`, which --attach \
                         fills: leave out the input text",
                        spec.name()
                    ));
                }
                None => {
                    return Err(format!(
                        "`{}` takes {} parameters besides `{name}`: pass them as --input-json",
                        spec.name(),
                        others.len()
                    ));
                }
            }
        }
        other => return Err(format!("the input must be a JSON object, not {other}")),
    };
    args.insert(name.clone(), value);
    Ok(Value::Object(args))
}
