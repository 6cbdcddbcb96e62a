//! `plaza run`: a session driven by text actions, pages printed as text.

use anyhow::{Context, Result};
use plaza_host::ledger::format_money;
use plaza_host::page::{ASSET_PREFIX, offered_actions, render_text_with};
use plaza_host::prompt::{
    BoxFuture, CodeKind, ConsentAnswer, ConsentRequest, LinkOffer, MediaAnswer, MediaPrompt,
    MediaSource, PaymentAnswer, PaymentPrompt, Prompter, ScanAnswer, ScanPrompt,
    SubscriptionAnswer, SubscriptionPrompt,
};
use plaza_host::store::{AuditEntry, Outcome};
use plaza_host::{Error, Host, Page, Session};
use plaza_scenario::Action;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The lines `plaza run` reads its actions from (stdin, or `--script`),
/// shared with its prompter: a photo or file prompt that `--upload` does not
/// answer takes its answer from the next line (`upload PATH` or `upload
/// cancel`).
pub type Lines = Arc<Mutex<NumberedLines>>;

/// Lines read one at a time, numbered from 1.
pub struct NumberedLines {
    input: Box<dyn BufRead + Send>,
    read: usize,
    /// A line read for a prompt that had timed out by then: the next one.
    unread: Option<(usize, String)>,
}

impl NumberedLines {
    /// Lines of `input`, shared.
    pub fn shared(input: Box<dyn BufRead + Send>) -> Lines {
        Arc::new(Mutex::new(NumberedLines {
            input,
            read: 0,
            unread: None,
        }))
    }

    /// The next line and its number; `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<(usize, String)>> {
        if let Some(line) = self.unread.take() {
            return Ok(Some(line));
        }
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        self.read += 1;
        Ok(Some((self.read, line)))
    }
}

/// How `plaza run` answers consent questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsentChoice {
    /// Allow, and remember it.
    Allow,
    /// Refuse, and remember it.
    Deny,
    /// Close the question: denied this time, asked again next time.
    Dismiss,
}

/// How `plaza run` answers payment confirmations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PayChoice {
    /// Pay.
    Confirm,
    /// Refuse to pay.
    Decline,
    /// Close the confirmation.
    Cancel,
}

/// How `plaza run` answers requests to accept message templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubscribeChoice {
    /// Accept one message of each template.
    Accept,
    /// Accept any number where offered (one message otherwise).
    LongTerm,
    /// Refuse.
    Reject,
}

/// How `plaza run` answers offers to open a scanned Plaza link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkOfferChoice {
    /// Open the link: the session goes on in the link's mini-app, at its
    /// page.
    Open,
    /// Stay: the mini-app that scanned just gets the text.
    Stay,
}

impl ConsentChoice {
    /// The answer as scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentChoice::Allow => "allow",
            ConsentChoice::Deny => "deny",
            ConsentChoice::Dismiss => "dismiss",
        }
    }
}

impl PayChoice {
    /// The answer as scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            PayChoice::Confirm => "confirm",
            PayChoice::Decline => "decline",
            PayChoice::Cancel => "cancel",
        }
    }
}

impl SubscribeChoice {
    /// The answer as scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscribeChoice::Accept => "accept",
            SubscribeChoice::LongTerm => "long-term",
            SubscribeChoice::Reject => "reject",
        }
    }
}

