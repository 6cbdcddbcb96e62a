//! The publisher API's directory on PostgreSQL: the `openids` table and
//! [`OpenidStore`].

use super::{Db, PostgresStore, read};
use crate::store::{OpenidStore, StoreResult};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS openids (
    app_id TEXT NOT NULL,
    generation BIGINT NOT NULL,
    openid TEXT NOT NULL,
    user_id TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    PRIMARY KEY (app_id, generation, openid)
);
";

impl OpenidStore for PostgresStore {
    fn remember_openid(
        &self,
        app: &str,
        generation: u32,
        openid: &str,
        user: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        // Most calls find it there: a read, and a write only the first time
        // (two nodes writing it at once: the first insert wins).
        if self.openid_user(app, generation, openid)?.is_some() {
            return Ok(());
        }
        read!(self, "remember an openid", |c| {
            c.exec(
                "INSERT INTO openids (app_id, generation, openid, user_id, first_seen_ms)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&app, &i64::from(generation), &openid, &user, &at_ms],
            )
            .await?;
            Ok(())
        })
    }

    fn openid_user(&self, app: &str, generation: u32, openid: &str) -> StoreResult<Option<String>> {
        read!(self, "look up an openid", |c| {
            Ok(c.opt(
                "SELECT user_id FROM openids WHERE app_id = $1 AND generation = $2 AND openid = $3",
                &[&app, &i64::from(generation), &openid],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }
}
