//! The user's rights over their data (PIPL's rights to know, to copy and to
//! erase; what Apple's App Privacy Report shows): a report of what each
//! mini-app accessed, an export of everything held about the user, and the
//! erasure of what one mini-app holds about the user, after which it sees a
//! new user. Each use is audited (`privacy.report`, `privacy.export`,
//! `privacy.erase`), and refused if the audit log cannot be written.
//!
//! See `docs/privacy.md`.

use super::{Host, check_user};
use crate::capabilities::identity::openid;
use crate::error::{Error, Result};
use crate::gate::Actor;
use crate::manifest::Manifest;
use crate::session::{self, Slot};
use crate::store::{
    AccessCount, AuditEntry, AuditQuery, ConsentRecord, Erased, FollowRecord, InboxMessage,
    InsuranceCard, LoginCodeInfo, Outcome, PaymentRecord, RefundRecord, SubscriptionRecord,
    UserMessageRecord, UserProfile, UserRecords, WalletEntry,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How often a mini-app used one capability or scope for the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessLine {
    /// The capability (`storage`, `identity`, `payment`, ...) or the step
    /// (`session`, `consent`, `privacy`), as the audit log names it before
    /// its first dot.
    pub capability: String,
    /// The scope or the kind of use, after the first dot (`real-name` of
    /// `identity.real-name`), if any.
    pub scope: Option<String>,
    /// Audit entries of it, allowed and denied.
    pub count: u64,
    /// Of those, allowed.
    pub allowed: u64,
    /// Of those, denied.
    pub denied: u64,
    /// The last one, ms since the epoch.
    pub last_at_ms: i64,
}

/// What one mini-app accessed for the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppAccess {
    /// The mini-app.
    pub app_id: String,
    /// Its name, if it is installed.
    pub name: Option<String>,
    /// What it used, by capability and scope.
    pub lines: Vec<AccessLine>,
}

/// What each mini-app accessed for a user: counts and last use per
/// capability and scope, from the audit log's aggregate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrivacyReport {
    /// The user.
    pub user: String,
    /// The mini-apps, by id.
    pub apps: Vec<AppAccess>,
}

/// A storage value in an export: its text when it is UTF-8, else its hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedValue {
    /// The key.
    pub key: String,
    /// The value, when it is UTF-8 text.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    /// The value's bytes in hex, when it is not.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hex: Option<String>,
}

/// Everything one mini-app holds about the user, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AppExport {
    /// The mini-app.
    pub app_id: String,
    /// Its name, if it is installed.
    pub name: Option<String>,
    /// The openid the mini-app sees for the user now.
    pub openid: String,
    /// Its storage.
    pub storage: Vec<ExportedValue>,
    /// The user's consent decisions about it.
    pub consents: Vec<ConsentRecord>,
    /// The user's acceptances of its message templates.
    pub subscriptions: Vec<SubscriptionRecord>,
    /// Whether (since when) the user follows its account.
    pub following: Option<FollowRecord>,
    /// The user's messages to it.
    pub conversation: Vec<UserMessageRecord>,
    /// Login codes issued to it for the user.
    pub login_codes: Vec<LoginCodeInfo>,
    /// Its messages in the user's inbox, oldest first.
    pub inbox: Vec<InboxMessage>,
    /// The files the user gave it (id, kind, name, size; not the bytes),
    /// oldest first.
    #[serde(default)]
    pub media: Vec<crate::store::MediaRecord>,
    /// The user's payments to it, with their signed receipts.
    pub payments: Vec<PaymentRecord>,
    /// Its refunds of them.
    pub refunds: Vec<RefundRecord>,
    /// The audit log's entries of it for the user, oldest first.
    pub audit: Vec<AuditEntry>,
}

/// The user's wallet, in an export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WalletExport {
    /// The balance, minor units.
    pub balance: u64,
    /// Every movement, newest first.
    pub history: Vec<WalletEntry>,
}

