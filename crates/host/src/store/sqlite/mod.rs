//! The SQLite store: one file, WAL journal, full synchronous commits shared
//! by concurrent writers (group commit), a second connection for reads.

mod audit;
mod backend;
mod consent;
mod identity;
mod kv;
mod ledger;
mod media;
mod messaging;
mod outbox;
mod packages;
mod privacy;
mod secrets;
mod settings;

use crate::store::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// 2: `kv_usage` keeps each (user, mini-app)'s totals, and a key's size
/// counts [`KV_ENTRY_OVERHEAD_BYTES`](crate::store::KV_ENTRY_OVERHEAD_BYTES).
/// 3: the audit log's `seq` is a plain rowid key, without `AUTOINCREMENT`.
/// 4: `conversation.attempts` counts the tries to give a user's message to
/// the mini-app ([`messaging::ADDED_COLUMNS`]).
/// 5: `broadcasts.skipped` counts the followers a broadcast skipped at its
/// start.
/// 6: `app_ids` keeps each app id's owner and generation for good
/// ([`packages::MIGRATE_TO_6`]); payments and refunds carry the generation
/// they were made under, and a payment's key includes it
/// ([`ledger::MIGRATE_TO_6_BEFORE`]).
/// 6 also: `audit_summary` counts the audit log per (user, mini-app, what,
/// outcome) for privacy reports, kept by a trigger and built from the log
/// ([`privacy::MIGRATE_TO_6`]); `identity_epochs` moves on with each erasure
/// of a mini-app's data about a user.
/// 7: `app_settings` keeps mini-apps' settings ([`settings::SCHEMA`]), a
/// new table made at open.
/// 8: messages carry the page they open (`inbox.link`, `broadcasts.link`),
/// refunds the caller's refund id (`refunds.refund_id`, unique per
/// mini-app and generation), and `openids` keeps the openids given out for
/// the publisher API ([`backend::SCHEMA`]). `rate_windows` counts messages
/// and publisher API calls per minute in the store, so hosts sharing a
/// store share the limits (a new table made at open: nothing to migrate).
/// 9: `ledger_checkpoint` and `ledger_checkpoint_balances` keep where the
/// last clean ledger verification stopped, and `broadcasts_unfinished`
/// indexes the broadcasts to resume ([`ledger::CHECKPOINT_SCHEMA`]): new
/// tables and an index made at open, nothing to migrate; and `outbox` keeps
/// the payment notifications owed to mini-apps' back-ends
/// ([`outbox::SCHEMA`]), a new table made at open.
/// 10: `media` keeps the files users give mini-apps ([`media::SCHEMA`]), a
/// new table made at open; their sizes count in `kv_usage`.
const SCHEMA_VERSION: i64 = 10;

/// The tables of every store concern. Each part is idempotent (`IF NOT
/// EXISTS`) and applied at every open, so a capability adds its tables by
/// adding its part here; a change to an existing table needs a migration
/// keyed on `user_version`.
const SCHEMA_PARTS: &[&str] = &[
    packages::SCHEMA,
    kv::SCHEMA,
    audit::SCHEMA,
    consent::SCHEMA,
    secrets::SCHEMA,
    ledger::SCHEMA,
    messaging::SCHEMA,
    identity::SCHEMA,
    privacy::SCHEMA,
    settings::SCHEMA,
    backend::SCHEMA,
    ledger::CHECKPOINT_SCHEMA,
    outbox::SCHEMA,
    media::SCHEMA,
];

/// From version 1: sizes count the per-key overhead, and `kv_usage` is
/// filled from the keys already stored.
const MIGRATE_TO_2: &str = "
UPDATE kv SET size = length(CAST(key AS BLOB)) + length(value) + 64;
DELETE FROM kv_usage;
INSERT INTO kv_usage (user_id, app_id, bytes, keys)
    SELECT user_id, app_id, SUM(size), COUNT(*) FROM kv GROUP BY user_id, app_id;
";

/// From version 2 (or 1), where the audit log's `seq` is `AUTOINCREMENT`:
/// the old table steps aside before the schema makes the new one, ...
const MIGRATE_TO_3_BEFORE: &str = "
ALTER TABLE audit RENAME TO audit_v2;
DROP INDEX audit_by_user;
";

/// ... and every entry moves to the new one, its `seq` kept.
const MIGRATE_TO_3_AFTER: &str = "
INSERT INTO audit (seq, at_ms, user_id, app_id, session_id, capability, outcome, detail)
    SELECT seq, at_ms, user_id, app_id, session_id, capability, outcome, detail FROM audit_v2;
DROP TABLE audit_v2;
";

