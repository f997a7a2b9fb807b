//! The scenario file format: JSON DTOs, and their validation into
//! [`config::Scenario`](crate::config::Scenario).
//!
//! The DTOs mirror the JSON one to one (`deny_unknown_fields`, units in field
//! names: `_ms`, `_s`). [`parse`] turns text into a validated scenario or into
//! a list of [`ScenarioError`]s, each naming the JSON path of the problem and
//! what was expected (`cluster.quorum.r: 4 exceeds n = 3`). Syntax errors carry
//! line and column. This module is the only one in `sim-core` that knows
//! serde, and it does no I/O: files referenced by a scenario (empirical
//! latency CSVs) are read through a resolver the caller passes in.

use std::fmt;

use crate::config::Scenario;

/// The most keys a load phase (`workload.keys.preload`) may store.
pub const MAX_PRELOAD_KEYS: u64 = 10_000_000;

/// The most points in a probe's t grid (`workload.arrival.probe.t_grid_ms`).
pub const MAX_PROBE_GRID: usize = 100_000;

/// The most reads one probe starts (t grid points × reads per t): each is a
/// client timer while the probe waits.
pub const MAX_PROBE_READS: u32 = 1_000_000;

/// The most WARS model trials a scenario may ask for (`metrics.wars_trials`).
pub const MAX_WARS_TRIALS: u64 = 1_000_000_000;

/// The most probes one client runs at once.
pub const MAX_PROBE_CONCURRENT: u32 = 10_000;

// ---------------------------------------------------------------- errors

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not JSON.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// A value has the wrong type or shape, or a field is unknown or missing.
    #[error("{path}: {message}")]
    Shape {
        /// JSON path.
        path: String,
        /// What was expected.
        message: String,
    },
    /// A value is well-formed but not acceptable.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path.
        path: String,
        /// What was expected.
        message: String,
    },
}

/// The longest message or path an error carries: longer ones (a 1 MB
/// string echoed by "unknown variant ...") are cut in the middle.
pub const MAX_ERROR_CHARS: usize = 300;

/// Cuts `text` to [`MAX_ERROR_CHARS`], keeping its start and end.
fn clip(text: String) -> String {
    let count = text.chars().count();
    if count <= MAX_ERROR_CHARS {
        return text;
    }
    let head: String = text.chars().take(MAX_ERROR_CHARS - 60).collect();
    let tail: String = text.chars().skip(count - 40).collect();
    format!(
        "{head}… ({} characters omitted) …{tail}",
        count - (MAX_ERROR_CHARS - 20)
    )
}

impl ScenarioError {
    /// The same error with its message and path cut to
    /// [`MAX_ERROR_CHARS`].
    fn clipped(self) -> ScenarioError {
        match self {
            ScenarioError::Syntax {
                line,
                column,
                message,
            } => ScenarioError::Syntax {
                line,
                column,
                message: clip(message),
            },
            ScenarioError::Shape { path, message } => ScenarioError::Shape {
                path: clip(path),
                message: clip(message),
            },
            ScenarioError::Invalid { path, message } => ScenarioError::Invalid {
                path: clip(path),
                message: clip(message),
            },
        }
    }

    /// The JSON path of the problem (`"(syntax)"` for syntax errors).
    pub fn path(&self) -> &str {
        match self {
            ScenarioError::Syntax { .. } => "(syntax)",
            ScenarioError::Shape { path, .. } | ScenarioError::Invalid { path, .. } => path,
        }
    }
}

/// Every problem found in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

mod dto;
mod validate;

pub use dto::*;
use validate::Validator;
pub use validate::{
    default_t_grid_us, parse_cdf_csv, MAX_DESCRIPTION_CHARS, MAX_EMPIRICAL_POINTS, MAX_GRID_POINTS,
    MAX_NAME_CHARS,
};

// ---------------------------------------------------------------- parsing

/// Reads a file referenced by a scenario (path relative to the scenario).
pub type Resolver<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// A resolver for scenarios that reference no files.
pub fn no_files(path: &str) -> Result<String, String> {
    Err(format!("no file access here (asked for {path:?})"))
}

