//! `plaza`: build, pack, inspect, install, run and audit mini-apps from the
//! shell.
//!
//! ```text
//! plaza new my-clinic --template payment          # a mini-app to start from
//! plaza build sample-miniapps/hospital
//! plaza pack sample-miniapps/hospital -o hospital.plaza
//! plaza install hospital.plaza
//! plaza run cn.hz.maternity --user alice          # actions from stdin
//! plaza run hospital.plaza --script booking.txt   # installs, then runs a script
//! plaza audit --user alice
//! plaza bench --quick                            # scripts/bench.sh for real figures
//! plaza test tests/scenarios --junit results.xml      # scenario files, see docs/scenarios.md
//! plaza run hospital.plaza --record booking.toml      # writes a scenario while you click
//! plaza keygen -o pub.key; plaza sign hospital.plaza --key pub.key    # see trust.rs
//! plaza publisher add cn.hz.health --name N --category medical --key pub.key.pub --verified
//! plaza grants list --user alice
//! plaza privacy report --user alice                 # also export, erase --app A
//! plaza config set cn.gov.hz.city agency-api-key --secret < key.txt  # settings, see settings.rs
//! plaza serve --watch sample-miniapps/hospital        # the simulator, see serve/
//! ```
//!
//! Every command that touches the store takes `--store PATH` (default:
//! `$PLAZA_STORE`, else `$XDG_DATA_HOME/plaza/plaza.db`, else
//! `~/.local/share/plaza/plaza.db`).

mod build;
mod help;
mod hints;
mod inbox;
mod money;
mod new;
mod privacy;
mod run;
mod scenarios;
mod serve;
mod settings;
mod trust;
mod ui;
mod zone;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use plaza_host::package::Package;
use plaza_host::store::{AuditQuery, is_postgres_url};
use plaza_host::{Host, HostConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "plaza",
    version,
    about = "Build, pack, inspect, install, run and audit Plaza mini-apps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    ui: ui::UiArgs,
    #[command(flatten)]
    zone: zone::ZoneArgs,
}