/// The options of a session driven from the command line, shared by
/// `plaza run` and `plaza open`.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// The user.
    #[arg(long, default_value = "guest")]
    pub user: String,
    /// Read actions from this file instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// The user's locale given to the mini-app at launch (a BCP 47 tag
    /// such as `zh-CN` or `en-US`; default: none).
    #[arg(long, default_value = "")]
    pub locale: String,
    /// How to answer consent questions (no user is at hand to ask).
    #[arg(long, value_enum, default_value = "dismiss")]
    pub consent: ConsentChoice,
    /// How to answer payment confirmations.
    #[arg(long, value_enum, default_value = "cancel")]
    pub pay: PayChoice,
    /// How to answer requests to accept message templates.
    #[arg(long, value_enum, default_value = "reject")]
    pub subscribe: SubscribeChoice,
    /// The answer to the next request for a photo or file: a file's
    /// path, or `cancel`. Repeat it for later requests, in order; a
    /// request past them is answered by the next input line, `upload PATH`
    /// or `upload cancel`.
    #[arg(long, value_name = "PATH|cancel", value_parser = UploadChoice::parse)]
    pub upload: Vec<UploadChoice>,
    /// The answer to the next request to scan a code: the code's text (a
    /// QR code; `barcode:TEXT` for a barcode), or `cancel`. Repeat it for
    /// later requests, in order; a request past them is cancelled.
    #[arg(long, value_name = "TEXT|cancel", value_parser = ScanChoice::parse)]
    pub scan: Vec<ScanChoice>,
    /// How to answer the offer to open a Plaza link a scan read (to an
    /// installed mini-app): `open` goes on in that mini-app at the link's
    /// page.
    #[arg(long, value_enum, default_value = "stay")]
    pub link_offer: LinkOfferChoice,
    /// Write the session as a scenario file (each page seen becomes the
    /// step's expectations) for `plaza test` to replay.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

impl SessionArgs {
    /// The prompter answering as these options say.
    pub fn prompter(&self) -> std::sync::Arc<AnswerPrompter> {
        std::sync::Arc::new(
            AnswerPrompter::new(self.consent, self.pay, self.subscribe)
                .with_uploads(self.upload.clone())
                .with_scans(self.scan.clone(), self.link_offer),
        )
    }

    /// Runs the session of `app` on `host`: `first` (a launch, or the link
    /// `plaza open` opens), then the actions of `--script` or stdin, pages
    /// printed to stdout; with `--record`, written as a scenario naming
    /// `target` (a package file, or the installed mini-app's id).
    /// `prompter` (the host's, from [`SessionArgs::prompter`]) reads the
    /// answers to photo prompts from the same lines.
    pub async fn drive(
        &self,
        host: &Host,
        prompter: &AnswerPrompter,
        target: &str,
        app: &str,
        first: Option<Action>,
    ) -> Result<std::process::ExitCode> {
        let input: Box<dyn BufRead + Send> = match &self.script {
            Some(p) => Box::new(std::io::BufReader::new(
                std::fs::File::open(p)
                    .with_context(|| format!("opening the script {}", p.display()))?,
            )),
            None => Box::new(std::io::BufReader::new(std::io::stdin())),
        };
        let input = NumberedLines::shared(input);
        prompter.read_uploads_from(input.clone());
        let mut recorder = match &self.record {
            Some(file) => Some(recorder(host, target, app, &self.user, file)?),
            None => None,
        };
        if let Some(r) = &mut recorder {
            r.answers(
                Some(self.consent.as_str()),
                self.pay.as_str(),
                self.subscribe.as_str(),
            );
            r.start_at(plaza_host::clock::Clock::now_ms(
                &plaza_host::clock::SystemClock,
            ));
        }
        let errors = run(
            host,
            &self.user,
            app,
            first,
            &self.locale,
            input,
            &mut std::io::stdout(),
            recorder.as_mut(),
        )
        .await?;
        if let (Some(r), Some(file)) = (&recorder, &self.record) {
            std::fs::write(file, r.to_toml())
                .with_context(|| format!("writing {}", file.display()))?;
            eprintln!("recorded the session in {}", file.display());
        }
        if self.script.is_some() && errors > 0 {
            eprintln!("{errors} action(s) failed");
            return Ok(std::process::ExitCode::FAILURE);
        }
        Ok(std::process::ExitCode::SUCCESS)
    }
}

/// Answers the host's questions as the command line said, and prints each
/// question and answer, so a headless run shows what a user would be asked.
pub struct AnswerPrompter {
    consent: ConsentChoice,
    pay: PayChoice,
    subscribe: SubscribeChoice,
    /// The answers to the next photo or file prompts, in order (`--upload`).
    uploads: std::sync::Mutex<std::collections::VecDeque<UploadChoice>>,
    /// Where the answers to later photo or file prompts are read from.
    lines: std::sync::Mutex<Option<Lines>>,
    /// The answers to the next scans, in order (`--scan`).
    scans: std::sync::Mutex<std::collections::VecDeque<ScanChoice>>,
    /// The answer to offers to open a scanned link (`--link-offer`).
    link_offer: LinkOfferChoice,
}

