//! [`Ctx::ask`] and [`Ctx::ask_to_open`]: a tool's question to the person behind the run — a
//! form to fill in, or a page to open — answered by the run's approver, with its events.

use super::Ctx;
use crate::approval::{Answer, Question, check_form};
use crate::error::{Error, Result};
use crate::event::EventKind;
use serde_json::Value;

impl Ctx {
    /// Asks the person behind the run a question with a form to fill in (a flat JSON Schema
    /// object, see [`Question`]), and returns their [`Answer`]: an accepted form, a decline, or
    /// a dismissal. This is how a tool gets input only a person can give — a confirmation, a
    /// choice, a missing detail; an MCP server's elicitation arrives here.
    ///
    /// The run's approver answers ([`Approver::answer`](crate::approval::Approver::answer)):
    /// `llm-do run` asks at the terminal, `llm-do mcp` asks its own client, and an approver
    /// that decides by rule declines. The question and the answer are events
    /// ([`EventKind::QuestionAsked`], [`EventKind::QuestionAnswered`], which names the fields
    /// filled in, never their values). A cancelled run stops waiting
    /// ([`Error::Cancelled`]).
    ///
    /// Errors: a form that is not a flat object schema ([`Error::InvalidArguments`], naming the
    /// asker); an accepted answer that does not fit the form ([`Error::InvalidConfig`]: the
    /// approver's fault; the error names the fields, not their values).
    ///
    /// ```
    /// use futures::future::BoxFuture;
    /// use llm_do_core::approval::{Answer, ApprovalRequest, Approver, Decision, Question};
    /// use llm_do_core::{Runtime, ToolSpecBuilder};
    /// use serde_json::json;
    ///
    /// /// Stands for a person who gives their name when asked.
    /// struct Ada;
    /// impl Approver for Ada {
    ///     fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
    ///         Box::pin(async { Decision::ApproveOnce })
    ///     }
    ///     fn answer<'a>(&'a self, _: &'a Question) -> BoxFuture<'a, Answer> {
    ///         Box::pin(async { Answer::accept(json!({"name": "Ada"})) })
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let greet = ToolSpecBuilder::new("greet")
    ///     .handler(|ctx, _args| async move {
    ///         let form = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    ///         Ok(match ctx.ask("Who are you?", form).await? {
    ///             Answer::Accept { content } => json!(format!("Hello, {}!", content["name"].as_str().unwrap_or("?"))),
    ///             Answer::Decline | Answer::Cancel => json!("Hello, stranger!"),
    ///         })
    ///     })
    ///     .build();
    /// let rt = Runtime::builder().register(greet.clone()).approver(Ada).build();
    /// let hello: String = rt.ctx().call("greet", json!({})).await?;
    /// assert_eq!(hello, "Hello, Ada!");
    /// // Without an approver that answers, the question is declined.
    /// let rt = Runtime::builder().register(greet).build();
    /// let hello: String = rt.ctx().call("greet", json!({})).await?;
    /// assert_eq!(hello, "Hello, stranger!");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ask(&self, message: impl Into<String>, form: Value) -> Result<Answer> {
        let (asker, call_path) = self.asker();
        if let Err(message) = check_form(&form) {
            return Err(Error::InvalidArguments { name: asker, message });
        }
        if let Err(e) = crate::schema::Validator::new(&form) {
            let message = format!("a question's form is not a valid JSON Schema: {e}");
            return Err(Error::InvalidArguments { name: asker, message });
        }
        let question = Question {
            asker,
            message: message.into(),
            schema: form,
            page: None,
            call_path,
            depth: self.depth(),
        };
        self.put(question).await
    }

    /// Asks the person behind the run to open a page — to pay, to sign in, to give what must
    /// not pass through the run (an MCP server's URL-mode elicitation arrives here) — and
    /// returns their [`Answer`]: `Accept` (with no content) when they agree to open it and go
    /// on there, `Decline`, or `Cancel`. Nothing is opened for them: the page is shown with its
    /// site, for the person to open themselves.
    ///
    /// Answered like [`Ctx::ask`], with the same events ([`Question::page`] set, an empty
    /// form). Errors: an address not fit to show a person ([`check_page`](crate::approval::check_page): not `https`, user
    /// information before the site, control characters, ...) is [`Error::InvalidArguments`]
    /// before anyone is asked; an accepted answer with content is [`Error::InvalidConfig`].
    ///
    /// ```
    /// use llm_do_core::approval::{Answer, Question};
    /// use llm_do_core::{Runtime, ToolSpecBuilder};
    /// use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let pay = ToolSpecBuilder::new("pay")
    ///     .handler(|ctx, _| async move {
    ///         let answer = ctx.ask_to_open("Pay invoice 7", "https://pay.example.com/i/7").await?;
    ///         Ok(json!(answer.action()))
    ///     })
    ///     .build();
    /// // An approver that does not answer questions declines: no one is sent anywhere.
    /// let rt = Runtime::builder().register(pay).build();
    /// assert_eq!(rt.ctx().call::<String>("pay", json!({})).await?, "decline");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ask_to_open(
        &self,
        message: impl Into<String>,
        url: impl Into<String>,
    ) -> Result<Answer> {
        let (asker, call_path) = self.asker();
        // The page is checked, and its site found, where a question to open one is made.
        let mut question = match Question::to_open(asker.clone(), message, url) {
            Ok(question) => question,
            Err(message) => return Err(Error::InvalidArguments { name: asker, message }),
        };
        question.call_path = call_path;
        question.depth = self.depth();
        self.put(question).await
    }

    /// Who asks (the callee of this context, or "the program" at the top), and the call path.
    fn asker(&self) -> (String, Vec<String>) {
        let call_path: Vec<String> = self.call_path().iter().map(|s| s.to_string()).collect();
        let asker = call_path.last().cloned().unwrap_or_else(|| "the program".to_owned());
        (asker, call_path)
    }

    /// Puts `question` to the run's approver, with its events; checks an accepted answer.
    async fn put(&self, question: Question) -> Result<Answer> {
        self.emit(|| EventKind::QuestionAsked { question: question.clone() });
        // The run's own approver (a server asking its client), else the runtime's.
        let approver = self.run_approver().unwrap_or(&*self.rt.gate.approver);
        let answer = self.unless_cancelled(async { Ok(approver.answer(&question).await) }).await?;
        let fields = match &answer {
            Answer::Accept { content } => {
                if let Err(why) = question.check(content) {
                    return Err(Error::InvalidConfig {
                        message: format!(
                            "the approver's answer to the question of `{}` does not fit its \
                             form: {why}",
                            question.asker
                        ),
                    });
                }
                content.keys().cloned().collect()
            }
            Answer::Decline | Answer::Cancel => Vec::new(),
        };
        self.emit(|| EventKind::QuestionAnswered { action: answer.action().to_owned(), fields });
        Ok(answer)
    }
}
