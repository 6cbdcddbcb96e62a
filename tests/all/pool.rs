//! The instance pool: each live session's share is the per-component caps
//! (`SandboxLimits::instances`, `memories`, `tables`), and a component that
//! needs more is refused at install with the numbers (issue 16, finding 4).

use crate::support::*;
use plaza_host::package::Package;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, component_shape};
use plaza_test_programs::{GUESTS_TARGET_DIR, KV_NOTES, MISBEHAVE};

const NOTES_APP: &str = "test.plaza.kv-notes";

/// Every fixture and sample fits the default caps: the shapes, printed,
/// are what `SandboxLimits`'s defaults were chosen from.
#[test]
fn every_fixture_and_sample_fits_the_default_caps() {
    let limits = plaza_host::sandbox::SandboxLimits::default();
    let dir = std::path::Path::new(GUESTS_TARGET_DIR).join("wasm32-wasip2/release");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wasm") {
            continue;
        }
        let shape = component_shape(&std::fs::read(&path).unwrap()).unwrap();
        println!("{}: {shape:?}", path.display());
        assert!(shape.core_instances >= 1, "{}", path.display());
        assert!(
            shape.core_instances <= limits.instances
                && shape.memories <= limits.memories
                && shape.tables <= limits.tables,
            "{}: {shape:?}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} components in {}", dir.display());
}

#[tokio::test]
async fn a_component_over_a_sessions_share_is_refused_at_install_with_the_numbers() {
    let shape = component_shape(&KV_NOTES.component_bytes()).unwrap();
    let t = host_with(|mut c| {
        c.limits.instances = shape.core_instances - 1;
        c
    });
    let err = t.host.install(package(&KV_NOTES)).await.unwrap_err();
    match &err {
        Error::ComponentTooLarge {
            app,
            what,
            needs,
            limit,
        } => {
            assert_eq!(app, NOTES_APP);
            assert_eq!(what, "core instances");
            assert_eq!(
                (*needs, *limit),
                (shape.core_instances, shape.core_instances - 1)
            );
        }
        other => panic!("expected ComponentTooLarge, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&format!("needs {} core instances", shape.core_instances)),
        "{message}"
    );
    let refusals: Vec<_> = t
        .host
        .audit(&AuditQuery {
            app: Some(NOTES_APP.into()),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "install" && e.outcome == Outcome::Denied)
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].detail.contains(&message),
        "{}",
        refusals[0].detail
    );
    assert!(t.host.installed().unwrap().is_empty());

    // Tables likewise; at the caps exactly, it installs.
    let t = host_with(|mut c| {
        c.limits.tables = shape.tables - 1;
        c
    });
    let err = t.host.install(package(&KV_NOTES)).await.unwrap_err();
    assert!(
        matches!(&err, Error::ComponentTooLarge { what, .. } if what == "tables"),
        "{err}"
    );
    let t = host_with(|mut c| {
        c.limits.instances = shape.core_instances;
        c.limits.tables = shape.tables;
        c.limits.memories = shape.memories;
        c
    });
    install(&t, &KV_NOTES).await;
}

fn leb(mut n: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn name(s: &str, out: &mut Vec<u8>) {
    leb(s.len() as u32, out);
    out.extend_from_slice(s.as_bytes());
}

fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(body.len() as u32, out);
    out.extend_from_slice(body);
}

/// A component that runs `inner` (a fixture whose imports are all
/// instances) unchanged, beside `extra` core modules that each define a
/// memory: `extra` more core instances and memories than the fixture.
fn heavy(inner: &[u8], extra: u32) -> Vec<u8> {
    use wasmparser::{ComponentTypeRef, Parser, Payload};
    let mut out = inner[..8].to_vec();
    let mut imports = Vec::new();
    // The fixture's types, imports and aliases, as they are: the wrapper
    // imports what the fixture imports.
    for payload in Parser::new(0).parse_all(inner) {
        let (id, range) = match payload.unwrap() {
            Payload::ComponentTypeSection(r) => (7, r.range()),
            Payload::ComponentAliasSection(r) => (6, r.range()),
            Payload::ComponentImportSection(r) => {
                for import in r.clone() {
                    let import = import.unwrap();
                    assert!(matches!(import.ty, ComponentTypeRef::Instance(_)));
                    imports.push(import.name.name.to_string());
                }
                (10, r.range())
            }
            Payload::ModuleSection { .. } => break,
            _ => continue,
        };
        section(id, &inner[range], &mut out);
    }
    // The fixture, as component 0, instantiated with the imports.
    section(4, inner, &mut out);
    let mut body = vec![1, 0x00, 0x00];
    leb(imports.len() as u32, &mut body);
    for (i, import) in imports.iter().enumerate() {
        name(import, &mut body);
        body.push(0x05);
        leb(i as u32, &mut body);
    }
    section(5, &body, &mut out);
    // Its app export, exported again.
    let app = "plaza:host/pages@0.1.1";
    let mut body = vec![1, 0x05, 0x00];
    leb(imports.len() as u32, &mut body);
    name(app, &mut body);
    section(6, &body, &mut out);
    let mut body = vec![1, 0x00];
    name(app, &mut body);
    body.push(0x05);
    leb(imports.len() as u32 + 1, &mut body);
    body.push(0x00);
    section(11, &body, &mut out);
    // The extra modules, each `(module (memory 1))`, each instantiated.
    let module = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
    ];
    for _ in 0..extra {
        section(1, &module, &mut out);
    }
    let mut body = Vec::new();
    leb(extra, &mut body);
    for m in 0..extra {
        body.push(0x00);
        leb(m, &mut body);
        body.push(0);
    }
    section(2, &body, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_a_component_at_the_caps_leave_room_for_another_user() {
    // Three memories and five core instances a session (Wasmtime's pool
    // reserved two memories and eight instances a session before).
    let component = heavy(&MISBEHAVE.component_bytes(), 2);
    let shape = component_shape(&component).unwrap();
    assert_eq!((shape.core_instances, shape.memories), (5, 3), "{shape:?}");
    let t = host_with(|mut c| {
        c.limits.max_live_sessions = 4;
        c.limits.instances = shape.core_instances;
        c.limits.memories = shape.memories;
        c.limits.tables = shape.tables;
        c
    });
    let heavy_app = "test.plaza.misbehave";
    t.host
        .install(Package::new(&MISBEHAVE.manifest_text(), component).unwrap())
        .await
        .expect("a component at the caps installs");
    install(&t, &KV_NOTES).await;
    let mut heavy_sessions = Vec::new();
    for user in ["a", "b", "c"] {
        let s = t.host.session(user, heavy_app).unwrap();
        let page = s
            .launch("/")
            .await
            .unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(page.title, "Misbehave");
        heavy_sessions.push(s);
    }
    // The fourth live session, another user's in another mini-app.
    let bea = t.host.session("bea", NOTES_APP).unwrap();
    bea.launch("/").await.expect("room for bea's session");
    // Each heavy session still answers.
    for s in &heavy_sessions {
        assert_eq!(s.tap("ok").await.unwrap().title, "Misbehave");
    }
    // A fifth is over max_live_sessions, and says so.
    let err = t
        .host
        .session("d", heavy_app)
        .unwrap()
        .launch("/")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::HostBusy { limit: 4 }), "{err}");
}
