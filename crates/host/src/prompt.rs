//! Questions the host asks the user through the embedding app's own UI.
//!
//! The embedding app implements [`Prompter`]; the host calls it at the point of
//! use (a consent scope the first time a mini-app reads it; later issues add
//! payment confirmation and subscription prompts). Calls are async: a
//! mini-app waiting for the user's tap holds no thread.

use crate::manifest::Scope;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed future, as the prompt trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A consent question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRequest {
    /// The user asked.
    pub user: String,
    /// The mini-app asking.
    pub app_id: String,
    /// The mini-app's name.
    pub app_name: String,
    /// The publisher's name as the host knows it.
    pub publisher_name: String,
    /// Whether the host has verified the publisher.
    pub publisher_verified: bool,
    /// The scope asked for.
    pub scope: Scope,
    /// Why, in the manifest's words.
    pub purpose: String,
}

/// The user's answer to a consent question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// Allow, and remember it.
    Allow,
    /// Refuse, and remember it: the mini-app is denied without asking again
    /// until the user changes it in the host's settings.
    Deny,
    /// Closed the question without answering: denied this time, asked again
    /// next time.
    Dismiss,
}

/// The embedding app's UI for questions to the user.
pub trait Prompter: Send + Sync + 'static {
    /// Asks the user whether a mini-app may read a consent scope.
    fn ask_consent<'a>(&'a self, request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer>;
}

/// A prompter for hosts with no user at hand: every question is dismissed, so
/// nothing is granted and nothing is remembered.
#[derive(Debug, Default, Clone, Copy)]
pub struct DismissAll;

impl Prompter for DismissAll {
    fn ask_consent<'a>(&'a self, _request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        Box::pin(async { ConsentAnswer::Dismiss })
    }
}

/// A prompter that answers from a script and records every question: for
/// tests and headless runs.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    consent: Mutex<Vec<(Scope, ConsentAnswer)>>,
    asked: Mutex<Vec<ConsentRequest>>,
}

impl ScriptedPrompter {
    /// A prompter that dismisses everything until told otherwise.
    pub fn new() -> ScriptedPrompter {
        ScriptedPrompter::default()
    }

    /// Answers every question about `scope` with `answer`.
    pub fn answer_consent(&self, scope: Scope, answer: ConsentAnswer) {
        let mut c = self.consent.lock().unwrap_or_else(|p| p.into_inner());
        c.retain(|(s, _)| *s != scope);
        c.push((scope, answer));
    }

    /// The questions asked so far.
    pub fn consent_questions(&self) -> Vec<ConsentRequest> {
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Prompter for ScriptedPrompter {
    fn ask_consent<'a>(&'a self, request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        self.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        let answer = self
            .consent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(s, _)| *s == request.scope)
            .map(|(_, a)| *a)
            .unwrap_or(ConsentAnswer::Dismiss);
        Box::pin(async move { answer })
    }
}
