//! Collecting on a second thread (`reports::pipeline`, issue 18): the sink
//! sees exactly what it sees on the engine's thread, and the summary built
//! from it is the same.

mod common;

use std::sync::Arc;

use common::shipped;
use sim_core::config::Scenario;
use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{no_files, parse, ScenarioFile};
use sim_core::sim::Simulation;

fn scenario(name: &str, seed: u64) -> Arc<Scenario> {
    let mut file: ScenarioFile =
        serde_json::from_value(shipped(name)).expect("a shipped scenario has the right shape");
    file.rng_seed = seed;
    let text = serde_json::to_string(&file).expect("serializes");
    Arc::new(parse(&text, &no_files).expect("a shipped scenario validates"))
}

/// Every record of a run, in order, on the engine's thread or through the
/// pipeline.
fn records(scenario: &Arc<Scenario>, pipelined: bool) -> (Vec<(SimTime, Record)>, String) {
    let sim = Simulation::new(scenario.clone());
    let mut kept: Vec<(SimTime, Record)> = Vec::new();
    let outcome = if pipelined {
        reports::pipeline::pipelined(&mut kept, |sink| sim.run(sink, None))
    } else {
        sim.run(&mut kept, None)
    };
    (kept, outcome.trace_hash.to_string())
}

#[test]
fn the_sink_sees_the_same_records_in_the_same_order() {
    // A run with faults, membership changes and many batches' worth of
    // records, and one with siblings and anti-entropy.
    for (name, seed) in [("chaos", 3), ("join-under-load", 1), ("hot-key", 2)] {
        let s = scenario(name, seed);
        let (direct, hash) = records(&s, false);
        let (piped, piped_hash) = records(&s, true);
        assert!(
            direct.len() > 4 * reports::pipeline::BATCH,
            "{name}: the run spans several batches ({} records)",
            direct.len()
        );
        assert_eq!(hash, piped_hash, "{name}: same run");
        assert_eq!(direct.len(), piped.len(), "{name}: same number of records");
        if let Some(i) = (0..direct.len()).find(|&i| direct[i] != piped[i]) {
            panic!(
                "{name}: record {i} differs: {:?} vs {:?}",
                direct[i], piped[i]
            );
        }
    }
}

#[test]
fn the_summary_is_the_same() {
    let s = scenario("node-crash-recovery", 5);
    let summary = |pipelined: bool| {
        let sim = Simulation::new(s.clone());
        let ring = sim.ring().clone();
        let mut collector = reports::metrics::Collector::new(&s);
        let outcome = if pipelined {
            reports::pipeline::pipelined(&mut collector, |sink| sim.run(sink, None))
        } else {
            sim.run(&mut collector, None)
        };
        reports::report::summary(&s, &outcome, &collector, &ring)
    };
    let (direct, piped) = (summary(false), summary(true));
    assert!(direct["ops"]["total"].as_u64().unwrap_or(0) > 1000);
    assert_eq!(direct, piped);
}

/// Counts records and panics at the `n`-th.
struct Fails(usize);

impl Sink for Fails {
    fn record(&mut self, _at: SimTime, _record: &Record) {
        self.0 -= 1;
        assert!(self.0 > 0, "the consumer failed");
    }
}

#[test]
fn a_failing_consumer_fails_the_run() {
    let s = scenario("healthy-baseline", 1);
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let sim = Simulation::new(s.clone());
        reports::pipeline::pipelined(&mut Fails(3 * reports::pipeline::BATCH), |sink| {
            sim.run(sink, None)
        })
    }));
    let message = failed.expect_err("the consumer's panic reaches the caller");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| message.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(text.contains("the consumer failed"), "{text}");
}

/// Notes on which thread each record arrived, and when the end phase began.
#[derive(Default)]
struct Threads {
    seen: Vec<(std::thread::ThreadId, bool)>,
    end_phase_at: Option<usize>,
}

impl Sink for Threads {
    fn record(&mut self, _at: SimTime, record: &Record) {
        let end_state = matches!(
            record,
            Record::FinalValues { .. } | Record::FinalHint { .. }
        );
        self.seen.push((std::thread::current().id(), end_state));
    }

    fn end_phase(&mut self) {
        self.end_phase_at = Some(self.seen.len());
    }
}

/// The records before the end phase are consumed on the second thread; from
/// the end phase on, on the engine's (so the end state is built in the
/// memory the engine frees), and the consumer is told when it begins.
#[test]
fn the_end_state_is_consumed_on_the_engines_thread() {
    let s = scenario("healthy-baseline", 1);
    let sim = Simulation::new(s.clone());
    let mut threads = Threads::default();
    reports::pipeline::pipelined(&mut threads, |sink| sim.run(sink, None));
    let me = std::thread::current().id();
    let at = threads
        .end_phase_at
        .expect("the consumer hears of the end phase");
    let (before, after) = threads.seen.split_at(at);
    assert!(before.len() > 4 * reports::pipeline::BATCH, "a long run");
    assert!(before.iter().all(|(t, end)| *t != me && !end));
    assert!(after.iter().any(|(_, end)| *end), "the end state follows");
    assert!(after.iter().all(|(t, _)| *t == me));
}

/// Counts end phases and records.
#[derive(Default)]
struct Phases {
    records: usize,
    end_phases: Vec<usize>,
}

impl Sink for Phases {
    fn record(&mut self, _at: SimTime, _record: &Record) {
        self.records += 1;
    }

    fn end_phase(&mut self) {
        self.end_phases.push(self.records);
    }
}

/// Two simulations through one pipeline: the consumer hears both end
/// phases where it would hear them called directly.
#[test]
fn every_end_phase_reaches_the_consumer() {
    let runs = |sink: &mut dyn Sink| {
        for name in ["healthy-baseline", "hot-key"] {
            Simulation::new(scenario(name, 1)).run(sink, None);
        }
    };
    let mut direct = Phases::default();
    runs(&mut direct);
    let mut piped = Phases::default();
    reports::pipeline::pipelined(&mut piped, runs);
    assert_eq!(direct.end_phases.len(), 2);
    assert_eq!(direct.end_phases, piped.end_phases);
    assert_eq!(direct.records, piped.records);
}
