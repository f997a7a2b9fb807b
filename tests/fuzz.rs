//! A bounded, seeded scenario fuzzer (issue 19).
//!
//! Every shipped scenario is mutated (values replaced by extreme or
//! ill-typed ones, keys dropped, lists blown up, risky sections added, the
//! text cut or corrupted) and each mutant goes through what `dynasim`
//! does with a file:
//!
//! 1. **validate** (in process, every mutant): parsing, validation and the
//!    resource budget never panic; every problem names a JSON path or a
//!    line and column; a NaN never slips through the budget.
//! 2. **run** (the built binary, one mutant per shipped scenario, shortened
//!    to a few simulated seconds): the exit status is 0, 1, 2 or 3, never a
//!    panic or a signal; exit 2 names a path or a line; the process stays
//!    within the memory limit it was given (its own peak resident set) and
//!    the wall-clock guard stops it in time; and a run the budget accepted
//!    is not stopped by the memory guard (the estimate held).
//!
//! The CI run takes seconds. Before a release, run it longer:
//!
//! ```sh
//! DYNASIM_FUZZ_SEED=$RANDOM DYNASIM_FUZZ_CASES=2000 DYNASIM_FUZZ_RUNS=20 \
//!     cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! (`DYNASIM_FUZZ_CASES` mutants per scenario are validated,
//! `DYNASIM_FUZZ_RUNS` per scenario are run; a failure prints the seed and
//! the mutant, which is written to the temporary directory to rerun.)

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dynasim::budget::{Budget, Estimate};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_dynasim");

/// splitmix64: the fuzzer's own tiny, seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn shipped() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&path).expect("read");
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            out.push((name, serde_json::from_str(&text).expect("json")));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 20, "the shipped scenarios");
    out
}

/// Values that break things: extremes, wrong types, long strings.
fn interesting(rng: &mut Rng, like: &Value) -> Value {
    let choices = [
        json!(0),
        json!(-1),
        json!(1e-6),
        json!(1e-300),
        json!(0.5),
        json!(1e6),
        json!(1e9),
        json!(1e15),
        json!(1e300),
        json!(4097),
        json!(1_048_576),
        json!(u64::MAX),
        json!(9_007_199_254_740_993u64),
        json!(""),
        json!("x".repeat(5000)),
        json!("1/0"),
        json!(true),
        Value::Null,
        json!([]),
        json!({}),
        json!([[0, 0.5], [1, 1]]),
    ];
    match like {
        // Numbers mostly become other numbers, so validation goes deep.
        Value::Number(n) if rng.below(3) > 0 => {
            let x = n.as_f64().unwrap_or(1.0);
            let factor = *rng.pick(&[0.0, 1e-6, 1e-3, 0.5, 2.0, 1e3, 1e6, 1e12]);
            json!(x * factor)
        }
        _ => rng.pick(&choices).clone(),
    }
}

