//! Reading scenarios: from a file, or from a JSON document changed by
//! `--set` assignments, validated into a [`Scenario`], with errors that name
//! the file, the change and the JSON path ([`BadScenario`], exit 2). Also
//! [`simulate`], one run without tracing, which sweeps, shrinking and
//! exploration call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use sim_core::config::Scenario;
use sim_core::scenario::{self, ScenarioErrors};
use sim_core::sim::Simulation;

use crate::budget::{Budget, Estimate};
use crate::guard::Limits;

/// How a command ended (bad input and I/O errors are `Err`, exit 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed: exit 0.
    Ok,
    /// An `expect` block failed: exit 1.
    ExpectFailed,
    /// A run stopped before its end (`max_events`, the wall-clock or the
    /// memory guard): its results are partial whatever its expectations
    /// say. Exit 3.
    Incomplete,
}

impl Outcome {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::ExpectFailed => 1,
            Outcome::Incomplete => 3,
        }
    }
}

/// The exit status of bad input (scenario, flags) and I/O errors.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Errors that mean "bad input" (exit 2) rather than a crash.
#[derive(Debug)]
pub struct BadScenario {
    /// The scenario file.
    pub file: PathBuf,
    /// What was changed from the file (`--set` assignments), if anything.
    pub context: String,
    /// Every problem found.
    pub errors: ScenarioErrors,
}

impl std::fmt::Display for BadScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.errors.0 {
            writeln!(f, "{}{}: {e}", self.file.display(), self.context)?;
        }
        Ok(())
    }
}
impl std::error::Error for BadScenario {}

/// The largest scenario file read (the largest shipped one is 3 KB; a
/// 100,000-point inline distribution is about 3 MB).
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;
/// The largest file a scenario may reference (an empirical latency CSV).
pub const MAX_REFERENCED_BYTES: u64 = 16 << 20;

/// Why an input file cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Not a regular file (a directory, a device such as /dev/zero, a pipe).
    NotAFile,
    /// Over the size limit.
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// Not UTF-8: where the first bad byte is (1-based line and column,
    /// counted in characters).
    Utf8 {
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// The operating system's error.
    Io(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotAFile => write!(f, "not a regular file"),
            ReadError::TooLarge { limit } => {
                write!(f, "larger than the {} MiB limit", limit >> 20)
            }
            ReadError::Utf8 { line, column } => {
                write!(f, "line {line}, column {column}: invalid UTF-8")
            }
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads an input file as text: a regular file (after symbolic links) of
/// at most `limit` bytes, in UTF-8. Never reads more than `limit + 1`
/// bytes, whatever the file claims its size is.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| ReadError::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).expect("the valid prefix is UTF-8");
        let line = valid.matches('\n').count() + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ReadError::Utf8 { line, column }
    })
}

/// The field of a run's `summary.json` that holds the scenario as it ran
/// (after `--set` and `--seed`, defaults written out, CSV files inlined):
/// `dynasim run DIR/summary.json`, or the field extracted into a file of
/// its own, reproduces the run.
pub const SCENARIO_FILE_FIELD: &str = "scenario_file";

/// The scenario text inside a run's summary.json, when `text` is one.
fn scenario_in_summary(path: &Path, text: &str) -> Result<Option<String>> {
    if !text.contains("\"summary_version\"") {
        return Ok(None);
    }
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    if doc.get("summary_version").is_none() {
        return Ok(None);
    }
    match doc.get(SCENARIO_FILE_FIELD) {
        Some(s) if s.is_object() => Ok(Some(serde_json::to_string_pretty(s)?)),
        _ => anyhow::bail!(
            "{}: a summary without the {SCENARIO_FILE_FIELD:?} field (written by an older dynasim): it cannot be re-run; run the original scenario file",
            path.display()
        ),
    }
}

/// The scenario as it ran, as a JSON document that reproduces the run on
/// its own: `doc` (the file after `--set`) with `seed` as its `rng_seed`,
/// every default written out, and empirical latency CSV files inlined as
/// points. Stored in summary.json as [`SCENARIO_FILE_FIELD`].
pub fn resolved_document(
    path: &Path,
    doc: serde_json::Value,
    seed: u64,
) -> Result<serde_json::Value> {
    let text = serde_json::to_string(&doc)?;
    // One tree at a time: a `Value` map is a B-tree leaf, so a document's
    // tree takes about 25 times its text (a file of 20,000 faults).
    drop(doc);
    let mut file = scenario::parse_file(&text).map_err(|errors| BadScenario {
        file: path.to_path_buf(),
        context: String::new(),
        errors,
    })?;
    file.rng_seed = seed;
    let mut value = serde_json::to_value(&file)?;
    inline_csv(&mut value, &resolver(path))?;
    Ok(value)
}

