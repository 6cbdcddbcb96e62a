//! The conformance suite: what every store backend must do, written against
//! the traits only. Each test is a function taking a fresh, empty store as
//! `&dyn Store`; [`conformance_suite!`] makes each one a `#[test]` for a
//! backend:
//!
//! ```text
//! #[cfg(test)]
//! mod conformance {
//!     crate::store::conformance::conformance_suite!(super::SqliteStore::open_in_memory().unwrap());
//! }
//! ```
//!
//! What is about one backend itself (its transactions, its files, its
//! migrations) is tested beside it, not here.

use super::*;
use crate::ledger::{LineItem, receipt_message};
use crate::manifest::Category;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};

/// Makes every conformance test a `#[test]` for one backend. `$make` is an
/// expression evaluated once per test for a fresh, empty store that
/// implements [`Store`].
macro_rules! conformance_suite {
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let store = $make;
                $crate::store::conformance::$name(&store);
            }
        )*
    };
    ($make:expr) => {
        $crate::store::conformance::conformance_suite!(@tests $make;
            quota_counts_keys_values_overhead_and_replacements,
            list_by_prefix_in_byte_order,
            audit_newest_n_oldest_first,
            audit_entries_round_trip_and_filter_by_user_and_app,
            consents_are_remembered_replaced_listed_and_revoked,
            consents_reset_for_every_user_of_one_app,
            package_info_is_the_record_without_the_component,
            packages_list_by_id_replace_and_delete,
            a_host_secret_is_made_once,
            settings_are_per_app_replaced_deleted_and_erased_at_release,
            payments_pay_once_per_order_and_refunds_return_what_was_paid,
            a_verification_reads_only_what_came_after_the_last_clean_one,
            insured_payments_stay_within_the_annual_cap_and_refunds_return_each_part,
            payments_and_refunds_that_move_money_append_their_audit_entry,
            one_time_acceptance_allows_exactly_one_message,
            a_rate_window_counts_per_key_and_minute,
            broadcasts_reach_the_followers_once_within_the_monthly_quota,
            followers_over_the_quota_get_no_row_and_past_months_rows_are_pruned,
            user_messages_and_replies_reach_each_side_once,
            a_user_message_is_set_aside_after_its_attempts,
            publishers_round_trip_and_replace,
            app_secrets_round_trip_and_replace,
            login_codes_are_single_use_expire_and_belong_to_one_app,
            user_profile_round_trips,
            an_app_id_is_its_first_publishers_until_released,
            a_release_erases_the_users_data_and_keeps_the_money_apart,
            access_counts_follow_the_audit_log_per_user_app_and_outcome,
            user_records_hold_every_kind_of_data_of_one_user,
            erasing_takes_one_apps_data_moves_the_epoch_and_keeps_the_money,
            a_refund_id_refunds_once_and_a_retry_returns_the_first_refund,
            an_orders_refunds_and_a_days_money_are_listed_per_app_and_generation,
            openids_are_remembered_per_app_and_generation,
            a_message_keeps_its_link_and_is_found_by_id_in_its_users_inbox,
            a_notification_is_written_with_the_money_that_moved_and_only_then,
            a_claim_leases_due_notifications_until_delivered_or_due_again,
            concurrent_claims_never_take_one_notification_twice,
            media_works,
            files_and_values_share_the_quota_and_files_belong_to_one_user_and_app,
            erasing_deletes_the_files_and_the_export_lists_them,
        );
    };
}
pub(crate) use conformance_suite;

/// Signs receipts as the host does (ed25519, hex), with a fixed key.
pub(crate) struct TestKeys(SigningKey);

impl TestKeys {
    pub(crate) fn new() -> TestKeys {
        TestKeys(SigningKey::from_bytes(&[7; 32]))
    }

