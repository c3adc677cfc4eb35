//! The person behind a test's run: approves every call, answers every question the same way,
//! and keeps the questions.

#![allow(dead_code)]

use futures::future::BoxFuture;
use llm_do_core::approval::{Answer, ApprovalRequest, Approver, Decision, Question};
use std::sync::{Arc, Mutex};

/// Approves every call and answers every question with `answer`, keeping the questions.
#[derive(Clone)]
pub struct Person {
    pub answer: Answer,
    pub asked: Arc<Mutex<Vec<Question>>>,
}

impl Person {
    /// Answers every question with `answer`.
    pub fn answering(answer: Answer) -> Self {
        Person { answer, asked: Arc::default() }
    }

    /// The questions asked so far.
    pub fn asked(&self) -> Vec<Question> {
        self.asked.lock().unwrap().clone()
    }
}

impl Approver for Person {
    fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async { Decision::ApproveOnce })
    }
    fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        self.asked.lock().unwrap().push(question.clone());
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}