/// Replaces every `{"empirical": {"csv": FILE}}` by its points.
fn inline_csv(
    v: &mut serde_json::Value,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> Result<()> {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(e)) = map.get_mut("empirical") {
                if let Some(serde_json::Value::String(csv)) = e.get("csv").cloned() {
                    let text = resolve(&csv).map_err(|m| anyhow::anyhow!("{csv}: {m}"))?;
                    let points = scenario::parse_cdf_csv(&text)
                        .map_err(|m| anyhow::anyhow!("{csv}: {m}"))?;
                    e.remove("csv");
                    e.insert("points".into(), serde_json::to_value(points)?);
                }
            }
            for child in map.values_mut() {
                inline_csv(child, resolve)?;
            }
        }
        serde_json::Value::Array(items) => {
            for child in items {
                inline_csv(child, resolve)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads a scenario file's text; a file that is not UTF-8 is a
/// [`BadScenario`] with the line and column of the first bad byte. A run's
/// summary.json reads as the scenario it holds ([`SCENARIO_FILE_FIELD`]).
fn read_scenario(path: &Path) -> Result<String> {
    let text = read_scenario_text(path)?;
    Ok(scenario_in_summary(path, &text)?.unwrap_or(text))
}

fn read_scenario_text(path: &Path) -> Result<String> {
    read_text(path, MAX_SCENARIO_BYTES).map_err(|e| match e {
        ReadError::Utf8 { line, column } => BadScenario {
            file: path.to_path_buf(),
            context: String::new(),
            errors: ScenarioErrors(vec![scenario::ScenarioError::Syntax {
                line,
                column,
                message: "invalid UTF-8 (scenario files are UTF-8 text)".into(),
            }]),
        }
        .into(),
        e => anyhow::anyhow!("reading scenario {}: {e}", path.display()),
    })
}

/// Resolves files a scenario references, beside the scenario file, with
/// the same checks as the scenario itself.
fn resolver(path: &Path) -> impl Fn(&str) -> Result<String, String> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    move |rel: &str| read_text(&dir.join(rel), MAX_REFERENCED_BYTES).map_err(|e| e.to_string())
}

/// Reads and validates a scenario; files it references resolve beside it.
pub fn load(path: &Path) -> Result<Scenario> {
    let text = read_scenario(path)?;
    let resolver = resolver(path);
    scenario::parse(&text, &resolver).map_err(|errors| {
        BadScenario {
            file: path.to_path_buf(),
            context: String::new(),
            errors,
        }
        .into()
    })
}

/// Reads a scenario file as a JSON document (to apply `--set` assignments
/// to). Text that is not JSON is reported like `load` reports it.
pub fn read_document(path: &Path) -> Result<serde_json::Value> {
    let text = read_scenario(path)?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(v),
        Err(_) => {
            load(path)?;
            anyhow::bail!("{}: not a JSON document", path.display())
        }
    }
}

/// Parses and validates a (modified) scenario document; files it references
/// resolve beside `path`. `context` names the modification in errors.
pub fn load_document(path: &Path, doc: &serde_json::Value, context: &str) -> Result<Scenario> {
    let text = serde_json::to_string(doc)?;
    let resolver = resolver(path);
    let bad = |errors| BadScenario {
        file: path.to_path_buf(),
        context: context.to_string(),
        errors,
    };
    let file = scenario::parse_file(&text).map_err(bad)?;
    let scenario = scenario::validate(&file, &resolver).map_err(bad)?;
    check_metrics(path, context, &scenario)?;
    Ok(scenario)
}

/// Rejects `expect` entries that name no summary metric.
pub fn check_metrics(path: &Path, context: &str, scenario: &Scenario) -> Result<()> {
    for e in &scenario.expect {
        if !reports::metrics::is_known_metric(&e.metric) {
            return Err(BadScenario {
                file: path.to_path_buf(),
                context: context.to_string(),
                errors: ScenarioErrors(vec![scenario::ScenarioError::Invalid {
                    path: format!("expect[{:?}]", e.metric),
                    message: "unknown metric".into(),
                }]),
            }
            .into());
        }
    }
    Ok(())
}

/// Refuses a scenario whose estimated cost exceeds `budget` (see
/// [`crate::budget`]), as bad input naming the dominant term's JSON path.
/// `note` is appended to the message (how the budget was shared).
pub fn check_budget(
    path: &Path,
    context: &str,
    scenario: &Scenario,
    budget: &Budget,
    note: &str,
) -> Result<()> {
    let estimate = Estimate::of(scenario);
    if std::env::var_os("DYNASIM_REPORT_ESTIMATE").is_some() {
        // For tests and calibration: the estimate beside the measured peak
        // (`DYNASIM_REPORT_PEAK_RSS`).
        eprintln!(
            "estimate_memory_kb {}",
            (estimate.total(crate::budget::Resource::Memory) / 1024.0) as u64
        );
        eprintln!("estimate_events {}", estimate.work() as u64);
        for t in &estimate.terms {
            eprintln!(
                "estimate_term {:?} {} {} = {}",
                t.resource, t.amount as u64, t.what, t.formula
            );
        }
    }
    match estimate.check(budget) {
        Ok(()) => Ok(()),
        Err(r) => Err(BadScenario {
            file: path.to_path_buf(),
            context: context.to_string(),
            errors: ScenarioErrors(vec![scenario::ScenarioError::Invalid {
                path: r.path,
                message: format!("{}{note}", r.message),
            }]),
        }
        .into()),
    }
}

/// Runs a scenario without tracing under `limits`' runtime guard and
/// returns its summary (an incomplete run says so in `run` and fails the
/// `run.complete` expectation).
pub fn simulate(scenario: Scenario, limits: &Limits) -> serde_json::Value {
    let scenario = Arc::new(scenario);
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = reports::metrics::Collector::new(&scenario);
    let mut guard = limits.guard();
    let outcome = sim.run_guarded(&mut collector, None, &mut guard);
    reports::report::summary_until(&scenario, &outcome, &collector, &ring, &guard.wall_stop())
}
