//! Sessions: one user in one mini-app, a live instance that keeps its memory
//! between events.
//!
//! A [`Session`] is a cheap handle; every handle for the same (user, mini-app)
//! reaches the same session. The instance is made at the first event and
//! ended when the mini-app breaks the sandbox's rules, when the session is
//! closed, or when it has been idle longer than the host's idle timeout; the
//! next event then starts a fresh instance.

use crate::engine::Runtime;
use crate::error::{Error, GuestFault, Result};
use crate::gate::{Actor, Subject};
use crate::instance::{self, InstanceState, LoadedApp};
pub(crate) use crate::link::split_query;
use crate::page;
use crate::sandbox::{OutputCapture, Stream};
use crate::services::Services;
use crate::settings::SessionSettings;
use crate::store::Outcome;
use plaza_world::pages::{
    Block, ChatMessage, Event, LaunchEvent, Navigation, Notice, NoticeLevel, Page, SubmitEvent,
};
use plaza_world::types::FieldValue;
use std::sync::Arc;
use wasmtime::Store;

/// How many pages a session's navigation stack holds (WeChat's limit is 10).
pub const MAX_PAGE_STACK: usize = 10;

/// How many times the host tries to give a user's chat message to the
/// mini-app (as it is written, then at each launch) before it sets it aside.
pub const MAX_CHAT_ATTEMPTS: u32 = 3;

/// What giving the user's waiting messages to a mini-app came to.
#[derive(Default)]
struct Chats {
    /// The page the last message answered.
    last_page: Option<Page>,
    /// Whether a message failed (the instance may have ended).
    failed: bool,
    /// What the user is told (a message set aside, or to be tried again).
    notices: Vec<String>,
}

/// A live instance.
struct LiveInstance {
    id: String,
    store: Store<InstanceState>,
    bindings: instance::AppBindings,
    app: Arc<LoadedApp>,
    stdout: OutputCapture,
    stderr: OutputCapture,
}

/// The state behind every handle of one (user, mini-app).
pub(crate) struct Slot {
    live: Option<LiveInstance>,
    pages: Vec<Page>,
    /// The user's locale as the embedding app last said it (empty: unknown).
    locale: String,
    /// The Plaza link the user chose to open in the last event (a scanned
    /// code), until [`Session::take_link`].
    link: Option<crate::link::Link>,
    pub(crate) last_active_ms: i64,
}

impl Slot {
    pub(crate) fn new(now_ms: i64) -> Slot {
        Slot {
            live: None,
            pages: Vec::new(),
            locale: String::new(),
            link: None,
            last_active_ms: now_ms,
        }
    }

    pub(crate) fn is_live(&self) -> bool {
        self.live.is_some()
    }
}

