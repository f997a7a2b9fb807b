//! Memory benchmark: what a million keys cost (issue 18).
//!
//! Run with `cargo bench -p reports --bench memory` (release profile, about
//! ten minutes). Standard output carries only `name: value`
//! lines, one per figure; progress goes to standard error.
//!
//! Each measured run happens in its own child process (the bench re-executes
//! itself with `DYNASIM_BENCH_CHILD=<spec>`), because peak RSS is
//! process-wide and never goes down. A child does what `dynasim run` does:
//! builds the simulation, runs it with the metrics [`Collector`] as its
//! sink, and builds the summary, so the collector's end-of-run passes are
//! inside the measured peak. Peak RSS does not depend on how loaded the
//! machine is; the time figure does (CPU time is printed, not wall time).
//!
//! The cluster: 64 nodes, `(N, R, W) = (3, 2, 2)`, a healthy network, 1M keys
//! loaded before the run (`workload.keys.preload`), uniform popularity.
//!
//! Figures:
//! - `preload_1m_keys_peak_rss_mb`: peak RSS (`VmHWM`, Linux only; `n/a`
//!   elsewhere) of a run that loads the 1M keys and then does one read per
//!   client (64 reads);
//! - `preload_us_per_key`: CPU time of building that simulation (the load
//!   phase is nearly all of it) per loaded key, in microseconds, and
//!   `preload_wall_us_per_key` the same in wall time (a busy machine shows
//!   as a gap between the two);
//! - `blind_writes_500k_over_1m_keys_peak_rss_mb`,
//!   `blind_writes_2m_over_1m_keys_peak_rss_mb`: peak RSS of runs of 500k
//!   and 2M blind writes (64 open-loop clients at 500 puts/s each) over the
//!   loaded keys, collector and summary included;
//! - `blind_writes_rss_2m_vs_500k`: their ratio (1.0 is flat in the number
//!   of writes);
//! - the same three under last-write-wins (`blind_writes_500k_over_1m_keys_lww_peak_rss_mb`,
//!   `blind_writes_2m_over_1m_keys_lww_peak_rss_mb`, `blind_writes_lww_rss_2m_vs_500k`):
//!   under vector clocks a blind put has an empty context, so every one is
//!   a new sibling kept on N replicas (the protocol's state grows with the
//!   writes); under last-write-wins a key keeps one version;
//! - `blind_writes_2m_engine_alone_peak_rss_mb`,
//!   `blind_writes_2m_engine_alone_lww_peak_rss_mb`: the 2M runs without
//!   the collector (the engine's share);
//! - `blind_writes_6m_over_1m_keys_lww_peak_rss_mb`, and with a 5 s
//!   retention window (`metrics.retention_window_s`; see the metrics
//!   module's docs) `blind_writes_2m_over_1m_keys_lww_window_5s_peak_rss_mb`
//!   and `blind_writes_6m_over_1m_keys_lww_window_5s_peak_rss_mb`; the
//!   ratios `blind_writes_lww_rss_6m_vs_2m` and
//!   `blind_writes_lww_window_5s_rss_6m_vs_2m` (the ratio without a
//!   window takes the 2M last-write-wins run above). About three writes a key at
//!   2M and seven at 6M, the loaded value included: the exact rule keeps
//!   them all (fewer than sixteen follow any), the window about one a key.
//!
//! # Goals (issue 18)
//! - `preload_1m_keys_peak_rss_mb` ≤ 300 and `preload_us_per_key` ≤ 1;
//! - `blind_writes_2m_over_1m_keys_peak_rss_mb` ≤ 400, flat in the number
//!   of writes.

// A benchmark has to measure time; it does so only here, around the code
// under test, never inside a simulation.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

#[path = "../../sim-core/benches/common/mod.rs"]
mod common;

use common::{cpu_time_s, peak_rss_mb, run_child_spec, CHILD_ENV};
use reports::metrics::Collector;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::{Simulation, StopReason};

