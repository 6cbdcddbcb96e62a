//! The `plaza` binary end to end: pack, inspect, install, list, run with a
//! script, audit, and the errors a shell user sees.

mod common;

use common::{err as stderr, out as stdout, plaza};
use plaza_test_programs::{
    CITY_SERVICES, Fixture, HOSPITAL, KV_NOTES, MEDIA_PROBE, SCAN_PROBE, SIM_PROBE,
    UNDECLARED_STORAGE,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn dir_of(f: &Fixture) -> PathBuf {
    Path::new(f.manifest).parent().unwrap().to_path_buf()
}

/// Packs a fixture with its prebuilt component; returns the package path.
fn pack(tmp: &Path, f: &Fixture) -> PathBuf {
    let out = tmp.join(format!("{}.plaza", f.name));
    let o = plaza(
        &tmp.join("unused.db"),
        &[
            "pack",
            dir_of(f).to_str().unwrap(),
            "--component",
            f.component,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "pack failed: {}", stderr(&o));
    assert_eq!(stdout(&o).trim(), out.display().to_string());
    out
}

#[test]
fn pack_takes_the_assets_folder_inspect_lists_it_and_run_names_an_asset() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &SIM_PROBE);
    let o = plaza(&store, &["inspect", pkg.to_str().unwrap()]);
    let text = stdout(&o);
    assert!(text.contains("assets: 1 ("), "{text}");
    assert!(text.contains("  probe.png  73 bytes PNG"), "{text}");
    let o = plaza(&store, &["inspect", "--json", pkg.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["assets"][0]["name"], "probe.png");
    assert_eq!(json["assets"][0]["content_type"], "image/png");
    let o = plaza(&store, &["install", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = tmp.path().join("none.txt");
    std::fs::write(&script, "quit\n").unwrap();
    let run = |path: &str| {
        let o = plaza(
            &store,
            &[
                "run",
                "test.plaza.sim-probe",
                "--path",
                path,
                "--script",
                script.to_str().unwrap(),
            ],
        );
        stdout(&o)
    };
    let out = run("/?image=asset:probe.png");
    assert!(
        out.contains("[image: probe image] asset:probe.png (73 bytes PNG)"),
        "{out}"
    );
    let out = run("/?image=https://leak.example/x.png");
    assert!(
        out.contains("is from `https://leak.example`, which the manifest does not declare"),
        "{out}"
    );
}

#[test]
fn pack_inspect_install_list_run_and_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &KV_NOTES);

    let o = plaza(&store, &["inspect", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("test.plaza.kv-notes "), "{text}");
    assert!(
        text.contains("plaza:host/storage@0.1.1  [declared]"),
        "{text}"
    );
    assert!(text.contains("sha256 "), "{text}");

    let o = plaza(&store, &["inspect", "--json", pkg.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["app"]["id"], "test.plaza.kv-notes");
    assert!(
        json["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["status"] == "declared")
    );

    let o = plaza(&store, &["install", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("installed test.plaza.kv-notes "),
        "{}",
        stdout(&o)
    );

    let o = plaza(&store, &["list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json[0]["app_id"], "test.plaza.kv-notes");
    // Installed unsigned (developer mode): not verified, whatever it claims.
    assert_eq!(json[0]["signed"], false);
    assert_eq!(json[0]["publisher_verified"], false);
    let o = plaza(&store, &["list"]);
    assert!(stdout(&o).contains(", not verified, "), "{}", stdout(&o));

    let script = tmp.path().join("notes.txt");
    std::fs::write(
        &script,
        "# a comment\nsubmit put key=greeting value=\"hello there\"\ntap fly-away\ntap now\nquit\n",
    )
    .unwrap();
    let o = plaza(
        &store,
        &[
            "run",
            "test.plaza.kv-notes",
            "--user",
            "ann",
            "--script",
            script.to_str().unwrap(),
        ],
    );
    let out = stdout(&o);
    // The title is the first line of each page.
    assert!(out.starts_with("Notes\n"), "{out}");
    assert!(out.contains("greeting: hello there"), "{out}");
    assert!(out.contains("! success: Saved greeting"), "{out}");
    // The unknown action is an error naming what the page offers; the
    // session goes on and the script's failure shows in the exit code.
    assert!(
        out.contains("error: the page does not offer the action `fly-away`; it offers: "),
        "{out}"
    );
    assert!(out.contains("del:greeting"), "{out}");
    assert!(
        out.contains("Now: "),
        "the session went on after the error: {out}"
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("1 action(s) failed"), "{}", stderr(&o));

    let o = plaza(&store, &["audit", "--user", "ann"]);
    let out = stdout(&o);
    assert!(out.contains("ann in test.plaza.kv-notes:"), "{out}");
    assert!(out.contains("allowed  storage"), "{out}");
    let o = plaza(&store, &["audit", "--user", "ann", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(json.as_array().unwrap().iter().all(|e| e["user"] == "ann"));
}

/// `plaza run PKG --user USER` in developer mode on `store`, with `typed`
/// as its standard input (the lines a user types).
fn run_typed(store: &Path, pkg: &Path, user: &str, typed: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(["run", pkg.to_str().unwrap(), "--user", user])
        .env("PLAZA_STORE", store)
        .env("PLAZA_DEVELOPER_MODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(typed).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn run_reads_actions_from_stdin_and_installs_a_package_given_as_a_path() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &KV_NOTES);
    let o = run_typed(
        &store,
        &pkg,
        "bo",
        b"submit put key=k value=v\nback\nback\nquit\n",
    );
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "interactive errors do not fail the run: {}",
        stderr(&o)
    );
    assert!(out.contains("k: v"), "{out}");
    assert!(
        out.contains("error: there is no earlier page to go back to"),
        "{out}"
    );
}

#[test]
fn refusals_are_clear_and_exit_non_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &UNDECLARED_STORAGE);

    let o = plaza(&store, &["inspect", pkg.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stdout(&o).contains("plaza:host/storage@0.1.1  [NOT DECLARED]"),
        "{}",
        stdout(&o)
    );

    let o = plaza(&store, &["install", pkg.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("imports plaza:host/storage@0.1.1 but its manifest does not declare it"),
        "{err}"
    );

    let junk = tmp.path().join("junk.plaza");
    std::fs::write(&junk, b"not a package").unwrap();
    let o = plaza(&store, &["install", junk.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is malformed"), "{}", stderr(&o));

    let o = plaza(&store, &["run", "no.such.app"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no mini-app `no.such.app` is installed"),
        "{}",
        stderr(&o)
    );

    let o = plaza(&store, &["pack", tmp.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("plaza.toml"), "{}", stderr(&o));
}

#[test]
fn build_compiles_a_rust_mini_app_to_a_component() {
    let dir = dir_of(&plaza_test_programs::HOSPITAL);
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(["build", dir.to_str().unwrap()])
        // The guests' target dir, where the test run built them already.
        .env("CARGO_TARGET_DIR", plaza_test_programs::GUESTS_TARGET_DIR)
        .env("PLAZA_STORE", tmp.path().join("x.db"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let wasm = PathBuf::from(stdout(&o).trim());
    let bytes = std::fs::read(&wasm).unwrap();
    assert_eq!(&bytes[..8], &plaza_host::package::COMPONENT_HEADER);
}

#[test]
fn config_sets_settings_masks_secrets_and_list_names_the_missing_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &CITY_SERVICES);
    let o = plaza(&store, &["inspect", pkg.to_str().unwrap()]);
    assert!(
        stdout(&o).contains(
            "settings: agency-origin (default http://localhost:47180), agency-api-key (secret, set on the host)"
        ),
        "{}",
        stdout(&o)
    );
    let o = plaza(&store, &["install", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = plaza(&store, &["list"]);
    assert!(
        stdout(&o).contains("missing settings: agency-api-key"),
        "{}",
        stdout(&o)
    );
    let app = "cn.gov.hz.city";
    let o = plaza(
        &store,
        &["config", "set", app, "agency-api-key", "k-cli-secret-42"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = plaza(
        &store,
        &[
            "config",
            "set",
            app,
            "agency-origin",
            "https://records.hz.gov.cn",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = plaza(&store, &["config", "list", app]);
    let text = stdout(&o);
    assert!(
        text.contains("agency-origin = https://records.hz.gov.cn  [set ")
            && text.contains("agency-api-key (secret) = ********  [set "),
        "{text}"
    );
    let o = plaza(&store, &["config", "list", app, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json[1]["name"], "agency-api-key");
    assert!(json[1]["value"].is_null());
    assert!(!stdout(&plaza(&store, &["list"])).contains("missing"));
    // Sealed with the key file beside the store, which is not in the store.
    assert!(tmp.path().join("plaza.db.settings-key").exists());
    let mut bytes = std::fs::read(&store).unwrap();
    bytes.extend(std::fs::read(tmp.path().join("plaza.db-wal")).unwrap_or_default());
    assert!(!bytes.windows(12).any(|w| w == b"k-cli-secret"));
    let o = plaza(&store, &["config", "set", app, "colour", "red"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("declares no setting `colour`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_answers_scans_with_scan_and_goes_on_in_the_mini_app_of_a_scanned_link_it_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    for f in [&HOSPITAL, &SCAN_PROBE] {
        let pkg = pack(tmp.path(), f);
        let o = plaza(&store, &["install", pkg.to_str().unwrap()]);
        assert!(o.status.success(), "install: {}", stderr(&o));
    }
    let script = tmp.path().join("script.txt");
    // A barcode, a closed scanner, then the clinic's code: opened, the
    // session goes on in the hospital (its page offers `dept:obstetrics`).
    std::fs::write(
        &script,
        "tap scan\ntap scan\ntap scan\ntap dept:obstetrics\nquit\n",
    )
    .unwrap();
    let o = plaza(
        &store,
        &[
            "run",
            "test.plaza.scan-probe",
            "--user",
            "ann",
            "--script",
            script.to_str().unwrap(),
            "--scan",
            "barcode:9787020002207",
            "--scan",
            "cancel",
            "--scan",
            "plaza://cn.hz.maternity/checkin?clinic=obstetrics",
            "--link-offer",
            "open",
        ],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(
        out.contains("asks you to scan a QR code or a barcode: \"The code on the clinic's wall\" -> barcode \"9787020002207\""),
        "{out}"
    );
    assert!(out.contains("Text: 9787020002207"), "{out}");
    assert!(out.contains("Result: cancelled"), "{out}");
    assert!(
        out.contains("? open plaza://cn.hz.maternity/checkin?clinic=obstetrics in Hangzhou Maternity Hospital (scanned in Scan probe)? -> open"),
        "{out}"
    );
    let opened = out
        .find("(opened plaza://cn.hz.maternity/checkin?clinic=obstetrics)")
        .expect("the link opened");
    assert!(out[opened..].contains("No booking today"), "{out}");
    let dept = out.find("> tap dept:obstetrics").expect("the next action");
    assert!(out[dept..].contains("Dr. Chen Li"), "{out}");
    // The offer not taken: the probe just shows the text.
    let script = tmp.path().join("stay.txt");
    std::fs::write(&script, "tap scan\nquit\n").unwrap();
    let o = plaza(
        &store,
        &[
            "run",
            "test.plaza.scan-probe",
            "--script",
            script.to_str().unwrap(),
            "--scan",
            "plaza://cn.hz.maternity/checkin?clinic=obstetrics",
        ],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(
        out.contains("-> stay (answer with --link-offer open)"),
        "{out}"
    );
    assert!(!out.contains("(opened"), "{out}");
    assert!(
        out.contains("Text: plaza://cn.hz.maternity/checkin?clinic=obstetrics"),
        "{out}"
    );
}

#[test]
fn run_answers_photo_prompts_with_the_files_given_by_upload_and_shows_them() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &MEDIA_PROBE);
    let photo = tmp.path().join("card.jpg");
    let mut jpeg = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    jpeg.resize(1500, 0);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    std::fs::write(&photo, &jpeg).unwrap();
    let script = tmp.path().join("script.txt");
    std::fs::write(&script, "tap image\ntap image\nquit\n").unwrap();
    let o = plaza(
        &store,
        &[
            "run",
            pkg.to_str().unwrap(),
            "--user",
            "ann",
            "--script",
            script.to_str().unwrap(),
            "--upload",
            photo.to_str().unwrap(),
            "--upload",
            "cancel",
        ],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    // The question, and the file that answered it.
    assert!(
        out.contains("asks for a photo from the camera or the photo album: \"The ID card, front side\" (JPEG or PNG, at most 2048 bytes) -> "),
        "{out}"
    );
    assert!(out.contains("Result: ok"), "{out}");
    // The page's image: the file's name, size and kind.
    assert!(
        out.contains("[image: Chosen] media:m-") && out.contains("(card.jpg, 1502 bytes JPEG)"),
        "{out}"
    );
    // The second prompt is cancelled, as asked.
    assert!(out.contains("Result: cancelled"), "{out}");
    // A file that is not there is refused before the run.
    let o = plaza(
        &store,
        &["run", "test.plaza.media-probe", "--upload", "no/such.jpg"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no file `no/such.jpg`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_asks_for_a_photo_and_takes_the_answer_from_the_next_line() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = pack(tmp.path(), &MEDIA_PROBE);
    let photo = tmp.path().join("card.jpg");
    let mut jpeg = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    jpeg.resize(1500, 0);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    std::fs::write(&photo, &jpeg).unwrap();
    // Typed at the prompt: each `tap image` asks for a photo, answered by
    // the line after it; a path that is no file is said and asked again; an
    // `upload` with no prompt waiting is an error of its line.
    let typed = format!(
        "tap image\nupload cancel\ntap image\nupload no/such.jpg\nupload \"{}\"\nupload \"{}\"\nquit\n",
        photo.display(),
        photo.display()
    );
    let o = run_typed(&store, &pkg, "ann", typed.as_bytes());
    let out = stdout(&o);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    let asked = "asks for a photo from the camera or the photo album: \"The ID card, front side\" (JPEG or PNG, at most 2048 bytes)\n  answer with `upload PATH` or `upload cancel`:";
    assert_eq!(out.matches(asked).count(), 2, "{out}");
    // Closed, then the photo after a path that is no file.
    let cancelled = out.find("Result: cancelled").expect(&out);
    let missing = out.find("error: no file `no/such.jpg`").expect(&out);
    let chosen = out.find("Result: ok").expect(&out);
    assert!(cancelled < missing && missing < chosen, "{out}");
    assert!(out.contains("(card.jpg, 1502 bytes JPEG)"), "{out}");
    // The second `upload` had no prompt to answer: its line says so.
    assert!(
        out.contains("error: line 6: no photo or file prompt is waiting"),
        "{out}"
    );
}