impl std::fmt::Debug for AnswerPrompter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerPrompter")
            .field("consent", &self.consent)
            .field("pay", &self.pay)
            .field("subscribe", &self.subscribe)
            .field("uploads", &self.uploads)
            .field("scans", &self.scans)
            .field("link_offer", &self.link_offer)
            .finish_non_exhaustive()
    }
}

/// An answer to a scan: `--scan TEXT` (a QR code), `--scan barcode:TEXT`
/// or `--scan cancel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanChoice {
    /// The scanner read this code.
    Code(CodeKind, String),
    /// Close the scanner.
    Cancel,
}

impl ScanChoice {
    /// Parses `--scan`'s value: `cancel`, `barcode:TEXT`, `qr:TEXT`, or a
    /// QR code's text.
    pub fn parse(text: &str) -> Result<ScanChoice, String> {
        if text == "cancel" {
            return Ok(ScanChoice::Cancel);
        }
        let (kind, code) = if let Some(code) = text.strip_prefix("barcode:") {
            (CodeKind::Barcode, code)
        } else {
            (CodeKind::Qr, text.strip_prefix("qr:").unwrap_or(text))
        };
        if code.is_empty() {
            return Err("the scanned text is empty (give the code's text, or `cancel`)".into());
        }
        Ok(ScanChoice::Code(kind, code.to_string()))
    }
}

/// An answer to a photo or file prompt: `--upload PATH` or `--upload cancel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadChoice {
    /// Choose this file.
    File(PathBuf),
    /// Close the picker.
    Cancel,
}

impl UploadChoice {
    /// Parses `--upload`'s value: `cancel`, or the path of a file that
    /// exists.
    pub fn parse(text: &str) -> Result<UploadChoice, String> {
        if text == "cancel" {
            return Ok(UploadChoice::Cancel);
        }
        let path = PathBuf::from(text);
        if !path.is_file() {
            return Err(format!(
                "no file `{text}` (give a file's path, or `cancel`)"
            ));
        }
        Ok(UploadChoice::File(path))
    }
}

impl AnswerPrompter {
    /// A prompter answering with these choices.
    pub fn new(
        consent: ConsentChoice,
        pay: PayChoice,
        subscribe: SubscribeChoice,
    ) -> AnswerPrompter {
        AnswerPrompter {
            consent,
            pay,
            subscribe,
            uploads: Default::default(),
            lines: Default::default(),
            scans: Default::default(),
            link_offer: LinkOfferChoice::Stay,
        }
    }

    /// Answers photo or file prompts past `--upload`'s with the next of
    /// `lines`: `upload PATH` or `upload cancel`.
    pub fn read_uploads_from(&self, lines: Lines) {
        *self.lines.lock().unwrap_or_else(|p| p.into_inner()) = Some(lines);
    }

    /// Answers the next scans with `scans`, in order (scans past them are
    /// cancelled), and offers to open a scanned link with `link_offer`.
    pub fn with_scans(self, scans: Vec<ScanChoice>, link_offer: LinkOfferChoice) -> AnswerPrompter {
        *self.scans.lock().unwrap_or_else(|p| p.into_inner()) = scans.into();
        AnswerPrompter { link_offer, ..self }
    }

    /// Answers the next photo or file prompts with `uploads`, in order;
    /// prompts past them are cancelled.
    pub fn with_uploads(self, uploads: Vec<UploadChoice>) -> AnswerPrompter {
        *self.uploads.lock().unwrap_or_else(|p| p.into_inner()) = uploads.into();
        self
    }
}

