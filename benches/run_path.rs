//! The full run path against the engine (issue 18): the engine bench's
//! 1M-operation baseline (`sim-core/benches/engine.rs`, 64 nodes, 100k
//! preloaded keys) run twice in the same bench, alternating, best of three:
//!
//! - the engine alone, as the engine bench runs it (`Simulation::run` into
//!   a `NullSink`, in a child process of this bench);
//! - the CLI's path: `dynasim run FILE --no-plots --quiet --out DIR` through
//!   the real binary (collector, checkers, summary, `summary.json`,
//!   `timeline.csv`; no figures).
//!
//! Run with `cargo bench --bench run_path` (`DYNASIM_BENCH_QUICK=1`: 200k
//! operations, one round). Prints `name: value` lines:
//! `run_path_ops`, `engine_run_wall_s` / `_cpu_s`, `run_path_wall_s` /
//! `_cpu_s`, `run_path_vs_engine_bench` (wall) and
//! `run_path_vs_engine_bench_cpu` (goal ≤ 1.3), `run_path_us_per_op` (CPU),
//! and `run_path_messages_per_cpu_sec` (messages the run sends over the CLI
//! path's CPU seconds; goal ≥ 2.2 M). Wall time is measured only here,
//! outside any simulation.
//!
//! Then the cost per operation against the number of keys: the same
//! baseline over 1,000 and over 1,000,000 loaded keys (zipfian 0.99 both),
//! each through the engine alone and through `dynasim run`, best of two
//! alternating rounds (one when quick): `keys_1k_engine_cpu_s`,
//! `keys_1m_engine_cpu_s`, `keys_1k_run_path_cpu_s`, `keys_1m_run_path_cpu_s`,
//! and the ratios `engine_keys_1m_vs_1k_cpu` and `run_path_keys_1m_vs_1k_cpu`.
//! The 1M-key runs include loading the keys and the end state of every
//! copy, as a user's run does; the same scenarios with 200 operations
//! measure that fixed part (`keys_1m_fixed_engine_cpu_s`,
//! `keys_1m_fixed_run_path_cpu_s`), and the marginal cost per operation
//! is compared without it: `engine_keys_1m_vs_1k_cpu_per_op` and
//! `run_path_keys_1m_vs_1k_cpu_per_op` (goal ≤ 1.3; loading is the memory
//! bench's `preload_us_per_key`).

// A benchmark has to measure time; it does so only here, around the code
// under test, never inside a simulation.
#![allow(clippy::disallowed_methods)]

#[allow(dead_code)]
#[path = "../sim-core/benches/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use common::{baseline_scenario_json, children_cpu_time_s, cpu_time_s, run_child_spec, CHILD_ENV};
use sim_core::engine::record::NullSink;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::Simulation;

const OPS: u64 = 1_000_000;
const QUICK_OPS: u64 = 200_000;

