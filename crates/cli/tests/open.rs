//! `plaza open LINK`: a link (`plaza://APP-ID/PATH?QUERY`, or its https form
//! under `--link-base`) starts the user's session of the installed mini-app
//! at that page, then goes on as `plaza run`; a malformed link or one to a
//! mini-app that is not installed is a clear error and nothing runs.

mod common;

use common::{err as stderr, out as stdout, plaza};
use plaza_test_programs::HOSPITAL;
use std::path::Path;

fn install_hospital(tmp: &Path, store: &Path) {
    let pkg = tmp.join("hospital.plaza");
    let dir = Path::new(HOSPITAL.manifest).parent().unwrap();
    let o = plaza(
        store,
        &[
            "pack",
            dir.to_str().unwrap(),
            "--component",
            HOSPITAL.component,
            "-o",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "pack: {}", stderr(&o));
    let o = plaza(store, &["install", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "install: {}", stderr(&o));
}

#[test]
fn open_starts_the_session_at_the_links_page_and_refuses_bad_links() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    install_hospital(tmp.path(), &store);
    let script = tmp.path().join("walk.txt");
    std::fs::write(&script, "tap doctor:chen-li\nquit\n").unwrap();
    let record = tmp.path().join("walk.toml");

    let o = plaza(
        &store,
        &[
            "open",
            "plaza://cn.hz.maternity/dept/obstetrics",
            "--user",
            "ann",
            "--script",
            script.to_str().unwrap(),
            "--record",
            record.to_str().unwrap(),
        ],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    let obstetrics = out.find("Obstetrics").expect("the link's page");
    let doctor = out
        .find("> tap doctor:chen-li")
        .expect("the script's action");
    assert!(obstetrics < doctor, "{out}");
    assert!(out[doctor..].contains("Dr. Chen Li"), "{out}");
    // The recording replays the open as a scenario step.
    let recorded = std::fs::read_to_string(&record).unwrap();
    assert!(
        recorded.contains("open = \"plaza://cn.hz.maternity/dept/obstetrics\""),
        "{recorded}"
    );

    // The https form, under the base the operator gives.
    let o = plaza(
        &store,
        &[
            "open",
            "https://plaza.example.cn/a/cn.hz.maternity/dept/paediatrics",
            "--link-base",
            "https://plaza.example.cn/a/",
            "--user",
            "ann",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Paediatrics"), "{}", stdout(&o));

    // Malformed: what is wrong, and what a link looks like.
    for (link, problem) in [
        ("plaza://cn.hz.maternity/check in", "has a space"),
        ("maternity", "does not start with `plaza://`"),
        (
            "https://plaza.example.cn/a/cn.hz.maternity/",
            "this host takes no web form of links",
        ),
    ] {
        let o = plaza(&store, &["open", link, "--user", "ann"]);
        assert!(!o.status.success(), "{link}");
        let e = stderr(&o);
        assert!(e.contains(problem), "{link}: {e}");
        assert!(e.contains("plaza://APP-ID/PATH?QUERY"), "{e}");
        assert!(stdout(&o).is_empty(), "nothing ran: {}", stdout(&o));
    }
    // A mini-app that is not installed is named.
    let o = plaza(
        &store,
        &["open", "plaza://cn.sh.renji/checkin", "--user", "ann"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no mini-app `cn.sh.renji` is installed"),
        "{}",
        stderr(&o)
    );

    // Every open is audited, the refused ones too.
    let o = plaza(&store, &["audit", "--user", "ann"]);
    let audit = stdout(&o);
    assert_eq!(audit.matches("link.open").count(), 6, "{audit}");
    assert!(audit.contains("opened /dept/obstetrics"), "{audit}");
}
