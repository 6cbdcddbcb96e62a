//! The PostgreSQL store: every store trait on one PostgreSQL database that
//! several hosts (nodes) share. Chosen by a `postgres://` (or
//! `postgresql://`) store URL ([`crate::store::open_store`]).
//!
//! # The bridge from synchronous traits to an async driver
//!
//! The store traits are synchronous (the SQLite backend calls rusqlite, and
//! the host calls the store from its host calls, on tokio's worker threads).
//! The driver is tokio-postgres, async, with deadpool-postgres's pool:
//!
//! - The store owns a small tokio runtime of its own (two worker threads,
//!   `plaza-postgres`). Every connection's I/O task lives there, and
//!   connections are made there (the pool's `get` runs as a task on it), so
//!   the database's sockets are driven whatever the caller's runtime is
//!   doing.
//! - A trait method builds the future of its work (one transaction, or one
//!   statement) and waits for it on the calling thread ([`block_on`], a
//!   park/unpark executor: the future only talks to the connection task
//!   through channels). When the caller is a worker of a multi-threaded
//!   tokio runtime, the wait is inside `block_in_place`, as SQLite's disk
//!   writes are: tokio hands that worker's other tasks (other sessions) to
//!   another thread meanwhile, so no session waits behind another's
//!   database round trip. On a current-thread runtime or a plain thread the
//!   wait just blocks, as SQLite's does; the database I/O still runs on the
//!   store's runtime, so it cannot deadlock.
//!
//! # Transactions across nodes
//!
//! The SQLite backend's commands read and then write inside one
//! transaction, serialized by SQLite's single writer. Here, commands that
//! read before they write run at `SERIALIZABLE` isolation, so PostgreSQL
//! gives them the same guarantee across every node: the outcome is that of
//! some serial order of the transactions, or one of them fails with a
//! serialization failure (SQLSTATE 40001, or a deadlock 40P01), and is run
//! again whole ([`PgError::retryable`]). Single-statement writes that
//! PostgreSQL applies atomically (an upsert, an append) run at `READ
//! COMMITTED`. Constraints back the code's checks as in SQLite: wallets
//! never below zero, one payment per (mini-app, generation, order id).
//! A command whose connection is lost before its commit is sent is run
//! again on a fresh connection; one lost during the commit answers an error
//! (the host says `unavailable`), and a payment retried by its order id
//! then finds the first one if it committed.
//!
//! # Schema and migrations
//!
//! `plaza_schema` holds the schema version. Opening takes a transaction-wide
//! advisory lock (two nodes starting at once migrate once), refuses a
//! version newer than [`SCHEMA_VERSION`], applies every concern's `SCHEMA`
//! part (idempotent, `IF NOT EXISTS`), the migrations above the stored
//! version, then the indexes on the columns they add ([`AFTER_MIGRATIONS`]),
//! and records the version.
//!
//! # Adding a table
//!
//! As in `sqlite/`: one file per concern holds its `SCHEMA` constant (in
//! PostgreSQL's dialect: `BIGINT` for integers, `BYTEA` for bytes, `TEXT`,
//! an identity column where SQLite's `rowid` ordered rows) and its trait
//! implementation; list the `SCHEMA` in [`SCHEMA_PARTS`]. A trait method is
//! one [`transaction!`] (at `SERIALIZABLE` when it reads before it writes)
//! or one [`read!`], whose body uses the [`Db`] helpers (`rows`, `opt`,
//! `one`, `exec`) with `$1`-style parameters. A change to an existing table
//! bumps [`SCHEMA_VERSION`] and adds its statements to [`MIGRATIONS`].

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
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

/// 1: every table of SQLite's schema version 6.
/// 2: SQLite's version 8: `app_settings` ([`settings::SCHEMA`]) and
/// `openids` ([`backend::SCHEMA`]), new tables; messages carry the page they
/// open (`inbox.link`, `broadcasts.link`), refunds the caller's refund id
/// (`refunds.refund_id`, unique per mini-app and generation).
/// 3: `outbox` ([`outbox::SCHEMA`]), the payment notifications owed to
/// mini-apps' back-ends, a new table (SQLite's version 9).
/// 4: the ledger checkpoint ([`ledger::CHECKPOINT_SCHEMA`]): ledger rows
/// carry the id of the transaction that wrote them
/// ([`ledger::MIGRATE_TO_CHECKPOINT`]), so a verification reads only what
/// the last clean one did not see; and the unfinished broadcasts are
/// indexed (SQLite's version 9 has both).
/// 5: `media` ([`media::SCHEMA`]), the files users give mini-apps, a new
/// table (SQLite's version 10).
/// 6: the stripes of the accounts every user posts to
/// ([`ledger::STRIPES_SCHEMA`], a new table: payments to one merchant no
/// longer queue on its row), and every posting carries its transaction's
/// time ([`ledger::MIGRATE_TO_6`]) for an index range read of a wallet's
/// newest entries ([`ledger::WALLET_HISTORY_INDEX`]). PostgreSQL only.
pub const SCHEMA_VERSION: i64 = 6;

