//! `plaza privacy report|export|erase`: the user's rights over their data
//! (docs/privacy.md). Each use is audited by the host.

use anyhow::{Context, Result};
use plaza_host::Host;
use std::path::PathBuf;
use std::process::ExitCode;

/// Whose data, and of which mini-app: every command's `--user U [--app A]`.
#[derive(clap::Args)]
pub struct Whose {
    /// The user.
    #[arg(long)]
    user: String,
    /// Only this mini-app.
    #[arg(long)]
    app: Option<String>,
}

/// `plaza privacy ...`.
#[derive(clap::Subcommand)]
pub enum PrivacyCommand {
    /// What each mini-app accessed for the user: per capability and scope,
    /// how often (allowed, denied) and when last.
    Report {
        #[command(flatten)]
        whose: Whose,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Everything the host holds about the user, per mini-app, as JSON:
    /// storage, consents, subscriptions, follow, conversation, login codes,
    /// inbox, payments with receipts and refunds, audit log (and, for every
    /// mini-app, the user's profile, insurance card and wallet).
    Export {
        #[command(flatten)]
        whose: Whose,
        /// Write the JSON to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Erase what a mini-app holds about the user (storage, consents,
    /// subscriptions, follow, conversation, login codes); it then sees a new
    /// user. Payments, receipts and ledger entries stay. Without --app,
    /// every mini-app that holds something about the user or accessed
    /// anything for them.
    Erase {
        #[command(flatten)]
        whose: Whose,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `plaza privacy` command.
pub async fn privacy(host: &Host, command: PrivacyCommand) -> Result<ExitCode> {
    match command {
        PrivacyCommand::Report {
            whose: Whose { user, app },
            json,
        } => {
            let report = host.privacy_report(&user, app.as_deref())?;
            if json {
                crate::print_json(&serde_json::to_value(&report)?);
            } else {
                print!("{}", format_report(&report));
            }
        }
        PrivacyCommand::Export {
            whose: Whose { user, app },
            out,
        } => {
            let export = host.privacy_export(&user, app.as_deref())?;
            let text = serde_json::to_string_pretty(&export)?;
            match out {
                Some(file) => {
                    std::fs::write(&file, text + "\n")
                        .with_context(|| format!("writing {}", file.display()))?;
                    eprintln!(
                        "exported what the host holds about {user} ({} mini-apps) to {}",
                        export.apps.len(),
                        file.display()
                    );
                }
                None => println!("{text}"),
            }
        }
        PrivacyCommand::Erase {
            whose: Whose { user, app },
            json,
        } => {
            let erasures = match &app {
                Some(app) => vec![host.erase_user_app_data(&user, app).await?],
                None => host.erase_user_data(&user).await?,
            };
            if json {
                crate::print_json(&serde_json::to_value(&erasures)?);
            } else if erasures.is_empty() {
                println!("no mini-app holds anything about {user}");
            } else {
                for e in &erasures {
                    let n = &e.erased;
                    println!(
                        "erased what {} held about {user}: {} storage keys, {} consents, {} subscriptions, {} follows, {} messages, {} login codes; it now sees a new user (payments and receipts kept)",
                        e.app_id,
                        n.storage_keys,
                        n.consents,
                        n.subscriptions,
                        n.follows,
                        n.conversation,
                        n.login_codes
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as text: per mini-app, one line per capability or scope.
fn format_report(report: &plaza_host::PrivacyReport) -> String {
    let mut s = String::new();
    if report.apps.is_empty() {
        s.push_str(&format!(
            "no mini-app accessed anything for {}\n",
            report.user
        ));
    }
    for app in &report.apps {
        match &app.name {
            Some(name) => s.push_str(&format!("{} ({name}):\n", app.app_id)),
            None => s.push_str(&format!("{} (not installed):\n", app.app_id)),
        }
        for l in &app.lines {
            let what = match &l.scope {
                Some(scope) => format!("{}.{scope}", l.capability),
                None => l.capability.clone(),
            };
            s.push_str(&format!(
                "  {what:<32} {:>5}x  ({} allowed, {} denied)  last {}\n",
                l.count,
                l.allowed,
                l.denied,
                crate::run::format_time(l.last_at_ms)
            ));
        }
    }
    s
}
