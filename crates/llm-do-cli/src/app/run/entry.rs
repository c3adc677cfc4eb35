//! What a run starts with: the project, the entry worker, and the arguments of its call.

use super::RunArgs;
use crate::app::{checked, cli_input_refused, project_dir, start_worker};
use llm_do::attachment::is_attachment_schema;
use llm_do::{CallableSpec, Error, Registry};
use llm_do_project::Project;
use serde_json::{Value, json};
use std::io::Read;

/// The most bytes `llm-do run PROJECT -` reads from stdin (8 MiB, more text than a model's
/// context holds): a longer input is a usage error, and no more of it is read into memory.
pub(crate) const MAX_STDIN_INPUT: usize = 8 << 20;

/// The project directory and the worker a `run` starts with.
pub(super) fn target(args: &RunArgs, host: &Registry) -> Result<(Project, String), String> {
    let dir = project_dir(&args.target)?;
    let project = checked(&dir, host)?;
    let entry = start_worker(&project, &args.target, args.worker.as_deref())?;
    Ok((project, entry))
}

/// The arguments of the entry call: from the command line, else the project's `entry.args`
/// (project.json) when the entry runs.
pub(super) fn input(
    args: &RunArgs,
    spec: &CallableSpec,
    project: &Project,
) -> Result<Value, String> {
    let config = project.config();
    let given = args.input.is_some() || args.input_json.is_some();
    // Attached files are input from the command line too.
    if (given || !args.attach.is_empty()) && !config.allow_cli_input {
        return Err(cli_input_refused(project, ": its `entry.args` are the input"));
    }
    if let (false, Some(entry_args)) = (given, &config.entry_args)
        && project.entry() == Some(spec.name())
    {
        return Ok(entry_args.clone());
    }
    if let Some(text) = &args.input_json {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("--input-json is not valid JSON: {e}"))?;
        // Checked before the run starts: bad input is a usage error (exit 2), like bad JSON.
        return match spec.validate_input(&value) {
            Err(Error::InvalidArguments { message, .. }) => Err(format!(
                "--input-json does not fit the input schema of `{}`: {message} (expected {})",
                spec.name(),
                spec.input_schema()
            )),
            _ => Ok(value),
        };
    }
    let text = match args.input.as_deref() {
        Some("-") => read_input(std::io::stdin().lock())?,
        Some(text) => text.to_owned(),
        None => {
            // With --attach, the attachment parameter is filled from the files: only the
            // other required parameters need an input.
            let schema = spec.input_schema();
            let required = schema["required"].as_array().is_some_and(|r| {
                r.iter().filter_map(Value::as_str).any(|name| {
                    args.attach.is_empty() || !is_attachment_schema(&schema["properties"][name])
                })
            });
            if required {
                return Err(format!(
                    "`{}` needs an input: give it as an argument (`-` reads stdin) or as --input-json, matching {}",
                    spec.name(),
                    spec.input_schema()
                ));
            }
            return Ok(json!({}));
        }
    };
    // The text fills the worker's bare parameter (its one parameter, or its one required
    // one); with --attach, the attachment parameter is filled from the files, not the text.
    let props = spec.input_schema()["properties"].as_object().map_or(0, |p| {
        p.values().filter(|s| args.attach.is_empty() || !is_attachment_schema(s)).count()
    });
    if props != 1 && spec.bare_parameter().is_none() {
        return Err(format!(
            "`{}` takes {props} parameters, not one text: pass them as --input-json matching {}",
            spec.name(),
            spec.input_schema()
        ));
    }
    Ok(Value::String(text))
}

/// The text input `run PROJECT -` reads from `from`: at most [`MAX_STDIN_INPUT`] bytes of
/// UTF-8; `Err` says what is wrong, reading no further than one byte past the limit.
fn read_input(from: impl Read) -> Result<String, String> {
    let mut bytes = Vec::new();
    from.take(MAX_STDIN_INPUT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the input from stdin: {e}"))?;
    if bytes.len() > MAX_STDIN_INPUT {
        return Err(format!(
            "the input on stdin is longer than {} MiB, the most `-` reads",
            MAX_STDIN_INPUT >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the input on stdin is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_input_is_bounded() {
        let at_limit = vec![b'a'; MAX_STDIN_INPUT];
        assert_eq!(read_input(at_limit.as_slice()).map(|s| s.len()), Ok(MAX_STDIN_INPUT));
        // An endless input is read one byte past the limit, then refused.
        let endless = std::io::repeat(b'a');
        assert_eq!(
            read_input(endless),
            Err("the input on stdin is longer than 8 MiB, the most `-` reads".to_owned())
        );
        assert!(read_input(&b"ok \xff"[..]).unwrap_err().contains("not UTF-8 text"));
    }
}
