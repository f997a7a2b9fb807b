//! The retention window (issue 18, `metrics.retention_window_s`): the
//! collector retires a write once it settled a window ago and storage
//! evidence covers it, whatever later writes its key gets. Checked both
//! ways on the shipped checker scenarios:
//! - negative control: with a 30 s window nothing the scenarios check
//!   reaches past the window, so every summary equals the exact rule's
//!   (the window's retirements must really happen, or the comparison
//!   proves nothing);
//! - positive control: with a window as short as the horizon (5 s), the
//!   approximations the metrics module documents show, each in its stated
//!   direction: the same reads are checked and found stale, k is a lower
//!   bound, session checks miss only what reaches past the window.
//!
//! - settling sessions on quiet keys is exact: the same summaries with
//!   sessions settled and kept whole, at the shortest windows.
//!
//! Freezing keys changes nothing under a window either (`cold_keys.rs`).

mod common;

use common::{first_difference, n, run_configured, shipped};
use serde_json::{json, Value as Json};

/// The shipped checker scenarios: partitions with siblings and sessions,
/// sloppy quorums read stale, deletes resurfacing, last-write-wins under
/// skew, lost buffered writes, random faults with deletes.
const CHECKERS: [&str; 6] = [
    "partition-heal",
    "sloppy-quorum-stale-reads",
    "tombstone-resurrection",
    "lww-clock-skew",
    "buffered-writes-w1",
    "chaos",
];

fn with_window(scenario: &Json, window_s: f64) -> Json {
    let mut s = scenario.clone();
    s["metrics"]["retention_window_s"] = json!(window_s);
    s
}

/// The summary without the scenario's own echo (which names the window)
/// and the window's own account (`retention`, present only with one).
fn verdicts(mut summary: Json) -> Json {
    if let Some(o) = summary.as_object_mut() {
        o.remove("scenario_file");
        o.remove("retention");
    }
    summary
}

/// Summary, timed passes and retired writes of `scenario` on `seed`, with
/// at most `hot` histories unpacked.
fn run(scenario: &Json, seed: u64, hot: usize) -> (Json, u64, u64) {
    let (summary, c) = run_configured(scenario, seed, |c| c.keep_hot(hot));
    (verdicts(summary), c.timed_passes(), c.retired_writes())
}

#[test]
fn a_window_longer_than_what_the_checks_reach_changes_no_verdict() {
    let mut exercised = Vec::new();
    for name in CHECKERS {
        let s = shipped(name);
        let (exact, passes, retired_exact) = run(&s, 1, usize::MAX);
        assert_eq!(passes, 0, "{name}: no window, no timed pass");
        let (windowed, passes, retired) = run(&with_window(&s, 30.0), 1, usize::MAX);
        eprintln!(
            "{name}: 30 s window, {passes} timed passes, {retired} writes retired ({retired_exact} without)"
        );
        if retired > retired_exact {
            exercised.push(name);
        }
        assert!(
            exact == windowed,
            "{name}: a 30 s window changed the summary, first at {}",
            first_difference(&exact, &windowed)
        );
    }
    // Runs shorter than the window retire nothing by time; the longer ones
    // must, or the comparison proves nothing.
    assert!(
        exercised.len() >= 3,
        "only {exercised:?} retired anything under the window: vacuous"
    );
}

