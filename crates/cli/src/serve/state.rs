//! What the simulator keeps between requests: the host, the user being
//! simulated, which mini-app each user has open and the page it shows, the
//! test clock, and the version numbers the page polls.

use super::TestClock;
use super::prompts::WebPrompter;
use plaza_host::{Host, Page};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The mini-app a user has open.
#[derive(Debug, Clone)]
pub struct OpenApp {
    /// Its id.
    pub app_id: String,
    /// The path it was last launched at (a reload launches it there again).
    pub path: String,
    /// The page it shows.
    pub page: Option<Page>,
    /// What went wrong with the last event, if it failed.
    pub error: Option<String>,
}

/// The simulator's view, behind one lock.
#[derive(Debug, Default)]
pub struct View {
    /// The user being simulated.
    pub user: String,
    /// Every user simulated since the start, in order.
    pub users: Vec<String>,
    /// Per user, the mini-app open (none: the home screen).
    pub open: HashMap<String, OpenApp>,
    /// The last problem rebuilding a watched project, if the last build
    /// failed (the previous build keeps running).
    pub build_error: Option<String>,
    /// Events under way, per user (the page shows a spinner).
    pub busy: HashMap<String, u32>,
}

/// The simulator; cheap to clone.
#[derive(Clone)]
pub struct Sim {
    /// The host.
    pub host: Host,
    /// The dialogs.
    pub prompter: WebPrompter,
    /// The test clock.
    pub clock: Arc<TestClock>,
    view: Arc<Mutex<View>>,
    /// Bumped whenever what the phone shows changes: the page re-renders.
    page_seq: Arc<AtomicU64>,
    /// Bumped when a watched mini-app was reinstalled: the browser reloads.
    reload_seq: Arc<AtomicU64>,
}

impl Sim {
    /// A simulator starting as `user`.
    pub fn new(host: Host, prompter: WebPrompter, clock: Arc<TestClock>, user: &str) -> Sim {
        Sim {
            host,
            prompter,
            clock,
            view: Arc::new(Mutex::new(View {
                user: user.to_string(),
                users: vec![user.to_string()],
                ..View::default()
            })),
            page_seq: Arc::new(AtomicU64::new(1)),
            reload_seq: Arc::new(AtomicU64::new(1)),
        }
    }

    /// The view, locked.
    pub fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current page-change number.
    pub fn page_seq(&self) -> u64 {
        self.page_seq.load(Ordering::SeqCst)
    }

    /// Tells the page that the phone's content changed.
    pub fn bump_page(&self) {
        self.page_seq.fetch_add(1, Ordering::SeqCst);
    }

    /// The current reload number.
    pub fn reload_seq(&self) -> u64 {
        self.reload_seq.load(Ordering::SeqCst)
    }

    /// Tells the browser to reload.
    pub fn bump_reload(&self) {
        self.reload_seq.fetch_add(1, Ordering::SeqCst);
        self.bump_page();
    }

    /// The user being simulated.
    pub fn user(&self) -> String {
        self.view().user.clone()
    }

    /// Switches to `user` (made on first use); their open mini-app and
    /// sessions are as they left them.
    pub fn switch_user(&self, user: &str) {
        let mut v = self.view();
        v.user = user.to_string();
        if !v.users.iter().any(|u| u == user) {
            v.users.push(user.to_string());
        }
        drop(v);
        self.bump_page();
    }

    /// Records the outcome of an event of `user` in `app_id`.
    pub fn record(&self, user: &str, app_id: &str, path: Option<&str>, outcome: Outcome) {
        let mut v = self.view();
        let entry = v.open.entry(user.to_string()).or_insert_with(|| OpenApp {
            app_id: app_id.to_string(),
            path: "/".into(),
            page: None,
            error: None,
        });
        if entry.app_id != app_id {
            *entry = OpenApp {
                app_id: app_id.to_string(),
                path: "/".into(),
                page: None,
                error: None,
            };
        }
        if let Some(p) = path {
            entry.path = p.to_string();
        }
        match outcome {
            Outcome::Page(p) => {
                entry.page = Some(p);
                entry.error = None;
            }
            Outcome::Error(e) => entry.error = Some(e),
        }
        drop(v);
        self.bump_page();
    }

    /// Closes the mini-app `user` has open (back to the home screen).
    pub fn close_app(&self, user: &str) {
        self.view().open.remove(user);
        self.bump_page();
    }

    /// Marks an event of `user` as started (`true`) or finished.
    pub fn set_busy(&self, user: &str, busy: bool) {
        let mut v = self.view();
        let n = v.busy.entry(user.to_string()).or_default();
        if busy {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
        }
    }

    /// Increases the reload number after a watched mini-app was reinstalled,
    /// relaunching it for every user who had it open, at the path they had.
    pub async fn reloaded(&self, app_id: &str) {
        let open: Vec<(String, String)> = self
            .view()
            .open
            .iter()
            .filter(|(_, o)| o.app_id == app_id)
            .map(|(u, o)| (u.clone(), o.path.clone()))
            .collect();
        for (user, path) in open {
            let outcome = match self.host.session(&user, app_id) {
                Ok(s) => match s.launch(&path).await {
                    Ok(p) => Outcome::Page(p),
                    Err(e) => Outcome::Error(e.to_string()),
                },
                Err(e) => Outcome::Error(e.to_string()),
            };
            self.record(&user, app_id, None, outcome);
        }
        self.bump_reload();
    }
}

/// How an event ended.
#[derive(Debug)]
pub enum Outcome {
    /// With a page.
    Page(Page),
    /// With an error, in words.
    Error(String),
}