/// The default store: a SQLite file (bundled SQLite), WAL journal,
/// `synchronous = FULL`, with group commit.
///
/// Writes go through one write connection. Concurrent writers share a
/// transaction and its fsync: each applies its own command in its own
/// `SAVEPOINT` (a command that fails rolls back only itself), the last one in
/// commits, and every caller returns only after that commit is on disk. A
/// lone writer commits at once (nobody waits for a batch to fill). Reads use a
/// second connection, which sees only committed data and does not wait for
/// the writer. See `docs/payments.md`, "Durability and group commit".
///
/// ```
/// use plaza_host::store::{SqliteStore, KvStore, KvWrite};
/// let store = SqliteStore::open_in_memory().unwrap();
/// assert_eq!(store.kv_set("alice", "a.b", "k", b"v", 100).unwrap(), KvWrite::Written);
/// assert_eq!(store.kv_get("alice", "a.b", "k").unwrap(), Some(b"v".to_vec()));
/// assert_eq!(store.kv_get("bob", "a.b", "k").unwrap(), None);
/// ```
pub struct SqliteStore {
    writer: Mutex<Writer>,
    /// The read connection (`None` in memory, where a second connection
    /// would be another database: reads take the writer there).
    reader: Option<Mutex<Connection>>,
    /// Writers that announced themselves and wait for the write connection:
    /// while there are any, the one applying leaves the commit to them.
    queued: AtomicUsize,
    /// The most commands one commit carries.
    max_batch: usize,
    /// Commits of batches and the commands they carried, for reports.
    commits: AtomicU64,
    commands: AtomicU64,
}

/// How much group commit shared: commits made by [`SqliteStore`]'s batched
/// writes and the commands they carried (commands / commits is the mean
/// batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupCommitStats {
    /// Batches committed (each one fsync with `synchronous = FULL`).
    pub commits: u64,
    /// Commands applied in them.
    pub commands: u64,
}

/// The most commands one group commit carries by default: bounds how long
/// the first of a batch waits for the others.
pub const DEFAULT_MAX_BATCH: usize = 64;

/// The write connection and the transaction open on it, if any.
struct Writer {
    conn: Connection,
    open: Option<OpenBatch>,
    /// Whether the connection is at `synchronous = FULL` (else NORMAL). The
    /// level can change only between transactions, so a batch takes the
    /// level of its first command; a later command needing FULL in a NORMAL
    /// batch commits that batch first.
    full: bool,
}

/// A transaction of applied but not yet committed commands.
struct OpenBatch {
    commands: usize,
    /// Whether a command in it needs its commit synced to disk (money,
    /// packages, consent); otherwise the commit is written to the WAL
    /// without an fsync.
    sync: bool,
    outcome: Arc<BatchOutcome>,
}

/// What a write must survive before its caller is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// A power loss: the commit is fsync'd (`synchronous = FULL`). Money,
    /// packages, consent.
    PowerLoss,
    /// A crash or kill of the process: the commit is in the WAL file (the
    /// operating system's cache) but not fsync'd (`synchronous = NORMAL`),
    /// so a power loss may lose the last such writes. A mini-app's storage
    /// and the audit log, whose writes are on every event's path.
    ProcessCrash,
}

/// How a batch ended, for the callers waiting on it.
#[derive(Default)]
struct BatchOutcome {
    result: Mutex<Option<Result<(), String>>>,
    done: Condvar,
}

impl BatchOutcome {
    fn set(&self, result: Result<(), String>) {
        *self.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        self.done.notify_all();
    }

    fn wait(&self) -> Result<(), String> {
        let mut r = self.result.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(result) = r.as_ref() {
                return result.clone();
            }
            r = self.done.wait(r).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Writer {
    /// Commits the open batch, if any (one fsync), and tells its callers.
    fn commit(&mut self) {
        let Some(batch) = self.open.take() else {
            return;
        };
        let result = run(&self.conn, "COMMIT").map_err(|e| e.to_string());
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = run(&self.conn, "ROLLBACK");
        }
        batch.outcome.set(result);
    }

    /// Rolls the open batch back and fails every command in it.
    fn abort(&mut self, message: String) {
        let Some(batch) = self.open.take() else {
            return;
        };
        if !self.conn.is_autocommit() {
            let _ = run(&self.conn, "ROLLBACK");
        }
        batch.outcome.set(Err(message));
    }
}

/// Runs one fixed statement through the connection's statement cache: the
/// transaction and savepoint statements of every write, parsed once.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Exclusive use of the write connection, outside any batch.
struct WriterGuard<'a>(MutexGuard<'a, Writer>);

impl std::ops::Deref for WriterGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.conn
    }
}

/// A connection to read committed data.
enum ReadGuard<'a> {
    Reader(MutexGuard<'a, Connection>),
    Writer(WriterGuard<'a>),
    /// The write connection, idle: no transaction open on it.
    IdleWriter(MutexGuard<'a, Writer>),
}

impl std::ops::Deref for ReadGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            ReadGuard::Reader(c) => c,
            ReadGuard::Writer(w) => w,
            ReadGuard::IdleWriter(w) => &w.conn,
        }
    }
}

/// Runs `f`, which may block on the disk, without holding up the other
/// tasks of a multi-threaded tokio runtime that calls the store from a
/// worker thread (`block_in_place` hands the worker's tasks to another
/// thread meanwhile, so other sessions keep running and can join the same
/// group commit). Elsewhere (a current-thread runtime, a plain thread) it
/// just runs `f`.
pub(super) fn off_the_runtime<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite inconsistent
    // (transactions roll back, commands run under catch_unwind), so a
    // poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