/// Everything the host holds about a user, per mini-app, as JSON
/// (`serde_json::to_string(&export)`). An export of one mini-app has only
/// its part: the host's own data (profile, card, wallet) is in an export of
/// every mini-app.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrivacyExport {
    /// The user.
    pub user: String,
    /// When it was made, ms since the epoch.
    pub exported_at_ms: i64,
    /// What the embedding app set of the user (mini-apps read it only
    /// through consent scopes).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profile: Option<UserProfile>,
    /// The bound medical-insurance card.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub insurance_card: Option<InsuranceCard>,
    /// The wallet.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wallet: Option<WalletExport>,
    /// What the host did for the user outside any mini-app (the user's
    /// own reports and exports), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub host_audit: Vec<AuditEntry>,
    /// Per mini-app, by id.
    pub apps: Vec<AppExport>,
}

/// What erasing a mini-app's data about a user took away.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Erasure {
    /// The mini-app.
    pub app_id: String,
    /// What was erased, and the new identity epoch.
    #[serde(flatten)]
    pub erased: Erased,
}

/// `what` split at its first dot: (capability, scope).
fn split_what(what: &str) -> (String, Option<String>) {
    match what.split_once('.') {
        Some((capability, scope)) => (capability.to_string(), Some(scope.to_string())),
        None => (what.to_string(), None),
    }
}

/// The report's lines from the aggregate's rows (sorted by app and what):
/// one line per (app, what), its outcomes summed; app-less rows left out.
fn access_by_app(rows: Vec<AccessCount>) -> BTreeMap<String, Vec<AccessLine>> {
    let mut apps: BTreeMap<String, BTreeMap<String, AccessLine>> = BTreeMap::new();
    for row in rows.into_iter().filter(|r| !r.app.is_empty()) {
        let line = apps
            .entry(row.app)
            .or_default()
            .entry(row.what.clone())
            .or_insert_with(|| {
                let (capability, scope) = split_what(&row.what);
                AccessLine {
                    capability,
                    scope,
                    count: 0,
                    allowed: 0,
                    denied: 0,
                    last_at_ms: row.last_at_ms,
                }
            });
        line.count += row.count;
        match row.outcome {
            Outcome::Allowed => line.allowed += row.count,
            Outcome::Denied => line.denied += row.count,
        }
        line.last_at_ms = line.last_at_ms.max(row.last_at_ms);
    }
    apps.into_iter()
        .map(|(app, lines)| (app, lines.into_values().collect()))
        .collect()
}

fn exported_value(key: String, value: Vec<u8>) -> ExportedValue {
    match String::from_utf8(value) {
        Ok(text) => ExportedValue {
            key,
            text: Some(text),
            hex: None,
        },
        Err(e) => ExportedValue {
            key,
            text: None,
            hex: Some(crate::hex::encode(e.as_bytes())),
        },
    }
}

/// The export of `app`, made empty at its first record.
fn of<'a>(apps: &'a mut BTreeMap<String, AppExport>, app: &str) -> &'a mut AppExport {
    apps.entry(app.to_string()).or_default()
}

/// Checks a mini-app id given to a privacy call.
fn check_app(app: &str) -> Result<()> {
    if app.is_empty() || app.len() > 128 {
        return Err(Error::InvalidRequest(
            "a mini-app id must be 1 to 128 bytes".into(),
        ));
    }
    Ok(())
}

impl Host {
    /// What each mini-app (only `app`, if given) accessed for `user`: per
    /// capability and scope, how often (allowed and denied) and when last.
    /// Read from an aggregate the store keeps with the audit log, not from
    /// the log. Audited as `privacy.report`.
    pub fn privacy_report(&self, user: &str, app: Option<&str>) -> Result<PrivacyReport> {
        check_user(user)?;
        app.map(check_app).transpose()?;
        let rows = self.inner.services.store.access_counts(user, app)?;
        let mut apps = Vec::new();
        for (app_id, lines) in access_by_app(rows) {
            apps.push(AppAccess {
                name: self.app_name(&app_id)?,
                app_id,
                lines,
            });
        }
        self.audit_privacy(
            user,
            app,
            "privacy.report",
            "the user read what the mini-app accessed",
        )?;
        Ok(PrivacyReport {
            user: user.to_string(),
            apps,
        })
    }