/// A handle to the session of one user in one mini-app.
///
/// ```no_run
/// # async fn demo(host: plaza_host::Host) -> plaza_host::Result<()> {
/// let session = host.session("alice", "cn.hz.maternity")?;
/// let page = session.launch("/").await?;
/// println!("{}", plaza_host::page::render_text(&page));
/// let page = session.tap("dept:obstetrics").await?;
/// # let _ = page; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) user: String,
    pub(crate) app_id: String,
    pub(crate) slot: Arc<tokio::sync::Mutex<Slot>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("app", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The mini-app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The id of the live instance, if one is running.
    pub async fn instance_id(&self) -> Option<String> {
        self.slot.lock().await.live.as_ref().map(|l| l.id.clone())
    }

    /// The page the user sees now, if any.
    pub async fn current_page(&self) -> Option<Page> {
        self.slot.lock().await.pages.last().cloned()
    }

    /// Opens the mini-app at `path` (`/` or empty for its home), with the
    /// user's locale as last set ([`Session::set_locale`]; empty, unknown,
    /// until then).
    pub async fn launch(&self, path: &str) -> Result<Page> {
        let locale = self.slot.lock().await.locale.clone();
        self.launch_in(path, &locale).await
    }

    /// The user's locale as last set (empty when unknown).
    pub async fn locale(&self) -> String {
        self.slot.lock().await.locale.clone()
    }

    /// Sets the user's locale, a BCP 47 language tag such as `zh-CN` or
    /// `en-US` (empty when unknown), given to the mini-app at each later
    /// launch. A malformed tag is [`Error::InvalidRequest`].
    pub async fn set_locale(&self, locale: &str) -> Result<()> {
        check_locale(locale)?;
        self.slot.lock().await.locale = locale.to_string();
        Ok(())
    }

    /// Opens the mini-app at `path` for a user whose locale is `locale` (as
    /// [`Session::set_locale`], which it also does), given to the mini-app
    /// in the launch event.
    pub async fn launch_in(&self, path: &str, locale: &str) -> Result<Page> {
        self.set_locale(locale).await?;
        let (path, query) = split_query(path);
        self.send(Event::Launch(LaunchEvent {
            path,
            query,
            locale: locale.to_string(),
        }))
        .await
    }

    /// Opens the tab `path` of the mini-app's tab bar (`[[tabs]]` of its
    /// manifest): a launch at that path, refused with the tabs there are if
    /// the manifest declares no such tab.
    pub async fn open_tab(&self, path: &str, locale: &str) -> Result<Page> {
        let app = self.runtime.loaded_app(&self.app_id).await?;
        let tabs = &app.manifest.tabs;
        if !tabs.iter().any(|t| t.path == path) {
            return Err(Error::InvalidRequest(if tabs.is_empty() {
                format!("{} has no tab bar", self.app_id)
            } else {
                format!(
                    "{} has no tab `{path}`; its tabs are: {}",
                    self.app_id,
                    tabs.iter()
                        .map(|t| t.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }));
        }
        self.launch_in(path, locale).await
    }

    /// The user reached the end of a section of the current page that
    /// offers more: delivers `load-more` with the section's action.
    pub async fn load_more(&self, action: &str) -> Result<Page> {
        self.send(Event::LoadMore(action.to_string())).await
    }

    /// The user pulled down the current page, which must be refreshable:
    /// delivers `refresh`.
    pub async fn refresh(&self) -> Result<Page> {
        self.send(Event::Refresh).await
    }

    /// Taps an action the current page offers.
    pub async fn tap(&self, action: &str) -> Result<Page> {
        self.send(Event::Tap(action.to_string())).await
    }

    /// Submits a form of the current page.
    pub async fn submit(&self, form: &str, fields: &[(&str, &str)]) -> Result<Page> {
        self.send(Event::Submit(SubmitEvent {
            form: form.to_string(),
            fields: fields
                .iter()
                .map(|(n, v)| FieldValue {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
        }))
        .await
    }

    /// The user writes to the mini-app (customer service, a patient to a
    /// doctor): the message is recorded (it opens the mini-app's 48-hour
    /// reply window) and delivered as a `chat` event; the page it answers is
    /// returned. If the mini-app fails to take it, it is delivered again at
    /// the next launch, up to [`MAX_CHAT_ATTEMPTS`] tries in all.
    pub async fn chat(&self, text: &str) -> Result<Page> {
        let services = &self.runtime.services;
        let id = record_user_message(services, &self.user, &self.app_id, text)?;
        services.store.count_user_message_attempt(&id)?;
        let event = Event::Chat(ChatMessage {
            id: id.clone(),
            text: text.to_string(),
            sent_at_ms: services.clock.now_ms(),
        });
        let page = self.send(event).await?;
        services.store.mark_user_message_delivered(&id)?;
        Ok(page)
    }

    /// The Plaza link the user chose to open while the last event was
    /// handled (a code the mini-app had scanned, `plaza:host/scan`), taken
    /// once: the embedding app opens it ([`crate::Host::follow_link`]) and
    /// shows that page instead of the event's.
    pub async fn take_link(&self) -> Option<crate::link::Link> {
        self.slot.lock().await.link.take()
    }

    /// Goes back to the previous page, without asking the mini-app.
    pub async fn back(&self) -> Result<Page> {
        let mut slot = self.slot.lock().await;
        if slot.pages.len() < 2 {
            return Err(Error::NoPageToGoBack);
        }
        slot.pages.pop();
        Ok(slot.pages.last().cloned().expect("two pages"))
    }

    /// Delivers an event and returns the page to show.
    ///
    /// Taps and submissions are checked against the current page first: an
    /// action the page does not offer is refused with the actions it does.
    pub async fn send(&self, event: Event) -> Result<Page> {
        let mut slot = self.slot.lock().await;
        let event = check_event(slot.pages.last(), event)?;
        let runtime = self.runtime.clone();
        slot.last_active_ms = runtime.services.clock.now_ms();
        if slot.live.is_none() {
            if !matches!(event, Event::Launch(_)) {
                slot.pages.clear();
            }
            let live = start_instance(&runtime, &self.user, &self.app_id).await?;
            slot.live = Some(live);
        }
        let mut result = deliver(&runtime, &mut slot, &event).await;
        // Messages the user wrote while the mini-app was closed reach it
        // right after it opens.
        if let Ok(launched) = &result
            && matches!(event, Event::Launch(_))
        {
            let launched = launched.clone();
            let pages = slot.pages.clone();
            let chats = self.redeliver_chats(&runtime, &mut slot).await?;
            let mut page = match chats.last_page {
                Some(p) if !chats.failed => p,
                _ => launched,
            };
            if chats.failed {
                // The mini-app failed on a message, not on its launch: it
                // still opens, on the launch's page; the next event starts
                // a fresh instance if that one ended.
                slot.pages = pages;
            }
            for text in chats.notices.into_iter().rev() {
                page.blocks.insert(
                    0,
                    Block::Notice(Notice {
                        level: NoticeLevel::Warning,
                        text,
                    }),
                );
            }
            result = Ok(page);
        }
        slot.last_active_ms = runtime.services.clock.now_ms();
        result
    }

    /// Gives the mini-app the user's messages it has not taken yet, each
    /// attempt counted first; a message that failed [`MAX_CHAT_ATTEMPTS`]
    /// times is set aside (audited `chat.set-aside`) and the user told.
    /// Stops at the first failure.
    async fn redeliver_chats(&self, runtime: &Arc<Runtime>, slot: &mut Slot) -> Result<Chats> {
        let services = &runtime.services;
        let store = &services.store;
        let mut chats = Chats::default();
        for (id, text, sent_at_ms) in store.undelivered_user_messages(&self.user, &self.app_id)? {
            let attempts = store.count_user_message_attempt(&id)?;
            let quoted: String = text.chars().take(40).collect();
            let set_aside = |detail: &str| -> Result<String> {
                store.set_user_message_aside(&id)?;
                if let Err(e) = services.gate.audit(
                    Actor::host(&self.user, &self.app_id),
                    "chat.set-aside",
                    Outcome::Denied,
                    &format!("message {id} {detail}"),
                ) {
                    tracing::error!("{e}");
                }
                Ok(format!(
                    "Your message \"{quoted}\" could not be given to this mini-app after {MAX_CHAT_ATTEMPTS} tries; it was set aside and will not be sent again."
                ))
            };
            if attempts > MAX_CHAT_ATTEMPTS {
                // Tries the host did not survive.
                chats
                    .notices
                    .push(set_aside("set aside: its tries were used")?);
                continue;
            }
            let chat = Event::Chat(ChatMessage {
                id: id.clone(),
                text,
                sent_at_ms,
            });
            match deliver(runtime, slot, &chat).await {
                Ok(page) => {
                    store.mark_user_message_delivered(&id)?;
                    chats.last_page = Some(page);
                }
                Err(e) => {
                    tracing::warn!(user = %self.user, app = %self.app_id, "a chat message failed (try {attempts}): {e}");
                    chats.failed = true;
                    chats.notices.push(if attempts >= MAX_CHAT_ATTEMPTS {
                        set_aside(&format!("set aside after {attempts} failed tries: {e}"))?
                    } else {
                        format!(
                            "Your message \"{quoted}\" could not be given to this mini-app; it will be tried again when you next open it."
                        )
                    });
                    break;
                }
            }
        }
        Ok(chats)
    }

    /// Ends the session: the mini-app gets a `hide` event, then its instance
    /// is dropped. The next event starts a new one.
    pub async fn close(&self) {
        let mut slot = self.slot.lock().await;
        end_gracefully(&self.runtime, &mut slot, "closed").await;
    }
}

/// The longest locale tag taken.
const MAX_LOCALE_BYTES: usize = 35;

/// Whether `locale` looks like a BCP 47 language tag (letters, digits and
/// `-`, starting with a letter), or is empty.
fn check_locale(locale: &str) -> Result<()> {
    let ok = locale.is_empty()
        || (locale.len() <= MAX_LOCALE_BYTES
            && locale.starts_with(|c: char| c.is_ascii_alphabetic())
            && locale
                .split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric())));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "the locale `{}` is not a language tag such as `zh-CN` or `en-US`",
            locale.chars().take(40).collect::<String>()
        )))
    }
}