fn db(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Database {
        operation,
        message: e.to_string(),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                message: format!("cannot create its directory: {e}"),
            })?;
        }
        let open = || {
            Connection::open(path).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        };
        let mut store = Self::init(open()?, &path.display().to_string())?;
        let reader = open()?;
        let open_err = |e: rusqlite::Error| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        reader.set_prepared_statement_cache_capacity(128);
        reader
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        reader
            .pragma_update(None, "query_only", "ON")
            .map_err(open_err)?;
        store.reader = Some(Mutex::new(reader));
        Ok(store)
    }

    /// A store in memory, gone when dropped: for tests and examples. Nothing
    /// to fsync, so each write commits on its own.
    pub fn open_in_memory() -> StoreResult<SqliteStore> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: ":memory:".into(),
            message: e.to_string(),
        })?;
        Ok(Self::init(conn, ":memory:")?.with_max_batch(1))
    }

    /// Sets the most commands one commit carries (at least 1; default
    /// [`DEFAULT_MAX_BATCH`]). 1 commits every write on its own, with its own
    /// fsync, as the store did before group commit: for comparisons.
    pub fn with_max_batch(mut self, max_batch: usize) -> SqliteStore {
        self.max_batch = max_batch.max(1);
        self
    }

    fn init(conn: Connection, path: &str) -> StoreResult<SqliteStore> {
        let open_err = |e: rusqlite::Error| StoreError::Open {
            path: path.to_string(),
            message: e.to_string(),
        };
        // Every store query is a cached prepared statement: room for all.
        conn.set_prepared_statement_cache_capacity(128);
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let schema = SCHEMA_PARTS.concat();
        let mut before = String::new();
        let mut migration = String::new();
        if version < 2 {
            migration.push_str(MIGRATE_TO_2);
        }
        let audit_sql: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(open_err)?;
        if version < 3 && audit_sql.is_some_and(|sql| sql.contains("AUTOINCREMENT")) {
            before.push_str(MIGRATE_TO_3_BEFORE);
            migration.push_str(MIGRATE_TO_3_AFTER);
        }
        for (since, table, column, definition) in
            messaging::ADDED_COLUMNS.iter().chain(ledger::ADDED_COLUMNS)
        {
            if version < *since {
                let (has_table, has_column): (bool, bool) = conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1),
                                EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
                        [table, column],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(open_err)?;
                if has_table && !has_column {
                    migration.push_str(&format!(
                        "ALTER TABLE {table} ADD COLUMN {column} {definition};"
                    ));
                }
            }
        }
        if version < 6 {
            let payments_without_generation: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payments')
                        AND NOT EXISTS (SELECT 1 FROM pragma_table_info('payments') WHERE name = 'generation')",
                    [],
                    |r| r.get(0),
                )
                .map_err(open_err)?;
            if payments_without_generation {
                before.push_str(ledger::MIGRATE_TO_6_BEFORE);
                migration.push_str(ledger::MIGRATE_TO_6_AFTER);
            }
            migration.push_str(packages::MIGRATE_TO_6);
            migration.push_str(privacy::MIGRATE_TO_6);
        }
        let indexes = ledger::INDEXES_ON_ADDED_COLUMNS;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {before} {schema} {migration} {indexes} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(open_err)?;
        Ok(SqliteStore {
            writer: Mutex::new(Writer {
                conn,
                open: None,
                full: true,
            }),
            reader: None,
            queued: AtomicUsize::new(0),
            max_batch: DEFAULT_MAX_BATCH,
            commits: AtomicU64::new(0),
            commands: AtomicU64::new(0),
        })
    }

    /// The write connection alone: commits the open batch first, if any, so
    /// what the caller reads is committed and what it writes commits on its
    /// own. For writes that manage their own transactions.
    fn conn(&self) -> WriterGuard<'_> {
        let mut w = lock(&self.writer);
        self.commit(&mut w);
        if !w.full {
            // Transactions of their own (broadcasts, login codes) commit
            // with an fsync; if the level cannot be set, the next batch
            // tries again.
            match w.conn.execute_batch("PRAGMA synchronous = FULL") {
                Ok(()) => w.full = true,
                Err(e) => tracing::error!("store: cannot restore synchronous = FULL: {e}"),
            }
        }
        WriterGuard(w)
    }

    /// Commits the open batch, if any, and counts it.
    fn commit(&self, w: &mut Writer) {
        if let Some(batch) = &w.open {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.commands
                .fetch_add(batch.commands as u64, Ordering::Relaxed);
            w.commit();
        }
    }

    /// A connection that sees committed data only, for a lookup of a few
    /// rows: the write connection when it is idle, else the read connection.
    ///
    /// SQLite drops a connection's page cache when another connection has
    /// committed since its last read, so the read connection re-reads from
    /// the file after every write; the write connection made those writes
    /// and keeps its cache. Only an idle writer is borrowed (no batch open:
    /// nothing uncommitted to see, no writer waiting behind it), and only
    /// for a lookup, which holds it for microseconds.
    fn read_point(&self) -> ReadGuard<'_> {
        if self.reader.is_some()
            && let Ok(w) = self.writer.try_lock()
            && w.open.is_none()
        {
            return ReadGuard::IdleWriter(w);
        }
        self.read()
    }

    /// A connection that sees committed data only.
    fn read(&self) -> ReadGuard<'_> {
        match &self.reader {
            Some(r) => ReadGuard::Reader(lock(r)),
            None => ReadGuard::Writer(self.conn()),
        }
    }

    /// Applies `command` with group commit and returns its result once it is
    /// durable.
    ///
    /// The command runs in its own `SAVEPOINT` inside the transaction shared
    /// by the writers of the moment: an `Err` (or a panic) rolls back only
    /// its own changes. The transaction commits when no other writer is
    /// waiting to add its command, or when it holds `max_batch` commands; every
    /// caller waits for that commit, and gets the commit's error (as
    /// `operation`) if it fails, whatever its command returned.
    fn write<R>(
        &self,
        operation: &'static str,
        command: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.write_surviving(Durability::PowerLoss, operation, command)
    }

    /// [`write`](Self::write) with the durability the write needs: a batch
    /// is fsync'd if any of its commands needs to survive a power loss.
    fn write_surviving<R>(
        &self,
        durability: Durability,
        operation: &'static str,
        command: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        off_the_runtime(|| self.write_here(durability, operation, command))
    }

    fn write_here<R>(
        &self,
        durability: Durability,
        operation: &'static str,
        command: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut w = lock(&self.writer);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let sync = durability == Durability::PowerLoss;
        if sync && w.open.as_ref().is_some_and(|b| !b.sync) {
            self.commit(&mut w);
        }
        if w.open.is_none() {
            if w.full != sync {
                let level = if sync { "FULL" } else { "NORMAL" };
                w.conn
                    .execute_batch(&format!("PRAGMA synchronous = {level}"))
                    .map_err(db(operation))?;
                w.full = sync;
            }
            run(&w.conn, "BEGIN IMMEDIATE").map_err(db(operation))?;
            w.open = Some(OpenBatch {
                commands: 0,
                sync,
                outcome: Arc::default(),
            });
        }
        let outcome = w
            .open
            .as_ref()
            .map(|b| b.outcome.clone())
            .unwrap_or_default();
        // The first command of a batch needs no savepoint: until it is
        // applied the transaction holds nothing else, so rolling all of it
        // back undoes this command alone (and fails nobody else's).
        let first = w.open.as_ref().is_some_and(|b| b.commands == 0);
        let result = if first {
            let result = panic::catch_unwind(AssertUnwindSafe(|| command(&w.conn)));
            if w.conn.is_autocommit() {
                w.open = None;
                outcome.set(Err("the transaction was rolled back".into()));
            } else if !matches!(result, Ok(Ok(_))) {
                w.abort("the command failed".into());
            }
            result
        } else {
            Self::apply_in_savepoint(&mut w, &outcome, operation, command)
        };
        if let Some(batch) = w.open.as_mut() {
            batch.commands += 1;
            if batch.commands >= self.max_batch || self.queued.load(Ordering::SeqCst) == 0 {
                self.commit(&mut w);
            }
        }
        drop(w);
        let committed = outcome.wait();
        match result {
            Err(panicked) => panic::resume_unwind(panicked),
            Ok(Err(e)) => Err(e),
            Ok(Ok(value)) => committed
                .map(|()| value)
                .map_err(|message| StoreError::Database { operation, message }),
        }
    }

    /// Applies `command` in a `SAVEPOINT` of the open batch: an `Err` or a
    /// panic rolls back its own changes only.
    fn apply_in_savepoint<R>(
        w: &mut Writer,
        outcome: &Arc<BatchOutcome>,
        operation: &'static str,
        command: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> std::thread::Result<StoreResult<R>> {
        match run(&w.conn, "SAVEPOINT command") {
            Ok(()) => {
                let result = panic::catch_unwind(AssertUnwindSafe(|| command(&w.conn)));
                if w.conn.is_autocommit() {
                    // SQLite rolled the whole transaction back (an I/O
                    // error, a full disk): the batch is lost.
                    w.open = None;
                    outcome.set(Err("the transaction was rolled back".into()));
                } else {
                    let end = if matches!(result, Ok(Ok(_))) {
                        run(&w.conn, "RELEASE command")
                    } else {
                        run(&w.conn, "ROLLBACK TO command")
                            .and_then(|()| run(&w.conn, "RELEASE command"))
                    };
                    if let Err(e) = end {
                        w.abort(e.to_string());
                    }
                }
                result
            }
            Err(e) => {
                w.abort(e.to_string());
                Ok(Err(db(operation)(e)))
            }
        }
    }

    /// How much group commit has shared so far.
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            commands: self.commands.load(Ordering::Relaxed),
        }
    }

    /// The SQLite journal mode and synchronous setting in use, for reports.
    pub fn durability(&self) -> StoreResult<(String, i64)> {
        let c = self.conn();
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(db("read journal mode"))?;
        let sync: i64 = c
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .map_err(db("read synchronous"))?;
        Ok((mode, sync))
    }
}

