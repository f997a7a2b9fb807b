//! Engine benchmark: the event queue, the whole simulator, and memory growth.
//!
//! Run with `cargo bench -p sim-core --bench engine` (release profile). Set
//! `DYNASIM_BENCH_QUICK=1` to skip the 10M-operation memory run (two to
//! three minutes; the rest takes about 20 s). Standard output carries only
//! `name: value` lines, one per figure, so a script can read them; progress
//! goes to standard error.
//!
//! # 1. Hold model (the classic discrete-event queue benchmark)
//! The queue is filled with `hold_pending_events` (10,000) events at random
//! times, then each step pops the earliest event and pushes one at
//! `popped_time + delay`, so the queue size stays constant. Delays are
//! exponential (mean 1 ms, integer microseconds) from a ChaCha stream
//! (`SimRng`, `Stream::Custom`); they are drawn once, before timing, and the
//! same sequence feeds every implementation, so all three do identical work
//! (the pop order and a checksum of it are checked to be equal). Each event
//! carries a 64-byte payload (the engine's `Event` is larger, 128 bytes; a
//! bigger payload would only slow the bare `BinaryHeap` further, since it
//! moves whole payloads while sifting). One
//! "event" below is one hold step (one pop plus one push). Measured:
//! - `engine_events_per_sec`: `sim_core::engine::queue::EventQueue` (heap of small
//!   entries over a slab, with cancellation support);
//! - `binaryheap_events_per_sec`: a bare `std::collections::BinaryHeap` of
//!   `(Reverse((time, seq)), payload)`, the textbook baseline (no
//!   cancellation; the engine can beat it because its heap holds 24-byte
//!   entries and leaves payloads in place);
//! - `priority_queue_events_per_sec`: the `priority-queue` crate (an indexed
//!   heap with changeable priorities, default hasher) keyed by an event id,
//!   payloads in a `Vec` indexed by that id;
//! - `engine_vs_binaryheap`, `priority_queue_vs_binaryheap`: throughput ratios.
//!
//! Each implementation is timed `HOLD_ROUNDS` times, interleaved in rotating
//! order, and the best round counts (the machine this runs on is small and
//! noisy). Filling the queue is not timed.
//!
//! # 2. Dynamo baseline (the whole simulator)
//! A scenario built here as JSON and parsed with `sim_core::scenario::parse`:
//! 64 nodes, strategy 3 with 512 partitions, `(N, R, W) = (3, 2, 2)`, 100,000
//! keys with Zipfian(0.99) popularity, loaded before the run
//! (`workload.keys.preload`: every key starts with one value on its top N
//! replicas, as after a YCSB load phase), 100 open-loop clients doing only
//! read-modify-writes, a healthy network (normal 0.5 ms ± 0.1 ms), one second
//! of quiescence. Clients count `workload.max_ops` in *plans* (client.rs,
//! `ops_started`): one read-modify-write plan is two operations, a get then a
//! put. So a run of `sim_ops` operations sets `max_ops` to `sim_ops / 2`, and
//! the printed `sim_ops` is what actually happened: the number of client
//! requests the nodes coordinated (`NodeStats::coordinated`, summed), which is
//! `2 × plans` when every get succeeds (a warning goes to stderr otherwise).
//! The workload duration is twice the expected time to spend the budget, so
//! `max_ops`, not the clock, ends the workload. The run uses a sink that
//! drops every record but the end state's (it counts the keys written, see
//! section 3) and no tracer; `sim_wall_s` times `Simulation::run` only (not
//! parsing or building the world). Figures: `sim_nodes`, `sim_ops`, `sim_events` (events the
//! engine processed), `sim_wall_s`, `sim_events_per_sec`, `sim_ops_per_sec`,
//! `sim_peak_queue_len`, and `sim_vs_binaryheap` = `sim_events_per_sec /
//! binaryheap_events_per_sec` (how much of the bare-queue throughput is left
//! once the events do real work).
//!
//! # 3. Memory growth
//! Peak RSS is process-wide and never goes down, so each simulator run happens
//! in its own child process: the bench re-executes itself with
//! `DYNASIM_BENCH_CHILD=ops:N`, the child runs only the simulator and prints
//! its figures, and the parent collects them. `peak_rss_mb` is the peak RSS of
//! the 1M-operation child (the run of section 2), `peak_rss_mb_1m_ops` the same
//! figure again, `peak_rss_mb_10m_ops` that of a 10M-operation run of the same
//! scenario, and `rss_10m_vs_1m` their ratio: with a fixed key space the
//! simulator should not grow with the number of operations. The key space is
//! loaded before the run because without a load phase the stored data set
//! itself grows with the run: under Zipf(0.99) 1M operations write only about
//! 64% of the 100,000 keys and 10M nearly all of them (without the load the
//! ratio was 1.58, 39 vs 62 MB, all of it stored keys). The 10M run also
//! prints `sim_events_10m_ops` and `sim_events_per_sec_10m_ops`.
//! With the load, what the longer run adds is still the keys it writes
//! first, so each child also counts the keys some node holds a written
//! value of at the end (`written_keys_1m_ops`, `written_keys_10m_ops`, from
//! the end state's records), and the parent prints what a written key
//! costs, `rss_bytes_per_written_key` (the two peaks' difference over the
//! two counts'), and the most it could cost for `rss_10m_vs_1m` to be 1.2
//! with everything else as measured, `rss_10m_vs_1m_goal_bytes_per_written_key`:
//! with `F` the 1M run's peak less its written keys at that cost,
//! `0.2 F / (k10 - 1.2 k1)`.
//! Peak RSS is `VmHWM` from `/proc/self/status`, so Linux only; elsewhere it
//! prints `n/a`. With `DYNASIM_BENCH_QUICK=1`, `peak_rss_mb_10m_ops` and
//! `rss_10m_vs_1m` print `skipped`.
//!
//! # 5. Node capacity overhead
//! The baseline of section 2 again with a `cluster.capacity` section:
//! every node gets 8 workers (exponential 20 µs per message), a disk with 4
//! channels (the default storage latencies as service times) and a
//! 1,250 MB/s interface, generous enough that the run is not overloaded, so
//! both runs do the same operations. Each run is a child process; the
//! baseline and the capacity run alternate three times and the fastest of
//! each counts (a shared machine slows single runs by up to 30 %). `capacity_overhead` is the wall time per operation with capacity
//! on over off, `capacity_overhead_cpu` the same with CPU time (user +
//! system, from `/proc/self/stat`), which a busy machine disturbs less;
//! `sim_capacity_events` shows where the extra time goes (each message to a
//! node also ends its service, each disk operation its own event).
//!
//! # Goals
//! - `engine_vs_binaryheap` ≥ 0.8: cancellation support costs at most 20%.
//! - `sim_vs_binaryheap` ≥ 0.25.
//! - `rss_10m_vs_1m` ≤ 1.2: memory does not grow with the length of a run.
//! - `capacity_overhead` ≤ 1.3: modelling node capacity costs at most 30 %
//!   per operation.

