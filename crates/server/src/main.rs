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
    let stall = std::env::var_os(STALL_AFTER_REFUND_COMMIT).is_some_and(|v| !v.is_empty());
    if stall {
        tracing::warn!(
            "{STALL_AFTER_REFUND_COMMIT} is set: a publisher refund stalls after its commit, unanswered (for tests)"
        );
    }
    let server = Server::open(config, |c| {
        if stall {
            c.after_refund_commit(Some(std::sync::Arc::new(stall_after_refund_commit)))
        } else {
            c
        }
    })?;
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

/// The environment variable that makes every publisher refund stall after
/// its commit, before its answer: a test kills the server there and checks
/// that the retried refund id refunds once.
const STALL_AFTER_REFUND_COMMIT: &str = "PLAZA_TEST_STALL_AFTER_REFUND_COMMIT";

/// Says on stdout that the refund committed (the test waits for this line),
/// then never returns: the caller is not answered.
fn stall_after_refund_commit(refund: &plaza_host::store::RefundRecord) {
    use std::io::Write;
    println!("refund committed: {}", refund.tx_id);
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
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