/// Checks a tap, a "load more", a refresh or a submission against the page
/// the user sees; a submission's fields are checked against their inputs'
/// kinds and constraints (the refusal names the field and says why, for
/// the user), and its missing fields are filled with the inputs' values.
fn check_event(current: Option<&Page>, event: Event) -> Result<Event> {
    match event {
        Event::LoadMore(action) => {
            let offered = current.map(page::offered_load_more).unwrap_or_default();
            if offered.contains(&action) {
                Ok(Event::LoadMore(action))
            } else {
                Err(Error::ActionNotOffered { action, offered })
            }
        }
        Event::Refresh => {
            if current.is_some_and(|p| p.refreshable) {
                Ok(Event::Refresh)
            } else {
                Err(Error::InvalidRequest(
                    "the page cannot be refreshed (it is not refreshable)".into(),
                ))
            }
        }
        Event::Tap(action) => {
            let offered = current.map(page::offered_actions).unwrap_or_default();
            if offered.contains(&action) {
                Ok(Event::Tap(action))
            } else {
                Err(Error::ActionNotOffered { action, offered })
            }
        }
        Event::Submit(submit) => {
            let forms = current.map(page::forms).unwrap_or_default();
            let Some((_, inputs)) = forms.iter().find(|(f, _)| *f == submit.form) else {
                let names: Vec<&str> = forms.iter().map(|(f, _)| f.as_str()).collect();
                return Err(Error::InvalidSubmit {
                    form: submit.form,
                    message: if names.is_empty() {
                        "the page has no form".to_string()
                    } else {
                        format!("the page's forms are: {}", names.join(", "))
                    },
                });
            };
            for f in &submit.fields {
                if !inputs.iter().any(|i| i.name == f.name) {
                    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
                    return Err(Error::InvalidSubmit {
                        form: submit.form.clone(),
                        message: format!(
                            "it has no field `{}`; its fields are: {}",
                            f.name,
                            names.join(", ")
                        ),
                    });
                }
            }
            let mut fields = Vec::with_capacity(inputs.len());
            for input in inputs {
                let value = submit
                    .fields
                    .iter()
                    .rev()
                    .find(|f| f.name == input.name)
                    .map(|f| f.value.clone())
                    .unwrap_or_else(|| input.value.clone());
                let value =
                    page::check_value(input, &value).map_err(|reason| Error::FieldRefused {
                        form: submit.form.clone(),
                        field: input.name.clone(),
                        label: input.label.clone(),
                        reason,
                    })?;
                fields.push(FieldValue {
                    name: input.name.clone(),
                    value,
                });
            }
            Ok(Event::Submit(SubmitEvent {
                form: submit.form,
                fields,
            }))
        }
        other => Ok(other),
    }
}