    /// The signature of `message`, hex.
    pub(crate) fn sign(&self, message: &[u8]) -> String {
        self.0
            .sign(message)
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `signature` (hex) is this key's over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &str) -> bool {
        let bytes: Option<Vec<u8>> = (0..signature.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(signature.get(i..i + 2)?, 16).ok())
            .collect();
        let Some(Ok(bytes)) = bytes.map(<[u8; 64]>::try_from) else {
            return false;
        };
        self.0
            .verifying_key()
            .verify(message, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

// Key-value data.

pub(crate) fn quota_counts_keys_values_overhead_and_replacements(s: &dyn Store) {
    let o = KV_ENTRY_OVERHEAD_BYTES;
    let quota = 10 + o;
    assert_eq!(
        s.kv_set("u", "a", "k", &[0; 8], quota).unwrap(),
        KvWrite::Written
    );
    // Replacing the value frees the old one first.
    assert_eq!(
        s.kv_set("u", "a", "k", &[0; 9], quota).unwrap(),
        KvWrite::Written
    );
    assert_eq!(
        s.kv_set("u", "a", "k", &[0; 10], quota).unwrap(),
        KvWrite::OverQuota {
            used: 10 + o,
            would_use: 11 + o,
            quota
        }
    );
    assert_eq!(s.kv_get("u", "a", "k").unwrap().unwrap().len(), 9);
    // An empty value still costs its key and the overhead.
    assert!(matches!(
        s.kv_set("u", "a", "j", &[], quota).unwrap(),
        KvWrite::OverQuota { .. }
    ));
    // Another space has its own quota.
    assert_eq!(
        s.kv_set("u", "b", "k", &[0; 9], quota).unwrap(),
        KvWrite::Written
    );
    assert_eq!(
        s.kv_usage("u", "a").unwrap(),
        KvUsage {
            bytes: 10 + o,
            keys: 1
        }
    );
    // Deleting gives the space back; deleting again changes nothing.
    assert!(s.kv_delete("u", "a", "k").unwrap());
    assert!(!s.kv_delete("u", "a", "k").unwrap());
    assert_eq!(s.kv_usage("u", "a").unwrap(), KvUsage::default());
    assert_eq!(
        s.kv_usage("u", "b").unwrap(),
        KvUsage {
            bytes: 10 + o,
            keys: 1
        }
    );
}

pub(crate) fn list_by_prefix_in_byte_order(s: &dyn Store) {
    for k in ["b/2", "a/1", "b/1", "c", "b"] {
        s.kv_set("u", "a", k, b"v", 1000).unwrap();
    }
    assert_eq!(s.kv_list("u", "a", "b/", 10).unwrap(), vec!["b/1", "b/2"]);
    assert_eq!(s.kv_list("u", "a", "", 2).unwrap(), vec!["a/1", "b"]);
    assert!(s.kv_list("v", "a", "", 10).unwrap().is_empty());
}

// The audit log.

pub(crate) fn audit_newest_n_oldest_first(s: &dyn Store) {
    for i in 0..5 {
        s.append_audit(&AuditEntry {
            at_ms: i,
            user: if i % 2 == 0 { "u".into() } else { "v".into() },
            app: "a".into(),
            session: "s".into(),
            capability: "storage".into(),
            outcome: Outcome::Allowed,
            detail: String::new(),
        })
        .unwrap();
    }
    let q = AuditQuery {
        user: Some("u".into()),
        app: None,
        limit: 2,
    };
    let got: Vec<i64> = s
        .audit_entries(&q)
        .unwrap()
        .iter()
        .map(|e| e.at_ms)
        .collect();
    assert_eq!(got, vec![2, 4]);
}

pub(crate) fn audit_entries_round_trip_and_filter_by_user_and_app(s: &dyn Store) {
    let entry = |user: &str, app: &str, outcome: Outcome, detail: &str| AuditEntry {
        at_ms: 7,
        user: user.into(),
        app: app.into(),
        session: "s1".into(),
        capability: "identity.real-name".into(),
        outcome,
        detail: detail.into(),
    };
    let entries = [
        entry("u", "a.b", Outcome::Denied, "first"),
        entry("u", "c.d", Outcome::Allowed, "second"),
        entry("v", "a.b", Outcome::Allowed, "third"),
    ];
    for e in &entries {
        s.append_audit(e).unwrap();
    }
    // No filter and no limit: everything, oldest first, as written.
    assert_eq!(s.audit_entries(&AuditQuery::default()).unwrap(), entries);
    let by_app = s
        .audit_entries(&AuditQuery {
            app: Some("a.b".into()),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(by_app, [entries[0].clone(), entries[2].clone()]);
    let both = s
        .audit_entries(&AuditQuery {
            user: Some("u".into()),
            app: Some("c.d".into()),
            limit: 0,
        })
        .unwrap();
    assert_eq!(both, [entries[1].clone()]);
    assert!(
        s.audit_entries(&AuditQuery {
            user: Some("w".into()),
            ..AuditQuery::default()
        })
        .unwrap()
        .is_empty()
    );
}

// Consent decisions.

pub(crate) fn consents_reset_for_every_user_of_one_app(s: &dyn Store) {
    let consent = |user: &str, app: &str, scope: &str| ConsentRecord {
        user: user.into(),
        app: app.into(),
        scope: scope.into(),
        granted: true,
        decided_at_ms: 1,
    };
    for (user, app, scope) in [
        ("u", "a.b", "phone"),
        ("v", "a.b", "phone"),
        ("u", "a.b", "location"),
        ("u", "a.c", "phone"),
    ] {
        s.put_consent(&consent(user, app, scope)).unwrap();
    }
    // One scope of one app, for every user; other apps keep theirs.
    assert_eq!(s.reset_consents("a.b", Some("phone")).unwrap(), 2);
    assert_eq!(s.get_consent("u", "a.b", "phone").unwrap(), None);
    assert_eq!(s.get_consent("v", "a.b", "phone").unwrap(), None);
    assert!(s.get_consent("u", "a.b", "location").unwrap().is_some());
    assert!(s.get_consent("u", "a.c", "phone").unwrap().is_some());
    // Every scope of one app.
    assert_eq!(s.reset_consents("a.b", None).unwrap(), 1);
    assert_eq!(
        s.list_consents("u").unwrap(),
        vec![consent("u", "a.c", "phone")]
    );
    assert_eq!(s.reset_consents("a.b", None).unwrap(), 0);
}

pub(crate) fn consents_are_remembered_replaced_listed_and_revoked(s: &dyn Store) {
    let consent = |user: &str, app: &str, scope: &str, granted: bool, at: i64| ConsentRecord {
        user: user.into(),
        app: app.into(),
        scope: scope.into(),
        granted,
        decided_at_ms: at,
    };
    assert_eq!(s.get_consent("u", "a.b", "phone").unwrap(), None);
    s.put_consent(&consent("u", "a.b", "phone", true, 1))
        .unwrap();
    assert_eq!(
        s.get_consent("u", "a.b", "phone").unwrap(),
        Some(consent("u", "a.b", "phone", true, 1))
    );
    // A later answer replaces the earlier one.
    s.put_consent(&consent("u", "a.b", "phone", false, 2))
        .unwrap();
    assert_eq!(
        s.get_consent("u", "a.b", "phone").unwrap(),
        Some(consent("u", "a.b", "phone", false, 2))
    );
    s.put_consent(&consent("u", "a.b", "location", true, 3))
        .unwrap();
    s.put_consent(&consent("u", "a.a", "profile", true, 4))
        .unwrap();
    s.put_consent(&consent("v", "a.b", "phone", true, 5))
        .unwrap();
    let mut listed = s.list_consents("u").unwrap();
    listed.sort_by(|a, b| (&a.app, &a.scope).cmp(&(&b.app, &b.scope)));
    assert_eq!(
        listed,
        [
            consent("u", "a.a", "profile", true, 4),
            consent("u", "a.b", "location", true, 3),
            consent("u", "a.b", "phone", false, 2),
        ]
    );
    assert!(s.revoke_consent("u", "a.b", "phone").unwrap());
    assert!(!s.revoke_consent("u", "a.b", "phone").unwrap());
    assert_eq!(s.get_consent("u", "a.b", "phone").unwrap(), None);
    assert_eq!(
        s.get_consent("v", "a.b", "phone").unwrap(),
        Some(consent("v", "a.b", "phone", true, 5))
    );
    assert_eq!(s.list_consents("u").unwrap().len(), 2);
    assert!(s.list_consents("w").unwrap().is_empty());
}

// Installed packages.

fn package(app_id: &str, version: &str) -> PackageRecord {
    PackageRecord {
        app_id: app_id.into(),
        version: version.into(),
        publisher_id: "a".into(),
        manifest: format!("manifest of {app_id}"),
        component: vec![1; 1000],
        assets: Vec::new(),
        component_sha256: format!("hash of {app_id} {version}"),
        signature: None,
        installed_at_ms: 5,
    }
}

pub(crate) fn package_info_is_the_record_without_the_component(s: &dyn Store) {
    let record = PackageRecord {
        app_id: "a.b".into(),
        version: "1.0.0".into(),
        publisher_id: "a".into(),
        manifest: "m".into(),
        component: vec![1; 1000],
        assets: vec![7; 20],
        component_sha256: "h".into(),
        signature: Some(vec![2]),
        installed_at_ms: 5,
    };
    s.put_package(&record).unwrap();
    let info = s.package_info("a.b").unwrap().unwrap();
    assert!(info.component.is_empty());
    assert!(info.assets.is_empty());
    assert_eq!(
        PackageRecord {
            component: vec![1; 1000],
            ..info
        }
        .component_sha256,
        "h"
    );
    let full = s.get_package("a.b").unwrap().unwrap();
    assert_eq!((full.component.len(), full.assets), (1000, vec![7; 20]));
    assert!(s.package_info("x.y").unwrap().is_none());
    // The assets alone, replaced and removed with their package.
    assert_eq!(s.package_assets("a.b").unwrap(), Some(vec![7; 20]));
    assert_eq!(s.package_assets("x.y").unwrap(), None);
    s.put_package(&PackageRecord {
        assets: Vec::new(),
        ..record.clone()
    })
    .unwrap();
    assert_eq!(s.package_assets("a.b").unwrap(), Some(Vec::new()));
    assert!(s.get_package("a.b").unwrap().unwrap().assets.is_empty());
    s.put_package(&record).unwrap();
    assert!(s.delete_package("a.b").unwrap());
    assert_eq!(s.package_assets("a.b").unwrap(), None);
    s.put_package(&PackageRecord {
        assets: Vec::new(),
        ..record
    })
    .unwrap();
    assert_eq!(s.package_assets("a.b").unwrap(), Some(Vec::new()));
}

pub(crate) fn packages_list_by_id_replace_and_delete(s: &dyn Store) {
    assert!(s.list_packages().unwrap().is_empty());
    s.put_package(&package("a.b", "1.0.0")).unwrap();
    s.put_package(&package("a.a", "2.0.0")).unwrap();
    let listed = s.list_packages().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|p| (p.app_id.as_str(), p.version.as_str(), p.component.len()))
            .collect::<Vec<_>>(),
        [("a.a", "2.0.0", 0), ("a.b", "1.0.0", 0)]
    );
    assert_eq!(listed[1].manifest, "manifest of a.b");
    assert_eq!(listed[1].component_sha256, "hash of a.b 1.0.0");
    // Putting a package of the same id replaces it.
    s.put_package(&PackageRecord {
        component: vec![3; 10],
        signature: Some(vec![4]),
        ..package("a.b", "1.1.0")
    })
    .unwrap();
    let got = s.get_package("a.b").unwrap().unwrap();
    assert_eq!(
        (
            got.version.as_str(),
            got.component,
            got.signature,
            got.publisher_id.as_str(),
            got.installed_at_ms
        ),
        ("1.1.0", vec![3; 10], Some(vec![4]), "a", 5)
    );
    assert!(s.delete_package("a.b").unwrap());
    assert!(!s.delete_package("a.b").unwrap());
    assert!(s.get_package("a.b").unwrap().is_none());
    assert!(s.package_info("a.b").unwrap().is_none());
    let left: Vec<String> = s
        .list_packages()
        .unwrap()
        .into_iter()
        .map(|p| p.app_id)
        .collect();
    assert_eq!(left, ["a.a"]);
}

// The host's secrets.

pub(crate) fn a_host_secret_is_made_once(s: &dyn Store) {
    assert_eq!(s.secret_or_insert("key", b"first").unwrap(), b"first");
    assert_eq!(s.secret_or_insert("key", b"second").unwrap(), b"first");
    assert_eq!(s.secret_or_insert("other", b"third").unwrap(), b"third");
}

/// A setting of `app`.
fn setting(app: &str, name: &str, value: &[u8], secret: bool) -> SettingRecord {
    SettingRecord {
        app_id: app.into(),
        name: name.into(),
        secret,
        value: value.to_vec(),
        updated_at_ms: 5,
    }
}

pub(crate) fn settings_are_per_app_replaced_deleted_and_erased_at_release(s: &dyn Store) {
    let (a, b) = ("cn.hz.a", "cn.hz.b");
    s.put_setting(&setting(a, "origin", b"https://a.example", false))
        .unwrap();
    s.put_setting(&setting(a, "key", &[0, 159, 146, 150], true))
        .unwrap();
    s.put_setting(&setting(b, "origin", b"https://b.example", false))
        .unwrap();
    // By name, the bytes kept as given, each app its own.
    assert_eq!(
        s.settings(a).unwrap(),
        vec![
            setting(a, "key", &[0, 159, 146, 150], true),
            setting(a, "origin", b"https://a.example", false),
        ]
    );
    assert_eq!(
        s.settings(b).unwrap(),
        vec![setting(b, "origin", b"https://b.example", false)]
    );
    // Replaced.
    s.put_setting(&setting(a, "origin", b"https://a2.example", false))
        .unwrap();
    assert_eq!(s.settings(a).unwrap()[1].value, b"https://a2.example");
    // Deleted once.
    assert!(s.delete_setting(a, "key").unwrap());
    assert!(!s.delete_setting(a, "key").unwrap());
    assert_eq!(s.settings(a).unwrap().len(), 1);
    assert_eq!(s.settings(b).unwrap().len(), 1);
    // Kept across uninstall, erased at release (a new publisher of the id
    // must not get the old one's keys).
    s.put_package(&package(a, "1.0.0")).unwrap();
    assert!(s.delete_package(a).unwrap());
    assert_eq!(s.settings(a).unwrap().len(), 1);
    assert!(matches!(
        s.release_app_id(a).unwrap(),
        ReleaseResult::Released { .. }
    ));
    assert!(s.settings(a).unwrap().is_empty());
    assert_eq!(s.settings(b).unwrap().len(), 1);
}

// Money.

pub(crate) const APP: &str = "cn.hz.clinic";
const PUBLISHER: &str = "cn.hz";

/// A one-item payment of `amount` by `user` to [`APP`], without insurance.
pub(crate) fn pay_cmd(tx: &str, user: &str, order: &str, amount: u64, at_ms: i64) -> PayCommand {
    PayCommand {
        tx_id: tx.into(),
        app_id: APP.into(),
        generation: 0,
        publisher_id: PUBLISHER.into(),
        payee: "Hangzhou Clinic".into(),
        user: user.into(),
        order_id: order.into(),
        amount,
        currency: "CNY".into(),
        description: "Consultation".into(),
        items: vec![LineItem {
            name: "Consultation".into(),
            quantity: 1,
            unit_price: amount,
            insurance_eligible: false,
        }],
        at_ms,
        insurance: None,
    }
}

fn refund_cmd(tx: &str, user: &str, order: &str, amount: u64, at_ms: i64) -> RefundCommand {
    RefundCommand {
        tx_id: tx.into(),
        app_id: APP.into(),
        generation: 0,
        user: user.into(),
        order_id: order.into(),
        amount,
        reason: format!("refund {tx}"),
        at_ms,
        refund_id: None,
    }
}

/// What a store of schema 6 (SQLite) or 1 (PostgreSQL) held before the
/// publisher API's columns: a payment of `o1` by `ann` and a message `m1`
/// in her inbox. [`publisher_columns_work`] checks them after the migration.
pub(crate) fn give_a_payment_and_a_message(s: &dyn Store) {
    s.top_up("t0", "ann", 1_000, "CNY", 0).unwrap();
    s.pay(&pay_cmd("p1", "ann", "o1", 1_000, 1), &|_| "sig".into())
        .unwrap();
    let sender = Sender {
        app_id: APP.into(),
        app_name: "Clinic".into(),
        publisher_name: "Clinic".into(),
        link: None,
    };
    s.deliver_message(
        "m1",
        "ann",
        &sender,
        "conversation",
        "Reply",
        "b",
        "1970-01",
        2,
    )
    .unwrap();
}

/// After a migration of what [`give_a_payment_and_a_message`] gave: the old
/// message has no link, openids are remembered, and a refund id makes a
/// retry of the old payment's refund return the first refund.
pub(crate) fn publisher_columns_work(s: &dyn Store) {
    assert_eq!(s.inbox_message("ann", "m1").unwrap().unwrap().link, None);
    s.remember_openid(APP, 0, "oid", "ann", 3).unwrap();
    assert_eq!(
        s.openid_user(APP, 0, "oid").unwrap().as_deref(),
        Some("ann")
    );
    let refund = RefundCommand {
        refund_id: Some("rf-1".into()),
        ..refund_cmd("r1", "ann", "o1", 100, 4)
    };
    let first = refunded(s.refund(&refund).unwrap());
    let retry = RefundCommand {
        tx_id: "r2".into(),
        ..refund
    };
    assert_eq!(s.refund(&retry).unwrap(), RefundResult::Repeated(first));
}

/// A refund with a refund id, made idempotent.
pub(crate) fn a_refund_id_refunds_once_and_a_retry_returns_the_first_refund(s: &dyn Store) {
    let keys = TestKeys::new();
    s.top_up("t0", "ann", 2_000, "CNY", 0).unwrap();
    paid(
        s.pay(&pay_cmd("p1", "ann", "o1", 1_000, 1), &|m| keys.sign(m))
            .unwrap(),
    );
    paid(
        s.pay(&pay_cmd("p2", "ann", "o2", 1_000, 2), &|m| keys.sign(m))
            .unwrap(),
    );
    let with_id = |tx: &str, order: &str, amount: u64, id: &str| RefundCommand {
        refund_id: Some(id.into()),
        ..refund_cmd(tx, "ann", order, amount, 3)
    };
    let first = refunded(s.refund(&with_id("r1", "o1", 300, "rf-1")).unwrap());
    assert_eq!(first.refund_id.as_deref(), Some("rf-1"));
    // The retry (a new transaction id, as a retry after a crash makes)
    // returns the first refund and moves nothing.
    assert_eq!(
        s.refund(&with_id("r1-again", "o1", 300, "rf-1")).unwrap(),
        RefundResult::Repeated(first.clone())
    );
    assert_eq!(s.payment(APP, 0, "o1").unwrap().unwrap().refunded, 300);
    assert_eq!(s.balance(&wallet_account("ann")).unwrap(), 300);
    // The same id for another order or amount is not a retry.
    assert_eq!(
        s.refund(&with_id("r2", "o2", 300, "rf-1")).unwrap(),
        RefundResult::RefundIdConflict(first.clone())
    );
    assert_eq!(
        s.refund(&with_id("r3", "o1", 200, "rf-1")).unwrap(),
        RefundResult::RefundIdConflict(first)
    );
    // Another id refunds again; refunds without an id are not deduplicated.
    refunded(s.refund(&with_id("r4", "o1", 200, "rf-2")).unwrap());
    refunded(s.refund(&refund_cmd("r5", "ann", "o1", 100, 4)).unwrap());
    refunded(s.refund(&refund_cmd("r6", "ann", "o1", 100, 4)).unwrap());
    assert_eq!(s.payment(APP, 0, "o1").unwrap().unwrap().refunded, 700);
    // A refund id is the mini-app's own: another generation may use it.
    assert_eq!(
        s.refund(&RefundCommand {
            generation: 1,
            ..with_id("r7", "o1", 100, "rf-1")
        })
        .unwrap(),
        RefundResult::NotFound
    );
    assert!(
        s.verify_ledger(&|m, sig| keys.verify(m, sig))
            .unwrap()
            .is_clean()
    );
}

/// An order's refunds, and a day's payments and refunds, for a back-end.
pub(crate) fn an_orders_refunds_and_a_days_money_are_listed_per_app_and_generation(s: &dyn Store) {
    let keys = TestKeys::new();
    let day = 86_400_000;
    s.top_up("t0", "ann", 10_000, "CNY", 0).unwrap();
    s.top_up("t1", "bob", 10_000, "CNY", 0).unwrap();
    paid(
        s.pay(&pay_cmd("p1", "ann", "o1", 1_000, day - 1), &|m| {
            keys.sign(m)
        })
        .unwrap(),
    );
    paid(
        s.pay(&pay_cmd("p2", "bob", "o2", 2_000, day), &|m| keys.sign(m))
            .unwrap(),
    );
    paid(
        s.pay(&pay_cmd("p3", "ann", "o3", 3_000, 2 * day - 1), &|m| {
            keys.sign(m)
        })
        .unwrap(),
    );
    let other = PayCommand {
        app_id: "cn.other".into(),
        ..pay_cmd("p4", "ann", "o1", 500, day + 5)
    };
    paid(s.pay(&other, &|m| keys.sign(m)).unwrap());
    refunded(
        s.refund(&refund_cmd("r1", "ann", "o1", 100, day + 1))
            .unwrap(),
    );
    refunded(
        s.refund(&refund_cmd("r2", "ann", "o1", 200, 2 * day))
            .unwrap(),
    );
    let txs = |r: Vec<RefundRecord>| r.into_iter().map(|r| r.tx_id).collect::<Vec<_>>();
    assert_eq!(txs(s.refunds_of(APP, 0, "o1").unwrap()), ["r1", "r2"]);
    assert!(s.refunds_of(APP, 1, "o1").unwrap().is_empty());
    assert!(s.refunds_of("cn.other", 0, "o1").unwrap().is_empty());
    let orders = |p: Vec<PaymentRecord>| {
        p.into_iter()
            .map(|p| p.receipt.order_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        orders(s.payments_between(APP, 0, day, 2 * day).unwrap()),
        ["o2", "o3"]
    );
    assert_eq!(orders(s.payments_between(APP, 0, 0, day).unwrap()), ["o1"]);
    assert!(s.payments_between(APP, 1, 0, 3 * day).unwrap().is_empty());
    assert_eq!(
        txs(s.refunds_between(APP, 0, day, 2 * day).unwrap()),
        ["r1"]
    );
    assert!(
        s.refunds_between("cn.other", 0, 0, 3 * day)
            .unwrap()
            .is_empty()
    );
}

/// The openids given out, by mini-app and generation.
pub(crate) fn openids_are_remembered_per_app_and_generation(s: &dyn Store) {
    assert_eq!(s.openid_user(APP, 0, "oid-ann").unwrap(), None);
    s.remember_openid(APP, 0, "oid-ann", "ann", 1).unwrap();
    s.remember_openid(APP, 0, "oid-ann", "ann", 2).unwrap();
    s.remember_openid(APP, 0, "oid-bob", "bob", 3).unwrap();
    assert_eq!(
        s.openid_user(APP, 0, "oid-ann").unwrap().as_deref(),
        Some("ann")
    );
    assert_eq!(
        s.openid_user(APP, 0, "oid-bob").unwrap().as_deref(),
        Some("bob")
    );
    // Another mini-app, or another generation, never finds it.
    assert_eq!(s.openid_user("cn.other", 0, "oid-ann").unwrap(), None);
    assert_eq!(s.openid_user(APP, 1, "oid-ann").unwrap(), None);
}

/// A message's link, and a message by id.
pub(crate) fn a_message_keeps_its_link_and_is_found_by_id_in_its_users_inbox(s: &dyn Store) {
    let linked = Sender {
        link: Some("/appointment?id=7".into()),
        ..sender()
    };
    s.deliver_message(
        "m1",
        "ann",
        &linked,
        "conversation",
        "Reply",
        "see",
        "2026-11",
        1,
    )
    .unwrap();
    s.accept_template("ann", "cn.city", "notice", false, 1)
        .unwrap();
    s.send_subscription("m2", "ann", &linked, "notice", "Notice", "b", "2026-11", 2)
        .unwrap();
    s.set_following("ann", "cn.city", true, 1).unwrap();
    s.start_broadcast("b1", &linked, "News", "text", "2026-11", 4, 3)
        .unwrap();
    s.deliver_broadcast("b1", &mut || "m3".to_string()).unwrap();
    let inbox = s.inbox("ann", false, 10).unwrap();
    assert_eq!(inbox.len(), 3);
    assert!(
        inbox
            .iter()
            .all(|m| m.link.as_deref() == Some("/appointment?id=7"))
    );
    let m1 = s.inbox_message("ann", "m1").unwrap().unwrap();
    assert_eq!(
        (m1.title.as_str(), m1.link.as_deref()),
        ("Reply", Some("/appointment?id=7"))
    );
    assert_eq!(s.inbox_message("bob", "m1").unwrap(), None);
    assert_eq!(s.inbox_message("ann", "nope").unwrap(), None);
    s.deliver_message(
        "m4",
        "ann",
        &sender(),
        "conversation",
        "Reply",
        "x",
        "2026-11",
        4,
    )
    .unwrap();
    assert_eq!(s.inbox_message("ann", "m4").unwrap().unwrap().link, None);
}

fn paid(r: PayResult) -> PaymentRecord {
    match r {
        PayResult::Paid(p) => p,
        other => panic!("not paid: {other:?}"),
    }
}

fn refunded(r: RefundResult) -> RefundRecord {
    match r {
        RefundResult::Refunded(r) => r,
        other => panic!("not refunded: {other:?}"),
    }
}

pub(crate) fn payments_pay_once_per_order_and_refunds_return_what_was_paid(s: &dyn Store) {
    let keys = TestKeys::new();
    let sign = |m: &[u8]| keys.sign(m);
    let wallet = wallet_account("ann");
    let merchant = merchant_account(PUBLISHER);
    assert_eq!(s.balance(&wallet).unwrap(), 0);
    assert_eq!(s.top_up("t1", "ann", 5_000, "CNY", 1).unwrap(), 5_000);
    assert_eq!(s.top_up("t2", "ann", 1_000, "CNY", 2).unwrap(), 6_000);
    assert_eq!(s.balance(EXTERNAL_BANK).unwrap(), -6_000);

    let first = paid(s.pay(&pay_cmd("p1", "ann", "o1", 2_500, 3), &sign).unwrap());
    assert_eq!(first.receipt.transaction_id, "p1");
    assert_eq!(first.receipt.app_id, APP);
    assert_eq!(first.receipt.order_id, "o1");
    assert_eq!(
        (
            first.receipt.amount,
            first.receipt.wallet_part,
            first.receipt.insurance_part
        ),
        (2_500, 2_500, 0)
    );
    assert_eq!(first.receipt.payee, "Hangzhou Clinic");
    assert_eq!(first.receipt.paid_at_ms, 3);
    assert!(keys.verify(&receipt_message(&first.receipt), &first.receipt.signature));
    assert_eq!((first.user.as_str(), first.refunded), ("ann", 0));
    assert_eq!(s.balance(&wallet).unwrap(), 3_500);
    assert_eq!(s.balance(&merchant).unwrap(), 2_500);
    assert_eq!(s.payment(APP, 0, "o1").unwrap(), Some(first.clone()));

    // A retry of the order gets the first payment; another amount or user
    // is a conflict; neither moves money.
    assert_eq!(
        s.pay(&pay_cmd("p1b", "ann", "o1", 2_500, 4), &sign)
            .unwrap(),
        PayResult::AlreadyPaid(first.clone())
    );
    assert_eq!(
        s.pay(&pay_cmd("p1c", "ann", "o1", 2_400, 4), &sign)
            .unwrap(),
        PayResult::Conflict(first.clone())
    );
    assert_eq!(
        s.pay(&pay_cmd("p1d", "bob", "o1", 2_500, 4), &sign)
            .unwrap(),
        PayResult::Conflict(first.clone())
    );
    assert_eq!(
        s.pay(&pay_cmd("p2", "ann", "o2", 4_000, 4), &sign).unwrap(),
        PayResult::InsufficientFunds {
            needed: 4_000,
            available: 3_500
        }
    );
    assert_eq!(s.payment(APP, 0, "o2").unwrap(), None);
    assert_eq!(s.balance(&wallet).unwrap(), 3_500);

    let second = paid(s.pay(&pay_cmd("p3", "ann", "o3", 1_000, 5), &sign).unwrap());
    assert!(second.seq > first.seq);
    // A user's payments, newest first, paged after a transaction id.
    let page = |app: &str, user: &str, after: Option<&str>, limit| {
        s.payments(app, 0, user, after, limit).unwrap()
    };
    assert_eq!(
        page(APP, "ann", None, 10),
        Some(vec![second.clone(), first.clone()])
    );
    assert_eq!(page(APP, "ann", None, 1), Some(vec![second.clone()]));
    assert_eq!(page(APP, "ann", Some("p3"), 10), Some(vec![first.clone()]));
    assert_eq!(page(APP, "ann", Some("p1"), 10), Some(vec![]));
    assert_eq!(page(APP, "bob", None, 10), Some(vec![]));
    assert_eq!(page("other.app", "ann", None, 10), Some(vec![]));
    // A cursor that is not one of the user's payments to the mini-app.
    assert_eq!(page(APP, "bob", Some("p3"), 10), None);
    assert_eq!(page("other.app", "ann", Some("p3"), 10), None);
    assert_eq!(page(APP, "ann", Some("7"), 10), None);
    // One payment by its transaction id: the user's own, in its generation.
    let by_tx = |app: &str, generation, user: &str| {
        s.payment_by_transaction(app, generation, user, "p3")
            .unwrap()
    };
    assert_eq!(by_tx(APP, 0, "ann"), Some(second.clone()));
    assert_eq!(by_tx(APP, 0, "bob"), None);
    assert_eq!(by_tx(APP, 1, "ann"), None);
    assert_eq!(by_tx("other.app", 0, "ann"), None);

    // Refunds: only the payer's, never more than is left.
    assert_eq!(
        s.refund(&refund_cmd("r0", "bob", "o1", 100, 6)).unwrap(),
        RefundResult::NotFound
    );
    assert_eq!(
        s.refund(&refund_cmd("r0", "ann", "nope", 100, 6)).unwrap(),
        RefundResult::NotFound
    );
    assert_eq!(
        s.refund(&refund_cmd("r0", "ann", "o1", 0, 6)).unwrap(),
        RefundResult::TooMuch { refundable: 2_500 }
    );
    assert_eq!(
        s.refund(&refund_cmd("r0", "ann", "o1", 2_501, 6)).unwrap(),
        RefundResult::TooMuch { refundable: 2_500 }
    );
    assert_eq!(
        refunded(s.refund(&refund_cmd("r1", "ann", "o1", 1_000, 7)).unwrap()),
        RefundRecord {
            tx_id: "r1".into(),
            app_id: APP.into(),
            order_id: "o1".into(),
            amount: 1_000,
            wallet_part: 1_000,
            insurance_part: 0,
            reason: "refund r1".into(),
            at_ms: 7,
            refund_id: None,
        }
    );
    assert_eq!(s.payment(APP, 0, "o1").unwrap().unwrap().refunded, 1_000);
    let rest = refunded(s.refund(&refund_cmd("r2", "ann", "o1", 1_500, 8)).unwrap());
    assert_eq!((rest.wallet_part, rest.insurance_part), (1_500, 0));
    assert_eq!(
        s.refund(&refund_cmd("r3", "ann", "o1", 1, 9)).unwrap(),
        RefundResult::TooMuch { refundable: 0 }
    );
    assert_eq!(s.balance(&wallet).unwrap(), 5_000);
    assert_eq!(s.balance(&merchant).unwrap(), 1_000);

    // The wallet's movements, newest first.
    let history: Vec<(String, String, i64, Option<String>)> = s
        .wallet_history("ann", 10)
        .unwrap()
        .into_iter()
        .map(|e| (e.tx_id, e.kind, e.amount, e.order_id))
        .collect();
    let entry = |tx: &str,
                 kind: &str,
                 amount: i64,
                 order: Option<&str>|
     -> (String, String, i64, Option<String>) {
        (tx.into(), kind.into(), amount, order.map(String::from))
    };
    assert_eq!(
        history,
        [
            entry("r2", "refund", 1_500, Some("o1")),
            entry("r1", "refund", 1_000, Some("o1")),
            entry("p3", "payment", -1_000, Some("o3")),
            entry("p1", "payment", -2_500, Some("o1")),
            entry("t2", "topup", 1_000, None),
            entry("t1", "topup", 5_000, None),
        ]
    );
    assert_eq!(s.wallet_history("ann", 2).unwrap().len(), 2);
    assert!(s.wallet_history("bob", 10).unwrap().is_empty());

    let report = s.verify_ledger(&|m, sig| keys.verify(m, sig)).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(
        (
            report.transactions,
            report.payments,
            report.refunds,
            report.signatures
        ),
        (6, 2, 2, 2)
    );
    // A receipt whose signature does not verify is a problem (read again
    // by a full verification, whatever checkpoint the last one left).
    let report = s.verify_ledger_full(&|_, _| false).unwrap();
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
}

/// A clean verification leaves a checkpoint: the next one reads only what
/// came after it (new payments, refunds of payments made before it) and
/// counts the rest as checked; a problem after it is found, and keeps the
/// checkpoint where it was; a full verification reads everything again.
pub(crate) fn a_verification_reads_only_what_came_after_the_last_clean_one(s: &dyn Store) {
    let keys = TestKeys::new();
    let sign = |m: &[u8]| keys.sign(m);
    let verify = |m: &[u8], sig: &str| keys.verify(m, sig);
    s.top_up("t0", "ann", 100_000, "CNY", 0).unwrap();
    for n in 0..20 {
        paid(
            s.pay(
                &pay_cmd(&format!("p{n}"), "ann", &format!("o{n}"), 100, n),
                &sign,
            )
            .unwrap(),
        );
    }
    let first = s.verify_ledger(&verify).unwrap();
    assert!(first.is_clean(), "{:?}", first.problems);
    assert_eq!((first.checkpointed, first.signatures), (0, 20));
    // Nothing new: every transaction is behind the checkpoint.
    let again = s.verify_ledger(&verify).unwrap();
    assert!(again.is_clean(), "{:?}", again.problems);
    assert_eq!(
        (
            again.checkpointed,
            again.signatures,
            again.transactions,
            again.payments
        ),
        (21, 0, 21, 20)
    );

    // New payments, and refunds of payments made before the checkpoint.
    for n in 20..25 {
        paid(
            s.pay(
                &pay_cmd(&format!("p{n}"), "ann", &format!("o{n}"), 100, n),
                &sign,
            )
            .unwrap(),
        );
    }
    refunded(s.refund(&refund_cmd("r0", "ann", "o3", 40, 100)).unwrap());
    refunded(s.refund(&refund_cmd("r1", "ann", "o3", 60, 101)).unwrap());
    refunded(s.refund(&refund_cmd("r2", "ann", "o22", 100, 102)).unwrap());
    let report = s.verify_ledger(&verify).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!((report.checkpointed, report.signatures), (21, 5));
    assert_eq!(
        (
            report.transactions,
            report.postings,
            report.payments,
            report.refunds
        ),
        (29, 58, 25, 3)
    );
    assert_eq!(s.verify_ledger(&verify).unwrap().checkpointed, 29);

    // A receipt made since that does not verify: found, and found again
    // (a dirty ledger moves no checkpoint).
    paid(
        s.pay(&pay_cmd("p25", "ann", "o25", 100, 25), &|_| "forged".into())
            .unwrap(),
    );
    for _ in 0..2 {
        let report = s.verify_ledger(&verify).unwrap();
        assert_eq!((report.checkpointed, report.signatures), (29, 1));
        assert_eq!(
            report.problems,
            vec![format!(
                "payment {APP}/o25: the receipt's signature does not verify"
            )]
        );
    }
    // The whole ledger: everything read again.
    let full = s.verify_ledger_full(&verify).unwrap();
    assert_eq!((full.checkpointed, full.signatures), (0, 26));
    assert_eq!(full.problems.len(), 1, "{:?}", full.problems);
}

/// A payment's and a refund's audit entry is appended with the money, and
/// only when money moves.
pub(crate) fn payments_and_refunds_that_move_money_append_their_audit_entry(s: &dyn Store) {
    let keys = TestKeys::new();
    let sign = |m: &[u8]| keys.sign(m);
    let entry = |what: &str, detail: String| AuditEntry {
        at_ms: 1,
        user: "ann".into(),
        app: APP.into(),
        session: "s-1".into(),
        capability: what.into(),
        outcome: Outcome::Allowed,
        detail,
    };
    let pay_entry = |p: &PaymentRecord| {
        entry(
            "payment.request",
            format!("paid {}", p.receipt.transaction_id),
        )
    };
    let refund_entry = |r: &RefundRecord| entry("payment.refund", format!("refunded {}", r.tx_id));
    let entries = || -> Vec<String> {
        s.audit_entries(&AuditQuery::default())
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.capability, e.detail))
            .collect()
    };
    s.top_up("t1", "ann", 1_000, "CNY", 1).unwrap();
    let cmd = pay_cmd("p1", "ann", "o1", 600, 2);
    paid(s.pay_audited(&cmd, &sign, Some(&pay_entry), None).unwrap());
    // Nothing moves: no entry.
    assert!(matches!(
        s.pay_audited(&cmd, &sign, Some(&pay_entry), None).unwrap(),
        PayResult::AlreadyPaid(_)
    ));
    assert!(matches!(
        s.pay_audited(
            &pay_cmd("p2", "ann", "o2", 600, 2),
            &sign,
            Some(&pay_entry),
            None
        )
        .unwrap(),
        PayResult::InsufficientFunds { .. }
    ));
    refunded(
        s.refund_audited(
            &refund_cmd("r1", "ann", "o1", 100, 3),
            Some(&refund_entry),
            None,
        )
        .unwrap(),
    );
    assert!(matches!(
        s.refund_audited(
            &refund_cmd("r2", "ann", "o1", 600, 3),
            Some(&refund_entry),
            None
        )
        .unwrap(),
        RefundResult::TooMuch { .. }
    ));
    assert_eq!(
        entries(),
        ["payment.request paid p1", "payment.refund refunded r1"]
    );
}

pub(crate) fn insured_payments_stay_within_the_annual_cap_and_refunds_return_each_part(
    s: &dyn Store,
) {
    let keys = TestKeys::new();
    let sign = |m: &[u8]| keys.sign(m);
    assert_eq!(s.insurance_card("ann").unwrap(), None);
    let card = InsuranceCard {
        user: "ann".into(),
        card_number: "330100-1".into(),
        holder_name: "Ann".into(),
        scheme: "Hangzhou basic medical insurance".into(),
        coverage_bp: 7_000,
        annual_cap: 5_000,
        bound_at_ms: 1,
    };
    s.bind_insurance_card(&card).unwrap();
    assert_eq!(s.insurance_card("ann").unwrap(), Some(card.clone()));
    assert_eq!(s.insurance_card("bob").unwrap(), None);
    s.top_up("t1", "ann", 10_000, "CNY", 1).unwrap();
    // 50.00 eligible at 70 %, 10.00 not eligible.
    let insured = |tx: &str, order: &str| PayCommand {
        items: vec![
            LineItem {
                name: "Consultation".into(),
                quantity: 1,
                unit_price: 5_000,
                insurance_eligible: true,
            },
            LineItem {
                name: "Parking".into(),
                quantity: 1,
                unit_price: 1_000,
                insurance_eligible: false,
            },
        ],
        insurance: Some(InsuranceTerms {
            coverage_bp: card.coverage_bp,
            annual_cap: card.annual_cap,
            year: 2026,
        }),
        ..pay_cmd(tx, "ann", order, 6_000, 2)
    };
    let first = paid(s.pay(&insured("p1", "o1"), &sign).unwrap());
    assert_eq!(
        (first.receipt.wallet_part, first.receipt.insurance_part),
        (2_500, 3_500)
    );
    assert_eq!(s.insurance_used("ann", 2026).unwrap(), 3_500);
    assert_eq!(s.insurance_used("ann", 2025).unwrap(), 0);
    // Only 15.00 of the cap is left for the second.
    let second = paid(s.pay(&insured("p2", "o2"), &sign).unwrap());
    assert_eq!(
        (second.receipt.wallet_part, second.receipt.insurance_part),
        (4_500, 1_500)
    );
    assert_eq!(s.insurance_used("ann", 2026).unwrap(), 5_000);
    assert_eq!(s.balance(&wallet_account("ann")).unwrap(), 3_000);
    assert_eq!(s.balance(INSURANCE_FUND).unwrap(), -5_000);
    assert_eq!(s.balance(&merchant_account(PUBLISHER)).unwrap(), 12_000);

    // Half of the first back: in proportion, the wallet's part rounded down.
    let half = refunded(s.refund(&refund_cmd("r1", "ann", "o1", 3_000, 3)).unwrap());
    assert_eq!((half.wallet_part, half.insurance_part), (1_250, 1_750));
    assert_eq!(s.insurance_used("ann", 2026).unwrap(), 3_250);
    // The rest: exactly what is left of each part.
    let rest = refunded(s.refund(&refund_cmd("r2", "ann", "o1", 3_000, 4)).unwrap());
    assert_eq!((rest.wallet_part, rest.insurance_part), (1_250, 1_750));
    let p = s.payment(APP, 0, "o1").unwrap().unwrap();
    assert_eq!((p.refunded, p.insurance_refunded), (6_000, 3_500));
    assert_eq!(s.insurance_used("ann", 2026).unwrap(), 1_500);
    assert_eq!(s.balance(&wallet_account("ann")).unwrap(), 5_500);
    assert_eq!(s.balance(INSURANCE_FUND).unwrap(), -1_500);
    assert_eq!(s.balance(&merchant_account(PUBLISHER)).unwrap(), 6_000);

    // Binding again replaces the card.
    let rebound = InsuranceCard {
        coverage_bp: 8_000,
        bound_at_ms: 5,
        ..card
    };
    s.bind_insurance_card(&rebound).unwrap();
    assert_eq!(s.insurance_card("ann").unwrap(), Some(rebound));

    let report = s.verify_ledger(&|m, sig| keys.verify(m, sig)).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}

// Messages.

fn sender() -> Sender {
    Sender {
        app_id: "cn.city".into(),
        app_name: "City".into(),
        publisher_name: "City Hall".into(),
        link: None,
    }
}

pub(crate) fn a_rate_window_counts_per_key_and_minute(s: &dyn Store) {
    assert!(s.take_rate("a", 1, 2).unwrap());
    assert!(s.take_rate("a", 1, 2).unwrap());
    assert!(!s.take_rate("a", 1, 2).unwrap(), "over the limit");
    assert!(s.take_rate("b", 1, 2).unwrap(), "another key");
    assert!(s.take_rate("a", 2, 2).unwrap(), "the next minute");
    assert!(!s.take_rate("c", 2, 0).unwrap(), "a limit of 0");
    // The minute after next drops the rows of the minutes before.
    assert!(s.take_rate("d", 4, 1).unwrap());
    assert!(s.take_rate("a", 4, 1).unwrap());
    assert!(!s.take_rate("a", 4, 1).unwrap());
}

pub(crate) fn one_time_acceptance_allows_exactly_one_message(s: &dyn Store) {
    let send = |id: &str| {
        s.send_subscription(id, "ann", &sender(), "fine", "Fine", "x", "2026-11", 0)
            .unwrap()
    };
    assert_eq!(send("m1"), SendResult::NoSubscription);
    s.accept_template("ann", "cn.city", "fine", false, 0)
        .unwrap();
    assert_eq!(send("m2"), SendResult::Sent("m2".into()));
    assert_eq!(send("m3"), SendResult::NoSubscription);
    s.accept_template("ann", "cn.city", "fine", true, 0)
        .unwrap();
    for i in 0..5 {
        assert!(matches!(send(&format!("l{i}")), SendResult::Sent(_)));
    }
    assert_eq!(s.inbox("ann", false, 100).unwrap().len(), 6);
    assert!(s.inbox("bob", false, 100).unwrap().is_empty());
}

pub(crate) fn broadcasts_reach_the_followers_once_within_the_monthly_quota(s: &dyn Store) {
    assert!(s.set_following("a", "cn.city", true, 0).unwrap());
    assert!(!s.set_following("a", "cn.city", true, 0).unwrap());
    for u in ["b", "c"] {
        assert!(s.set_following(u, "cn.city", true, 0).unwrap());
    }
    assert!(s.set_following("c", "cn.city", false, 0).unwrap());
    assert!(!s.set_following("c", "cn.city", false, 0).unwrap());
    let mut followers = s.followers("cn.city").unwrap();
    followers.sort();
    assert_eq!(followers, ["a", "b"]);
    assert!(s.followers("other.app").unwrap().is_empty());

    let mut n = 0;
    let mut ids = || {
        n += 1;
        format!("m{n}")
    };
    s.start_broadcast("b1", &sender(), "Water", "Off on Monday", "2026-11", 1, 10)
        .unwrap();
    // Who follows later is not a recipient.
    s.set_following("d", "cn.city", true, 11).unwrap();
    assert_eq!(s.unfinished_broadcasts().unwrap(), ["b1"]);
    let count = s.deliver_broadcast("b1", &mut ids).unwrap();
    assert_eq!(
        count,
        BroadcastCount {
            delivered: 2,
            skipped: 0
        }
    );
    assert!(s.unfinished_broadcasts().unwrap().is_empty());
    let inbox = s.inbox("a", false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    let m = &inbox[0];
    assert_eq!(
        (
            m.user.as_str(),
            m.app_id.as_str(),
            m.app_name.as_str(),
            m.publisher_name.as_str(),
            m.kind.as_str()
        ),
        ("a", "cn.city", "City", "City Hall", "broadcast")
    );
    assert_eq!(
        (m.title.as_str(), m.body.as_str(), m.template_id.as_deref()),
        ("Water", "Off on Monday", None)
    );
    assert_eq!((m.sent_at_ms, m.read), (10, false));
    assert!(s.inbox("d", false, 10).unwrap().is_empty());
    // Delivering again sends nobody anything.
    assert_eq!(s.deliver_broadcast("b1", &mut ids).unwrap(), count);
    assert_eq!(s.inbox("b", false, 10).unwrap().len(), 1);

    // One broadcast a month each: the second of the month is skipped, the
    // next month's delivered.
    s.start_broadcast("b2", &sender(), "Roads", "Closed", "2026-11", 1, 20)
        .unwrap();
    assert_eq!(
        s.deliver_broadcast("b2", &mut ids).unwrap(),
        BroadcastCount {
            delivered: 1,
            skipped: 2
        }
    );
    s.start_broadcast("b3", &sender(), "Roads", "Open", "2026-12", 1, 30)
        .unwrap();
    assert_eq!(
        s.deliver_broadcast("b3", &mut ids).unwrap(),
        BroadcastCount {
            delivered: 3,
            skipped: 0
        }
    );
    for (u, received) in [("a", 2), ("b", 2), ("c", 0), ("d", 2)] {
        assert_eq!(s.inbox(u, false, 10).unwrap().len(), received, "{u}");
    }
}

pub(crate) fn followers_over_the_quota_get_no_row_and_past_months_rows_are_pruned(s: &dyn Store) {
    for u in ["a", "b"] {
        s.set_following(u, "cn.city", true, 0).unwrap();
    }
    let mut n = 0;
    let mut ids = || {
        n += 1;
        format!("m{n}")
    };
    let count = |delivered, skipped| BroadcastCount { delivered, skipped };
    s.start_broadcast("b1", &sender(), "Water", "Off", "2026-11", 1, 10)
        .unwrap();
    assert_eq!(s.deliver_broadcast("b1", &mut ids).unwrap(), count(2, 0));
    assert_eq!(s.broadcast_recipient_rows().unwrap(), 2);
    // Both had their one broadcast this month: counted, no row written.
    s.start_broadcast("b2", &sender(), "Roads", "Closed", "2026-11", 1, 20)
        .unwrap();
    assert_eq!(s.broadcast_recipient_rows().unwrap(), 2);
    assert_eq!(s.deliver_broadcast("b2", &mut ids).unwrap(), count(0, 2));
    assert_eq!(s.broadcast_recipient_rows().unwrap(), 2);
    // A broadcast of the next month, interrupted after its start: its rows
    // are kept until it is finished, and resuming sends nobody two.
    s.start_broadcast("b3", &sender(), "Roads", "Open", "2026-12", 1, 30)
        .unwrap();
    assert_eq!(s.unfinished_broadcasts().unwrap(), ["b3"]);
    assert_eq!(s.broadcast_recipient_rows().unwrap(), 4);
    assert_eq!(s.deliver_broadcast("b3", &mut ids).unwrap(), count(2, 0));
    // Finished, and last month's rows pruned.
    assert!(s.unfinished_broadcasts().unwrap().is_empty());
    assert_eq!(s.broadcast_recipient_rows().unwrap(), 2);
    assert_eq!(s.deliver_broadcast("b3", &mut ids).unwrap(), count(2, 0));
    for u in ["a", "b"] {
        assert_eq!(s.inbox(u, false, 10).unwrap().len(), 2, "{u}");
    }
}

pub(crate) fn a_user_message_is_set_aside_after_its_attempts(s: &dyn Store) {
    s.record_user_message("u1", "ann", "cn.city", "poison", 10)
        .unwrap();
    s.record_user_message("u2", "ann", "cn.city", "hello", 20)
        .unwrap();
    assert_eq!(s.count_user_message_attempt("u1").unwrap(), 1);
    assert_eq!(s.count_user_message_attempt("u1").unwrap(), 2);
    assert_eq!(s.count_user_message_attempt("u2").unwrap(), 1);
    s.set_user_message_aside("u1").unwrap();
    assert_eq!(
        s.undelivered_user_messages("ann", "cn.city").unwrap(),
        [("u2".to_string(), "hello".to_string(), 20)]
    );
    // Set aside is not delivered, and still opened the reply window.
    assert_eq!(s.last_user_message_at("ann", "cn.city").unwrap(), Some(20));
    s.mark_user_message_delivered("u2").unwrap();
    assert!(
        s.undelivered_user_messages("ann", "cn.city")
            .unwrap()
            .is_empty()
    );
}

pub(crate) fn user_messages_and_replies_reach_each_side_once(s: &dyn Store) {
    assert_eq!(s.last_user_message_at("ann", "cn.city").unwrap(), None);
    s.record_user_message("u1", "ann", "cn.city", "hello", 10)
        .unwrap();
    s.record_user_message("u2", "ann", "cn.city", "again", 20)
        .unwrap();
    s.record_user_message("u3", "ann", "other.app", "elsewhere", 30)
        .unwrap();
    assert_eq!(s.last_user_message_at("ann", "cn.city").unwrap(), Some(20));
    assert_eq!(
        s.undelivered_user_messages("ann", "cn.city").unwrap(),
        [
            ("u1".to_string(), "hello".to_string(), 10),
            ("u2".to_string(), "again".to_string(), 20),
        ]
    );
    s.mark_user_message_delivered("u1").unwrap();
    assert_eq!(
        s.undelivered_user_messages("ann", "cn.city").unwrap(),
        [("u2".to_string(), "again".to_string(), 20)]
    );
    assert!(
        s.undelivered_user_messages("bob", "cn.city")
            .unwrap()
            .is_empty()
    );

    for (id, at) in [("r1", 40), ("r2", 50)] {
        s.deliver_message(
            id,
            "ann",
            &sender(),
            "conversation",
            "Reply",
            "hi",
            "2026-11",
            at,
        )
        .unwrap();
    }
    let ids = |unread_only: bool, limit: usize| -> Vec<String> {
        s.inbox("ann", unread_only, limit)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    assert_eq!(ids(false, 10), ["r2", "r1"]);
    assert_eq!(ids(false, 1), ["r2"]);
    assert!(s.mark_read("ann", "r2").unwrap());
    assert!(!s.mark_read("bob", "r1").unwrap());
    assert!(!s.mark_read("ann", "nope").unwrap());
    assert_eq!(ids(true, 10), ["r1"]);
    let newest = &s.inbox("ann", false, 1).unwrap()[0];
    assert_eq!(
        (
            newest.kind.as_str(),
            newest.title.as_str(),
            newest.body.as_str(),
            newest.read
        ),
        ("conversation", "Reply", "hi", true)
    );
}

// Identity and trust.

pub(crate) fn publishers_round_trip_and_replace(s: &dyn Store) {
    let mut p = PublisherRecord {
        id: "cn.hz.health".into(),
        name: "Health".into(),
        category: Category::Medical,
        verified: true,
        public_key: "ab".repeat(32),
        added_at_ms: 5,
    };
    s.put_publisher(&p).unwrap();
    assert_eq!(s.get_publisher("cn.hz.health").unwrap(), Some(p.clone()));
    p.verified = false;
    s.put_publisher(&p).unwrap();
    assert_eq!(s.list_publishers().unwrap(), vec![p]);
    assert!(s.delete_publisher("cn.hz.health").unwrap());
    assert!(!s.delete_publisher("cn.hz.health").unwrap());
    assert_eq!(s.get_publisher("cn.hz.health").unwrap(), None);
}

pub(crate) fn app_secrets_round_trip_and_replace(s: &dyn Store) {
    assert_eq!(s.app_secret("a.b").unwrap(), None);
    s.put_app_secret("a.b", "hash-1", 1).unwrap();
    assert_eq!(s.app_secret("a.b").unwrap().as_deref(), Some("hash-1"));
    s.put_app_secret("a.b", "hash-2", 2).unwrap();
    assert_eq!(s.app_secret("a.b").unwrap().as_deref(), Some("hash-2"));
    assert_eq!(s.app_secret("c.d").unwrap(), None);
}

pub(crate) fn login_codes_are_single_use_expire_and_belong_to_one_app(s: &dyn Store) {
    let rec = LoginCodeRecord {
        code_sha256: "h1".into(),
        app: "a.b".into(),
        user: "alice".into(),
        publisher: "a.pub".into(),
        issued_at_ms: 1_000,
        expires_at_ms: 301_000,
    };
    s.put_login_code(&rec).unwrap();
    assert_eq!(s.live_login_codes("a.b", "alice", 2_000).unwrap(), 1);
    assert_eq!(s.live_login_codes("a.b", "bob", 2_000).unwrap(), 0);
    assert_eq!(
        s.take_login_code("other.app", "h1", 2_000).unwrap(),
        LoginCodeTake::Unknown
    );
    assert_eq!(
        s.take_login_code("a.b", "h1", 2_000).unwrap(),
        LoginCodeTake::Taken(rec.clone())
    );
    assert_eq!(
        s.take_login_code("a.b", "h1", 3_000).unwrap(),
        LoginCodeTake::Used
    );
    assert_eq!(s.live_login_codes("a.b", "alice", 3_000).unwrap(), 0);
    s.put_login_code(&LoginCodeRecord {
        code_sha256: "h2".into(),
        ..rec
    })
    .unwrap();
    assert_eq!(
        s.take_login_code("a.b", "h2", 301_000).unwrap(),
        LoginCodeTake::Expired {
            expires_at_ms: 301_000
        }
    );
}

pub(crate) fn user_profile_round_trips(s: &dyn Store) {
    assert_eq!(s.user_profile("u").unwrap(), None);
    let p = UserProfile {
        nickname: Some("Na".into()),
        location: Some(GeoPoint {
            latitude: 30.25,
            longitude: 120.16,
            accuracy_m: 12.0,
        }),
        ..UserProfile::default()
    };
    s.put_user_profile("u", &p, 1).unwrap();
    assert_eq!(s.user_profile("u").unwrap(), Some(p));
}

pub(crate) fn an_app_id_is_its_first_publishers_until_released(s: &dyn Store) {
    let owner = |app: &str| s.app_id_owner(app).unwrap();
    assert_eq!(owner("a.b"), None);
    assert_eq!(s.release_app_id("a.b").unwrap(), ReleaseResult::Unknown);
    s.put_package(&package("a.b", "1.0.0")).unwrap();
    let claimed = owner("a.b").unwrap();
    assert_eq!(claimed.publisher_id.as_deref(), Some("a"));
    assert_eq!((claimed.generation, claimed.claimed_at_ms), (0, 5));
    assert_eq!(s.release_app_id("a.b").unwrap(), ReleaseResult::Installed);
    // Uninstalled, the id stays the publisher's: another's package under it
    // is refused, the owner's is taken.
    assert!(s.delete_package("a.b").unwrap());
    assert_eq!(owner("a.b"), Some(claimed.clone()));
    let rivals = PackageRecord {
        publisher_id: "b".into(),
        ..package("a.b", "2.0.0")
    };
    assert!(s.put_package(&rivals).is_err());
    assert!(s.package_info("a.b").unwrap().is_none());
    s.put_package(&package("a.b", "1.1.0")).unwrap();
    assert!(s.delete_package("a.b").unwrap());
    // Released, the next install claims it, one generation on.
    assert_eq!(
        s.release_app_id("a.b").unwrap(),
        ReleaseResult::Released {
            previous_owner: Some("a".into()),
            generation: 1
        }
    );
    assert_eq!(owner("a.b").unwrap().publisher_id, None);
    s.put_package(&rivals).unwrap();
    let reclaimed = owner("a.b").unwrap();
    assert_eq!(reclaimed.publisher_id.as_deref(), Some("b"));
    assert_eq!(reclaimed.generation, 1);
    assert!(s.put_package(&package("a.b", "3.0.0")).is_err());
    assert_eq!(owner("c.d"), None);
}

pub(crate) fn a_release_erases_the_users_data_and_keeps_the_money_apart(s: &dyn Store) {
    const OTHER: &str = "cn.hz.other";
    let keys = TestKeys::new();
    let installed = |app: &str| PackageRecord {
        publisher_id: PUBLISHER.into(),
        ..package(app, "1.0.0")
    };
    s.top_up("t0", "ann", 10_000, "CNY", 0).unwrap();
    for app in [APP, OTHER] {
        s.put_package(&installed(app)).unwrap();
        s.kv_set("ann", app, "note", b"secret", 1_000).unwrap();
        s.put_consent(&ConsentRecord {
            user: "ann".into(),
            app: app.into(),
            scope: "phone".into(),
            granted: true,
            decided_at_ms: 1,
        })
        .unwrap();
        s.accept_template("ann", app, "notice", true, 1).unwrap();
        s.accept_template("bob", app, "notice", false, 1).unwrap();
        s.set_following("ann", app, true, 1).unwrap();
        s.record_user_message(&format!("u-{app}"), "ann", app, "hello", 1)
            .unwrap();
        s.put_app_secret(app, "hash", 1).unwrap();
        s.put_login_code(&LoginCodeRecord {
            code_sha256: format!("code-{app}"),
            app: app.into(),
            user: "ann".into(),
            publisher: PUBLISHER.into(),
            issued_at_ms: 1,
            expires_at_ms: 1_000_000,
        })
        .unwrap();
    }
    let first = paid(
        s.pay(&pay_cmd("t1", "ann", "o1", 1_000, 2), &|m| keys.sign(m))
            .unwrap(),
    );
    let sent = |user: &str, app: &str| {
        let sender = Sender {
            app_id: app.into(),
            ..sender()
        };
        s.send_subscription("m", user, &sender, "notice", "t", "b", "2026-11", 3)
            .unwrap()
    };
    s.delete_package(APP).unwrap();
    assert!(matches!(
        s.release_app_id(APP).unwrap(),
        ReleaseResult::Released { generation: 1, .. }
    ));

    // Everything the users had with the released id is gone ...
    assert_eq!(s.kv_get("ann", APP, "note").unwrap(), None);
    assert_eq!(s.kv_usage("ann", APP).unwrap(), KvUsage::default());
    assert_eq!(s.get_consent("ann", APP, "phone").unwrap(), None);
    assert_eq!(sent("ann", APP), SendResult::NoSubscription);
    assert_eq!(sent("bob", APP), SendResult::NoSubscription);
    assert!(s.followers(APP).unwrap().is_empty());
    assert!(s.undelivered_user_messages("ann", APP).unwrap().is_empty());
    assert_eq!(s.app_secret(APP).unwrap(), None);
    assert_eq!(
        s.take_login_code(APP, &format!("code-{APP}"), 5).unwrap(),
        LoginCodeTake::Unknown
    );
    // ... and nothing of another mini-app's.
    assert_eq!(
        s.kv_get("ann", OTHER, "note").unwrap(),
        Some(b"secret".to_vec())
    );
    assert!(s.get_consent("ann", OTHER, "phone").unwrap().is_some());
    assert_eq!(s.followers(OTHER).unwrap(), ["ann"]);
    assert_eq!(s.undelivered_user_messages("ann", OTHER).unwrap().len(), 1);
    assert_eq!(s.app_secret(OTHER).unwrap().as_deref(), Some("hash"));
    assert!(matches!(
        s.take_login_code(OTHER, &format!("code-{OTHER}"), 5)
            .unwrap(),
        LoginCodeTake::Taken(_)
    ));
    assert!(matches!(sent("ann", OTHER), SendResult::Sent(_)));

    // The payment stays, in generation 0, out of generation 1's reach.
    assert_eq!(s.payment(APP, 0, "o1").unwrap(), Some(first.clone()));
    assert_eq!(s.payment(APP, 1, "o1").unwrap(), None);
    assert_eq!(s.payments(APP, 1, "ann", None, 10).unwrap(), Some(vec![]));
    let refund = RefundCommand {
        generation: 1,
        ..refund_cmd("t2", "ann", "o1", 500, 4)
    };
    assert_eq!(s.refund(&refund).unwrap(), RefundResult::NotFound);
    // Generation 1 pays its own order o1, to its own publisher.
    let again = PayCommand {
        generation: 1,
        publisher_id: "cn.rival".into(),
        ..pay_cmd("t3", "ann", "o1", 300, 5)
    };
    let second = paid(s.pay(&again, &|m| keys.sign(m)).unwrap());
    assert_ne!(second.receipt.transaction_id, first.receipt.transaction_id);
    assert_eq!(
        s.payments(APP, 1, "ann", None, 10).unwrap(),
        Some(vec![second])
    );
    assert_eq!(s.payment(APP, 0, "o1").unwrap(), Some(first));
    assert_eq!(s.balance(&merchant_account(PUBLISHER)).unwrap(), 1_000);
    assert_eq!(s.balance(&merchant_account("cn.rival")).unwrap(), 300);
    let report = s.verify_ledger(&|m, sig| keys.verify(m, sig)).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}

// The user's rights.

pub(crate) fn access_counts_follow_the_audit_log_per_user_app_and_outcome(s: &dyn Store) {
    let entry = |at_ms: i64, user: &str, app: &str, what: &str, outcome: Outcome| AuditEntry {
        at_ms,
        user: user.into(),
        app: app.into(),
        session: "s1".into(),
        capability: what.into(),
        outcome,
        detail: "d".into(),
    };
    for e in [
        entry(5, "u", "a.b", "identity.phone", Outcome::Allowed),
        entry(9, "u", "a.b", "identity.phone", Outcome::Allowed),
        entry(7, "u", "a.b", "identity.phone", Outcome::Denied),
        entry(3, "u", "c.d", "storage", Outcome::Allowed),
        entry(4, "v", "a.b", "storage", Outcome::Allowed),
    ] {
        s.append_audit(&e).unwrap();
    }
    let count = |app: &str, what: &str, outcome, count, last_at_ms| AccessCount {
        app: app.into(),
        what: what.into(),
        outcome,
        count,
        last_at_ms,
    };
    assert_eq!(
        s.access_counts("u", None).unwrap(),
        [
            count("a.b", "identity.phone", Outcome::Allowed, 2, 9),
            count("a.b", "identity.phone", Outcome::Denied, 1, 7),
            count("c.d", "storage", Outcome::Allowed, 1, 3),
        ]
    );
    assert_eq!(
        s.access_counts("u", Some("c.d")).unwrap(),
        [count("c.d", "storage", Outcome::Allowed, 1, 3)]
    );
    assert!(s.access_counts("w", None).unwrap().is_empty());
}

/// `user` holds something of every kind in `APP` (storage, a consent, a
/// subscription, a follow, a message to it, a login code, an inbox message,
/// a payment and its refund), and `other` one key there.
fn give_data_of_every_kind(s: &dyn Store, user: &str, other: &str) {
    s.kv_set(user, APP, "note", b"hello", 10_000).unwrap();
    s.kv_set(user, APP, "raw", &[0xff], 10_000).unwrap();
    s.kv_set(other, APP, "note", b"theirs", 10_000).unwrap();
    s.put_consent(&ConsentRecord {
        user: user.into(),
        app: APP.into(),
        scope: "phone".into(),
        granted: true,
        decided_at_ms: 1,
    })
    .unwrap();
    s.accept_template(user, APP, "reminder", false, 2).unwrap();
    s.set_following(user, APP, true, 3).unwrap();
    s.record_user_message("chat-1", user, APP, "hi", 4).unwrap();
    s.put_login_code(&LoginCodeRecord {
        code_sha256: "h1".into(),
        app: APP.into(),
        user: user.into(),
        publisher: PUBLISHER.into(),
        issued_at_ms: 5,
        expires_at_ms: 300_005,
    })
    .unwrap();
    let sender = Sender {
        app_id: APP.into(),
        app_name: "Clinic".into(),
        publisher_name: "Hangzhou Clinic".into(),
        link: None,
    };
    s.deliver_message(
        "msg-1",
        user,
        &sender,
        "conversation",
        "Reply",
        "hello",
        "2026-11",
        6,
    )
    .unwrap();
    let keys = TestKeys::new();
    s.top_up("tx-0", user, 10_000, "CNY", 7).unwrap();
    paid(
        s.pay(&pay_cmd("tx-1", user, "o1", 3_000, 8), &|m| keys.sign(m))
            .unwrap(),
    );
    refunded(s.refund(&refund_cmd("tx-2", user, "o1", 1_000, 9)).unwrap());
}

pub(crate) fn user_records_hold_every_kind_of_data_of_one_user(s: &dyn Store) {
    give_data_of_every_kind(s, "ann", "bob");
    let r = s.user_records("ann", None).unwrap();
    assert_eq!(
        r.storage,
        [
            StoredValue {
                app: APP.into(),
                key: "note".into(),
                value: b"hello".to_vec()
            },
            StoredValue {
                app: APP.into(),
                key: "raw".into(),
                value: vec![0xff]
            },
        ]
    );
    assert_eq!(r.consents.len(), 1);
    assert_eq!(r.consents[0].scope, "phone");
    assert_eq!(
        r.subscriptions,
        [SubscriptionRecord {
            app: APP.into(),
            template: "reminder".into(),
            long_term: false,
            remaining: 1,
            updated_at_ms: 2
        }]
    );
    assert_eq!(
        r.follows,
        [FollowRecord {
            app: APP.into(),
            followed_at_ms: 3
        }]
    );
    assert_eq!(r.conversation.len(), 1);
    assert_eq!(r.conversation[0].text, "hi");
    assert!(!r.conversation[0].delivered);
    assert_eq!(
        r.login_codes,
        [LoginCodeInfo {
            app: APP.into(),
            issued_at_ms: 5,
            expires_at_ms: 300_005,
            used_at_ms: None
        }]
    );
    assert_eq!(r.inbox.len(), 1);
    assert_eq!(r.payments.len(), 1);
    assert_eq!(r.payments[0].refunded, 1_000);
    assert_eq!(r.refunds.len(), 1);
    assert_eq!(r.refunds[0].amount, 1_000);
    // Another mini-app's filter sees nothing; the other user only their key.
    assert_eq!(
        s.user_records("ann", Some("other.app")).unwrap(),
        UserRecords::default()
    );
    let bob = s.user_records("bob", None).unwrap();
    assert_eq!(bob.storage.len(), 1);
    assert!(bob.payments.is_empty() && bob.consents.is_empty());
}

pub(crate) fn erasing_takes_one_apps_data_moves_the_epoch_and_keeps_the_money(s: &dyn Store) {
    give_data_of_every_kind(s, "ann", "bob");
    s.kv_set("ann", "other.app", "k", b"v", 10_000).unwrap();
    assert_eq!(s.identity_epoch("ann", APP).unwrap(), 0);
    assert_eq!(s.erased_at_ms("ann", APP).unwrap(), None);
    let erased = s.erase_user_app("ann", APP, 20).unwrap();
    assert_eq!(
        erased,
        Erased {
            storage_keys: 2,
            consents: 1,
            subscriptions: 1,
            follows: 1,
            conversation: 1,
            login_codes: 1,
            media_files: 0,
            identity_epoch: 1,
        }
    );
    assert_eq!(s.identity_epoch("ann", APP).unwrap(), 1);
    assert_eq!(s.erased_at_ms("ann", APP).unwrap(), Some(20));
    assert_eq!(s.identity_epoch("bob", APP).unwrap(), 0);
    let r = s.user_records("ann", Some(APP)).unwrap();
    assert!(r.storage.is_empty() && r.consents.is_empty() && r.subscriptions.is_empty());
    assert!(r.follows.is_empty() && r.conversation.is_empty() && r.login_codes.is_empty());
    assert_eq!(s.kv_usage("ann", APP).unwrap(), KvUsage::default());
    assert_eq!(s.get_consent("ann", APP, "phone").unwrap(), None);
    assert!(s.followers(APP).unwrap().is_empty());
    assert!(s.undelivered_user_messages("ann", APP).unwrap().is_empty());
    assert_eq!(
        s.take_login_code(APP, "h1", 10).unwrap(),
        LoginCodeTake::Unknown
    );
    // The money and the user's inbox stay; the ledger is sound.
    assert_eq!(r.payments.len(), 1);
    assert_eq!(r.refunds.len(), 1);
    assert_eq!(r.inbox.len(), 1);
    let keys = TestKeys::new();
    assert!(
        s.verify_ledger(&|m, sig| keys.verify(m, sig))
            .unwrap()
            .is_clean()
    );
    // Other mini-apps and other users keep theirs.
    assert_eq!(
        s.kv_get("ann", "other.app", "k").unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(
        s.kv_get("bob", APP, "note").unwrap(),
        Some(b"theirs".to_vec())
    );
    // A second erasure moves the epoch on again.
    assert_eq!(s.erase_user_app("ann", APP, 30).unwrap().identity_epoch, 2);
    assert_eq!(s.erased_at_ms("ann", APP).unwrap(), Some(30));
}

// The outbox of payment notifications.

/// After a migration: a payment writes its notification, which is claimed
/// and delivered.
pub(crate) fn outbox_works(s: &dyn Store) {
    s.top_up("t-ow", "ow", 1_000, "CNY", 1).unwrap();
    let notice =
        |p: &PaymentRecord| notice_of("payment", &p.receipt.transaction_id, &p.receipt.order_id, 2);
    paid(
        s.pay_audited(
            &pay_cmd("p-ow", "ow", "o-ow", 100, 2),
            &|_| "sig".into(),
            None,
            Some(&notice),
        )
        .unwrap(),
    );
    let claimed = s.claim_notifications(2, 10, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(s.notification_delivered(&claimed[0].id, 3).unwrap());
}

/// The notification of a payment or refund, as the host makes it: its id
/// from the transaction's.
fn notice_of(kind: &str, tx_id: &str, order_id: &str, at_ms: i64) -> NotificationRecord {
    NotificationRecord::new(
        format!("ntf-{tx_id}"),
        APP.into(),
        "https://pay.hz.example/notify".into(),
        format!(r#"{{"kind":"{kind}","order_id":"{order_id}"}}"#),
        at_ms,
    )
}

/// A payment's and a refund's notification is written with the money, and
/// only when money moves; it is due at once, never attempted.
pub(crate) fn a_notification_is_written_with_the_money_that_moved_and_only_then(s: &dyn Store) {
    let sign = |_: &[u8]| "sig".to_string();
    let pay_notice =
        |p: &PaymentRecord| notice_of("payment", &p.receipt.transaction_id, &p.receipt.order_id, 2);
    let refund_notice = |r: &RefundRecord| notice_of("refund", &r.tx_id, &r.order_id, 3);
    s.top_up("t1", "ann", 1_000, "CNY", 1).unwrap();
    let cmd = pay_cmd("p1", "ann", "o1", 600, 2);
    paid(s.pay_audited(&cmd, &sign, None, Some(&pay_notice)).unwrap());
    // Nothing moves: no notification.
    assert!(matches!(
        s.pay_audited(&cmd, &sign, None, Some(&pay_notice)).unwrap(),
        PayResult::AlreadyPaid(_)
    ));
    assert!(matches!(
        s.pay_audited(
            &pay_cmd("p2", "ann", "o2", 600, 2),
            &sign,
            None,
            Some(&pay_notice)
        )
        .unwrap(),
        PayResult::InsufficientFunds { .. }
    ));
    let with_id = RefundCommand {
        refund_id: Some("rf-1".into()),
        ..refund_cmd("r1", "ann", "o1", 100, 3)
    };
    refunded(
        s.refund_audited(&with_id, None, Some(&refund_notice))
            .unwrap(),
    );
    // A retried refund id moves nothing: no second notification.
    let retry = RefundCommand {
        tx_id: "r1-again".into(),
        ..with_id.clone()
    };
    assert!(matches!(
        s.refund_audited(&retry, None, Some(&refund_notice))
            .unwrap(),
        RefundResult::Repeated(_)
    ));
    assert!(matches!(
        s.refund_audited(
            &refund_cmd("r2", "ann", "o1", 600, 3),
            None,
            Some(&refund_notice)
        )
        .unwrap(),
        RefundResult::TooMuch { .. }
    ));
    let all = s.notifications(APP, 10).unwrap();
    let ids: Vec<&str> = all.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["ntf-p1", "ntf-r1"]);
    assert_eq!(all[0].body, r#"{"kind":"payment","order_id":"o1"}"#);
    assert_eq!(all[1], notice_of("refund", "r1", "o1", 3));
    assert_eq!(s.notification("ntf-r1").unwrap().as_ref(), Some(&all[1]));
    assert_eq!(s.notification("ntf-r2").unwrap(), None);
    assert!(s.notifications("cn.other", 10).unwrap().is_empty());
    // A failed write of the notification takes the payment with it.
    let clash = |_: &PaymentRecord| notice_of("payment", "p1", "o3", 4);
    s.top_up("t2", "ann", 1_000, "CNY", 4).unwrap();
    assert!(
        s.pay_audited(
            &pay_cmd("p3", "ann", "o3", 500, 4),
            &sign,
            None,
            Some(&clash)
        )
        .is_err()
    );
    assert_eq!(s.payment(APP, 0, "o3").unwrap(), None);
    assert_eq!(
        s.balance(&wallet_account("ann")).unwrap(),
        1_000 - 600 + 100 + 1_000
    );
}

/// Claims take the due notifications, oldest first, up to the limit, and
/// lease them: not claimed again until the lease lapses, or until a failed
/// attempt makes them due again; a delivered one never again.
pub(crate) fn a_claim_leases_due_notifications_until_delivered_or_due_again(s: &dyn Store) {
    let sign = |_: &[u8]| "sig".to_string();
    s.top_up("t1", "ann", 10_000, "CNY", 1).unwrap();
    for (i, at) in [(1, 10), (2, 20), (3, 30)] {
        let notice = move |p: &PaymentRecord| {
            notice_of(
                "payment",
                &p.receipt.transaction_id,
                &p.receipt.order_id,
                at,
            )
        };
        paid(
            s.pay_audited(
                &pay_cmd(&format!("p{i}"), "ann", &format!("o{i}"), 100, at),
                &sign,
                None,
                Some(&notice),
            )
            .unwrap(),
        );
    }
    let ids = |v: &[NotificationRecord]| v.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
    // Not yet due.
    assert!(s.claim_notifications(5, 100, 10).unwrap().is_empty());
    // Due: the two oldest, each with its attempt counted and leased.
    let first = s.claim_notifications(25, 100, 10).unwrap();
    assert_eq!(ids(&first), ["ntf-p1", "ntf-p2"]);
    assert!(
        first
            .iter()
            .all(|n| n.attempts == 1 && n.next_attempt_at_ms == 100)
    );
    // Leased: only the third is left, and the limit holds.
    assert_eq!(ids(&s.claim_notifications(40, 100, 1).unwrap()), ["ntf-p3"]);
    assert!(s.claim_notifications(99, 200, 10).unwrap().is_empty());
    // The first is delivered; the second fails and is due again at 150.
    assert!(s.notification_delivered("ntf-p1", 50).unwrap());
    assert!(!s.notification_delivered("ntf-p1", 60).unwrap());
    s.notification_failed("ntf-p2", 150, "HTTP 500").unwrap();
    let p2 = s.notification("ntf-p2").unwrap().unwrap();
    assert_eq!(
        (p2.next_attempt_at_ms, p2.last_error.as_deref()),
        (150, Some("HTTP 500"))
    );
    // A failure reported for a delivered notification changes nothing.
    s.notification_failed("ntf-p1", 10_000, "late").unwrap();
    let p1 = s.notification("ntf-p1").unwrap().unwrap();
    assert_eq!((p1.delivered_at_ms, p1.last_error), (Some(50), None));
    // At 150: the second again (its second attempt); the third's lease
    // (100) has lapsed, so it is claimed again too (its sender died).
    let again = s.claim_notifications(150, 300, 10).unwrap();
    assert_eq!(ids(&again), ["ntf-p2", "ntf-p3"]);
    assert!(again.iter().all(|n| n.attempts == 2));
    assert!(s.notification_delivered("ntf-p2", 160).unwrap());
    assert!(s.notification_delivered("ntf-p3", 160).unwrap());
    // Delivered: never claimed again.
    assert!(
        s.claim_notifications(i64::MAX, i64::MAX, 10)
            .unwrap()
            .is_empty()
    );
    let all = s.notifications(APP, 10).unwrap();
    assert!(all.iter().all(|n| n.delivered_at_ms.is_some()));
    assert_eq!(s.notifications(APP, 2).unwrap().len(), 2);
}

/// Claims from several threads at once (nodes, on PostgreSQL) share the due
/// notifications out: each is claimed exactly once.
pub(crate) fn concurrent_claims_never_take_one_notification_twice(s: &dyn Store) {
    let sign = |_: &[u8]| "sig".to_string();
    s.top_up("t1", "ann", 100_000, "CNY", 1).unwrap();
    let notice =
        |p: &PaymentRecord| notice_of("payment", &p.receipt.transaction_id, &p.receipt.order_id, 5);
    for i in 0..40 {
        paid(
            s.pay_audited(
                &pay_cmd(&format!("p{i}"), "ann", &format!("o{i}"), 10, 5),
                &sign,
                None,
                Some(&notice),
            )
            .unwrap(),
        );
    }
    let claimed: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let batch = s.claim_notifications(10, 1_000, 3).unwrap();
                        if batch.is_empty() {
                            break mine;
                        }
                        mine.extend(batch.into_iter().map(|n| n.id));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut sorted = claimed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 40, "every notification claimed");
    assert_eq!(claimed.len(), 40, "none claimed twice");
}

// Media files.

fn media_record(id: &str, user: &str, app: &str, size: usize, at_ms: i64) -> MediaRecord {
    MediaRecord {
        id: id.into(),
        user: user.into(),
        app: app.into(),
        kind: "jpeg".into(),
        name: format!("{id}.jpg"),
        size: size as u64,
        created_at_ms: at_ms,
    }
}

/// A file is kept, read back with its record, listed and deleted.
pub(crate) fn media_works(s: &dyn Store) {
    let bytes = b"\xFF\xD8\xFFjpeg".to_vec();
    let record = media_record("m1", "ann", APP, bytes.len(), 5);
    assert_eq!(
        s.media_put(&record, &bytes, 10_000).unwrap(),
        MediaPut::Stored
    );
    assert_eq!(
        s.media_get("ann", APP, "m1").unwrap(),
        Some((record.clone(), bytes.clone()))
    );
    assert_eq!(s.media_list("ann", APP).unwrap(), vec![record]);
    assert!(s.media_delete("ann", APP, "m1").unwrap());
    assert!(!s.media_delete("ann", APP, "m1").unwrap());
    assert_eq!(s.media_get("ann", APP, "m1").unwrap(), None);
    assert_eq!(s.kv_usage("ann", APP).unwrap().bytes, 0);
}

/// Files count in the (user, app)'s usage with their overhead, so values
/// and files share one quota; a file over it is not kept. Another user or
/// another mini-app never reaches a file by its id.
pub(crate) fn files_and_values_share_the_quota_and_files_belong_to_one_user_and_app(s: &dyn Store) {
    let quota = 1_000;
    let file = vec![0xFFu8; 600];
    assert_eq!(
        s.media_put(&media_record("m1", "ann", APP, 600, 1), &file, quota)
            .unwrap(),
        MediaPut::Stored
    );
    assert_eq!(
        s.kv_usage("ann", APP).unwrap().bytes,
        600 + MEDIA_FILE_OVERHEAD_BYTES
    );
    // A value that would take the total over the quota is refused.
    assert!(matches!(
        s.kv_set("ann", APP, "k", &[0; 300], quota).unwrap(),
        KvWrite::OverQuota { .. }
    ));
    s.kv_set("ann", APP, "k", &[0; 100], quota).unwrap();
    let used = 600 + MEDIA_FILE_OVERHEAD_BYTES + kv_entry_size("k", &[0; 100]);
    assert_eq!(
        s.media_put(&media_record("m2", "ann", APP, 200, 2), &file[..200], quota)
            .unwrap(),
        MediaPut::OverQuota {
            used,
            would_use: used + 200 + MEDIA_FILE_OVERHEAD_BYTES,
            quota
        }
    );
    assert_eq!(s.media_list("ann", APP).unwrap().len(), 1);
    // Another user's and another app's space are their own.
    assert_eq!(s.media_get("bob", APP, "m1").unwrap(), None);
    assert_eq!(s.media_get("ann", "other.app", "m1").unwrap(), None);
    assert!(!s.media_delete("bob", APP, "m1").unwrap());
    assert!(s.media_list("bob", APP).unwrap().is_empty());
    // Deleting the file gives its bytes back to the quota.
    assert!(s.media_delete("ann", APP, "m1").unwrap());
    assert_eq!(
        s.kv_usage("ann", APP).unwrap().bytes,
        kv_entry_size("k", &[0; 100])
    );
}

/// Erasing one mini-app's data about a user deletes that user's files
/// there, and only there; the user's records list files without bytes.
pub(crate) fn erasing_deletes_the_files_and_the_export_lists_them(s: &dyn Store) {
    let jpeg = b"\xFF\xD8\xFFa".to_vec();
    for (id, user, app) in [
        ("m1", "ann", APP),
        ("m2", "ann", APP),
        ("m3", "ann", "other.app"),
        ("m4", "bob", APP),
    ] {
        s.media_put(&media_record(id, user, app, jpeg.len(), 1), &jpeg, 10_000)
            .unwrap();
    }
    let records = s.user_records("ann", None).unwrap();
    let ids: Vec<&str> = records.media.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert_eq!(records.media[0].size, jpeg.len() as u64);
    let erased = s.erase_user_app("ann", APP, 5).unwrap();
    assert_eq!(erased.media_files, 2);
    assert_eq!(s.media_get("ann", APP, "m1").unwrap(), None);
    assert_eq!(s.kv_usage("ann", APP).unwrap(), KvUsage::default());
    assert!(s.media_get("ann", "other.app", "m3").unwrap().is_some());
    assert!(s.media_get("bob", APP, "m4").unwrap().is_some());
    assert_eq!(s.user_records("ann", Some(APP)).unwrap().media, vec![]);
}
