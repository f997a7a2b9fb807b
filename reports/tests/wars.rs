//! The WARS predictor's controls (issue 16): PBS's closed form (equation 1)
//! where it applies, and PBS's published P(consistent | t = 0) for the
//! LinkedIn fits, LNKD-SSD (.974) and LNKD-DISK (.437), N=3, R=W=1.

use reports::wars::{pbs_eq1, Legs, Wars};
use sim_core::world::dist::Latency;

fn exp(mean_ms: f64) -> Latency {
    Latency::Exponential {
        mean_us: mean_ms * 1000.0,
    }
}

fn zero() -> Latency {
    Latency::Constant { us: 0.0 }
}

/// PBS's LinkedIn fits (Bailis et al. 2012, Table 3): a mixture of a Pareto
/// (`xm` ms, shape `alpha`) with probability `p` and an exponential of rate
/// `lambda` per ms.
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
        (ppb(1.0 - p), exp(1.0 / lambda)),
    ])
}

/// LNKD-SSD: every leg 91.22 % Pareto(0.235 ms, 10), 8.78 % Exp(1.66/ms).
fn lnkd_ssd() -> Latency {
    pareto_exp(0.9122, 0.235, 10.0, 1.66)
}

/// LNKD-DISK: the write leg 38 % Pareto(1.05 ms, 1.51), 62 % Exp(0.183/ms);
/// the other legs as LNKD-SSD.
fn lnkd_disk_write() -> Latency {
    pareto_exp(0.38, 1.05, 1.51, 0.183)
}

/// The standard error of a proportion estimated from `n` trials.
fn se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

/// When the write reaches exactly the W replicas that acknowledged it
/// first before the read's requests arrive (acknowledgements and read
/// requests take no time, t = 0) and the read takes R replicas independent
/// of the write, P(consistent) is PBS's equation 1.
#[test]
fn without_propagation_beyond_the_write_quorum_the_model_is_equation_one() {
    const TRIALS: u64 = 4_000_000;
    for (n, r, w) in [(3, 1, 1), (5, 1, 2), (5, 2, 2), (7, 2, 3), (3, 2, 2)] {
        let m = Wars::new(
            n,
            r,
            w,
            Legs {
                write: exp(1.0),
                ack: zero(),
                read: zero(),
                response: exp(1.0),
            },
        )
        .expect("valid");
        let p = m.run(TRIALS, 7, &[0.0]).curve()[0].1;
        let expected = pbs_eq1(n as usize, r as usize, w as usize);
        let tolerance = 5.0 * se(expected, TRIALS);
        eprintln!("N={n} R={r} W={w}: model {p:.5}, equation 1 {expected:.5}");
        assert!(
            (p - expected).abs() <= tolerance,
            "N={n} R={r} W={w}: {p} vs {expected} (tolerance {tolerance})"
        );
        if r + w > n {
            assert_eq!(p, 1.0, "intersecting quorums are always consistent");
        }
    }
}

fn lnkd(write: Latency) -> Wars {
    Wars::new(
        3,
        1,
        1,
        Legs {
            write,
            ack: lnkd_ssd(),
            read: lnkd_ssd(),
            response: lnkd_ssd(),
        },
    )
    .expect("valid")
}

#[test]
fn pbs_published_t_zero_consistency_for_the_linkedin_fits() {
    const TRIALS: u64 = 2_000_000;
    for (name, write, published) in [
        ("LNKD-SSD", lnkd_ssd(), 0.974),
        ("LNKD-DISK", lnkd_disk_write(), 0.437),
    ] {
        let p = lnkd(write).run(TRIALS, 1, &[0.0]).curve()[0].1;
        eprintln!("{name}: P(consistent | t=0) = {p:.4} (PBS: {published})");
        assert!(
            (p - published).abs() <= 0.005,
            "{name}: {p} vs PBS's {published}"
        );
    }
}

