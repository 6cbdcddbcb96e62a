//! # plaza-scenario
//!
//! Headless tests of mini-apps as scenario files (TOML): the packages to
//! install, the users and their set-up, the answers to the host's prompts,
//! then steps (launch, tap, submit, say, back, advance the clock, restart the
//! host) with what must hold after each (the page, the wallet, the inbox, the
//! audit log, the ledger). `plaza test` runs them; `plaza run --record`
//! writes them. The format is documented in `docs/scenarios.md`.
//!
//! ```no_run
//! use plaza_scenario::{Components, Runner, discover, load};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let files = discover(&["tests/scenarios".into()])?;
//! let scenarios = load(&files)?;               // parse errors name the file and line
//! let runner = Runner::new(Components::new()); // directories need a builder or a known component
//! let results = runner.run_all(scenarios).await;
//! print!("{}", plaza_scenario::summary(&results));
//! # Ok(()) }
//! ```
//!
//! Each scenario runs on its own temporary store with a manual clock,
//! sequential ids and scripted answers, in developer mode; scenarios run in
//! parallel.

pub mod format;
pub mod record;
mod report;
mod runner;
pub mod stubs;

pub use format::{Action, BackendAction, Expectation, Scenario, Step};
pub use record::Recorder;
pub use report::{json, junit, render, summary};

use plaza_host::package::Package;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What can go wrong before a scenario runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file is not valid.
    #[error("{}:{line}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What was expected, and what was found.
        message: String,
    },
    /// A file or directory could not be read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a scenario passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every step and expectation held.
    Passed,
    /// A step or an expectation failed.
    Failed,
}

/// Where and how a scenario failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    /// The step (1-based); `None` for the set-up.
    pub step: Option<usize>,
    /// The line of the step (or the package) in the file.
    pub line: usize,
    /// The step's action, as written in a scenario.
    pub action: String,
    /// The expectation that failed.
    pub expected: String,
    /// What was there instead.
    pub found: String,
    /// The page the session showed, rendered as text.
    pub page: Option<String>,
}

/// One scenario's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// Its steps.
    pub steps: usize,
    /// The steps that passed.
    pub steps_passed: usize,
    /// Passed or failed.
    pub outcome: Outcome,
    /// Where it failed.
    pub failure: Option<Failure>,
    /// How long it took.
    #[serde(serialize_with = "report::ser_duration")]
    pub duration: Duration,
    /// Each action and the page it led to (or its error), as a citizen
    /// would see it: what `plaza test --show` prints.
    #[serde(skip)]
    pub transcript: String,
}

impl ScenarioResult {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

/// Builds a mini-app directory into a component; returns the `.wasm` path.
pub type Builder = dyn Fn(&Path) -> std::result::Result<PathBuf, String> + Send + Sync;

/// Where packages come from: `.plaza` files are read; a mini-app directory
/// is packed from its `plaza.toml` and a component, either one already built
/// (registered with [`Components::with_component`], as tests do with the
/// components `plaza-test-programs` built) or built once per run by the
/// builder (the CLI's `plaza build`).
#[derive(Clone, Default)]
pub struct Components {
    known: HashMap<PathBuf, PathBuf>,
    builder: Option<Arc<Builder>>,
    built: Arc<Mutex<HashMap<PathBuf, std::result::Result<PathBuf, String>>>>,
}

impl std::fmt::Debug for Components {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Components")
            .field("known", &self.known)
            .field("builder", &self.builder.is_some())
            .finish_non_exhaustive()
    }
}

impl Components {
    /// No known components and no builder: only `.plaza` files.
    pub fn new() -> Components {
        Components::default()
    }

    /// The mini-app in `dir` is this component.
    pub fn with_component(mut self, dir: &Path, wasm: &Path) -> Components {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        self.known.insert(dir, wasm.to_path_buf());
        self
    }

    /// Builds the other directories with `build` (once each per run).
    pub fn with_builder(
        mut self,
        build: impl Fn(&Path) -> std::result::Result<PathBuf, String> + Send + Sync + 'static,
    ) -> Components {
        self.builder = Some(Arc::new(build));
        self
    }

