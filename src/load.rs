//! Reading scenarios: from a file, or from a JSON document changed by
//! `--set` assignments, validated into a [`Scenario`], with errors that name
//! the file, the change and the JSON path ([`BadScenario`], exit 2). Also
//! [`simulate`], one run without tracing, which sweeps, shrinking and
//! exploration call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use sim_core::config::Scenario;
use sim_core::scenario::{self, ScenarioErrors};
use sim_core::sim::Simulation;

/// How a command ended (bad input and I/O errors are `Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed: exit 0.
    Ok,
    /// An `expect` block failed: exit 1.
    ExpectFailed,
}

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

/// Reads and validates a scenario; files it references resolve beside it.
pub fn load(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading scenario {}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolver =
        move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
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
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading scenario {}", path.display()))?;
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
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolver =
        move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
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

/// Runs a scenario to its end without tracing and returns its summary.
pub fn simulate(scenario: Scenario) -> serde_json::Value {
    let scenario = Arc::new(scenario);
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = reports::metrics::Collector::new(&scenario);
    let outcome = sim.run(&mut collector, None);
    reports::report::summary(&scenario, &outcome, &collector, &ring)
}
