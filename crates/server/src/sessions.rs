//! The sessions as the client API drives them.
//!
//! An event runs on a task of its own, owned by its session's entry here:
//! a phone that goes away does not cancel a payment half-way. The request
//! that sent the event races that task against the session's prompts and
//! answers with whichever comes first: the page, or a prompt the
//! mini-app's host call raised (the task goes on waiting for the answer).
//! The request that answers the prompt picks the race up again and answers
//! the next page or prompt. One event runs at a time per session; another
//! event while one waits for a prompt is `busy`, naming the prompt.

use crate::error::ApiError;
use crate::prompts::PromptHub;
use axum::http::StatusCode;
use plaza_host::{Error as HostError, Event, FieldValue, Host, LaunchEvent, Page};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What the user did, as the client API takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Opened the mini-app at a path with query parameters.
    Launch {
        /// The path.
        path: String,
        /// The query, in order.
        query: Vec<(String, String)>,
        /// The user's locale (a BCP 47 tag), empty when unknown.
        locale: String,
    },
    /// Tapped an action.
    Tap(String),
    /// Submitted a form.
    Submit {
        /// The form id.
        form: String,
        /// The fields.
        fields: Vec<(String, String)>,
    },
    /// Reached the end of a section that offers more.
    LoadMore(String),
    /// Pulled the page down to refresh it.
    Refresh,
    /// Went back a page.
    Back,
    /// Wrote to the mini-app.
    Chat(String),
}

impl ClientEvent {
    /// Its name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            ClientEvent::Launch { .. } => "launch",
            ClientEvent::Tap(_) => "tap",
            ClientEvent::Submit { .. } => "submit",
            ClientEvent::LoadMore(_) => "load_more",
            ClientEvent::Refresh => "refresh",
            ClientEvent::Back => "back",
            ClientEvent::Chat(_) => "chat",
        }
    }

    async fn run(self, session: plaza_host::Session) -> Result<Page, HostError> {
        match self {
            ClientEvent::Launch {
                path,
                query,
                locale,
            } => {
                let query = query
                    .into_iter()
                    .map(|(name, value)| FieldValue { name, value })
                    .collect();
                session
                    .send(Event::Launch(LaunchEvent {
                        path,
                        query,
                        locale,
                    }))
                    .await
            }
            ClientEvent::LoadMore(action) => session.load_more(&action).await,
            ClientEvent::Refresh => session.refresh().await,
            ClientEvent::Tap(action) => session.tap(&action).await,
            ClientEvent::Submit { form, fields } => {
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                session.submit(&form, &fields).await
            }
            ClientEvent::Back => session.back().await,
            ClientEvent::Chat(text) => session.chat(&text).await,
        }
    }
}

/// What a request answers.
#[derive(Debug)]
pub enum Outcome {
    /// The page to show.
    Page(Page),
    /// A question for the user (JSON, with its `id` and `kind`).
    Prompt(Value),
    /// There is no earlier page: the client shows its own home screen.
    Home,
}

type Running = Option<JoinHandle<Result<Page, HostError>>>;

/// One session's event task and the signal that a prompt was raised or
/// closed in it.
#[derive(Default)]
pub struct SessionEntry {
    notify: Notify,
    running: tokio::sync::Mutex<Running>,
}

/// The sessions the client API has driven, by user and mini-app.
#[derive(Default)]
pub struct SessionTable {
    entries: Mutex<HashMap<(String, String), Arc<SessionEntry>>>,
}

impl std::fmt::Debug for SessionTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTable").finish_non_exhaustive()
    }
}

