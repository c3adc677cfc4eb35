//! A good fixture project registered into a runtime and run by name through a chain
//! file worker → Rust tool → file worker, on a scripted model.

use llm_do_core::{Ctx, Message, Registry, Runtime, ToolSpecBuilder};
use llm_do_project::Project;
use llm_do_testing::scripted::{Reply, ScriptedModel};
use serde_json::json;

fn lookup() -> std::sync::Arc<llm_do_core::CallableSpec> {
    ToolSpecBuilder::new("lookup")
        .description("Look a topic up and summarize what is known.")
        .input_schema(json!({
            "type": "object",
            "properties": {"topic": {"type": "string"}},
            "required": ["topic"]
        }))
        .handler(|ctx: Ctx, args| async move {
            let topic = args["topic"].as_str().unwrap_or_default().to_owned();
            // Rust calling a file worker by name.
            let summary: String =
                ctx.call("summarize", json!({"text": format!("Facts about {topic}.")})).await?;
            Ok(json!(summary))
        })
        .build()
}

#[tokio::test]
async fn entry_worker_runs_through_a_rust_tool_into_another_file_worker() {
    let mut host = Registry::default();
    host.insert(lookup());
    let project = Project::check("tests/fixtures/good", &host).unwrap();

    let model = ScriptedModel::queue([
        Reply::tool_call("lookup", json!({"topic": "rust"})), // main's model calls the Rust tool
        Reply::text("Rust is a fast, safe language."),        // summarize's model
        Reply::text("Rust: fast and safe."),                  // main's final answer
    ]);
    let rt = project
        .register(Runtime::builder().register(lookup()).model_override(model.clone()))
        .ignore_env()
        .try_build()
        .unwrap();
    assert_eq!(rt.limits().max_depth, 6);

    let entry = project.entry().unwrap();
    let answer: String = rt.ctx().call(entry, json!({"input": "What is Rust?"})).await.unwrap();
    assert_eq!(answer, "Rust: fast and safe.");

    let requests = model.requests();
    assert_eq!(requests.len(), 3);
    // main: its description is the system prompt, its body the user message, its tools by name.
    let tools: Vec<&str> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tools, ["lookup", "summarize"]);
    assert_eq!(requests[0].model, "gpt-4o-mini", "the project's default model");
    assert_eq!(requests[0].settings.temperature, Some(0.2));
    assert!(
        matches!(&requests[0].messages[0], Message::System { content } if content == "Answer a question about a topic.")
    );
    assert!(matches!(&requests[0].messages[1], Message::User { content }
        if content == "Answer the question: What is Rust?\nLook the topic up first."));
    // summarize, called by the Rust tool: its placeholder filled from the tool's arguments.
    assert!(
        matches!(&requests[1].messages[1], Message::User { content } if content == "Summarize: Facts about rust.")
    );
    assert_eq!(requests[1].tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["main"]);
    // main got the tool result: the file worker's answer, through the Rust tool.
    assert!(
        matches!(requests[2].messages.last(), Some(Message::Tool(r)) if r.content.contains("Rust is a fast, safe language."))
    );
}

#[tokio::test]
async fn project_rules_and_approval_mode_reach_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("llm-do.toml"), "[approval]\nmode = \"deny_all\"\n").unwrap();
    std::fs::write(
        dir.path().join("main.worker"),
        "---\ntools: [helper]\n---\nUse the helper on {input}.\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("helper.worker"), "---\napproval: ask\n---\nHelp: {input}\n")
        .unwrap();
    let project = Project::check(dir.path(), &Registry::default()).unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("helper", json!({"input": "x"})),
        Reply::text("could not help"),
    ]);
    let rt = project.register(Runtime::builder().model_override(model.clone())).build();
    let answer: String = rt.ctx().call("main", json!({"input": "x"})).await.unwrap();
    assert_eq!(answer, "could not help");
    // helper declares `ask`, the project's mode denies: helper never ran (2 requests, not 3),
    // and main's model saw the denial.
    assert_eq!(model.request_count(), 2);
    let last = model.requests()[1].messages.last().cloned();
    assert!(matches!(&last, Some(Message::Tool(r)) if r.is_error), "{last:?}");
}

/// `max_tokens:`, `seed:` and `stop:` of a worker file reach its model requests; wrong values
/// are reported with their location and what is expected.
#[tokio::test]
async fn a_worker_files_sampling_keys_reach_its_requests_and_bad_ones_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("story.worker"),
        "---\ndescription: Tells.\nmax_tokens: 64\nseed: 7\nstop: [\"THE END\", \"\\n\\n\"]\n---\nTell {input}.\n",
    )
    .unwrap();
    let project = Project::check(dir.path(), &Registry::default()).unwrap();
    let model = ScriptedModel::queue([Reply::text("Once.")]);
    let rt = project
        .register(Runtime::builder().model_override(model.clone()))
        .ignore_env()
        .try_build()
        .unwrap();
    let _: String = rt.ctx().call("story", json!({"input": "a story"})).await.unwrap();
    let settings = &model.requests()[0].settings;
    assert_eq!((settings.max_tokens, settings.seed), (Some(64), Some(7)));
    assert_eq!(settings.stop, ["THE END", "\n\n"]);
    // A single string is one stop sequence.
    std::fs::write(dir.path().join("story.worker"), "---\nstop: END\n---\nTell {input}.\n")
        .unwrap();
    let project = Project::check(dir.path(), &Registry::default()).unwrap();
    assert_eq!(project.workers()[0].stop, ["END"]);

    std::fs::write(
        dir.path().join("story.worker"),
        "---\nmax_tokens: 0\nseed: -1\nstop: [\"a\", \"\"]\n---\nTell {input}.\n",
    )
    .unwrap();
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err().to_string();
    for expected in [
        "story.worker:2:13: error: `max_tokens` is `0` (expected a whole number of at least 1)",
        "story.worker:3:7: error: `seed` is `-1` (expected a whole number of at least 0)",
        "story.worker:4:7: error: `stop` is",
    ] {
        assert!(errors.contains(expected), "{expected}\n{errors}");
    }
}
