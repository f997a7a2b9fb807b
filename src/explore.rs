//! `dynasim explore`: swarm testing. Run `i` draws, from a ChaCha stream
//! seeded by `i` alone, a random subset of nemesis crashes, partitions and
//! loss bursts on top of the scenario; the first run (in run order,
//! whatever `--jobs`) that fails the scenario's `expect` block is written
//! out and shrunk.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde_json::{json, Value as Json};
use sim_core::engine::rng::{SimRng, Stream};

use crate::load::{check_budget, load_document, read_document, Outcome};
use crate::options::ExploreArgs;
use crate::shrink::{failing, round3, shrink_doc, Failure};
use crate::sweep::{repro_command, thread_pool};

/// The stream id of the swarm-testing draws ("SWARM").
const SWARM_STREAM: u64 = 0x53_57_41_52_4d;

/// Uniform float in `[lo, hi]` with 3 decimals, from integer draws.
fn uniform(rng: &mut SimRng, lo: f64, hi: f64) -> f64 {
    let steps = ((hi - lo) * 1000.0).max(0.0) as u64;
    round3(lo + rng.between(0, steps) as f64 / 1000.0)
}

/// Run `i`'s random nemesis on top of `doc` (a deterministic function of `i`).
fn swarm(doc: &Json, i: u64) -> (Json, Vec<String>) {
    let mut rng = SimRng::new(i, Stream::Custom(SWARM_STREAM));
    let d = doc["duration_s"].as_f64().unwrap_or(10.0).max(1.0);
    let mut kinds: Vec<usize> = (0..3).filter(|_| rng.below(2) == 1).collect();
    if kinds.is_empty() {
        kinds.push(rng.below(3) as usize);
    }
    let mut out = doc.clone();
    out["rng_seed"] = json!(i);
    if !out["nemesis"].is_object() {
        out["nemesis"] = json!({});
    }
    let mut drawn = Vec::new();
    for k in kinds {
        let (name, value) = match k {
            0 => (
                "crashes",
                json!({
                    "mtbf_s": uniform(&mut rng, d * 0.5, d * 4.0),
                    "downtime": {"exponential": {"mean_ms": uniform(&mut rng, 200.0, d * 250.0)}},
                    "disk_loss": if rng.below(4) == 0 { uniform(&mut rng, 0.05, 0.5) } else { 0.0 },
                }),
            ),
            1 => (
                "partitions",
                json!({
                    "mean_interval_s": uniform(&mut rng, d * 0.2, d),
                    "duration": {"exponential": {"mean_ms": uniform(&mut rng, 200.0, d * 200.0)}},
                    "shape": if rng.below(2) == 0 { "random_halves" } else { "isolate_one" },
                }),
            ),
            _ => (
                "loss",
                json!({
                    "mean_interval_s": uniform(&mut rng, d * 0.2, d),
                    "duration": {"exponential": {"mean_ms": uniform(&mut rng, 200.0, d * 200.0)}},
                    "extra_loss": uniform(&mut rng, 0.05, 0.5),
                }),
            ),
        };
        drawn.push(format!("{name} {value}"));
        out["nemesis"][name] = value;
    }
    (out, drawn)
}

/// One explored run: number, scenario, nemesis drawn, failing metrics
/// (`None` when the drawn scenario is invalid).
type Explored = (u64, Json, Vec<String>, Option<Failure>);

/// `dynasim explore`.
pub fn explore(args: &ExploreArgs) -> Result<Outcome> {
    let doc = read_document(&args.file)?;
    let base = load_document(&args.file, &doc, "")?;
    check_budget(&args.file, "", &base, &args.limits.budget(), "")?;
    if base.expect.is_empty() {
        bail!(
            "{}: no expect block, so no run can fail; add bounds to explore",
            args.file.display()
        );
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("explore-{}", base.name)));
    let pool = thread_pool(args.jobs)?;
    let batch = pool.current_num_threads().max(1) as u64;
    let progress = crate::sweep::Progress::new(args.runs as usize, "explore");
    anyhow::ensure!(
        args.first >= 1,
        "--first {}: run numbers start at 1",
        args.first
    );
    let last = args
        .first
        .checked_add(args.runs.saturating_sub(1))
        .context("--first + --runs overflows")?;
    let mut start = args.first;
    let mut found = None;
    while args.runs > 0 && start <= last && found.is_none() {
        let end = start.saturating_add(batch - 1).min(last);
        let results: Vec<Explored> = pool.install(|| {
            (start..=end)
                .into_par_iter()
                .map(|i| {
                    let (d, drawn) = swarm(&doc, i);
                    let f = failing(&args.file, &d, &args.limits);
                    progress.inc();
                    (i, d, drawn, f)
                })
                .collect()
        });
        for (i, d, drawn, f) in results {
            match f {
                None => {
                    load_document(&args.file, &d, &format!(" (explore run {i})"))?;
                }
                Some(f) if f.fails() => {
                    found = Some((i, d, drawn, f));
                    break;
                }
                Some(_) => {}
            }
        }
        start = match end.checked_add(1) {
            Some(s) => s,
            None => break,
        };
    }
    progress.finish();
    let Some((i, d, drawn, target)) = found else {
        println!(
            "explore: no failure in {} run(s) of {}",
            args.runs,
            args.file.display()
        );
        return Ok(Outcome::Ok);
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let failing_path = out.join(format!("explore-seed{i}.json"));
    reports::files::write_atomic(
        &failing_path,
        (reports::json_text::pretty(&d)? + "\n").as_bytes(),
    )?;
    println!(
        "explore: run {i} (seed {i}) fails {}",
        target.failed.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    for n in &drawn {
        println!("  nemesis {n}");
    }
    println!("failing scenario: {}", failing_path.display());
    println!("  {}", repro_command(&failing_path, i, &[]));
    let min_path = out.join(format!("explore-seed{i}.min.json"));
    shrink_doc(&args.file, d, &target, args.budget, &min_path, &args.limits)?;
    Ok(Outcome::ExpectFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_draws_depend_only_on_the_run_number() {
        let doc = json!({"duration_s": 10, "name": "x"});
        assert_eq!(swarm(&doc, 3), swarm(&doc, 3));
        assert_ne!(swarm(&doc, 3).0, swarm(&doc, 4).0);
        assert!(swarm(&doc, 5).0["nemesis"]
            .as_object()
            .is_some_and(|o| !o.is_empty()));
    }
}