    /// Everything the host holds about `user`, per mini-app (only `app`, if
    /// given): storage, consent decisions, subscriptions, the follow,
    /// the user's messages, login codes, the inbox, payments with their
    /// receipts and refunds, and the audit log; with every mini-app, also
    /// the host's own data (profile, insurance card, wallet). Audited as
    /// `privacy.export`.
    pub fn privacy_export(&self, user: &str, app: Option<&str>) -> Result<PrivacyExport> {
        check_user(user)?;
        app.map(check_app).transpose()?;
        let s = &self.inner.services;
        let records = s.store.user_records(user, app)?;
        let audit = s.store.audit_entries(&AuditQuery {
            user: Some(user.to_string()),
            app: app.map(str::to_string),
            limit: 0,
        })?;
        let mut apps: BTreeMap<String, AppExport> = BTreeMap::new();
        if let Some(app) = app {
            apps.entry(app.to_string()).or_default();
        }
        let mut host_audit = Vec::new();
        let UserRecords {
            storage,
            consents,
            subscriptions,
            follows,
            conversation,
            login_codes,
            inbox,
            payments,
            refunds,
            media,
        } = records;
        for m in media {
            of(&mut apps, &m.app).media.push(m);
        }
        for v in storage {
            of(&mut apps, &v.app)
                .storage
                .push(exported_value(v.key, v.value));
        }
        for c in consents {
            of(&mut apps, &c.app).consents.push(c);
        }
        for x in subscriptions {
            of(&mut apps, &x.app).subscriptions.push(x);
        }
        for f in follows {
            let app = f.app.clone();
            of(&mut apps, &app).following = Some(f);
        }
        for m in conversation {
            of(&mut apps, &m.app).conversation.push(m);
        }
        for l in login_codes {
            of(&mut apps, &l.app).login_codes.push(l);
        }
        for m in inbox {
            of(&mut apps, &m.app_id).inbox.push(m);
        }
        for p in payments {
            of(&mut apps, &p.receipt.app_id).payments.push(p);
        }
        for r in refunds {
            of(&mut apps, &r.app_id).refunds.push(r);
        }
        for e in audit {
            if e.app.is_empty() {
                host_audit.push(e);
            } else {
                of(&mut apps, &e.app).audit.push(e);
            }
        }
        let mut out = Vec::with_capacity(apps.len());
        for (app_id, mut export) in apps {
            export.name = self.app_name(&app_id)?;
            let epoch = s.store.identity_epoch(user, &app_id)?;
            let generation = self.app_id_generation(&app_id)?;
            export.openid = openid(&s.keys, user, &app_id, generation, epoch);
            export.app_id = app_id;
            out.push(export);
        }
        let everything = app.is_none();
        let (profile, insurance_card, wallet) = if everything {
            (
                s.store.user_profile(user)?,
                s.store.insurance_card(user)?,
                Some(WalletExport {
                    balance: self.wallet_balance(user)?,
                    history: s.store.wallet_history(user, i64::MAX as usize)?,
                }),
            )
        } else {
            (None, None, None)
        };
        self.audit_privacy(
            user,
            app,
            "privacy.export",
            "the user exported what the host holds about them",
        )?;
        Ok(PrivacyExport {
            user: user.to_string(),
            exported_at_ms: s.clock.now_ms(),
            profile,
            insurance_card,
            wallet,
            host_audit,
            apps: out,
        })
    }

