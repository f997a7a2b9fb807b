//! Collector benchmark: the metrics collector's memory does not grow with the
//! length of a run (issue 8).
//!
//! Run with `cargo bench -p reports --bench collector` (release profile, about
//! a minute). Standard output carries only `name: value` lines, one per
//! figure; progress goes to standard error.
//!
//! The same simulation runs twice with [`Collector`] as its sink, at
//! `OPS_SHORT` (200k) and `OPS_LONG` (2M) operations, each in its own child
//! process (the bench re-executes itself with `DYNASIM_BENCH_CHILD=ops:N`),
//! because peak RSS is process-wide and never goes down. The scenario: 8
//! nodes, `(N, R, W) = (3, 2, 2)`, 1,000 keys with uniform popularity, 10
//! open-loop clients doing 200 read-modify-write plans per second each (one
//! plan is a get then a put, so 4,000 operations per simulated second), a
//! healthy network, a 500 ms client timeout and a 250 ms request timeout (a
//! 1.25 s retirement horizon). Every key is touched in the first seconds, so
//! both runs store the same working set: what differs is only how many
//! writes the collector has seen. `workload.max_ops` ends the workload. The
//! child also builds the summary, as `dynasim run` does, so the end-of-run
//! durability pass is inside the measured peak.
//!
//! Figures:
//! - `collector_ops_short`, `collector_ops_long`: operations completed;
//! - `collector_peak_rss_mb_short`, `collector_peak_rss_mb_long`: peak RSS
//!   (`VmHWM` from `/proc/self/status`, Linux only; `n/a` elsewhere) of the
//!   whole child: simulator, collector and summary;
//! - `collector_rss_long_vs_short`: their ratio;
//! - `collector_retained_writes_short`, `collector_retained_writes_long`: the
//!   writes the collector's per-key histories hold at the end
//!   ([`Collector::retained_writes`]);
//! - `collector_retired_writes_short`, `collector_retired_writes_long`: the
//!   writes it retired;
//! - `collector_wall_s_short`, `collector_wall_s_long`: wall time of the run
//!   and the summary.
//!
//! # Goal
//! - `collector_rss_long_vs_short` ≤ 1.2: ten times the operations, the same
//!   memory.

// A benchmark has to measure wall time; it does so only here, around the
// code under test, never inside a simulation.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::time::Instant;

#[path = "../../sim-core/benches/common/mod.rs"]
mod common;

use common::{peak_rss_mb, run_child_spec, ChildFigures, CHILD_ENV};
use reports::metrics::Collector;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::{Simulation, StopReason};

const OPS_SHORT: u64 = 200_000;
const OPS_LONG: u64 = 2_000_000;
const CLIENTS: u64 = 10;
/// Read-modify-write plans per second per client.
const RATE_PER_CLIENT: u64 = 200;

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let started = Instant::now();
    let short = run_child(OPS_SHORT);
    let long = run_child(OPS_LONG);
    for (suffix, run) in [("short", &short), ("long", &long)] {
        for name in [
            "ops",
            "peak_rss_mb",
            "retained_writes",
            "retired_writes",
            "wall_s",
        ] {
            println!("collector_{name}_{suffix}: {}", run.get(name));
        }
    }
    match (
        short.get("peak_rss_mb").parse::<f64>(),
        long.get("peak_rss_mb").parse::<f64>(),
    ) {
        (Ok(a), Ok(b)) => println!("collector_rss_long_vs_short: {:.2}", b / a),
        _ => println!("collector_rss_long_vs_short: n/a"),
    }
    eprintln!("bench finished in {:.1} s", started.elapsed().as_secs_f64());
}

/// The scenario with a budget of `ops` operations (gets + puts).
fn scenario_json(ops: u64) -> String {
    // One read-modify-write plan = one get + one put; clients count plans.
    let plans = ops / 2;
    assert_eq!(plans % CLIENTS, 0, "every client gets the same budget");
    // Twice the expected time to spend the budget: max_ops ends the workload.
    let duration_s = 2 * plans / (CLIENTS * RATE_PER_CLIENT) + 5;
    format!(
        r#"{{
  "name": "bench-collector",
  "rng_seed": 1,
  "duration_s": {duration_s},
  "quiescence": {{ "duration_s": 1, "heal_faults": true }},
  "max_events": 10000000000,
  "cluster": {{
    "nodes": 8,
    "quorum": {{ "n": 3, "r": 2, "w": 2 }},
    "request_timeout_ms": 250
  }},
  "network": {{
    "latency": {{ "normal": {{ "mean_ms": 0.5, "stddev_ms": 0.1 }} }}
  }},
  "workload": {{
    "clients": {CLIENTS},
    "arrival": {{ "open_loop": {{ "rate_per_s": {RATE_PER_CLIENT} }} }},
    "keys": {{ "count": 1000, "popularity": "uniform" }},
    "mix": {{ "read_modify_write": 1.0 }},
    "client_timeout_ms": 500,
    "max_ops": {plans}
  }}
}}"#
    )
}

/// Child mode: one run with the collector as sink; prints its figures.
fn child(spec: &str) {
    let ops: u64 = spec
        .strip_prefix("ops:")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{CHILD_ENV} must be `ops:N`, got {spec:?}"));
    let scenario = match parse(&scenario_json(ops), &no_files) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("the bench scenario does not validate: {e:?}"),
    };
    eprintln!("collector: {ops} operations...");
    let start = Instant::now();
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&scenario);
    let outcome = sim.run(&mut collector, None);
    assert_eq!(
        outcome.stop,
        StopReason::EndOfRun,
        "the run must end at its end time"
    );
    let summary = reports::report::summary(&scenario, &outcome, &collector, &ring);
    let wall = start.elapsed().as_secs_f64();
    let done = summary["ops"]["total"].as_u64().unwrap_or_default();
    if done != ops {
        eprintln!("warning: {done} operations completed, the budget was {ops}");
    }
    eprintln!(
        "collector: {done} operations, {} lost, in {wall:.2} s",
        summary["durability"]["lost"]
    );
    println!("ops: {done}");
    println!("retained_writes: {}", collector.retained_writes());
    println!("retired_writes: {}", collector.retired_writes());
    println!("wall_s: {wall:.2}");
    match peak_rss_mb() {
        Some(mb) => println!("peak_rss_mb: {mb:.1}"),
        None => println!("peak_rss_mb: n/a"),
    }
}

/// Runs the collector child with `ops` operations in a fresh process.
fn run_child(ops: u64) -> ChildFigures {
    run_child_spec(&format!("ops:{ops}"))
}
