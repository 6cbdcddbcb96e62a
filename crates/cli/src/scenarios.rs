//! `plaza test`: runs scenario files (see `docs/scenarios.md`), each on its
//! own temporary store with a manual clock and sequential ids, in parallel;
//! mini-app directories are built once per run.

use anyhow::Result;
use plaza_scenario::{Components, Runner, Scenario, ScenarioResult, discover, render};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `plaza test` was asked.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Scenario files, or directories searched for `*.toml`; a mini-app's
    /// folder (with plaza.toml) stands for its `scenarios/` folder. Default:
    /// the current folder.
    #[arg(value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
    /// Only scenarios whose name (or file name) contains this.
    #[arg(long, value_name = "NAME")]
    filter: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print the results as JSON instead of text (the summary line goes to stderr).
    #[arg(long)]
    json: bool,
    /// Show every step and the page it led to, as a citizen would see it.
    #[arg(long)]
    show: bool,
    /// At most this many scenarios at a time (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

/// Runs the scenarios; exit code 1 if any failed or could not be read.
pub async fn test(args: TestArgs, cache_dir: PathBuf) -> Result<ExitCode> {
    let files = discover(&scenario_paths(&args.paths)?)?;
    let mut scenarios = Vec::new();
    let mut bad = 0;
    for f in &files {
        match Scenario::read_file(f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if let Some(filter) = &args.filter {
        scenarios.retain(|s| {
            s.name.contains(filter.as_str())
                || s.file
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(filter.as_str()))
        });
    }
    let components = Components::new()
        .with_builder(|dir| crate::build::build(dir).map_err(|e| format!("{e:#}")));
    let mut runner = Runner::new(components).cache_dir(cache_dir);
    if let Some(j) = args.jobs {
        runner = runner.jobs(j);
    }
    let json = args.json;
    let show = args.show;
    let results: Vec<ScenarioResult> = runner
        .run_all_with(scenarios, |r| {
            if show && !json {
                println!("=== {} ===\n", r.name);
                print!("{}", r.transcript);
            }
            if !json {
                print_result(&render(r));
            }
        })
        .await;
    let passed = results.iter().filter(|r| r.passed()).count();
    let failed = results.len() - passed + bad;
    if let Some(path) = &args.junit {
        std::fs::write(path, plaza_scenario::junit(&results))
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    let summary = format!("{passed} passed, {failed} failed");
    if json {
        crate::print_json(&plaza_scenario::json(&results));
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The paths to search for scenarios: the current folder when none is
/// given, and a mini-app's folder (it has plaza.toml) replaced by its
/// `scenarios/` folder, so that its Cargo.toml, package.json or plaza.toml
/// are not read as scenarios.
fn scenario_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let current = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &current[..]
    } else {
        paths
    };
    paths
        .iter()
        .map(|p| {
            if !p.join("plaza.toml").is_file() {
                return Ok(p.clone());
            }
            let scenarios = p.join("scenarios");
            if !scenarios.is_dir() {
                anyhow::bail!(
                    "{} is a mini-app folder with no scenarios/ folder: put its scenario files there (docs/scenarios.md)",
                    p.display()
                );
            }
            Ok(scenarios)
        })
        .collect()
}

/// A scenario's result, its first word green (`ok`) or red (`FAILED`) where
/// colour is on (see `ui.rs`).
fn print_result(text: &str) {
    use std::io::Write;
    let (word, rest) = text.split_at(text.find(' ').unwrap_or(0));
    let style = if word == "ok" {
        anstyle::AnsiColor::Green.on_default()
    } else {
        anstyle::AnsiColor::Red
            .on_default()
            .effects(anstyle::Effects::BOLD)
    };
    let mut out = anstream::stdout().lock();
    let _ = write!(out, "{style}{word}{style:#}{rest}");
}