impl SessionTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<SessionEntry>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn entry(&self, user: &str, app_id: &str) -> Arc<SessionEntry> {
        self.lock()
            .entry((user.to_string(), app_id.to_string()))
            .or_default()
            .clone()
    }

    /// Wakes the request waiting on the session of `user` in `app_id`, if
    /// any: a prompt was raised or closed there.
    pub fn wake(&self, user: &str, app_id: &str) {
        let entry = self
            .lock()
            .get(&(user.to_string(), app_id.to_string()))
            .cloned();
        if let Some(e) = entry {
            e.notify.notify_waiters();
        }
    }

    /// Forgets the entries with no event running and nobody waiting.
    pub fn prune(&self) {
        self.lock().retain(|_, e| {
            Arc::strong_count(e) > 1
                || match e.running.try_lock() {
                    Ok(r) => r.as_ref().is_some_and(|h| !h.is_finished()),
                    Err(_) => true,
                }
        });
    }

    /// Waits until no event runs any more, at most `grace`; answers how many
    /// were still running then.
    pub async fn drain(&self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let entries: Vec<Arc<SessionEntry>> = self.lock().values().cloned().collect();
            let mut running = 0;
            for e in entries {
                if let Ok(r) = e.running.try_lock() {
                    if r.as_ref().is_some_and(|h| !h.is_finished()) {
                        running += 1;
                    }
                } else {
                    running += 1;
                }
            }
            if running == 0 || tokio::time::Instant::now() >= deadline {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Delivers `event` to the session of `user` in `app_id` and answers the
    /// page, or the first prompt it raises.
    pub async fn send(
        &self,
        host: &Host,
        hub: &PromptHub,
        user: &str,
        app_id: &str,
        event: ClientEvent,
    ) -> Result<Outcome, ApiError> {
        let session = host.session(user, app_id)?;
        let entry = self.entry(user, app_id);
        let Ok(mut running) = entry.running.try_lock() else {
            return Err(busy(hub, user, app_id));
        };
        if let Some(h) = running.as_ref() {
            if !h.is_finished() {
                return Err(busy(hub, user, app_id));
            }
            // A result nobody came back for (the phone went away).
            running.take();
        }
        *running = Some(tokio::spawn(event.run(session)));
        race(&entry, &mut running, hub, user, app_id).await
    }

    /// After an answer to a prompt of the session of `user` in `app_id`:
    /// the next page or prompt.
    pub async fn resume(
        &self,
        host: &Host,
        hub: &PromptHub,
        user: &str,
        app_id: &str,
    ) -> Result<Outcome, ApiError> {
        let entry = self.entry(user, app_id);
        let mut running = entry.running.lock().await;
        if running.is_none() {
            // Answered by a request that already took the page: show it.
            let session = host.session(user, app_id)?;
            return Ok(match session.current_page().await {
                Some(p) => Outcome::Page(p),
                None => Outcome::Home,
            });
        }
        race(&entry, &mut running, hub, user, app_id).await
    }
}

fn busy(hub: &PromptHub, user: &str, app_id: &str) -> ApiError {
    let pending = hub.pending_in(user, app_id);
    let message = match &pending {
        Some(p) => format!(
            "an event of this session waits for the answer to prompt {}: answer it first",
            p["id"].as_str().unwrap_or_default()
        ),
        None => "an event of this session is still running: try again in a moment".to_string(),
    };
    let mut e = ApiError::new(StatusCode::CONFLICT, "busy", message).retry_after(1);
    if let Some(p) = pending {
        e = e.with("prompt", p);
    }
    e
}

/// Races the session's event task against its prompts. Cancel-safe: if
/// the request goes away, the task stays in the entry and runs on.
async fn race(
    entry: &SessionEntry,
    running: &mut Running,
    hub: &PromptHub,
    user: &str,
    app_id: &str,
) -> Result<Outcome, ApiError> {
    loop {
        let notified = entry.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let Some(handle) = running.as_mut() else {
            return Ok(Outcome::Home);
        };
        if !handle.is_finished()
            && let Some(prompt) = hub.pending_in(user, app_id)
        {
            return Ok(Outcome::Prompt(prompt));
        }
        let joined = tokio::select! {
            joined = handle => Some(joined),
            () = &mut notified => None,
        };
        if let Some(joined) = joined {
            running.take();
            return match joined {
                Ok(Ok(page)) => Ok(Outcome::Page(page)),
                Ok(Err(HostError::NoPageToGoBack)) => Ok(Outcome::Home),
                Ok(Err(e)) => Err(e.into()),
                Err(e) => Err(ApiError::internal(format!("the event task: {e}"))),
            };
        }
    }
}

/// The JSON of an outcome, as the client API answers it.
pub fn outcome_json(outcome: &Outcome, app_id: &str) -> Value {
    match outcome {
        Outcome::Page(p) => json!({ "page": crate::page::page_json(p, app_id) }),
        Outcome::Prompt(p) => json!({ "prompt": p }),
        Outcome::Home => json!({ "home": true }),
    }
}
