//! What the CLI looks like in a terminal: colour, progress lines, errors.
//!
//! - **Colour** (`--color auto|always|never`, default `auto`): `auto` colours
//!   only a terminal, and never when `NO_COLOR` is set (`CLICOLOR_FORCE=1`
//!   forces it, as elsewhere); `always` and `never` win over both. Help,
//!   usage errors, errors and progress lines follow the same choice (clap's
//!   styling and `anstream`, which strips the escapes where there is no
//!   colour).
//! - **Progress** (`plaza build`, `plaza pack`, the builds of `plaza test`):
//!   a line when a step starts and one with its elapsed time when it ends,
//!   on standard error, so standard output stays what scripts read (the
//!   path of the component or package). They are printed whether or not
//!   standard error is a terminal — a CI log shows how long a build took —
//!   and `--quiet` turns them off, with cargo's own output.

use anstyle::{AnsiColor, Effects, Style};
use clap::builder::styling::Styles;
use std::ffi::OsString;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// `--color` and `--quiet`, on every command.
#[derive(Debug, Clone, clap::Args)]
pub struct UiArgs {
    /// When to use colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: ColorWhen,
    /// Print no progress lines (nor cargo's); results and errors still show.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Colour a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

static QUIET: AtomicBool = AtomicBool::new(false);

const GOOD: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);
const BAD: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
const HINT: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
const LITERAL: Style = AnsiColor::Cyan.on_default();

/// clap's styles for help and usage errors, in the colours of our own lines.
pub const STYLES: Styles = Styles::styled()
    .header(GOOD.effects(Effects::BOLD.insert(Effects::UNDERLINE)))
    .usage(GOOD)
    .literal(LITERAL.effects(Effects::BOLD))
    .placeholder(LITERAL)
    .error(BAD)
    .valid(GOOD)
    .invalid(AnsiColor::Yellow.on_default().effects(Effects::BOLD));

/// The `--color` given in `args`, read before clap parses them so that help
/// and usage errors follow it too.
pub fn color_in(args: &[OsString]) -> ColorWhen {
    let mut when = ColorWhen::Auto;
    let mut iter = args.iter().map(|a| a.to_string_lossy());
    while let Some(a) = iter.next() {
        if a == "--" {
            break;
        }
        let value = if a == "--color" {
            iter.next().map(|v| v.into_owned())
        } else {
            a.strip_prefix("--color=").map(str::to_owned)
        };
        when = match value.as_deref() {
            Some("always") => ColorWhen::Always,
            Some("never") => ColorWhen::Never,
            Some("auto") => ColorWhen::Auto,
            _ => when,
        };
    }
    when
}

/// Sets the colour choice for everything printed from now on.
pub fn set_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Whether what goes to standard error is coloured, as decided by
/// [`set_color`] (for the log, which writes its own escapes).
pub fn stderr_has_color() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// clap's colour choice for the same `--color`.
pub fn clap_color(when: ColorWhen) -> clap::ColorChoice {
    match when {
        ColorWhen::Auto => clap::ColorChoice::Auto,
        ColorWhen::Always => clap::ColorChoice::Always,
        ColorWhen::Never => clap::ColorChoice::Never,
    }
}

/// Applies the parsed `--color` and `--quiet`.
pub fn init(args: &UiArgs) {
    set_color(args.color);
    QUIET.store(args.quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress line on standard error: `   Verb what` (unless `--quiet`).
pub fn status(verb: &str, what: &str) {
    if quiet() {
        return;
    }
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{GOOD}{verb:>12}{GOOD:#} {what}");
}

/// A step that prints its elapsed time when it ends.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
}

impl Progress {
    /// Prints `   Verb what` and starts the clock.
    pub fn start(verb: &str, what: &str) -> Progress {
        status(verb, what);
        Progress {
            started: Instant::now(),
        }
    }

    /// Prints `   Verb what in 1.2s`.
    pub fn done(self, verb: &str, what: &str) {
        status(
            verb,
            &format!("{what} in {:.1}s", self.started.elapsed().as_secs_f64()),
        );
    }
}

/// `12 KB` for a size in bytes.
pub fn size(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes} bytes")
    } else if bytes < 10 * 1024 * 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{} MB", bytes / (1024 * 1024))
    }
}

/// Prints an error (and what to do about it, if the CLI knows) on standard
/// error.
pub fn error(e: &anyhow::Error) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{BAD}error:{BAD:#} {}", with_causes(e));
    if let Some(hint) = crate::hints::for_error(e) {
        let _ = writeln!(err, "{HINT}hint:{HINT:#} {hint}");
    }
}

/// An error and its causes, as `{e:#}` writes them (`what: why: ...`),
/// less the causes it already says: the host's errors keep the error
/// underneath as their source and say it in their message too.
pub fn with_causes(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_the_message_already_says_are_not_repeated() {
        let io = std::io::Error::other("disk full");
        let e = anyhow::Error::from(plaza_host::Error::Internal {
            message: format!("writing the log: {io}"),
            source: Some(io.into()),
        })
        .context("installing");
        assert_eq!(
            with_causes(&e),
            "installing: internal error of the host: writing the log: disk full"
        );
        let e = anyhow::Error::from(std::io::Error::other("disk full")).context("installing");
        assert_eq!(with_causes(&e), format!("{e:#}"));
    }

    #[test]
    fn color_is_read_before_parsing() {
        let args = |s: &str| -> Vec<OsString> { s.split(' ').map(OsString::from).collect() };
        assert_eq!(color_in(&args("plaza list")), ColorWhen::Auto);
        assert_eq!(
            color_in(&args("plaza --color never list")),
            ColorWhen::Never
        );
        assert_eq!(
            color_in(&args("plaza list --color=always")),
            ColorWhen::Always
        );
        assert_eq!(
            color_in(&args("plaza write --user a app -- --color=always")),
            ColorWhen::Auto
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(45 * 1024), "45 KB");
    }
}
