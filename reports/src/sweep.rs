//! Sweep aggregation: compact per-run records extracted from summaries, and
//! per-parameter-point aggregates over the seeds of a sweep.
//!
//! Scalar metrics are summarized by their mean and a 95 % confidence interval
//! (Student t). Distributions are merged exactly instead of averaged:
//! latency histograms by summing bucket counts (percentiles recomputed from
//! the merged counts), t-visibility curves by summing reads and consistent
//! reads per bucket, counters by summing. The merged aggregate is also shaped
//! like a `summary.json`, so [`crate::render::write_overlays`] can overlay the
//! points of a sweep.
//!
//! Everything here is a pure function of its inputs in the order given;
//! callers sort runs by (point, seed) first so the output never depends on
//! completion order.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use crate::histogram::bucket_range;

/// The per-run metrics a sweep reports (one CSV column each), as summary paths.
pub const ROW_METRICS: [&str; 10] = [
    "availability",
    "latency.get.p99_ms",
    "latency.put.p99_ms",
    "staleness.stale_read_fraction",
    "durability.lost",
    "siblings.single_version_fraction",
    "anomalies.resurrected_deletes",
    "anomalies.read_your_writes_violations",
    "anomalies.monotonic_read_violations",
    "convergence.divergent_keys",
];

const KINDS: [&str; 3] = ["get", "put", "delete"];

/// Summary sections whose integer counters are summed when merging runs.
const COUNTER_SECTIONS: [&str; 7] = [
    "ops",
    "siblings",
    "durability",
    "anomalies",
    "convergence",
    "repair",
    "corruption",
];

fn lookup<'a>(v: &'a Json, dotted: &str) -> &'a Json {
    dotted.split('.').fold(v, |v, k| &v[k])
}

/// The ten metrics a sweep reports when no `--metric` is given.
pub fn default_metrics() -> Vec<String> {
    ROW_METRICS.iter().map(|m| m.to_string()).collect()
}

/// Checks a `--metric` path's syntax: dotted names, each optionally
/// followed by `[i]` array indices (`staleness.t_visibility[3].p_consistent`).
pub fn check_metric_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("an empty metric path".into());
    }
    for part in path.split('.') {
        let name = part.split('[').next().unwrap_or_default();
        let indices = &part[name.len()..];
        let ok_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+');
        let ok_indices = indices.is_empty()
            || (indices.starts_with('[')
                && indices.ends_with(']')
                && indices[1..indices.len() - 1]
                    .split("][")
                    .all(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit())));
        if !ok_name || !ok_indices {
            return Err(format!(
                "{path:?}: not a summary path (dotted names with optional [i] indices, e.g. latency.get.p999_ms)"
            ));
        }
    }
    Ok(())
}

/// The value at a summary path (see [`check_metric_path`]) as a number:
/// numbers as they are, booleans as 1 or 0, anything else (absent, null,
/// text, an object) as null.
pub fn metric_value(summary: &Json, path: &str) -> Json {
    let mut v = summary;
    for part in path.split('.') {
        let name = part.split('[').next().unwrap_or_default();
        v = &v[name];
        for index in part[name.len()..]
            .split(['[', ']'])
            .filter(|i| !i.is_empty())
        {
            v = match index.parse::<usize>() {
                Ok(i) => &v[i],
                Err(_) => &Json::Null,
            };
        }
    }
    match v {
        Json::Number(_) => v.clone(),
        Json::Bool(b) => json!(u8::from(*b)),
        _ => Json::Null,
    }
}

