//! Cold keys (issue 18): the collector packs a quiet key's history and
//! sessions and unpacks them when a record touches the key again. That is a
//! change of representation only, so every summary must be the same whether
//! keys are frozen right after every record that touches them or never; and
//! the eager setting must really freeze and thaw keys, or the comparison
//! proves nothing.

mod common;

use common::{base, first_difference, run_configured, shipped};
use serde_json::{json, Value as Json};

/// The summary of `scenario` on `seed` with at most `hot` histories
/// unpacked, and the collector's (keys frozen at the end, thaws).
fn run_with(scenario: &Json, seed: u64, hot: usize) -> (Json, (usize, u64)) {
    let (summary, collector) = run_configured(scenario, seed, |c| c.keep_hot(hot));
    (summary, collector.cold_keys())
}

/// Never frozen against frozen after every record; returns the timed
/// passes and retired writes of the run that never froze.
fn assert_same(name: &str, scenario: &Json, seed: u64) -> (u64, u64) {
    let (never, collector) = run_configured(scenario, seed, |c| c.keep_hot(usize::MAX));
    let (cold, thaws) = collector.cold_keys();
    assert_eq!(
        (cold, thaws),
        (0, 0),
        "{name}: nothing is frozen when freezing is off"
    );
    let (eager, (cold, thaws)) = run_with(scenario, seed, 0);
    assert!(
        cold > 0 && thaws > 0,
        "{name}: the eager setting froze {cold} keys and thawed {thaws}: the comparison is vacuous"
    );
    assert!(
        never == eager,
        "{name} seed {seed}: the summary differs when keys are frozen, first at {}",
        first_difference(&never, &eager)
    );
    (collector.timed_passes(), collector.retired_writes())
}

#[test]
fn freezing_quiet_keys_changes_no_metric_of_the_shipped_checker_scenarios() {
    // Deletes and resurrections, last-write-wins under skew, partitions and
    // siblings, crashes with hints, lost buffered writes, server clocks
    // losing updates, truncated clocks, loaded keys read and corrupted.
    for name in [
        "tombstone-resurrection",
        "lww-clock-skew",
        "partition-heal",
        "node-crash-recovery",
        "buffered-writes-w1",
        "lost-update-server-clocks",
        "vclock-truncation",
        "corruption-silent",
    ] {
        assert_same(name, &shipped(name), 1);
    }
}

#[test]
fn freezing_quiet_keys_changes_no_metric_of_the_control_cluster() {
    // Read-modify-writes, blind writes and deletes on 30 zipfian keys, with
    // a crash: retirement passes, folds and sessions all cross a freeze.
    let mut s = base();
    s["workload"]["mix"] =
        json!({ "read": 0.4, "read_modify_write": 0.3, "blind_write": 0.2, "delete": 0.1 });
    s["faults"] = json!([{ "at_s": 2, "for_s": 2, "crash": { "node": "n2" } }]);
    for seed in 1..=4 {
        assert_same("control", &s, seed);
    }
}

/// The adaptive cap (the default) against nothing ever frozen, on loads that
/// make it move: uniform access over a million loaded keys, reads and blind
/// writes in one, reads and read-modify-writes in the other (a put based on
/// a read must not count as reuse, or that load never shrinks the cap), a
/// crash in both. The cap must really have come down, and keys must have
/// been packed and thawed, or the comparison proves nothing.
#[test]
fn the_adaptive_cap_changes_no_metric() {
    for mix in [
        json!({ "read": 0.5, "blind_write": 0.5 }),
        json!({ "read": 0.5, "read_modify_write": 0.5 }),
    ] {
        let s = json!({
            "name": "adaptive-cap",
            "duration_s": 8,
            "quiescence": { "duration_s": 3, "heal_faults": true },
            "cluster": { "nodes": 16, "quorum": { "n": 3, "r": 2, "w": 2 },
                         "replica_timeout_ms": 30 },
            "network": { "latency": { "exponential": { "mean_ms": 1.0 } } },
            "workload": {
                "clients": 32,
                "arrival": { "open_loop": { "rate_per_s": 900 } },
                "keys": { "count": 1000000, "preload": true, "popularity": "uniform" },
                "mix": mix,
                "client_timeout_ms": 500,
                "max_ops": 200000
            },
            "faults": [{ "at_s": 2, "for_s": 2, "crash": { "node": "n2" } }]
        });
        let (adaptive, c) = run_configured(&s, 1, |_| {});
        let ((cold, thaws), cap) = (c.cold_keys(), c.hot_cap());
        assert!(
            cap < 65_536 && cold > 0 && thaws > 0,
            "{mix}: cap {cap}, {cold} keys packed, {thaws} thaws: the comparison is vacuous"
        );
        let (never, _) = run_with(&s, 1, usize::MAX);
        assert!(
            adaptive == never,
            "{mix}: the summary differs with the adaptive cap"
        );
    }
}

#[test]
fn freezing_quiet_keys_changes_no_metric_under_a_retention_window() {
    // Timed passes run on frozen keys in their packed form's place: the
    // verdicts must not depend on it either.
    for name in ["partition-heal", "tombstone-resurrection", "chaos"] {
        let mut s = shipped(name);
        s["metrics"]["retention_window_s"] = json!(5.0);
        let (passes, retired) = assert_same(name, &s, 1);
        let (_, exact) = run_configured(&shipped(name), 1, |_| {});
        assert!(
            passes > 0 && retired > exact.retired_writes(),
            "{name}: the window retired nothing more: vacuous"
        );
    }
}
