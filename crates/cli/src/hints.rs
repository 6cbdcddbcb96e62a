//! Errors that suggest the fix: "did you mean …" where the CLI knows the
//! candidates (installed mini-apps, registered publishers), found by edit
//! distance (`strsim`).

use plaza_host::store::open_store;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The store the command opened, for hints that need to look into it.
static STORE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Remembers the store a command opened.
pub fn remember_store(path: &Path) {
    if let Ok(mut s) = STORE.lock() {
        *s = Some(path.to_path_buf());
    }
}

fn remembered_store() -> Option<PathBuf> {
    STORE.lock().ok().and_then(|s| s.clone())
}

/// The candidate closest to `word`, if one is close enough to be a typo:
/// at most a third of the word's length in edits (and at least one), or the
/// word with a prefix or suffix missing.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| {
            *d <= limit || (word.len() >= 3 && (c.ends_with(word) || c.starts_with(word)))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Reads a package file; a file that is not there is an error saying how to
/// make one (the host's own error calls it malformed).
pub fn read_package(path: &Path) -> anyhow::Result<plaza_host::package::Package> {
    if !path.exists() {
        anyhow::bail!(
            "there is no package file {}: `plaza pack DIR -o {}` makes one",
            path.display(),
            path.display()
        );
    }
    Ok(plaza_host::package::Package::read_file(path)?)
}

/// What to do about an error, when the CLI knows more than the error says.
pub fn for_error(e: &anyhow::Error) -> Option<String> {
    let host_error = e
        .chain()
        .find_map(|c| c.downcast_ref::<plaza_host::Error>())?;
    match host_error {
        plaza_host::Error::NotInstalled { app } => not_installed(app),
        _ => None,
    }
}

fn not_installed(app: &str) -> Option<String> {
    // A folder or a package file that is not there, rather than an id.
    if Path::new(app).is_dir() {
        return Some(format!(
            "`{app}` is a folder: pack it first (`plaza pack {app} -o app.plaza`), then `plaza run app.plaza`"
        ));
    }
    if app.ends_with(".plaza") {
        return Some(format!(
            "there is no file {app}: `plaza pack DIR -o {app}` makes one"
        ));
    }
    let path = remembered_store()?;
    let store = open_store(&path).ok()?;
    let ids: Vec<String> = store
        .list_packages()
        .ok()?
        .into_iter()
        .map(|p| p.app_id)
        .collect();
    if ids.is_empty() {
        return Some(format!(
            "no mini-app is installed in {}: `plaza install FILE` first (or pass the package file itself to `plaza run`)",
            path.display()
        ));
    }
    Some(match closest(app, ids.iter().map(String::as_str)) {
        Some(id) => format!("did you mean `{id}`? (`plaza list` shows what is installed)"),
        None => format!("installed: {} (`plaza list`)", ids.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_find_the_candidate_and_strangers_do_not() {
        let ids = ["cn.hz.maternity", "cn.gov.hz.city", "cn.westlake.bank"];
        assert_eq!(closest("cn.hz.maternty", ids), Some("cn.hz.maternity"));
        assert_eq!(closest("cn.hz.matenrity", ids), Some("cn.hz.maternity"));
        assert_eq!(closest("bank", ids), Some("cn.westlake.bank"));
        assert_eq!(closest("org.example.shop", ids), None);
        assert_eq!(closest("cn.hz.maternity", ids), None);
    }
}