    /// The package at `path`: a `.plaza` file, or a mini-app directory.
    pub fn package(&self, path: &Path) -> std::result::Result<Package, String> {
        if path.is_file() {
            return Package::read_file(path).map_err(|e| e.to_string());
        }
        if !path.is_dir() {
            return Err("no such file or directory".into());
        }
        let dir = path.canonicalize().map_err(|e| format!("resolving: {e}"))?;
        let wasm = match self.known.get(&dir) {
            Some(w) => w.clone(),
            None => {
                let Some(build) = &self.builder else {
                    return Err(
                        "a mini-app directory, and no component is known for it (pack it into a .plaza file, or run `plaza test`, which builds it)"
                            .into(),
                    );
                };
                // One build per directory per run, whoever asks first.
                let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
                built
                    .entry(dir.clone())
                    .or_insert_with(|| build(&dir))
                    .clone()?
            }
        };
        let manifest = std::fs::read_to_string(dir.join("plaza.toml"))
            .map_err(|e| format!("reading plaza.toml: {e}"))?;
        let component =
            std::fs::read(&wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
        Package::new(&manifest, component)
            .and_then(|p| p.with_assets_dir(&dir.join("assets")))
            .map_err(|e| e.to_string())
    }
}

/// The scenario files among `paths`: files as given, directories searched
/// (recursively) for `*.toml`, sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::Io {
                path: p.clone(),
                message: "no such file or directory".into(),
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::result::Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads and checks every file; the first bad file's error.
pub fn load(files: &[PathBuf]) -> Result<Vec<Scenario>> {
    files.iter().map(|f| Scenario::read_file(f)).collect()
}

/// Runs scenarios in parallel.
#[derive(Debug, Clone)]
pub struct Runner {
    components: Components,
    cache_dir: Option<PathBuf>,
    jobs: usize,
    /// The PostgreSQL server each scenario gets a database of its own on;
    /// `None`: a temporary SQLite file.
    postgres: Option<String>,
}

impl Runner {
    /// A runner taking packages from `components`, as many scenarios at a
    /// time as there are cores.
    pub fn new(components: Components) -> Runner {
        Runner {
            components,
            cache_dir: None,
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            postgres: None,
        }
    }

    /// Runs each scenario on a database of its own (made, then dropped)
    /// on the PostgreSQL server at `server_url`, instead of a SQLite file.
    pub fn on_postgres(mut self, server_url: String) -> Runner {
        self.postgres = Some(server_url);
        self
    }

    /// Keeps compiled components in `dir` (shared by the scenarios of a run,
    /// and across runs).
    pub fn cache_dir(mut self, dir: PathBuf) -> Runner {
        self.cache_dir = Some(dir);
        self
    }

    /// At most `jobs` scenarios at a time (at least one).
    pub fn jobs(mut self, jobs: usize) -> Runner {
        self.jobs = jobs.max(1);
        self
    }

    /// Runs one scenario.
    pub async fn run(&self, scenario: &Scenario) -> ScenarioResult {
        runner::run(
            scenario,
            &self.components,
            self.cache_dir.clone(),
            self.postgres.as_deref(),
        )
        .await
    }

    /// Runs every scenario (on the current tokio runtime, which must be
    /// multi-threaded); results in the order given, `on_result` called as
    /// each finishes.
    pub async fn run_all_with(
        &self,
        scenarios: Vec<Scenario>,
        on_result: impl Fn(&ScenarioResult),
    ) -> Vec<ScenarioResult> {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(self.jobs));
        let mut set = tokio::task::JoinSet::new();
        let mut tasks = HashMap::new();
        let mut results: Vec<Option<ScenarioResult>> = vec![None; scenarios.len()];
        for (i, scenario) in scenarios.iter().enumerate() {
            let runner = self.clone();
            let semaphore = semaphore.clone();
            let scenario = scenario.clone();
            let handle = set.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                (i, runner.run(&scenario).await)
            });
            tasks.insert(handle.id(), i);
        }
        while let Some(joined) = set.join_next_with_id().await {
            let (i, r) = match joined {
                Ok((_, (i, r))) => (i, r),
                // A bug in the host or the runner: that scenario fails, the
                // others go on.
                Err(e) => {
                    let i = tasks[&e.id()];
                    let s = &scenarios[i];
                    let r = ScenarioResult {
                        name: s.name.clone(),
                        file: s.file.clone(),
                        steps: s.steps.len(),
                        steps_passed: 0,
                        outcome: Outcome::Failed,
                        failure: Some(Failure {
                            step: None,
                            line: 0,
                            action: "(the runner)".into(),
                            expected: "the scenario to run".into(),
                            found: format!("it panicked: {e}"),
                            page: None,
                        }),
                        duration: Duration::ZERO,
                        transcript: String::new(),
                    };
                    (i, r)
                }
            };
            on_result(&r);
            results[i] = Some(r);
        }
        results.into_iter().flatten().collect()
    }

    /// Runs every scenario; results in the order given.
    pub async fn run_all(&self, scenarios: Vec<Scenario>) -> Vec<ScenarioResult> {
        self.run_all_with(scenarios, |_| {}).await
    }
}
