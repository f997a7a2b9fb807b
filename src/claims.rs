//! `dynasim claims`: does every scenario's promise hold on many seeds?
//!
//! A scenario's `expect` block is its claim, checked on one seed by `run`.
//! `claims` runs each given scenario file (default: every `scenarios/*.json`)
//! over a range of seeds, in parallel, and reports per file and per
//! expectation how many seeds pass, the spread of the measured value (so a
//! bound can be set to what holds), the distribution of the time to
//! converge where the scenario measures it, and the repro command of the
//! first failing seeds. Positive controls (scenarios whose expectation is
//! that an anomaly *is* found) get their detection rate the same way.
//!
//! Output: `claims.json` and `claims.md` (a table) in `--out`, a summary on
//! stdout; the outcome is `ExpectFailed` when any expectation failed on any
//! seed. Determinism: each run is a pure function of (file, seed), results
//! are sorted by (file, seed) before anything is aggregated, so the output
//! does not depend on `--jobs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde_json::{json, Value as Json};
use sim_core::config::Scenario;

use crate::guard::Limits;
use crate::load::{check_budget, load_document, read_document, simulate, Outcome};
use crate::options::ClaimsArgs;
use crate::outputs::{Kind, OutDir};
use crate::pairs::{read_pairs, same_file};
use crate::sweep::{parse_seeds, repro_command, thread_pool, Progress, MAX_RUNS_PER_SWEEP};

/// Version of the claims.json layout.
const CLAIMS_VERSION: u32 = 1;
/// Repro commands listed per failing expectation.
const REPROS_KEPT: usize = 10;

/// One expectation's outcome in one run.
struct Verdict {
    metric: String,
    pass: bool,
    value: Option<f64>,
}

/// What one run contributes.
struct RunResult {
    file: usize,
    seed: u64,
    verdicts: Vec<Verdict>,
    /// The metrics paired claims compare, in the order asked for.
    paired: Vec<Option<f64>>,
    /// `convergence.time_to_converge_s`, when the run converged.
    converge_s: Option<f64>,
    /// `convergence.time_to_converge_from_last_heal_s`, when the divergence
    /// present at the last heal cleared.
    heal_s: Option<f64>,
    /// False when the run's replicas had not converged at its end.
    converged: bool,
}

/// Per file, per expectation: the aggregate over seeds.
#[derive(Default)]
struct Tally {
    runs: u64,
    passed: u64,
    values: Vec<f64>,
    failing_seeds: Vec<u64>,
}

/// The scenario files `claims` checks when none are given: every
/// `scenarios/*.json`, sorted by name.
pub fn shipped_scenarios(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The value at quantile `q` of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

fn spread(mut v: Vec<f64>) -> Json {
    v.sort_by(f64::total_cmp);
    json!({
        "count": v.len(),
        "min": v.first(),
        "p50": quantile(&v, 0.5),
        "p99": quantile(&v, 0.99),
        "max": v.last(),
    })
}

/// Runs one file at one seed and keeps only its verdicts and the metrics
/// paired claims want of it.
fn run_one(
    file: usize,
    scenario: &Scenario,
    seed: u64,
    limits: &Limits,
    wanted: &[String],
) -> RunResult {
    let mut s = scenario.clone();
    s.rng_seed = seed;
    let summary = simulate(s, limits);
    let paired = wanted
        .iter()
        .map(|m| reports::expect::lookup(&summary, m))
        .collect();
    let verdicts = summary["expectations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Verdict {
            metric: e["metric"].as_str().unwrap_or("?").to_string(),
            pass: e["pass"].as_bool() == Some(true),
            value: e["value"].as_f64(),
        })
        .collect();
    let c = &summary["convergence"];
    RunResult {
        file,
        seed,
        verdicts,
        paired,
        converge_s: c["time_to_converge_s"].as_f64(),
        heal_s: c["time_to_converge_from_last_heal_s"].as_f64(),
        converged: c["converged"].as_bool() == Some(true),
    }
}