/// The tables of every store concern, applied at every open (idempotent).
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
    outbox::SCHEMA,
    ledger::CHECKPOINT_SCHEMA,
    media::SCHEMA,
    ledger::STRIPES_SCHEMA,
];

/// Statements that bring a store from the version before each to it:
/// `(version, sql)`, applied in order for each version above the stored one.
const MIGRATIONS: &[(i64, &str)] = &[
    (2, messaging::MIGRATE_TO_2),
    (2, ledger::MIGRATE_TO_2),
    (4, ledger::MIGRATE_TO_CHECKPOINT),
    (6, ledger::MIGRATE_TO_6),
];

/// Statements applied after the migrations at every change of version:
/// indexes on columns that migrations add (idempotent).
const AFTER_MIGRATIONS: &[&str] = &[
    ledger::INDEXES_ON_ADDED_COLUMNS,
    ledger::CHECKPOINT_INDEXES,
    ledger::WALLET_HISTORY_INDEX,
];

/// The most connections one node keeps to the database.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How many times a transaction is run again after a serialization failure
/// before its caller gets the error.
const MAX_RETRIES: u32 = 200;

/// The PostgreSQL store. See the module documentation.
///
/// ```no_run
/// use plaza_host::store::{KvStore, PostgresStore};
/// let store = PostgresStore::open("postgres://plaza@db.internal/plaza").unwrap();
/// store.kv_set("alice", "a.b", "k", b"v", 100).unwrap();
/// ```
pub struct PostgresStore {
    pool: Pool,
    /// The runtime of the connections (`None` only while dropping).
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// The URL it was opened with.
    url: String,
    /// A database this store made and drops when dropped (tests).
    throwaway: Option<Throwaway>,
}

/// A database made by [`PostgresStore::open_throwaway`]: its name and the
/// server's URL to drop it from.
struct Throwaway {
    server_url: String,
    name: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redacted(&self.url))
            .finish_non_exhaustive()
    }
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Why a command failed, inside the backend: the driver's error (which
/// says whether to run the command again) or the store's own.
#[derive(Debug)]
pub(super) enum PgError {
    /// The driver or the server refused.
    Pg(tokio_postgres::Error),
    /// The commit itself failed: run again only on a serialization failure
    /// (anything else may have committed).
    Commit(tokio_postgres::Error),
    /// No connection could be had.
    Pool(String),
    /// The store's own error (a record that does not decode).
    Store(StoreError),
}

pub(super) type PgResult<T> = Result<T, PgError>;

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        PgError::Pg(e)
    }
}

impl From<StoreError> for PgError {
    fn from(e: StoreError) -> Self {
        PgError::Store(e)
    }
}

fn serialization_failure(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
    )
}

impl PgError {
    /// Whether the command should run again (it committed nothing): a
    /// serialization failure or deadlock, a unique key taken by a concurrent
    /// transaction (a few times: a real duplicate fails the same way), or a
    /// connection lost before the commit.
    fn retryable(&self, attempt: u32) -> bool {
        match self {
            PgError::Pg(e) => {
                attempt < MAX_RETRIES
                    && (serialization_failure(e)
                        || (e.code() == Some(&SqlState::UNIQUE_VIOLATION) && attempt < 3)
                        || (e.is_closed() && attempt < 2))
            }
            PgError::Commit(e) => attempt < MAX_RETRIES && serialization_failure(e),
            PgError::Pool(_) | PgError::Store(_) => false,
        }
    }

    fn into_store(self, operation: &'static str) -> StoreError {
        let message = match self {
            PgError::Store(e) => return e,
            PgError::Pg(e) | PgError::Commit(e) => match e.as_db_error() {
                Some(db) => format!("{}: {}", db.code().code(), db.message()),
                None => e.to_string(),
            },
            PgError::Pool(message) => message,
        };
        StoreError::Database { operation, message }
    }
}

/// Waits before running a command again: a little longer each time, with
/// jitter, so racing nodes do not collide again in step.
fn backoff(attempt: u32) {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    let jitter = u64::from(u16::from_le_bytes(b)) % 1000;
    let micros = (100 * u64::from(attempt.min(20))) + jitter;
    std::thread::sleep(Duration::from_micros(micros));
}

