//! Request options (issue 15): each shipped scenario against the same file
//! with the option at its default, so the comparison its description quotes
//! is re-run here.

mod common;

use common::{n, run, shipped};
use serde_json::json;

#[test]
fn pw_2_refuses_puts_that_pw_0_commits_on_fallbacks() {
    let file = shipped("pw-two-primaries-down");
    let mut default = file.clone();
    default["cluster"]["quorum"]["pw"] = json!(0);
    for seed in [1, 2] {
        let pw2 = run(&file, seed);
        let pw0 = run(&default, seed);
        assert!(n(&pw2, "latency.put.failures.unavailable") >= 50.0);
        assert!(n(&pw2, "availability_by_kind.put") <= 0.99);
        assert_eq!(n(&pw0, "latency.put.failures.unavailable"), 0.0);
        assert!(n(&pw0, "availability_by_kind.put") >= 0.999);
        assert_eq!(n(&pw2, "durability.lost") + n(&pw0, "durability.lost"), 0.0);
    }
}

#[test]
fn dw_1_keeps_the_writes_that_a_crashed_buffer_loses_at_dw_0() {
    let file = shipped("buffered-writes-w1-dw1");
    let mut default = file.clone();
    default["cluster"]["quorum"]["dw"] = json!(0);
    for seed in [1, 2] {
        let dw1 = run(&file, seed);
        let dw0 = run(&default, seed);
        assert_eq!(n(&dw1, "durability.lost"), 0.0, "seed {seed}");
        assert!(n(&dw0, "durability.lost") >= 1.0, "seed {seed}");
        assert!(n(&dw1, "latency.put.p50_ms") > 3.0 * n(&dw0, "latency.put.p50_ms"));
    }
}

#[test]
fn notfound_ok_false_reads_no_empty_replica_as_the_answer() {
    let file = shipped("notfound-ok-false-disk-loss");
    let mut default = file.clone();
    default["cluster"]["quorum"]["notfound_ok"] = json!(true);
    let strict = run(&file, 1);
    let loose = run(&default, 1);
    assert_eq!(n(&strict, "staleness.stale_reads"), 0.0);
    assert!(n(&loose, "staleness.stale_reads") >= 100.0);
}
