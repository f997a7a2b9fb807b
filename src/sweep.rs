//! `dynasim sweep` and `dynasim merge`: many runs of one scenario over seeds
//! and parameter values, in parallel, aggregated per parameter point.
//!
//! Also the `--set PATH=VALUE` machinery shared with `run` and `shrink`:
//! assignments are applied to the scenario as a JSON document before it is
//! parsed, so every field of the format is settable and errors name the path.
//!
//! Determinism: runs are numbered point-major (point 0 seed A, point 0 seed
//! A+1, ...), results are sorted by run number before anything is written,
//! and a shard `I/N` runs exactly the runs whose number is `I-1` modulo `N`.
//! The output never depends on `--jobs`, on completion order or on sharding.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde_json::{json, Value as Json};
use sim_core::config::Scenario;

use crate::load::{check_budget, load_document, read_document, simulate, Outcome};
use crate::options::{MergeArgs, SweepArgs};
use crate::outputs::{Kind, OutDir};
use reports::sweep::{csv_field, csv_number};

/// Version of the sweep.json layout.
const SWEEP_VERSION: u32 = 2;
/// The raw per-run records of an output directory (what `merge` reads).
const RUNS_FILE: &str = "sweep-runs.json";

// ------------------------------------------------------------ --set paths

enum Seg {
    Key(String),
    Index(usize),
}

/// Parses `a.b[2].c` (and `a["x.y"]` for keys with dots).
fn parse_path(path: &str) -> Result<Vec<Seg>> {
    let mut segs = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    let mut key = String::new();
    let bad = |why: &str| anyhow::anyhow!("--set {path}: bad path ({why})");
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if key.is_empty() && !matches!(segs.last(), Some(Seg::Index(_)) | Some(Seg::Key(_)))
                {
                    return Err(bad("empty field name"));
                }
                if !key.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                }
                i += 1;
                if i == chars.len() || chars[i] == '.' {
                    return Err(bad("empty field name"));
                }
            }
            '[' => {
                if !key.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                }
                let close = chars[i..]
                    .iter()
                    .position(|c| *c == ']')
                    .ok_or_else(|| bad("unclosed ["))?;
                let inner: String = chars[i + 1..i + close].iter().collect();
                if let Some(quoted) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    segs.push(Seg::Key(quoted.to_string()));
                } else {
                    let n = inner
                        .parse::<usize>()
                        .map_err(|_| bad(&format!("[{inner}] is not an array index")))?;
                    segs.push(Seg::Index(n));
                }
                i += close + 1;
            }
            c => {
                key.push(c);
                i += 1;
            }
        }
    }
    if !key.is_empty() {
        segs.push(Seg::Key(key));
    }
    if segs.is_empty() {
        return Err(bad("empty"));
    }
    Ok(segs)
}

/// Sets `path` in `doc` to `value`. Missing object fields are created (the
/// parser then rejects unknown ones); indexing into a non-container or past
/// the end of an array is an error naming the path.
pub(crate) fn apply_set(doc: &mut Json, path: &str, value: Json) -> Result<()> {
    let segs = parse_path(path)?;
    let mut cur = doc;
    let mut walked = String::new();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        match seg {
            Seg::Key(k) => {
                if cur.is_null() {
                    *cur = json!({});
                }
                let what = kind_of(cur);
                let Some(obj) = cur.as_object_mut() else {
                    bail!(
                        "--set {path}: {} is {what}, not an object",
                        if walked.is_empty() { "(root)" } else { &walked }
                    );
                };
                if last {
                    obj.insert(k.clone(), value);
                    return Ok(());
                }
                cur = obj.entry(k.clone()).or_insert(Json::Null);
                if !walked.is_empty() {
                    walked.push('.');
                }
                walked.push_str(k);
            }
            Seg::Index(n) => {
                let what = kind_of(cur);
                let Some(arr) = cur.as_array_mut() else {
                    bail!(
                        "--set {path}: {} is {what}, not an array",
                        if walked.is_empty() { "(root)" } else { &walked }
                    );
                };
                if *n >= arr.len() {
                    bail!("--set {path}: {walked} has {} item(s), no [{n}]", arr.len());
                }
                if last {
                    arr[*n] = value;
                    return Ok(());
                }
                cur = &mut arr[*n];
                walked.push_str(&format!("[{n}]"));
            }
        }
    }
    Ok(())
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A value: JSON if it parses, else the text as a string.
fn parse_value(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string()))
}