// The simulator must never read a clock (clippy.toml forbids
// `Instant::now` for determinism). A benchmark has to measure wall time; it
// does so only here, around the code under test, never inside a simulation.
#![allow(clippy::disallowed_methods)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{cpu_time_s, peak_rss_mb, run_child_spec, ChildFigures, CHILD_ENV};
use priority_queue::PriorityQueue;
use sim_core::dynamo::protocol::Value;
use sim_core::engine::queue::EventQueue;
use sim_core::engine::record::{NullSink, Record, Sink};
use sim_core::engine::rng::{SimRng, Stream};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::{Event, Simulation, StopReason};

/// Events pending during the hold model.
const HOLD_PENDING: usize = 10_000;
/// Hold steps per timed round.
const HOLD_STEPS: usize = 5_000_000;
/// Timed rounds per implementation; the best counts.
const HOLD_ROUNDS: usize = 3;
/// Pre-drawn delays, reused cyclically (a power of two).
const DELAY_TABLE: usize = 1 << 20;
/// Mean hold delay, microseconds.
const MEAN_DELAY_US: f64 = 1_000.0;
/// Root seed of the delay stream.
const SEED: u64 = 42;

/// Operations (gets + puts) of the baseline run and of the memory run.
const OPS_1M: u64 = 1_000_000;
const OPS_10M: u64 = 10_000_000;
const NODES: u32 = common::BASELINE_NODES;
const CLIENTS: u64 = common::BASELINE_CLIENTS;
/// Read-modify-write plans per second per client.
const RATE_PER_CLIENT: u64 = common::BASELINE_RATE_PER_CLIENT;

