//! Scale benchmark (issue 18): 1,000 nodes, 1M keys, 10M operations, the
//! whole run path (simulation, metrics collector, summary) in one process.
//!
//! Run with `cargo bench -p reports --bench scale` (about 9 minutes of CPU
//! after the build, both runs; `DYNASIM_BENCH_QUICK=1`: 1M operations). Standard output
//! carries only `name: value` lines; progress goes to standard error. The
//! run happens in a child process (the bench re-executes itself with
//! `DYNASIM_BENCH_CHILD=scale:<operations>`) so that its peak RSS is its
//! own.
//!
//! The scenario is the engine bench's baseline (read-modify-write clients,
//! `(N, R, W) = (3, 2, 2)`, zipfian 0.99, a healthy network) with 1,000
//! nodes on 4,096 equal partitions and 1M keys loaded before the run.
//!
//! The run is done twice, node capacity off and on (the engine bench's
//! section 5, `common::BASELINE_CAPACITY`, on every node); the second run's
//! figures carry a `scale_capacity_` prefix instead of `scale_`.
//!
//! Figures (`scale_ops` says how many operations they are for):
//! - `scale_peak_rss_mb`: peak RSS of the child (goal ≤ 4,096 at 10M);
//! - `scale_wall_s` / `scale_cpu_s`: the child's build, run and summary,
//!   wall time and CPU time (goal ≤ 180 s wall at 10M on the 2-core
//!   development machine; CPU time is what a busy machine cannot inflate);
//! - `scale_us_per_op`: CPU microseconds per operation;
//! - `scale_threads`: 2 when the collector ran on a second thread beside
//!   the engine, as `dynasim run` does on a machine with two cores or more
//!   (`reports::pipeline`), else 1. CPU time counts both threads;
//! - `scale_unpacked_cap` / `scale_thaws`: the collector's cap on unpacked
//!   key histories at the end (it adapts to how often they serve an
//!   operation: `cold::HotCap` in `reports/src/metrics/cold.rs`) and how
//!   many times a packed key was unpacked again.

// A benchmark has to measure time; it does so only here, around the code
// under test, never inside a simulation.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

#[path = "../../sim-core/benches/common/mod.rs"]
mod common;

use common::{
    baseline_scenario_json, cpu_time_s, peak_rss_mb, run_child_spec, with_capacity, CHILD_ENV,
};
use reports::metrics::Collector;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::Simulation;

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let ops: u64 = if std::env::var("DYNASIM_BENCH_QUICK").is_ok() {
        1_000_000
    } else {
        10_000_000
    };
    println!("scale_ops: {ops}");
    // Node capacity off, then on (issue 18's goals hold for both).
    for (prefix, flag) in [("scale_", ""), ("scale_capacity_", ":capacity")] {
        let figures = run_child_spec(&format!("scale:{ops}{flag}"));
        for name in [
            "threads",
            "peak_rss_mb",
            "wall_s",
            "cpu_s",
            "us_per_op",
            "unpacked_cap",
            "thaws",
        ] {
            println!("{prefix}{name}: {}", figures.get(name));
        }
    }
}

/// The baseline with 1,000 nodes and 1M keys.
fn scenario_json(ops: u64) -> String {
    let text = baseline_scenario_json(ops);
    let replaced = text
        .replace(r#""nodes": 64,"#, r#""nodes": 1000,"#)
        .replace(r#""partitions": 512"#, r#""partitions": 4096"#)
        .replace(r#""count": 100000,"#, r#""count": 1000000,"#);
    for (from, what) in [
        (r#""nodes": 1000,"#, "node count"),
        (r#""partitions": 4096"#, "partitions"),
        (r#""count": 1000000,"#, "key count"),
    ] {
        assert!(
            replaced.contains(from),
            "the baseline changed: no {what} to scale"
        );
    }
    replaced
}

fn child(spec: &str) {
    let (n, capacity) = match spec.strip_suffix(":capacity") {
        Some(n) => (n, true),
        None => (spec, false),
    };
    let ops: u64 = n
        .strip_prefix("scale:")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{CHILD_ENV} must be `scale:N[:capacity]`, got {spec:?}"));
    let mut text = scenario_json(ops);
    if capacity {
        text = with_capacity(&text);
    }
    let scenario = match parse(&text, &no_files) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("the scale scenario does not validate: {e:?}"),
    };
    eprintln!(
        "scale: {ops} operations on 1,000 nodes over 1M keys{}...",
        if capacity { ", node capacity on" } else { "" }
    );
    let cpu_before = cpu_time_s();
    let started = std::time::Instant::now();
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&scenario);
    // As `dynasim run` does: the collector on a second core when there is
    // one (the same results; CPU time counts both threads).
    let threads = if reports::pipeline::worth_a_thread() {
        2
    } else {
        1
    };
    let outcome = if threads == 2 {
        reports::pipeline::pipelined(&mut collector, |sink| sim.run(sink, None))
    } else {
        sim.run(&mut collector, None)
    };
    println!("threads: {threads}");
    // The collector's cap on unpacked histories at the end (it adapts to
    // how often they serve an operation) and how often a packed key was
    // unpacked again.
    println!("unpacked_cap: {}", collector.hot_cap());
    println!("thaws: {}", collector.cold_keys().1);
    let summary = reports::report::summary(&scenario, &outcome, &collector, &ring);
    let wall = started.elapsed().as_secs_f64();
    let done = summary["ops"]["total"].as_u64().unwrap_or_default();
    eprintln!(
        "scale: {done} operations, {} events, stop {}",
        outcome.stats.events,
        outcome.stop.name()
    );
    assert!(
        outcome.stop.is_complete(),
        "the scale run must complete: {}",
        outcome.stop.name()
    );
    println!("wall_s: {wall:.1}");
    match (cpu_before, cpu_time_s()) {
        (Some(a), Some(b)) => {
            println!("cpu_s: {:.1}", b - a);
            println!("us_per_op: {:.2}", (b - a) * 1e6 / done.max(1) as f64);
        }
        _ => {
            println!("cpu_s: n/a");
            println!("us_per_op: n/a");
        }
    }
    match peak_rss_mb() {
        Some(mb) => println!("peak_rss_mb: {mb:.1}"),
        None => println!("peak_rss_mb: n/a"),
    }
}