/// Splits `1,2,[3,4],{"a":1,"b":2}` on top-level commas.
fn split_values(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
    for c in text.chars() {
        if in_str {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

fn split_assignment(arg: &str) -> Result<(String, &str)> {
    let Some((path, value)) = arg.split_once('=') else {
        bail!("--set {arg}: expected PATH=VALUE");
    };
    let path = path.trim();
    parse_path(path)?;
    Ok((path.to_string(), value))
}

/// `PATH=VALUE` (one value, as `run --set`).
pub(crate) fn parse_single(arg: &str) -> Result<(String, Json)> {
    let (path, value) = split_assignment(arg)?;
    Ok((path, parse_value(value)))
}

/// `PATH=V1,V2,...` (as `sweep --set`).
fn parse_multi(arg: &str) -> Result<(String, Vec<Json>)> {
    let (path, values) = split_assignment(arg)?;
    let values: Vec<Json> = split_values(values)
        .iter()
        .map(|v| parse_value(v))
        .collect();
    Ok((path, values))
}

/// The command-line form of a value: strings that would not parse as JSON
/// are written bare, everything else as JSON.
fn value_arg(v: &Json) -> String {
    match v {
        Json::String(s) if serde_json::from_str::<Json>(s).is_err() => s.clone(),
        _ => v.to_string(),
    }
}

/// Quotes a shell word when needed.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// ` (with --set a=1 --set b=2)` for error messages.
pub(crate) fn sets_context(sets: &[(String, Json)]) -> String {
    if sets.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = sets
        .iter()
        .map(|(p, v)| format!("--set {p}={}", value_arg(v)))
        .collect();
    format!(" (with {})", parts.join(" "))
}

/// `dynasim run FILE --seed N --set PATH=VALUE...`.
pub(crate) fn repro_command(file: &Path, seed: u64, sets: &[(String, Json)]) -> String {
    let mut cmd = format!(
        "dynasim run {} --seed {seed}",
        shell_quote(&file.display().to_string())
    );
    for (p, v) in sets {
        cmd.push_str(&format!(
            " --set {}",
            shell_quote(&format!("{p}={}", value_arg(v)))
        ));
    }
    cmd
}

// ------------------------------------------------------------ the sweep

/// The most runs one sweep process performs (its shard's share): every
/// run's record is kept until the outputs are written.
pub const MAX_RUNS_PER_SWEEP: u64 = 1_000_000;
/// The most runs a sweep may have in all shards together.
pub const MAX_RUNS_TOTAL: u64 = 1 << 40;

/// The seeds of a sweep: a range, never materialised (a sweep walks it by
/// index), or a list written out on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seeds {
    /// `first..=last`.
    Range {
        /// The first seed.
        first: u64,
        /// The last seed (included).
        last: u64,
    },
    /// `a,b,c` or one seed.
    List(Vec<u64>),
}

impl Seeds {
    /// How many seeds (a full u64 range has 2^64).
    pub fn count(&self) -> u128 {
        match self {
            Seeds::Range { first, last } => u128::from(*last) - u128::from(*first) + 1,
            Seeds::List(l) => l.len() as u128,
        }
    }

    /// The `i`-th seed.
    ///
    /// # Panics
    /// If `i` is not below [`Seeds::count`].
    pub fn nth(&self, i: u64) -> u64 {
        match self {
            Seeds::Range { first, last } => {
                let s = first.checked_add(i).expect("a seed index within the range");
                assert!(s <= *last, "a seed index within the range");
                s
            }
            Seeds::List(l) => l[i as usize],
        }
    }

    /// The canonical text: `A..=B` or `a,b,c`.
    pub fn describe(&self) -> String {
        match self {
            Seeds::Range { first, last } => format!("{first}..={last}"),
            Seeds::List(l) => l.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        }
    }
}

/// Parses `A..B`, `A..=B`, `N` or `N,M,...` without materialising ranges.
pub fn parse_seeds(text: &str) -> Result<Seeds> {
    let num = |s: &str| {
        s.trim().parse::<u64>().with_context(|| {
            format!("--seeds {text}: {s:?} is not a seed (0..=18446744073709551615)")
        })
    };
    let empty =
        || anyhow::anyhow!("--seeds {text}: no seeds (A..B excludes B; use A..=B to include it)");
    let seeds = if let Some((a, b)) = text.split_once("..=") {
        let (first, last) = (num(a)?, num(b)?);
        if last < first {
            return Err(empty());
        }
        Seeds::Range { first, last }
    } else if let Some((a, b)) = text.split_once("..") {
        let (first, end) = (num(a)?, num(b)?);
        if end <= first {
            return Err(empty());
        }
        Seeds::Range {
            first,
            last: end - 1,
        }
    } else {
        let list = text.split(',').map(num).collect::<Result<Vec<_>>>()?;
        if list.is_empty() {
            return Err(empty());
        }
        Seeds::List(list)
    };
    Ok(seeds)
}

/// Parses `I/N` (1-based).
fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((i, n)) if n >= 1 && (1..=n).contains(&i) => Ok((i, n)),
        _ => bail!("--shard {text}: expected I/N with 1 <= I <= N"),
    }
}