const QUICK_ENV: &str = "DYNASIM_BENCH_QUICK";

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        match spec.strip_prefix("scale:").and_then(|n| n.parse().ok()) {
            Some(nodes) => scale_child(nodes),
            None => child(&spec),
        }
        return;
    }
    let quick = std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
    let started = Instant::now();

    // 1. Hold model.
    let hold = hold_model();
    println!("hold_pending_events: {HOLD_PENDING}");
    println!("engine_events_per_sec: {:.0}", hold.engine);
    println!("binaryheap_events_per_sec: {:.0}", hold.binaryheap);
    println!("priority_queue_events_per_sec: {:.0}", hold.priority_queue);
    println!("engine_vs_binaryheap: {:.2}", hold.engine / hold.binaryheap);
    println!(
        "priority_queue_vs_binaryheap: {:.2}",
        hold.priority_queue / hold.binaryheap
    );

    // 2. The simulator, 1M operations, in a child process (for its peak RSS).
    let run_1m = run_child(OPS_1M);
    for name in [
        "sim_nodes",
        "sim_ops",
        "sim_events",
        "sim_wall_s",
        "sim_events_per_sec",
        "sim_ops_per_sec",
        "sim_peak_queue_len",
    ] {
        println!("{name}: {}", run_1m.get(name));
    }
    let sim_eps: f64 = run_1m
        .get("sim_events_per_sec")
        .parse()
        .expect("the child prints a number");
    println!("sim_vs_binaryheap: {:.2}", sim_eps / hold.binaryheap);
    let rss_1m = run_1m.get("peak_rss_mb");
    println!("peak_rss_mb: {rss_1m}");

    // 5 (run early, while the machine state is close to section 2's).
    // Node capacity overhead: alternate off/on, best of three each.
    let mut best = [(f64::MAX, f64::MAX, 0u64); 2];
    for round in 0..3 {
        for (i, spec) in [format!("ops:{OPS_1M}"), format!("capacity:{OPS_1M}")]
            .iter()
            .enumerate()
        {
            let run = if round == 0 && i == 0 {
                // The section 2 run is the first baseline.
                None
            } else {
                Some(run_child_spec(spec))
            };
            let r = run.as_ref().unwrap_or(&run_1m);
            let per_op = |field: &str| -> f64 {
                let v: f64 = r.get(field).parse().unwrap_or(f64::NAN);
                let ops: f64 = r.get("sim_ops").parse().unwrap_or(f64::NAN);
                v / ops
            };
            let (wall, cpu) = (per_op("sim_wall_s"), per_op("sim_cpu_s"));
            let events: u64 = r.get("sim_events").parse().unwrap_or(0);
            best[i] = (best[i].0.min(wall), best[i].1.min(cpu), events);
        }
    }
    println!("sim_capacity_events: {}", best[1].2);
    println!("sim_capacity_wall_us_per_op: {:.3}", best[1].0 * 1e6);
    println!("capacity_overhead: {:.2}", best[1].0 / best[0].0);
    println!("capacity_overhead_cpu: {:.2}", best[1].1 / best[0].1);

    // 3. Memory growth: the same scenario, ten times longer.
    println!("peak_rss_mb_1m_ops: {rss_1m}");
    if quick {
        eprintln!("{QUICK_ENV} set: skipping the 10M-operation run");
        println!("peak_rss_mb_10m_ops: skipped");
        println!("rss_10m_vs_1m: skipped");
    } else {
        let run_10m = run_child(OPS_10M);
        let rss_10m = run_10m.get("peak_rss_mb");
        println!("peak_rss_mb_10m_ops: {rss_10m}");
        match (rss_1m.parse::<f64>(), rss_10m.parse::<f64>()) {
            (Ok(a), Ok(b)) => println!("rss_10m_vs_1m: {:.2}", b / a),
            _ => println!("rss_10m_vs_1m: n/a"),
        }
        let (k1, k10) = (run_1m.get("written_keys"), run_10m.get("written_keys"));
        println!("written_keys_1m_ops: {k1}");
        println!("written_keys_10m_ops: {k10}");
        match written_key_cost(rss_1m, rss_10m, k1, k10) {
            Some((cost, goal)) => {
                println!("rss_bytes_per_written_key: {cost:.0}");
                println!("rss_10m_vs_1m_goal_bytes_per_written_key: {goal:.0}");
            }
            None => {
                println!("rss_bytes_per_written_key: n/a");
                println!("rss_10m_vs_1m_goal_bytes_per_written_key: n/a");
            }
        }
        println!("sim_events_10m_ops: {}", run_10m.get("sim_events"));
        println!(
            "sim_events_per_sec_10m_ops: {}",
            run_10m.get("sim_events_per_sec")
        );
    }

    // 4. Scale: the same workload on 16..1024 nodes, gossip and
    // anti-entropy on, each in its own process.
    let mut per_op = Vec::new();
    for nodes in SCALE_NODES {
        let run = run_child_spec(&format!("scale:{nodes}"));
        let us: f64 = run
            .get("scale_us_per_op")
            .parse()
            .expect("the child prints a number");
        println!("scale_{nodes}_nodes_us_per_op: {us:.2}");
        println!("scale_{nodes}_nodes_events: {}", run.get("scale_events"));
        per_op.push(us);
    }
    println!(
        "scale_1024_vs_16: {:.2}",
        per_op[per_op.len() - 1] / per_op[0]
    );
    eprintln!("bench finished in {:.1} s", started.elapsed().as_secs_f64());
}