const KEYS: u64 = 1_000_000;
const NODES: u32 = 64;
const CLIENTS: u64 = 64;
/// Blind writes per second per client.
const RATE_PER_CLIENT: u64 = 500;

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let preload = run_child_spec("preload");
    println!(
        "preload_1m_keys_peak_rss_mb: {}",
        preload.get("peak_rss_mb")
    );
    println!("preload_us_per_key: {}", preload.get("us_per_key"));
    println!(
        "preload_wall_us_per_key: {}",
        preload.get("wall_us_per_key")
    );
    // Vector clocks (the default) first, the headline figures; then the
    // same runs under last-write-wins, and the 2M runs without the
    // collector: the split README's table quotes.
    // The 2M last-write-wins figure, kept for the ratio with 6M below.
    let mut lww_2m = String::new();
    for (label, suffix) in [("", ""), ("_lww", ":lww")] {
        let short = run_child_spec(&format!("blind:500000{suffix}"));
        let long = run_child_spec(&format!("blind:2000000{suffix}"));
        let (a, b) = (short.get("peak_rss_mb"), long.get("peak_rss_mb"));
        if suffix == ":lww" {
            lww_2m = b.to_string();
        }
        println!("blind_writes_500k_over_1m_keys{label}_peak_rss_mb: {a}");
        println!("blind_writes_2m_over_1m_keys{label}_peak_rss_mb: {b}");
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) => println!("blind_writes{label}_rss_2m_vs_500k: {:.2}", b / a),
            _ => println!("blind_writes{label}_rss_2m_vs_500k: n/a"),
        }
    }
    for (label, suffix) in [("", ""), ("_lww", ":lww")] {
        let engine = run_child_spec(&format!("blind:2000000{suffix}:engine"));
        println!(
            "blind_writes_2m_engine_alone{label}_peak_rss_mb: {}",
            engine.get("peak_rss_mb")
        );
    }
    // About three and seven writes a key under last-write-wins: the exact
    // rule keeps them all (fewer than sixteen later writes to the key), a
    // 5 s retention window about one a key (see "Retention window" in the
    // metrics module docs).
    let exact = [
        lww_2m,
        run_child_spec("blind:6000000:lww")
            .get("peak_rss_mb")
            .to_string(),
    ];
    let window = [
        run_child_spec("blind:2000000:lww:window5")
            .get("peak_rss_mb")
            .to_string(),
        run_child_spec("blind:6000000:lww:window5")
            .get("peak_rss_mb")
            .to_string(),
    ];
    println!("blind_writes_6m_over_1m_keys_lww_peak_rss_mb: {}", exact[1]);
    println!(
        "blind_writes_2m_over_1m_keys_lww_window_5s_peak_rss_mb: {}",
        window[0]
    );
    println!(
        "blind_writes_6m_over_1m_keys_lww_window_5s_peak_rss_mb: {}",
        window[1]
    );
    for (label, [a, b]) in [("", exact), ("_window_5s", window)] {
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) => println!("blind_writes_lww{label}_rss_6m_vs_2m: {:.2}", b / a),
            _ => println!("blind_writes_lww{label}_rss_6m_vs_2m: n/a"),
        }
    }
}