    /// Erases what `app` holds about `user`: its storage, the user's consent
    /// decisions about it, template acceptances, the follow of its account,
    /// the user's messages to it and login codes issued to it. The user's
    /// identity epoch in it moves on, so its openid and unionid for the user
    /// are new: the mini-app sees a new user (asked for consent again, no
    /// subscriptions). Payments, refunds and their ledger entries stay, as
    /// the law requires (an export still lists them), out of the mini-app's
    /// sight (its payment history starts after the erasure); the user's
    /// inbox and the audit log stay too. The mini-app need not be installed.
    ///
    /// A live session of the user in the mini-app ends first (it gets a
    /// `hide` event, within its deadline), and no event of that session runs
    /// until the erasure is done: the next event starts a new instance, for
    /// the new user. Audited as `privacy.erase` (refused if the entry cannot
    /// be written).
    pub async fn erase_user_app_data(&self, user: &str, app: &str) -> Result<Erasure> {
        check_user(user)?;
        check_app(app)?;
        let now = self.inner.services.clock.now_ms();
        let slot = self
            .inner
            .slots_lock()
            .entry((user.to_string(), app.to_string()))
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot::new(now))))
            .clone();
        let mut slot = slot.lock().await;
        session::end_gracefully(
            &self.inner.runtime,
            &mut slot,
            "the user erased the mini-app's data about them",
        )
        .await;
        self.audit_privacy(
            user,
            Some(app),
            "privacy.erase",
            "the user erased the mini-app's data about them (storage, files, consents, subscriptions, follow, conversation, login codes; payments and ledger kept); it sees a new user",
        )?;
        let now = self.inner.services.clock.now_ms();
        let erased = self.inner.services.store.erase_user_app(user, app, now)?;
        drop(slot);
        tracing::info!(user, app, ?erased, "erased a mini-app's data about a user");
        Ok(Erasure {
            app_id: app.to_string(),
            erased,
        })
    }

    /// [`erase_user_app_data`](Self::erase_user_app_data) for every mini-app
    /// that holds something about `user` or accessed anything for them;
    /// returns what each erasure took, by mini-app id.
    pub async fn erase_user_data(&self, user: &str) -> Result<Vec<Erasure>> {
        check_user(user)?;
        let s = &self.inner.services;
        let r = s.store.user_records(user, None)?;
        let mut apps: std::collections::BTreeSet<String> = r
            .storage
            .iter()
            .map(|v| v.app.clone())
            .chain(r.consents.iter().map(|c| c.app.clone()))
            .chain(r.subscriptions.iter().map(|x| x.app.clone()))
            .chain(r.follows.iter().map(|f| f.app.clone()))
            .chain(r.conversation.iter().map(|m| m.app.clone()))
            .chain(r.login_codes.iter().map(|l| l.app.clone()))
            .collect();
        apps.extend(
            s.store
                .access_counts(user, None)?
                .into_iter()
                .map(|a| a.app)
                .filter(|a| !a.is_empty()),
        );
        let mut out = Vec::with_capacity(apps.len());
        for app in apps {
            out.push(self.erase_user_app_data(user, &app).await?);
        }
        Ok(out)
    }

    /// The name of an installed mini-app.
    fn app_name(&self, app: &str) -> Result<Option<String>> {
        let Some(record) = self.inner.services.store.package_info(app)? else {
            return Ok(None);
        };
        let manifest = Manifest::parse(&format!("{app} (installed)"), &record.manifest)?;
        Ok(Some(manifest.app.name.clone()))
    }

    /// Audits a use of the user's rights; an error if the entry cannot be
    /// written (no unrecorded reading of a user's data).
    fn audit_privacy(&self, user: &str, app: Option<&str>, what: &str, detail: &str) -> Result<()> {
        self.inner
            .services
            .gate
            .audit(
                Actor::host(user, app.unwrap_or("")),
                what,
                Outcome::Allowed,
                detail,
            )
            .map_err(|denial| Error::Internal {
                message: denial.to_string(),
                source: None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(app: &str, what: &str, outcome: Outcome, count: u64, last: i64) -> AccessCount {
        AccessCount {
            app: app.into(),
            what: what.into(),
            outcome,
            count,
            last_at_ms: last,
        }
    }

    #[test]
    fn outcomes_of_one_use_make_one_line_split_at_the_first_dot() {
        let apps = access_by_app(vec![
            row("", "privacy.report", Outcome::Allowed, 1, 9),
            row("a.b", "identity.real-name", Outcome::Allowed, 3, 5),
            row("a.b", "identity.real-name", Outcome::Denied, 2, 7),
            row("a.b", "storage", Outcome::Allowed, 1, 4),
        ]);
        assert_eq!(apps.len(), 1, "{apps:?}");
        let lines = &apps["a.b"];
        assert_eq!(
            lines[0],
            AccessLine {
                capability: "identity".into(),
                scope: Some("real-name".into()),
                count: 5,
                allowed: 3,
                denied: 2,
                last_at_ms: 7,
            }
        );
        assert_eq!(lines[1].capability, "storage");
        assert_eq!(lines[1].scope, None);
    }

    #[test]
    fn values_export_as_text_or_hex() {
        assert_eq!(
            exported_value("k".into(), b"hi".to_vec()).text.as_deref(),
            Some("hi")
        );
        assert_eq!(
            exported_value("k".into(), vec![0xff, 0]).hex.as_deref(),
            Some("ff00")
        );
    }
}