/// Cluster sizes of the scale row.
const SCALE_NODES: [u32; 4] = [16, 64, 256, 1024];
/// Operations per scale run (the same for every size).
const SCALE_OPS: u64 = 400_000;

/// The scale row's scenario: the baseline workload on `nodes` nodes with
/// 4096 equal partitions (so even 1024 nodes hold four each), gossip
/// membership and Merkle anti-entropy on.
fn scale_json(nodes: u32) -> String {
    let plans = SCALE_OPS / 2;
    let duration_s = 2 * plans / (CLIENTS * RATE_PER_CLIENT) + 5;
    format!(
        r#"{{
  "name": "bench-scale-{nodes}",
  "rng_seed": 1,
  "duration_s": {duration_s},
  "quiescence": {{ "duration_s": 1, "heal_faults": true }},
  "max_events": 10000000000,
  "cluster": {{
    "nodes": {nodes},
    "quorum": {{ "n": 3, "r": 2, "w": 2 }},
    "partitioning": {{ "strategy": "equal_partitions", "partitions": 4096 }},
    "anti_entropy": {{ "interval_ms": 1000 }},
    "membership": {{ "gossip_interval_ms": 1000 }}
  }},
  "network": {{
    "latency": {{ "normal": {{ "mean_ms": 0.5, "stddev_ms": 0.1 }} }}
  }},
  "workload": {{
    "clients": {CLIENTS},
    "arrival": {{ "open_loop": {{ "rate_per_s": {RATE_PER_CLIENT} }} }},
    "keys": {{ "count": 100000, "popularity": {{ "zipfian": 0.99 }} }},
    "mix": {{ "read_modify_write": 1.0 }},
    "max_ops": {plans}
  }}
}}"#
    )
}

