//! `plaza-agency-backend [ADDR] [--plaza-url URL | --store PATH] [--secret
//! APP_ID=SECRET ...] [--every DURATION]`: serves the city-services sample's
//! agency records on `ADDR` (default `127.0.0.1:47180`) until killed; with
//! `AGENCY_API_KEY` set, only to requests that carry it as a bearer token.
//!
//! With `--plaza-url` and an app secret per mini-app (`--secret
//! cn.hz.maternity=SECRET`, as the host printed it at install), it also runs
//! the institutions' back offices against that `plaza-server`'s publisher
//! API; with `--store` instead, against the host on that store in this
//! process (the store the `plaza` CLI uses: the demo). The samples register
//! bookings, cards and lottery entries with it, `--every 1m` runs the
//! periodic actions (the hospital's and the bank's reminders, the lottery
//! announcement) on that schedule, and `POST /offices/<office>/<action>`
//! (from this machine) runs one now.

use plaza_agency_backend::{HttpApi, InProcessApi, Offices};
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: plaza-agency-backend [ADDR] [--plaza-url URL | --store PATH] [--secret APP_ID=SECRET ...] [--every DURATION] [--utc-offset MINUTES]";

/// What the command line asked for.
struct Args {
    addr: String,
    plaza_url: Option<String>,
    store: Option<std::path::PathBuf>,
    secrets: Vec<(String, String)>,
    every: Option<Duration>,
    utc_offset_minutes: i32,
}

/// `30s`, `5m`, `1h`, `1d`.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let s = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(s))
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        addr: plaza_agency_backend::DEFAULT_ADDR.to_string(),
        plaza_url: None,
        store: None,
        secrets: Vec::new(),
        every: None,
        utc_offset_minutes: 480,
    };
    while let Some(a) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} wants a value"));
        match a.as_str() {
            "--plaza-url" => args.plaza_url = Some(value("--plaza-url")?),
            "--store" => args.store = Some(value("--store")?.into()),
            "--secret" => {
                let v = value("--secret")?;
                let (app, secret) = v
                    .split_once('=')
                    .ok_or("--secret wants APP_ID=SECRET".to_string())?;
                args.secrets.push((app.to_string(), secret.to_string()));
            }
            "--every" => {
                let v = value("--every")?;
                args.every = Some(
                    duration(&v).ok_or(format!("--every wants 30s, 5m, 1h or 1d, not `{v}`"))?,
                );
            }
            "--utc-offset" => {
                let v = value("--utc-offset")?;
                args.utc_offset_minutes = v
                    .parse()
                    .map_err(|_| format!("--utc-offset wants minutes, not `{v}`"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            addr => args.addr = addr.to_string(),
        }
    }
    let hosts = usize::from(args.plaza_url.is_some()) + usize::from(args.store.is_some());
    if hosts > 1 {
        return Err("--plaza-url or --store, not both".into());
    }
    if hosts == 0 && (!args.secrets.is_empty() || args.every.is_some()) {
        return Err("--secret and --every need --plaza-url or --store".into());
    }
    if hosts == 1 && args.secrets.is_empty() {
        return Err("the back offices need at least one --secret APP_ID=SECRET".into());
    }
    Ok(args)
}

fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("agency backend: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let key = std::env::var(plaza_agency_backend::API_KEY_ENV).ok();
    let host = match &args.store {
        Some(path) => {
            let config =
                plaza_host::HostConfig::default().utc_offset_minutes(args.utc_offset_minutes);
            match plaza_host::Host::open(path, config) {
                Ok(h) => Some(h),
                Err(e) => {
                    eprintln!(
                        "agency backend: cannot open the store {}: {e}",
                        path.display()
                    );
                    std::process::exit(1);
                }
            }
        }
        None => None,
    };
    let offices = (args.plaza_url.is_some() || host.is_some()).then(|| {
        let offices = Arc::new(Offices::new(args.utc_offset_minutes));
        for (app, secret) in &args.secrets {
            let api: Arc<dyn plaza_agency_backend::PublisherApi> = match (&args.plaza_url, &host) {
                (Some(url), _) => Arc::new(HttpApi::new(url, app, secret)),
                (None, Some(host)) => Arc::new(InProcessApi::new(host.clone(), app, secret)),
                (None, None) => continue,
            };
            offices.connect(api);
        }
        offices
    });
    let backend = match plaza_agency_backend::Backend::start_with(&args.addr, key, offices.clone())
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("agency backend: cannot listen on {}: {e}", args.addr);
            std::process::exit(1);
        }
    };
    println!("agency backend: serving on http://{}", backend.addr());
    let through = match (&args.plaza_url, &args.store) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(store)) => Some(format!("the store {}", store.display())),
        (None, None) => None,
    };
    if let Some(through) = through {
        let apps: Vec<&str> = args.secrets.iter().map(|(a, _)| a.as_str()).collect();
        println!(
            "agency backend: back offices of {} through {through}",
            apps.join(", ")
        );
    }
    match (offices, args.every) {
        (Some(offices), Some(every)) => loop {
            std::thread::sleep(every);
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            for (action, outcome) in offices.run_periodic(now_ms) {
                match outcome {
                    Ok(report) if report.done.is_empty() && report.failed.is_empty() => {}
                    Ok(report) => println!("agency backend: {action}: {report}"),
                    Err(e) => eprintln!("agency backend: {action}: {e}"),
                }
            }
        },
        _ => loop {
            std::thread::park();
        },
    }
}
