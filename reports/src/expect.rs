//! Expectations: bounds on summary metrics, checked after a run.
//!
//! A metric is named by its dotted path in `summary.json`
//! (`durability.lost`, `latency.get.p999_ms`, `availability`). This module
//! looks values up and compares; it never computes metrics.

use serde_json::Value as Json;
use sim_core::config::Expectation;

/// The outcome of one bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The metric path.
    pub metric: String,
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
    /// The measured value (`None` if the path names no number).
    pub value: Option<f64>,
    /// Whether the bound holds.
    pub pass: bool,
}

/// Looks up a dotted path; numbers and booleans (as 0/1) are values.
pub fn lookup(summary: &Json, path: &str) -> Option<f64> {
    let mut cur = summary;
    for part in path.split('.') {
        cur = match cur {
            Json::Object(map) => map.get(part)?,
            Json::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match cur {
        Json::Number(n) => n.as_f64(),
        Json::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Checks every expectation against a summary.
pub fn check(summary: &Json, expect: &[Expectation]) -> Vec<Verdict> {
    expect
        .iter()
        .map(|e| {
            let value = lookup(summary, &e.metric);
            let pass = match value {
                None => false,
                Some(v) => e.min.is_none_or(|lo| v >= lo) && e.max.is_none_or(|hi| v <= hi),
            };
            Verdict {
                metric: e.metric.clone(),
                min: e.min,
                max: e.max,
                value,
                pass,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounds_are_inclusive_and_unknown_paths_fail() {
        let s = json!({"durability": {"lost": 0}, "availability": 0.999, "convergence": {"converged": true}});
        let e = |metric: &str, min, max| Expectation {
            metric: metric.into(),
            min,
            max,
        };
        let v = check(
            &s,
            &[
                e("durability.lost", None, Some(0.0)),
                e("availability", Some(0.999), None),
                e("availability", Some(1.0), None),
                e("convergence.converged", Some(1.0), None),
                e("no.such.metric", None, Some(1.0)),
            ],
        );
        let passes: Vec<bool> = v.iter().map(|x| x.pass).collect();
        assert_eq!(passes, vec![true, true, false, true, false]);
        assert_eq!(v[4].value, None);
    }
}
