//! Pages: the host's page model (the `pages` interface of the WIT contract;
//! a page of a mini-app built against `plaza:host@0.1.0` is converted into
//! it), checking what a mini-app answers, what a page offers the user, the
//! checks of a submitted value against its input, and rendering a page as
//! text (for the CLI, logs and test failures) and as JSON.
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
//!     refreshable: false,
//! };
//! assert_eq!(offered_actions(&page), vec!["book".to_string()]);
//! assert!(render_text(&page).starts_with("Hospital\n"));
//! ```

use crate::manifest::{Manifest, Scheme};
use plaza_world::app as v0;
use plaza_world::pages::{
    Block, Button, ButtonStyle, ChatMessage, ChoiceOption, Constraints, Event, Image, Input,
    InputKind, KeyValue, LaunchEvent, ListItem, Navigation, Notice, NoticeLevel, Page, SubmitEvent,
};
use std::fmt::Write;

/// Bytes a block costs beyond its text, in the page-size count.
pub const BLOCK_OVERHEAD: usize = 16;
/// The longest action, form or field id, and the longest option value.
pub const MAX_ID_BYTES: usize = 256;
/// The most options a `choice` or `multi-choice` input may have.
pub const MAX_OPTIONS: usize = 500;
/// The longest pattern of an input's constraints.
pub const MAX_PATTERN_BYTES: usize = 512;
/// A `choice` input with at most this many options is shown as radio
/// buttons; with more, as a picker.
pub const RADIO_MAX_OPTIONS: usize = 5;
/// The most memory a compiled pattern may take: a pattern is the
/// mini-app's, and compiling it must stay cheap.
const PATTERN_SIZE_LIMIT: usize = 256 * 1024;

fn item_size(i: &ListItem) -> usize {
    i.title.len()
        + i.detail.len()
        + i.action.as_ref().map_or(0, String::len)
        + i.thumbnail.len()
        + i.trailing.len()
}

fn input_size(i: &Input) -> usize {
    let c = &i.constraints;
    i.form.len()
        + i.name.len()
        + i.label.len()
        + i.value.len()
        + i.options
            .iter()
            .map(|o| o.value.len() + o.label.len() + 8)
            .sum::<usize>()
        + c.min.as_ref().map_or(0, String::len)
        + c.max.as_ref().map_or(0, String::len)
        + c.pattern.as_ref().map_or(0, String::len)
        + c.pattern_hint.len()
}

/// The size of a page as the cap counts it: its text plus a fixed cost per
/// block (and per item of a section).
pub fn page_size(page: &Page) -> usize {
    let mut n = page.title.len();
    for b in &page.blocks {
        n += BLOCK_OVERHEAD
            + match b {
                Block::Heading(s) | Block::Text(s) => s.len(),
                Block::Field(f) => f.label.len() + f.value.len(),
                Block::Item(i) => item_size(i),
                Block::Button(b) => b.label.len() + b.action.len(),
                Block::Input(i) => input_size(i),
                Block::Image(i) => i.url.len() + i.alt.len(),
                Block::Notice(n) => n.text.len(),
                Block::Section(s) => {
                    s.heading.len()
                        + s.load_more.as_ref().map_or(0, String::len)
                        + s.items
                            .iter()
                            .map(|i| BLOCK_OVERHEAD + item_size(i))
                            .sum::<usize>()
                }
            };
    }
    n
}

/// The prefix of an image URL that names an asset of the package.
pub const ASSET_PREFIX: &str = "asset:";