/// Records a message a user wrote to a mini-app; returns its id.
pub(crate) fn record_user_message(
    services: &Services,
    user: &str,
    app_id: &str,
    text: &str,
) -> Result<String> {
    let max = crate::capabilities::MAX_TEXT_CHARS;
    if text.trim().is_empty() || text.chars().count() > max {
        return Err(Error::InvalidRequest(format!(
            "a message must be 1 to {max} characters"
        )));
    }
    let id = services.ids.next_id("chat-");
    services
        .store
        .record_user_message(&id, user, app_id, text, services.clock.now_ms())?;
    Ok(id)
}

async fn start_instance(runtime: &Arc<Runtime>, user: &str, app_id: &str) -> Result<LiveInstance> {
    let app = runtime.loaded_app(app_id).await?;
    let services = &runtime.services;
    let limits = &services.limits;
    let id = services.ids.next_id("s-");
    let stdout = OutputCapture::new(limits.output_bytes_per_event);
    let stderr = OutputCapture::new(limits.output_bytes_per_event);
    let (publisher_verified, publisher_name) =
        crate::trust::publisher_as_shown(&*services.store, &app.manifest, app.signed)
            .unwrap_or_else(|e| {
                tracing::error!("reading the publisher registry: {e}");
                (false, app.manifest.publisher.name.clone())
            });
    let generation = services
        .store
        .app_id_owner(app_id)?
        .map_or(0, |owner| owner.generation);
    // The settings as they are now: what this session reads, and the
    // origins it names by setting.
    let settings = SessionSettings::load(
        &*services.store,
        app.manifest.clone(),
        services.settings_key.clone(),
    )?;
    // The user opened the mini-app: its back-end may address them by openid
    // (a failure to note it does not stop the session).
    if let Err(e) = crate::capabilities::identity::remember_openid(services, user, app_id) {
        tracing::error!(app = %app_id, "remembering the user's openid: {e}");
    }
    let subject = Subject {
        user: user.to_string(),
        session: id.clone(),
        manifest: app.manifest.clone(),
        publisher_verified,
        publisher_name,
        generation,
        origins: settings.origins().into(),
    };
    let mut store = instance::new_store(
        &runtime.engine,
        services,
        subject,
        settings,
        stdout.clone(),
        stderr.clone(),
    );
    let instantiated = app.pre.instantiate(&mut store).await;
    let bindings = match instantiated {
        Ok(b) => b,
        Err(e) => {
            if e.chain()
                .any(|c| c.is::<wasmtime::PoolConcurrencyLimitError>())
            {
                return Err(Error::HostBusy {
                    limit: limits.max_live_sessions,
                });
            }
            let fault = store.data().fault(&e, "");
            return Err(Error::SessionEnded {
                app: app_id.to_string(),
                session: id,
                fault,
            });
        }
    };
    let live = LiveInstance {
        id,
        store,
        bindings,
        app,
        stdout,
        stderr,
    };
    audit_lifecycle(&live, "session.started", Outcome::Allowed, "a new instance");
    Ok(live)
}