/// `dynasim claims`.
pub fn claims(args: &ClaimsArgs) -> Result<Outcome> {
    let files = if args.files.is_empty() {
        shipped_scenarios(Path::new("scenarios"))?
    } else {
        args.files.clone()
    };
    if files.is_empty() {
        bail!("no scenario files to check");
    }
    let seeds = parse_seeds(&args.seeds)?;
    let runs = seeds.count() * files.len() as u128;
    if runs > u128::from(MAX_RUNS_PER_SWEEP) {
        bail!(
            "--seeds {}: {runs} runs over {} files, more than the {MAX_RUNS_PER_SWEEP} one process performs",
            args.seeds,
            files.len()
        );
    }
    let seeds: Vec<u64> = (0..seeds.count() as u64).map(|i| seeds.nth(i)).collect();
    let pool = thread_pool(args.jobs)?;
    // Every file must fit its share of the memory budget: runs go
    // `parallel` at a time.
    let parallel = (pool.current_num_threads() as u64).max(1);
    let mut budget = args.limits.budget();
    budget.memory_bytes /= parallel;
    let note = format!(" (claims: {parallel} run(s) at a time share --max-memory-mb)");
    let mut scenarios = Vec::with_capacity(files.len());
    for f in &files {
        let doc = read_document(f)?;
        let scenario = load_document(f, &doc, "")?;
        check_budget(f, "", &scenario, &budget, &note)?;
        scenarios.push(scenario);
    }
    // Paired claims whose two files are both checked.
    let pairs_file = match &args.pairs {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("scenarios/pairs/pairs.json")).filter(|p| p.is_file()),
    };
    let all_pairs = match &pairs_file {
        Some(p) => read_pairs(p)?,
        None => Vec::new(),
    };
    let index_of = |p: &Path| files.iter().position(|f| same_file(f, p));
    let mut wanted: Vec<Vec<String>> = vec![Vec::new(); files.len()];
    let mut active = Vec::new();
    for pair in all_pairs {
        if let (Some(a), Some(b)) = (index_of(&pair.a), index_of(&pair.b)) {
            let mut slot = |f: usize| match wanted[f].iter().position(|m| *m == pair.metric) {
                Some(i) => i,
                None => {
                    wanted[f].push(pair.metric.clone());
                    wanted[f].len() - 1
                }
            };
            let (sa, sb) = (slot(a), slot(b));
            active.push((pair, (a, sa), (b, sb)));
        }
    }
    let todo: Vec<(usize, u64)> = (0..files.len())
        .flat_map(|f| seeds.iter().map(move |s| (f, *s)))
        .collect();
    let progress = Progress::new(todo.len(), "claims");
    let mut results: Vec<RunResult> = pool.install(|| {
        todo.par_iter()
            .map(|&(f, seed)| {
                let r = run_one(f, &scenarios[f], seed, &args.limits, &wanted[f]);
                progress.inc();
                r
            })
            .collect()
    });
    progress.finish();
    results.sort_by_key(|r| (r.file, r.seed));

    let mut report = Vec::new();
    let mut md = String::from(
        "| scenario | expectation | seeds passing | measured (min / p50 / p99 / max) |\n| --- | --- | --- | --- |\n",
    );
    let mut failures = 0u64;
    // Results are sorted by file: each file's runs are one slice.
    let slice = |i: usize| {
        let from = results.partition_point(|r| r.file < i);
        let to = results.partition_point(|r| r.file <= i);
        &results[from..to]
    };
    for (i, file) in files.iter().enumerate() {
        let runs = slice(i);
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut converge = Vec::new();
        let mut from_heal = Vec::new();
        let mut unconverged = 0u64;
        for r in runs {
            for v in &r.verdicts {
                if !tallies.contains_key(&v.metric) {
                    order.push(v.metric.clone());
                }
                let t = tallies.entry(v.metric.clone()).or_default();
                t.runs += 1;
                if v.pass {
                    t.passed += 1;
                } else {
                    t.failing_seeds.push(r.seed);
                }
                t.values.extend(v.value);
            }
            from_heal.extend(r.heal_s);
            match (r.converged, r.converge_s) {
                (true, Some(s)) => converge.push(s),
                (false, _) => unconverged += 1,
                _ => {}
            }
        }
        let name = scenarios[i].name.clone();
        let mut expectations = Vec::new();
        for metric in &order {
            let t = tallies.remove(metric).expect("tallied");
            failures += t.runs - t.passed;
            let repros: Vec<String> = t
                .failing_seeds
                .iter()
                .take(REPROS_KEPT)
                .map(|s| repro_command(file, *s, &[]))
                .collect();
            let values = spread(t.values);
            let _ = writeln!(
                md,
                "| {name} | {metric} | {} / {} | {} / {} / {} / {} |",
                t.passed,
                t.runs,
                fmt_num(&values["min"]),
                fmt_num(&values["p50"]),
                fmt_num(&values["p99"]),
                fmt_num(&values["max"]),
            );
            expectations.push(json!({
                "metric": metric,
                "runs": t.runs,
                "passed": t.passed,
                "pass_rate": t.passed as f64 / t.runs.max(1) as f64,
                "value": values,
                "failing_seeds": t.failing_seeds,
                "repro": repros,
            }));
        }
        report.push(json!({
            "file": file.display().to_string(),
            "scenario": name,
            "runs": runs.len(),
            "expectations": expectations,
            "time_to_converge_s": spread(converge),
            "time_to_converge_from_last_heal_s": spread(from_heal),
            "unconverged_runs": unconverged,
        }));
    }
    // Time to converge, from the workload's end and from the last heal
    // (the engine compares replicas every 100 ms, with or without
    // anti-entropy).
    let converging: Vec<&Json> = report
        .iter()
        .filter(|f| {
            f["time_to_converge_s"]["count"].as_u64() > Some(0)
                || f["unconverged_runs"].as_u64() > Some(0)
        })
        .collect();
    if !converging.is_empty() {
        md.push_str(
            "\n| scenario | runs converged | time to converge after the workload, s (min / p50 / p99 / max) | after the last heal, s (runs: min / p50 / p99 / max) | runs not converged at the end |\n| --- | --- | --- | --- | --- |\n",
        );
        for f in converging {
            let c = &f["time_to_converge_s"];
            let h = &f["time_to_converge_from_last_heal_s"];
            let heal = if h["count"].as_u64() > Some(0) {
                format!(
                    "{}: {} / {} / {} / {}",
                    h["count"],
                    fmt_num(&h["min"]),
                    fmt_num(&h["p50"]),
                    fmt_num(&h["p99"]),
                    fmt_num(&h["max"]),
                )
            } else {
                "–".to_string()
            };
            let _ = writeln!(
                md,
                "| {} | {} / {} | {} / {} / {} / {} | {heal} | {} |",
                f["scenario"].as_str().unwrap_or("?"),
                c["count"],
                f["runs"],
                fmt_num(&c["min"]),
                fmt_num(&c["p50"]),
                fmt_num(&c["p99"]),
                fmt_num(&c["max"]),
                f["unconverged_runs"],
            );
        }
    }
    // Paired claims, seed by seed.
    let mut pair_report = Vec::new();
    if !active.is_empty() {
        md.push_str(
            "\n| paired claim | a | relation | b | metric | seeds where it holds | a / b (min / p50 / p99 / max) |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        );
    }
    for (pair, (a, sa), (b, sb)) in &active {
        let (ra, rb) = (slice(*a), slice(*b));
        let mut passed = 0u64;
        let mut failing = Vec::new();
        let mut ratios = Vec::new();
        for (x, y) in ra.iter().zip(rb) {
            debug_assert_eq!(x.seed, y.seed, "both files ran every seed");
            let (va, vb) = (x.paired[*sa], y.paired[*sb]);
            if pair.relation.holds(va, vb) {
                passed += 1;
            } else {
                failing.push(x.seed);
            }
            if let (Some(va), Some(vb)) = (va, vb) {
                if vb != 0.0 {
                    ratios.push(va / vb);
                }
            }
        }
        let runs = ra.len().min(rb.len()) as u64;
        failures += runs - passed;
        let ratio = spread(ratios);
        let (na, nb) = (&scenarios[*a].name, &scenarios[*b].name);
        let _ = writeln!(
            md,
            "| {} | {na} | {} | {nb} | {} | {passed} / {runs} | {} / {} / {} / {} |",
            pair.claim,
            pair.relation.name(),
            pair.metric,
            fmt_num(&ratio["min"]),
            fmt_num(&ratio["p50"]),
            fmt_num(&ratio["p99"]),
            fmt_num(&ratio["max"]),
        );
        let repros: Vec<[String; 2]> = failing
            .iter()
            .take(REPROS_KEPT)
            .map(|s| {
                [
                    repro_command(&files[*a], *s, &[]),
                    repro_command(&files[*b], *s, &[]),
                ]
            })
            .collect();
        pair_report.push(json!({
            "claim": pair.claim,
            "a": files[*a].display().to_string(),
            "b": files[*b].display().to_string(),
            "metric": pair.metric,
            "relation": pair.relation.name(),
            "runs": runs,
            "passed": passed,
            "pass_rate": passed as f64 / runs.max(1) as f64,
            "ratio_a_to_b": ratio,
            "failing_seeds": failing,
            "repro": repros,
        }));
    }
    let out = args.out.clone();
    let dir = OutDir::prepare(&out, Kind::Claims)?;
    let doc = json!({
        "claims_version": CLAIMS_VERSION,
        "seeds": args.seeds,
        "pairs_file": pairs_file.map(|p| p.display().to_string()),
        "files": report,
        "pairs": pair_report,
    });
    dir.write(
        "claims.json",
        (reports::json_text::pretty(&doc).expect("JSON serializes") + "\n").as_bytes(),
    )?;
    dir.write("claims.md", md.as_bytes())?;
    dir.finish()?;

    for f in &report {
        for e in f["expectations"].as_array().into_iter().flatten() {
            let (passed, runs) = (e["passed"].as_u64(), e["runs"].as_u64());
            if passed != runs {
                println!(
                    "FAIL {} {}: {} of {} seeds pass",
                    f["scenario"].as_str().unwrap_or("?"),
                    e["metric"].as_str().unwrap_or("?"),
                    passed.unwrap_or(0),
                    runs.unwrap_or(0)
                );
                for r in e["repro"].as_array().into_iter().flatten() {
                    println!("  reproduce: {}", r.as_str().unwrap_or_default());
                }
            }
        }
    }
    for p in &pair_report {
        if p["passed"] != p["runs"] {
            println!(
                "FAIL pair {}: {} {} {} {} on {} of {} seeds",
                p["claim"].as_str().unwrap_or("?"),
                p["a"].as_str().unwrap_or("?"),
                p["metric"].as_str().unwrap_or("?"),
                p["relation"].as_str().unwrap_or("?"),
                p["b"].as_str().unwrap_or("?"),
                p["passed"],
                p["runs"]
            );
            for r in p["repro"].as_array().into_iter().flatten() {
                println!(
                    "  reproduce: {} ; {}",
                    r[0].as_str().unwrap_or_default(),
                    r[1].as_str().unwrap_or_default()
                );
            }
        }
    }
    println!(
        "{} scenario(s) x {} seed(s): {} failed expectation(s); results: {}",
        files.len(),
        seeds.len(),
        failures,
        out.display()
    );
    Ok(if failures == 0 {
        Outcome::Ok
    } else {
        Outcome::ExpectFailed
    })
}

/// A number to four significant digits for the table ("–" when absent).
fn fmt_num(v: &Json) -> String {
    match v.as_f64() {
        None => "–".to_string(),
        Some(x) if x == x.trunc() && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) => format!("{}", format!("{x:.3e}").parse::<f64>().unwrap_or(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.0));
        assert_eq!(quantile(&v, 0.99), Some(4.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(fmt_num(&json!(3)), "3");
        assert_eq!(fmt_num(&json!(0.961240881)), "0.9612");
        assert_eq!(fmt_num(&json!(null)), "–");
    }
}
