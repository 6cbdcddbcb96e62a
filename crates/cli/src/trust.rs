//! Trust and identity from the shell: publisher keys (`keygen`), signing and
//! checking packages (`sign`, `verify`), the registry of trusted publishers
//! (`publisher add|list|remove`), users' consent decisions (`grants
//! list|revoke|set`), users' identity data (`user set|show`), mini-apps' app
//! secrets (`secret reset`) and the login-code exchange a mini-app's backend
//! makes (`login exchange`).
//!
//! ```text
//! plaza keygen -o hospital.key                 # writes hospital.key and hospital.key.pub
//! plaza publisher add cn.hz.hospitals.maternity --name "Hangzhou Maternity Hospital" \
//!     --category medical --key hospital.key.pub --verified
//! plaza sign hospital.plaza --key hospital.key
//! plaza verify hospital.plaza
//! plaza install hospital.plaza                 # prints the app secret, once
//! plaza grants list --user li-na
//! plaza grants revoke --user li-na cn.hz.maternity real-name
//! ```
//!
//! `PLAZA_DEVELOPER_MODE=1` lets `install` and `run` take unsigned packages
//! (they run as unverified); never set it for users.

use crate::print_json;
use crate::run::format_time;
use anyhow::{Context, Result, bail};
use plaza_host::Host;
use plaza_host::manifest::{Category, Scope};
use plaza_host::package::{PublisherKey, SignatureStatus, key_id};
use plaza_host::store::{GeoPoint, PublisherRecord, RealNameRecord, UserProfile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Whether `PLAZA_DEVELOPER_MODE` asks for developer mode (`1` or `true`).
pub fn developer_mode_from_env() -> bool {
    std::env::var("PLAZA_DEVELOPER_MODE").is_ok_and(|v| v == "1" || v == "true")
}

/// `plaza keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the secret key (hex); the public key goes to FILE.pub.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    force: bool,
}

