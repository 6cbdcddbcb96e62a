//! `plaza-server`: the Plaza host as an HTTP service (see docs/server.md).

use anyhow::Context;
use clap::Parser;
use plaza_server::Server;
use plaza_server::config::{ServerConfig, annotated_defaults};
use std::path::PathBuf;

/// The Plaza host as a service that embedding apps' phone clients talk to.
#[derive(Parser, Debug)]
#[command(
    name = "plaza-server",
    version,
    after_help = "Settings: --print-config prints every one with its default; PLAZA_SERVER_<SETTING> overrides it. docs/server.md is the guide."
)]
struct Args {
    /// The settings file (TOML).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print every setting with its default and what it does, then exit.
    #[arg(long)]
    print_config: bool,
    /// Serve HTTPS with this certificate chain (PEM); with --tls-key. Wins
    /// over the setting `tls_cert` and its environment variable.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.print_config {
        print!("{}", annotated_defaults());
        return Ok(());
    }
    let text = match &args.config {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => String::new(),
    };
    let mut config = ServerConfig::from_toml_and_env(&text, std::env::vars())?;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls_cert = cert;
        config.tls_key = key;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLAZA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if config.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(config))
}

async fn run(config: ServerConfig) -> anyhow::Result<()> {
    let listen = config.listen.clone();
    if config.admin_token.is_empty() {
        tracing::warn!("admin_token is empty: the operator API answers 401");
    }
    if config.issuers.is_empty() {
        tracing::warn!("no [[issuer]]: no user can sign in");
    }
    let server = Server::open(config, |c| c)?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr()?;
    let scheme = if server.is_tls() { "https" } else { "http" };
    // The address first, alone on its line: scripts and tests read it.
    println!("{scheme}://{local}/");
    tracing::info!(%local, "serving");
    server.serve(listener, stopped()).await?;
    Ok(())
}

/// Resolves at Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
