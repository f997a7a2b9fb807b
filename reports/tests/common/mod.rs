//! Helpers the checker and versioning tests share: one run through the
//! collector, metric lookup, the small control cluster and the shipped
//! scenario files.
#![allow(dead_code)] // each test file uses its own subset

use std::sync::Arc;

use reports::metrics::Collector;
use serde_json::{json, Value as Json};
use sim_core::scenario::{parse, ScenarioFile};
use sim_core::sim::Simulation;

/// Runs a scenario (JSON value) with `seed` and returns its summary.
pub fn run(scenario: &Json, seed: u64) -> Json {
    run_configured(scenario, seed, |_| {}).0
}

/// [`run`] with the collector set up by `configure` first; returns the
/// summary and the collector.
pub fn run_configured(
    scenario: &Json,
    seed: u64,
    configure: impl FnOnce(&mut Collector),
) -> (Json, Collector) {
    let mut file: ScenarioFile =
        serde_json::from_value(scenario.clone()).expect("test scenario has the right shape");
    file.rng_seed = seed;
    let text = serde_json::to_string(&file).expect("serializes");
    let scenario =
        Arc::new(parse(&text, &sim_core::scenario::no_files).expect("test scenario validates"));
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&scenario);
    configure(&mut collector);
    let outcome = sim.run(&mut collector, None);
    let summary = reports::report::summary(&scenario, &outcome, &collector, &ring);
    (summary, collector)
}

/// Where two summaries first differ, as pretty-printed JSON: the line number
/// and both lines.
pub fn first_difference(a: &Json, b: &Json) -> String {
    let a = serde_json::to_string_pretty(a).unwrap();
    let b = serde_json::to_string_pretty(b).unwrap();
    let i = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(0);
    format!(
        "line {i}:\n{}\nvs\n{}",
        a.lines().nth(i).unwrap_or(""),
        b.lines().nth(i).unwrap_or("")
    )
}

pub fn n(summary: &Json, path: &str) -> f64 {
    reports::expect::lookup(summary, path).unwrap_or_else(|| panic!("no metric {path}"))
}

pub fn shipped(name: &str) -> Json {
    let path = format!("{}/../scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("shipped scenario readable");
    serde_json::from_str(&text).expect("shipped scenario is JSON")
}

pub fn base() -> Json {
    json!({
        "name": "control",
        "duration_s": 8,
        "quiescence": { "duration_s": 5, "heal_faults": true },
        "cluster": {
            "nodes": 5,
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "replica_timeout_ms": 30,
            "hint_scan_interval_ms": 200
        },
        "network": { "latency": { "exponential": { "mean_ms": 1.0 } } },
        "workload": {
            "clients": 4,
            "arrival": { "open_loop": { "rate_per_s": 40 } },
            "keys": { "count": 30, "popularity": { "zipfian": 0.8 } },
            "mix": { "read": 0.5, "read_modify_write": 0.5 },
            "client_timeout_ms": 500
        }
    })
}

/// The seeds a checker control runs over: `1..=default`, or `1..=N` with
/// `DYNASIM_CONTROL_SEEDS=N` (docs/claims.md runs them over 1,000 seeds:
/// `DYNASIM_CONTROL_SEEDS=1000 cargo test --release -p reports --test checkers`).
pub fn control_seeds(default: u64) -> std::ops::RangeInclusive<u64> {
    let n = std::env::var("DYNASIM_CONTROL_SEEDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default);
    1..=n
}

/// A positive control's verdict over its seeds: with fewer than 20 seeds
/// every seed must find the anomaly; with more, at least 95 % (the rate is
/// printed, and docs/claims.md quotes it).
pub fn assert_detection_rate(name: &str, found: u64, seeds: u64) {
    eprintln!(
        "control {name}: found on {found} of {seeds} seeds ({:.1} %)",
        100.0 * found as f64 / seeds.max(1) as f64
    );
    if seeds < 20 {
        assert_eq!(
            found, seeds,
            "{name}: the anomaly must be found on every seed"
        );
    } else {
        assert!(
            found as f64 >= 0.95 * seeds as f64,
            "{name}: found on {found} of {seeds} seeds, below 95 %"
        );
    }
}

/// A negative control's tally, printed so a long run shows its size.
pub fn report_negative(name: &str, seeds: u64) {
    eprintln!("control {name}: nothing found on {seeds} of {seeds} seeds");
}