/// Checks a page against the host's rules: at most `max_bytes`, ids non-empty
/// and short, every image either an asset of the package (`asset:NAME`,
/// `NAME` among `assets`) or an `https:` URL of an origin the manifest
/// declares for images (`[capabilities.images] origins`, matched as network
/// origins are), every thumbnail an asset, and every input's options and
/// constraints fitting its kind. Nothing else: a page must not make the
/// embedding app contact a server the manifest does not name (an image URL
/// can carry the user's data out). The error names the block and what is
/// wrong.
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
    let check_item = |item: &ListItem| -> Result<(), String> {
        if item.action.as_deref().is_some_and(|a| !id_ok(a)) {
            return Err(format!(
                "a list item's action must be 1 to {MAX_ID_BYTES} bytes"
            ));
        }
        if !item.thumbnail.is_empty() {
            if !item.thumbnail.starts_with(ASSET_PREFIX) {
                return Err(format!(
                    "the thumbnail `{}` is not `asset:NAME`: a thumbnail is an image of the package's `assets/` folder",
                    item.thumbnail.chars().take(80).collect::<String>()
                ));
            }
            check_image(&item.thumbnail, manifest, assets)?;
        }
        Ok(())
    };
    for (i, b) in page.blocks.iter().enumerate() {
        match b {
            Block::Button(btn) if !id_ok(&btn.action) => {
                return Err(format!(
                    "block {i}: a button's action must be 1 to {MAX_ID_BYTES} bytes"
                ));
            }
            Block::Item(item) => check_item(item).map_err(|why| format!("block {i}: {why}"))?,
            Block::Section(section) => {
                if section.load_more.as_deref().is_some_and(|a| !id_ok(a)) {
                    return Err(format!(
                        "block {i}: a section's load-more action must be 1 to {MAX_ID_BYTES} bytes"
                    ));
                }
                for (j, item) in section.items.iter().enumerate() {
                    check_item(item).map_err(|why| format!("block {i}, item {j}: {why}"))?;
                }
            }
            Block::Input(input) => {
                if !id_ok(&input.form) || !id_ok(&input.name) {
                    return Err(format!(
                        "block {i}: an input's form and name must be 1 to {MAX_ID_BYTES} bytes"
                    ));
                }
                check_input(input).map_err(|why| {
                    format!("block {i} (input `{}.{}`): {why}", input.form, input.name)
                })?;
            }
            Block::Image(img) => check_image(&img.url, manifest, assets)
                .map_err(|why| format!("block {i}: {why}"))?,
            _ => {}
        }
    }
    Ok(())
}

/// Whether an input's options, constraints and starting value fit its kind.
fn check_input(input: &Input) -> Result<(), String> {
    let kind = input.kind;
    let c = &input.constraints;
    let choices = matches!(kind, InputKind::Choice | InputKind::MultiChoice);
    if choices {
        if input.options.is_empty() || input.options.len() > MAX_OPTIONS {
            return Err(format!(
                "a {} input needs 1 to {MAX_OPTIONS} options",
                kind_name(kind)
            ));
        }
        for (n, o) in input.options.iter().enumerate() {
            if o.value.is_empty() || o.value.len() > MAX_ID_BYTES {
                return Err(format!(
                    "option {n}: a value must be 1 to {MAX_ID_BYTES} bytes"
                ));
            }
            if kind == InputKind::MultiChoice && o.value.contains(',') {
                return Err(format!(
                    "option {n}: the value `{}` of a multi-choice input cannot contain `,` (the submitted values are joined with it)",
                    o.value
                ));
            }
            if input.options[..n].iter().any(|p| p.value == o.value) {
                return Err(format!("option {n}: the value `{}` is repeated", o.value));
            }
        }
    } else if !input.options.is_empty() {
        return Err(format!(
            "a {} input has options; only choice and multi-choice inputs do",
            kind_name(kind)
        ));
    }
    if c.min.is_some() || c.max.is_some() {
        if !matches!(kind, InputKind::Number | InputKind::Date | InputKind::Time) {
            return Err(format!(
                "min and max apply to number, date and time inputs, not to a {} input",
                kind_name(kind)
            ));
        }
        let min = c.min.as_deref().map(|m| ordered(kind, m)).transpose();
        let max = c.max.as_deref().map(|m| ordered(kind, m)).transpose();
        let (min, max) = match (min, max) {
            (Ok(min), Ok(max)) => (min, max),
            _ => {
                return Err(format!(
                    "min and max of a {} input must be {}",
                    kind_name(kind),
                    kind_format(kind)
                ));
            }
        };
        if let (Some(min), Some(max)) = (&min, &max)
            && min > max
        {
            return Err(format!(
                "min `{}` is after max `{}`",
                c.min.as_deref().unwrap_or_default(),
                c.max.as_deref().unwrap_or_default()
            ));
        }
    }
    if let Some(pattern) = &c.pattern {
        if choices || kind == InputKind::Switch {
            return Err(format!(
                "a pattern applies to typed values, not to a {} input",
                kind_name(kind)
            ));
        }
        compile_pattern(pattern)?;
    }
    // The starting value must be one the renderers can show.
    let v = input.value.as_str();
    match kind {
        InputKind::Switch if !matches!(v, "" | "true" | "false") => {
            Err(format!("a switch starts `true` or `false`, not `{v}`"))
        }
        InputKind::Choice if !v.is_empty() && !input.options.iter().any(|o| o.value == v) => Err(
            format!("the starting value `{v}` is not one of the options"),
        ),
        InputKind::MultiChoice
            if !v.is_empty()
                && v.split(',')
                    .any(|p| !input.options.iter().any(|o| o.value == p)) =>
        {
            Err(format!(
                "the starting value `{v}` is not a `,`-joined list of option values"
            ))
        }
        _ => Ok(()),
    }
}