/// The cartesian product of the parameter values, first `--set` slowest.
fn points(params: &[(String, Vec<Json>)]) -> Vec<Vec<(String, Json)>> {
    let mut out: Vec<Vec<(String, Json)>> = vec![Vec::new()];
    for (path, values) in params {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((path.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    out
}

fn point_label(point: &[(String, Json)]) -> String {
    if point.is_empty() {
        return "base".to_string();
    }
    point
        .iter()
        .map(|(p, v)| format!("{p}={}", value_arg(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn point_dir(index: usize, label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{index:03}_{clean}")
}

/// Reports progress: a bar on a terminal, a line per tenth otherwise.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    done: AtomicUsize,
    total: usize,
    what: &'static str,
}

impl Progress {
    pub(crate) fn new(total: usize, what: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} runs (eta {eta})",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix(what);
            bar
        });
        Progress {
            bar,
            done: AtomicUsize::new(0),
            total,
            what,
        }
    }

    pub(crate) fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                let step = self.total.div_ceil(10).max(1);
                if done % step == 0 || done == self.total {
                    eprintln!("{}: {done}/{} runs done", self.what, self.total);
                }
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub(crate) fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    let jobs = match jobs {
        Some(0) => bail!("--jobs must be at least 1"),
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting the worker threads")
}

/// Memory a run's record takes until the sweep's outputs are written
/// (its metrics, histograms and t-visibility points, as JSON values).
const BYTES_PER_RUN_RECORD: u64 = 16 << 10;

/// MD5 of `bytes`, hex.
fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A content hash of the running `dynasim` binary: shards merge only when
/// built by the same one.
fn binary_hash() -> Result<String> {
    let exe = std::env::current_exe().context("locating the dynasim binary")?;
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    Ok(md5_hex(&bytes))
}

/// A content hash of what a sweep runs: every point's validated scenario
/// (so the scenario file, the files it references and the `--set` values),
/// not the file's path.
fn scenarios_hash(scenarios: &[Scenario]) -> String {
    let mut text = String::new();
    for s in scenarios {
        let mut s = s.clone();
        s.rng_seed = 0;
        text.push_str(&format!("{s:?}\n"));
    }
    md5_hex(text.as_bytes())
}

/// `dynasim sweep`.
pub fn sweep(args: &SweepArgs) -> Result<Outcome> {
    let params = args
        .set
        .iter()
        .map(|a| parse_multi(a))
        .collect::<Result<Vec<_>>>()?;
    for (i, (p, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(q, _)| q == p) {
            bail!("--set {p} is given twice");
        }
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let doc = read_document(&args.file)?;
    let seeds = match &args.seeds {
        Some(s) => parse_seeds(s)?,
        None => Seeds::List(vec![doc["rng_seed"].as_u64().unwrap_or(1)]),
    };
    let points = points(&params);
    let total = seeds.count() * points.len() as u128;
    let shard_count = shard.map_or(1, |(_, n)| n as u128);
    let in_shard = total.div_ceil(shard_count);
    if total > u128::from(MAX_RUNS_TOTAL) || in_shard > u128::from(MAX_RUNS_PER_SWEEP) {
        bail!(
            "--seeds {}: {total} runs ({} seed(s) × {} point(s)){}; expected at most {MAX_RUNS_PER_SWEEP} per sweep process (split it with --shard I/N) and {MAX_RUNS_TOTAL} in all",
            seeds.describe(),
            seeds.count(),
            points.len(),
            shard.map_or(String::new(), |(_, n)| format!(", about {in_shard} in each of {n} shards")),
        );
    }
    let total = total as u64;
    let seed_count = seeds.count() as u64;
    let pool = thread_pool(args.jobs)?;
    let parallel = (pool.current_num_threads() as u64).clamp(1, in_shard.max(1) as u64);
    // Validate every point before running anything; each must fit its share
    // of the memory budget (runs go `parallel` at a time, and the records
    // are kept until the end).
    let records_bytes = (in_shard as u64).saturating_mul(BYTES_PER_RUN_RECORD);
    let mut budget = args.limits.budget();
    budget.memory_bytes = budget.memory_bytes.saturating_sub(records_bytes) / parallel;
    let note = format!(
        " (a sweep's budget: {parallel} run(s) at a time share --max-memory-mb, after {} for {in_shard} run records)",
        crate::budget::fmt_bytes(records_bytes as f64)
    );
    let metrics = metric_list(&args.metric)?;
    let mut scenarios: Vec<Scenario> = Vec::new();
    for point in &points {
        let mut d = doc.clone();
        for (path, value) in point {
            apply_set(&mut d, path, value.clone())?;
        }
        let context = sets_context(point);
        let scenario = load_document(&args.file, &d, &context)?;
        check_budget(&args.file, &context, &scenario, &budget, &note)?;
        scenarios.push(scenario);
    }
    let name = scenarios[0].name.clone();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("sweep-{name}")));
    let spec = json!({
        "file": args.file.display().to_string(),
        "scenario_md5": scenarios_hash(&scenarios),
        "dynasim_md5": binary_hash()?,
        "dynasim_version": env!("CARGO_PKG_VERSION"),
        "dynasim_commit": reports::COMMIT,
        "params": params.iter().map(|(p, v)| json!({"path": p, "values": v})).collect::<Vec<_>>(),
        "seeds": seeds.describe(),
        "seed_count": seed_count,
        "metrics": metrics,
        "runs_total": total,
    });
    let dir = OutDir::prepare(&out, Kind::Sweep)?;
    let progress = Progress::new(in_shard as usize, "sweep");
    // Runs are numbered point-major and streamed: nothing proportional to
    // the seed range is built before running.
    let mut runs: Vec<Json> = pool.install(|| {
        (0..total)
            .into_par_iter()
            .filter(|run| shard.is_none_or(|(i, n)| run % n as u64 == i as u64 - 1))
            .map(|run| {
                let p = (run / seed_count) as usize;
                let seed = seeds.nth(run % seed_count);
                let mut scenario = scenarios[p].clone();
                scenario.rng_seed = seed;
                let record =
                    reports::sweep::run_record(&simulate(scenario, &args.limits), &metrics);
                progress.inc();
                json!({"run": run, "point": p, "seed": seed, "record": record})
            })
            .collect()
    });
    progress.finish();
    runs.sort_by_key(|r| r["run"].as_u64());
    let shard_json = shard.map(|(i, n)| json!({"index": i, "count": n}));
    let outcome = write_outputs(&spec, &runs, shard_json, &dir, !args.no_plots)?;
    dir.finish()?;
    Ok(outcome)
}

/// The parts of a sweep's spec that must agree for shards to merge: what
/// was run (content hashes of the scenarios and of the binary), the
/// parameters and the seeds. The scenario's path may differ.
fn merge_key(spec: &Json) -> Json {
    let mut key = spec.clone();
    if let Some(o) = key.as_object_mut() {
        o.remove("file");
    }
    key
}

/// `dynasim merge`.
pub fn merge(args: &MergeArgs) -> Result<Outcome> {
    let mut spec: Option<Json> = None;
    let mut by_run: BTreeMap<u64, Json> = BTreeMap::new();
    for dir in &args.dirs {
        let path = dir.join(RUNS_FILE);
        let text = crate::load::read_text(&path, 1 << 34).map_err(|e| {
            anyhow::anyhow!(
                "reading {} (a `dynasim sweep` output?): {e}",
                path.display()
            )
        })?;
        let data: Json =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        anyhow::ensure!(
            data["spec"]["scenario_md5"].is_string() && data["spec"]["dynasim_md5"].is_string(),
            "{}: written by an older dynasim without content hashes; re-run that shard",
            path.display()
        );
        match &spec {
            None => spec = Some(data["spec"].clone()),
            Some(s) if merge_key(s) != merge_key(&data["spec"]) => {
                let what = if s["scenario_md5"] != data["spec"]["scenario_md5"] {
                    "the scenario's contents differ (scenario_md5)"
                } else if s["dynasim_md5"] != data["spec"]["dynasim_md5"] {
                    "a different dynasim binary ran it (dynasim_md5)"
                } else {
                    "the --set values or seeds differ"
                };
                bail!(
                    "{}: a different sweep from {}: {what}",
                    dir.display(),
                    args.dirs[0].display()
                )
            }
            Some(_) => {}
        }
        for r in data["runs"].as_array().into_iter().flatten() {
            let run = r["run"].as_u64().context("run without a number")?;
            if let Some(prev) = by_run.insert(run, r.clone()) {
                if prev != *r {
                    bail!(
                        "run {run} appears twice with different results ({})",
                        dir.display()
                    );
                }
            }
        }
    }
    let spec = spec.context("no input directories")?;
    let total = spec["runs_total"].as_u64().unwrap_or(0);
    let present = by_run.range(..total).count() as u64;
    if present < total {
        let first = (0..total)
            .find(|r| !by_run.contains_key(r))
            .expect("a run is missing");
        bail!(
            "{} of {total} runs missing (first: run {first}); merge every shard's directory",
            total - present
        );
    }
    let runs: Vec<Json> = by_run.into_values().collect();
    let dir = OutDir::prepare(&args.out, Kind::Sweep)?;
    let outcome = write_outputs(&spec, &runs, None, &dir, !args.no_plots)?;
    dir.finish()?;
    Ok(outcome)
}

/// The metrics of a sweep: `--metric` paths in the order given (each
/// once), or the default ten.
pub(crate) fn metric_list(requested: &[String]) -> Result<Vec<String>> {
    if requested.is_empty() {
        return Ok(reports::sweep::default_metrics());
    }
    let mut out: Vec<String> = Vec::new();
    for m in requested.iter().flat_map(|m| m.split(',')).map(str::trim) {
        reports::sweep::check_metric_path(m).map_err(|e| anyhow::anyhow!("--metric {e}"))?;
        if !out.iter().any(|o| o == m) {
            out.push(m.to_string());
        }
    }
    Ok(out)
}

/// The metrics a sweep's spec names (older sweeps: the default ten).
fn spec_metrics(spec: &Json) -> Vec<String> {
    match spec["metrics"].as_array() {
        Some(a) => a
            .iter()
            .filter_map(Json::as_str)
            .map(String::from)
            .collect(),
        None => reports::sweep::default_metrics(),
    }
}

/// Writes sweep.json, sweep.csv, points.csv, points/*/summary.json, the
/// raw records and the overlays, prints the point table and the failures.
fn write_outputs(
    spec: &Json,
    runs: &[Json],
    shard: Option<Json>,
    dir: &OutDir,
    plots: bool,
) -> Result<Outcome> {
    let out = dir.dir();
    let file = PathBuf::from(spec["file"].as_str().unwrap_or_default());
    let params: Vec<(String, Vec<Json>)> = spec["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["path"].as_str().unwrap_or_default().to_string(),
                p["values"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect();
    let points = points(&params);
    let metrics = spec_metrics(spec);

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let mut csv = String::from("run,point,label");
    for (p, _) in &params {
        csv.push(',');
        csv.push_str(&csv_field(p));
    }
    csv.push_str(",seed,trace_hash");
    for m in &metrics {
        csv.push(',');
        csv.push_str(&csv_field(m));
    }
    csv.push_str(",expect_pass,failed\n");
    for r in runs {
        let p = r["point"].as_u64().unwrap_or(0) as usize;
        let point = &points[p];
        let label = point_label(point);
        let seed = r["seed"].as_u64().unwrap_or(0);
        let rec = &r["record"];
        let failed = rec["failed"].clone();
        let pass = rec["expect_pass"].as_bool().unwrap_or(false);
        let param_obj: serde_json::Map<String, Json> = point.iter().cloned().collect();
        rows.push(json!({
            "run": r["run"], "point": p, "label": label, "params": param_obj, "seed": seed,
            "trace_hash": rec["trace_hash"], "metrics": rec["metrics"],
            "expect_pass": pass, "failed": failed,
        }));
        if !pass {
            failures.push(json!({
                "run": r["run"], "point": p, "label": label, "seed": seed, "failed": failed,
                "repro": repro_command(&file, seed, point),
            }));
        }
        csv.push_str(&format!("{},{p},{}", r["run"], csv_field(&label)));
        for (_, v) in point {
            csv.push(',');
            csv.push_str(&csv_field(&value_arg(v)));
        }
        csv.push_str(&format!(
            ",{seed},{}",
            rec["trace_hash"].as_str().unwrap_or_default()
        ));
        for m in &metrics {
            csv.push(',');
            csv.push_str(&csv_number(&rec["metrics"][m.as_str()]));
        }
        let names: Vec<&str> = failed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        csv.push_str(&format!(",{pass},{}\n", csv_field(&names.join(" "))));
    }

    let mut aggregates = Vec::new();
    let mut merged_summaries = Vec::new();
    let mut merged_points = Vec::new();
    let mut points_csv = String::from("point,label,runs,failed_runs");
    for m in &metrics {
        for part in ["mean", "ci95_lo", "ci95_hi"] {
            points_csv.push(',');
            points_csv.push_str(&csv_field(&format!("{m}.{part}")));
        }
    }
    points_csv.push_str(",merged.get.p99_ms,merged.put.p99_ms\n");
    for (p, point) in points.iter().enumerate() {
        let records: Vec<&Json> = runs
            .iter()
            .filter(|r| r["point"].as_u64() == Some(p as u64))
            .map(|r| &r["record"])
            .collect();
        if records.is_empty() {
            continue;
        }
        let label = point_label(point);
        let merged = reports::sweep::merged_summary(&records, &label);
        let agg = reports::sweep::point_aggregate(&records, &merged, &metrics);
        let pdir = out.join("points").join(point_dir(p, &label));
        std::fs::create_dir_all(&pdir).with_context(|| format!("creating {}", pdir.display()))?;
        reports::files::write_atomic(
            &pdir.join("summary.json"),
            (reports::json_text::pretty(&merged)? + "\n").as_bytes(),
        )?;
        points_csv.push_str(&format!(
            "{p},{},{},{}",
            csv_field(&label),
            agg["runs"],
            agg["failed_runs"]
        ));
        for m in &metrics {
            let s = &agg["metrics"][m.as_str()];
            points_csv.push_str(&format!(
                ",{},{},{}",
                csv_number(&s["mean"]),
                csv_number(&s["ci95"][0]),
                csv_number(&s["ci95"][1])
            ));
        }
        points_csv.push_str(&format!(
            ",{},{}\n",
            csv_number(&agg["merged"]["latency"]["get"]["p99_ms"]),
            csv_number(&agg["merged"]["latency"]["put"]["p99_ms"])
        ));
        let param_obj: serde_json::Map<String, Json> = point.iter().cloned().collect();
        let mut a = json!({"point": p, "label": label, "params": param_obj, "dir": format!("points/{}", point_dir(p, &label))});
        if let (Some(a), Some(b)) = (a.as_object_mut(), agg.as_object()) {
            a.extend(b.clone());
        }
        aggregates.push(a);
        merged_summaries.push(merged);
        merged_points.push(p);
    }

    let mut doc = json!({
        "sweep_version": SWEEP_VERSION,
        "file": spec["file"],
        "params": spec["params"],
        "seeds": spec["seeds"],
        "seed_count": spec["seed_count"],
        "scenario_md5": spec["scenario_md5"],
        "dynasim_md5": spec["dynasim_md5"],
        "runs_total": spec["runs_total"],
    });
    let obj = doc.as_object_mut().expect("object");
    if let Some(s) = &shard {
        obj.insert("shard".into(), s.clone());
        obj.insert("runs_in_shard".into(), json!(runs.len()));
    }
    obj.insert("metrics".into(), json!(metrics));
    obj.insert("runs".into(), json!(rows));
    obj.insert("points".into(), json!(aggregates));
    obj.insert("failures".into(), json!(failures));
    let write = |name: &str, text: String| -> Result<()> { dir.write(name, text.as_bytes()) };
    write("sweep.json", reports::json_text::pretty(&doc)? + "\n")?;
    write("sweep.csv", csv)?;
    write("points.csv", points_csv)?;
    write(
        RUNS_FILE,
        serde_json::to_string(&json!({"spec": spec, "shard": shard, "runs": runs}))? + "\n",
    )?;
    if plots && !merged_summaries.is_empty() {
        reports::render::write_overlays(&merged_summaries, out)
            .with_context(|| format!("writing plots to {}", out.display()))?;
        // One numeric parameter (an arrival rate, a node count): latency
        // against it, e.g. latency against offered load.
        let numeric: Option<Vec<(f64, Json)>> = merged_points
            .iter()
            .map(|p| &points[*p])
            .zip(&merged_summaries)
            .map(|(point, merged)| match point.as_slice() {
                [(_, v)] => v.as_f64().map(|x| (x, merged.clone())),
                _ => None,
            })
            .collect();
        if let (Some(pts), Some(name)) = (numeric, points.first().and_then(|p| p.first())) {
            reports::render::write_latency_vs_parameter(&pts, &name.0, out)
                .with_context(|| format!("writing plots to {}", out.display()))?;
        }
    }

    // The console report.
    println!(
        "sweep {}: {} run(s){} over {} point(s)",
        file.display(),
        runs.len(),
        shard
            .as_ref()
            .map(|s| format!(" (shard {}/{})", s["index"], s["count"]))
            .unwrap_or_default(),
        aggregates.len()
    );
    println!(
        "  {:<40} {:>5} {:>6} {:>12} {:>10} {:>10} {:>8} {:>8}",
        "point", "runs", "failed", "availability", "get p99ms", "put p99ms", "stale", "lost"
    );
    for a in &aggregates {
        let m = &a["merged"];
        let f = |v: &Json, d: usize| v.as_f64().map_or("-".into(), |x| format!("{x:.d$}"));
        println!(
            "  {:<40} {:>5} {:>6} {:>12} {:>10} {:>10} {:>8} {:>8}",
            a["label"].as_str().unwrap_or_default(),
            a["runs"].to_string(),
            a["failed_runs"].to_string(),
            f(&m["availability"], 5),
            f(&m["latency"]["get"]["p99_ms"], 3),
            f(&m["latency"]["put"]["p99_ms"], 3),
            f(&m["stale_read_fraction"], 4),
            m["durability_lost"].to_string(),
        );
    }
    if metrics != reports::sweep::default_metrics() {
        for m in &metrics {
            println!("  {m} (mean [95 % CI] over the runs):");
            for a in &aggregates {
                let st = &a["metrics"][m.as_str()];
                let f = |v: &Json| v.as_f64().map_or("-".into(), |x| format!("{x:.6}"));
                println!(
                    "    {:<40} {} [{}, {}]  n={}",
                    a["label"].as_str().unwrap_or_default(),
                    f(&st["mean"]),
                    f(&st["ci95"][0]),
                    f(&st["ci95"][1]),
                    st["n"]
                );
            }
        }
    }
    for m in &metrics {
        if !rows.iter().any(|r| r["metrics"][m.as_str()].is_number()) {
            eprintln!(
                "warning: --metric {m}: no run's summary has a number there (check the path against a run's summary.json)"
            );
        }
    }
    for f in &failures {
        let names: Vec<&str> = f["failed"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        println!(
            "FAIL run {} ({}, seed {}): {}\n  reproduce: {}",
            f["run"],
            f["label"].as_str().unwrap_or_default(),
            f["seed"],
            names.join(", "),
            f["repro"].as_str().unwrap_or_default()
        );
    }
    println!("results: {}", out.display());
    let incomplete = failures
        .iter()
        .filter(|f| {
            f["failed"]
                .as_array()
                .is_some_and(|a| a.iter().any(|m| m == reports::report::INCOMPLETE_METRIC))
        })
        .count();
    if incomplete > 0 {
        println!(
            "INCOMPLETE: {incomplete} run(s) stopped before their end (max_events, --max-wall-s or --max-memory-mb); their results cover only part of the scenario"
        );
        Ok(Outcome::Incomplete)
    } else if failures.is_empty() {
        Ok(Outcome::Ok)
    } else {
        println!("{} run(s) failed their expectations", failures.len());
        Ok(Outcome::ExpectFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_paths_reach_fields_and_array_items_and_name_bad_paths() {
        let mut doc = json!({"cluster": {"quorum": {"r": 2}}, "faults": [{"at_s": 1}]});
        apply_set(&mut doc, "cluster.quorum.r", json!(1)).expect("set");
        apply_set(&mut doc, "faults[0].for_s", json!(2.5)).expect("set");
        apply_set(&mut doc, r#"expect["durability.lost"].max"#, json!(0)).expect("set");
        assert_eq!(doc["cluster"]["quorum"]["r"], json!(1));
        assert_eq!(doc["faults"][0]["for_s"], json!(2.5));
        assert_eq!(doc["expect"]["durability.lost"]["max"], json!(0));
        let e = apply_set(&mut doc, "faults[3].at_s", json!(1)).expect_err("out of range");
        assert!(e.to_string().contains("faults[3].at_s"), "{e}");
        let e = apply_set(&mut doc, "cluster.quorum.r.x", json!(1)).expect_err("a number");
        assert!(e.to_string().contains("cluster.quorum.r"), "{e}");
    }

    #[test]
    fn values_split_on_top_level_commas_and_fall_back_to_strings() {
        let (p, v) = parse_multi(r#"a.b=1,[2,3],{"x":1,"y":2},last_write_wins"#).expect("ok");
        assert_eq!(p, "a.b");
        assert_eq!(
            v,
            vec![
                json!(1),
                json!([2, 3]),
                json!({"x":1,"y":2}),
                json!("last_write_wins")
            ]
        );
        assert_eq!(value_arg(&json!("last_write_wins")), "last_write_wins");
        assert_eq!(value_arg(&json!("1")), "\"1\"");
    }

    #[test]
    fn seeds_and_shards_parse() {
        let all = |s: &Seeds| (0..s.count() as u64).map(|i| s.nth(i)).collect::<Vec<_>>();
        assert_eq!(all(&parse_seeds("1..4").expect("ok")), vec![1, 2, 3]);
        assert_eq!(all(&parse_seeds("1..=3").expect("ok")), vec![1, 2, 3]);
        assert_eq!(all(&parse_seeds("7").expect("ok")), vec![7]);
        assert_eq!(all(&parse_seeds("5,1,9").expect("ok")), vec![5, 1, 9]);
        assert!(parse_seeds("3..3").is_err());
        assert!(parse_seeds("3..=2").is_err());
        assert!(parse_seeds("1..=18446744073709551616").is_err());
        assert_eq!(parse_shard("2/3").expect("ok"), (2, 3));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
    }

    #[test]
    fn the_whole_u64_seed_range_is_counted_not_built() {
        let s = parse_seeds("0..=18446744073709551615").expect("ok");
        assert_eq!(s.count(), 1u128 << 64);
        assert_eq!(s.nth(u64::MAX), u64::MAX);
        assert_eq!(s.describe(), "0..=18446744073709551615");
        let s = parse_seeds("1..=100000000").expect("ok");
        assert_eq!(s.count(), 100_000_000);
        assert_eq!(s.nth(99_999_999), 100_000_000);
    }
}