/// A random path into `v` (object keys and array items).
fn random_path(rng: &mut Rng, v: &Value) -> Vec<Value> {
    let mut path = Vec::new();
    let mut cur = v;
    loop {
        let next = match cur {
            Value::Object(o) if !o.is_empty() => {
                let k = o.keys().nth(rng.below(o.len())).expect("a key").clone();
                let child = &o[&k];
                path.push(json!(k));
                child
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                path.push(json!(i));
                &a[i]
            }
            _ => return path,
        };
        if rng.below(4) == 0 {
            return path;
        }
        cur = next;
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Value::String(k) => cur.get_mut(k.as_str())?,
            Value::Number(i) => cur.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Sets `v[k0][k1]...`, making objects of whatever is in the way.
fn set(v: &mut Value, keys: &[&str], value: Value) {
    let mut cur = v;
    for k in keys {
        if !cur.is_object() {
            *cur = json!({});
        }
        cur = cur
            .as_object_mut()
            .expect("an object")
            .entry(k.to_string())
            .or_insert(Value::Null);
    }
    *cur = value;
}

/// Sections the fuzzer's findings came from, at risky sizes.
fn risky(rng: &mut Rng, v: &mut Value) {
    let heal_alls = vec![json!({"at_s": 0, "heal_all": true}); 1 + rng.below(3000)];
    match rng.below(16) {
        0 => set(
            v,
            &["nemesis"],
            json!({"crashes": {"mtbf_s": *rng.pick(&[1e-6, 1e-3, 0.1, 5.0]),
                "downtime": {"constant": {"ms": *rng.pick(&[0.0, 1.0, 1000.0])}}}}),
        ),
        1 => set(
            v,
            &["nemesis"],
            json!({"partitions": {"mean_interval_s": *rng.pick(&[1e-6, 0.01, 2.0]),
                "duration": {"exponential": {"mean_ms": 50}}, "shape": "random_halves"},
                "loss": {"mean_interval_s": *rng.pick(&[1e-6, 0.5]),
                "duration": {"constant": {"ms": 10}}, "extra_loss": 0.5}}),
        ),
        2 => set(
            v,
            &["metrics"],
            json!({"window_s": *rng.pick(&[1e-6, 1e-3, 0.01])}),
        ),
        3 => set(
            v,
            &["workload", "keys"],
            json!({"count": *rng.pick(&[1, 10_000_000, 100_000_000]),
                "preload": rng.below(2) == 0}),
        ),
        4 => {
            set(
                v,
                &["cluster", "partitioning"],
                json!({"strategy": "equal_partitions",
                "partitions": *rng.pick(&[64, 65_536, 1_048_576])}),
            );
            set(
                v,
                &["cluster", "anti_entropy"],
                json!({"fanout": *rng.pick(&[2, 16, 64]),
                "depth": *rng.pick(&[1, 2, 4])}),
            );
        }
        5 => {
            set(
                v,
                &["workload", "clients"],
                json!(*rng.pick(&[1, 64, 4096])),
            );
            set(
                v,
                &["workload", "arrival"],
                json!({"open_loop": {"rate_per_s": *rng.pick(&[1.0, 1e4, 1e6])}}),
            );
        }
        6 => {
            set(v, &["cluster", "nodes"], json!(*rng.pick(&[3, 512, 4096])));
            set(
                v,
                &["cluster", "membership"],
                if rng.below(2) == 0 {
                    json!({})
                } else {
                    json!({"failure_detector": {"phi_accrual": {"window": 10_000}}})
                },
            );
        }
        7 => set(v, &["faults"], json!(heal_alls)),
        8 => {
            let n = *rng.pick(&[10usize, 1000, 10_001]);
            let grid: Vec<usize> = (0..n).collect();
            set(v, &["metrics"], json!({"t_visibility_grid_ms": grid}));
        }
        9 => set(
            v,
            &["duration_s"],
            json!(*rng.pick(&[1e-6, 1e6, 1e9, 1e15])),
        ),
        10 => set(
            v,
            &["max_events"],
            json!(*rng.pick(&[1u64, 1000, u64::MAX])),
        ),
        11 => set(
            v,
            &["network", "links"],
            json!([{"between": ["dc1", *rng.pick(&["dc1", "n0", "c0"])],
                    "latency": {"constant": {"ms": 2}}}]),
        ),
        12 => {
            // Node capacity at its extremes: tiny or huge service rates,
            // unbounded-looking queues, a trickle of bandwidth.
            let ms = *rng.pick(&[1e-3, 0.05, 10.0, 1e4]);
            set(
                v,
                &["cluster", "capacity"],
                json!({
                    "cpu": {"workers": *rng.pick(&[1, 4, 1_000_000]),
                        "service": {"default": {"exponential": {"mean_ms": ms}}},
                        "per_mb_ms": *rng.pick(&[0.0, 1.0, 1e3]),
                        "queue_limit": *rng.pick(&[0u64, 10, 10_000, 4_294_967_295]),
                        "overload": *rng.pick(&["reject", "shed_oldest"])},
                    "disk": {"concurrency": *rng.pick(&[1, 2, 1_000_000]),
                        "queue_limit": *rng.pick(&[0u64, 10, 4_294_967_295])},
                    "nic": {"bandwidth_mb_per_s": *rng.pick(&[1e-3, 1.0, 125.0, 1e9]),
                        "queue_limit_mb": *rng.pick(&[1e-3, 64.0, 1e6])},
                    "admission_control": {"window_s": *rng.pick(&[1e-3, 1.0, 1e4]),
                        "percentile": 0.99, "target_ms": *rng.pick(&[0.001, 10.0])}
                }),
            );
        }
        13 => set(
            v,
            &["workload", "value_size"],
            if rng.below(2) == 0 {
                json!({"constant": {"bytes": *rng.pick(&[1u64, 1_000_000, 1 << 30])}})
            } else {
                json!({"lognormal": {"median_bytes": *rng.pick(&[100.0, 1e6]),
                    "sigma": *rng.pick(&[0.5, 3.0, 30.0])}})
            },
        ),
        14 => {
            // Gray failures, with or without the resource they act on.
            let node = rng.pick(&["n0", "n1", "n99"]).to_string();
            let factor = *rng.pick(&[0.5, 1.0, 10.0, 1e6, 1e7]);
            let action = match rng.below(4) {
                0 => json!({"cpu_slowdown": {"node": node, "factor": factor}}),
                1 => json!({"disk_slowdown": {"node": node, "factor": factor}}),
                2 => json!({"disk_stall": {"node": node}}),
                _ => json!({"bandwidth_drop": {"node": node, "factor": factor}}),
            };
            let mut fault = json!({"at_s": *rng.pick(&[0.0, 1.0, 1e9])});
            if rng.below(4) > 0 {
                fault["for_s"] = json!(*rng.pick(&[1e-6, 1.0, 1e9]));
            }
            fault
                .as_object_mut()
                .expect("an object")
                .extend(action.as_object().expect("an object").clone());
            let faults = vec![fault; *rng.pick(&[1usize, 100, 5000])];
            set(v, &["faults"], json!(faults));
        }
        _ => set(
            v,
            &["network", "latency"],
            json!({"empirical": {"csv": *rng.pick(&["/dev/zero", "/nonexistent.csv", "."])}}),
        ),
    }
}

/// One mutant of `base` as text.
fn mutate(rng: &mut Rng, base: &Value) -> Vec<u8> {
    let mut v = base.clone();
    for _ in 0..1 + rng.below(3) {
        match rng.below(10) {
            0..=3 => {
                let path = random_path(rng, &v);
                if let Some(slot) = at_mut(&mut v, &path) {
                    let new = interesting(rng, slot);
                    *slot = new;
                }
            }
            4 => {
                let mut path = random_path(rng, &v);
                if let Some(Value::String(k)) = path.pop() {
                    if let Some(Value::Object(o)) = at_mut(&mut v, &path) {
                        o.remove(&k);
                    }
                }
            }
            5 => {
                let path = random_path(rng, &v);
                if let Some(Value::Array(a)) = at_mut(&mut v, &path) {
                    if let Some(first) = a.first().cloned() {
                        let n = *rng.pick(&[10usize, 1000, 20_000]);
                        a.extend(std::iter::repeat_n(first, n));
                    }
                }
            }
            6..=8 => risky(rng, &mut v),
            _ => {
                let mut text = serde_json::to_vec(&v).expect("json");
                match rng.below(3) {
                    0 => text.truncate(rng.below(text.len())),
                    1 => {
                        let i = rng.below(text.len());
                        text[i] = *rng.pick(&[0xff, 0xc3, b'{', b'"', 0]);
                    }
                    _ => {
                        let i = rng.below(text.len());
                        text.splice(i..i, b"\xe2\x82".iter().copied());
                    }
                }
                return text;
            }
        }
    }
    serde_json::to_vec(&v).expect("json")
}

/// The limits the fuzzer runs under: small, so runs stay short.
const FUZZ_MEMORY_MB: u64 = 384;
const FUZZ_EVENTS: u64 = 2_000_000;
const FUZZ_WALL_S: u64 = 20;

fn fuzz_budget() -> Budget {
    Budget {
        memory_bytes: FUZZ_MEMORY_MB << 20,
        events: FUZZ_EVENTS,
    }
}

/// Parses, validates and budgets `text` in process. `Ok(true)`: valid and
/// within the budget (worth running); `Ok(false)`: rejected properly;
/// `Err`: a finding.
fn validate_in_process(text: &[u8], dir: &Path) -> Result<bool, String> {
    let Ok(text) = std::str::from_utf8(text) else {
        return Ok(false); // the binary's UTF-8 check is tested on the runs
    };
    let dir = dir.to_path_buf();
    let resolver = move |rel: &str| {
        dynasim::load::read_text(&dir.join(rel), dynasim::load::MAX_REFERENCED_BYTES)
            .map_err(|e| e.to_string())
    };
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim_core::scenario::parse(text, &resolver)
    }))
    .map_err(|_| "validation panicked".to_string())?;
    match parsed {
        Err(errors) => {
            for e in &errors.0 {
                let named = match e {
                    sim_core::scenario::ScenarioError::Syntax { line, column, .. } => {
                        *line > 0 && *column > 0
                    }
                    _ => !e.path().trim().is_empty(),
                };
                if !named {
                    return Err(format!("an error without a path or a position: {e}"));
                }
                if e.to_string().chars().count() > 2 * sim_core::scenario::MAX_ERROR_CHARS {
                    return Err(format!(
                        "an unclipped message: {} chars",
                        e.to_string().len()
                    ));
                }
            }
            Ok(false)
        }
        Ok(scenario) => {
            let checked =
                std::panic::catch_unwind(|| Estimate::of(&scenario).check(&fuzz_budget()))
                    .map_err(|_| "the budget panicked".to_string())?;
            match checked {
                Ok(()) => Ok(true),
                Err(r) if r.path.trim().is_empty() => {
                    Err(format!("a refusal without a path: {}", r.message))
                }
                Err(_) => Ok(false),
            }
        }
    }
}