/// Compiles an input's pattern, anchored to the whole value, within the
/// host's size limits.
fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!(
            "the pattern is {} bytes; at most {MAX_PATTERN_BYTES}",
            pattern.len()
        ));
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let e = e.to_string();
            let first = e.lines().last().unwrap_or_default().trim().to_string();
            format!("the pattern `{pattern}` does not compile: {first}")
        })
}

/// A value of a number, date or time input, as something that orders:
/// numbers by value, dates and times by their text (`YYYY-MM-DD` and
/// `HH:MM` order as text once checked).
#[derive(Debug, PartialEq, PartialOrd)]
enum Ordered {
    Number(f64),
    Text(String),
}

fn ordered(kind: InputKind, value: &str) -> Result<Ordered, ()> {
    match kind {
        InputKind::Number => parse_number(value).map(Ordered::Number),
        InputKind::Date if is_date(value) => Ok(Ordered::Text(value.to_string())),
        InputKind::Time if is_time(value) => Ok(Ordered::Text(value.to_string())),
        _ => Err(()),
    }
}

fn parse_number(value: &str) -> Result<f64, ()> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    match value.parse::<f64>() {
        Ok(n) if ok && n.is_finite() => Ok(n),
        _ => Err(()),
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether `s` is a calendar date written `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(&s[0..4]), digits(&s[5..7]), digits(&s[8..10]))
    else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Whether `s` is a time of day written `HH:MM`.
pub fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && digits(&s[0..2]).is_some_and(|h| h < 24)
        && digits(&s[3..5]).is_some_and(|m| m < 60)
}

fn kind_format(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Number => "a number",
        InputKind::Date => "a date (YYYY-MM-DD)",
        InputKind::Time => "a time (HH:MM)",
        _ => "text",
    }
}

/// Checks a submitted `value` of `input` as the host does before the
/// submission reaches the mini-app, and returns the value the mini-app gets
/// (a hidden or read-only input's own value, a switch's `false` for empty,
/// a multi-choice's values in option order). The error is the reason for
/// the user, said of the field ("must be on or after 2026-12-04").
pub fn check_value(input: &Input, value: &str) -> Result<String, String> {
    if input.kind == InputKind::Hidden || input.read_only {
        if value != input.value {
            return Err("cannot be changed".to_string());
        }
        return Ok(input.value.clone());
    }
    let kind = input.kind;
    if kind == InputKind::Switch {
        return match value {
            "" | "false" => Ok("false".into()),
            "true" => Ok("true".into()),
            _ => Err("must be on or off (`true` or `false`)".into()),
        };
    }
    if value.trim().is_empty() {
        return if input.required {
            Err("is required".into())
        } else {
            Ok(value.to_string())
        };
    }
    let c = &input.constraints;
    let value = match kind {
        InputKind::Choice => {
            if !input.options.iter().any(|o| o.value == value) {
                return Err(format!("must be one of: {}", option_labels(input)));
            }
            value.to_string()
        }
        InputKind::MultiChoice => {
            let chosen: Vec<&str> = value.split(',').collect();
            if let Some(bad) = chosen
                .iter()
                .find(|v| !input.options.iter().any(|o| o.value == **v))
            {
                return Err(format!(
                    "`{bad}` is not among the choices: {}",
                    option_labels(input)
                ));
            }
            input
                .options
                .iter()
                .filter(|o| chosen.contains(&o.value.as_str()))
                .map(|o| o.value.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }
        InputKind::Number | InputKind::Date | InputKind::Time => {
            let Ok(v) = ordered(kind, value) else {
                return Err(format!("must be {}", kind_format(kind)));
            };
            let bound = |b: &Option<String>| b.as_deref().and_then(|b| ordered(kind, b).ok());
            let (after, before) = match kind {
                InputKind::Number => ("at least", "at most"),
                _ => ("on or after", "on or before"),
            };
            if let (Some(min), Some(text)) = (bound(&c.min), &c.min)
                && v < min
            {
                return Err(format!("must be {after} {text}"));
            }
            if let (Some(max), Some(text)) = (bound(&c.max), &c.max)
                && v > max
            {
                return Err(format!("must be {before} {text}"));
            }
            value.to_string()
        }
        _ => value.to_string(),
    };
    if let Some(max) = c.max_length
        && value.chars().count() > max as usize
    {
        return Err(format!("must be at most {max} characters"));
    }
    if let Some(pattern) = &c.pattern {
        // A pattern that does not compile was refused with the page.
        let re = compile_pattern(pattern)?;
        if !re.is_match(&value) {
            return Err(if c.pattern_hint.trim().is_empty() {
                format!("must match the pattern `{pattern}`")
            } else {
                format!("must look like {}", c.pattern_hint.trim())
            });
        }
    }
    Ok(value)
}

fn option_labels(input: &Input) -> String {
    let mut labels: Vec<String> = input
        .options
        .iter()
        .take(10)
        .map(|o| o.label.clone())
        .collect();
    if input.options.len() > 10 {
        labels.push("...".into());
    }
    labels.join(", ")
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
    if let Some(id) = url.strip_prefix(crate::media::MEDIA_PREFIX) {
        if !manifest.declares(crate::manifest::Capability::Media) {
            return Err(format!(
                "the image `{shown}` is a file the user gave, which needs `[capabilities.media]` in plaza.toml"
            ));
        }
        if id.is_empty()
            || id.len() > crate::capabilities::MAX_MEDIA_ID_BYTES
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "the image `{shown}` is not `media:ID` with the id of a file the user gave"
            ));
        }
        return Ok(());
    }
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

/// The action ids a page offers (buttons and tappable items, of sections
/// too), in page order, without repeats.
pub fn offered_actions(page: &Page) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |a: Option<&String>| {
        if let Some(a) = a
            && !out.contains(a)
        {
            out.push(a.clone());
        }
    };
    for b in &page.blocks {
        match b {
            Block::Button(btn) => add(Some(&btn.action)),
            Block::Item(item) => add(item.action.as_ref()),
            Block::Section(section) => {
                for item in &section.items {
                    add(item.action.as_ref());
                }
            }
            _ => {}
        }
    }
    out
}

/// The `load-more` action ids of a page's sections, in page order.
pub fn offered_load_more(page: &Page) -> Vec<String> {
    page.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Section(s) => s.load_more.clone(),
            _ => None,
        })
        .collect()
}

/// The forms a page offers, in page order, each with its inputs.
pub fn forms(page: &Page) -> Vec<(String, Vec<&Input>)> {
    let mut out: Vec<(String, Vec<&Input>)> = Vec::new();
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
        InputKind::Choice => "choice",
        InputKind::MultiChoice => "multi-choice",
        InputKind::Switch => "switch",
        InputKind::Hidden => "hidden",
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

/// The name of a navigation.
pub fn navigation_name(n: Navigation) -> &'static str {
    match n {
        Navigation::Push => "push",
        Navigation::Replace => "replace",
        Navigation::Back => "back",
    }
}

/// How a `choice` input is shown: `radio` for a few options, `picker` for
/// more ([`RADIO_MAX_OPTIONS`]).
pub fn choice_display(input: &Input) -> &'static str {
    if input.options.len() <= RADIO_MAX_OPTIONS {
        "radio"
    } else {
        "picker"
    }
}

/// A page of a mini-app built against `plaza:host@0.1.0`, in the host's
/// page model (nothing it can say is lost: its inputs have no options and no
/// constraints, its items no thumbnail, its pages no refresh).
pub fn page_from_v0_1(page: v0::Page) -> Page {
    let item = |i: v0::ListItem| ListItem {
        title: i.title,
        detail: i.detail,
        action: i.action,
        thumbnail: String::new(),
        trailing: String::new(),
    };
    let blocks = page
        .blocks
        .into_iter()
        .map(|b| match b {
            v0::Block::Heading(t) => Block::Heading(t),
            v0::Block::Text(t) => Block::Text(t),
            v0::Block::Field(f) => Block::Field(KeyValue {
                label: f.label,
                value: f.value,
            }),
            v0::Block::Item(i) => Block::Item(item(i)),
            v0::Block::Button(b) => Block::Button(Button {
                label: b.label,
                action: b.action,
                style: match b.style {
                    v0::ButtonStyle::Primary => ButtonStyle::Primary,
                    v0::ButtonStyle::Secondary => ButtonStyle::Secondary,
                    v0::ButtonStyle::Danger => ButtonStyle::Danger,
                },
            }),
            v0::Block::Input(i) => Block::Input(Input {
                form: i.form,
                name: i.name,
                kind: match i.kind {
                    v0::InputKind::Text => InputKind::Text,
                    v0::InputKind::Multiline => InputKind::Multiline,
                    v0::InputKind::Number => InputKind::Number,
                    v0::InputKind::Date => InputKind::Date,
                    v0::InputKind::Time => InputKind::Time,
                    v0::InputKind::Phone => InputKind::Phone,
                    v0::InputKind::Email => InputKind::Email,
                },
                label: i.label,
                value: i.value,
                required: i.required,
                read_only: false,
                options: Vec::new(),
                constraints: Constraints {
                    min: None,
                    max: None,
                    max_length: None,
                    pattern: None,
                    pattern_hint: String::new(),
                },
            }),
            v0::Block::Image(i) => Block::Image(Image {
                url: i.url,
                alt: i.alt,
            }),
            v0::Block::Notice(n) => Block::Notice(Notice {
                level: match n.level {
                    v0::NoticeLevel::Info => NoticeLevel::Info,
                    v0::NoticeLevel::Success => NoticeLevel::Success,
                    v0::NoticeLevel::Warning => NoticeLevel::Warning,
                    v0::NoticeLevel::Error => NoticeLevel::Error,
                },
                text: n.text,
            }),
        })
        .collect();
    Page {
        title: page.title,
        blocks,
        navigation: match page.navigation {
            v0::Navigation::Push => Navigation::Push,
            v0::Navigation::Replace => Navigation::Replace,
            v0::Navigation::Back => Navigation::Back,
        },
        refreshable: false,
    }
}

/// An event as a mini-app built against `plaza:host@0.1.0` takes it (a
/// launch without the locale); `None` for `load-more` and `refresh`, which
/// its pages never offer.
pub fn event_to_v0_1(event: &Event) -> Option<v0::Event> {
    Some(match event {
        Event::Launch(LaunchEvent { path, query, .. }) => v0::Event::Launch(v0::LaunchEvent {
            path: path.clone(),
            query: query.clone(),
        }),
        Event::Tap(a) => v0::Event::Tap(a.clone()),
        Event::Submit(SubmitEvent { form, fields }) => v0::Event::Submit(v0::SubmitEvent {
            form: form.clone(),
            fields: fields.clone(),
        }),
        Event::Chat(ChatMessage {
            id,
            text,
            sent_at_ms,
        }) => v0::Event::Chat(v0::ChatMessage {
            id: id.clone(),
            text: text.clone(),
            sent_at_ms: *sent_at_ms,
        }),
        Event::Resume => v0::Event::Resume,
        Event::Hide => v0::Event::Hide,
        Event::LoadMore(_) | Event::Refresh => return None,
    })
}

/// A page as JSON, block by block, in the stable schema renderers read
/// (`docs/server.md`): `{"title", "refreshable", "blocks": [{"type", ...}]}`
/// (the server adds the page's `navigation`).
/// Every string is data to show as text, never markup. An image of the
/// package's assets (`asset:NAME`) also gets `src`, the renderer's URL for
/// it from `asset_src(NAME)`, and an item's thumbnail `thumbnail_src`; any
/// other image gets none.
pub fn page_json(page: &Page, asset_src: &dyn Fn(&str) -> String) -> serde_json::Value {
    page_json_with(page, asset_src, &|_| None)
}

/// [`page_json`], where an image of a file the user gave (`media:ID`) gets
/// `src` from `media_src(ID)`: the renderer's URL for it, which it serves
/// only to the session's user (`None`: no `src`).
pub fn page_json_with(
    page: &Page,
    asset_src: &dyn Fn(&str) -> String,
    media_src: &dyn Fn(&str) -> Option<String>,
) -> serde_json::Value {
    use serde_json::json;
    let src = |url: &str| {
        url.strip_prefix(ASSET_PREFIX)
            .filter(|n| crate::package::is_asset_name(n))
            .map(asset_src)
    };
    let item = |i: &ListItem| {
        json!({
            "type": "item",
            "title": i.title,
            "detail": i.detail,
            "action": i.action,
            "thumbnail": i.thumbnail,
            "thumbnail_src": src(&i.thumbnail),
            "trailing": i.trailing,
        })
    };
    let blocks: Vec<serde_json::Value> = page
        .blocks
        .iter()
        .map(|block| match block {
            Block::Heading(t) => json!({"type": "heading", "text": t}),
            Block::Text(t) => json!({"type": "text", "text": t}),
            Block::Field(f) => json!({"type": "field", "label": f.label, "value": f.value}),
            Block::Item(i) => item(i),
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
            Block::Input(i) => {
                let c = &i.constraints;
                let options: Vec<serde_json::Value> = i
                    .options
                    .iter()
                    .map(|o: &ChoiceOption| json!({"value": o.value, "label": o.label}))
                    .collect();
                json!({
                    "type": "input",
                    "form": i.form,
                    "name": i.name,
                    "label": i.label,
                    "value": i.value,
                    "required": i.required,
                    "read_only": i.read_only,
                    "kind": kind_name(i.kind),
                    "display": (i.kind == InputKind::Choice).then(|| choice_display(i)),
                    "options": options,
                    "min": c.min,
                    "max": c.max,
                    "max_length": c.max_length,
                    "pattern": c.pattern,
                    "pattern_hint": c.pattern_hint,
                })
            }
            Block::Image(i) => {
                let src = match i.url.strip_prefix(crate::media::MEDIA_PREFIX) {
                    Some(id) => media_src(id),
                    None => src(&i.url),
                };
                json!({"type": "image", "url": i.url, "alt": i.alt, "src": src})
            }
            Block::Notice(n) => {
                json!({"type": "notice", "text": n.text, "level": level_name(n.level)})
            }
            Block::Section(s) => {
                let items: Vec<serde_json::Value> = s.items.iter().map(item).collect();
                json!({
                    "type": "section",
                    "heading": s.heading,
                    "items": items,
                    "load_more": s.load_more,
                })
            }
        })
        .collect();
    json!({ "title": page.title, "refreshable": page.refreshable, "blocks": blocks })
}

/// Renders a page as plain text: the title on its own first line, then one
/// line per block. Taps show as `(tap ACTION)`, inputs as
/// `form.name (kind): label`, a section's "load more" as
/// `(load-more ACTION)`, a page that can be pulled to refresh as
/// `(refresh)` at its end.
pub fn render_text(page: &Page) -> String {
    render_text_with(page, &|_| None)
}

fn item_line(s: &mut String, i: &ListItem) {
    let mut line = "- ".to_string();
    if let Some(name) = i.thumbnail.strip_prefix(ASSET_PREFIX) {
        let _ = write!(line, "[{}] ", one_line(name));
    }
    line.push_str(&one_line(&i.title));
    if !i.detail.is_empty() {
        let _ = write!(line, " — {}", one_line(&i.detail));
    }
    if !i.trailing.is_empty() {
        let _ = write!(line, "  · {}", one_line(&i.trailing));
    }
    if let Some(a) = &i.action {
        let _ = write!(line, "  (tap {a})");
    }
    let _ = writeln!(s, "{line}");
}

fn input_lines(s: &mut String, i: &Input) {
    let mut tags = vec![kind_name(i.kind).to_string()];
    if i.kind == InputKind::Choice {
        tags.push(choice_display(i).to_string());
    }
    if i.required {
        tags.push("required".into());
    }
    if i.read_only {
        tags.push("read-only".into());
    }
    let c = &i.constraints;
    if let Some(min) = &c.min {
        tags.push(format!("min {}", one_line(min)));
    }
    if let Some(max) = &c.max {
        tags.push(format!("max {}", one_line(max)));
    }
    if let Some(n) = c.max_length {
        tags.push(format!("at most {n} characters"));
    }
    if let Some(p) = &c.pattern {
        if c.pattern_hint.trim().is_empty() {
            tags.push(format!("pattern {}", one_line(p)));
        } else {
            tags.push(format!("like {}", one_line(&c.pattern_hint)));
        }
    }
    let _ = writeln!(
        s,
        "  {}.{} ({}): {}{}",
        i.form,
        i.name,
        tags.join(", "),
        one_line(&i.label),
        if i.value.is_empty() {
            String::new()
        } else {
            format!(" [{}]", one_line(&i.value))
        }
    );
    if !i.options.is_empty() {
        let options: Vec<String> = i
            .options
            .iter()
            .map(|o| format!("{}={}", o.value, one_line(&o.label)))
            .collect();
        let _ = writeln!(s, "      options: {}", options.join(", "));
    }
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
            Block::Item(i) => item_line(&mut s, i),
            Block::Button(btn) => {
                let _ = writeln!(s, "[{}]  (tap {})", one_line(&btn.label), btn.action);
            }
            Block::Input(i) => input_lines(&mut s, i),
            Block::Image(img) => {
                let what = describe(&img.url).map_or(String::new(), |d| format!(" ({d})"));
                let _ = writeln!(s, "[image: {}] {}{what}", one_line(&img.alt), img.url);
            }
            Block::Notice(n) => {
                let _ = writeln!(s, "! {}: {}", level_name(n.level), one_line(&n.text));
            }
            Block::Section(section) => {
                if !section.heading.is_empty() {
                    let _ = writeln!(s, "\n### {}", one_line(&section.heading));
                }
                for i in &section.items {
                    item_line(&mut s, i);
                }
                if let Some(a) = &section.load_more {
                    let _ = writeln!(s, "  ... more  (load-more {a})");
                }
            }
        }
    }
    let forms = forms(page);
    for (form, _) in &forms {
        let _ = writeln!(s, "(submit {form} NAME=VALUE ...)");
    }
    if page.refreshable {
        let _ = writeln!(s, "(refresh)");
    }
    s
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
            refreshable: false,
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
    fn input(kind: InputKind) -> Input {
        Input {
            form: "f".into(),
            name: "x".into(),
            kind,
            label: "X".into(),
            value: String::new(),
            required: false,
            read_only: false,
            options: Vec::new(),
            constraints: Constraints {
                min: None,
                max: None,
                max_length: None,
                pattern: None,
                pattern_hint: String::new(),
            },
        }
    }

    fn options(values: &[&str]) -> Vec<ChoiceOption> {
        values
            .iter()
            .map(|v| ChoiceOption {
                value: v.to_string(),
                label: v.to_uppercase(),
            })
            .collect()
    }

    fn input_page(input: Input) -> Result<(), String> {
        let m = Manifest::parse("plaza.toml", MANIFEST).unwrap();
        let page = Page {
            title: "t".into(),
            blocks: vec![Block::Input(input)],
            navigation: Navigation::Push,
            refreshable: false,
        };
        validate(&page, 1 << 20, &m, &[])
    }

    #[test]
    fn inputs_whose_rules_do_not_fit_their_kind_are_refused_with_the_page() {
        let bad = |i: Input, why: &str| {
            let e = input_page(i).unwrap_err();
            assert!(e.starts_with("block 0 (input `f.x`): "), "{e}");
            assert!(e.contains(why), "expected {why:?} in {e}");
        };
        let mut i = input(InputKind::Text);
        i.constraints.min = Some("1".into());
        bad(
            i,
            "min and max apply to number, date and time inputs, not to a text input",
        );
        let mut i = input(InputKind::Date);
        i.constraints.min = Some("2026-12-18".into());
        i.constraints.max = Some("2026-12-04".into());
        bad(i, "min `2026-12-18` is after max `2026-12-04`");
        let mut i = input(InputKind::Number);
        i.constraints.max = Some("ten".into());
        bad(i, "min and max of a number input must be a number");
        let mut i = input(InputKind::Text);
        i.constraints.pattern = Some("([a-z]".into());
        bad(i, "the pattern `([a-z]` does not compile");
        let mut i = input(InputKind::Text);
        i.constraints.pattern = Some("a".repeat(MAX_PATTERN_BYTES + 1));
        bad(i, "at most 512");
        // A pattern that would compile huge is refused, not built.
        let mut i = input(InputKind::Text);
        i.constraints.pattern = Some("\\w{1000}{1000}".into());
        bad(i, "does not compile");
        bad(
            input(InputKind::Choice),
            "a choice input needs 1 to 500 options",
        );
        let mut i = input(InputKind::Choice);
        i.options = options(&["a", "a"]);
        bad(i, "option 1: the value `a` is repeated");
        let mut i = input(InputKind::MultiChoice);
        i.options = options(&["a,b"]);
        bad(i, "cannot contain `,`");
        let mut i = input(InputKind::Text);
        i.options = options(&["a"]);
        bad(i, "a text input has options");
        let mut i = input(InputKind::Choice);
        i.options = options(&["a", "b"]);
        i.value = "c".into();
        bad(i, "the starting value `c` is not one of the options");
        let mut i = input(InputKind::Switch);
        i.value = "on".into();
        bad(i, "a switch starts `true` or `false`");
        let mut i = input(InputKind::Choice);
        i.options = options(&["a", "b"]);
        i.constraints.pattern = Some("a".into());
        bad(i, "a pattern applies to typed values");
        // What fits is accepted.
        let mut i = input(InputKind::Time);
        i.constraints.min = Some("08:00".into());
        i.constraints.max = Some("17:30".into());
        input_page(i).unwrap();
        let mut i = input(InputKind::MultiChoice);
        i.options = options(&["a", "b"]);
        i.value = "b,a".into();
        input_page(i).unwrap();
    }

    #[test]
    fn values_are_checked_and_normalised() {
        assert!(is_date("2024-02-29") && !is_date("2026-02-29") && !is_date("2026-13-01"));
        assert!(!is_date("2026-1-01") && !is_date("+026-01-01"));
        assert!(is_time("23:59") && !is_time("24:00") && !is_time("9:30"));
        let mut n = input(InputKind::Number);
        n.constraints.min = Some("-2.5".into());
        assert_eq!(check_value(&n, "-2.5"), Ok("-2.5".into()));
        assert_eq!(check_value(&n, "-3"), Err("must be at least -2.5".into()));
        for not_a_number in ["1e3", "inf", "NaN", "0x10", "1,5"] {
            assert_eq!(
                check_value(&n, not_a_number),
                Err("must be a number".into()),
                "{not_a_number}"
            );
        }
        let mut t = input(InputKind::Text);
        t.constraints.max_length = Some(2);
        assert_eq!(
            check_value(&t, "浙A"),
            Ok("浙A".into()),
            "characters, not bytes"
        );
        assert!(check_value(&t, "浙A1").is_err());
        let mut p = input(InputKind::Text);
        p.constraints.pattern = Some("a|b".into());
        assert!(check_value(&p, "a").is_ok());
        assert!(check_value(&p, "ab").is_err(), "the whole value must match");
        let mut h = input(InputKind::Hidden);
        h.value = "v".into();
        assert_eq!(check_value(&h, "v"), Ok("v".into()));
        assert_eq!(check_value(&h, ""), Err("cannot be changed".into()));
    }

    #[test]
    fn a_page_of_the_0_1_contract_converts_and_events_go_back() {
        let old = v0::Page {
            title: "Old".into(),
            blocks: vec![
                v0::Block::Item(v0::ListItem {
                    title: "a".into(),
                    detail: "b".into(),
                    action: Some("go".into()),
                }),
                v0::Block::Input(v0::Input {
                    form: "f".into(),
                    name: "n".into(),
                    kind: v0::InputKind::Email,
                    label: "E".into(),
                    value: "v".into(),
                    required: true,
                }),
            ],
            navigation: v0::Navigation::Back,
        };
        let page = page_from_v0_1(old);
        assert_eq!(page.navigation, Navigation::Back);
        assert!(!page.refreshable);
        assert_eq!(offered_actions(&page), vec!["go".to_string()]);
        let Block::Input(i) = &page.blocks[1] else {
            panic!()
        };
        assert_eq!(
            (i.kind, i.required, i.read_only),
            (InputKind::Email, true, false)
        );
        let launch = Event::Launch(LaunchEvent {
            path: "/p".into(),
            query: Vec::new(),
            locale: "en".into(),
        });
        assert!(matches!(event_to_v0_1(&launch), Some(v0::Event::Launch(l)) if l.path == "/p"));
        assert!(event_to_v0_1(&Event::Refresh).is_none());
        assert!(event_to_v0_1(&Event::LoadMore("m".into())).is_none());
    }
}