/// The scenario: `writes` blind writes over the loaded keys, or a single
/// read per client when `writes` is 0.
fn scenario_json(writes: u64) -> String {
    let (mix, max_ops, duration_s) = if writes == 0 {
        (r#""read": 1.0"#, 1, 1)
    } else {
        // Twice the expected time to spend the budget: max_ops ends it.
        let duration = 2 * writes / (CLIENTS * RATE_PER_CLIENT) + 2;
        (r#""blind_write": 1.0"#, writes, duration)
    };
    format!(
        r#"{{
  "name": "bench-memory",
  "rng_seed": 1,
  "duration_s": {duration_s},
  "cluster": {{ "nodes": {NODES}, "quorum": {{ "n": 3, "r": 2, "w": 2 }} }},
  "network": {{ "latency": {{ "normal": {{ "mean_ms": 0.5, "stddev_ms": 0.1 }} }} }},
  "workload": {{
    "clients": {CLIENTS},
    "arrival": {{ "open_loop": {{ "rate_per_s": {RATE_PER_CLIENT} }} }},
    "keys": {{ "count": {KEYS}, "preload": true, "popularity": "uniform" }},
    "mix": {{ {mix} }},
    "max_ops": {max_ops}
  }}
}}"#
    )
}

/// Child mode: one run; prints its figures.
fn child(spec: &str) {
    // `blind:N` takes flags after it: `engine` runs without the collector,
    // `lww` under last-write-wins, `window5` with a 5 s retention window
    // (the split of the figures in README).
    let mut parts = spec.split(':');
    let spec = match (parts.next(), parts.next()) {
        (Some("preload"), None) => "preload".to_string(),
        (Some("blind"), Some(n)) => format!("blind:{n}"),
        _ => panic!("{CHILD_ENV} must be `preload` or `blind:N[:flag...]`, got {spec:?}"),
    };
    let flags: Vec<&str> = parts.collect();
    let engine_only = flags.contains(&"engine");
    let lww = flags.contains(&"lww");
    let window = flags.contains(&"window5");
    let writes = match spec.as_str() {
        "preload" => 0,
        _ => spec
            .strip_prefix("blind:")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{CHILD_ENV}: a number of writes, got {spec:?}")),
    };
    let mut text = scenario_json(writes);
    if lww {
        text = text.replace(
            r#""quorum": {"#,
            r#""versioning": "last_write_wins", "quorum": {"#,
        );
    }
    if window {
        text = text.replace(
            r#""rng_seed": 1,"#,
            r#""rng_seed": 1, "metrics": { "retention_window_s": 5 },"#,
        );
    }
    let scenario = match parse(&text, &no_files) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("the bench scenario does not validate: {e:?}"),
    };
    eprintln!("memory: {spec} {flags:?}...");
    let cpu_before = cpu_time_s();
    let started = std::time::Instant::now();
    let sim = Simulation::new(scenario.clone());
    let wall = started.elapsed().as_secs_f64();
    println!("wall_us_per_key: {:.3}", wall * 1e6 / KEYS as f64);
    if let (Some(a), Some(b)) = (cpu_before, cpu_time_s()) {
        println!("us_per_key: {:.3}", (b - a) * 1e6 / KEYS as f64);
    } else {
        println!("us_per_key: n/a");
    }
    if engine_only {
        let outcome = sim.run(&mut sim_core::engine::record::NullSink, None);
        assert_eq!(outcome.stop, StopReason::EndOfRun);
        if let Some(mb) = peak_rss_mb() {
            println!("peak_rss_mb: {mb:.1}");
        }
        return;
    }
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&scenario);
    let outcome = sim.run(&mut collector, None);
    assert_eq!(
        outcome.stop,
        StopReason::EndOfRun,
        "the run must end at its end time"
    );
    let summary = reports::report::summary(&scenario, &outcome, &collector, &ring);
    let done = summary["ops"]["total"].as_u64().unwrap_or_default();
    let (cold, thaws) = collector.cold_keys();
    eprintln!(
        "memory: {spec} {flags:?}: {done} operations, {} lost, {} retained writes, {cold} keys packed in {} bytes, \
         {thaws} thaws, {} histories unpacked at most at the end",
        summary["durability"]["lost"],
        collector.retained_writes(),
        collector.cold_bytes(),
        collector.hot_cap()
    );
    match peak_rss_mb() {
        Some(mb) => println!("peak_rss_mb: {mb:.1}"),
        None => println!("peak_rss_mb: n/a"),
    }
}