#[test]
fn a_window_as_short_as_the_horizon_approximates_in_the_documented_direction() {
    let s = shipped("partition-heal");
    let (exact, _, _) = run(&s, 1, usize::MAX);
    let (short, _, retired) = run(&with_window(&s, 5.0), 1, usize::MAX);
    let (_, _, retired_exact) = run(&s, 1, usize::MAX);
    assert!(
        retired > retired_exact,
        "the window retired {retired}, vs {retired_exact}"
    );
    let k_mean = |sum: &Json| {
        let k = &sum["staleness"]["k_staleness"];
        let (mut reads, mut total) = (0.0, 0.0);
        for i in 1..=10 {
            let key = if i == 10 {
                "10+".to_string()
            } else {
                i.to_string()
            };
            let c = k[&key].as_f64().unwrap_or(0.0);
            reads += c;
            total += c * i as f64;
        }
        (reads, total / reads.max(1.0))
    };
    let figures = |sum: &Json| {
        (
            n(sum, "staleness.reads_checked"),
            n(sum, "staleness.stale_read_fraction"),
            n(sum, "anomalies.read_your_writes_violations"),
            n(sum, "anomalies.monotonic_read_violations"),
            k_mean(sum),
            n(sum, "durability.lost"),
        )
    };
    let (e, w) = (figures(&exact), figures(&short));
    eprintln!("partition-heal seed 1, exact: reads checked, stale fraction, read-your-writes, monotonic, (stale reads, mean k), lost = {e:?}");
    eprintln!("partition-heal seed 1, 5 s window ({retired} writes retired): {w:?}");
    // The same reads are checked and the same ones are stale.
    assert_eq!((e.0, e.1), (w.0, w.1));
    assert_eq!(e.4 .0, w.4 .0, "stale reads");
    // k counts retained writes only: a lower bound, and here a real one.
    assert!(w.4 .1 < e.4 .1, "mean k {} vs exact {}", w.4 .1, e.4 .1);
    // Session checks cannot see past the window: never more violations,
    // and here fewer.
    assert!(w.2 < e.2 && w.3 <= e.3, "sessions {w:?} vs {e:?}");
    assert_eq!(e.5, w.5, "nothing lost either way");
    // A retired value a read returns after an acknowledged delete counts
    // as resurfaced: never fewer resurrections (chaos's horizon is 3 s).
    let s = shipped("chaos");
    let (exact, _, _) = run(&s, 1, usize::MAX);
    let (short, _, _) = run(&with_window(&s, 3.0), 1, usize::MAX);
    let (e, w) = (
        n(&exact, "anomalies.resurrected_deletes"),
        n(&short, "anomalies.resurrected_deletes"),
    );
    eprintln!("chaos seed 1, resurrected deletes: exact {e}, 3 s window {w}");
    assert!(w >= e, "resurrections {w} vs exact {e}");
    assert_eq!(
        n(&exact, "staleness.stale_reads"),
        n(&short, "staleness.stale_reads")
    );
}

#[test]
fn a_window_shorter_than_the_horizon_is_rejected_with_its_path() {
    for (window, says) in [
        (json!(4.9), ["horizon", "5 s"]),
        (json!(0), ["positive", "duration"]),
    ] {
        let mut s = shipped("partition-heal");
        s["metrics"]["retention_window_s"] = window.clone();
        let text = serde_json::to_string(&s).unwrap();
        let err = sim_core::scenario::parse(&text, &sim_core::scenario::no_files)
            .expect_err("rejected")
            .to_string();
        assert!(
            err.contains("metrics.retention_window_s") && says.iter().all(|w| err.contains(w)),
            "{window}: {err}"
        );
    }
}

/// The shortest window `scenario` accepts: its horizon
/// (`Workload::horizon`), in whole milliseconds.
fn shortest_window(scenario: &Json) -> f64 {
    let text = serde_json::to_string(scenario).expect("serializes");
    let s = sim_core::scenario::parse(&text, &sim_core::scenario::no_files).expect("valid");
    let horizon = s.workload.horizon(s.cluster.request_timeout).as_micros();
    horizon.div_ceil(1000) as f64 / 1000.0
}

/// Settling sessions on quiet keys (see "Retention window" in the metrics
/// module) is exact: at the shortest window each checker scenario accepts,
/// on two seeds, the summary is the same with sessions settled and kept
/// whole, and settling happens (else the comparison proves nothing).
#[test]
fn settling_sessions_changes_no_verdict() {
    let mut settled_total = 0;
    for name in CHECKERS {
        let s = shipped(name);
        for seed in [1, 2] {
            let window = with_window(&s, shortest_window(&s));
            let (whole, _) = run_configured(&window, seed, |c| c.keep_sessions_whole());
            let (settled, c) = run_configured(&window, seed, |_| {});
            eprintln!(
                "{name} seed {seed}, {} s window: {} sessions settled",
                window["metrics"]["retention_window_s"],
                c.sessions_settled()
            );
            settled_total += c.sessions_settled();
            assert!(
                settled == whole,
                "{name} seed {seed}: settling changed the summary, first at {}",
                first_difference(&whole, &settled)
            );
        }
    }
    assert!(
        settled_total > 1_000,
        "only {settled_total} settled: vacuous"
    );
}
