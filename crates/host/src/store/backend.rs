//! What mini-apps' back-ends reach through the publisher API: the directory
//! of openids the host gave out, so a back-end can address a user by the
//! openid it knows.
//!
//! An openid is a keyed hash that cannot be reversed, so the host remembers
//! which user each one it handed out stands for, per mini-app and app-id
//! generation. A lookup in one mini-app never finds another's openid: the
//! ids do not correlate across mini-apps.

use super::StoreResult;

/// The openids the host gave out, per mini-app.
pub trait OpenidStore: Send + Sync {
    /// Remembers that `openid` stands for `user` in `app` under its app id's
    /// `generation` (again: no change).
    fn remember_openid(
        &self,
        app: &str,
        generation: u32,
        openid: &str,
        user: &str,
        at_ms: i64,
    ) -> StoreResult<()>;
    /// The user `openid` stands for in `app` under `generation`, if the host
    /// gave it out there.
    fn openid_user(&self, app: &str, generation: u32, openid: &str) -> StoreResult<Option<String>>;
}
