//! `dynasim wars`: PBS's WARS model of a scenario, alone (no simulation).
//!
//! The model is `reports::wars`; this module loads the scenario, spreads
//! the model's chunks over threads (the result does not depend on how) and
//! prints the t-visibility curve and the latency percentiles the model
//! predicts, or the same as JSON. The trials run under the wall-clock
//! limit every command takes (`--max-wall-s`, one hour by default, the
//! same [`RunGuard`] predicate that stops a run's own trials): a model
//! given up prints what it had been asked and exits 3, like a run that
//! stopped before its end.

// The trial rate printed is wall time of the model, measured here only.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use reports::wars::{caveats, prediction_json, Wars};
use sim_core::config::Arrival;

use crate::guard::{wall_limit, RunGuard, DEFAULT_WALL_S};
use crate::load::{load, Outcome};

/// `dynasim wars`.
#[derive(Debug, Clone, clap::Args)]
pub struct WarsArgs {
    /// The scenario file (its quorum and default link's per-kind latencies).
    pub file: PathBuf,
    /// Monte Carlo trials (one write and one read each).
    #[arg(long, default_value_t = 10_000_000)]
    pub trials: u64,
    /// Seed of the model's random streams (default: the scenario's rng_seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the prediction as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Wall-clock limit, seconds (0: none): trials still going then are
    /// given up, and the command exits 3.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WALL_S)]
    pub max_wall_s: u64,
}

/// The t grid the command prints, µs: a probe workload's own grid, or 0
/// and 1-2-5 steps from 1 µs to 10 s.
fn grid_us(scenario: &sim_core::config::Scenario) -> Vec<f64> {
    match &scenario.workload.arrival {
        Arrival::Probe(p) => p.t_grid.iter().map(|t| t.as_micros() as f64).collect(),
        _ => sim_core::scenario::default_t_grid_us()
            .into_iter()
            .map(|t| t as f64)
            .collect(),
    }
}

/// Runs the model of `args.file` and prints it.
pub fn wars(args: &WarsArgs) -> Result<Outcome> {
    let scenario = load(&args.file)?;
    let model = Wars::from_scenario(&scenario)
        .with_context(|| format!("modelling {}", args.file.display()))?;
    anyhow::ensure!(
        (1..=sim_core::scenario::MAX_WARS_TRIALS).contains(&args.trials),
        "--trials: expected 1..={}, got {}",
        sim_core::scenario::MAX_WARS_TRIALS,
        args.trials
    );
    let seed = args.seed.unwrap_or(scenario.rng_seed);
    let grid = grid_us(&scenario);
    let start = Instant::now();
    let stop = RunGuard::new(wall_limit(args.max_wall_s), None).wall_stop();
    let p = model.run_parallel_until(args.trials, seed, &grid, &stop);
    let wall = start.elapsed().as_secs_f64();
    let notes = caveats(&scenario);
    if args.json {
        let mut doc = match &p {
            Some(p) => prediction_json(&model, p),
            None => reports::wars::stopped_block(args.trials),
        };
        let map = doc.as_object_mut().expect("an object");
        map.insert("scenario".into(), scenario.name.clone().into());
        map.insert("rng_seed".into(), seed.into());
        if p.is_some() {
            map.insert("caveats".into(), notes.clone().into());
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    let Some(p) = p else {
        eprintln!(
            "INCOMPLETE: the WARS model of {} gave up its {} trials after {wall:.1} s: the wall-clock limit (--max-wall-s {}) was reached",
            scenario.name, args.trials, args.max_wall_s
        );
        return Ok(Outcome::Incomplete);
    };
    if args.json {
        return Ok(Outcome::Ok);
    }
    let doc = prediction_json(&model, &p);
    let (n, r, w) = model.quorum();
    println!(
        "WARS model of {}: N={n} R={r} W={w}, {} trials (seed {seed}), {:.2} s, {:.1} M trials/s on {} threads",
        scenario.name,
        p.trials,
        wall,
        p.trials as f64 / wall / 1e6,
        rayon::current_num_threads()
    );
    let legs = model.legs();
    for (name, l) in [
        ("write (W)", &legs.write),
        ("ack (A)", &legs.ack),
        ("read (R)", &legs.read),
        ("response (S)", &legs.response),
    ] {
        let mean = l.mean_us().map_or("no closed-form mean".to_string(), |m| {
            format!("mean {:.3} ms", m / 1000.0)
        });
        println!("  {name:<13} {mean}");
    }
    for c in &notes {
        println!("  not modelled: {c}");
    }
    println!("\n{:>12}  {:>13}  95 % interval", "t (ms)", "P(consistent)");
    for point in doc["t_visibility"].as_array().into_iter().flatten() {
        println!(
            "{:>12}  {:>13.4}  [{:.4}, {:.4}]",
            point["t_ms"].as_f64().unwrap_or(0.0),
            point["p_consistent"].as_f64().unwrap_or(0.0),
            point["ci95"][0].as_f64().unwrap_or(0.0),
            point["ci95"][1].as_f64().unwrap_or(0.0),
        );
    }
    println!();
    for (kind, what) in [("put", "put (commit)"), ("get", "get (R-th response)")] {
        let l = &doc["latency"][kind];
        println!(
            "{what:<20} p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms",
            l["p50_ms"].as_f64().unwrap_or(0.0),
            l["p90_ms"].as_f64().unwrap_or(0.0),
            l["p99_ms"].as_f64().unwrap_or(0.0),
            l["p999_ms"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(Outcome::Ok)
}
