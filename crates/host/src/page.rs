//! Pages: checking what a mini-app answers, what a page offers the user, and
//! rendering a page as text (for the CLI, logs and test failures).
//!
//! ```
//! use plaza_host::page::{render_text, offered_actions};
//! use plaza_host::{Block, Button, ButtonStyle, Navigation, Page};
//! let page = Page {
//!     title: "Hospital".into(),
//!     blocks: vec![Block::Button(Button {
//!         label: "Book".into(),
//!         action: "book".into(),
//!         style: ButtonStyle::Primary,
//!     })],
//!     navigation: Navigation::Push,
//! };
//! assert_eq!(offered_actions(&page), vec!["book".to_string()]);
//! assert!(render_text(&page).starts_with("Hospital\n"));
//! ```

use plaza_world::app::{Block, InputKind, NoticeLevel, Page};
use std::fmt::Write;

/// Bytes a block costs beyond its text, in the page-size count.
pub const BLOCK_OVERHEAD: usize = 16;
/// The longest action, form or field id.
pub const MAX_ID_BYTES: usize = 256;

/// The size of a page as the cap counts it: its text plus a fixed cost per
/// block.
pub fn page_size(page: &Page) -> usize {
    let mut n = page.title.len();
    for b in &page.blocks {
        n += BLOCK_OVERHEAD
            + match b {
                Block::Heading(s) | Block::Text(s) => s.len(),
                Block::Field(f) => f.label.len() + f.value.len(),
                Block::Item(i) => {
                    i.title.len() + i.detail.len() + i.action.as_ref().map_or(0, String::len)
                }
                Block::Button(b) => b.label.len() + b.action.len(),
                Block::Input(i) => i.form.len() + i.name.len() + i.label.len() + i.value.len(),
                Block::Image(i) => i.url.len() + i.alt.len(),
                Block::Notice(n) => n.text.len(),
            };
    }
    n
}

/// Checks a page against the host's rules: at most `max_bytes`, ids non-empty
/// and short, images over `https:`.
pub fn validate(page: &Page, max_bytes: usize) -> Result<(), String> {
    let size = page_size(page);
    if size > max_bytes {
        return Err(format!(
            "the page is {size} bytes; the cap is {max_bytes} bytes (split it into pages, or page a long list)"
        ));
    }
    let id_ok = |s: &str| !s.is_empty() && s.len() <= MAX_ID_BYTES;
    for (i, b) in page.blocks.iter().enumerate() {
        match b {
            Block::Button(btn) if !id_ok(&btn.action) => {
                return Err(format!(
                    "block {i}: a button's action must be 1 to {MAX_ID_BYTES} bytes"
                ));
            }
            Block::Item(item) if item.action.as_deref().is_some_and(|a| !id_ok(a)) => {
                return Err(format!(
                    "block {i}: a list item's action must be 1 to {MAX_ID_BYTES} bytes"
                ));
            }
            Block::Input(input) if !id_ok(&input.form) || !id_ok(&input.name) => {
                return Err(format!(
                    "block {i}: an input's form and name must be 1 to {MAX_ID_BYTES} bytes"
                ));
            }
            Block::Image(img) if !img.url.starts_with("https://") => {
                return Err(format!(
                    "block {i}: image URL `{}` is not https:",
                    img.url.chars().take(80).collect::<String>()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The action ids a page offers (buttons and tappable items), in page order,
/// without repeats.
pub fn offered_actions(page: &Page) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in &page.blocks {
        let action = match b {
            Block::Button(btn) => Some(&btn.action),
            Block::Item(item) => item.action.as_ref(),
            _ => None,
        };
        if let Some(a) = action
            && !out.contains(a)
        {
            out.push(a.clone());
        }
    }
    out
}

/// The forms a page offers, in page order, each with its inputs.
pub fn forms(page: &Page) -> Vec<(String, Vec<&plaza_world::app::Input>)> {
    let mut out: Vec<(String, Vec<&plaza_world::app::Input>)> = Vec::new();
    for b in &page.blocks {
        if let Block::Input(input) = b {
            match out.iter_mut().find(|(f, _)| *f == input.form) {
                Some((_, inputs)) => inputs.push(input),
                None => out.push((input.form.clone(), vec![input])),
            }
        }
    }
    out
}

/// An input's kind as the WIT contract spells it (`text`, `phone`, ...).
pub fn kind_name(k: InputKind) -> &'static str {
    match k {
        InputKind::Text => "text",
        InputKind::Multiline => "multiline",
        InputKind::Number => "number",
        InputKind::Date => "date",
        InputKind::Time => "time",
        InputKind::Phone => "phone",
        InputKind::Email => "email",
    }
}

/// The name of a notice level.
pub fn level_name(l: NoticeLevel) -> &'static str {
    match l {
        NoticeLevel::Info => "info",
        NoticeLevel::Success => "success",
        NoticeLevel::Warning => "warning",
        NoticeLevel::Error => "error",
    }
}

/// Renders a page as plain text: the title on its own first line, then one
/// line per block. Taps show as `(tap ACTION)`, inputs as
/// `form.name (kind): label`.
pub fn render_text(page: &Page) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", one_line(&page.title));
    let _ = writeln!(s, "{}", "=".repeat(page.title.chars().count().clamp(3, 60)));
    for b in &page.blocks {
        match b {
            Block::Heading(t) => {
                let _ = writeln!(s, "\n## {}", one_line(t));
            }
            Block::Text(t) => {
                let _ = writeln!(s, "{t}");
            }
            Block::Field(f) => {
                let _ = writeln!(s, "{}: {}", one_line(&f.label), one_line(&f.value));
            }
            Block::Item(i) => {
                let mut line = format!("- {}", one_line(&i.title));
                if !i.detail.is_empty() {
                    let _ = write!(line, " — {}", one_line(&i.detail));
                }
                if let Some(a) = &i.action {
                    let _ = write!(line, "  (tap {a})");
                }
                let _ = writeln!(s, "{line}");
            }
            Block::Button(btn) => {
                let _ = writeln!(s, "[{}]  (tap {})", one_line(&btn.label), btn.action);
            }
            Block::Input(i) => {
                let _ = writeln!(
                    s,
                    "  {}.{} ({}{}): {}{}",
                    i.form,
                    i.name,
                    kind_name(i.kind),
                    if i.required { ", required" } else { "" },
                    one_line(&i.label),
                    if i.value.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", one_line(&i.value))
                    }
                );
            }
            Block::Image(img) => {
                let _ = writeln!(s, "[image: {}] {}", one_line(&img.alt), img.url);
            }
            Block::Notice(n) => {
                let _ = writeln!(s, "! {}: {}", level_name(n.level), one_line(&n.text));
            }
        }
    }
    let forms = forms(page);
    for (form, _) in &forms {
        let _ = writeln!(s, "(submit {form} NAME=VALUE ...)");
    }
    s
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
