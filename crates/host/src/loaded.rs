//! The mini-apps a host keeps loaded: each installed mini-app is loaded
//! (its component compiled, or read from the compiled-component cache, and
//! linked) at its first use, not when the host opens, and the least
//! recently used ones are unloaded when their compiled code passes the
//! host's cap ([`HostConfig::max_loaded_code_bytes`]).
//!
//! A live session holds its mini-app (an `Arc` of it): unloading only
//! drops the table's reference, so a mini-app in use is never taken from
//! under its sessions, and is not picked while anything holds it (its code
//! would stay in memory anyway). The cap can then be passed for as long as
//! the mini-apps in use need more; the next load, or the host's idle sweep,
//! unloads what is no longer used.
//!
//! [`HostConfig::max_loaded_code_bytes`]: crate::HostConfig::max_loaded_code_bytes

use crate::instance::LoadedApp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A mini-app a host has loaded, as [`Host::loaded_apps`](crate::Host::loaded_apps)
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadedAppInfo {
    /// The mini-app id.
    pub app_id: String,
    /// The version loaded.
    pub version: String,
    /// The bytes of its compiled code in memory.
    pub code_bytes: u64,
    /// Whether live sessions (or a load under way) hold it: it is not
    /// unloaded while they do.
    pub in_use: bool,
}

/// The loaded mini-apps of a host and their totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadedTotals {
    /// Mini-apps loaded.
    pub apps: usize,
    /// Bytes of their compiled code.
    pub code_bytes: u64,
    /// Mini-apps loaded since the host opened (installs and first uses).
    pub loads: u64,
    /// Mini-apps unloaded for the cap since the host opened.
    pub unloads: u64,
}

struct Entry {
    app: Arc<LoadedApp>,
    /// The use counter's value at its last use: the smallest is the least
    /// recently used.
    last_used: u64,
}

#[derive(Default)]
struct Table {
    apps: HashMap<String, Entry>,
    /// Counts uses: each use takes the next value.
    uses: u64,
    code_bytes: u64,
    loads: u64,
    unloads: u64,
}

impl Table {
    fn touch(&mut self, app_id: &str) -> Option<Arc<LoadedApp>> {
        self.uses += 1;
        let now = self.uses;
        let entry = self.apps.get_mut(app_id)?;
        entry.last_used = now;
        Some(entry.app.clone())
    }

    fn remove(&mut self, app_id: &str) -> Option<Arc<LoadedApp>> {
        let entry = self.apps.remove(app_id)?;
        self.code_bytes -= entry.app.code_bytes;
        Some(entry.app)
    }

    /// Removes least recently used mini-apps nothing else holds until the
    /// code is within `cap`; returns them, to be dropped outside the lock.
    fn trim(&mut self, cap: u64) -> Vec<Arc<LoadedApp>> {
        let mut unloaded = Vec::new();
        while self.code_bytes > cap {
            // Under the lock, a count of 1 stays 1: every other reference is
            // cloned from the table under it.
            let victim = self
                .apps
                .iter()
                .filter(|(_, e)| Arc::strong_count(&e.app) == 1)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(id, _)| id.clone());
            let Some(id) = victim else { break };
            if let Some(app) = self.remove(&id) {
                self.unloads += 1;
                unloaded.push(app);
            }
        }
        unloaded
    }
}

/// The loaded mini-apps, by id, with their use order and the cap on their
/// compiled code.
pub(crate) struct LoadedApps {
    cap_bytes: u64,
    table: Mutex<Table>,
}

impl LoadedApps {
    pub(crate) fn new(cap_bytes: u64) -> LoadedApps {
        LoadedApps {
            cap_bytes,
            table: Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The loaded version of `app_id`, marked used now.
    pub(crate) fn get(&self, app_id: &str) -> Option<Arc<LoadedApp>> {
        self.lock().touch(app_id)
    }

    /// Whether `app_id` is loaded (not a use).
    pub(crate) fn contains(&self, app_id: &str) -> bool {
        self.lock().apps.contains_key(app_id)
    }

    /// Makes `app` the loaded version of its mini-app, used now, and unloads
    /// least recently used mini-apps if the code passes the cap. When the
    /// same version (component and manifest version) is loaded already (a
    /// concurrent first use loaded it), that one stays and is returned.
    pub(crate) fn insert(&self, app: Arc<LoadedApp>) -> Arc<LoadedApp> {
        let app_id = app.manifest.app.id.clone();
        let (kept, unloaded) = {
            let mut t = self.lock();
            let same = t.apps.get(&app_id).is_some_and(|e| {
                e.app.component_sha256 == app.component_sha256
                    && e.app.manifest.app.version == app.manifest.app.version
            });
            let replaced = if same {
                None
            } else {
                let replaced = t.remove(&app_id);
                t.code_bytes += app.code_bytes;
                t.loads += 1;
                t.apps.insert(app_id.clone(), Entry { app, last_used: 0 });
                replaced
            };
            // Held by the caller until it returns: not a candidate.
            let kept = t.touch(&app_id).expect("just inserted");
            let mut unloaded = t.trim(self.cap_bytes);
            unloaded.extend(replaced);
            (kept, unloaded)
        };
        for app in &unloaded {
            tracing::debug!(app = %app.manifest.app.id, code_bytes = app.code_bytes, "unloaded");
        }
        // The code is freed here, outside the lock (for the unused ones).
        drop(unloaded);
        kept
    }

    /// Forgets the loaded version of `app_id`, if any.
    pub(crate) fn remove(&self, app_id: &str) {
        let removed = self.lock().remove(app_id);
        drop(removed);
    }

    /// Unloads least recently used mini-apps no longer in use while the code
    /// passes the cap (after sessions that held them ended); returns how
    /// many.
    pub(crate) fn trim(&self) -> usize {
        let unloaded = self.lock().trim(self.cap_bytes);
        unloaded.len()
    }

    /// The loaded mini-apps, most recently used first.
    pub(crate) fn list(&self) -> Vec<LoadedAppInfo> {
        let t = self.lock();
        let mut entries: Vec<(&String, &Entry)> = t.apps.iter().collect();
        entries.sort_by_key(|(_, e)| std::cmp::Reverse(e.last_used));
        entries
            .into_iter()
            .map(|(id, e)| LoadedAppInfo {
                app_id: id.clone(),
                version: e.app.manifest.app.version.to_string(),
                code_bytes: e.app.code_bytes,
                in_use: Arc::strong_count(&e.app) > 1,
            })
            .collect()
    }

    /// The totals.
    pub(crate) fn totals(&self) -> LoadedTotals {
        let t = self.lock();
        LoadedTotals {
            apps: t.apps.len(),
            code_bytes: t.code_bytes,
            loads: t.loads,
            unloads: t.unloads,
        }
    }
}