/// The compact record of one run that a sweep keeps: the requested
/// metrics (summary paths), verdicts, and what the merges need (latency
/// histograms, t-visibility counts, counters, the scenario echo).
pub fn run_record(summary: &Json, row_metrics: &[String]) -> Json {
    let mut metrics = Map::new();
    for m in row_metrics {
        metrics.insert(m.clone(), metric_value(summary, m));
    }
    let expectations: Vec<Json> = summary["expectations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let failed: Vec<Json> = expectations
        .iter()
        .filter(|v| v["pass"].as_bool() != Some(true))
        .map(|v| v["metric"].clone())
        .collect();
    let mut latency = Map::new();
    for kind in KINDS {
        let l = &summary["latency"][kind];
        latency.insert(
            kind.into(),
            json!({
                "ok": l["ok"], "failed": l["failed"], "mean_ms": l["mean_ms"],
                "max_ms": l["max_ms"], "histogram": l["histogram"],
                "failures": l["failures"],
            }),
        );
    }
    let t_vis: Vec<Json> = summary["staleness"]["t_visibility"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    json!([
                        p["t_ms"],
                        p["reads"],
                        p["consistent"],
                        p["t_ms_lo"],
                        p["t_ms_hi"]
                    ])
                })
                .collect()
        })
        .unwrap_or_default();
    let mut counters = Map::new();
    for section in COUNTER_SECTIONS {
        let mut c = Map::new();
        if let Some(obj) = summary[section].as_object() {
            for (k, v) in obj {
                if v.is_u64() {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
        counters.insert(section.into(), Json::Object(c));
    }
    json!({
        "trace_hash": summary["run"]["trace_hash"],
        "metrics": metrics,
        "expect_pass": failed.is_empty(),
        "failed": failed,
        "expectations": expectations,
        "latency": latency,
        "staleness": {
            "reads_checked": summary["staleness"]["reads_checked"],
            "stale_reads": summary["staleness"]["stale_reads"],
            "t_visibility": t_vis,
            "k_staleness": summary["staleness"]["k_staleness"],
        },
        "counters": counters,
        "scenario": summary["scenario"],
    })
}

/// Two-sided 95 % Student t critical value for `df` degrees of freedom.
fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// Mean, sample standard deviation and 95 % t interval of the numbers given
/// (non-numbers are skipped; `n` counts the numbers).
pub fn stats(values: &[f64]) -> Json {
    let n = values.len();
    if n == 0 {
        return json!({"n": 0, "mean": null, "stddev": null, "ci95": null});
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return json!({"n": 1, "mean": mean, "stddev": null, "ci95": [mean, mean]});
    }
    let var = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t95(n - 1) * sd / (n as f64).sqrt();
    json!({"n": n, "mean": mean, "stddev": sd, "ci95": [mean - half, mean + half]})
}

/// The value at quantile `q` of merged bucket counts: the midpoint of its
/// bucket capped at the maximum (as [`crate::histogram::Histogram::quantile`]).
fn quantile(counts: &BTreeMap<usize, u64>, total: u64, max_us: u64, q: f64) -> u64 {
    if total == 0 {
        return 0;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, c) in counts {
        seen += c;
        if seen >= rank {
            let (lo, hi) = bucket_range(*i);
            return (lo + (hi - lo) / 2).min(max_us);
        }
    }
    max_us
}

fn merged_latency(records: &[&Json], kind: &str) -> Json {
    let mut counts: BTreeMap<usize, u64> = BTreeMap::new();
    let (mut ok, mut failed, mut max_us, mut weighted) = (0u64, 0u64, 0u64, 0f64);
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for r in records {
        let l = &r["latency"][kind];
        let k_ok = l["ok"].as_u64().unwrap_or(0);
        ok += k_ok;
        failed += l["failed"].as_u64().unwrap_or(0);
        weighted += l["mean_ms"].as_f64().unwrap_or(0.0) * k_ok as f64;
        max_us = max_us.max((l["max_ms"].as_f64().unwrap_or(0.0) * 1000.0).round() as u64);
        for b in l["histogram"].as_array().into_iter().flatten() {
            if let (Some(i), Some(c)) = (b[0].as_u64(), b[1].as_u64()) {
                *counts.entry(i as usize).or_default() += c;
            }
        }
        for (reason, n) in l["failures"].as_object().into_iter().flatten() {
            *failures.entry(reason.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    let total: u64 = counts.values().sum();
    let ms = |us: u64| us as f64 / 1000.0;
    let q = |p: f64| ms(quantile(&counts, total, max_us, p));
    let mut seen = 0;
    let cdf: Vec<Json> = counts
        .iter()
        .map(|(i, c)| {
            seen += c;
            json!([
                ms(bucket_range(*i).1.min(max_us)),
                seen as f64 / total as f64
            ])
        })
        .collect();
    json!({
        "count": ok + failed,
        "ok": ok,
        "failed": failed,
        "failures": failures,
        "mean_ms": if ok == 0 { 0.0 } else { weighted / ok as f64 },
        "p50_ms": q(0.5),
        "p90_ms": q(0.9),
        "p99_ms": q(0.99),
        "p999_ms": q(0.999),
        "max_ms": ms(max_us),
        "cdf": cdf,
        "histogram": counts.iter().map(|(i, c)| json!([i, c])).collect::<Vec<_>>(),
    })
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// One t-visibility point being merged: its bin edges, the reads' summed t
/// (ms), reads and consistent reads.
struct TPoint {
    lo: Option<f64>,
    hi: Option<f64>,
    t_sum_ms: f64,
    reads: u64,
    consistent: u64,
}

/// Sums the runs' t-visibility points (rows `[t_ms, reads, consistent,
/// t_ms_lo, t_ms_hi]`) per bin or mass point, in order of `t_ms_lo`.
fn merged_t_visibility(records: &[&Json]) -> Vec<Json> {
    let mut points: Vec<TPoint> = Vec::new();
    for r in records {
        for p in r["staleness"]["t_visibility"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let reads = p[1].as_u64().unwrap_or(0);
            let t = p[0].as_f64().unwrap_or(0.0);
            // Rows without edges (older records) are matched by their t.
            let lo = p[3].as_f64().or(Some(t));
            let hi = p[4].as_f64();
            let slot = match points.iter_mut().find(|x| x.lo == lo && x.hi == hi) {
                Some(slot) => slot,
                None => {
                    points.push(TPoint {
                        lo,
                        hi,
                        t_sum_ms: 0.0,
                        reads: 0,
                        consistent: 0,
                    });
                    points.last_mut().expect("just pushed")
                }
            };
            slot.reads += reads;
            slot.consistent += p[2].as_u64().unwrap_or(0);
            slot.t_sum_ms += t * reads as f64;
        }
    }
    points.sort_by(|a, b| a.lo.unwrap_or(0.0).total_cmp(&b.lo.unwrap_or(0.0)));
    points
        .iter()
        .map(|p| {
            let (lo, hi) = crate::tvis::wilson95(p.consistent, p.reads);
            json!({
                "t_ms": if p.reads == 0 { p.lo.map_or(Json::Null, |x| json!(x)) } else { json!(p.t_sum_ms / p.reads as f64) },
                "t_ms_lo": p.lo,
                "t_ms_hi": p.hi,
                "reads": p.reads,
                "consistent": p.consistent,
                "p_consistent": if p.reads == 0 { Json::Null } else { json!(p.consistent as f64 / p.reads as f64) },
                "ci95": [lo, hi],
                "few_reads": p.reads < crate::tvis::FEW_READS,
            })
        })
        .collect()
}

/// Merges the runs of one parameter point into a summary-shaped document
/// (latency, staleness with t-visibility and k-staleness, availability and
/// summed counters), labelled `label`. `records` come from [`run_record`].
pub fn merged_summary(records: &[&Json], label: &str) -> Json {
    let mut latency = Map::new();
    for kind in KINDS {
        latency.insert(kind.into(), merged_latency(records, kind));
    }
    // t-visibility: sum reads and consistent reads per point, matched by
    // its bin (or mass point); t is the reads' mean over all runs.
    let t_vis = merged_t_visibility(records);
    let mut k_stale: Vec<(String, u64)> = Vec::new();
    for r in records {
        for (k, n) in r["staleness"]["k_staleness"]
            .as_object()
            .into_iter()
            .flatten()
        {
            match k_stale.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 += n.as_u64().unwrap_or(0),
                None => k_stale.push((k.clone(), n.as_u64().unwrap_or(0))),
            }
        }
    }
    let sum = |path: &str| -> u64 {
        records
            .iter()
            .map(|r| lookup(r, path).as_u64().unwrap_or(0))
            .sum()
    };
    let mut counters = Map::new();
    for section in COUNTER_SECTIONS {
        let mut names: Vec<String> = Vec::new();
        for r in records {
            for k in r["counters"][section]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        let mut c = Map::new();
        for k in names {
            let total: u64 = records
                .iter()
                .map(|r| r["counters"][section][&k].as_u64().unwrap_or(0))
                .sum();
            c.insert(k, json!(total));
        }
        counters.insert(section.into(), Json::Object(c));
    }
    let (reads_checked, stale) = (sum("staleness.reads_checked"), sum("staleness.stale_reads"));
    let ops_total = counters["ops"]["total"].as_u64().unwrap_or(0);
    let ops_ok = counters["ops"]["ok"].as_u64().unwrap_or(0);
    if let Some(s) = counters.get_mut("siblings").and_then(Json::as_object_mut) {
        let reads = s.get("reads").and_then(Json::as_u64).unwrap_or(0);
        let not_found = s.get("not_found").and_then(Json::as_u64).unwrap_or(0);
        let single = s.get("1").and_then(Json::as_u64).unwrap_or(0);
        let found = reads.saturating_sub(not_found);
        s.insert(
            "single_version_fraction".into(),
            json!(if found == 0 {
                1.0
            } else {
                single as f64 / found as f64
            }),
        );
    }
    if let Some(c) = counters
        .get_mut("convergence")
        .and_then(Json::as_object_mut)
    {
        let divergent = c.get("divergent_keys").and_then(Json::as_u64).unwrap_or(0);
        c.insert("converged".into(), json!(divergent == 0));
    }
    let mut scenario = records
        .first()
        .map(|r| r["scenario"].clone())
        .unwrap_or_else(|| json!({}));
    if let Some(s) = scenario.as_object_mut() {
        s.insert("name".into(), json!(label));
    }
    let mut availability_by_kind = Map::new();
    for kind in KINDS {
        let l = &latency[kind];
        availability_by_kind.insert(
            kind.into(),
            json!(ratio(
                l["ok"].as_u64().unwrap_or(0),
                l["count"].as_u64().unwrap_or(0)
            )),
        );
    }
    let mut doc = json!({
        "summary_version": crate::report::SUMMARY_VERSION,
        "sweep_point": {
            "label": label,
            "runs": records.len(),
            "failed_runs": records.iter().filter(|r| r["expect_pass"].as_bool() != Some(true)).count(),
        },
        "scenario": scenario,
        "availability": ratio(ops_ok, ops_total),
        "availability_by_kind": availability_by_kind,
        "latency": latency,
        "staleness": {
            "reads_checked": reads_checked,
            "stale_reads": stale,
            "stale_read_fraction": ratio(stale, reads_checked),
            "t_visibility": t_vis,
            "k_staleness": k_stale.into_iter().map(|(k, n)| (k, json!(n))).collect::<Map<_, _>>(),
        },
    });
    let obj = doc.as_object_mut().expect("object");
    for (section, c) in counters {
        obj.insert(section, c);
    }
    doc
}

/// The aggregate of one parameter point: per-metric statistics over its runs
/// plus the exact merges (latency percentiles from merged histograms, pooled
/// stale-read fraction and availability).
pub fn point_aggregate(records: &[&Json], merged: &Json, row_metrics: &[String]) -> Json {
    let mut metrics = Map::new();
    for m in row_metrics {
        let values: Vec<f64> = records
            .iter()
            .filter_map(|r| r["metrics"][m.as_str()].as_f64())
            .collect();
        metrics.insert(m.clone(), stats(&values));
    }
    let mut lat = Map::new();
    for kind in KINDS {
        let l = &merged["latency"][kind];
        lat.insert(
            kind.into(),
            json!({"count": l["count"], "mean_ms": l["mean_ms"], "p50_ms": l["p50_ms"],
                   "p90_ms": l["p90_ms"], "p99_ms": l["p99_ms"], "p999_ms": l["p999_ms"],
                   "max_ms": l["max_ms"]}),
        );
    }
    json!({
        "runs": records.len(),
        "failed_runs": merged["sweep_point"]["failed_runs"],
        "metrics": metrics,
        "merged": {
            "availability": merged["availability"],
            "latency": lat,
            "stale_read_fraction": merged["staleness"]["stale_read_fraction"],
            "single_version_fraction": merged["siblings"]["single_version_fraction"],
            "durability_lost": merged["durability"]["lost"],
            "t_visibility": merged["staleness"]["t_visibility"],
        },
    })
}

/// A CSV field: quoted (with inner quotes doubled) when it holds a comma, a
/// quote or a line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A metric as a CSV field: empty for a missing value (JSON null).
pub fn csv_number(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::Histogram;

    fn record(values: &[u64]) -> Json {
        let mut h = Histogram::default();
        for v in values {
            h.record(*v);
        }
        json!({
            "latency": {"get": {"ok": h.count(), "failed": 0, "mean_ms": h.mean() / 1000.0,
                "max_ms": h.max() as f64 / 1000.0,
                "histogram": h.sparse().into_iter().map(|(i, c)| json!([i, c])).collect::<Vec<_>>()}},
            "staleness": {"reads_checked": 2, "stale_reads": 1,
                "t_visibility": [[0.0, 2, 1], [1.0, 0, 0]], "k_staleness": {"0": 1, "1": 1}},
            "counters": {"ops": {"total": 3, "ok": 3, "failed": 0}},
            "metrics": {"availability": 1.0},
            "expect_pass": true,
        })
    }

    #[test]
    fn merged_percentiles_equal_those_of_one_histogram_of_all_values() {
        let a: Vec<u64> = (1..=500).map(|x| x * 7).collect();
        let b: Vec<u64> = (1..=300).map(|x| x * 131).collect();
        let (ra, rb) = (record(&a), record(&b));
        let merged = merged_summary(&[&ra, &rb], "p");
        let mut all = Histogram::default();
        for v in a.iter().chain(&b) {
            all.record(*v);
        }
        let l = &merged["latency"]["get"];
        assert_eq!(
            l["p99_ms"].as_f64(),
            Some(all.quantile(0.99) as f64 / 1000.0)
        );
        assert_eq!(
            l["p50_ms"].as_f64(),
            Some(all.quantile(0.5) as f64 / 1000.0)
        );
        assert_eq!(l["max_ms"].as_f64(), Some(all.max() as f64 / 1000.0));
        assert_eq!(l["ok"], json!(800));
        let tv = &merged["staleness"]["t_visibility"];
        assert_eq!(tv[0]["reads"], json!(4));
        assert_eq!(tv[0]["p_consistent"], json!(0.5));
        assert_eq!(tv[1]["p_consistent"], Json::Null);
        assert_eq!(merged["staleness"]["k_staleness"]["1"], json!(2));
        assert_eq!(merged["ops"]["total"], json!(6));
    }

    #[test]
    fn t_visibility_points_merge_by_bin_with_the_reads_mean_t() {
        let run = |rows: Json| json!({"staleness": {"t_visibility": rows}});
        let a = run(json!([[1.2, 10, 5, 1.122, 1.259], [0.0, 4, 1, 0.0, 0.001]]));
        let b = run(json!([
            [1.1, 30, 30, 1.122, 1.259],
            [40.0, 1, 1, 39.811, null]
        ]));
        let tv = merged_t_visibility(&[&a, &b]);
        assert_eq!(tv.len(), 3);
        assert_eq!(tv[0]["t_ms"], json!(0.0));
        assert_eq!(tv[1]["reads"], json!(40));
        assert_eq!(tv[1]["consistent"], json!(35));
        let mean = tv[1]["t_ms"].as_f64().expect("t");
        assert!((mean - (1.2 * 10.0 + 1.1 * 30.0) / 40.0).abs() < 1e-12);
        assert_eq!(tv[2]["t_ms_hi"], Json::Null);
        assert_eq!(tv[2]["few_reads"], json!(true));
    }

    #[test]
    fn stats_give_a_t_interval() {
        let s = stats(&[1.0, 2.0, 3.0]);
        assert_eq!(s["mean"], json!(2.0));
        let ci = s["ci95"].as_array().expect("interval");
        let half = 4.303 / 3f64.sqrt();
        assert!((ci[0].as_f64().expect("lo") - (2.0 - half)).abs() < 1e-12);
        assert_eq!(stats(&[])["n"], json!(0));
        assert_eq!(stats(&[5.0])["ci95"], json!([5.0, 5.0]));
    }
}