/// Makes the compiler know an async block's output is a [`PgResult`] (so
/// `?` inside it converts to [`PgError`]).
pub(super) async fn typed<T>(f: impl Future<Output = PgResult<T>>) -> PgResult<T> {
    f.await
}

/// Runs `$body` (an expression of type `PgResult<T>`, with `$tx` a
/// `&deadpool_postgres::Transaction`) in one transaction at `$level`, and
/// commits it; run again whole when [`PgError::retryable`]. An early
/// `return` in the body returns from the body: the transaction still
/// commits.
macro_rules! transaction {
    ($store:expr, $op:expr, $level:expr, |$tx:ident| $body:expr) => {
        $store.block($op, async {
            let mut attempt = 0u32;
            loop {
                let result = $crate::store::postgres::typed(async {
                    let mut client = $store.client().await?;
                    let $tx = client
                        .build_transaction()
                        .isolation_level($level)
                        .start()
                        .await?;
                    let value = $crate::store::postgres::typed(async {
                        let $tx = &$tx;
                        $body
                    })
                    .await?;
                    $tx.commit()
                        .await
                        .map_err($crate::store::postgres::PgError::Commit)?;
                    Ok(value)
                })
                .await;
                match result {
                    Err(e) if e.retryable(attempt) => {
                        attempt += 1;
                        $crate::store::postgres::backoff(attempt);
                    }
                    r => break r,
                }
            }
        })
    };
}
pub(super) use transaction;

/// Runs `$body` (an expression of type `PgResult<T>`, with `$c` a
/// `&deadpool_postgres::ClientWrapper`) outside a transaction: each
/// statement commits on its own. For reads of one statement, and writes of
/// one statement PostgreSQL applies atomically.
macro_rules! read {
    ($store:expr, $op:expr, |$c:ident| $body:expr) => {
        $store.block($op, async {
            let mut attempt = 0u32;
            loop {
                let result = $crate::store::postgres::typed(async {
                    let client = $store.client().await?;
                    let $c = &*client;
                    $crate::store::postgres::typed(async { $body }).await
                })
                .await;
                match result {
                    Err(e) if e.retryable(attempt) => {
                        attempt += 1;
                        $crate::store::postgres::backoff(attempt);
                    }
                    r => break r,
                }
            }
        })
    };
}
pub(super) use read;