#[test]
fn the_curve_rises_to_one_and_is_deterministic() {
    let grid: Vec<f64> = [0.0, 1.0, 5.0, 10.0, 50.0, 100.0, 1000.0]
        .iter()
        .map(|ms| ms * 1000.0)
        .collect();
    let m = lnkd(lnkd_disk_write());
    let a = m.run(300_000, 3, &grid);
    let curve = a.curve();
    assert!(curve.windows(2).all(|w| w[0].1 <= w[1].1), "{curve:?}");
    assert!(curve[6].1 > 0.999, "{curve:?}");
    assert_eq!(curve, m.run(300_000, 3, &grid).curve());
    assert_ne!(curve, m.run(300_000, 4, &grid).curve());
    // Chunks merge in any order to the same prediction.
    let mut merged = m.run_chunk(1, 1000, 9, &grid);
    merged.absorb(m.run_chunk(0, 1000, 9, &grid));
    let mut other = m.run_chunk(0, 1000, 9, &grid);
    other.absorb(m.run_chunk(1, 1000, 9, &grid));
    assert_eq!(merged.curve(), other.curve());
    assert_eq!(merged.trials, 2000);
}

/// A stop predicate that answers true gives the trials up (`None`), one
/// that never does gives the prediction `run` gives; a stop after some
/// checks gives up part way (the checks come every `STOP_CHECK_EVERY`
/// trials of each chunk, not once a chunk).
#[test]
fn the_trials_give_up_when_asked_to_stop() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let grid = [0.0, 1000.0, 10_000.0];
    let m = lnkd(lnkd_disk_write());
    let trials = 3 * reports::wars::CHUNK / 2;
    assert!(m.run_parallel_until(trials, 5, &grid, &|| true).is_none());
    let whole = m
        .run_parallel_until(trials, 5, &grid, &|| false)
        .expect("never stopped");
    assert_eq!(whole.curve(), m.run(trials, 5, &grid).curve());
    assert_eq!(whole.trials, trials);
    let asked = AtomicU64::new(0);
    let stop_late = || asked.fetch_add(1, Ordering::Relaxed) >= 10;
    assert!(m.run_parallel_until(trials, 5, &grid, &stop_late).is_none());
    // Ten answers of "go on", then one "stop" per chunk still running.
    let checks = asked.load(Ordering::Relaxed);
    assert!((11..=12).contains(&checks), "{checks} checks");
    const { assert!(10 * reports::wars::STOP_CHECK_EVERY < reports::wars::CHUNK) };
}

/// Under a wall-clock limit the WARS trials that follow the simulation
/// count: when the limit stops them, the summary says so and the run is
/// incomplete (its `run.complete` expectation fails), the simulation's
/// figures whole.
#[test]
fn a_wars_block_given_up_makes_the_run_incomplete() {
    use std::sync::Arc;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/pbs-lnkd-disk.json"
    ))
    .expect("the shipped scenario");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    doc["duration_s"] = serde_json::json!(2);
    doc["metrics"]["wars_trials"] = serde_json::json!(10_000);
    let scenario = Arc::new(
        sim_core::scenario::parse(&doc.to_string(), &sim_core::scenario::no_files).expect("valid"),
    );
    let sim = sim_core::sim::Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = reports::metrics::Collector::new(&scenario);
    let outcome = sim.run(&mut collector, None);
    let whole = reports::report::summary(&scenario, &outcome, &collector, &ring);
    assert!(reports::report::is_complete(&whole));
    assert!(
        whole["wars"]["trials"].as_u64() == Some(10_000),
        "{}",
        whole["wars"]
    );
    assert!(whole["run"].get("stopped_in").is_none());
    let stopped = reports::report::summary_until(&scenario, &outcome, &collector, &ring, &|| true);
    assert_eq!(stopped["wars"]["stopped"], "wall_clock");
    assert_eq!(stopped["wars"]["trials_asked"], 10_000);
    assert_eq!(stopped["run"]["stopped_in"], "wars");
    assert_eq!(stopped["run"]["stop_reason"], "wall_clock");
    assert!(!reports::report::is_complete(&stopped));
    let failed: Vec<_> = reports::report::verdicts(&stopped)
        .into_iter()
        .filter(|v| !v.pass)
        .map(|v| v.metric)
        .collect();
    assert!(failed.contains(&"run.complete".to_string()), "{failed:?}");
    let note = reports::report::incomplete_note(&stopped).expect("a note");
    assert!(
        note.contains("WARS") && note.contains("wall-clock"),
        "{note}"
    );
    // The simulation's figures are those of the whole summary.
    assert_eq!(stopped["staleness"], whole["staleness"]);
    assert_eq!(stopped["latency"], whole["latency"]);
}