/// Child mode for one scale run: wall time per coordinated operation.
fn scale_child(nodes: u32) {
    let scenario = bench_scenario(&scale_json(nodes));
    let start = Instant::now();
    let sim = Simulation::new(scenario);
    let outcome = sim.run(&mut NullSink, None);
    let wall = start.elapsed().as_secs_f64();
    let done: u64 = outcome.node_stats.iter().map(|s| s.coordinated).sum();
    let gossip: u64 = outcome.node_stats.iter().map(|s| s.gossip_sent).sum();
    let ae: u64 = outcome.node_stats.iter().map(|s| s.ae_exchanges).sum();
    eprintln!(
        "scale {nodes} nodes: {done} ops, {} events, {gossip} gossip messages, {ae} anti-entropy exchanges in {wall:.2} s",
        outcome.stats.events
    );
    println!("scale_us_per_op: {:.3}", wall * 1e6 / done.max(1) as f64);
    println!("scale_events: {}", outcome.stats.events);
}

// ---------------------------------------------------------------- hold model

/// A payload about the size of the engine's `Event`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Payload([u64; 8]);

impl Payload {
    fn new(seq: u64) -> Self {
        Payload([seq; 8])
    }
}

/// Folds one popped event into the order checksum.
fn mix(check: u64, time: u64, payload: &Payload) -> u64 {
    check
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(time ^ payload.0[7].rotate_left(17))
}

/// The same random input for every implementation.
struct HoldInput {
    initial: Vec<u64>,
    delays: Vec<u64>,
}

impl HoldInput {
    fn new() -> Self {
        let mut rng = SimRng::new(SEED, Stream::Custom(0xBE7C));
        let mut draw = || libm::round(rng.exp_f64(MEAN_DELAY_US)) as u64;
        let initial = (0..HOLD_PENDING).map(|_| draw()).collect();
        let delays = (0..DELAY_TABLE).map(|_| draw()).collect();
        HoldInput { initial, delays }
    }

    fn delay(&self, step: usize) -> u64 {
        self.delays[step & (DELAY_TABLE - 1)]
    }
}

/// Wall time of the hold loop and the checksum of the pop order.
struct HoldRun {
    elapsed: Duration,
    check: u64,
}

fn hold_engine(input: &HoldInput) -> HoldRun {
    let mut q = EventQueue::with_capacity(HOLD_PENDING);
    let mut seq = 0u64;
    for &t in &input.initial {
        q.push(SimTime(t), Payload::new(seq));
        seq += 1;
    }
    let mut check = 0u64;
    let start = Instant::now();
    for step in 0..HOLD_STEPS {
        let (t, p) = q.pop().expect("the hold model never empties the queue");
        check = mix(check, t.0, &p);
        q.push(SimTime(t.0 + input.delay(step)), Payload::new(seq));
        seq += 1;
    }
    let elapsed = start.elapsed();
    black_box(&q);
    HoldRun {
        elapsed,
        check: black_box(check),
    }
}

fn hold_binaryheap(input: &HoldInput) -> HoldRun {
    let mut q: BinaryHeap<(Reverse<(u64, u64)>, Payload)> = BinaryHeap::with_capacity(HOLD_PENDING);
    let mut seq = 0u64;
    for &t in &input.initial {
        q.push((Reverse((t, seq)), Payload::new(seq)));
        seq += 1;
    }
    let mut check = 0u64;
    let start = Instant::now();
    for step in 0..HOLD_STEPS {
        let (Reverse((t, _)), p) = q.pop().expect("the hold model never empties the queue");
        check = mix(check, t, &p);
        q.push((Reverse((t + input.delay(step), seq)), Payload::new(seq)));
        seq += 1;
    }
    let elapsed = start.elapsed();
    black_box(&q);
    HoldRun {
        elapsed,
        check: black_box(check),
    }
}