async fn deliver(runtime: &Arc<Runtime>, slot: &mut Slot, event: &Event) -> Result<Page> {
    deliver_within(runtime, slot, event, None).await
}

/// Delivers `event` within the event's wall-clock cap, or within `hide_cap`
/// (prompts' waits counted) for a `hide`.
async fn deliver_within(
    runtime: &Arc<Runtime>,
    slot: &mut Slot,
    event: &Event,
    hide_cap: Option<std::time::Duration>,
) -> Result<Page> {
    slot.link = None;
    let live = slot.live.as_mut().expect("an instance is live");
    live.store
        .data_mut()
        .start_event(matches!(event, Event::Tap(_) | Event::Submit(_)));
    live.store.set_epoch_deadline(1);
    // A host call that waits (a sleep, a poll, the network) gives back the
    // busy lane the event holds.
    let held = live.store.data().held_lane();
    let lanes = runtime.services.busy_lanes.clone();
    let call = live.bindings.handle(&mut live.store, event);
    let call = crate::lanes::run_releasing_while_waiting(&held, &lanes, call);
    // The event's wall-clock cap, not counting the time it waits on the user.
    let network = live.app.manifest.capabilities.network.is_some();
    let cap = hide_cap.unwrap_or(runtime.services.limits.wall_clock_for(network));
    let outcome = within_wall_clock(cap, hide_cap.is_none(), &held, call).await;
    live.store.data_mut().end_event();
    let stderr_tail = flush_output(live);
    let result = match outcome {
        Some(Ok(page)) => Ok(page),
        Some(Err(e)) => Err(live.store.data().fault(&e, &stderr_tail)),
        None => Err(GuestFault::WallClock {
            limit_ms: cap.as_millis() as u64,
        }),
    };
    let page = match result {
        Ok(page) => page,
        Err(fault) => {
            let live = slot.live.take().expect("live");
            slot.pages.clear();
            tracing::warn!(app = %live.app.manifest.app.id, session = %live.id, "session ended: {fault}");
            audit_lifecycle(&live, "session.ended", Outcome::Denied, &fault.to_string());
            return Err(Error::SessionEnded {
                app: live.app.manifest.app.id.clone(),
                session: live.id,
                fault,
            });
        }
    };
    let (manifest, assets) = (&live.app.manifest, &live.app.assets);
    if let Err(message) =
        page::validate(&page, runtime.services.limits.page_bytes, manifest, assets)
    {
        audit_lifecycle(live, "page.refused", Outcome::Denied, &message);
        return Err(Error::InvalidPage {
            app: live.app.manifest.app.id.clone(),
            message,
        });
    }
    match page.navigation {
        Navigation::Push => {
            slot.pages.push(page.clone());
            if slot.pages.len() > MAX_PAGE_STACK {
                slot.pages.remove(0);
            }
        }
        Navigation::Replace => {
            slot.pages.pop();
            slot.pages.push(page.clone());
        }
        Navigation::Back => {
            slot.pages.pop();
            slot.pages.pop();
            slot.pages.push(page.clone());
        }
    }
    // A link the user chose to open while the event was handled opens once
    // its page is shown.
    slot.link = live.store.data_mut().take_accepted_link();
    Ok(page)
}

