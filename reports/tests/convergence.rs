//! Convergence over time (issue 17): the engine's divergence observer
//! against ground truth it does not read (the writes committed while a
//! replica was down) and against the closed form for distinct keys among
//! uniform draws; the time to converge from the last heal with and without
//! a repair mechanism.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{n, run, shipped};
use serde_json::Value as Json;
use sim_core::engine::ids::{Key, NodeId};
use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{parse, ScenarioFile};
use sim_core::sim::Simulation;

/// Keeps the commits (time, key) and the divergence observations.
#[derive(Default)]
struct Tap {
    commits: Vec<(SimTime, Key)>,
    divergence: Vec<(SimTime, u64)>,
}

impl Sink for Tap {
    fn record(&mut self, at: SimTime, record: &Record) {
        match record {
            Record::WriteCommitted { key, .. } => self.commits.push((at, *key)),
            Record::Divergence { divergent_keys, .. } => {
                self.divergence.push((at, *divergent_keys));
            }
            _ => {}
        }
    }
}

impl Tap {
    fn at(&self, t: SimTime) -> u64 {
        self.divergence
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(0, |(_, n)| *n)
    }
}

fn secs(s: u64) -> SimTime {
    SimTime(s * 1_000_000)
}

/// node-crash-recovery with hinted handoff and read repair off: nothing
/// repairs n2 while it is down or after.
fn unrepaired() -> Json {
    let mut s = shipped("node-crash-recovery");
    s["cluster"]["hinted_handoff"] = false.into();
    s["cluster"]["read_repair"] = false.into();
    s
}

/// While n2 is down, a key diverges exactly when a write to it commits and
/// n2 is one of its top-N replicas: the observer's count at the end of the
/// crash equals the distinct such keys the run committed (writes in
/// flight at the instant aside), and the count follows the closed form
/// for distinct values among m uniform draws from K: K (1 - (1 - 1/K)^m).
#[test]
fn divergence_during_a_crash_counts_the_keys_the_down_replica_missed() {
    for seed in [1, 2, 3] {
        let mut file: ScenarioFile = serde_json::from_value(unrepaired()).expect("shape");
        file.rng_seed = seed;
        let text = serde_json::to_string(&file).expect("serializes");
        let scenario = Arc::new(parse(&text, &sim_core::scenario::no_files).expect("valid"));
        let sim = Simulation::new(scenario.clone());
        let ring = sim.ring().clone();
        let mut tap = Tap::default();
        sim.run(&mut tap, None);
        let down = NodeId(2);
        let on_n2 = |k: Key| ring.preference_list(k).iter().take(3).any(|n| *n == down);
        let (from, to) = (secs(20), secs(40));
        let missed: BTreeSet<Key> = tap
            .commits
            .iter()
            .filter(|(t, k)| *t >= from && *t < to && on_n2(*k))
            .map(|(_, k)| *k)
            .collect();
        let seen = tap.at(to);
        let before = tap.at(from);
        assert!(
            before <= 2,
            "seed {seed}: {before} divergent before the crash"
        );
        assert!(
            seen.abs_diff(missed.len() as u64) <= 3,
            "seed {seed}: observed {seen}, committed-and-missed {}",
            missed.len()
        );
        // The closed form over the keys n2 replicates.
        let k = (0..2000u64).filter(|k| on_n2(Key(*k))).count() as f64;
        let m = tap
            .commits
            .iter()
            .filter(|(t, key)| *t >= from && *t < to && on_n2(*key))
            .count() as f64;
        let expected = k * (1.0 - (1.0 - 1.0 / k).powf(m));
        let rel = (seen as f64 - expected).abs() / expected;
        assert!(
            rel < 0.05,
            "seed {seed}: observed {seen}, closed form {expected:.1} (K {k}, m {m})"
        );
        // Nothing repairs n2 after its restart: only a later write to a
        // missed key (read-modify-write: it supersedes the missed value on
        // every replica) brings it back, so the count only falls while
        // the workload runs and stays put in the quiescence.
        let (workload_end, end) = (tap.at(secs(60)), tap.at(secs(75)));
        eprintln!("seed {seed}: {seen} at the restart, {workload_end} at the workload's end");
        assert!(workload_end > 0 && workload_end < seen, "seed {seed}");
        assert_eq!(end, workload_end, "seed {seed}: changed with no writes");
    }
}

/// With hinted handoff (the shipped file, anti-entropy off) the crash's
/// divergence clears within seconds of the restart; without any repair it
/// never clears, and the summary says so (null, and divergent at the end).
#[test]
fn time_to_converge_from_the_last_heal_with_and_without_repair() {
    let with = run(&shipped("node-crash-recovery"), 1);
    assert_eq!(n(&with, "convergence.last_heal_s"), 40.0);
    let cleared = n(&with, "convergence.time_to_converge_from_last_heal_s");
    assert!(
        cleared > 0.0 && cleared <= 5.0,
        "hints delivered in {cleared} s"
    );
    assert!(n(&with, "convergence.peak_divergent_keys") > 100.0);
    assert_eq!(n(&with, "convergence.divergent_keys"), 0.0);
    // The timeline: divergence grows through the crash window, none before.
    let windows = with["timeline"]["windows"].as_array().expect("windows");
    let at_end = |i: usize| windows[i]["divergent_keys"].as_u64().expect("count");
    assert!(at_end(10) <= 2);
    assert!(at_end(25) < at_end(30) && at_end(30) < at_end(38));
    assert!(at_end(70) == 0, "the quiescence has windows too");

    let without = run(&unrepaired(), 1);
    let c = &without["convergence"];
    assert!(c["time_to_converge_from_last_heal_s"].is_null(), "{c}");
    assert!(c["converged_at_s"].is_null());
    assert!(c["time_to_converge_s"].is_null());
    assert!(n(&without, "convergence.divergent_keys") > 100.0);
    assert_eq!(
        c["divergent_keys"], c["divergent_keys_observed_at_end"],
        "the engine and the collector agree"
    );
}

/// A healthy run diverges only while writes are in flight: every key
/// divergent at any instant agrees again within a check or two, so the
/// time to converge from the workload's end is 0 and the peak stays small.
#[test]
fn a_healthy_run_never_holds_divergence() {
    let s = run(&shipped("healthy-baseline"), 3);
    assert_eq!(n(&s, "convergence.time_to_converge_s"), 0.0);
    assert!(n(&s, "convergence.peak_divergent_keys") <= 5.0);
    assert!(s["convergence"]["last_heal_s"].is_null());
    assert!(s["convergence"]["time_to_converge_from_last_heal_s"].is_null());
}
