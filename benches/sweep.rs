//! Sweep throughput: the same sweep with `--jobs 1` and `--jobs 2`, timed in
//! the same run, through the real `dynasim` binary.
//!
//! Run with `cargo bench --bench sweep`. Prints `name: value` lines:
//! `sweep_runs`, `sweep_wall_s_1_job`, `sweep_wall_s_2_jobs`,
//! `sweep_runs_per_sec_1_job`, `sweep_runs_per_sec_2_jobs` and
//! `sweep_speedup_2_jobs` (goal ≥ 1.8 on a 2-core machine). Each timing is the
//! best of three, alternating the two settings, because the machine is noisy.
//! Wall time is measured only here, outside any simulation.
//!
//! Beside wall time, the CPU time (user + system) the `dynasim` process used
//! for the same best runs: `sweep_cpu_s_1_job`, `sweep_cpu_s_2_jobs` and
//! `sweep_cpu_2_jobs_vs_1` (the work two jobs add, ideally 1.0). On a shared
//! machine the wall-time speedup can mean nothing while the CPU figures still
//! show whether two jobs do the same work.

// Only the child CPU time is used here.
#[allow(dead_code)]
#[path = "../sim-core/benches/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const SCENARIO: &str = r#"{
  "name": "sweep-bench",
  "duration_s": 20,
  "quiescence": { "duration_s": 2, "heal_faults": true },
  "cluster": { "nodes": 8, "quorum": { "n": 3, "r": 2, "w": 2 } },
  "network": { "latency": { "exponential": { "mean_ms": 1.0 } } },
  "workload": {
    "clients": 8,
    "arrival": { "open_loop": { "rate_per_s": 50 } },
    "keys": { "count": 5000, "popularity": { "zipfian": 0.9 } },
    "mix": { "read": 0.5, "read_modify_write": 0.5 }
  },
  "faults": [{ "at_s": 5, "for_s": 5, "crash": { "node": "n3" } }]
}"#;

const SEEDS: u64 = 24;

/// Wall and CPU seconds of one sweep (the CPU time is `NaN` where `/proc`
/// is missing).
fn sweep(dir: &std::path::Path, scenario: &std::path::Path, jobs: u32) -> (f64, f64) {
    let out = dir.join(format!("out-{jobs}"));
    let _ = std::fs::remove_dir_all(&out);
    let cpu_before = common::children_cpu_time_s();
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_dynasim"))
        .arg("sweep")
        .arg(scenario)
        .args([
            "--seeds",
            &format!("1..={SEEDS}"),
            "--jobs",
            &jobs.to_string(),
            "--no-plots",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the dynasim binary runs");
    let secs = start.elapsed().as_secs_f64();
    let cpu = common::children_cpu_time_s()
        .zip(cpu_before)
        .map_or(f64::NAN, |(after, before)| after - before);
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "sweep failed: {status}"
    );
    (secs, cpu)
}

fn main() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("dynasim-sweep-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let scenario = dir.join("scenario.json");
    std::fs::write(&scenario, SCENARIO).expect("write scenario");
    // The fastest of three by wall time, with that run's CPU time.
    let best = |a: (f64, f64), b: (f64, f64)| if b.0 < a.0 { b } else { a };
    let (mut one, mut two) = ((f64::INFINITY, f64::NAN), (f64::INFINITY, f64::NAN));
    for _ in 0..3 {
        one = best(one, sweep(&dir, &scenario, 1));
        two = best(two, sweep(&dir, &scenario, 2));
    }
    let ((one, cpu_one), (two, cpu_two)) = (one, two);
    let _ = std::fs::remove_dir_all(&dir);
    println!("sweep_runs: {SEEDS}");
    println!("sweep_wall_s_1_job: {one:.3}");
    println!("sweep_wall_s_2_jobs: {two:.3}");
    println!("sweep_runs_per_sec_1_job: {:.2}", SEEDS as f64 / one);
    println!("sweep_runs_per_sec_2_jobs: {:.2}", SEEDS as f64 / two);
    println!("sweep_speedup_2_jobs: {:.2}", one / two);
    println!("sweep_cpu_s_1_job: {cpu_one:.3}");
    println!("sweep_cpu_s_2_jobs: {cpu_two:.3}");
    println!("sweep_cpu_2_jobs_vs_1: {:.2}", cpu_two / cpu_one);
}
