//! Mini-apps' settings from the shell (`plaza config set|unset|list`): the
//! values and secrets the operator sets per mini-app, outside its package,
//! read by the mini-app through `plaza:host/config`.
//!
//! ```text
//! plaza config set cn.gov.hz.city agency-origin https://records.hz.gov.cn
//! plaza config set cn.gov.hz.city agency-api-key --secret < key.txt   # VALUE omitted: read from stdin
//! plaza config list cn.gov.hz.city                                    # secrets masked
//! plaza config unset cn.gov.hz.city agency-origin                     # back to the default
//! ```
//!
//! Secrets are sealed with the settings key: `$PLAZA_SETTINGS_KEY` (64 hex
//! characters), else the key file `$PLAZA_SETTINGS_KEY_FILE`, else
//! `STORE.settings-key` beside the store, made at the first secret. Keep it
//! apart from the store's backups: a copy of the store alone then reveals
//! no secret.

use crate::print_json;
use crate::run::format_time;
use anyhow::{Context, Result, bail};
use plaza_host::Host;
use plaza_host::settings::{SettingSource, SettingsKey};
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

/// The environment variable naming the settings key file.
pub const SETTINGS_KEY_FILE_ENV: &str = "PLAZA_SETTINGS_KEY_FILE";

/// What a masked secret shows.
const MASK: &str = "********";

/// The settings key of the store at `store`: `$PLAZA_SETTINGS_KEY`, else
/// the file `$PLAZA_SETTINGS_KEY_FILE`, else `STORE.settings-key` (none for
/// a PostgreSQL store: [`SettingsKey::default_file`]).
pub fn settings_key_for(store: &Path) -> Result<Option<SettingsKey>> {
    let file = std::env::var_os(SETTINGS_KEY_FILE_ENV).map(std::path::PathBuf::from);
    Ok(SettingsKey::for_store(store, file)?)
}

/// `plaza config ...`.
#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// Set a setting the mini-app's manifest declares; its next session
    /// reads the new value. Secrets (declared so, or `--secret`) are sealed
    /// with the settings key. Audited, never the value.
    Set {
        /// The mini-app id.
        app: String,
        /// The setting's name, as the manifest declares it.
        name: String,
        /// The value; omitted (or `-`): the first line of standard input,
        /// so that a secret stays out of the shell's history.
        value: Option<String>,
        /// Keep the value as a secret (sealed, masked when listed) even if
        /// the manifest does not declare it one.
        #[arg(long)]
        secret: bool,
    },
    /// Remove the value set for a setting: the next session reads the
    /// manifest's default, or gets `not-found`.
    Unset {
        /// The mini-app id.
        app: String,
        /// The setting's name.
        name: String,
    },
    /// List the settings a mini-app declares, the value each reads and
    /// where it comes from (set, default, missing); secrets masked.
    List {
        /// The mini-app id.
        app: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `plaza config ...`.
pub fn config(host: &Host, command: ConfigCommand) -> Result<ExitCode> {
    match command {
        ConfigCommand::Set {
            app,
            name,
            value,
            secret,
        } => {
            let value = match value.as_deref() {
                None | Some("-") => {
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .context("reading the value from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
                Some(v) => v.to_string(),
            };
            host.set_setting(&app, &name, &value, secret)?;
            println!("set {name} of {app}; its next session reads it");
        }
        ConfigCommand::Unset { app, name } => {
            if host.unset_setting(&app, &name)? {
                println!("removed the value of {name} of {app}");
            } else {
                println!("{name} of {app} had no value set");
            }
        }
        ConfigCommand::List { app, json } => {
            let settings = host.settings(&app)?;
            if json {
                print_json(&serde_json::to_value(&settings)?);
            } else if settings.is_empty() {
                println!("{app} declares no settings");
            } else {
                for s in settings {
                    let value = match (&s.value, s.secret, s.source) {
                        (_, true, SettingSource::Set) => MASK.to_string(),
                        (Some(v), _, _) => v.clone(),
                        (None, _, _) => "-".to_string(),
                    };
                    let source = match s.source {
                        SettingSource::Set => format!(
                            "set {}",
                            s.updated_at_ms.map(format_time).unwrap_or_default()
                        ),
                        SettingSource::Default => "default".to_string(),
                        SettingSource::Missing => {
                            "MISSING: the mini-app gets not-found until it is set".to_string()
                        }
                    };
                    let kind = if s.secret { " (secret)" } else { "" };
                    println!("{}{kind} = {value}  [{source}]", s.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sets `NAME=VALUE` (`assignment`) in every installed mini-app whose
/// manifest declares `NAME` (the simulator's `--setting` and `--secret`);
/// an error if none does.
pub fn set_in_every_declaring_app(host: &Host, assignment: &str, secret: bool) -> Result<()> {
    let Some((name, value)) = assignment.split_once('=') else {
        bail!("`{assignment}` is not NAME=VALUE");
    };
    let mut set = 0;
    for app in host.installed()? {
        if host.settings(&app.app_id)?.iter().any(|s| s.name == name) {
            host.set_setting(&app.app_id, name, value, secret)?;
            set += 1;
        }
    }
    if set == 0 {
        bail!("no served mini-app declares the setting `{name}` ([[settings]] in its plaza.toml)");
    }
    Ok(())
}

/// The sentence `plaza list` adds for a mini-app's missing settings.
pub fn missing_line(app: &str, missing: &[String]) -> Option<String> {
    (!missing.is_empty()).then(|| {
        format!(
            "    missing settings: {} (it gets not-found until set: `plaza config set {app} NAME VALUE`)",
            missing.join(", ")
        )
    })
}
