//! The determinism contract, tested: same (scenario, seed) → same trace hash;
//! different seed → different hash; threads change nothing; and a golden hash
//! catches silent changes to random streams, iteration order or the engine;
//! every shipped scenario's hash is pinned in `scenarios/trace-hashes.txt`.

use std::path::PathBuf;
use std::sync::Arc;

use sim_core::config::Scenario;
use sim_core::engine::record::NullSink;
use sim_core::scenario::parse;
use sim_core::sim::Simulation;

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(path: &std::path::Path) -> Scenario {
    let text = std::fs::read_to_string(path).expect("scenario file readable");
    let dir = path.parent().expect("has a parent").to_path_buf();
    let resolver =
        move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
    parse(&text, &resolver).unwrap_or_else(|e| panic!("{} does not validate:\n{e}", path.display()))
}

fn hash(scenario: &Scenario) -> (u64, u64) {
    let out = Simulation::new(Arc::new(scenario.clone())).run(&mut NullSink, None);
    (out.trace_hash, out.stats.events)
}

/// A small fixed scenario for the golden hash and the thread test. It lives
/// here (not in scenarios/) so editing the examples never moves the golden.
const SMALL: &str = r#"{
  "name": "golden",
  "rng_seed": 42,
  "duration_s": 5,
  "quiescence": { "duration_s": 2, "heal_faults": true },
  "cluster": {
    "nodes": 5,
    "quorum": { "n": 3, "r": 2, "w": 2 },
    "partitioning": { "strategy": "equal_partitions", "partitions": 40 },
    "replica_timeout_ms": 30,
    "hint_scan_interval_ms": 200,
    "storage": { "write_latency": { "exponential": { "mean_ms": 0.5 } } }
  },
  "network": {
    "latency": { "mixture": [
      { "weight": 0.9, "latency": { "normal": { "mean_ms": 1, "stddev_ms": 0.2 } } },
      { "weight": 0.1, "latency": { "pareto": { "scale_ms": 1, "shape": 1.5 } } }
    ] },
    "loss": 0.01,
    "duplicate": 0.01
  },
  "workload": {
    "clients": 3,
    "arrival": { "open_loop": { "rate_per_s": 50 } },
    "keys": { "count": 50, "popularity": { "zipfian": 0.9 } },
    "mix": { "read": 0.4, "read_modify_write": 0.4, "blind_write": 0.1, "delete": 0.1 }
  },
  "faults": [
    { "at_s": 1, "for_s": 1.5, "crash": { "node": "n1" } },
    { "at_s": 2, "for_s": 1, "partition": { "groups": [["n0", "n2"], ["n3", "n4"]] } },
    { "at_s": 0.5, "clock_skew": { "node": "n3", "offset_ms": -20, "drift_ppm": 50 } }
  ],
  "nemesis": { "loss": { "mean_interval_s": 1, "duration": { "constant": { "ms": 200 } }, "extra_loss": 0.3 } }
}"#;

fn small(seed: u64) -> Scenario {
    let mut s = parse(SMALL, &sim_core::scenario::no_files).expect("SMALL is valid");
    s.rng_seed = seed;
    s
}

#[test]
fn every_scenario_file_runs_the_same_twice() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let pinned = pinned_hashes();
    let mut actual = Vec::new();
    for f in files {
        let s = load(&f);
        let a = hash(&s);
        let b = hash(&s);
        assert_eq!(a, b, "{} is not deterministic", f.display());
        let name = f
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .to_string();
        actual.push(format!("{name} {:016x} {}", a.0, a.1));
    }
    if std::env::var_os("DYNASIM_BLESS").is_some() {
        std::fs::write(pinned_path(), actual.join("\n") + "\n").expect("write the pins");
        return;
    }
    let changed: Vec<String> = actual
        .iter()
        .filter(|line| !pinned.contains(line))
        .cloned()
        .collect();
    assert!(
        changed.is_empty() && pinned.len() == actual.len(),
        "shipped scenarios whose trace changed (say why in the commit, then re-pin with \
         DYNASIM_BLESS=1 cargo test -p sim-core --test determinism):\n{}\npinned:\n{}",
        changed.join("\n"),
        pinned.join("\n")
    );
}

/// `scenarios/trace-hashes.txt`: one line per shipped scenario,
/// `name hash events`, at its own rng_seed. A change that alters any of
/// them must be deliberate (determinism rule 1).
fn pinned_path() -> PathBuf {
    scenarios_dir().join("trace-hashes.txt")
}

fn pinned_hashes() -> Vec<String> {
    std::fs::read_to_string(pinned_path())
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn different_seeds_give_different_traces() {
    let hashes: Vec<u64> = (1..=5).map(|seed| hash(&small(seed)).0).collect();
    let mut unique = hashes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), hashes.len(), "{hashes:x?}");
}

#[test]
fn parallel_runs_equal_serial_runs() {
    let seeds: Vec<u64> = (10..16).collect();
    let serial: Vec<(u64, u64)> = seeds.iter().map(|s| hash(&small(*s))).collect();
    let parallel: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(3)
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|s| hash(&small(*s))).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread"))
            .collect()
    });
    assert_eq!(serial, parallel);
}

/// If this fails after an intended change (engine, node logic, random streams,
/// sampling), update the constant and say so in the commit message.
#[test]
fn golden_trace_hash_of_the_small_scenario() {
    let (h, events) = hash(&small(42));
    assert_eq!(
        format!("{h:016x} {events}"),
        GOLDEN,
        "the trace of the golden scenario changed"
    );
}

const GOLDEN: &str = "67a44ca1e27bdb81 13453";
