//! One name space: a worker's listed tools join it, an explicit registration replaces a
//! name everywhere, and two different tools of one name listed by two workers are each
//! called by their own worker (and reported as a duplicate by `try_build`).

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Error, Message, ModelRequest};
use llm_do_tests::bounded;

mod web {
    use llm_do::prelude::*;

    /// Searches the web.
    #[tool]
    pub async fn search(query: String) -> Result<String> {
        Ok(format!("web:{query}"))
    }
}

mod manuals {
    use llm_do::prelude::*;

    /// Searches the manuals.
    #[tool]
    pub async fn search(query: String) -> Result<String> {
        Ok(format!("manuals:{query}"))
    }
}

mod hardened {
    use llm_do::prelude::*;

    /// Searches a local index (what replaces both).
    #[tool]
    pub async fn search(query: String) -> Result<String> {
        Ok(format!("index:{query}"))
    }
}

/// Researches on the web.
#[worker(prompt = "Research {topic}", tools = [web::search], model = "test:any")]
async fn researcher(ctx: &Ctx, topic: String) -> Result<String>;

/// Looks things up in the manuals.
#[worker(prompt = "Look up {topic}", tools = [manuals::search], model = "test:any")]
async fn librarian(ctx: &Ctx, topic: String) -> Result<String>;

/// Calls `search` once, then answers with what it returned.
fn searching_model() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| {
        Ok(match req.messages.last() {
            Some(Message::Tool(result)) => Reply::text(result.content.clone()),
            _ => Reply::tool_call("search", json!({"query": "rust"})),
        })
    })
}

#[tokio::test]
async fn two_workers_listing_two_tools_of_one_name_each_call_their_own() {
    // Both registration orders: the first worker's listed `search` must not capture the
    // second worker's calls.
    for researcher_first in [true, false] {
        let builder = Runtime::builder().model_override(searching_model());
        let builder = if researcher_first {
            builder.register(researcher::spec()).register(librarian::spec())
        } else {
            builder.register(librarian::spec()).register(researcher::spec())
        };
        let ctx = builder.build().ctx();
        assert_eq!(bounded(researcher(&ctx, "x".into())).await.unwrap(), "web:rust");
        assert_eq!(bounded(librarian(&ctx, "x".into())).await.unwrap(), "manuals:rust");
    }
}

#[tokio::test]
async fn try_build_reports_two_tools_of_one_name_listed_by_two_workers() {
    let err = Runtime::builder()
        .model_override(searching_model())
        .register(researcher::spec())
        .register(librarian::spec())
        .try_build()
        .err()
        .expect("a duplicate name");
    assert!(matches!(&err, Error::InvalidSpec { name, .. } if name == "search"), "{err}");
    assert!(err.to_string().contains("rename one"), "{err}");
    // One worker alone, or the same tool listed twice, is no duplicate.
    let rt = Runtime::builder()
        .model_override(searching_model())
        .register(researcher::spec())
        .register(researcher::spec())
        .try_build();
    assert!(rt.is_ok());
}

#[tokio::test]
async fn an_explicit_registration_replaces_a_listed_tool_for_every_worker() {
    let rt = Runtime::builder()
        .model_override(searching_model())
        .register(researcher::spec())
        .register(librarian::spec())
        .register(hardened::search::spec())
        .try_build()
        .expect("an explicit registration settles the name");
    let ctx = rt.ctx();
    assert_eq!(bounded(researcher(&ctx, "x".into())).await.unwrap(), "index:rust");
    assert_eq!(bounded(librarian(&ctx, "x".into())).await.unwrap(), "index:rust");
    let by_name: String = bounded(ctx.call("search", json!({"query": "q"}))).await.unwrap();
    assert_eq!(by_name, "index:q");
}
