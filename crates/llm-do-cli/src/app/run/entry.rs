//! What a run starts with: the project, the entry worker, and the arguments of its call.

use super::RunArgs;
use crate::app::{checked, cli_input_refused, project_dir, start_worker};
use llm_do::attachment::is_attachment_schema;
use llm_do::{CallableSpec, Error, Registry};
use llm_do_project::Project;
use serde_json::{Value, json};
use std::io::Read as _;

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
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the input from stdin: {e}"))?;
            s
        }
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
