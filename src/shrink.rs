//! `dynasim shrink` (test-case reduction of a failing scenario) and
//! `dynasim explore` (swarm testing with random nemesis faults).
//!
//! Shrinking works on the scenario as a JSON document: greedy passes of
//! candidate reductions (drop the nemesis and faults, shorten fault windows,
//! fewer nodes, clients and keys, shorter duration and quiescence, lower
//! rate, constant latencies), each tried as a normal deterministic run and
//! kept when at least one originally failing expectation still fails with
//! the same kind of finding ([`signature`]: for lost writes and divergent
//! replicas, not one made by a node crashing, restarting or a partition
//! healing at the run's last instant), so the search cannot drift to a
//! trivial failure.
//! Candidates the validator rejects (a fault naming a removed node, a quorum
//! larger than the cluster) cost nothing; every run counts against the
//! budget. The candidate order is fixed, so the search is deterministic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};

use crate::guard::Limits;
use crate::load::{check_budget, load_document, read_document, simulate, Outcome};
use crate::options::ShrinkArgs;
use crate::sweep::{apply_set, parse_single, repro_command, sets_context};

/// How a run failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The metrics of every failing expectation.
    pub failed: BTreeSet<String>,
    /// Those whose finding is of the kind the expectation is about (see
    /// [`signature`]).
    pub signature: BTreeSet<String>,
}

impl Failure {
    /// Whether the run failed at all.
    pub fn fails(&self) -> bool {
        !self.failed.is_empty()
    }

    /// What a smaller candidate must keep failing: the signature, or when
    /// the run's own failures are all made at its last instant, the
    /// failing expectations (and whether the signature is what counts).
    pub fn target(&self) -> (BTreeSet<String>, bool) {
        if self.signature.is_empty() {
            (self.failed.clone(), false)
        } else {
            (self.signature.clone(), true)
        }
    }
}

/// How a run of `doc` at its rng_seed fails, or `None` when the document
/// is not a valid scenario.
pub(crate) fn failing(file: &Path, doc: &Json, limits: &Limits) -> Option<Failure> {
    let scenario = load_document(file, doc, "").ok()?;
    check_budget(file, "", &scenario, &limits.budget(), "").ok()?;
    let summary = simulate(scenario, limits);
    Some(Failure {
        failed: reports::report::verdicts(&summary)
            .into_iter()
            .filter(|v| !v.pass)
            .map(|v| v.metric)
            .collect(),
        signature: signature(&summary),
    })
}

/// How close to the end of a run (seconds) an event counts as at its last
/// instant: a millisecond, the finest step of a shrunk time.
pub const LAST_INSTANT_S: f64 = 0.001;

/// Whether a fault whose action starts with one of `kinds` (`crash `,
/// `restart `, `heal `) happens at the last instant of the run
/// (within [`LAST_INSTANT_S`] of `run.end_time_s`): a fault window or a
/// nemesis downtime cut short by a shortened run, or a quiescence shrunk to
/// (almost) nothing that heals at the end.
pub fn fault_at_end(summary: &Json, kinds: &[&str]) -> bool {
    let Some(end) = summary["run"]["end_time_s"].as_f64() else {
        return false;
    };
    summary["faults"].as_array().into_iter().flatten().any(|f| {
        let action = f["action"].as_str().unwrap_or_default();
        kinds.iter().any(|k| action.starts_with(k))
            && f["at_s"]
                .as_f64()
                .is_some_and(|t| t >= end - LAST_INSTANT_S - 1e-9)
    })
}