impl Prompter for AnswerPrompter {
    fn ask_consent<'a>(&'a self, r: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        let answer = match self.consent {
            ConsentChoice::Allow => ConsentAnswer::Allow,
            ConsentChoice::Deny => ConsentAnswer::Deny,
            ConsentChoice::Dismiss => ConsentAnswer::Dismiss,
        };
        println!(
            "? {} ({}) asks for your {}: \"{}\" -> {:?}",
            r.app_name, r.publisher_name, r.scope, r.purpose, answer
        );
        Box::pin(async move { answer })
    }

    fn confirm_payment<'a>(&'a self, p: &'a PaymentPrompt) -> BoxFuture<'a, PaymentAnswer> {
        let answer = match self.pay {
            PayChoice::Confirm => PaymentAnswer::Confirm,
            PayChoice::Decline => PaymentAnswer::Decline,
            PayChoice::Cancel => PaymentAnswer::Cancel,
        };
        let m = |a: u64| format_money(a as i64, &p.currency);
        println!(
            "? pay {} to {} for \"{}\" (insurance {}, wallet {} of {}) -> {:?}",
            m(p.amount),
            p.payee,
            p.description,
            m(p.insurance_part),
            m(p.wallet_part),
            m(p.wallet_balance),
            answer
        );
        Box::pin(async move { answer })
    }

    fn ask_subscription<'a>(
        &'a self,
        p: &'a SubscriptionPrompt,
    ) -> BoxFuture<'a, Vec<SubscriptionAnswer>> {
        let answer = match self.subscribe {
            SubscribeChoice::Accept => SubscriptionAnswer::AcceptOnce,
            SubscribeChoice::LongTerm => SubscriptionAnswer::AcceptLongTerm,
            SubscribeChoice::Reject => SubscriptionAnswer::Reject,
        };
        let titles: Vec<String> = p
            .templates
            .iter()
            .map(|t| {
                format!(
                    "{}{}",
                    t.title,
                    if t.long_term {
                        " (long-term offered)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        println!(
            "? {} ({}) asks to send you: {} -> {:?}",
            p.app_name,
            p.publisher_name,
            titles.join(", "),
            answer
        );
        let n = p.templates.len();
        Box::pin(async move { vec![answer; n] })
    }

    fn choose_media<'a>(&'a self, p: &'a MediaPrompt) -> BoxFuture<'a, MediaAnswer> {
        let next = self
            .uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        let kinds: Vec<String> = p.kinds.iter().map(|k| k.to_string()).collect();
        let asked = format!(
            "? {} ({}) asks for a {} from {}: \"{}\" ({}, at most {})",
            p.app_name,
            p.publisher_name,
            if p.source == MediaSource::Files {
                "file"
            } else {
                "photo"
            },
            p.source.words(),
            p.purpose,
            kinds.join(" or "),
            crate::ui::size(p.max_bytes)
        );
        let answer = match next {
            Some(UploadChoice::File(path)) => match std::fs::read(&path) {
                Ok(bytes) => {
                    println!(
                        "{asked} -> {} ({})",
                        path.display(),
                        crate::ui::size(bytes.len() as u64)
                    );
                    MediaAnswer::File {
                        name: path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        bytes,
                    }
                }
                Err(e) => {
                    println!("{asked} -> cancelled (reading {}: {e})", path.display());
                    MediaAnswer::Cancel
                }
            },
            Some(UploadChoice::Cancel) => {
                println!("{asked} -> cancelled");
                MediaAnswer::Cancel
            }
            None => {
                let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let Some(lines) = lines else {
                    println!("{asked} -> cancelled (answer with --upload PATH)");
                    return Box::pin(async { MediaAnswer::Cancel });
                };
                return Box::pin(async move {
                    println!("{asked}\n  answer with `upload PATH` or `upload cancel`:");
                    let _ = std::io::stdout().flush();
                    // Set when the host stops waiting (the prompt timed
                    // out): the line read then is the next action's.
                    let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let _waiting = StopsWaiting(gone.clone());
                    tokio::task::spawn_blocking(move || read_upload(&lines, &gone))
                        .await
                        .unwrap_or(MediaAnswer::Cancel)
                });
            }
        };
        Box::pin(async move { answer })
    }

    fn scan_code<'a>(&'a self, p: &'a ScanPrompt) -> BoxFuture<'a, ScanAnswer> {
        let next = self
            .scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        let kinds: Vec<&str> = p
            .kinds
            .iter()
            .map(|k| match k {
                CodeKind::Qr => "a QR code",
                CodeKind::Barcode => "a barcode",
            })
            .collect();
        let asked = format!(
            "? {} ({}) asks you to scan {}: \"{}\"",
            p.app_name,
            p.publisher_name,
            kinds.join(" or "),
            p.purpose
        );
        let answer = match next {
            Some(ScanChoice::Code(kind, text)) => {
                println!("{asked} -> {kind} {text:?}");
                ScanAnswer::Code { text, kind }
            }
            Some(ScanChoice::Cancel) | None => {
                println!("{asked} -> cancelled (answer with --scan TEXT)");
                ScanAnswer::Cancel
            }
        };
        Box::pin(async move { answer })
    }

    fn offer_link<'a>(&'a self, o: &'a LinkOffer) -> BoxFuture<'a, bool> {
        let open = self.link_offer == LinkOfferChoice::Open;
        println!(
            "? open {} in {} (scanned in {})? -> {}",
            o.link,
            o.target_app_name,
            o.app_name,
            if open {
                "open"
            } else {
                "stay (answer with --link-offer open)"
            }
        );
        Box::pin(async move { open })
    }
}

/// Marks, when dropped, that the host stopped waiting for an answer.
struct StopsWaiting(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopsWaiting {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Reads the answer to a photo or file prompt from `lines`: `upload PATH`
/// (a file that cannot be read is said, and the next line asked for) or
/// `upload cancel`; the end of the input, or any other line, closes the
/// picker. A line read after the host stopped waiting (`gone`) is left for
/// the next action.
fn read_upload(lines: &Lines, gone: &std::sync::atomic::AtomicBool) -> MediaAnswer {
    let mut input = lines.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let Ok(Some((n, line))) = input.next_line() else {
            println!("  -> cancelled (the input ended)");
            return MediaAnswer::Cancel;
        };
        if gone.load(std::sync::atomic::Ordering::SeqCst) {
            input.unread = Some((n, line));
            return MediaAnswer::Cancel;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        println!("> {line}");
        let words = split_words(line).unwrap_or_default();
        let choice = match words.as_slice() {
            [upload, answer] if upload == "upload" => UploadChoice::parse(answer),
            _ => {
                println!(
                    "  -> cancelled: `{line}` is not `upload PATH` or `upload cancel` (it is not run)"
                );
                return MediaAnswer::Cancel;
            }
        };
        match choice {
            Ok(UploadChoice::Cancel) => {
                println!("  -> cancelled");
                return MediaAnswer::Cancel;
            }
            Ok(UploadChoice::File(path)) => match std::fs::read(&path) {
                Ok(bytes) => {
                    println!(
                        "  -> {} ({})",
                        path.display(),
                        crate::ui::size(bytes.len() as u64)
                    );
                    return MediaAnswer::File {
                        name: path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        bytes,
                    };
                }
                Err(e) => println!(
                    "  error: reading {}: {e}; `upload PATH` or `upload cancel`:",
                    path.display()
                ),
            },
            Err(e) => println!("  error: {e}; `upload PATH` or `upload cancel`:"),
        }
    }
}

/// One line of `plaza run`'s input: an action for the session (the
/// scenario steps' [`Action`], so `--record` writes it as it is), or a
/// command to the prompt itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `launch [PATH]`, `tap ACTION`, `submit FORM NAME=VALUE ...`,
    /// `say TEXT` (the user writes to the mini-app: a chat message), `back`
    Act(Action),
    /// `quit` (or `exit`)
    Quit,
}

/// Splits a line into words; double or single quotes keep spaces in a word.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".to_string());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Parses one line of `plaza run`'s input; `None` for a blank line or a `#`
/// comment.
pub fn parse_command(line: &str) -> Result<Option<Command>, String> {
    let first = split_words(line).ok().and_then(|w| w.into_iter().next());
    if matches!(first.as_deref(), Some("quit" | "exit")) {
        return Ok(Some(Command::Quit));
    }
    Ok(parse_action(line)?.map(Command::Act))
}

/// Parses one line as an action for the session (`plaza run`'s syntax, not
/// a scenario file's); `None` for a blank line or a `#` comment.
pub fn parse_action(line: &str) -> Result<Option<Action>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let words = split_words(line)?;
    let usage = "actions are: launch [PATH], tap ACTION, submit FORM NAME=VALUE ..., load-more ACTION, refresh, say TEXT, back, quit";
    let action = match words[0].as_str() {
        "launch" => match words.len() {
            1 => Action::Launch("/".into()),
            2 => Action::Launch(words[1].clone()),
            _ => return Err("`launch` takes one path".into()),
        },
        "tap" if words.len() == 2 => Action::Tap(words[1].clone()),
        "tap" => return Err("`tap` takes one action id, e.g. `tap book`".into()),
        "submit" if words.len() >= 2 => {
            let mut fields = Vec::new();
            for w in &words[2..] {
                let Some((n, v)) = w.split_once('=') else {
                    return Err(format!("`{w}` is not NAME=VALUE"));
                };
                fields.push((n.to_string(), v.to_string()));
            }
            Action::Submit(words[1].clone(), fields)
        }
        "submit" => return Err("`submit` takes a form id and NAME=VALUE fields".into()),
        "say" if words.len() >= 2 => Action::Say(words[1..].join(" ")),
        "say" => return Err("`say` takes the text to write to the mini-app".into()),
        "back" => Action::Back,
        "load-more" if words.len() == 2 => Action::LoadMore(words[1].clone()),
        "load-more" => {
            return Err("`load-more` takes a section's action, e.g. `load-more more:today`".into());
        }
        "refresh" => Action::Refresh,
        "quit" | "exit" => return Err("`quit` ends the prompt; it is not an action".into()),
        "upload" => {
            return Err(
                "no photo or file prompt is waiting: `upload PATH` answers one, on the line after the action that asks"
                    .into(),
            );
        }
        other => return Err(format!("unknown action `{other}`; {usage}")),
    };
    Ok(Some(action))
}

/// Writes a page as text; an image of the package's assets shows its size
/// and kind (`asset:logo.png (12 KB PNG)`), a file the user gave its name,
/// size and kind (`media:m-1 (card.jpg, 12 KB JPEG)`).
fn show(
    out: &mut dyn Write,
    host: &Host,
    user: &str,
    app: &str,
    page: &Page,
) -> std::io::Result<()> {
    let describe = |url: &str| {
        if let Some(id) = url.strip_prefix(plaza_host::media::MEDIA_PREFIX) {
            return Some(match host.media_file(user, app, id) {
                Ok(Some((record, _))) => format!(
                    "{}, {} {}",
                    record.name,
                    crate::ui::size(record.size),
                    record.kind.to_uppercase()
                ),
                Ok(None) => "no such file of yours".to_string(),
                Err(e) => format!("unreadable: {e}"),
            });
        }
        let name = url.strip_prefix(ASSET_PREFIX)?;
        Some(match host.asset(app, name) {
            Ok(Some(a)) => format!(
                "{} {}",
                crate::ui::size(a.bytes.len() as u64),
                a.kind().map_or("?", |k| k.name())
            ),
            Ok(None) => "missing".to_string(),
            Err(e) => format!("unreadable: {e}"),
        })
    };
    writeln!(out, "{}", render_text_with(page, &describe))
}

/// A recorder for `plaza run --record FILE`: the scenario names the package
/// file `target` (relative to FILE's directory), or, when `target` is an
/// installed mini-app's id, a copy of the installed package written beside
/// FILE (`FILE` with the extension `.plaza`), so the scenario replays
/// anywhere.
pub fn recorder(
    host: &Host,
    target: &str,
    app: &str,
    user: &str,
    file: &Path,
) -> Result<plaza_scenario::Recorder> {
    let package = if Path::new(target).is_file() {
        PathBuf::from(target)
    } else {
        let record = host
            .package(app)?
            .with_context(|| format!("{app} is not installed"))?;
        let package = plaza_host::package::Package {
            manifest: plaza_host::manifest::Manifest::parse(app, &record.manifest)?,
            component: record.component,
            assets: plaza_host::package::decode_assets(&record.assets)
                .map_err(|e| anyhow::anyhow!("the installed package of {app}: {e}"))?,
            signature: record.signature,
        };
        let out = file.with_extension("plaza");
        std::fs::write(&out, package.to_bytes())
            .with_context(|| format!("writing {}", out.display()))?;
        out
    };
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .canonicalize()?;
    let package = package.canonicalize()?;
    let shown = package
        .strip_prefix(&base)
        .map(Path::to_path_buf)
        .unwrap_or(package);
    Ok(plaza_scenario::Recorder::new(
        &shown.to_string_lossy(),
        user,
    ))
}

fn record_step(
    recorder: &mut Option<&mut plaza_scenario::Recorder>,
    action: &Action,
    result: &Result<Page, Error>,
) {
    if let Some(r) = recorder {
        let err = result.as_ref().err().map(|e| e.to_string());
        r.step(
            action,
            match result {
                Ok(p) => Ok(p),
                Err(_) => Err(err.as_deref().unwrap_or_default()),
            },
        );
    }
}

/// Delivers an action of `plaza run` to the session. Its actions are all
/// the session's (the prompt has no `advance`, `restart` or check-only
/// line), so each leads to a page or an error.
async fn apply(host: &Host, session: &Session, action: &Action) -> Result<Page, Error> {
    if let Action::Open(link) = action {
        // `plaza open` checked (and audited) the link before the session
        // started: the session is its mini-app's.
        let link = host.parse_link(link)?;
        return session.launch(&link.target()).await;
    }
    match action.apply(session).await? {
        Some(page) => Ok(page),
        None => unreachable!("`plaza run` parses no action outside the session: {action:?}"),
    }
}

/// [`apply`], then the link the user chose to open while the event was
/// handled (a scanned code), if any: the session goes on in the link's
/// mini-app (`session` and `app` switch to it), whose page is shown.
async fn act(
    host: &Host,
    session: &mut Session,
    app: &mut String,
    opened: &mut Vec<Session>,
    action: &Action,
    out: &mut dyn Write,
) -> Result<Result<Page, Error>> {
    let page = match apply(host, session, action).await {
        Ok(page) => page,
        Err(e) => return Ok(Err(e)),
    };
    Ok(match host.follow_link(session).await {
        Ok(Some((link, to, shown))) => {
            writeln!(out, "(opened {link})")?;
            if to.app_id() != session.app_id() {
                opened.push(std::mem::replace(session, to));
            }
            *app = link.app_id;
            Ok(shown)
        }
        Ok(None) => Ok(page),
        Err(e) => Err(e),
    })
}

/// Runs a session of `app` for `user`, reading actions from `input` and
/// writing pages to `out` (and, with a recorder, each action and what came
/// of it). Returns how many actions failed.
pub async fn run(
    host: &Host,
    user: &str,
    app: &str,
    first: Option<Action>,
    locale: &str,
    input: Lines,
    out: &mut dyn Write,
    mut recorder: Option<&mut plaza_scenario::Recorder>,
) -> Result<usize> {
    let mut session = host.session(user, app)?;
    session.set_locale(locale).await?;
    // The mini-app shown now (a scanned link may open another) and the
    // sessions left behind.
    let mut app = app.to_string();
    let mut left = Vec::new();
    // The tab bar of the manifest: each tab is a launch at its path.
    if let Some(installed) = host.installed()?.into_iter().find(|a| a.app_id == app)
        && !installed.tabs.is_empty()
    {
        let tabs: Vec<String> = installed
            .tabs
            .iter()
            .map(|t| format!("{} (launch {})", t.title, t.path))
            .collect();
        writeln!(out, "Tabs: {}\n", tabs.join(" | "))?;
    }
    let mut errors = 0;
    if let Some(action) = first {
        let result = act(host, &mut session, &mut app, &mut left, &action, out).await?;
        record_step(&mut recorder, &action, &result);
        match result {
            Ok(page) => show(out, host, user, &app, &page)?,
            Err(e) => {
                errors += 1;
                writeln!(out, "error: {e}\n")?;
            }
        }
    }
    loop {
        // The lock is let go before the action runs: a photo prompt it
        // raises reads its answer from the next line.
        let next = input
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_line()?;
        let Some((n, line)) = next else {
            break;
        };
        let action = match parse_command(&line) {
            Ok(Some(Command::Act(a))) => a,
            Ok(Some(Command::Quit)) => {
                writeln!(out, "> {}", line.trim())?;
                break;
            }
            Ok(None) => continue,
            Err(e) => {
                errors += 1;
                writeln!(out, "error: line {n}: {e}\n")?;
                continue;
            }
        };
        writeln!(out, "> {}", line.trim())?;
        let result = act(host, &mut session, &mut app, &mut left, &action, out).await?;
        record_step(&mut recorder, &action, &result);
        match result {
            Ok(page) => show(out, host, user, &app, &page)?,
            Err(e) => {
                errors += 1;
                writeln!(out, "error: {e}")?;
                if let (Error::SessionEnded { .. }, _) = (&e, ()) {
                    writeln!(out, "(type `launch` to start the mini-app again)")?;
                } else if let Some(page) = session.current_page().await
                    && !matches!(e, Error::ActionNotOffered { .. })
                {
                    let offered = offered_actions(&page);
                    if !offered.is_empty() {
                        writeln!(out, "(the page offers: {})", offered.join(", "))?;
                    }
                }
                writeln!(out)?;
            }
        }
    }
    session.close().await;
    for s in left {
        s.close().await;
    }
    Ok(errors)
}

/// The audit log as text, grouped by user and mini-app.
pub fn format_audit(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "no audit entries\n".to_string();
    }
    let mut groups: BTreeMap<(&str, &str), Vec<&AuditEntry>> = BTreeMap::new();
    for e in entries {
        groups.entry((&e.user, &e.app)).or_default().push(e);
    }
    let mut s = String::new();
    for ((user, app), list) in groups {
        s.push_str(&format!("{user} in {app}:\n"));
        for e in list {
            let mark = match e.outcome {
                Outcome::Allowed => "allowed",
                Outcome::Denied => "DENIED ",
            };
            s.push_str(&format!(
                "  {}  {mark}  {:<22} {}  [{}]\n",
                format_time(e.at_ms),
                e.capability,
                e.detail,
                e.session
            ));
        }
    }
    s
}