fn hold_priority_queue(input: &HoldInput) -> HoldRun {
    // Items are slot ids into `payloads`; a popped slot is refilled at once
    // (the hold model pops one and pushes one), so ids stay below HOLD_PENDING.
    let mut q: PriorityQueue<u64, Reverse<(u64, u64)>> = PriorityQueue::with_capacity(HOLD_PENDING);
    let mut payloads = Vec::with_capacity(HOLD_PENDING);
    let mut seq = 0u64;
    for &t in &input.initial {
        payloads.push(Payload::new(seq));
        q.push(seq, Reverse((t, seq)));
        seq += 1;
    }
    let mut check = 0u64;
    let start = Instant::now();
    for step in 0..HOLD_STEPS {
        let (id, Reverse((t, _))) = q.pop().expect("the hold model never empties the queue");
        let p = std::mem::replace(&mut payloads[id as usize], Payload::new(seq));
        check = mix(check, t, &p);
        q.push(id, Reverse((t + input.delay(step), seq)));
        seq += 1;
    }
    let elapsed = start.elapsed();
    black_box((&q, &payloads));
    HoldRun {
        elapsed,
        check: black_box(check),
    }
}

/// Best-of-rounds throughput of each implementation, events per second.
struct HoldFigures {
    engine: f64,
    binaryheap: f64,
    priority_queue: f64,
}

fn hold_model() -> HoldFigures {
    eprintln!(
        "hold model: {HOLD_PENDING} pending, {HOLD_STEPS} steps, best of {HOLD_ROUNDS} \
         (size_of::<Event>() = {} bytes, payload {} bytes)",
        std::mem::size_of::<Event>(),
        std::mem::size_of::<Payload>()
    );
    let input = HoldInput::new();
    type Impl = (&'static str, fn(&HoldInput) -> HoldRun);
    let impls: [Impl; 3] = [
        ("engine", hold_engine),
        ("binaryheap", hold_binaryheap),
        ("priority_queue", hold_priority_queue),
    ];
    let mut best = [Duration::MAX; 3];
    let mut checks = [None::<u64>; 3];
    for round in 0..HOLD_ROUNDS {
        for k in 0..impls.len() {
            let i = (round + k) % impls.len(); // rotate the order each round
            let (name, f) = impls[i];
            let run = f(&input);
            eprintln!("  round {round} {name}: {:.3} s", run.elapsed.as_secs_f64());
            best[i] = best[i].min(run.elapsed);
            checks[i] = Some(run.check);
        }
    }
    assert!(
        checks.iter().all(|c| *c == checks[0]),
        "the three queues popped the events in different orders: {checks:?}"
    );
    let eps = |d: Duration| HOLD_STEPS as f64 / d.as_secs_f64();
    HoldFigures {
        engine: eps(best[0]),
        binaryheap: eps(best[1]),
        priority_queue: eps(best[2]),
    }
}

// ---------------------------------------------------------------- simulator

/// The baseline scenario with a node capacity section (section 5;
/// `common::BASELINE_CAPACITY`, shared with the run-path and scale benches).
fn capacity_json(ops: u64) -> String {
    common::with_capacity(&scenario_json(ops))
}

/// The baseline scenario with a budget of `ops` operations (shared with
/// the run-path bench, `benches/run_path.rs`).
fn scenario_json(ops: u64) -> String {
    common::baseline_scenario_json(ops)
}

/// Parses a bench scenario (a bench bug if it does not validate).
fn bench_scenario(text: &str) -> Arc<sim_core::config::Scenario> {
    match parse(text, &no_files) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("the bench scenario does not validate: {e:?}"),
    }
}

