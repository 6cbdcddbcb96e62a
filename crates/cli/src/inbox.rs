//! `plaza inbox`, `plaza follow`, `plaza unfollow`, `plaza write`: the user's
//! side of messaging.

use anyhow::{Result, bail};
use plaza_host::Host;
use std::process::ExitCode;

/// `plaza inbox`: lists the user's messages, or marks one read.
pub fn inbox(
    host: &Host,
    user: &str,
    unread: bool,
    mark_read: Option<String>,
    limit: usize,
    json: bool,
) -> Result<ExitCode> {
    if let Some(id) = mark_read {
        if !host.mark_read(user, &id)? {
            bail!("{user} has no message `{id}` (see `plaza inbox --user {user}`)");
        }
        println!("marked {id} read");
        return Ok(ExitCode::SUCCESS);
    }
    let messages = host.inbox(user, unread, limit)?;
    if json {
        crate::print_json(&serde_json::to_value(&messages)?);
        return Ok(ExitCode::SUCCESS);
    }
    if messages.is_empty() {
        println!(
            "{user} has no {}messages",
            if unread { "unread " } else { "" }
        );
    }
    for m in messages {
        println!(
            "{} {}  {}  {} ({})  [{}]  {}",
            if m.read { " " } else { "*" },
            crate::run::format_time(m.sent_at_ms),
            m.title,
            m.app_name,
            m.publisher_name,
            m.kind,
            m.id
        );
        for line in m.body.lines() {
            println!("      {line}");
        }
        if let Some(link) = &m.link {
            println!(
                "      -> {link} (plaza inbox --user {user} --open {})",
                m.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `plaza inbox --open ID`: opens a message, launching its mini-app at the
/// page it links to, and prints that page.
pub async fn open(host: &Host, user: &str, id: &str) -> Result<ExitCode> {
    let (session, page) = host.open_message(user, id).await?;
    println!("{}", plaza_host::page::render_text(&page));
    session.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `plaza follow` / `plaza unfollow`.
pub fn follow(host: &Host, user: &str, app: &str, follow: bool) -> Result<ExitCode> {
    let changed = host.follow(user, app, follow)?;
    let verb = if follow {
        "follows"
    } else {
        "no longer follows"
    };
    if changed {
        println!("{user} {verb} {app}");
    } else {
        println!("{user} already {verb} {app}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `plaza write`: the user writes to a mini-app; it gets the message at its
/// next launch.
pub fn write(host: &Host, user: &str, app: &str, text: &str) -> Result<ExitCode> {
    let id = host.write_to_app(user, app, text)?;
    println!("{id}: {app} gets it at its next launch");
    Ok(ExitCode::SUCCESS)
}