/// The failure signature of a run: the metrics of its failing
/// expectations, each kept only when the finding is of the same kind as a
/// real failure of that checker, so that shrinking cannot drift to a
/// trivial failure of the same expectation:
///
/// - lost writes (`durability.*`) count only when some lost write is
///   listed and no node crashes at the run's last instant (a loss made by
///   the end of the run itself, not by what happened during it);
/// - divergent replicas (`convergence.*`, `repair.hints_remaining`) count
///   only when no node crashes or restarts and no partition heals at the
///   run's last instant (a divergence no repair had time to act on).
pub fn signature(summary: &Json) -> BTreeSet<String> {
    let crash_at_end = fault_at_end(summary, &["crash "]);
    let change_at_end = fault_at_end(summary, &["crash ", "restart ", "heal "]);
    let listed_loss = summary["durability"]["lost_writes"]
        .as_array()
        .is_some_and(|l| !l.is_empty());
    reports::report::verdicts(summary)
        .into_iter()
        .filter(|v| !v.pass)
        .filter(|v| match v.metric.split('.').next().unwrap_or_default() {
            "durability" => listed_loss && !crash_at_end,
            "convergence" => !change_at_end,
            _ if v.metric == "repair.hints_remaining" => !change_at_end,
            _ => true,
        })
        .map(|v| v.metric)
        .collect()
}

struct Shrinker<'a> {
    file: &'a Path,
    limits: &'a Limits,
    target: BTreeSet<String>,
    /// Whether a candidate must fail a target with the same kind of
    /// finding ([`signature`]) rather than just fail it.
    strict: bool,
    budget: usize,
    runs: usize,
    best: Json,
    log: Vec<String>,
}