/// Child mode: run the simulator once and print its figures.
fn child(spec: &str) {
    let (capacity, ops): (bool, u64) = match spec.split_once(':') {
        Some(("ops", n)) => (false, n.parse().unwrap_or(0)),
        Some(("capacity", n)) => (true, n.parse().unwrap_or(0)),
        _ => panic!("{CHILD_ENV} must be `ops:N` or `capacity:N`, got {spec:?}"),
    };
    let text = if capacity {
        capacity_json(ops)
    } else {
        scenario_json(ops)
    };
    let sim = Simulation::new(bench_scenario(&text));
    eprintln!(
        "simulator{}: {ops} operations ({} RMW plans)...",
        if capacity { " with node capacity" } else { "" },
        ops / 2
    );
    let cpu_start = cpu_time_s();
    let start = Instant::now();
    let mut written = WrittenKeys::default();
    let outcome = sim.run(&mut written, None);
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_time_s().zip(cpu_start).map(|(b, a)| b - a);
    assert_eq!(
        outcome.stop,
        StopReason::EndOfRun,
        "the run must end at its end time"
    );
    let done: u64 = outcome.node_stats.iter().map(|s| s.coordinated).sum();
    if done != ops {
        eprintln!("warning: {done} operations were coordinated, the budget was {ops}");
    }
    let events = outcome.stats.events;
    eprintln!(
        "simulator: {events} events in {wall:.2} s, end at {} us",
        outcome.end_time.as_micros()
    );
    println!("sim_nodes: {NODES}");
    println!("sim_ops: {done}");
    println!("sim_events: {events}");
    println!("sim_wall_s: {wall:.3}");
    match cpu {
        Some(c) => println!("sim_cpu_s: {c:.3}"),
        None => println!("sim_cpu_s: n/a"),
    }
    println!("sim_events_per_sec: {:.0}", events as f64 / wall);
    println!("sim_ops_per_sec: {:.0}", done as f64 / wall);
    println!("sim_peak_queue_len: {}", outcome.stats.peak_queue_len);
    println!("written_keys: {}", written.count);
    match peak_rss_mb() {
        Some(mb) => println!("peak_rss_mb: {mb:.1}"),
        None => println!("peak_rss_mb: n/a"),
    }
}

/// Counts the keys some node holds a written value of at the end (not
/// only the loaded one), from the end state's records, and drops every
/// other record as `NullSink` does. A bit per key: nothing that could move
/// the peak it is compared with.
#[derive(Default)]
struct WrittenKeys {
    seen: Vec<u64>,
    count: u64,
}

impl Sink for WrittenKeys {
    fn record(&mut self, _at: SimTime, record: &Record) {
        let Record::FinalValues { key, values, .. } = record else {
            return;
        };
        if values
            .iter()
            .all(|v| matches!(v, Value::Data(w) if w.is_preloaded()))
        {
            return;
        }
        let (word, bit) = ((key.0 / 64) as usize, key.0 % 64);
        if self.seen.len() <= word {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & (1 << bit) == 0 {
            self.seen[word] |= 1 << bit;
            self.count += 1;
        }
    }
}

/// What a written key costs (bytes of peak RSS: the 10M run's peak over the
/// 1M run's, per key it wrote that the 1M run did not), and the most it
/// could cost for the 10M run to peak at 1.2 times the 1M run with the
/// rest of the 1M run's memory (its peak less its written keys at that
/// cost) as measured (see the module docs). `None` when a figure is
/// missing or the runs wrote too few more keys to tell.
fn written_key_cost(rss_1m: &str, rss_10m: &str, k1: &str, k10: &str) -> Option<(f64, f64)> {
    let (r1, r10) = (rss_1m.parse::<f64>().ok()?, rss_10m.parse::<f64>().ok()?);
    let (k1, k10) = (k1.parse::<f64>().ok()?, k10.parse::<f64>().ok()?);
    const MIB: f64 = 1024.0 * 1024.0;
    if k10 - k1 < 1.0 || k10 <= 1.2 * k1 {
        return None;
    }
    let cost = (r10 - r1) * MIB / (k10 - k1);
    let rest = r1 * MIB - k1 * cost;
    Some((cost, 0.2 * rest / (k10 - 1.2 * k1)))
}

/// Runs the simulator with `ops` operations in a fresh process.
fn run_child(ops: u64) -> ChildFigures {
    run_child_spec(&format!("ops:{ops}"))
}