/// Runs `call` until it ends or `cap` has passed, not counting the time the
/// event waits on the user (a prompt, which has its own timeout) if
/// `pause_for_user`; `None` at the cap. Dropping the call drops the guest's
/// stack; the caller then drops the instance.
async fn within_wall_clock<F: std::future::Future>(
    cap: std::time::Duration,
    pause_for_user: bool,
    held: &crate::lanes::HeldLane,
    call: F,
) -> Option<F::Output> {
    let started = tokio::time::Instant::now();
    let mut call = std::pin::pin!(call);
    loop {
        let (user_wait, waiting_on_user) = if pause_for_user {
            held.user_wait()
        } else {
            Default::default()
        };
        let deadline = started + cap + user_wait;
        if !waiting_on_user && tokio::time::Instant::now() >= deadline {
            return None;
        }
        // While the user is asked, look again a cap later at the latest.
        let until = if waiting_on_user {
            tokio::time::Instant::now() + cap
        } else {
            deadline
        };
        if let Ok(out) = tokio::time::timeout_at(until, call.as_mut()).await {
            return Some(out);
        }
    }
}

/// Delivers `hide` (errors ignored: the session is ending anyway) within
/// [`SandboxLimits::hide_deadline`] and drops the instance. A `hide` past
/// its cap ends the session with `WallClock`, audited as such.
///
/// [`SandboxLimits::hide_deadline`]: crate::sandbox::SandboxLimits::hide_deadline
pub(crate) async fn end_gracefully(runtime: &Arc<Runtime>, slot: &mut Slot, why: &str) {
    if slot.live.is_none() {
        return;
    }
    let cap = runtime.services.limits.hide_deadline;
    let _ = deliver_within(runtime, slot, &Event::Hide, Some(cap)).await;
    if let Some(live) = slot.live.take() {
        audit_lifecycle(&live, "session.ended", Outcome::Allowed, why);
    }
    slot.pages.clear();
}

/// Ends the sessions of `slots` at once, each as [`end_gracefully`] does;
/// returns how many were live. A session busy with an event ends when that
/// event does (at the latest at its wall-clock cap). With `busy_skipped`, a
/// busy session is left alone instead (idle eviction: it is not idle).
pub(crate) async fn end_all(
    runtime: &Arc<Runtime>,
    slots: Vec<Arc<tokio::sync::Mutex<Slot>>>,
    why: &'static str,
    busy_skipped: Option<i64>,
) -> usize {
    let mut ending = tokio::task::JoinSet::new();
    for slot in slots {
        let runtime = runtime.clone();
        match busy_skipped {
            None => ending.spawn(async move {
                let mut slot = slot.lock_owned().await;
                let live = slot.is_live();
                end_gracefully(&runtime, &mut slot, why).await;
                live
            }),
            Some(idle_since_ms) => {
                let Ok(mut slot) = slot.try_lock_owned() else {
                    continue;
                };
                if !slot.is_live() || slot.last_active_ms > idle_since_ms {
                    continue;
                }
                ending.spawn(async move {
                    end_gracefully(&runtime, &mut slot, why).await;
                    true
                })
            }
        };
    }
    ending
        .join_all()
        .await
        .into_iter()
        .filter(|live| *live)
        .count()
}

fn audit_lifecycle(live: &LiveInstance, what: &str, outcome: Outcome, detail: &str) {
    if let Err(e) = live.store.data().gate().audit(what, outcome, detail) {
        tracing::error!("{e}");
    }
}