/// The parameters of a statement.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Statements through the connection's cache of prepared statements, on a
/// transaction or a plain connection.
pub(super) trait Db {
    /// Every row of `sql`.
    async fn rows(&self, sql: &str, params: Params<'_>) -> PgResult<Vec<Row>>;
    /// The row of `sql`, if any (an error if more than one).
    async fn opt(&self, sql: &str, params: Params<'_>) -> PgResult<Option<Row>>;
    /// The one row of `sql`.
    async fn one(&self, sql: &str, params: Params<'_>) -> PgResult<Row>;
    /// Runs `sql`; the number of rows it changed.
    async fn exec(&self, sql: &str, params: Params<'_>) -> PgResult<u64>;
}

macro_rules! impl_db {
    ($t:ty) => {
        impl Db for $t {
            async fn rows(&self, sql: &str, params: Params<'_>) -> PgResult<Vec<Row>> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.query(&st, params).await?)
            }
            async fn opt(&self, sql: &str, params: Params<'_>) -> PgResult<Option<Row>> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.query_opt(&st, params).await?)
            }
            async fn one(&self, sql: &str, params: Params<'_>) -> PgResult<Row> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.query_one(&st, params).await?)
            }
            async fn exec(&self, sql: &str, params: Params<'_>) -> PgResult<u64> {
                let st = self.prepare_cached(sql).await?;
                Ok(self.execute(&st, params).await?)
            }
        }
    };
}
impl_db!(deadpool_postgres::Transaction<'_>);
impl_db!(deadpool_postgres::ClientWrapper);

/// Polls `fut` to completion on this thread, parking between wake-ups.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn open_err(url: &str) -> impl Fn(String) -> StoreError + '_ {
    move |message| StoreError::Open {
        path: redacted(url),
        message,
    }
}

impl PostgresStore {
    /// Opens the store in the database at `url` (`postgres://user:password@host:port/database`),
    /// creating its tables or migrating them if needed. Fails with
    /// [`StoreError::TooNew`] if a newer Plaza wrote it.
    pub fn open(url: &str) -> StoreResult<PostgresStore> {
        Self::open_with_pool_size(url, DEFAULT_POOL_SIZE)
    }

    /// [`open`](Self::open) with at most `size` connections.
    pub fn open_with_pool_size(url: &str, size: usize) -> StoreResult<PostgresStore> {
        let err = open_err(url);
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| err(e.to_string()))?;
        config
            .application_name("plaza")
            .connect_timeout(Duration::from_secs(5))
            .keepalives_idle(Duration::from_secs(10))
            .tcp_user_timeout(Duration::from_secs(15));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("plaza-postgres")
            .enable_all()
            .build()
            .map_err(|e| err(format!("cannot start the connections' runtime: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| err(e.to_string()))?;
        let store = PostgresStore {
            pool,
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            url: url.to_string(),
            throwaway: None,
        };
        store.migrate().map_err(|e| match e {
            StoreError::Database { message, .. } => err(message),
            e => e,
        })?;
        Ok(store)
    }

    /// Makes a new database (a random name) on the server at `server_url`
    /// and opens the store in it; the database is dropped with the store.
    /// For tests: other nodes open [`url`](Self::url) and must be dropped
    /// first.
    pub fn open_throwaway(server_url: &str) -> StoreResult<PostgresStore> {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(|e| open_err(server_url)(e.to_string()))?;
        let name = format!(
            "plaza_{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        );
        admin(server_url, &format!("CREATE DATABASE {name}"))?;
        let url = database_url(server_url, &name);
        let mut store = match PostgresStore::open(&url) {
            Ok(s) => s,
            Err(e) => {
                let _ = admin(server_url, &format!("DROP DATABASE {name} WITH (FORCE)"));
                return Err(e);
            }
        };
        store.throwaway = Some(Throwaway {
            server_url: server_url.to_string(),
            name,
        });
        Ok(store)
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection from the pool, made on the store's runtime if a new one
    /// is needed.
    pub(super) async fn client(&self) -> PgResult<Object> {
        let pool = self.pool.clone();
        self.handle
            .spawn(async move { pool.get().await })
            .await
            .map_err(|e| PgError::Pool(format!("the connection task failed: {e}")))?
            .map_err(|e| PgError::Pool(format!("no connection to PostgreSQL: {e}")))
    }

    /// Waits for `fut` off the caller's runtime (see the module
    /// documentation), and names its error `operation`.
    pub(super) fn block<R>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = PgResult<R>>,
    ) -> StoreResult<R> {
        super::sqlite::off_the_runtime(|| block_on(fut)).map_err(|e| e.into_store(operation))
    }

    fn migrate(&self) -> StoreResult<()> {
        transaction!(
            self,
            "migrate the schema",
            IsolationLevel::ReadCommitted,
            |tx| {
                // One node migrates at a time; the others wait and find it done.
                tx.batch_execute(
                    "SELECT pg_advisory_xact_lock(7261697361);
                 CREATE TABLE IF NOT EXISTS plaza_schema (version BIGINT NOT NULL);",
                )
                .await?;
                let found: Option<i64> = tx
                    .opt("SELECT version FROM plaza_schema", &[])
                    .await?
                    .map(|r| r.get(0));
                let version = found.unwrap_or(0);
                if version > SCHEMA_VERSION {
                    return Err(PgError::Store(StoreError::TooNew {
                        found: version,
                        supported: SCHEMA_VERSION,
                    }));
                }
                if version == SCHEMA_VERSION {
                    return Ok(());
                }
                tx.batch_execute(&SCHEMA_PARTS.concat()).await?;
                for (since, sql) in MIGRATIONS {
                    if version > 0 && version < *since {
                        tx.batch_execute(sql).await?;
                    }
                }
                tx.batch_execute(&AFTER_MIGRATIONS.concat()).await?;
                if found.is_some() {
                    tx.exec("UPDATE plaza_schema SET version = $1", &[&SCHEMA_VERSION])
                        .await?;
                } else {
                    tx.exec(
                        "INSERT INTO plaza_schema (version) VALUES ($1)",
                        &[&SCHEMA_VERSION],
                    )
                    .await?;
                }
                Ok(())
            }
        )
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> StoreResult<i64> {
        read!(self, "read the schema version", |c| {
            Ok(c.one("SELECT version FROM plaza_schema", &[]).await?.get(0))
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.pool.close();
        if let Some(runtime) = self.runtime.take() {
            if let Some(t) = self.throwaway.take() {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", t.name);
                if let Err(e) = admin(&t.server_url, &sql) {
                    tracing::warn!("cannot drop the throwaway database {}: {e}", t.name);
                }
            }
            runtime.shutdown_background();
        }
    }
}

/// `server_url` with its database replaced by `database`.
fn database_url(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs one statement on the server at `url` on a connection of its own
/// (`CREATE DATABASE` cannot run in a transaction).
fn admin(url: &str, sql: &str) -> StoreResult<()> {
    let err = open_err(url);
    let run = async {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        let task = tokio::spawn(connection);
        let result = client.batch_execute(sql).await;
        drop(client);
        let _ = task.await;
        result
    };
    // On a thread of its own: the caller may be inside an async context,
    // where a runtime can be neither blocked on nor dropped.
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| err(e.to_string()))?;
            runtime.block_on(run).map_err(|e| {
                err(match e.as_db_error() {
                    Some(db) => db.message().to_string(),
                    None => e.to_string(),
                })
            })
        })
        .join()
        .unwrap_or_else(|_| Err(err("the statement's thread panicked".into())))
    })
}

/// The URL of the PostgreSQL server the tests use: `$PLAZA_TEST_POSTGRES`,
/// else the one `scripts/ensure-postgres.sh` starts (or reuses).
pub fn test_server_url() -> StoreResult<String> {
    static URL: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("PLAZA_TEST_POSTGRES")
            && !url.is_empty()
        {
            return Ok(url);
        }
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/ensure-postgres.sh"
        );
        let out = std::process::Command::new(script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {script}: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        match stdout.lines().last() {
            Some(url) if out.status.success() && is_postgres_url(url) => Ok(url.to_string()),
            _ => Err(format!("{script} failed: {stdout}")),
        }
    })
    .clone()
    .map_err(|message| StoreError::Open {
        path: "$PLAZA_TEST_POSTGRES".into(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_database_and_hide_passwords() {
        assert_eq!(
            database_url("postgres://u@h:5/postgres", "x"),
            "postgres://u@h:5/x"
        );
        assert_eq!(
            database_url("postgres://u@h:5?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(
            redacted("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert!(is_postgres_url("postgresql://h/db"));
        assert!(!is_postgres_url("plaza.db"));
    }

    #[test]
    fn reopening_keeps_data_and_refuses_a_newer_schema() {
        use crate::store::KvStore;
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        store.kv_set("u", "a", "k", b"v", 100).unwrap();
        let again = PostgresStore::open(store.url()).unwrap();
        assert_eq!(again.kv_get("u", "a", "k").unwrap(), Some(b"v".to_vec()));
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        read!(again, "test", |c| {
            c.exec("UPDATE plaza_schema SET version = 99", &[]).await
        })
        .unwrap();
        drop(again);
        assert!(matches!(
            PostgresStore::open(store.url()),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn a_version_2_database_gets_the_outbox() {
        use crate::store::conformance::outbox_works;
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        read!(store, "test", |c| {
            c.batch_execute("DROP TABLE outbox; UPDATE plaza_schema SET version = 2;")
                .await?;
            Ok(())
        })
        .unwrap();
        let again = PostgresStore::open(store.url()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        outbox_works(&again);
        drop(again);
    }

    #[test]
    fn a_version_3_database_gets_the_ledger_checkpoint() {
        use crate::store::LedgerStore;
        use crate::store::conformance::{APP, give_a_payment_and_a_message, pay_cmd};
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        give_a_payment_and_a_message(&store);
        // The database stripped back to version 3.
        read!(store, "test", |c| {
            c.batch_execute(
                "DROP TABLE ledger_checkpoint; DROP TABLE ledger_checkpoint_balances;
                 DROP INDEX broadcasts_unfinished;
                 ALTER TABLE ledger_transactions DROP COLUMN xid; ALTER TABLE postings DROP COLUMN xid;
                 ALTER TABLE payments DROP COLUMN xid; ALTER TABLE refunds DROP COLUMN xid;
                 UPDATE plaza_schema SET version = 3;",
            )
            .await?;
            Ok(())
        })
        .unwrap();
        let again = PostgresStore::open(store.url()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        let indexes: Vec<String> = read!(again, "test", |c| {
            Ok(c.rows(
                "SELECT indexname FROM pg_indexes
                 WHERE indexname IN ('broadcasts_unfinished', 'ledger_transactions_by_xid',
                     'postings_by_xid', 'payments_by_xid', 'refunds_by_xid')
                 ORDER BY indexname",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
        .unwrap();
        assert_eq!(
            indexes,
            [
                "broadcasts_unfinished",
                "ledger_transactions_by_xid",
                "payments_by_xid",
                "postings_by_xid",
                "refunds_by_xid"
            ]
        );
        // The rows written before: read whole by the first verification,
        // behind the checkpoint it leaves.
        let sig = |_: &[u8]| "sig".to_string();
        let verify = |_: &[u8], sig: &str| sig == "sig";
        let first = again.verify_ledger(&verify).unwrap();
        assert!(first.is_clean(), "{:?}", first.problems);
        assert_eq!((first.checkpointed, first.signatures), (0, 1));
        again.top_up("t2", "ann", 500, "CNY", 2).unwrap();
        again
            .pay(&pay_cmd("p2", "ann", "o2", 100, 3), &sig)
            .unwrap();
        let next = again.verify_ledger(&verify).unwrap();
        assert!(next.is_clean(), "{:?}", next.problems);
        assert_eq!(
            (next.checkpointed, next.signatures, next.payments),
            (2, 1, 2)
        );
        assert_eq!(
            again.payment(APP, 0, "o2").unwrap().unwrap().receipt.amount,
            100
        );
        drop(again);
    }

    /// Rows are numbered when they are written, and commit in another
    /// order: a ledger entry written before a verification and committed
    /// after it (by another node) is behind no checkpoint, and the next
    /// verification reads it.
    #[test]
    fn a_ledger_entry_committed_after_a_verification_began_is_verified_next() {
        use crate::store::LedgerStore;
        use crate::store::conformance::pay_cmd;
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        let verify = |_: &[u8], sig: &str| sig == "sig";
        store.top_up("t0", "ann", 1_000, "CNY", 0).unwrap();
        assert!(store.verify_ledger(&verify).unwrap().is_clean());
        // Another node's transaction, open: a posting of 5 to the wallet
        // that its balance does not show, in a transaction of its own.
        let node = PostgresStore::open(store.url()).unwrap();
        let client = node.block("test", async { node.client().await }).unwrap();
        node.block("test", async {
            client
                .batch_execute(
                    "BEGIN;
                     INSERT INTO ledger_transactions (id, kind, at_ms, user_id, memo)
                         VALUES ('late', 'topup', 1, 'ann', 'late');
                     INSERT INTO postings (tx_id, account_id, amount, at_ms)
                         VALUES ('late', 'wallet:ann', 5, 1);",
                )
                .await?;
            Ok(())
        })
        .unwrap();
        // A payment written and committed after it, and a clean
        // verification that moves the checkpoint past both.
        store
            .pay(&pay_cmd("p1", "ann", "o1", 100, 1), &|_| "sig".into())
            .unwrap();
        let report = store.verify_ledger(&verify).unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!((report.checkpointed, report.transactions), (1, 2));
        node.block("test", async {
            client.batch_execute("COMMIT").await?;
            Ok(())
        })
        .unwrap();
        let report = store.verify_ledger(&verify).unwrap();
        assert_eq!((report.checkpointed, report.transactions), (2, 3));
        assert_eq!(
            report.problems,
            [
                "transaction late: its postings sum to 5, not 0",
                "account wallet:ann: its balance differs from its postings by -5"
            ]
        );
        drop(client);
        drop(node);
    }

    #[test]
    fn a_version_4_database_gets_the_media_table() {
        use crate::store::conformance::media_works;
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        read!(store, "test", |c| {
            c.batch_execute("DROP TABLE media; UPDATE plaza_schema SET version = 4;")
                .await?;
            Ok(())
        })
        .unwrap();
        let again = PostgresStore::open(store.url()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        media_works(&again);
        drop(again);
    }

    #[test]
    fn a_version_5_database_gets_stripes_and_posting_times() {
        use crate::store::conformance::{APP, pay_cmd};
        use crate::store::{LedgerStore, RefundCommand, RefundResult, merchant_account};
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        let sig = |_: &[u8]| "sig".to_string();
        let verify = |_: &[u8], sig: &str| sig == "sig";
        // A history of version 5: three entries in one millisecond, and the
        // merchant's balance on its row.
        store.top_up("t0", "ann", 1_000, "CNY", 7).unwrap();
        store
            .pay(&pay_cmd("p1", "ann", "o1", 100, 7), &sig)
            .unwrap();
        store
            .pay(&pay_cmd("p2", "ann", "o2", 200, 7), &sig)
            .unwrap();
        read!(store, "test", |c| {
            c.batch_execute(
                "UPDATE accounts a SET balance = a.balance + s.balance
                     FROM (SELECT account_id, SUM(balance) AS balance FROM account_stripes
                           GROUP BY account_id) s WHERE s.account_id = a.id;
                 DROP TABLE account_stripes; DROP INDEX postings_by_account_time;
                 ALTER TABLE postings DROP COLUMN at_ms;
                 CREATE INDEX postings_by_account ON postings (account_id);
                 UPDATE plaza_schema SET version = 5;",
            )
            .await?;
            Ok(())
        })
        .unwrap();
        let again = PostgresStore::open(store.url()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        let indexes: Vec<String> = read!(again, "test", |c| {
            Ok(c.rows(
                "SELECT indexname FROM pg_indexes
                 WHERE indexname IN ('postings_by_account', 'postings_by_account_time')",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
        .unwrap();
        assert_eq!(indexes, ["postings_by_account_time"]);
        // The old entries got their transactions' times: newest first, the
        // millisecond's ties in the order they were written.
        let history = |s: &PostgresStore| -> Vec<(String, i64, i64)> {
            s.wallet_history("ann", 10)
                .unwrap()
                .into_iter()
                .map(|e| (e.tx_id, e.at_ms, e.amount))
                .collect()
        };
        let old = [
            ("p2".to_string(), 7, -200),
            ("p1".to_string(), 7, -100),
            ("t0".to_string(), 7, 1_000),
        ];
        assert_eq!(history(&again), old);
        let report = again.verify_ledger_full(&verify).unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        // New payments credit the merchant's stripes, on top of its row.
        let merchant = merchant_account("cn.hz");
        assert_eq!(again.balance(&merchant).unwrap(), 300);
        again.pay(&pay_cmd("p3", "ann", "o3", 50, 8), &sig).unwrap();
        assert_eq!(again.balance(&merchant).unwrap(), 350);
        assert_eq!(again.balance("wallet:ann").unwrap(), 650);
        let refund = RefundCommand {
            tx_id: "r1".into(),
            app_id: APP.into(),
            generation: 0,
            user: "ann".into(),
            order_id: "o2".into(),
            amount: 200,
            reason: "cancelled".into(),
            at_ms: 9,
            refund_id: None,
        };
        assert!(matches!(
            again.refund(&refund).unwrap(),
            RefundResult::Refunded(_)
        ));
        assert_eq!(again.balance(&merchant).unwrap(), 150);
        assert_eq!(again.balance("wallet:ann").unwrap(), 850);
        assert_eq!(
            history(&again)[..2],
            [("r1".to_string(), 9, 200), ("p3".to_string(), 8, -50)]
        );
        assert_eq!(history(&again)[2..], old);
        let report = again.verify_ledger(&verify).unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        drop(again);
    }

    /// A payment credits a stripe of the merchant's account, not its row:
    /// a transaction that updated the merchant's row (as every payment to
    /// it did, holding it until its commit) does not hold up payments to
    /// it; a refund, which debits the row, waits for it, then sees every
    /// payment's credit.
    #[test]
    fn payments_to_a_merchant_do_not_wait_for_its_row() {
        use crate::store::conformance::{APP, pay_cmd};
        use crate::store::{LedgerStore, PayResult, RefundCommand, RefundResult, merchant_account};
        use std::sync::mpsc;
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        let sig = |_: &[u8]| "sig".to_string();
        let merchant = merchant_account("cn.hz");
        for u in ["ann", "bob"] {
            store.top_up(&format!("t-{u}"), u, 1_000, "CNY", 0).unwrap();
        }
        store
            .pay(&pay_cmd("p0", "ann", "o0", 100, 1), &sig)
            .unwrap();
        // Another node's transaction has updated the merchant's row and not
        // committed.
        let node = PostgresStore::open(store.url()).unwrap();
        let client = node.block("test", async { node.client().await }).unwrap();
        node.block("test", async {
            client
                .batch_execute(&format!(
                    "BEGIN; UPDATE accounts SET balance = balance + 0 WHERE id = '{merchant}';"
                ))
                .await?;
            Ok(())
        })
        .unwrap();
        let store = Arc::new(store);
        let (done, paid) = mpsc::channel();
        let payer = {
            let store = store.clone();
            std::thread::spawn(move || {
                for (i, u) in ["ann", "bob"].iter().enumerate() {
                    let cmd = pay_cmd(&format!("p{}", i + 1), u, &format!("o{}", i + 1), 200, 2);
                    let r = store.pay(&cmd, &|_| "sig".into()).unwrap();
                    done.send(matches!(r, PayResult::Paid(_))).unwrap();
                }
            })
        };
        for _ in 0..2 {
            let r = paid.recv_timeout(Duration::from_secs(60));
            assert_eq!(r, Ok(true), "a payment waited for the merchant's row");
        }
        payer.join().unwrap();
        // A refund waits for the row, and its fold takes in both payments.
        let (done, refunded) = mpsc::channel();
        let refunder = {
            let store = store.clone();
            std::thread::spawn(move || {
                let r = store
                    .refund(&RefundCommand {
                        tx_id: "r1".into(),
                        app_id: APP.into(),
                        generation: 0,
                        user: "bob".into(),
                        order_id: "o2".into(),
                        amount: 200,
                        reason: "cancelled".into(),
                        at_ms: 3,
                        refund_id: None,
                    })
                    .unwrap();
                done.send(matches!(r, RefundResult::Refunded(_))).unwrap();
            })
        };
        assert!(refunded.recv_timeout(Duration::from_millis(300)).is_err());
        node.block("test", async {
            client.batch_execute("COMMIT").await?;
            Ok(())
        })
        .unwrap();
        assert_eq!(refunded.recv_timeout(Duration::from_secs(60)), Ok(true));
        refunder.join().unwrap();
        assert_eq!(store.balance(&merchant).unwrap(), 300);
        assert_eq!(store.balance("wallet:bob").unwrap(), 1_000);
        let stripes: i64 = read!(store, "test", |c| {
            Ok(c.one(
                "SELECT COUNT(*) FROM account_stripes WHERE account_id = $1",
                &[&merchant],
            )
            .await?
            .get(0))
        })
        .unwrap();
        assert_eq!(stripes, 0, "the refund folded the merchant's stripes");
        let verify = |_: &[u8], sig: &str| sig == "sig";
        let report = store.verify_ledger_full(&verify).unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        drop(client);
        drop(node);
    }

    /// A verification adds a striped account's stripes to its row: money
    /// slipped into a stripe, or a posting's time changed, is found from
    /// the checkpoint as in a full verification.
    #[test]
    fn a_verification_counts_the_stripes_and_the_postings_times() {
        use crate::store::conformance::pay_cmd;
        use crate::store::{LedgerStore, merchant_account};
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        let verify = |_: &[u8], sig: &str| sig == "sig";
        store.top_up("t0", "ann", 1_000, "CNY", 0).unwrap();
        store
            .pay(&pay_cmd("p1", "ann", "o1", 100, 1), &|_| "sig".into())
            .unwrap();
        let clean = store.verify_ledger(&verify).unwrap();
        assert!(clean.is_clean(), "{:?}", clean.problems);
        let merchant = merchant_account("cn.hz");
        read!(store, "test", |c| {
            c.exec(
                "UPDATE account_stripes SET balance = balance + 5 WHERE account_id = $1",
                &[&merchant],
            )
            .await?;
            c.exec("UPDATE postings SET at_ms = 2 WHERE tx_id = 'p1'", &[])
                .await?;
            Ok(())
        })
        .unwrap();
        assert_eq!(store.balance(&merchant).unwrap(), 105);
        // The stripe's row and the posting were written before the
        // checkpoint: the stripe counts from it (balances are checked
        // whole), the posting's time only in a full verification.
        let from_checkpoint = store.verify_ledger(&verify).unwrap();
        assert_eq!(
            from_checkpoint.problems,
            [format!(
                "account {merchant}: its balance differs from its postings by 5"
            )]
        );
        let full = store.verify_ledger_full(&verify).unwrap();
        assert_eq!(
            full.problems,
            [
                "transaction p1: a posting's time is not the transaction's".to_string(),
                format!("account {merchant}: its balance differs from its postings by 5"),
            ]
        );
    }

    #[test]
    fn a_version_1_database_gets_links_refund_ids_settings_and_openids() {
        use crate::store::conformance::{
            APP, give_a_payment_and_a_message, publisher_columns_work,
        };
        use crate::store::{SettingRecord, SettingsStore};
        let store = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
        give_a_payment_and_a_message(&store);
        // The database stripped back to version 1.
        read!(store, "test", |c| {
            c.batch_execute(
                "DROP INDEX refunds_by_refund_id; DROP INDEX refunds_by_time;
                 DROP INDEX payments_by_time;
                 ALTER TABLE refunds DROP COLUMN refund_id;
                 ALTER TABLE inbox DROP COLUMN link; ALTER TABLE broadcasts DROP COLUMN link;
                 DROP TABLE openids; DROP TABLE app_settings;
                 UPDATE plaza_schema SET version = 1;",
            )
            .await?;
            Ok(())
        })
        .unwrap();
        let again = PostgresStore::open(store.url()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        publisher_columns_work(&again);
        let setting = SettingRecord {
            app_id: APP.into(),
            name: "origin".into(),
            secret: false,
            value: b"https://a.example".to_vec(),
            updated_at_ms: 3,
        };
        again.put_setting(&setting).unwrap();
        assert_eq!(again.settings(APP).unwrap(), vec![setting]);
        drop(again);
    }
}

/// The backend-neutral suite, run on a fresh database per test.
#[cfg(test)]
mod conformance {
    crate::store::conformance::conformance_suite!(
        super::PostgresStore::open_throwaway(&super::test_server_url().unwrap()).unwrap()
    );
}
