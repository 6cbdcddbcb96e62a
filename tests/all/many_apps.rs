//! Many installed mini-apps on one host: none is loaded when the host opens,
//! each loads at its first use, and past the cap on compiled code the least
//! recently used one that no session holds is unloaded, and loads again at
//! its next use.

use crate::support::*;
use plaza_test_programs::BENCH_APP;

/// The bench-app's component under app id `test.plaza.many-NN`.
fn many_app(i: usize) -> plaza_host::package::Package {
    let id = app(i);
    package_with_manifest(
        &BENCH_APP,
        &manifest_replacing(
            &BENCH_APP,
            "id = \"test.plaza.bench-app\"",
            &format!("id = \"{id}\""),
        ),
    )
}

fn app(i: usize) -> String {
    format!("test.plaza.many-{i:02}")
}

/// A host with `n` copies of the bench-app installed, reopened (a restart)
/// with `adjust`: what a node finds when it starts.
async fn restarted_with(
    n: usize,
    adjust: impl FnOnce(plaza_host::HostConfig) -> plaza_host::HostConfig,
) -> TestHost {
    let t = host();
    for i in 0..n {
        t.host.install(many_app(i)).await.expect("install");
    }
    t.reopen(adjust)
}

/// The loaded mini-apps, most recently used first.
fn loaded(t: &TestHost) -> Vec<String> {
    t.host.loaded_apps().into_iter().map(|a| a.app_id).collect()
}

/// A session of `app` launched, one `work` tap (storage), closed; the
/// counter the tap answered.
async fn use_app(t: &TestHost, app: &str) -> String {
    let s = t.host.session("ann", app).unwrap();
    assert_eq!(s.launch("/").await.unwrap().title, "Bench");
    let page = s.tap("work").await.unwrap();
    s.close().await;
    field(&page, "Counter").unwrap()
}

#[tokio::test]
async fn a_host_with_many_installed_apps_opens_without_loading_any_and_loads_each_at_first_use() {
    let t = restarted_with(30, |c| c).await;
    assert_eq!(t.host.installed().unwrap().len(), 30);
    assert!(loaded(&t).is_empty(), "{:?}", t.host.loaded_apps());
    let totals = t.host.loaded_totals();
    assert_eq!((totals.apps, totals.code_bytes, totals.loads), (0, 0, 0));
    let cache = t.host.cache_stats();
    assert_eq!(
        (cache.compiled, cache.loaded_from_cache),
        (0, 0),
        "opening compiled or read no component"
    );

    // A session handle alone loads nothing; its first event does.
    let s = t.host.session("ann", &app(7)).unwrap();
    assert!(loaded(&t).is_empty());
    assert_eq!(s.launch("/").await.unwrap().title, "Bench");
    let apps = t.host.loaded_apps();
    assert_eq!(apps.len(), 1, "{apps:?}");
    assert_eq!(apps[0].app_id, app(7));
    assert_eq!(apps[0].version, "0.1.0");
    assert!(apps[0].code_bytes > 0);
    assert!(apps[0].in_use, "its live session holds it");
    assert_eq!(t.host.loaded_totals().code_bytes, apps[0].code_bytes);
    assert_eq!(t.host.cache_stats().loaded_from_cache, 1);
    s.close().await;
    assert!(!t.host.loaded_apps()[0].in_use);

    // Another user's session of the same mini-app does not load it again.
    assert_eq!(use_app(&t, &app(7)).await, "1");
    assert_eq!(t.host.loaded_totals().loads, 1);
    assert_eq!(use_app(&t, &app(12)).await, "1");
    assert_eq!(loaded(&t), [app(12), app(7)]);
}

#[tokio::test]
async fn past_the_code_cap_the_least_recently_used_app_is_unloaded_and_works_at_its_next_use() {
    // The code one copy of the bench-app takes once loaded.
    let t = restarted_with(4, |c| c).await;
    use_app(&t, &app(0)).await;
    let one = t.host.loaded_apps()[0].code_bytes;
    // Room for two of them, not three.
    let t = t.reopen(|c| c.max_loaded_code_bytes(2 * one + one / 2));

    assert_eq!(use_app(&t, &app(0)).await, "2");
    use_app(&t, &app(1)).await;
    assert_eq!(loaded(&t), [app(1), app(0)]);
    use_app(&t, &app(2)).await;
    assert_eq!(loaded(&t), [app(2), app(1)], "app 0 was the least recent");
    // Using app 1 again makes app 2 the least recent.
    use_app(&t, &app(1)).await;
    use_app(&t, &app(3)).await;
    assert_eq!(loaded(&t), [app(3), app(1)]);
    let totals = t.host.loaded_totals();
    assert_eq!((totals.loads, totals.unloads), (4, 2));
    assert!(totals.code_bytes <= 2 * one + one / 2);

    // An unloaded mini-app loads again (from the compiled cache) and keeps
    // its users' data.
    let from_cache = t.host.cache_stats().loaded_from_cache;
    assert_eq!(use_app(&t, &app(0)).await, "3");
    assert_eq!(t.host.cache_stats().loaded_from_cache, from_cache + 1);
    assert_eq!(t.host.cache_stats().compiled, 0);
    assert_eq!(loaded(&t), [app(0), app(3)]);
}

#[tokio::test]
async fn an_app_with_a_live_session_is_not_unloaded_from_under_it() {
    let t = restarted_with(4, |c| c).await;
    use_app(&t, &app(0)).await;
    let one = t.host.loaded_apps()[0].code_bytes;
    // Room for one mini-app's code.
    let t = t.reopen(|c| c.max_loaded_code_bytes(one + one / 2));

    let held = t.host.session("bo", &app(0)).unwrap();
    held.launch("/").await.unwrap();
    for i in 1..4 {
        use_app(&t, &app(i)).await;
        let apps = loaded(&t);
        assert!(apps.contains(&app(0)), "in use, kept: {apps:?}");
        assert_eq!(apps[0], app(i));
        assert_eq!(apps.len(), 2, "{apps:?}");
    }
    // The held session keeps working on its mini-app.
    let page = held.tap("work").await.unwrap();
    assert_eq!(field(&page, "Counter").as_deref(), Some("1"));
    held.close().await;

    // Once nothing holds it, it is the least recently used and goes at the
    // next load.
    use_app(&t, &app(1)).await;
    assert_eq!(loaded(&t), [app(1)]);
    assert!(t.host.loaded_totals().code_bytes <= one + one / 2);
}