#[cfg(test)]
mod tests {
    use super::kv::add_usage;
    use super::*;
    use crate::store::{
        AuditEntry, AuditQuery, AuditStore, BroadcastCount, KV_ENTRY_OVERHEAD_BYTES, KvStore,
        KvUsage, KvWrite, LedgerStore, MessagingStore, Outcome, PackageStore, PrivacyStore,
    };

    #[test]
    fn a_lone_write_that_fails_or_panics_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("plaza.db")).unwrap();
        let insert = |c: &Connection, key: &str| {
            c.execute(
                "INSERT INTO kv (user_id, app_id, key, value, size) VALUES ('u', 'a', ?1, x'00', 1)",
                [key],
            )
            .map_err(db("insert"))
        };
        // The first command of its batch (no savepoint): its error rolls
        // the transaction back.
        let failed = s.write("test", |c| {
            insert(c, "failed")?;
            Err::<(), _>(StoreError::Database {
                operation: "test",
                message: "refused after writing".into(),
            })
        });
        assert!(failed.is_err());
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            s.write("test", |c| -> StoreResult<()> {
                insert(c, "panicked")?;
                panic!("a command that panics")
            })
        }));
        assert!(panicked.is_err());
        s.write("test", |c| insert(c, "kept")).unwrap();
        assert_eq!(s.kv_get("u", "a", "failed").unwrap(), None);
        assert_eq!(s.kv_get("u", "a", "panicked").unwrap(), None);
        assert_eq!(s.kv_get("u", "a", "kept").unwrap(), Some(vec![0]));
    }

    #[test]
    fn a_lookup_sees_committed_data_only_whichever_connection_it_takes() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("plaza.db")).unwrap();
        s.kv_set("u", "a", "k", b"committed", u64::MAX).unwrap();
        // Idle writer: the lookup borrows it and sees the commit.
        assert_eq!(s.kv_get("u", "a", "k").unwrap().unwrap(), b"committed");
        // A lookup while a write is applied (its batch open, uncommitted)
        // must not see that write: it takes the read connection.
        let seen_inside = s
            .write("test", |c| {
                c.execute(
                    "UPDATE kv SET value = x'00' WHERE user_id = 'u' AND app_id = 'a' AND key = 'k'",
                    [],
                )
                .map_err(db("update"))?;
                Ok(s.kv_get("u", "a", "k").unwrap())
            })
            .unwrap();
        assert_eq!(seen_inside.unwrap(), b"committed");
        assert_eq!(s.kv_get("u", "a", "k").unwrap().unwrap(), vec![0u8]);
    }

    /// Six writers queued behind a held write connection share one commit
    /// (all of one durability);
    /// the one whose command breaks a CHECK constraint and the one whose
    /// command panics lose their own changes and nobody else's.
    #[test]
    fn one_commit_for_a_batch_and_a_failing_command_rolls_back_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(SqliteStore::open(&dir.path().join("plaza.db")).unwrap());
        let before = s.group_commit_stats();
        let held = s.conn();
        let writers: Vec<_> = (0..6)
            .map(|i| {
                let s = s.clone();
                std::thread::spawn(move || {
                    let key = format!("k{i}");
                    match i {
                        4 => s.write("test", |c| {
                            c.execute(
                                "INSERT INTO kv (user_id, app_id, key, value, size) VALUES ('u', 'a', ?1, x'00', 1)",
                                [&key],
                            )
                            .map_err(db("insert"))?;
                            c.execute(
                                "INSERT INTO kv_usage (user_id, app_id, bytes, keys) VALUES ('u', 'a', -1, 0)",
                                [],
                            )
                            .map_err(db("break a CHECK"))?;
                            Ok(KvWrite::Written)
                        }),
                        5 => s.write("test", |c| {
                            c.execute(
                                "INSERT INTO kv (user_id, app_id, key, value, size) VALUES ('u', 'a', ?1, x'00', 1)",
                                [&key],
                            )
                            .unwrap();
                            panic!("a command that panics");
                        }),
                        // Writes needing an fsync, as money does: storage
                        // writes alone would commit at another level.
                        _ => s.write("test", |c| {
                            c.execute(
                                "INSERT INTO kv (user_id, app_id, key, value, size) VALUES ('u', 'a', ?1, x'00', 1)",
                                [&key],
                            )
                            .map_err(db("insert"))?;
                            add_usage(c, "u", "a", 1, 1)?;
                            Ok(KvWrite::Written)
                        }),
                    }
                })
            })
            .collect();
        while s.queued.load(Ordering::SeqCst) < 6 {
            std::thread::yield_now();
        }
        drop(held);
        let results: Vec<_> = writers.into_iter().map(|t| t.join()).collect();
        for r in &results[..4] {
            assert_eq!(r.as_ref().unwrap().as_ref().unwrap(), &KvWrite::Written);
        }
        assert!(matches!(
            results[4].as_ref().unwrap(),
            Err(StoreError::Database {
                operation: "break a CHECK",
                ..
            })
        ));
        assert!(results[5].is_err(), "the panic reaches its caller");
        assert_eq!(
            s.kv_list("u", "a", "", 10).unwrap(),
            vec!["k0", "k1", "k2", "k3"]
        );
        assert_eq!(s.kv_usage("u", "a").unwrap().keys, 4);
        let after = s.group_commit_stats();
        assert_eq!(after.commits - before.commits, 1);
        // A failing command that happens to take the lock first runs without
        // a savepoint and aborts its batch alone before the others join: it
        // is not counted in the shared commit (which writer goes first is
        // up to the scheduler).
        let commands = after.commands - before.commands;
        assert!((4..=6).contains(&commands), "{commands} commands");
        // And the store goes on.
        assert_eq!(
            s.kv_set("u", "a", "k6", b"v", 10_000).unwrap(),
            KvWrite::Written
        );
        drop(s);
        let s = SqliteStore::open(&dir.path().join("plaza.db")).unwrap();
        assert_eq!(s.kv_usage("u", "a").unwrap().keys, 5);
    }

    #[test]
    fn storage_writes_commit_without_fsync_and_the_connection_stays_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            s.kv_set("u", "a", "k", b"v", 1000).unwrap(),
            KvWrite::Written
        );
        assert!(s.kv_delete("u", "a", "k").unwrap());
        assert_eq!(
            s.kv_set("u", "a", "k", b"w", 1000).unwrap(),
            KvWrite::Written
        );
        // Payments and everything else still commit with an fsync.
        assert_eq!(s.durability().unwrap(), ("wal".to_string(), 2));
        drop(s);
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.kv_get("u", "a", "k").unwrap(), Some(b"w".to_vec()));
    }

    #[test]
    fn a_version_1_store_gets_its_usage_totals_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE kv (user_id TEXT NOT NULL, app_id TEXT NOT NULL, key TEXT NOT NULL,
                     value BLOB NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (user_id, app_id, key)) WITHOUT ROWID;
                 INSERT INTO kv VALUES ('u', 'a', 'k1', x'0102', 4), ('u', 'a', 'é', x'', 2), ('v', 'a', 'k', x'01', 2);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let o = KV_ENTRY_OVERHEAD_BYTES;
        assert_eq!(
            s.kv_usage("u", "a").unwrap(),
            KvUsage {
                bytes: (4 + o) + (2 + o),
                keys: 2
            }
        );
        assert_eq!(s.kv_usage("v", "a").unwrap().bytes, 2 + o);
        drop(s);
        // Opening again does not count twice.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.kv_usage("v", "a").unwrap().bytes, 2 + o);
    }

    #[test]
    fn a_version_2_store_keeps_its_audit_log_in_order_without_autoincrement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,
                     user_id TEXT NOT NULL, app_id TEXT NOT NULL, session_id TEXT NOT NULL,
                     capability TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
                 CREATE INDEX audit_by_user ON audit (user_id, seq);
                 INSERT INTO audit VALUES (7, 1, 'u', 'a', 's', 'storage', 'allowed', 'first'),
                                          (9, 2, 'u', 'a', 's', 'payment', 'denied', 'second');
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        s.append_audit(&AuditEntry {
            at_ms: 3,
            user: "u".into(),
            app: "a".into(),
            session: "s".into(),
            capability: "log".into(),
            outcome: Outcome::Allowed,
            detail: "third".into(),
        })
        .unwrap();
        let details = |s: &SqliteStore| -> Vec<String> {
            s.audit_entries(&AuditQuery {
                user: Some("u".into()),
                ..AuditQuery::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| e.detail)
            .collect()
        };
        assert_eq!(details(&s), ["first", "second", "third"]);
        let (sql, seqs): (String, Vec<i64>) = {
            let c = s.read();
            let sql = c
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE name = 'audit'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let mut st = c.prepare("SELECT seq FROM audit ORDER BY seq").unwrap();
            let seqs = st
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (sql, seqs)
        };
        assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
        assert_eq!(seqs, [7, 9, 10]);
        drop(s);
        // Opening again migrates nothing twice.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(details(&s), ["first", "second", "third"]);
    }

    #[test]
    fn a_version_3_store_gets_the_columns_added_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE broadcasts (id TEXT PRIMARY KEY, app_id TEXT NOT NULL,
                     app_name TEXT NOT NULL, publisher_name TEXT NOT NULL, title TEXT NOT NULL,
                     body TEXT NOT NULL, month TEXT NOT NULL, quota INTEGER NOT NULL,
                     created_at_ms INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
                 CREATE TABLE conversation (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
                     app_id TEXT NOT NULL, text TEXT NOT NULL, sent_at_ms INTEGER NOT NULL,
                     delivered INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO conversation VALUES ('u1', 'ann', 'a', 'hello', 10, 0);
                 INSERT INTO broadcasts VALUES ('b1', 'a', 'A', 'P', 't', 'x', '2026-11', 4, 5, 0);
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.count_user_message_attempt("u1").unwrap(), 1);
        assert_eq!(s.unfinished_broadcasts().unwrap(), ["b1"]);
        let mut n = 0;
        let count = s
            .deliver_broadcast("b1", &mut || {
                n += 1;
                format!("m{n}")
            })
            .unwrap();
        assert_eq!(count, BroadcastCount::default());
        drop(s);
        // Opening again migrates nothing twice.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.count_user_message_attempt("u1").unwrap(), 2);
    }

    #[test]
    fn a_version_5_store_records_the_owners_and_keeps_its_payments_as_generation_0() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE packages (app_id TEXT PRIMARY KEY, version TEXT NOT NULL,
                     publisher_id TEXT NOT NULL, manifest TEXT NOT NULL, component BLOB NOT NULL,
                     component_sha256 TEXT NOT NULL, signature BLOB, installed_at_ms INTEGER NOT NULL);
                 INSERT INTO packages VALUES ('a.installed', '1.0.0', 'pub.a', 'm', x'00', 'h', NULL, 7);
                 CREATE TABLE ledger_transactions (id TEXT PRIMARY KEY, kind TEXT NOT NULL,
                     at_ms INTEGER NOT NULL, user_id TEXT NOT NULL, app_id TEXT, order_id TEXT,
                     memo TEXT NOT NULL);
                 INSERT INTO ledger_transactions VALUES ('tx1', 'payment', 3, 'ann', 'b.gone', 'o1', 'd'),
                     ('tx2', 'refund', 4, 'ann', 'b.gone', 'o1', 'r'),
                     ('tx3', 'payment', 5, 'ann', 'b.gone', 'o1', 'd');
                 CREATE TABLE payments (app_id TEXT NOT NULL, order_id TEXT NOT NULL,
                     user_id TEXT NOT NULL, publisher_id TEXT NOT NULL, tx_id TEXT NOT NULL,
                     amount INTEGER NOT NULL, currency TEXT NOT NULL, wallet_part INTEGER NOT NULL,
                     insurance_part INTEGER NOT NULL, insurance_year INTEGER, insurance_cap INTEGER,
                     payee TEXT NOT NULL, description TEXT NOT NULL, items TEXT NOT NULL,
                     paid_at_ms INTEGER NOT NULL, seq INTEGER NOT NULL, signature TEXT NOT NULL,
                     refunded INTEGER NOT NULL DEFAULT 0, insurance_refunded INTEGER NOT NULL DEFAULT 0,
                     PRIMARY KEY (app_id, order_id));
                 CREATE INDEX payments_by_user ON payments (app_id, user_id, seq);
                 CREATE INDEX payments_by_seq ON payments (seq);
                 CREATE INDEX payments_by_insurance_year ON payments (user_id, insurance_year);
                 INSERT INTO payments VALUES ('b.gone', 'o1', 'ann', 'pub.b', 'tx1', 500, 'CNY', 500, 0,
                     NULL, NULL, 'B', 'd', '[]', 3, 1, 'sig', 200, 0);
                 CREATE TABLE refunds (tx_id TEXT PRIMARY KEY, app_id TEXT NOT NULL,
                     order_id TEXT NOT NULL, amount INTEGER NOT NULL, wallet_part INTEGER NOT NULL,
                     insurance_part INTEGER NOT NULL, reason TEXT NOT NULL, at_ms INTEGER NOT NULL);
                 INSERT INTO refunds VALUES ('tx2', 'b.gone', 'o1', 200, 200, 0, 'r', 4);
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let owner = |s: &SqliteStore, app: &str| {
            s.app_id_owner(app)
                .unwrap()
                .map(|o| (o.publisher_id.unwrap(), o.generation))
        };
        // The installed package's publisher owns its id; so does the
        // publisher paid through the id of a mini-app since uninstalled.
        assert_eq!(owner(&s, "a.installed"), Some(("pub.a".into(), 0)));
        assert_eq!(owner(&s, "b.gone"), Some(("pub.b".into(), 0)));
        assert_eq!(owner(&s, "c.never"), None);
        let p = s.payment("b.gone", 0, "o1").unwrap().unwrap();
        assert_eq!((p.receipt.amount, p.refunded, p.seq), (500, 200, 1));
        assert_eq!(
            s.payments("b.gone", 0, "ann", None, 10)
                .unwrap()
                .map(|p| p.len()),
            Some(1)
        );
        assert_eq!(s.payment("b.gone", 1, "o1").unwrap(), None);
        // The new key: the same order id in another generation is another
        // payment.
        s.conn()
            .execute(
                "INSERT INTO payments (app_id, generation, order_id, user_id, publisher_id, tx_id, amount,
                     currency, wallet_part, insurance_part, payee, description, items, paid_at_ms, seq, signature)
                 VALUES ('b.gone', 1, 'o1', 'ann', 'pub.c', 'tx3', 100, 'CNY', 100, 0, 'C', 'd', '[]', 5, 2, 'sig')",
                [],
            )
            .unwrap();
        assert_eq!(
            s.payment("b.gone", 1, "o1")
                .unwrap()
                .unwrap()
                .receipt
                .amount,
            100
        );
        drop(s);
        // Opening again migrates nothing twice.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.payment("b.gone", 0, "o1").unwrap().unwrap().refunded, 200);
        assert_eq!(owner(&s, "b.gone"), Some(("pub.b".into(), 0)));
    }

    #[test]
    fn a_version_5_store_gets_its_access_counts_from_the_log_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,
                     user_id TEXT NOT NULL, app_id TEXT NOT NULL, session_id TEXT NOT NULL,
                     capability TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
                 INSERT INTO audit VALUES (1, 10, 'u', 'a', 's', 'storage', 'allowed', ''),
                                          (2, 30, 'u', 'a', 's', 'storage', 'allowed', ''),
                                          (3, 20, 'u', 'a', 's', 'identity.phone', 'denied', ''),
                                          (4, 40, 'v', 'a', 's', 'storage', 'allowed', '');
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        }
        let counts = |s: &SqliteStore| -> Vec<(String, Outcome, u64, i64)> {
            s.access_counts("u", None)
                .unwrap()
                .into_iter()
                .map(|a| (a.what, a.outcome, a.count, a.last_at_ms))
                .collect()
        };
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            counts(&s),
            [
                ("identity.phone".to_string(), Outcome::Denied, 1, 20),
                ("storage".to_string(), Outcome::Allowed, 2, 30),
            ]
        );
        // New entries count from now on, by the trigger.
        s.append_audit(&AuditEntry {
            at_ms: 50,
            user: "u".into(),
            app: "a".into(),
            session: "s".into(),
            capability: "storage".into(),
            outcome: Outcome::Allowed,
            detail: String::new(),
        })
        .unwrap();
        drop(s);
        // Opening again counts nothing twice.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            counts(&s),
            [
                ("identity.phone".to_string(), Outcome::Denied, 1, 20),
                ("storage".to_string(), Outcome::Allowed, 3, 50),
            ]
        );
        assert_eq!(s.identity_epoch("u", "a").unwrap(), 0);
    }

    #[test]
    fn a_version_6_store_gets_links_refund_ids_and_openids() {
        use crate::store::conformance::{give_a_payment_and_a_message, publisher_columns_work};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        {
            // A store of this version, stripped back to version 6.
            let s = SqliteStore::open(&path).unwrap();
            give_a_payment_and_a_message(&s);
            s.conn()
                .execute_batch(
                    "DROP INDEX refunds_by_refund_id; DROP INDEX refunds_by_order;
                     DROP INDEX refunds_by_time; DROP INDEX payments_by_time;
                     ALTER TABLE refunds DROP COLUMN refund_id;
                     ALTER TABLE inbox DROP COLUMN link; ALTER TABLE broadcasts DROP COLUMN link;
                     DROP TABLE openids; PRAGMA user_version = 6;",
                )
                .unwrap();
        }
        publisher_columns_work(&SqliteStore::open(&path).unwrap());
    }

    #[test]
    fn a_version_8_store_gets_the_outbox() {
        use crate::store::conformance::outbox_works;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v8.db");
        {
            // A store of this version, stripped back to version 8.
            let s = SqliteStore::open(&path).unwrap();
            s.conn()
                .execute_batch("DROP TABLE outbox; PRAGMA user_version = 8;")
                .unwrap();
        }
        outbox_works(&SqliteStore::open(&path).unwrap());
    }

    #[test]
    fn a_version_9_store_gets_the_media_table() {
        use crate::store::conformance::media_works;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v9.db");
        {
            // A store of this version, stripped back to version 9.
            let s = SqliteStore::open(&path).unwrap();
            s.kv_set("u", "a", "k", b"v", 100).unwrap();
            s.conn()
                .execute_batch("DROP TABLE media; PRAGMA user_version = 9;")
                .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.kv_get("u", "a", "k").unwrap(), Some(b"v".to_vec()));
        media_works(&s);
    }

    #[test]
    fn reopening_keeps_data_and_refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plaza.db");
        {
            let s = SqliteStore::open(&path).unwrap();
            s.kv_set("u", "a", "k", b"v", 100).unwrap();
            assert_eq!(s.durability().unwrap(), ("wal".to_string(), 2));
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.kv_get("u", "a", "k").unwrap(), Some(b"v".to_vec()));
        drop(s);
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}

/// The backend-neutral suite, run on a fresh in-memory store per test.
#[cfg(test)]
mod conformance {
    crate::store::conformance::conformance_suite!(super::SqliteStore::open_in_memory().unwrap());
}
