//! WARS predictor benchmark (issue 16): Monte Carlo trials per second on one
//! core for PBS's LNKD-DISK model (N=3, R=W=1), evaluated on the default
//! fine t grid (142 points), as `dynasim wars` and the report run it.
//!
//! Run with `cargo bench -p reports --bench wars` (release profile, about
//! half a minute). Standard output carries only `name: value` lines.
//!
//! Figures:
//! - `wars_trials_per_sec`: trials per second of wall time, one thread;
//! - `wars_trials_per_cpu_sec`: per second of the thread's CPU time (from
//!   `/proc/thread-self/schedstat`, Linux only; `n/a` elsewhere), so a
//!   busy machine shows as a gap between the two;
//! - `wars_wall_s`, `wars_cpu_s`: the measured run;
//! - `wars_naive_trials_per_sec`: the same trials done the obvious way (the
//!   simulator's own sampler per leg, a freshly sorted vector per trial, as
//!   PBS's reference implementation does), measured in the same process;
//! - `wars_vs_naive`: the ratio;
//! - `wars_p_consistent_t0`, `wars_naive_p_consistent_t0`: the prediction
//!   at t = 0 both ways, as a check that they agree (PBS: .437).
//!
//! # Goal
//! `wars_trials_per_sec` ≥ 5,000,000 on one core (PBS's Java Monte Carlo
//! does about 1.6 M/s on the project's machine).

// A benchmark has to measure wall time; it does so only here.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use reports::wars::{Legs, Wars};
use sim_core::engine::rng::{SimRng, Stream};
use sim_core::world::dist::Latency;

const TRIALS: u64 = 30_000_000;
const NAIVE_TRIALS: u64 = 3_000_000;

fn pareto_exp(p: f64, xm: f64, alpha: f64, lambda: f64) -> Latency {
    let ppb = |x: f64| (x * 1e9).round() as u64;
    Latency::mixture(vec![
        (
            ppb(p),
            Latency::Pareto {
                scale_us: xm * 1000.0,
                shape: alpha,
            },
        ),
        (
            ppb(1.0 - p),
            Latency::Exponential {
                mean_us: 1000.0 / lambda,
            },
        ),
    ])
}

/// CPU time of this thread so far, seconds.
fn cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let ssd = pareto_exp(0.9122, 0.235, 10.0, 1.66);
    let legs = Legs {
        write: pareto_exp(0.38, 1.05, 1.51, 0.183),
        ack: ssd.clone(),
        read: ssd.clone(),
        response: ssd,
    };
    let model = Wars::new(3, 1, 1, legs.clone()).expect("valid");
    let grid: Vec<f64> = reports::tvis::default_edges_us()
        .into_iter()
        .map(|t| t as f64)
        .collect();

    // Warm up, then measure.
    model.run(1_000_000, 99, &grid);
    let cpu0 = cpu_s();
    let start = Instant::now();
    let p = model.run(TRIALS, 1, &grid);
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_s()).map(|(a, b)| b - a);
    let p0 = p.curve()[0].1;

    // The obvious way: sample each leg with the simulator's sampler and sort.
    let mut rng = SimRng::new(1, Stream::Custom(7));
    let start = Instant::now();
    let mut consistent = 0u64;
    for _ in 0..NAIVE_TRIALS {
        // Per replica: (W, W + A, R, R + S).
        let reps: Vec<(f64, f64, f64, f64)> = (0..3)
            .map(|_| {
                let w = legs.write.sample_f64_us(&mut rng);
                let a = legs.ack.sample_f64_us(&mut rng);
                let r = legs.read.sample_f64_us(&mut rng);
                let s = legs.response.sample_f64_us(&mut rng);
                (w, w + a, r, r + s)
            })
            .collect();
        let mut acks: Vec<f64> = reps.iter().map(|x| x.1).collect();
        acks.sort_by(f64::total_cmp);
        let commit = acks[0];
        let mut by_answer = reps.clone();
        by_answer.sort_by(|a, b| a.3.total_cmp(&b.3));
        consistent += u64::from(commit + by_answer[0].2 >= by_answer[0].0);
    }
    let naive = NAIVE_TRIALS as f64 / start.elapsed().as_secs_f64();

    let rate = TRIALS as f64 / wall;
    println!("wars_trials_per_sec: {rate:.0}");
    match cpu {
        Some(c) => {
            println!("wars_trials_per_cpu_sec: {:.0}", TRIALS as f64 / c);
            println!("wars_cpu_s: {c:.3}");
        }
        None => {
            println!("wars_trials_per_cpu_sec: n/a");
            println!("wars_cpu_s: n/a");
        }
    }
    println!("wars_wall_s: {wall:.3}");
    println!("wars_naive_trials_per_sec: {naive:.0}");
    println!("wars_vs_naive: {:.2}", rate / naive);
    println!("wars_p_consistent_t0: {p0:.4}");
    println!(
        "wars_naive_p_consistent_t0: {:.4}",
        consistent as f64 / NAIVE_TRIALS as f64
    );
}