/// `plaza sign`.
#[derive(clap::Args)]
pub struct SignArgs {
    /// The package file.
    package: PathBuf,
    /// The publisher's secret key file (from `plaza keygen`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Where to write the signed package (default: over the package).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `plaza verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The package file.
    package: PathBuf,
    /// Check against this public key (hex, or a `.pub` file) instead of the
    /// store's registry of trusted publishers.
    #[arg(long, value_name = "HEX|FILE")]
    public_key: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `plaza publisher ...`.
#[derive(clap::Subcommand)]
pub enum PublisherCommand {
    /// Add a publisher to the registry of trusted publishers, or replace its
    /// entry (a new key, name, category or verification).
    Add {
        /// The publisher id, as its manifests name it (`cn.hz.health`).
        id: String,
        /// The name users see (as payee, and when asked for consent).
        #[arg(long)]
        name: String,
        /// Its category: government, medical, finance, transport, education,
        /// commerce or other.
        #[arg(long)]
        category: String,
        /// Its public key: a `.pub` file from `plaza keygen`, or the hex.
        #[arg(long, value_name = "FILE|HEX")]
        key: String,
        /// The host operator verified who the publisher is (needed for
        /// `real-name` and `insurance-card`).
        #[arg(long)]
        verified: bool,
    },
    /// List the registry.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a publisher: its packages no longer install, its installed
    /// mini-apps run as unverified.
    Remove {
        /// The publisher id.
        id: String,
    },
}

/// `plaza grants ...`.
#[derive(clap::Subcommand)]
pub enum GrantsCommand {
    /// A user's remembered consent decisions, per mini-app.
    List {
        /// The user.
        #[arg(long)]
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Forget a decision: the mini-app's next use (even in a live session)
    /// asks the user again.
    Revoke {
        /// The user.
        #[arg(long)]
        user: String,
        /// The mini-app id.
        app: String,
        /// The scope: profile, phone, real-name, location, precise-location
        /// or insurance-card.
        scope: String,
    },
    /// Set a decision as the user would in the host's settings: `allow` or
    /// `deny` (remembered; the mini-app is not asked again).
    Set {
        /// The user.
        #[arg(long)]
        user: String,
        /// The mini-app id.
        app: String,
        /// The scope.
        scope: String,
        /// `allow` or `deny`.
        decision: String,
    },
}

/// `plaza user ...`.
#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Set what the host knows of a user (fields not given stay as they were).
    Set {
        /// The user.
        #[arg(long)]
        user: String,
        /// The nickname (scope `profile`).
        #[arg(long)]
        nickname: Option<String>,
        /// An https: URL of the avatar (scope `profile`).
        #[arg(long)]
        avatar_url: Option<String>,
        /// The phone number (scope `phone`).
        #[arg(long)]
        phone: Option<String>,
        /// The legal name (scope `real-name`, with --id-number).
        #[arg(long, requires = "id_number")]
        real_name: Option<String>,
        /// The identity document number.
        #[arg(long, requires = "real_name")]
        id_number: Option<String>,
        /// The real name was checked against an identity document.
        #[arg(long)]
        verified: bool,
        /// The device's location, `LATITUDE,LONGITUDE[,ACCURACY-M]` (scopes
        /// `location`, rounded, and `precise-location`).
        #[arg(long, value_name = "LAT,LON[,ACC]")]
        location: Option<String>,
    },
    /// Show what the host knows of a user.
    Show {
        /// The user.
        #[arg(long)]
        user: String,
    },
}

/// `plaza secret ...`.
#[derive(clap::Subcommand)]
pub enum SecretCommand {
    /// Make a new app secret for an installed mini-app (the old one stops
    /// working) and print it; the host keeps only its hash.
    Reset {
        /// The mini-app id.
        app: String,
    },
}

/// `plaza login ...`.
#[derive(clap::Subcommand)]
pub enum LoginCommand {
    /// Exchange a login code for the user's openid and unionid, as the
    /// mini-app's backend does through the host's server-side API.
    Exchange {
        /// The mini-app id.
        app: String,
        /// The code the mini-app got from `login`.
        code: String,
        /// The mini-app's app secret.
        #[arg(long)]
        secret: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn pub_path(secret: &Path) -> PathBuf {
    let mut p = secret.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// A public key given as hex or as a file holding it.
fn public_key_arg(arg: &str) -> Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the public key {}", path.display()))?;
        return Ok(text.trim().to_string());
    }
    Ok(arg.trim().to_string())
}

fn read_secret_key(path: &Path) -> Result<PublisherKey> {
    if !path.exists() {
        let public = path.extension().is_some_and(|e| e == "pub");
        if public {
            bail!(
                "there is no key {}; and a .pub file is a public key: sign with the secret key beside it (`--key {}`), made by `plaza keygen`",
                path.display(),
                path.with_extension("").display()
            );
        }
        bail!(
            "there is no key {}: run `plaza keygen -o {}` first (it writes the secret key there and the public key to {})",
            path.display(),
            path.display(),
            pub_path(path).display()
        );
    }
    if path.extension().is_some_and(|e| e == "pub") {
        bail!(
            "{} is a public key: sign with the secret key beside it (`--key {}`)",
            path.display(),
            path.with_extension("").display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key {}", path.display()))?;
    PublisherKey::from_secret_hex(&text)
        .with_context(|| format!("{} is not a key from `plaza keygen`", path.display()))
}

fn write_new(path: &Path, text: &str, secret: bool, force: bool) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = secret;
    let mut f = options.open(path).with_context(|| {
        format!(
            "writing {} (it exists? pass --force to overwrite)",
            path.display()
        )
    })?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// `plaza keygen`.
pub fn keygen(args: KeygenArgs) -> Result<ExitCode> {
    let key = PublisherKey::generate()?;
    let public = pub_path(&args.output);
    write_new(
        &args.output,
        &format!("{}\n", key.secret_hex()),
        true,
        args.force,
    )?;
    write_new(
        &public,
        &format!("{}\n", key.public_key_hex()),
        false,
        args.force,
    )?;
    println!("secret key: {} (keep it secret)", args.output.display());
    println!(
        "public key: {} ({})",
        public.display(),
        key.public_key_hex()
    );
    println!("key id: {}", key.key_id());
    Ok(ExitCode::SUCCESS)
}

/// `plaza sign`.
pub fn sign(args: SignArgs) -> Result<ExitCode> {
    let key = read_secret_key(&args.key)?;
    let mut pkg = crate::hints::read_package(&args.package)?;
    pkg.sign(&key)?;
    let out = args.output.unwrap_or(args.package);
    std::fs::write(&out, pkg.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "signed {} {} as {} with key id {}: {}",
        pkg.manifest.app.id,
        pkg.manifest.app.version,
        pkg.manifest.publisher.id,
        key.key_id(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `plaza verify`: against a given key, or the registry of `host`.
pub fn verify(args: VerifyArgs, host: impl FnOnce() -> Result<Host>) -> Result<ExitCode> {
    let pkg = crate::hints::read_package(&args.package)?;
    let m = &pkg.manifest;
    let (key, registered) = match &args.public_key {
        Some(k) => (public_key_arg(k)?, None),
        None => {
            let Some(p) = host()?.publisher(&m.publisher.id)? else {
                bail!(
                    "publisher {} is not in the registry of this store: add it with `plaza publisher add`, or check against a key with --public-key",
                    m.publisher.id
                );
            };
            (p.public_key.clone(), Some(p))
        }
    };
    let status = pkg.verify_signature(&key)?;
    let (ok, verdict) = match &status {
        SignatureStatus::Valid => (
            true,
            format!(
                "signature OK: {} {} signed by {} with key id {}",
                m.app.id,
                m.app.version,
                m.publisher.id,
                key_id(&key)
            ),
        ),
        SignatureStatus::Unsigned => (false, format!("{} is not signed", m.app.id)),
        SignatureStatus::WrongPublisher { signed_for } => (
            false,
            format!(
                "signature is for publisher {signed_for}, but the manifest names {}",
                m.publisher.id
            ),
        ),
        SignatureStatus::Mismatch {
            signed_with_key_id,
            expected_key_id,
        } => (
            false,
            format!(
                "signature does not match the key of {} (expected key id {expected_key_id}, signed with key id {signed_with_key_id})",
                m.publisher.id
            ),
        ),
    };
    let category_ok = registered
        .as_ref()
        .is_none_or(|p| p.category == m.publisher.category);
    if args.json {
        print_json(&serde_json::json!({
            "app": m.app.id,
            "version": m.app.version.to_string(),
            "publisher": m.publisher.id,
            "valid": ok,
            "message": verdict,
            "key_id": key_id(&key),
            "registered": registered,
            "category_matches": category_ok,
        }));
    } else {
        println!("{verdict}");
        if let Some(p) = &registered {
            println!(
                "registry: {} ({}, {})",
                p.name,
                p.category,
                if p.verified {
                    "verified"
                } else {
                    "not verified"
                }
            );
            if !category_ok {
                println!(
                    "the manifest claims the category {}, the registry says {}: install would refuse it",
                    m.publisher.category, p.category
                );
            }
        }
    }
    Ok(if ok && category_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_category(s: &str) -> Result<Category> {
    Category::ALL
        .into_iter()
        .find(|c| c.as_str() == s)
        .with_context(|| {
            let all = Category::ALL.map(|c| c.as_str());
            match crate::hints::closest(s, all) {
                Some(c) => format!("unknown category `{s}`: did you mean `{c}`?"),
                None => format!("unknown category `{s}`: one of {}", all.join(", ")),
            }
        })
}

fn parse_scope(s: &str) -> Result<Scope> {
    Scope::parse(s).with_context(|| {
        let all = Scope::ALL.map(|c| c.as_str());
        match crate::hints::closest(s, all) {
            Some(c) => format!("unknown scope `{s}`: did you mean `{c}`?"),
            None => format!("unknown scope `{s}`: one of {}", all.join(", ")),
        }
    })
}

/// `plaza publisher ...`.
pub fn publisher(host: &Host, command: PublisherCommand) -> Result<ExitCode> {
    match command {
        PublisherCommand::Add {
            id,
            name,
            category,
            key,
            verified,
        } => {
            let p = host.add_publisher(PublisherRecord {
                id,
                name,
                category: parse_category(&category)?,
                verified,
                public_key: public_key_arg(&key)?,
                added_at_ms: 0,
            })?;
            println!(
                "publisher {} ({}, {}, {}) trusted with key id {}",
                p.id,
                p.name,
                p.category,
                if p.verified {
                    "verified"
                } else {
                    "not verified"
                },
                key_id(&p.public_key)
            );
        }
        PublisherCommand::List { json } => {
            let list = host.publishers()?;
            if json {
                print_json(&serde_json::to_value(&list)?);
            } else if list.is_empty() {
                println!("no publishers registered");
            } else {
                for p in list {
                    println!(
                        "{}  {}  {}  {}  key id {}",
                        p.id,
                        p.name,
                        p.category,
                        if p.verified {
                            "verified"
                        } else {
                            "not-verified"
                        },
                        key_id(&p.public_key)
                    );
                }
            }
        }
        PublisherCommand::Remove { id } => {
            if !host.remove_publisher(&id)? {
                let ids: Vec<String> = host.publishers()?.into_iter().map(|p| p.id).collect();
                match crate::hints::closest(&id, ids.iter().map(String::as_str)) {
                    Some(close) => bail!(
                        "publisher {id} is not in the registry: did you mean `{close}`? (`plaza publisher list`)"
                    ),
                    None => bail!("publisher {id} is not in the registry (`plaza publisher list`)"),
                }
            }
            println!("removed publisher {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `plaza grants ...`.
pub fn grants(host: &Host, command: GrantsCommand) -> Result<ExitCode> {
    match command {
        GrantsCommand::List { user, json } => {
            let list = host.consents(&user)?;
            if json {
                print_json(&serde_json::to_value(&list)?);
            } else if list.is_empty() {
                println!("{user} has answered no consent questions");
            } else {
                let mut app = "";
                for c in &list {
                    if c.app != app {
                        app = &c.app;
                        println!("{user} in {app}:");
                    }
                    println!(
                        "  {:<17} {}  since {}",
                        c.scope,
                        if c.granted { "allowed" } else { "REFUSED" },
                        format_time(c.decided_at_ms)
                    );
                }
            }
        }
        GrantsCommand::Revoke { user, app, scope } => {
            let scope = parse_scope(&scope)?;
            if !host.revoke_consent(&user, &app, scope.as_str())? {
                let decided = host.consents(&user)?;
                if decided.is_empty() {
                    bail!(
                        "{user} has no decision about {scope} for {app}, nor any other: check the user id (`plaza grants list --user {user}`)"
                    );
                }
                let apps: Vec<&str> = decided.iter().map(|c| c.app.as_str()).collect();
                if !apps.contains(&app.as_str())
                    && let Some(close) = crate::hints::closest(&app, apps.iter().copied())
                {
                    bail!(
                        "{user} has no decisions for {app}: did you mean `{close}`? (`plaza grants list --user {user}`)"
                    );
                }
                bail!(
                    "{user} has no decision about {scope} for {app} (`plaza grants list --user {user}`)"
                );
            }
            println!("revoked {scope} for {app}: its next use asks {user} again");
        }
        GrantsCommand::Set {
            user,
            app,
            scope,
            decision,
        } => {
            let scope = parse_scope(&scope)?;
            let granted = match decision.as_str() {
                "allow" => true,
                "deny" => false,
                other => bail!("`{other}` is neither `allow` nor `deny`"),
            };
            host.set_consent(&user, &app, scope, granted)?;
            let now = if granted { "allowed" } else { "refused" };
            println!("{scope} for {app} is now {now} for {user}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_location(s: &str) -> Result<GeoPoint> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let num = |p: &str| -> Result<f64> {
        p.parse::<f64>()
            .with_context(|| format!("`{p}` in the location `{s}` is not a number"))
    };
    match parts.as_slice() {
        [lat, lon] => Ok(GeoPoint {
            latitude: num(lat)?,
            longitude: num(lon)?,
            accuracy_m: 10.0,
        }),
        [lat, lon, acc] => Ok(GeoPoint {
            latitude: num(lat)?,
            longitude: num(lon)?,
            accuracy_m: num(acc)?,
        }),
        _ => bail!("a location is LATITUDE,LONGITUDE[,ACCURACY-M], such as 30.274,120.155"),
    }
}

/// `plaza user ...`.
pub fn user(host: &Host, command: UserCommand) -> Result<ExitCode> {
    match command {
        UserCommand::Set {
            user,
            nickname,
            avatar_url,
            phone,
            real_name,
            id_number,
            verified,
            location,
        } => {
            let mut p = host.user_profile(&user)?.unwrap_or_default();
            p.nickname = nickname.or(p.nickname);
            p.avatar_url = avatar_url.or(p.avatar_url);
            p.phone = phone.or(p.phone);
            if let (Some(name), Some(id_number)) = (real_name, id_number) {
                p.real_name = Some(RealNameRecord {
                    name,
                    id_number,
                    verified,
                });
            }
            if let Some(l) = location {
                p.location = Some(parse_location(&l)?);
            }
            host.set_user_profile(&user, p.clone())?;
            print_json(&serde_json::to_value(&p)?);
        }
        UserCommand::Show { user } => {
            let p: UserProfile = host.user_profile(&user)?.unwrap_or_default();
            print_json(&serde_json::to_value(&p)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `plaza secret ...`.
pub fn secret(host: &Host, command: SecretCommand) -> Result<ExitCode> {
    match command {
        SecretCommand::Reset { app } => {
            let s = host.reset_app_secret(&app)?;
            println!("{s}");
            eprintln!("the new app secret of {app} (shown once; the old one no longer works)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `plaza login ...`.
pub fn login(host: &Host, command: LoginCommand) -> Result<ExitCode> {
    match command {
        LoginCommand::Exchange {
            app,
            code,
            secret,
            json,
        } => {
            let got = host.exchange_login_code(&app, &secret, &code)?;
            if json {
                print_json(&serde_json::to_value(&got)?);
            } else {
                println!("openid: {}", got.openid);
                println!("unionid: {}", got.unionid);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