fn main() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        engine_child(Path::new(&path));
        return;
    }
    let quick = std::env::var("DYNASIM_BENCH_QUICK").is_ok();
    let (ops, rounds) = if quick { (QUICK_OPS, 1) } else { (OPS, 3) };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("dynasim-run-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("baseline.json");
    std::fs::write(&file, baseline_scenario_json(ops)).expect("write the scenario");
    let file_arg = file.to_str().expect("a UTF-8 temporary path");
    let mut engine = (f64::INFINITY, f64::INFINITY);
    let mut cli = (f64::INFINITY, f64::INFINITY);
    let mut messages = 0u64;
    let mut hashes = (String::new(), String::new());
    for round in 0..rounds {
        eprintln!("run_path: round {} of {rounds}", round + 1);
        let figures = run_child_spec(file_arg);
        let wall: f64 = figures.get("wall_s").parse().expect("a number");
        let cpu: f64 = figures.get("cpu_s").parse().unwrap_or(f64::NAN);
        messages = figures.get("messages").parse().expect("a count");
        hashes.0 = figures.get("trace_hash").to_string();
        engine = (engine.0.min(wall), engine.1.min(cpu));
        let (wall, cpu, hash) = cli_run(&file, &dir.join("out"));
        hashes.1 = hash;
        cli = (cli.0.min(wall), cli.1.min(cpu));
    }
    assert_eq!(hashes.0, hashes.1, "the two paths ran the same run");
    println!("run_path_ops: {ops}");
    println!("engine_run_wall_s: {:.3}", engine.0);
    println!("engine_run_cpu_s: {:.3}", engine.1);
    println!("run_path_wall_s: {:.3}", cli.0);
    println!("run_path_cpu_s: {:.3}", cli.1);
    println!("run_path_vs_engine_bench: {:.2}", cli.0 / engine.0);
    println!("run_path_vs_engine_bench_cpu: {:.2}", cli.1 / engine.1);
    println!("run_path_us_per_op: {:.2}", cli.1 * 1e6 / ops as f64);
    println!(
        "run_path_messages_per_cpu_sec: {:.0}",
        messages as f64 / cli.1
    );
    keys_scaling(&dir, ops, if quick { 1 } else { 2 });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The baseline over 1k and 1M keys, engine alone and CLI path: best CPU
/// seconds of `rounds` alternating rounds each, and their ratios.
fn keys_scaling(dir: &Path, ops: u64, rounds: usize) {
    let base = baseline_scenario_json(ops);
    let mut best = [(f64::INFINITY, f64::INFINITY); 2];
    let counts = [1_000u64, 1_000_000];
    let write = |n: u64, text: &str, name: &str| {
        let text = text.replace("\"count\": 100000,", &format!("\"count\": {n},"));
        assert!(
            text.contains(&format!("\"count\": {n},")),
            "the baseline names its key count"
        );
        let file = dir.join(format!("{name}-{n}.json"));
        std::fs::write(&file, text).expect("write the scenario");
        file
    };
    let files: Vec<PathBuf> = counts.iter().map(|n| write(*n, &base, "keys")).collect();
    // The fixed part: the same runs with 100 plans (200 operations).
    let fixed_base = baseline_scenario_json(200);
    let fixed: Vec<(f64, f64)> = counts
        .iter()
        .map(|n| {
            let file = write(*n, &fixed_base, "fixed");
            let figures = run_child_spec(file.to_str().expect("a UTF-8 temporary path"));
            let engine: f64 = figures.get("cpu_s").parse().unwrap_or(f64::NAN);
            let (_, cli, _) = cli_run(&file, &dir.join("out-keys"));
            (engine, cli)
        })
        .collect();
    for round in 0..rounds {
        for (i, file) in files.iter().enumerate() {
            eprintln!(
                "run_path: {} keys, round {} of {rounds}",
                counts[i],
                round + 1
            );
            let figures = run_child_spec(file.to_str().expect("a UTF-8 temporary path"));
            let engine: f64 = figures.get("cpu_s").parse().unwrap_or(f64::NAN);
            let (_, cli, _) = cli_run(file, &dir.join("out-keys"));
            best[i] = (best[i].0.min(engine), best[i].1.min(cli));
        }
    }
    println!("keys_1k_engine_cpu_s: {:.3}", best[0].0);
    println!("keys_1m_engine_cpu_s: {:.3}", best[1].0);
    println!("keys_1k_run_path_cpu_s: {:.3}", best[0].1);
    println!("keys_1m_run_path_cpu_s: {:.3}", best[1].1);
    println!("keys_1m_fixed_engine_cpu_s: {:.3}", fixed[1].0);
    println!("keys_1m_fixed_run_path_cpu_s: {:.3}", fixed[1].1);
    println!("engine_keys_1m_vs_1k_cpu: {:.2}", best[1].0 / best[0].0);
    println!("run_path_keys_1m_vs_1k_cpu: {:.2}", best[1].1 / best[0].1);
    println!(
        "engine_keys_1m_vs_1k_cpu_per_op: {:.2}",
        (best[1].0 - fixed[1].0) / (best[0].0 - fixed[0].0)
    );
    println!(
        "run_path_keys_1m_vs_1k_cpu_per_op: {:.2}",
        (best[1].1 - fixed[1].1) / (best[0].1 - fixed[0].1)
    );
}

/// The CLI path: wall and CPU seconds of `dynasim run --no-plots`, and the
/// trace hash it printed.
fn cli_run(file: &Path, out: &Path) -> (f64, f64, String) {
    let _ = std::fs::remove_dir_all(out);
    let cpu_before = children_cpu_time_s();
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_dynasim"))
        .arg("run")
        .arg(file)
        .args(["--no-plots", "--quiet", "--out"])
        .arg(out)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("the dynasim binary runs");
    let wall = start.elapsed().as_secs_f64();
    let cpu = children_cpu_time_s()
        .zip(cpu_before)
        .map_or(f64::NAN, |(after, before)| after - before);
    assert!(
        output.status.success(),
        "dynasim run failed: {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let hash = stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace hash "))
        .unwrap_or_default()
        .to_string();
    (wall, cpu, hash)
}

/// Child mode: the engine alone on the scenario at `path`.
fn engine_child(path: &Path) {
    let text = std::fs::read_to_string(path).expect("the scenario file");
    let scenario = match parse(&text, &no_files) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("the bench scenario does not validate: {e:?}"),
    };
    let cpu_before = cpu_time_s();
    let start = Instant::now();
    let outcome = Simulation::new(scenario).run(&mut NullSink, None);
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_time_s()
        .zip(cpu_before)
        .map_or(f64::NAN, |(after, before)| after - before);
    let messages: u64 = outcome.stats.sent_by_kind.iter().sum();
    println!("wall_s: {wall:.3}");
    println!("cpu_s: {cpu:.3}");
    println!("messages: {messages}");
    println!("trace_hash: {:016x}", outcome.trace_hash);
}