#[derive(clap::Args, Clone)]
struct StoreArg {
    /// The host's store: a SQLite file, or a PostgreSQL database's
    /// `postgres://` URL (several hosts may share one). Default:
    /// $PLAZA_STORE, else $XDG_DATA_HOME/plaza/plaza.db, else
    /// ~/.local/share/plaza/plaza.db.
    #[arg(long, value_name = "PATH|URL", global = true)]
    store: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a mini-app from a template, ready to build, test and sign.
    ///
    /// Writes the code (Rust, JavaScript, TypeScript or Python: `--lang`), a
    /// commented plaza.toml and a scenario test that pass as they are
    /// (`plaza test NAME`).
    New(new::NewArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Show a user's inbox (messages from mini-apps), mark one read, or open
    /// one (its mini-app at the page the message links to).
    Inbox {
        /// The user.
        #[arg(long)]
        user: String,
        /// Only unread messages.
        #[arg(long)]
        unread: bool,
        /// Mark this message read instead of listing.
        #[arg(long, value_name = "ID")]
        mark_read: Option<String>,
        /// Open this message: mark it read and launch its mini-app at the
        /// page it links to (its home when it has no link); prints the page.
        #[arg(long, value_name = "ID", conflicts_with = "mark_read")]
        open: Option<String>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        store: StoreArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The user follows a mini-app's public account (for its broadcasts).
    Follow {
        /// The user.
        #[arg(long)]
        user: String,
        /// The mini-app id.
        app: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// The user stops following a mini-app's public account.
    Unfollow {
        /// The user.
        #[arg(long)]
        user: String,
        /// The mini-app id.
        app: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// The user writes to a mini-app (it gets the message at its next launch).
    Write {
        /// The user.
        #[arg(long)]
        user: String,
        /// The mini-app id.
        app: String,
        /// The message.
        text: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Top up, and read, users' wallets.
    Wallet {
        #[command(subcommand)]
        command: money::WalletCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Bind and show users' medical-insurance cards.
    Insurance {
        #[command(subcommand)]
        command: money::InsuranceCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Check the ledger's invariants.
    Ledger {
        #[command(subcommand)]
        command: money::LedgerCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Make a publisher's ed25519 key pair: FILE (secret) and FILE.pub.
    Keygen(trust::KeygenArgs),
    /// Sign a package with the publisher's key (over its manifest and component).
    Sign(trust::SignArgs),
    /// Check a package's signature against the registry (or a given key).
    Verify {
        #[command(flatten)]
        args: trust::VerifyArgs,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Manage the registry of trusted publishers.
    Publisher {
        #[command(subcommand)]
        command: trust::PublisherCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// List and revoke users' consent decisions.
    Grants {
        #[command(subcommand)]
        command: trust::GrantsCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// The user's rights: what each mini-app accessed, an export of
    /// everything held about the user, erasing what a mini-app holds.
    Privacy {
        #[command(subcommand)]
        command: privacy::PrivacyCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Set and show users' identity data (nickname, phone, real name, location).
    User {
        #[command(subcommand)]
        command: trust::UserCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Reset a mini-app's app secret.
    Secret {
        #[command(subcommand)]
        command: trust::SecretCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Set and list a mini-app's settings (values and secrets outside its
    /// package, read through `plaza:host/config`).
    Config {
        #[command(subcommand)]
        command: settings::ConfigCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Exchange a login code, as a mini-app's backend does.
    Login {
        #[command(subcommand)]
        command: trust::LoginCommand,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Compile a mini-app into a component; prints the component's path.
    ///
    /// Rust (Cargo.toml) with cargo for wasm32-wasip2; JavaScript
    /// (package.json), TypeScript (with tsconfig.json) and Python
    /// (src/app.py) against the world plaza.toml declares, with pinned
    /// toolchains installed into .plaza/toolchains (or $PLAZA_TOOLCHAINS).
    Build {
        /// The mini-app's directory (default: the current one).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Build a mini-app and pack its manifest and component into one file.
    Pack {
        /// The mini-app's directory.
        dir: PathBuf,
        /// Where to write the package (default: DIR/APP-ID-VERSION.plaza).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Use this component instead of building one.
        #[arg(long, value_name = "FILE")]
        component: Option<PathBuf>,
    },
    /// Show a package's manifest, imports, size and hash.
    Inspect {
        /// The package file.
        package: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install a package into the store (replacing an installed version).
    Install {
        /// The package file.
        package: PathBuf,
        #[command(flatten)]
        store: StoreArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an installed mini-app (users' stored data stays, and the app
    /// id stays its publisher's).
    Uninstall {
        /// The mini-app id.
        app: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Release an uninstalled mini-app's id from its publisher, so another
    /// publisher's package may use it: erases its users' data (storage,
    /// consents, subscriptions, followers, conversations, login codes) and
    /// its app secret; the next mini-app under the id gets new openids and
    /// none of the old payments (money records stay). Audited.
    #[command(name = "release-id")]
    ReleaseId {
        /// The mini-app id.
        app: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// List the installed mini-apps.
    List {
        #[command(flatten)]
        store: StoreArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a mini-app headlessly: pages are printed as text, actions read from
    /// stdin or a script, one per line: `launch [PATH]`, `tap ACTION`,
    /// `submit FORM NAME=VALUE ...`, `load-more ACTION`, `refresh`, `say TEXT`
    /// (write to the mini-app), `back`, `quit`. A request for a photo or file
    /// that `--upload` does not answer is answered by the next line:
    /// `upload PATH` or `upload cancel`.
    Run {
        /// A package file (installed first) or an installed mini-app's id.
        target: String,
        /// The path to launch at first.
        #[arg(long, default_value = "/")]
        path: String,
        /// Do not launch before the first action.
        #[arg(long)]
        no_launch: bool,
        #[command(flatten)]
        session: run::SessionArgs,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Open a link: `plaza://APP-ID/PATH?QUERY` (or its https form under
    /// `--link-base`) starts the user's session of the installed mini-app at
    /// that page, then goes on as `plaza run` (actions from stdin or
    /// `--script`).
    Open {
        /// The link, such as a QR code's text.
        link: String,
        /// The https form of links this host takes, such as
        /// `https://plaza.example.cn/a/` (default: $PLAZA_LINK_BASE, else
        /// only `plaza://` links).
        #[arg(long, value_name = "URL", env = "PLAZA_LINK_BASE")]
        link_base: Option<String>,
        #[command(flatten)]
        session: run::SessionArgs,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Serve mini-apps in a simulator: a local web page with a phone that
    /// renders their pages, the host's dialogs (consent, payment,
    /// subscription), and panels for the wallet and ledger, inbox, grants,
    /// audit log, users and a test clock (see docs/simulator.md).
    #[command(after_help = serve::AFTER_HELP)]
    Serve(serve::ServeArgs),
    /// Run scenario files headlessly, each on its own temporary store with a
    /// test clock; ends with `N passed, N failed` (see docs/scenarios.md).
    Test(scenarios::TestArgs),
    /// Run the benchmark suite (issue 8): install, new session, event round
    /// trip, no-op host call, 10,000 live sessions, durable payments; each
    /// beside a bare Wasmtime host (and Extism, if `bench/extism-peer` is
    /// built). Measure with `scripts/bench.sh` (release, backtraces off).
    Bench {
        /// Shrink every size so the suite runs in seconds (a smoke test).
        #[arg(long)]
        quick: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The Extism peer's binary (default:
        /// bench/extism-peer/target/release/extism-peer if built).
        #[arg(long, value_name = "PATH")]
        extism: Option<PathBuf>,
        /// Only these groups: install, session, event, call, sessions,
        /// payments, extism, leakers, languages.
        #[arg(long, value_name = "NAME", num_args = 1..)]
        only: Vec<String>,
        /// Packages (`.plaza`) of mini-apps in other languages, measured by
        /// the `languages` group (scripts/bench-languages.sh builds them).
        #[arg(long, value_name = "FILE")]
        package: Vec<PathBuf>,
    },
    /// Show the audit log: what each mini-app accessed, and what it was denied.
    Audit {
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
        /// Only this mini-app.
        #[arg(long)]
        app: Option<String>,
        /// At most this many entries (the newest).
        #[arg(long, default_value_t = 200)]
        limit: usize,
        #[command(flatten)]
        store: StoreArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let color = ui::color_in(&args);
    ui::set_color(color);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PLAZA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(ui::stderr_has_color())
        .init();
    let matches = cli_command()
        .color(ui::clap_color(color))
        .get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    ui::init(&cli.ui);
    zone::init(&cli.zone);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            ui::error(&e);
            ExitCode::FAILURE
        }
    }
}

/// The command line, with its styles and the examples of every command.
fn cli_command() -> clap::Command {
    help::with_examples(Cli::command().styles(ui::STYLES))
}

/// The default store path.
fn default_store() -> PathBuf {
    if let Some(p) = std::env::var_os("PLAZA_STORE") {
        return PathBuf::from(p);
    }
    default_data_dir().join("plaza").join("plaza.db")
}

/// $XDG_DATA_HOME, else ~/.local/share, else the current folder.
fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn open_host(store: &StoreArg) -> Result<Host> {
    open_host_with(store, std::sync::Arc::new(plaza_host::prompt::DismissAll))
}

fn open_host_with(
    store: &StoreArg,
    prompter: std::sync::Arc<dyn plaza_host::prompt::Prompter>,
) -> Result<Host> {
    open_host_configured(store, prompter, |c| c)
}

/// [`open_host_with`], the host's configuration adjusted last.
fn open_host_configured(
    store: &StoreArg,
    prompter: std::sync::Arc<dyn plaza_host::prompt::Prompter>,
    adjust: impl FnOnce(HostConfig) -> HostConfig,
) -> Result<Host> {
    let path = store.store.clone().unwrap_or_else(default_store);
    hints::remember_store(&path);
    // The compiled-component cache beside a store file; for a PostgreSQL
    // store, in the default data folder (it is this machine's).
    let beside = if is_postgres_url(&path.to_string_lossy()) {
        default_data_dir().join("plaza")
    } else {
        path.parent().map(PathBuf::from).unwrap_or_default()
    };
    let cache = beside.join("cache");
    let config = HostConfig::default()
        .cache_dir(Some(cache))
        .developer_mode(trust::developer_mode_from_env())
        .utc_offset_minutes(zone::utc_offset_minutes())
        .settings_key(settings::settings_key_for(&path)?)
        .prompter(prompter);
    Host::open(&path, adjust(config))
        .with_context(|| format!("opening the store {}", path.display()))
}

pub(crate) fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

async fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::New(args) => return new::new(args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut cli_command(), "plaza", &mut std::io::stdout());
        }
        Command::Bench {
            quick,
            json,
            extism,
            only,
            package,
        } => {
            let report = plaza_bench::run(&plaza_bench::Options {
                quick,
                only,
                extism,
                packages: package,
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
        }
        Command::Build { dir } => {
            let wasm = build::build(&dir)?;
            println!("{}", wasm.display());
        }
        Command::Pack {
            dir,
            output,
            component,
        } => {
            let out = pack(&dir, output, component)?;
            println!("{}", out.display());
        }
        Command::Inspect { package, json } => inspect(&package, json)?,
        Command::Install {
            package,
            store,
            json,
        } => {
            let host = open_host(&store)?;
            let pkg = crate::hints::read_package(&package)?;
            let report = host.install(pkg).await?;
            if json {
                print_json(&serde_json::json!({
                    "app": report.app_id,
                    "version": report.version,
                    "replaced": report.replaced,
                    "component_sha256": report.component_sha256,
                    "imports": report.imports,
                    "signed": report.signed,
                    "app_secret": report.app_secret,
                }));
            } else {
                match &report.replaced {
                    Some(old) => println!(
                        "installed {} {} (replacing {old})",
                        report.app_id, report.version
                    ),
                    None => println!("installed {} {}", report.app_id, report.version),
                }
                if !report.signed {
                    println!("unsigned: installed in developer mode, runs as unverified");
                }
                if let Some(secret) = &report.app_secret {
                    println!(
                        "app secret (shown once; `plaza secret reset {}` makes a new one): {secret}",
                        report.app_id
                    );
                }
            }
        }
        Command::Uninstall { app, store } => {
            open_host(&store)?.uninstall(&app).await?;
            println!("uninstalled {app}");
        }
        Command::ReleaseId { app, store } => {
            let released = open_host(&store)?.release_app_id(&app)?;
            println!(
                "released {app} from publisher {}: its users' data is erased; the next package installed under it may be any publisher's (generation {}, new openids and app secret)",
                released.previous_owner.as_deref().unwrap_or("(none)"),
                released.generation
            );
        }
        Command::List { store, json } => {
            let apps = open_host(&store)?.installed()?;
            if json {
                print_json(&serde_json::to_value(&apps)?);
            } else if apps.is_empty() {
                println!("no mini-apps installed");
            } else {
                for a in apps {
                    println!(
                        "{}  {}  {} ({}{}, {})  [{}]",
                        a.app_id,
                        a.version,
                        a.name,
                        a.publisher_name,
                        if a.publisher_verified {
                            ", verified"
                        } else {
                            ", not verified"
                        },
                        a.category,
                        a.capabilities.join(", ")
                    );
                    if let Some(line) = settings::missing_line(&a.app_id, &a.missing_settings) {
                        println!("{line}");
                    }
                }
            }
        }
        Command::Open {
            link,
            link_base,
            session,
            store,
        } => {
            let prompter = session.prompter();
            let host = open_host_configured(&store, prompter.clone(), |c| {
                c.link_base(link_base.filter(|b| !b.is_empty()))
            })?;
            // A malformed link, or one to a mini-app that is not installed,
            // is refused here (and audited) before anything starts.
            let app_id = host.link_target(&session.user, &link)?.app_id;
            let first = plaza_scenario::Action::Open(link.clone());
            return session
                .drive(&host, &prompter, &app_id, &app_id, Some(first))
                .await;
        }
        Command::Run {
            target,
            path,
            no_launch,
            session,
            store,
        } => {
            let prompter = session.prompter();
            let host = open_host_with(&store, prompter.clone())?;
            let app_id = if Path::new(&target).is_file() {
                let report = host
                    .install(Package::read_file(Path::new(&target))?)
                    .await?;
                report.app_id
            } else {
                target.clone()
            };
            let first = (!no_launch).then(|| plaza_scenario::Action::Launch(path));
            return session
                .drive(&host, &prompter, &target, &app_id, first)
                .await;
        }
        Command::Test(args) => {
            let cache = default_store()
                .parent()
                .map(|p| p.join("cache"))
                .unwrap_or_else(|| PathBuf::from("cache"));
            return scenarios::test(args, cache).await;
        }
        Command::Serve(args) => return serve::serve(args).await,
        Command::Keygen(args) => return trust::keygen(args),
        Command::Sign(args) => return trust::sign(args),
        Command::Verify { args, store } => return trust::verify(args, || open_host(&store)),
        Command::Publisher { command, store } => {
            return trust::publisher(&open_host(&store)?, command);
        }
        Command::Grants { command, store } => return trust::grants(&open_host(&store)?, command),
        Command::User { command, store } => return trust::user(&open_host(&store)?, command),
        Command::Privacy { command, store } => {
            return privacy::privacy(&open_host(&store)?, command).await;
        }
        Command::Secret { command, store } => return trust::secret(&open_host(&store)?, command),
        Command::Config { command, store } => {
            return settings::config(&open_host(&store)?, command);
        }
        Command::Login { command, store } => return trust::login(&open_host(&store)?, command),
        Command::Inbox {
            user,
            unread,
            mark_read,
            open,
            limit,
            store,
            json,
        } => {
            let host = open_host(&store)?;
            if let Some(id) = open {
                return inbox::open(&host, &user, &id).await;
            }
            return inbox::inbox(&host, &user, unread, mark_read, limit, json);
        }
        Command::Follow { user, app, store } => {
            return inbox::follow(&open_host(&store)?, &user, &app, true);
        }
        Command::Unfollow { user, app, store } => {
            return inbox::follow(&open_host(&store)?, &user, &app, false);
        }
        Command::Write {
            user,
            app,
            text,
            store,
        } => return inbox::write(&open_host(&store)?, &user, &app, &text),
        Command::Wallet { command, store } => return money::wallet(&open_host(&store)?, command),
        Command::Insurance { command, store } => {
            return money::insurance(&open_host(&store)?, command);
        }
        Command::Ledger { command, store } => return money::ledger(&open_host(&store)?, command),
        Command::Audit {
            user,
            app,
            limit,
            store,
            json,
        } => {
            let host = open_host(&store)?;
            let entries = host.audit(&AuditQuery { user, app, limit })?;
            if json {
                print_json(&serde_json::to_value(&entries)?);
            } else {
                print!("{}", run::format_audit(&entries));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn pack(dir: &Path, output: Option<PathBuf>, component: Option<PathBuf>) -> Result<PathBuf> {
    let manifest_path = dir.join("plaza.toml");
    if !manifest_path.is_file() {
        bail!(
            "{} has no plaza.toml: is it a mini-app's folder? (`plaza new NAME` makes one)",
            dir.display()
        );
    }
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let progress = ui::Progress::start("Packing", &dir.display().to_string());
    let wasm = match component {
        Some(c) => c,
        None => build::build(dir)?,
    };
    let bytes = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let pkg = Package::new(&manifest, bytes)
        .and_then(|p| p.with_assets_dir(&dir.join("assets")))
        .map_err(|e| anyhow::anyhow!("{e}").context(format!("packing {}", dir.display())))?;
    let out = output.unwrap_or_else(|| {
        dir.join(format!(
            "{}-{}.plaza",
            pkg.manifest.app.id, pkg.manifest.app.version
        ))
    });
    let bytes = pkg.to_bytes();
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    progress.done(
        "Packed",
        &format!(
            "{} {} into {} ({})",
            pkg.manifest.app.id,
            pkg.manifest.app.version,
            out.display(),
            ui::size(bytes.len() as u64)
        ),
    );
    Ok(out)
}

fn inspect(path: &Path, json: bool) -> Result<()> {
    let pkg = crate::hints::read_package(path)?;
    let m = &pkg.manifest;
    let imports = plaza_host::component_imports(&pkg.component)?;
    if json {
        print_json(&serde_json::json!({
            "app": { "id": m.app.id, "name": m.app.name, "version": m.app.version.to_string(), "description": m.app.description },
            "publisher": { "id": m.publisher.id, "name": m.publisher.name, "category": m.publisher.category.as_str() },
            "capabilities": m.declared().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "storage_quota_bytes": m.capabilities.storage.as_ref().map(|s| s.quota_bytes),
            "component_bytes": pkg.component.len(),
            "component_sha256": pkg.component_hash(),
            "image_origins": m.image_origins().iter().map(|o| o.to_string()).collect::<Vec<_>>(),
            "settings": m.settings.iter().map(|s| serde_json::json!({"name": s.name, "secret": s.secret, "default": s.default})).collect::<Vec<_>>(),
            "assets": pkg.assets.iter().map(|a| serde_json::json!({"name": a.name, "bytes": a.bytes.len(), "content_type": a.content_type()})).collect::<Vec<_>>(),
            "signed": pkg.signature.is_some(),
            "signature": pkg.signature_info()?,
            "imports": imports.iter().map(|i| serde_json::json!({"name": i, "status": plaza_host::describe_import(i, m)})).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!("{} {} — {}", m.app.id, m.app.version, m.app.name);
    println!(
        "publisher: {} ({}, {})",
        m.publisher.name, m.publisher.id, m.publisher.category
    );
    let caps: Vec<&str> = m.declared().iter().map(|c| c.as_str()).collect();
    println!(
        "capabilities: {}",
        if caps.is_empty() {
            "none".to_string()
        } else {
            caps.join(", ")
        }
    );
    println!(
        "component: {} bytes, sha256 {}",
        pkg.component.len(),
        pkg.component_hash()
    );
    if pkg.assets.is_empty() {
        println!("assets: none");
    } else {
        let total: usize = pkg.assets.iter().map(|a| a.bytes.len()).sum();
        println!(
            "assets: {} ({}; pages show them as asset:NAME)",
            pkg.assets.len(),
            ui::size(total as u64)
        );
        for a in &pkg.assets {
            println!(
                "  {}  {} {}",
                a.name,
                ui::size(a.bytes.len() as u64),
                a.kind().map_or("?", |k| k.name())
            );
        }
    }
    if !m.image_origins().is_empty() {
        let origins: Vec<String> = m.image_origins().iter().map(|o| o.to_string()).collect();
        println!("image origins: {}", origins.join(", "));
    }
    if !m.settings.is_empty() {
        // A package holds no secret: a secret's value is the host's.
        let settings: Vec<String> = m
            .settings
            .iter()
            .map(|s| match (&s.default, s.secret) {
                (_, true) => format!("{} (secret, set on the host)", s.name),
                (Some(d), _) => format!("{} (default {d})", s.name),
                (None, _) => format!("{} (set on the host)", s.name),
            })
            .collect();
        println!("settings: {}", settings.join(", "));
    }
    match pkg.signature_info()? {
        Some(sig) => println!(
            "signed: yes, as {} with key id {} (`plaza verify` checks it)",
            sig.publisher, sig.key_id
        ),
        None => println!("signed: no (install refuses it outside developer mode: `plaza sign`)"),
    }
    println!("imports:");
    let mut bad = false;
    for i in &imports {
        let status = plaza_host::describe_import(i, m);
        bad |= status.chars().any(|c| c.is_ascii_uppercase());
        println!("  {i}  [{status}]");
    }
    if bad {
        bail!("the package would be refused at install: see the imports marked above");
    }
    Ok(())
}