/// Parses JSON text into the DTO, with path-named shape errors.
pub fn parse_file(text: &str) -> Result<ScenarioFile, ScenarioErrors> {
    parse_file_unclipped(text)
        .map_err(|e| ScenarioErrors(e.0.into_iter().map(ScenarioError::clipped).collect()))
}

fn parse_file_unclipped(text: &str) -> Result<ScenarioFile, ScenarioErrors> {
    // Syntax first: serde_json reports some type mismatches as syntax errors,
    // so only errors from a shape-agnostic pass are syntax errors.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(ScenarioErrors(vec![ScenarioError::Syntax {
            line: e.line(),
            column: e.column().max(1),
            message: strip_position(&e.to_string()),
        }]));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, ScenarioFile>(de) {
        Ok(file) => Ok(file),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let e = if inner.is_eof() {
                ScenarioError::Syntax {
                    line: inner.line(),
                    column: inner.column(),
                    message: strip_position(&inner.to_string()),
                }
            } else {
                let path = if path == "." {
                    "(root)".to_string()
                } else {
                    path
                };
                let message = strip_position(&inner.to_string());
                let (path, message) = refine_flattened(text, &path).unwrap_or((path, message));
                ScenarioError::Shape { path, message }
            };
            Err(ScenarioErrors(vec![e]))
        }
    }
}

/// Link settings are flattened into `network` and each link override, and
/// serde loses the path inside a flattened struct (an error in
/// `network.latency.lognormal` was reported at `network`). For an error at
/// such an object, deserialize its link part alone to find the full path.
fn refine_flattened(text: &str, path: &str) -> Option<(String, String)> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let (mut value, others): (serde_json::Value, &[&str]) = if path == "network" {
        (root.get("network")?.clone(), &["datacenter_links", "links"])
    } else {
        let rest = path.strip_prefix("network.")?;
        let (list, index) = rest.strip_suffix(']')?.split_once('[')?;
        if list != "links" && list != "datacenter_links" {
            return None;
        }
        let i: usize = index.parse().ok()?;
        (
            root.get("network")?.get(list)?.get(i)?.clone(),
            &["between"],
        )
    };
    let map = value.as_object_mut()?;
    for k in others {
        map.remove(*k);
    }
    match serde_path_to_error::deserialize::<_, LinkDto>(value) {
        Ok(_) => None,
        Err(err) => {
            let inner = err.path().to_string();
            let full = if inner == "." {
                path.to_string()
            } else {
                format!("{path}.{inner}")
            };
            Some((full, strip_position(&err.into_inner().to_string())))
        }
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Parses and validates a scenario.
pub fn parse(text: &str, resolver: Resolver<'_>) -> Result<Scenario, ScenarioErrors> {
    let file = parse_file(text)?;
    validate(&file, resolver)
}

/// Validates a DTO into a scenario, collecting every problem.
pub fn validate(file: &ScenarioFile, resolver: Resolver<'_>) -> Result<Scenario, ScenarioErrors> {
    let mut v = Validator {
        errors: Vec::new(),
        omitted: (0, String::new()),
        resolver,
    };
    let scenario = v.scenario(file);
    if v.errors.is_empty() {
        Ok(scenario.expect("no errors means a scenario was built"))
    } else {
        let mut errors: Vec<ScenarioError> =
            v.errors.into_iter().map(ScenarioError::clipped).collect();
        let (more, path) = v.omitted;
        if more > 0 {
            errors.push(
                ScenarioError::Invalid {
                    path,
                    message: format!(
                        "and {more} more problem(s) from here on, not listed (the first {} are)",
                        validate::MAX_ERRORS
                    ),
                }
                .clipped(),
            );
        }
        Err(ScenarioErrors(errors))
    }
}

/// The JSON Schema of the scenario format.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ScenarioFile);
    serde_json::to_value(schema).expect("a schema always serializes")
}
