//! `--watch`: polls a project's source (no file-watching crate: a poll of a
//! few files is cheap and works everywhere), and when it changed rebuilds
//! and reinstalls the mini-app and reloads the page, which launches it again
//! where each user had it open, keeping the user and the store (so its
//! storage, wallets, grants and inbox).

use super::{Installer, Project, Sim};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What the source looks like: every file's path, size and modification
/// time under `src/` and `assets/`, and the manifest and build files of
/// every language.
fn fingerprint(dir: &Path) -> Vec<(String, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    for f in [
        "plaza.toml",
        "Cargo.toml",
        "Cargo.lock",
        "package.json",
        "tsconfig.json",
    ] {
        add(&dir.join(f), &mut out);
    }
    walk(&dir.join("src"), &mut out, 0);
    walk(&dir.join("assets"), &mut out, 0);
    out.sort();
    out
}

fn add(path: &Path, out: &mut Vec<(String, u64, Option<SystemTime>)>) {
    if let Ok(m) = std::fs::metadata(path) {
        out.push((path.display().to_string(), m.len(), m.modified().ok()));
    }
}

fn walk(dir: &Path, out: &mut Vec<(String, u64, Option<SystemTime>)>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        match e.file_type() {
            // Python's bytecode cache is not source.
            Ok(t) if t.is_dir() && e.file_name() != "__pycache__" => walk(&path, out, depth + 1),
            Ok(t) if t.is_file() => add(&path, out),
            _ => {}
        }
    }
}

/// Watches one project until the process ends.
pub async fn watch(sim: Sim, installer: Installer, project: Project, every: Duration) {
    let mut seen = fingerprint(&project.dir);
    loop {
        tokio::time::sleep(every).await;
        let now = fingerprint(&project.dir);
        if now == seen {
            continue;
        }
        // Let an editor finish writing before building.
        tokio::time::sleep(every).await;
        seen = fingerprint(&project.dir);
        eprintln!("{} changed: rebuilding", project.dir.display());
        match installer.install_dir(&project.dir).await {
            Ok(app_id) => {
                if app_id != project.app_id {
                    eprintln!(
                        "note: {} now builds mini-app {app_id} (was {})",
                        project.dir.display(),
                        project.app_id
                    );
                }
                sim.set_build_error(None);
                sim.reloaded();
                eprintln!("reinstalled {app_id}: the page reloads");
            }
            Err(e) => {
                let message = crate::ui::with_causes(&e);
                eprintln!("rebuilding {} failed: {message}", project.dir.display());
                sim.set_build_error(Some(format!(
                    "Rebuilding {} failed (the previous build keeps running): {message}. \
                     The compiler's messages are in the terminal running plaza serve.",
                    project.dir.display()
                )));
            }
        }
    }
}