impl Shrinker<'_> {
    fn exhausted(&self) -> bool {
        self.runs >= self.budget
    }

    /// Runs `cand`; keeps it when it still fails one of the target metrics.
    fn try_candidate(&mut self, cand: Json, what: String) -> bool {
        if self.exhausted() || cand == self.best {
            return false;
        }
        if load_document(self.file, &cand, "").is_err() {
            return false;
        }
        self.runs += 1;
        let still = failing(self.file, &cand, self.limits).is_some_and(|f| {
            let kept = if self.strict { &f.signature } else { &f.failed };
            kept.iter().any(|m| self.target.contains(m))
        });
        if still {
            self.best = cand;
            self.log.push(what);
        }
        still
    }

    /// Tries `(candidate, description)` in order; keeps the first that fails.
    fn first_of(&mut self, cands: Vec<(Json, String)>) -> bool {
        for (c, what) in cands {
            if self.try_candidate(c, what) {
                return true;
            }
        }
        false
    }

    fn with(&self, f: impl FnOnce(&mut Json)) -> Json {
        let mut d = self.best.clone();
        f(&mut d);
        d
    }

    fn pass_nemesis(&mut self) -> bool {
        if self.best.get("nemesis").is_none_or(Json::is_null) {
            return false;
        }
        let all = self.with(|d| {
            d.as_object_mut().map(|o| o.remove("nemesis"));
        });
        if self.try_candidate(all, "removed the nemesis".into()) {
            return true;
        }
        let mut progress = false;
        for kind in ["crashes", "partitions", "loss"] {
            if self.best["nemesis"].get(kind).is_some() {
                let c = self.with(|d| {
                    d["nemesis"].as_object_mut().map(|o| o.remove(kind));
                });
                progress |= self.try_candidate(c, format!("removed nemesis.{kind}"));
            }
        }
        progress
    }

    fn faults_without(&self, drop: &[usize]) -> Json {
        self.with(|d| {
            if let Some(a) = d["faults"].as_array_mut() {
                let kept: Vec<Json> = a
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !drop.contains(i))
                    .map(|(_, f)| f.clone())
                    .collect();
                *a = kept;
            }
        })
    }

    fn pass_faults(&mut self) -> bool {
        let n = self.best["faults"].as_array().map_or(0, Vec::len);
        if n == 0 {
            return false;
        }
        let describe = |faults: &Json, idx: &[usize]| -> String {
            idx.iter()
                .map(|i| {
                    let f = &faults[*i];
                    let action = f
                        .as_object()
                        .and_then(|o| o.keys().find(|k| *k != "at_s" && *k != "for_s"))
                        .cloned()
                        .unwrap_or_default();
                    format!("faults[{i}] ({action} at {}s)", f["at_s"])
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        // One at a time (from the end so indices stay meaningful), then halves.
        for i in (0..n).rev() {
            let what = format!("removed {}", describe(&self.best["faults"], &[i]));
            if self.try_candidate(self.faults_without(&[i]), what) {
                return true;
            }
        }
        if n >= 4 {
            for half in [(0..n / 2).collect::<Vec<_>>(), (n / 2..n).collect()] {
                let what = format!("removed {}", describe(&self.best["faults"], &half));
                if self.try_candidate(self.faults_without(&half), what) {
                    return true;
                }
            }
        }
        // Shorter windows.
        let mut progress = false;
        for i in 0..n {
            if let Some(len) = self.best["faults"][i]["for_s"].as_f64() {
                let short = round3(len / 2.0);
                if short > 0.0 {
                    let c = self.with(|d| d["faults"][i]["for_s"] = json!(short));
                    progress |=
                        self.try_candidate(c, format!("faults[{i}].for_s {len} -> {short}"));
                }
            }
        }
        progress
    }

    /// Smaller integer values for the field at `ptr`, most aggressive first.
    fn shrink_int(&mut self, ptr: &str, min: u64, label: &str) -> bool {
        let Some(cur) = self.best.pointer(ptr).and_then(Json::as_u64) else {
            return false;
        };
        let mut cands: Vec<u64> = vec![min, cur / 4, cur / 2];
        if cur <= 16 {
            cands.push(cur.saturating_sub(1));
        }
        cands.retain(|v| *v >= min && *v < cur);
        cands.dedup();
        let tries = cands
            .into_iter()
            .map(|v| {
                let c = self.with(|d| {
                    if let Some(x) = d.pointer_mut(ptr) {
                        *x = json!(v);
                    }
                });
                (c, format!("{label} {cur} -> {v}"))
            })
            .collect();
        self.first_of(tries)
    }

    /// Smaller float values for the field at `ptr` (fractions of it).
    fn shrink_float(&mut self, ptr: &str, default: Option<f64>, floor: f64, label: &str) -> bool {
        let Some(cur) = self.best.pointer(ptr).and_then(Json::as_f64).or(default) else {
            return false;
        };
        let mut cands: Vec<f64> = vec![floor, cur / 4.0, cur / 2.0, cur * 0.75]
            .into_iter()
            .map(round3)
            .collect();
        cands.retain(|v| *v >= floor && *v < cur);
        cands.dedup();
        let tries = cands
            .into_iter()
            .map(|v| {
                let c = self.with(|d| set_pointer(d, ptr, json!(v)));
                (c, format!("{label} {cur} -> {v}"))
            })
            .collect();
        self.first_of(tries)
    }

    /// Removes items of a named list (nodes or clients) one at a time.
    fn shrink_list(&mut self, ptr: &str, label: &str) -> bool {
        let n = self
            .best
            .pointer(ptr)
            .and_then(Json::as_array)
            .map_or(0, Vec::len);
        for i in (0..n).rev() {
            let name = self.best.pointer(ptr).map(|a| a[i]["name"].clone());
            let c = self.with(|d| {
                if let Some(a) = d.pointer_mut(ptr).and_then(Json::as_array_mut) {
                    a.remove(i);
                }
            });
            if self.try_candidate(c, format!("removed {label} {}", name.unwrap_or_default())) {
                return true;
            }
        }
        false
    }

    fn pass_size(&mut self) -> bool {
        let quorum_n = self.best["cluster"]["quorum"]["n"].as_u64().unwrap_or(1);
        let mut p = false;
        p |= self.shrink_int("/cluster/nodes", quorum_n.max(1), "nodes");
        p |= self.shrink_list("/cluster/nodes", "node");
        p |= self.shrink_int("/workload/clients", 1, "clients");
        p |= self.shrink_list("/workload/clients", "client");
        p |= self.shrink_int("/workload/keys/count", 1, "keys");
        p
    }

    fn pass_time(&mut self) -> bool {
        let mut p = false;
        p |= self.shrink_float("/duration_s", None, 0.5, "duration_s");
        p |= self.shrink_float("/quiescence/duration_s", Some(10.0), 0.0, "quiescence");
        p |= self.shrink_float(
            "/workload/arrival/open_loop/rate_per_s",
            None,
            1.0,
            "rate_per_s",
        );
        p
    }

    fn pass_latency(&mut self) -> bool {
        let mut ptrs = Vec::new();
        latency_pointers(&self.best, String::new(), &mut ptrs);
        let ptrs: Vec<(String, f64)> = ptrs
            .into_iter()
            .filter(|(p, _)| {
                self.best
                    .pointer(p)
                    .is_some_and(|v| v.get("constant").is_none())
            })
            .collect();
        if ptrs.is_empty() {
            return false;
        }
        let constant = |ms: f64| json!({"constant": {"ms": round3(ms.max(0.001))}});
        let all = self.with(|d| {
            for (p, mean) in &ptrs {
                set_pointer(d, p, constant(*mean));
            }
        });
        if ptrs.len() > 1
            && self.try_candidate(
                all,
                format!(
                    "{} latency distributions -> constants at their means",
                    ptrs.len()
                ),
            )
        {
            return true;
        }
        let mut progress = false;
        for (p, mean) in &ptrs {
            let c = self.with(|d| set_pointer(d, p, constant(*mean)));
            progress |= self.try_candidate(c, format!("{p} -> constant {} ms", round3(*mean)));
        }
        progress
    }

    fn run(&mut self) {
        loop {
            let mut progress = false;
            progress |= self.pass_nemesis();
            progress |= self.pass_faults();
            progress |= self.pass_size();
            progress |= self.pass_time();
            progress |= self.pass_latency();
            if !progress || self.exhausted() {
                break;
            }
        }
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Sets the value at a JSON pointer, creating missing object fields.
fn set_pointer(doc: &mut Json, ptr: &str, value: Json) {
    let mut cur = doc;
    let parts: Vec<&str> = ptr.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let key = part.replace("~1", "/").replace("~0", "~");
        if i + 1 == parts.len() {
            match cur {
                Json::Array(a) => {
                    if let Some(x) = key.parse::<usize>().ok().and_then(|n| a.get_mut(n)) {
                        *x = value;
                    }
                }
                _ => {
                    if cur.is_null() {
                        *cur = json!({});
                    }
                    if let Some(o) = cur.as_object_mut() {
                        o.insert(key, value);
                    }
                }
            }
            return;
        }
        cur = match cur {
            Json::Array(a) => match key.parse::<usize>().ok().and_then(|n| a.get_mut(n)) {
                Some(x) => x,
                None => return,
            },
            _ => {
                if cur.is_null() {
                    *cur = json!({});
                }
                match cur.as_object_mut() {
                    Some(o) => o.entry(key).or_insert(Json::Null),
                    None => return,
                }
            }
        };
    }
}

/// The mean of a latency distribution object, in ms (None when `v` is not
/// one, or is an empirical CDF from a file).
fn latency_mean(v: &Json) -> Option<f64> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (kind, p) = o.iter().next()?;
    let f = |k: &str| p.get(k).and_then(Json::as_f64);
    match kind.as_str() {
        "constant" => f("ms"),
        "uniform" => Some((f("min_ms")? + f("max_ms")?) / 2.0),
        "normal" => f("mean_ms"),
        "exponential" => f("mean_ms"),
        "lognormal" => Some(f("median_ms")? * (f("sigma")?.powi(2) / 2.0).exp()),
        "pareto" => {
            let (scale, shape) = (f("scale_ms")?, f("shape")?);
            Some(if shape > 1.0 {
                scale * shape / (shape - 1.0)
            } else {
                scale * 2f64.powf(1.0 / shape)
            })
        }
        "mixture" => {
            let parts = p.as_array()?;
            let mut total_w = 0.0;
            let mut sum = 0.0;
            for part in parts {
                let w = part["weight"].as_f64()?;
                total_w += w;
                sum += w * latency_mean(&part["latency"])?;
            }
            (total_w > 0.0).then(|| sum / total_w)
        }
        "empirical" => {
            let pts = p.get("points")?.as_array()?;
            let mut prev: Option<(f64, f64)> = None;
            let mut mean = 0.0;
            for pt in pts {
                let (x, c) = (pt[0].as_f64()?, pt[1].as_f64()?);
                mean += match prev {
                    None => c * x,
                    Some((px, pc)) => (c - pc) * (x + px) / 2.0,
                };
                prev = Some((x, c));
            }
            prev.map(|_| mean)
        }
        _ => None,
    }
}

/// JSON pointers of every latency distribution in the document (not inside
/// another distribution), with their means.
fn latency_pointers(v: &Json, ptr: String, out: &mut Vec<(String, f64)>) {
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match v {
        Json::Object(o) => {
            if ptr != "/expect" {
                if let Some(mean) = latency_mean(v) {
                    out.push((ptr, mean));
                    return;
                }
            }
            for (k, x) in o {
                latency_pointers(x, format!("{ptr}/{}", esc(k)), out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                latency_pointers(x, format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A short size description: nodes, clients, keys, faults, duration.
fn size(doc: &Json) -> String {
    let count = |v: &Json| v.as_u64().or_else(|| v.as_array().map(|a| a.len() as u64));
    let nemesis: Vec<&str> = ["crashes", "partitions", "loss"]
        .into_iter()
        .filter(|k| doc["nemesis"].get(*k).is_some())
        .collect();
    format!(
        "{} nodes, {} clients, {} keys, {} faults{}, {} s",
        count(&doc["cluster"]["nodes"]).map_or("?".into(), |n| n.to_string()),
        count(&doc["workload"]["clients"]).map_or("?".into(), |n| n.to_string()),
        doc["workload"]["keys"]["count"],
        doc["faults"].as_array().map_or(0, Vec::len),
        if nemesis.is_empty() {
            String::new()
        } else {
            format!(" + nemesis {}", nemesis.join("/"))
        },
        doc["duration_s"]
    )
}

/// Shrinks `doc` (already failing `target` at its rng_seed) and writes the
/// minimal scenario to `out`. Returns the number of runs used.
pub(crate) fn shrink_doc(
    file: &Path,
    doc: Json,
    failure: &Failure,
    budget: usize,
    out: &Path,
    limits: &Limits,
) -> Result<()> {
    let seed = doc["rng_seed"].as_u64().unwrap_or(1);
    let before = size(&doc);
    let mut s = Shrinker {
        file,
        limits,
        target: failure.target().0,
        strict: failure.target().1,
        budget,
        runs: 0,
        best: doc,
        log: Vec::new(),
    };
    s.run();
    let mut min = s.best.clone();
    let name = min["name"].as_str().unwrap_or("scenario").to_string();
    min["name"] = json!(format!("{name}-min"));
    min["rng_seed"] = json!(seed);
    min["description"] = json!(format!(
        "Shrunk by `dynasim shrink` from {} (seed {seed}); still fails {}. Steps: {}.",
        file.display(),
        s.target.iter().cloned().collect::<Vec<_>>().join(", "),
        if s.log.is_empty() {
            "none".to_string()
        } else {
            s.log.join("; ")
        }
    ));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    reports::files::write_atomic(out, (reports::json_text::pretty(&min)? + "\n").as_bytes())?;
    println!(
        "shrink: {} candidate run(s){}",
        s.runs,
        if s.exhausted() {
            " (budget exhausted)"
        } else {
            ""
        }
    );
    for step in &s.log {
        println!("  {step}");
    }
    if s.log.is_empty() {
        println!("  (no smaller failing scenario found)");
    }
    println!("before: {before}");
    println!("after:  {}", size(&min));
    let still = failing(out, &min, limits).unwrap_or_default();
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
    println!("still failing: {}", list(&still.failed));
    if s.strict {
        println!(
            "same kind of finding: {} (lost writes and divergence not made at the run's last instant)",
            list(&still.signature)
        );
    }
    println!("minimal scenario: {}", out.display());
    println!("reproduce with:\n  {}", repro_command(out, seed, &[]));
    Ok(())
}

/// `dynasim shrink`.
pub fn shrink_command(args: &ShrinkArgs) -> Result<Outcome> {
    let sets = args
        .set
        .iter()
        .map(|a| parse_single(a))
        .collect::<Result<Vec<_>>>()?;
    let mut doc = read_document(&args.file)?;
    for (p, v) in &sets {
        apply_set(&mut doc, p, v.clone())?;
    }
    let seed = args
        .seed
        .unwrap_or_else(|| doc["rng_seed"].as_u64().unwrap_or(1));
    doc["rng_seed"] = json!(seed);
    // Errors (exit 2) for an invalid scenario.
    let scenario = load_document(&args.file, &doc, &sets_context(&sets))?;
    check_budget(
        &args.file,
        &sets_context(&sets),
        &scenario,
        &args.limits.budget(),
        "",
    )?;
    let failure = failing(&args.file, &doc, &args.limits).unwrap_or_default();
    if !failure.fails() {
        bail!(
            "{} passes its expectations at seed {seed}: nothing to shrink (shrink needs a failing run)",
            args.file.display()
        );
    }
    println!(
        "{} fails {} at seed {seed}; shrinking (budget {} runs)",
        args.file.display(),
        failure
            .failed
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        args.budget
    );
    let name = doc["name"].as_str().unwrap_or("scenario").to_string();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("{name}-seed{seed}.min.json")));
    shrink_doc(&args.file, doc, &failure, args.budget, &out, &args.limits)?;
    Ok(Outcome::ExpectFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(faults: Json, lost: u64, divergent: u64) -> Json {
        json!({
            "run": {"end_time_s": 10.0},
            "faults": faults,
            "durability": {"lost": lost, "lost_writes": if lost > 0 { json!([{"key": 1}]) } else { json!([]) }},
            "expectations": [
                {"metric": "durability.lost", "max": 0, "value": lost, "pass": lost == 0},
                {"metric": "convergence.divergent_keys", "max": 0, "value": divergent, "pass": divergent == 0},
                {"metric": "availability", "min": 1.0, "value": 0.5, "pass": false},
            ],
        })
    }

    #[test]
    fn the_signature_leaves_out_findings_made_at_the_last_instant() {
        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let all = set(&[
            "availability",
            "convergence.divergent_keys",
            "durability.lost",
        ]);
        let early = json!([{"at_s": 4.0, "action": "crash n1 (disk lost)"}, {"at_s": 6.0, "action": "restart n1"}]);
        assert_eq!(signature(&summary(early, 1, 2)), all);
        // A restart at the end cannot lose a write, but leaves replicas no
        // time to converge.
        let restart =
            json!([{"at_s": 4.0, "action": "crash n1"}, {"at_s": 10.0, "action": "restart n1"}]);
        assert_eq!(
            signature(&summary(restart, 1, 2)),
            set(&["availability", "durability.lost"])
        );
        // A crash at the last instant (within a millisecond) makes both.
        let crash = json!([{"at_s": 9.9995, "action": "crash n2 (disk lost)"}]);
        assert_eq!(signature(&summary(crash, 1, 2)), set(&["availability"]));
        let f = Failure {
            failed: all.clone(),
            signature: BTreeSet::new(),
        };
        assert_eq!(f.target(), (all, false), "nothing else to keep");
    }

    #[test]
    fn latency_means_and_pointers() {
        let doc = json!({
            "network": {"latency": {"mixture": [
                {"weight": 3, "latency": {"constant": {"ms": 1.0}}},
                {"weight": 1, "latency": {"uniform": {"min_ms": 2.0, "max_ms": 4.0}}}]}},
            "workload": {"keys": {"popularity": {"zipfian": 0.9}}},
            "expect": {"x": {"max": 1}},
        });
        let mut ptrs = Vec::new();
        latency_pointers(&doc, String::new(), &mut ptrs);
        assert_eq!(ptrs, vec![("/network/latency".to_string(), 1.5)]);
        let e = json!({"empirical": {"points": [[1.0, 0.5], [3.0, 1.0]]}});
        assert_eq!(latency_mean(&e), Some(1.5));
    }
}