/// True when every line of an exit-2 message names a path or a position.
fn names_a_path_or_line(stderr: &str, file: &Path) -> bool {
    let prefix = format!("{}", file.display());
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("peak_rss_kb "))
        .collect();
    !lines.is_empty()
        && lines.iter().all(|l| {
            let Some(rest) = l.strip_prefix(&prefix).and_then(|r| r.strip_prefix(": ")) else {
                // I/O errors ("error: reading scenario FILE: not a regular file").
                return l.starts_with("error: ") && l.contains(&prefix);
            };
            rest.starts_with("line ")
                || rest.split_once(": ").is_some_and(|(path, _)| {
                    !path.is_empty() && !path.contains(' ') || path.starts_with("expect[")
                })
        })
}

/// Multiplies every `at_s`, `for_s`, `start_s` and `end_s` under `v`.
fn scale_times(v: &mut Value, factor: f64) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match (k.as_str(), x.as_f64()) {
                    ("at_s" | "for_s" | "start_s" | "end_s", Some(t)) => *x = json!(t * factor),
                    _ => scale_times(x, factor),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scale_times(x, factor)),
        _ => {}
    }
}

/// Runs one mutant through the binary and checks the outcome.
fn run_binary(file: &Path, out: &Path) -> Result<String, String> {
    let mut child = Command::new(BIN)
        .args([
            "run",
            file.to_str().expect("path"),
            "--out",
            out.to_str().expect("path"),
            "--no-plots",
            "--quiet",
            "--max-memory-mb",
            &FUZZ_MEMORY_MB.to_string(),
            "--max-events-budget",
            &FUZZ_EVENTS.to_string(),
            "--max-wall-s",
            &FUZZ_WALL_S.to_string(),
        ])
        .env("DYNASIM_REPORT_PEAK_RSS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Read stderr while the child runs: a message longer than the pipe's
    // buffer would otherwise block it (and look like a hang).
    let mut pipe = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let deadline = Duration::from_secs(FUZZ_WALL_S * 3 + 30);
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            return Err(format!(
                "still running after {deadline:?}: the wall-clock guard did not stop it"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().map_err(|_| "the stderr reader panicked")?;
    let code = status
        .code()
        .ok_or_else(|| format!("killed by a signal: {status:?}\n{stderr}"))?;
    if !(0..=3).contains(&code) {
        return Err(format!("exit {code} (a panic?)\n{stderr}"));
    }
    let peak_kb: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if peak_kb > (FUZZ_MEMORY_MB + 64) * 1024 {
        return Err(format!(
            "peak memory {peak_kb} kB over the {FUZZ_MEMORY_MB} MiB limit"
        ));
    }
    if code == 2 && !names_a_path_or_line(&stderr, file) {
        return Err(format!("exit 2 without a path or a line:\n{stderr}"));
    }
    if code != 2 {
        // The budget's memory estimate is an upper bound of what the run
        // took (its own peak resident set).
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        let dir = file.parent().expect("a directory").to_path_buf();
        let resolver = move |rel: &str| {
            dynasim::load::read_text(&dir.join(rel), dynasim::load::MAX_REFERENCED_BYTES)
                .map_err(|e| e.to_string())
        };
        let scenario = sim_core::scenario::parse(&text, &resolver)
            .map_err(|e| format!("ran but does not parse: {e}"))?;
        let estimate_kb =
            (Estimate::of(&scenario).total(dynasim::budget::Resource::Memory) / 1024.0) as u64;
        if peak_kb > estimate_kb {
            return Err(format!(
                "peak memory {peak_kb} kB above the budget's estimate {estimate_kb} kB"
            ));
        }
        return Ok(format!(
            "exit {code}, {} MB of an estimated {} MB",
            peak_kb / 1024,
            estimate_kb / 1024
        ));
    }
    if code == 3 {
        let summary: Value = std::fs::read_to_string(out.join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or("exit 3 without a summary")?;
        if summary["run"]["stop_reason"] == json!("memory") {
            return Err("the budget accepted it, the memory guard stopped it".into());
        }
    }
    let first = stderr
        .lines()
        .find(|l| !l.starts_with("peak_rss_kb"))
        .unwrap_or_default();
    Ok(format!("exit {code}, {} MB {first}", peak_kb / 1024))
}

#[test]
fn mutated_shipped_scenarios_never_panic_and_stay_within_their_budget() {
    let seed = env_usize("DYNASIM_FUZZ_SEED", 19) as u64;
    let cases = env_usize("DYNASIM_FUZZ_CASES", 40);
    let runs = env_usize("DYNASIM_FUZZ_RUNS", 1);
    let dir = std::env::temp_dir().join(format!("dynasim-fuzz-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut findings = Vec::new();
    let mut to_run: Vec<(String, Vec<u8>)> = Vec::new();
    let (mut valid, mut total) = (0, 0);
    for (s, (name, base)) in shipped().into_iter().enumerate() {
        let mut rng = Rng(seed ^ (s as u64) << 32);
        let mut runnable = Vec::new();
        let mut rejected = Vec::new();
        for i in 0..cases {
            let text = mutate(&mut rng, &base);
            total += 1;
            match validate_in_process(&text, &dir) {
                Ok(true) => {
                    valid += 1;
                    runnable.push(text);
                }
                Ok(false) => rejected.push(text),
                Err(why) => {
                    let f = dir.join(format!("{name}-{i}.json"));
                    std::fs::write(&f, &text).expect("write");
                    findings.push(format!(
                        "{name} mutant {i} (seed {seed}, {}): {why}",
                        f.display()
                    ));
                }
            }
        }
        // Some rejected ones run too: exit 2 must name a path or a line.
        for (i, text) in rejected.into_iter().take(runs).enumerate() {
            to_run.push((format!("{name}-rejected-{i}"), text));
        }
        for (i, mut text) in runnable.into_iter().take(runs).enumerate() {
            // A few simulated seconds, so a debug build runs it quickly;
            // fault times shrink with the run.
            if let Ok(mut v) = serde_json::from_slice::<Value>(&text) {
                let d = v["duration_s"].as_f64().unwrap_or(1.0);
                if d > 3.0 {
                    v["duration_s"] = json!(3.0);
                    for section in ["faults", "nemesis"] {
                        if let Some(x) = v.get_mut(section) {
                            scale_times(x, 3.0 / d);
                        }
                    }
                }
                if v["quiescence"].is_object() {
                    v["quiescence"]["duration_s"] = json!(1);
                }
                text = serde_json::to_vec(&v).expect("json");
            }
            to_run.push((format!("{name}-{i}"), text));
        }
    }
    assert!(
        valid > 0 && valid < total,
        "{valid} of {total} mutants valid: the mutations reach both sides"
    );
    let results: Vec<(String, Result<String, String>)> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<(String, Vec<u8>)>> = {
            let mut c = vec![Vec::new(), Vec::new()];
            for (i, item) in to_run.into_iter().enumerate() {
                c[i % 2].push(item);
            }
            c
        };
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let dir = &dir;
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(name, text)| {
                            let f: PathBuf = dir.join(format!("{name}.json"));
                            std::fs::write(&f, &text).expect("write");
                            let r = run_binary(&f, &dir.join(format!("{name}-out")));
                            (format!("{name} ({})", f.display()), r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("runner thread"))
            .collect()
    });
    for (name, r) in &results {
        match r {
            Ok(what) => println!("{name}: {what}"),
            Err(why) => findings.push(format!("{name} (seed {seed}): {why}")),
        }
    }
    println!(
        "fuzz seed {seed}: {total} mutants validated ({valid} valid within the budget), {} run",
        results.len()
    );
    assert!(
        findings.is_empty(),
        "{} finding(s):\n{}",
        findings.len(),
        findings.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
