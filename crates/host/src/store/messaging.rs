//! Messages: subscriptions to templates, followers, broadcasts, the user's
//! side of conversations, and the inbox every delivered message lands in.
//!
//! Delivery is exactly once: a subscription message consumes its one-time
//! acceptance in the same transaction that puts it in the inbox; a broadcast
//! is recorded first with its recipients, then delivered one follower at a
//! time with a unique (broadcast, user) key, so a host restarted mid-broadcast
//! finishes it without sending anyone a message twice.

use super::StoreResult;

/// A message in a user's inbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InboxMessage {
    /// The message id.
    pub id: String,
    /// The recipient.
    pub user: String,
    /// The mini-app that sent it.
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// Its publisher's name.
    pub publisher_name: String,
    /// `subscription`, `broadcast` or `conversation`.
    pub kind: String,
    /// The template, for subscription messages.
    pub template_id: Option<String>,
    /// The title (the template's, the broadcast's, or "Reply").
    pub title: String,
    /// The text, or the template's fields as `name: value` lines.
    pub body: String,
    /// When, ms since the epoch.
    pub sent_at_ms: i64,
    /// Whether the user has read it.
    pub read: bool,
    /// The page of the mini-app the message opens (a path and query, such
    /// as `/appointment?id=7`), if it carries one: [`crate::Host::open_message`].
    #[serde(default)]
    pub link: Option<String>,
}

/// What the sender of a message is called in the inbox.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The mini-app.
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// Its publisher's name.
    pub publisher_name: String,
    /// The page of the mini-app the message opens (a path and query), if
    /// any: set by the publisher API, kept with the message.
    pub link: Option<String>,
}

/// The outcome of sending a subscription message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Delivered.
    Sent(String),
    /// The user has no remaining acceptance of the template.
    NoSubscription,
}

/// A broadcast's delivery so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BroadcastCount {
    /// Followers whose inbox received it.
    pub delivered: u32,
    /// Followers skipped: their monthly quota from this account was used.
    pub skipped: u32,
}

