//! What a shell user expects of `plaza`: help with examples, shell
//! completions, colour only where wanted, progress lines that `--quiet`
//! silences, and errors that suggest the fix.

mod common;

use common::{err, out};
use plaza_test_programs::{Fixture, KV_NOTES};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `plaza ARGS` with these extra environment variables, colour
/// variables removed unless given.
fn plaza_env(store: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plaza"));
    cmd.args(args)
        .env("PLAZA_STORE", store)
        .env("PLAZA_DEVELOPER_MODE", "1")
        .env("RUST_LIB_BACKTRACE", "0")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run plaza")
}

fn plaza(store: &Path, args: &[&str]) -> Output {
    plaza_env(store, args, &[])
}

const ESC: &str = "\x1b[";

fn pack(tmp: &Path, f: &Fixture, extra: &[&str]) -> (PathBuf, Output) {
    let out = tmp.join(format!("{}.plaza", f.name));
    let dir = Path::new(f.manifest).parent().unwrap();
    let mut args = vec![
        "pack",
        dir.to_str().unwrap(),
        "--component",
        f.component,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = plaza(&tmp.join("unused.db"), &args);
    assert!(o.status.success(), "{}", err(&o));
    (out, o)
}

#[test]
fn help_shows_examples_for_commands_and_subcommands() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    for args in [
        &["--help"][..],
        &["new", "--help"],
        &["build", "--help"],
        &["wallet", "topup", "--help"],
        &["help", "publisher", "add"],
    ] {
        let o = plaza(&store, args);
        assert!(o.status.success(), "{args:?}: {}", err(&o));
        let text = out(&o);
        let examples = text
            .split_once("Examples:\n")
            .unwrap_or_else(|| panic!("{args:?} has no examples:\n{text}"))
            .1;
        let command = args
            .iter()
            .filter(|a| !a.starts_with('-') && **a != "help")
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            examples
                .trim_start()
                .starts_with(&format!("plaza {command}").trim().to_string()),
            "{args:?}: {examples}"
        );
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    for (shell, marker) in [
        ("bash", "_plaza()"),
        ("zsh", "#compdef plaza"),
        ("fish", "complete -c plaza"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[plaza]"),
    ] {
        let o = plaza(&store, &["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", err(&o));
        let script = out(&o);
        assert!(script.contains(marker), "{shell}: {script}");
        // The script knows the subcommands and the nested ones ...
        for word in ["new", "topup", "template"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
        // ... and, where the shell completes values, the templates.
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(script.contains("service-account"), "{shell}");
        }
    }
    let o = plaza(&store, &["completions", "tcsh"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("possible values: bash"), "{}", err(&o));
}

#[test]
fn colour_follows_the_flag_then_no_color_then_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let args = ["sign", "x.plaza", "--key", "missing.key"];
    let with = |extra: &[&str], env: &[(&str, &str)]| {
        let mut a: Vec<&str> = extra.to_vec();
        a.extend_from_slice(&args);
        let o = plaza_env(&store, &a, env);
        assert!(!o.status.success());
        assert!(err(&o).contains("error:"), "{}", err(&o));
        err(&o).contains(ESC)
    };
    // Not a terminal: no colour by default.
    assert!(!with(&[], &[]));
    // Forced by the environment, unless NO_COLOR says otherwise.
    assert!(with(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!with(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    // The flag wins over both.
    assert!(with(&["--color", "always"], &[("NO_COLOR", "1")]));
    assert!(!with(&["--color=never"], &[("CLICOLOR_FORCE", "1")]));

    // So does the host's log (PLAZA_LOG), which writes its own escapes.
    let log = |extra: &[&str]| {
        let mut a: Vec<&str> = extra.to_vec();
        a.push("list");
        let o = plaza_env(&store, &a, &[("PLAZA_LOG", "debug")]);
        assert!(err(&o).contains("DEBUG"), "{}", err(&o));
        err(&o).contains(ESC)
    };
    assert!(!log(&[]));
    assert!(log(&["--color", "always"]));

    // Help follows the same rules.
    let help = |env: &[(&str, &str)], extra: &[&str]| {
        let mut a = vec!["build", "--help"];
        a.extend_from_slice(extra);
        out(&plaza_env(&store, &a, env)).contains(ESC)
    };
    assert!(!help(&[("NO_COLOR", "1")], &[]));
    assert!(help(&[], &["--color", "always"]));
    assert!(!help(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]));
}

#[test]
fn pack_reports_progress_on_stderr_unless_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let (package, o) = pack(tmp.path(), &KV_NOTES, &[]);
    // Standard output stays the package path alone, for scripts.
    assert_eq!(out(&o).trim(), package.display().to_string());
    let progress = err(&o);
    assert!(progress.contains("Packing "), "{progress}");
    let done = progress
        .lines()
        .find(|l| l.contains("Packed test.plaza.kv-notes "))
        .unwrap_or_else(|| panic!("{progress}"));
    assert!(
        done.contains(&format!("into {}", package.display())) && done.ends_with('s'),
        "{done}"
    );
    let (_, o) = pack(tmp.path(), &KV_NOTES, &["--quiet"]);
    assert_eq!(err(&o), "", "--quiet prints nothing on stderr");
    assert_eq!(out(&o).trim(), package.display().to_string());
}

#[test]
fn a_mistyped_app_id_suggests_the_installed_one() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");

    let o = plaza(&store, &["run", "test.plaza.kv-notes"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("no mini-app is installed in") && err(&o).contains("plaza install FILE"),
        "{}",
        err(&o)
    );

    let (package, _) = pack(tmp.path(), &KV_NOTES, &[]);
    let o = plaza(&store, &["install", package.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    for args in [
        &["run", "test.plaza.kv-note"][..],
        &["uninstall", "test.plaza.kvnotes"],
        &["follow", "--user", "ann", "test.plaza.kv-ntoes"],
    ] {
        let o = plaza(&store, args);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            err(&o).contains("hint: did you mean `test.plaza.kv-notes`?"),
            "{args:?}: {}",
            err(&o)
        );
    }
    // A folder, or a package file that is not there, is not an id.
    let o = plaza(&store, &["run", tmp.path().to_str().unwrap()]);
    assert!(
        err(&o).contains("is a folder: pack it first"),
        "{}",
        err(&o)
    );
    let o = plaza(&store, &["run", "missing.plaza"]);
    assert!(
        err(&o).contains(
            "there is no file missing.plaza: `plaza pack DIR -o missing.plaza` makes one"
        ),
        "{}",
        err(&o)
    );
    let o = plaza(&store, &["install", "missing.plaza"]);
    assert!(
        err(&o).contains(
            "there is no package file missing.plaza: `plaza pack DIR -o missing.plaza` makes one"
        ),
        "{}",
        err(&o)
    );
    // Nothing close: the list instead of a guess.
    let o = plaza(&store, &["run", "cn.gov.city"]);
    assert!(
        err(&o).contains("installed: test.plaza.kv-notes"),
        "{}",
        err(&o)
    );
}

#[test]
fn signing_without_a_key_says_to_run_keygen_first() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let (package, _) = pack(tmp.path(), &KV_NOTES, &[]);
    let key = tmp.path().join("publisher.key");
    let o = plaza(
        &store,
        &[
            "sign",
            package.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains(&format!("run `plaza keygen -o {}` first", key.display())),
        "{}",
        err(&o)
    );

    // With the public half of a key pair: the secret one is beside it.
    let o = plaza(&store, &["keygen", "-o", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let public = format!("{}.pub", key.display());
    let o = plaza(
        &store,
        &["sign", package.to_str().unwrap(), "--key", &public],
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains(&format!(
            "is a public key: sign with the secret key beside it (`--key {}`)",
            key.display()
        )),
        "{}",
        err(&o)
    );
    let o = plaza(
        &store,
        &[
            "sign",
            package.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn a_folder_without_a_manifest_suggests_plaza_new() {
    let tmp = tempfile::tempdir().unwrap();
    let o = plaza(
        &tmp.path().join("plaza.db"),
        &["pack", tmp.path().to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("has no plaza.toml") && err(&o).contains("`plaza new NAME` makes one"),
        "{}",
        err(&o)
    );
}

#[test]
fn mistyped_categories_scopes_and_publishers_suggest_the_right_one() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let key = tmp.path().join("p.key");
    let o = plaza(&store, &["keygen", "-o", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let public = format!("{}.pub", key.display());
    let add = |category: &str| {
        plaza(
            &store,
            &[
                "publisher",
                "add",
                "cn.hz.health",
                "--name",
                "Health",
                "--category",
                category,
                "--key",
                &public,
            ],
        )
    };
    let o = add("medcal");
    assert!(!o.status.success());
    assert!(
        err(&o).contains("unknown category `medcal`: did you mean `medical`?"),
        "{}",
        err(&o)
    );
    assert!(add("medical").status.success());

    let o = plaza(&store, &["publisher", "remove", "cn.hz.helth"]);
    assert!(
        err(&o).contains("did you mean `cn.hz.health`?"),
        "{}",
        err(&o)
    );

    let o = plaza(
        &store,
        &["grants", "revoke", "--user", "ann", "cn.hz.app", "realname"],
    );
    assert!(
        err(&o).contains("unknown scope `realname`: did you mean `real-name`?"),
        "{}",
        err(&o)
    );
    let o = plaza(
        &store,
        &[
            "grants",
            "set",
            "--user",
            "ann",
            "cn.hz.app",
            "phone",
            "allow",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = plaza(
        &store,
        &["grants", "revoke", "--user", "ann", "cn.hz.ap", "phone"],
    );
    assert!(
        err(&o).contains("ann has no decisions for cn.hz.ap: did you mean `cn.hz.app`?"),
        "{}",
        err(&o)
    );
    let o = plaza(
        &store,
        &["grants", "revoke", "--user", "anne", "cn.hz.app", "phone"],
    );
    assert!(
        err(&o).contains(
            "anne has no decision about phone for cn.hz.app, nor any other: check the user id"
        ),
        "{}",
        err(&o)
    );
}

#[test]
fn release_id_frees_an_uninstalled_apps_id_and_says_what_it_erased() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let (package, _) = pack(tmp.path(), &KV_NOTES, &[]);
    let o = plaza(&store, &["install", package.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));

    let o = plaza(&store, &["release-id", "test.plaza.kv-notes"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("uninstall it first (`plaza uninstall test.plaza.kv-notes`)"),
        "{}",
        err(&o)
    );
    let o = plaza(&store, &["uninstall", "test.plaza.kv-notes"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = plaza(&store, &["release-id", "test.plaza.kv-notes"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("released test.plaza.kv-notes from publisher test.plaza:")
            && out(&o).contains("users' data is erased"),
        "{}",
        out(&o)
    );
    let o = plaza(&store, &["release-id", "test.plaza.unknown"]);
    assert!(
        err(&o).contains("no package was ever installed under the app id test.plaza.unknown"),
        "{}",
        err(&o)
    );
}