/// `YYYY-MM-DD HH:MM:SS +08:00` in the host's time zone (`--utc-offset`)
/// for milliseconds since the epoch.
pub fn format_time(ms: i64) -> String {
    format_time_in(ms, crate::zone::utc_offset_minutes())
}

/// `YYYY-MM-DD HH:MM:SS ±HH:MM` at `offset` minutes east of UTC.
pub fn format_time_in(ms: i64, offset: i32) -> String {
    let (y, m, d) = plaza_host::clock::civil_date(ms, offset);
    let local = ms + i64::from(offset) * 60_000;
    let rem = local.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} {}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        crate::zone::format_offset(offset)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_host_time_zone() {
        // 2026-12-31 16:30:00 UTC is already the new year in China.
        let ms = 1_798_734_600_000;
        assert_eq!(format_time_in(ms, 0), "2026-12-31 16:30:00 +00:00");
        assert_eq!(format_time_in(ms, 480), "2027-01-01 00:30:00 +08:00");
        assert_eq!(format_time_in(ms, -330), "2026-12-31 11:00:00 -05:30");
    }

    #[test]
    fn actions_parse() {
        assert_eq!(parse_action("  # note").unwrap(), None);
        assert_eq!(
            parse_action("launch").unwrap(),
            Some(Action::Launch("/".into()))
        );
        assert_eq!(
            parse_action("tap dept:obs").unwrap(),
            Some(Action::Tap("dept:obs".into()))
        );
        assert_eq!(
            parse_action("submit patient name=\"Li Na\" phone=138").unwrap(),
            Some(Action::Submit(
                "patient".into(),
                vec![
                    ("name".into(), "Li Na".into()),
                    ("phone".into(), "138".into())
                ]
            ))
        );
        assert!(parse_action("tap").unwrap_err().contains("one action id"));
        assert!(
            parse_action("dance")
                .unwrap_err()
                .contains("unknown action")
        );
        assert!(
            parse_action("submit f name")
                .unwrap_err()
                .contains("NAME=VALUE")
        );
        assert!(
            parse_action("submit f a=\"x")
                .unwrap_err()
                .contains("quote")
        );
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse_command("").unwrap(), None);
        assert_eq!(parse_command(" quit").unwrap(), Some(Command::Quit));
        assert_eq!(parse_command("exit now").unwrap(), Some(Command::Quit));
        assert_eq!(
            parse_command("say 'hello there'").unwrap(),
            Some(Command::Act(Action::Say("hello there".into())))
        );
        assert!(parse_action("quit").unwrap_err().contains("not an action"));
        assert!(
            parse_command("dance")
                .unwrap_err()
                .contains("unknown action")
        );
    }

    #[test]
    fn time_formats() {
        assert_eq!(format_time_in(0, 0), "1970-01-01 00:00:00 +00:00");
        assert_eq!(
            format_time_in(1_763_726_400_000, 0),
            "2025-11-21 12:00:00 +00:00"
        );
        // Without --utc-offset, China time.
        assert_eq!(format_time(0), "1970-01-01 08:00:00 +08:00");
    }
}