/// Messages and their delivery.
pub trait MessagingStore: Send + Sync {
    /// Records a user's acceptance of a template: one more message, or any
    /// number for a long-term acceptance.
    fn accept_template(
        &self,
        user: &str,
        app: &str,
        template: &str,
        long_term: bool,
        at_ms: i64,
    ) -> StoreResult<()>;
    /// Delivers a subscription message if the user has an acceptance left,
    /// consuming a one-time acceptance, in one transaction.
    #[allow(clippy::too_many_arguments)]
    fn send_subscription(
        &self,
        id: &str,
        user: &str,
        sender: &Sender,
        template: &str,
        title: &str,
        body: &str,
        month: &str,
        at_ms: i64,
    ) -> StoreResult<SendResult>;
    /// Follows (true) or unfollows a mini-app's account; returns whether that
    /// changed anything.
    fn set_following(&self, user: &str, app: &str, follow: bool, at_ms: i64) -> StoreResult<bool>;
    /// The followers of an account.
    fn followers(&self, app: &str) -> StoreResult<Vec<String>>;
    /// Records a broadcast and its recipients: the followers now who are
    /// under the monthly `quota` from this account. Followers over it are
    /// only counted (as skipped), without a row each.
    #[allow(clippy::too_many_arguments)]
    fn start_broadcast(
        &self,
        id: &str,
        sender: &Sender,
        title: &str,
        body: &str,
        month: &str,
        quota: u32,
        at_ms: i64,
    ) -> StoreResult<()>;
    /// Delivers a recorded broadcast to every recipient not yet handled, in
    /// transactions of a few recipients (skipping those over the monthly
    /// quota by now), then marks it done and prunes the recipient rows of
    /// finished broadcasts of earlier months. Safe to run again after a
    /// crash: nobody gets it twice. It blocks on the disk: callers on an
    /// async runtime run it off the async workers.
    fn deliver_broadcast(
        &self,
        id: &str,
        message_ids: &mut dyn FnMut() -> String,
    ) -> StoreResult<BroadcastCount>;
    /// Broadcasts not marked done (interrupted by a crash).
    fn unfinished_broadcasts(&self) -> StoreResult<Vec<String>>;
    /// How many recipient rows the store keeps, over all broadcasts.
    fn broadcast_recipient_rows(&self) -> StoreResult<u64>;
    /// Records a message from a user to a mini-app.
    fn record_user_message(
        &self,
        id: &str,
        user: &str,
        app: &str,
        text: &str,
        at_ms: i64,
    ) -> StoreResult<()>;
    /// When the user last wrote to the mini-app.
    fn last_user_message_at(&self, user: &str, app: &str) -> StoreResult<Option<i64>>;
    /// The user's messages the mini-app has not been given yet, oldest first:
    /// `(id, text, sent_at_ms)`.
    fn undelivered_user_messages(
        &self,
        user: &str,
        app: &str,
    ) -> StoreResult<Vec<(String, String, i64)>>;
    /// Marks a user's message as given to the mini-app.
    fn mark_user_message_delivered(&self, id: &str) -> StoreResult<()>;
    /// Counts one attempt to give a user's message to the mini-app, before
    /// it is made (so an attempt the host does not survive counts too);
    /// returns the attempts so far, this one included.
    fn count_user_message_attempt(&self, id: &str) -> StoreResult<u32>;
    /// Sets aside a user's message the mini-app kept failing to take: it is
    /// no longer among the undelivered, so it is not given again.
    fn set_user_message_aside(&self, id: &str) -> StoreResult<()>;
    /// Puts a reply (or any message) straight into the user's inbox.
    #[allow(clippy::too_many_arguments)]
    fn deliver_message(
        &self,
        id: &str,
        user: &str,
        sender: &Sender,
        kind: &str,
        title: &str,
        body: &str,
        month: &str,
        at_ms: i64,
    ) -> StoreResult<()>;
    /// A user's inbox, newest first.
    fn inbox(&self, user: &str, unread_only: bool, limit: usize) -> StoreResult<Vec<InboxMessage>>;
    /// A message of the user's inbox by id; `None` if the user has no such
    /// message.
    fn inbox_message(&self, user: &str, id: &str) -> StoreResult<Option<InboxMessage>>;
    /// Marks a message read; false if the user has no such message.
    fn mark_read(&self, user: &str, id: &str) -> StoreResult<bool>;
    /// Counts one use of `key`'s allowance in `minute` if the minute's uses
    /// stay within `limit`; false (and nothing counted) if they are at it.
    /// Atomic, and kept in the store, so every host on the store shares
    /// one count per key. Rows of past minutes are dropped as new ones come.
    fn take_rate(&self, key: &str, minute: i64, limit: u32) -> StoreResult<bool>;
}

/// Counts one use in a key's minute (`$1` key, `$2` minute, `$3` limit):
/// returns a row only if the use was counted. The same text for both
/// backends' rate tables.
pub(crate) const TAKE_RATE_SQL: &str = "
INSERT INTO rate_windows (key, minute, count) VALUES ($1, $2, 1)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN rate_windows.minute = excluded.minute THEN rate_windows.count + 1 ELSE 1 END,
    minute = excluded.minute
WHERE rate_windows.minute != excluded.minute OR rate_windows.count < $3
RETURNING count";

/// Drops the recipients of finished broadcasts of months before `$1` (a
/// broadcast's month): of no more use, their quota month is over and
/// nothing resumes them. The broadcasts that still have recipients are
/// found one index step each (the smallest broadcast id above the last),
/// and each looked up by its key (a subquery, which neither backend turns
/// into a join that reads every broadcast ever made): the recipients kept
/// are those of this month's and last month's broadcasts, the broadcasts
/// are the store's whole history.
pub(crate) const PRUNE_RECIPIENTS_SQL: &str = "
DELETE FROM broadcast_recipients WHERE broadcast_id IN (
    WITH RECURSIVE kept (id) AS (
        SELECT MIN(broadcast_id) FROM broadcast_recipients
        UNION ALL
        SELECT (SELECT MIN(r.broadcast_id) FROM broadcast_recipients r WHERE r.broadcast_id > kept.id)
        FROM kept WHERE kept.id IS NOT NULL
    )
    SELECT kept.id FROM kept
    WHERE (SELECT b.done AND b.month < $1 FROM broadcasts b WHERE b.id = kept.id)
)";

/// Drops the rows of minutes before the last (`$1` the current minute).
pub(crate) const PRUNE_RATES_SQL: &str =
    "DELETE FROM rate_windows WHERE minute < CAST($1 AS BIGINT) - 1";
