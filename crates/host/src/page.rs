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

use crate::manifest::{Manifest, Scheme};
use plaza_world::app::{Block, ButtonStyle, InputKind, NoticeLevel, Page};
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

/// The prefix of an image URL that names an asset of the package.
pub const ASSET_PREFIX: &str = "asset:";

/// Checks a page against the host's rules: at most `max_bytes`, ids non-empty
/// and short, and every image either an asset of the package (`asset:NAME`,
/// `NAME` among `assets`) or an `https:` URL of an origin the manifest
/// declares for images (`[capabilities.images] origins`, matched as network
/// origins are). Nothing else: a page must not make the embedding app
/// contact a server the manifest does not name (an image URL can carry the
/// user's data out). The error names the block and the image's origin.
pub fn validate(
    page: &Page,
    max_bytes: usize,
    manifest: &Manifest,
    assets: &[String],
) -> Result<(), String> {
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
            Block::Image(img) => check_image(&img.url, manifest, assets)
                .map_err(|why| format!("block {i}: {why}"))?,
            _ => {}
        }
    }
    Ok(())
}

/// Where an image may come from, or why not.
fn check_image(url: &str, manifest: &Manifest, assets: &[String]) -> Result<(), String> {
    let shown: String = url.chars().take(80).collect();
    let shown = if shown.len() < url.len() {
        format!("{shown}...")
    } else {
        shown
    };
    let advice = "put the image in the package's `assets/` folder and show it as `asset:NAME`, or declare its origin in `[capabilities.images] origins`";
    if let Some(name) = url.strip_prefix(ASSET_PREFIX) {
        if assets.iter().any(|a| a == name) {
            return Ok(());
        }
        return Err(format!(
            "the image `{shown}` names no asset of the package ({}); assets are the files of the `assets/` folder next to `plaza.toml`, packed by `plaza pack`",
            if assets.is_empty() {
                "it has none".to_string()
            } else {
                format!(
                    "it has {}",
                    assets
                        .iter()
                        .take(20)
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    let Some((scheme, host, port)) = url_origin(url) else {
        return Err(format!(
            "the image `{shown}` is neither `asset:NAME` nor an https URL: {advice}"
        ));
    };
    let origin = if port == scheme.default_port() {
        format!("{}://{host}", scheme.as_str())
    } else {
        format!("{}://{host}:{port}", scheme.as_str())
    };
    if manifest
        .image_origins()
        .iter()
        .any(|o| o.matches(scheme.as_str(), &host, port))
    {
        return Ok(());
    }
    Err(format!(
        "the image `{shown}` is from `{origin}`, which the manifest does not declare: {advice}"
    ))
}

/// The scheme, host (lower case) and port of an `https:` or `http:` URL
/// with a host; `None` for anything else (no authority, a user name, a bad
/// port).
fn url_origin(url: &str) -> Option<(Scheme, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        _ => return None,
    };
    let authority = &rest[..rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return None;
    }
    let (host, port) = crate::manifest::split_host_port(authority).ok()?;
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host).to_string();
    if host.is_empty() {
        return None;
    }
    Some((scheme, host, port.unwrap_or(scheme.default_port())))
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

/// A page as JSON, block by block, in the stable schema renderers read
/// (`docs/server.md`): `{"title", "blocks": [{"type", ...}]}` (the server
/// adds the page's `navigation`).
/// Every string is data to show as text, never markup. An image of the
/// package's assets (`asset:NAME`) also gets `src`, the renderer's URL for
/// it from `asset_src(NAME)`; any other image gets none.
pub fn page_json(page: &Page, asset_src: &dyn Fn(&str) -> String) -> serde_json::Value {
    use serde_json::json;
    let blocks: Vec<serde_json::Value> = page
        .blocks
        .iter()
        .map(|block| match block {
            Block::Heading(t) => json!({"type": "heading", "text": t}),
            Block::Text(t) => json!({"type": "text", "text": t}),
            Block::Field(f) => json!({"type": "field", "label": f.label, "value": f.value}),
            Block::Item(i) => {
                json!({"type": "item", "title": i.title, "detail": i.detail, "action": i.action})
            }
            Block::Button(b) => json!({
                "type": "button",
                "label": b.label,
                "action": b.action,
                "style": match b.style {
                    ButtonStyle::Primary => "primary",
                    ButtonStyle::Secondary => "secondary",
                    ButtonStyle::Danger => "danger",
                },
            }),
            Block::Input(i) => json!({
                "type": "input",
                "form": i.form,
                "name": i.name,
                "label": i.label,
                "value": i.value,
                "required": i.required,
                "kind": kind_name(i.kind),
            }),
            Block::Image(i) => {
                let src = i
                    .url
                    .strip_prefix(ASSET_PREFIX)
                    .filter(|n| crate::package::is_asset_name(n))
                    .map(asset_src);
                json!({"type": "image", "url": i.url, "alt": i.alt, "src": src})
            }
            Block::Notice(n) => {
                json!({"type": "notice", "text": n.text, "level": level_name(n.level)})
            }
        })
        .collect();
    json!({ "title": page.title, "blocks": blocks })
}

/// Renders a page as plain text: the title on its own first line, then one
/// line per block. Taps show as `(tap ACTION)`, inputs as
/// `form.name (kind): label`.
pub fn render_text(page: &Page) -> String {
    render_text_with(page, &|_| None)
}

/// [`render_text`], with `describe` saying what an image is (given its URL;
/// `plaza run` gives an asset's size and kind): its answer follows the URL
/// in parentheses, as `[image: Logo] asset:logo.png (12 KB PNG)`.
pub fn render_text_with(page: &Page, describe: &dyn Fn(&str) -> Option<String>) -> String {
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
                let what = describe(&img.url).map_or(String::new(), |d| format!(" ({d})"));
                let _ = writeln!(s, "[image: {}] {}{what}", one_line(&img.alt), img.url);
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

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_world::app::{Image, Navigation};

    const MANIFEST: &str = "[app]\nid = \"a.b\"\nname = \"A\"\nversion = \"1.0.0\"\n[publisher]\nid = \"a.pub\"\nname = \"P\"\ncategory = \"other\"\n";

    fn image_page(url: &str) -> Page {
        Page {
            title: "t".into(),
            blocks: vec![
                Block::Text("x".into()),
                Block::Image(Image {
                    url: url.into(),
                    alt: "a".into(),
                }),
            ],
            navigation: Navigation::Push,
        }
    }

    fn check(manifest: &str, url: &str) -> Result<(), String> {
        let m = Manifest::parse("plaza.toml", manifest).unwrap();
        validate(&image_page(url), 1 << 20, &m, &["logo.png".to_string()])
    }

    #[test]
    fn images_come_from_assets_or_declared_origins_only() {
        let declared = format!(
            "{MANIFEST}[capabilities.images]\norigins = [\"https://img.hz.gov.cn\", \"https://*.cdn.hz.gov.cn:8443\"]\n"
        );
        // An undeclared origin is refused, naming it.
        let e = check(MANIFEST, "https://x.example/p.png?d=13800138000").unwrap_err();
        assert!(
            e.starts_with("block 1: the image `https://x.example/p.png?d=13800138000` is from `https://x.example`, which the manifest does not declare"),
            "{e}"
        );
        assert!(
            e.contains("asset:NAME") && e.contains("[capabilities.images]"),
            "{e}"
        );
        let e = check(&declared, "https://img.hz.gov.cn.evil.cn/p.png").unwrap_err();
        assert!(e.contains("is from `https://img.hz.gov.cn.evil.cn`"), "{e}");
        let e = check(&declared, "https://img.hz.gov.cn@evil.cn/p.png").unwrap_err();
        assert!(e.contains("neither"), "{e}");
        let e = check(&declared, "https://img.hz.gov.cn:444/p.png").unwrap_err();
        assert!(e.contains("is from `https://img.hz.gov.cn:444`"), "{e}");
        let e = check(&declared, "http://img.hz.gov.cn/p.png").unwrap_err();
        assert!(e.contains("is from `http://img.hz.gov.cn`"), "{e}");
        let e = check(MANIFEST, "http://127.0.0.1:9/x.png").unwrap_err();
        assert!(e.contains("is from `http://127.0.0.1:9`"), "{e}");
        for other in [
            "data:image/png;base64,AAAA",
            "//x.example/p.png",
            "/p.png",
            "javascript:1",
        ] {
            let e = check(&declared, other).unwrap_err();
            assert!(
                e.contains("neither `asset:NAME` nor an https URL"),
                "{other}: {e}"
            );
        }
        // A declared origin, exact or wildcard, is accepted.
        check(&declared, "https://img.hz.gov.cn/p.png").unwrap();
        check(&declared, "HTTPS://IMG.hz.gov.cn/p.png?size=2").unwrap();
        check(&declared, "https://a.cdn.hz.gov.cn:8443/p.png").unwrap();
        // An asset of the package is accepted, a missing one refused.
        check(MANIFEST, "asset:logo.png").unwrap();
        let e = check(MANIFEST, "asset:other.png").unwrap_err();
        assert!(
            e.contains("`asset:other.png` names no asset of the package (it has `logo.png`)"),
            "{e}"
        );
        let m = Manifest::parse("plaza.toml", MANIFEST).unwrap();
        let e = validate(&image_page("asset:logo.png"), 1 << 20, &m, &[]).unwrap_err();
        assert!(e.contains("it has none"), "{e}");
    }
}