/// Writes what the guest printed to the host's log; returns the tail of its
/// standard error (for the reason of a trap).
fn flush_output(live: &LiveInstance) -> String {
    let app = &live.app.manifest.app.id;
    let mut stderr_tail = String::new();
    for (stream, capture) in [
        (Stream::Stdout, &live.stdout),
        (Stream::Stderr, &live.stderr),
    ] {
        let (bytes, dropped) = capture.drain();
        if bytes.is_empty() && dropped == 0 {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match stream {
                Stream::Stdout => {
                    tracing::info!(target: "plaza::guest", app = %app, session = %live.id, stream = "stdout", "{line}")
                }
                Stream::Stderr => {
                    tracing::warn!(target: "plaza::guest", app = %app, session = %live.id, stream = "stderr", "{line}")
                }
            }
        }
        if dropped > 0 {
            tracing::warn!(target: "plaza::guest", app = %app, session = %live.id, "{dropped} bytes of output over the cap were dropped");
        }
        if stream == Stream::Stderr {
            let t: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let start = t.len().saturating_sub(3);
            stderr_tail = t[start..].join(" | ");
            if stderr_tail.len() > 500 {
                let cut = stderr_tail.floor_char_boundary(500);
                stderr_tail.truncate(cut);
            }
        }
    }
    stderr_tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_world::pages::{Block, Button, ButtonStyle, Constraints, Input, InputKind};

    fn no_constraints() -> Constraints {
        Constraints {
            min: None,
            max: None,
            max_length: None,
            pattern: None,
            pattern_hint: String::new(),
        }
    }

    fn page() -> Page {
        Page {
            title: "T".into(),
            blocks: vec![
                Block::Button(Button {
                    label: "Go".into(),
                    action: "go".into(),
                    style: ButtonStyle::Primary,
                }),
                Block::Input(Input {
                    form: "f".into(),
                    name: "name".into(),
                    kind: InputKind::Text,
                    label: "Name".into(),
                    value: String::new(),
                    required: true,
                    read_only: false,
                    options: Vec::new(),
                    constraints: no_constraints(),
                }),
                Block::Input(Input {
                    form: "f".into(),
                    name: "note".into(),
                    kind: InputKind::Text,
                    label: "Note".into(),
                    value: "none".into(),
                    required: false,
                    read_only: false,
                    options: Vec::new(),
                    constraints: no_constraints(),
                }),
            ],
            navigation: Navigation::Push,
            refreshable: false,
        }
    }

    #[test]
    fn taps_must_be_offered() {
        let p = page();
        assert!(check_event(Some(&p), Event::Tap("go".into())).is_ok());
        let e = check_event(Some(&p), Event::Tap("pay".into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the page does not offer the action `pay`; it offers: go"
        );
        let e = check_event(None, Event::Tap("go".into())).unwrap_err();
        assert!(e.to_string().contains("launch the mini-app first"), "{e}");
    }

    #[test]
    fn submissions_are_checked_and_completed() {
        let p = page();
        let submit = |fields: Vec<(&str, &str)>| {
            check_event(
                Some(&p),
                Event::Submit(SubmitEvent {
                    form: "f".into(),
                    fields: fields
                        .into_iter()
                        .map(|(n, v)| FieldValue {
                            name: n.into(),
                            value: v.into(),
                        })
                        .collect(),
                }),
            )
        };
        let Event::Submit(s) = submit(vec![("name", "Li")]).unwrap() else {
            panic!()
        };
        let got: Vec<(&str, &str)> = s
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(got, vec![("name", "Li"), ("note", "none")]);
        assert!(
            submit(vec![])
                .unwrap_err()
                .to_string()
                .contains("`name` (Name) is required")
        );
        assert!(
            submit(vec![("age", "3")])
                .unwrap_err()
                .to_string()
                .contains("no field `age`")
        );
    }

    #[test]
    fn query_is_split() {
        let (_, q) = split_query("/x?name=Li%20Na&note=a+b&bad=%zz&end=%4");
        let got: Vec<&str> = q.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(got, vec!["Li Na", "a b", "%zz", "%4"]);
        let (p, q) = split_query("/doctor?id=7&day=mon");
        assert_eq!(p, "/doctor");
        assert_eq!(q.len(), 2);
        assert_eq!((q[1].name.as_str(), q[1].value.as_str()), ("day", "mon"));
    }
}
