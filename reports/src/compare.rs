//! Comparing runs and browsing many of them: `dynasim compare` (a metrics
//! table with deltas against the first run and a verdict per run) and
//! `dynasim index` (one static, offline HTML page linking every run and
//! sweep found under some directories, sortable by any column).
//!
//! Everything here is a pure function of summaries and sweep documents
//! already read; finding and reading the files is the caller's
//! (`dynasim::compare`).

use std::fmt::Write as _;

use serde_json::{json, Map, Value as Json};

use crate::render::fmt_num;
use crate::sweep::{csv_field, csv_number, metric_value};

/// The verdict of the first run of a comparison (what the others are
/// compared against).
pub const BASELINE: &str = "baseline";
/// The verdict of a run with the same seed and trace hash as the first:
/// the same run (the same events in the same order), so any difference in
/// its metrics would be a bug.
pub const IDENTICAL: &str = "identical run";
/// The verdict of any other run.
pub const DIFFERENT: &str = "different";

/// One compared run: where it came from and its summary.
#[derive(Clone, Debug)]
pub struct Compared {
    /// The path given on the command line.
    pub source: String,
    /// Its summary.json (a run's, or a sweep point's merged one).
    pub summary: Json,
}

fn seed_and_hash(summary: &Json) -> Option<(u64, &str)> {
    Some((
        summary["run"]["rng_seed"].as_u64()?,
        summary["run"]["trace_hash"].as_str()?,
    ))
}

/// The verdict of `other` against `first`: [`IDENTICAL`] when both name
/// the same seed and the same trace hash, else [`DIFFERENT`] (a sweep
/// point's merged summary names neither).
pub fn verdict(first: &Json, other: &Json) -> &'static str {
    match (seed_and_hash(first), seed_and_hash(other)) {
        (Some(a), Some(b)) if a == b => IDENTICAL,
        _ => DIFFERENT,
    }
}

/// Why two runs differ, in words (empty when they are the same run).
fn differences(first: &Json, other: &Json) -> String {
    let mut why = Vec::new();
    let sc = |s: &Json, k: &str| s["scenario"][k].clone();
    // The scenario as it ran, without its seed (compared on its own below).
    let settings = |s: &Json| {
        let mut f = s["scenario_file"].clone();
        if let Some(o) = f.as_object_mut() {
            o.remove("rng_seed");
        }
        f
    };
    if sc(first, "name") != sc(other, "name") {
        why.push("scenario".to_string());
    } else if settings(first) != settings(other) {
        why.push("scenario settings".to_string());
    }
    match (seed_and_hash(first), seed_and_hash(other)) {
        (Some((s1, h1)), Some((s2, h2))) => {
            if s1 != s2 {
                why.push(format!("seed {s1} vs {s2}"));
            }
            if h1 != h2 {
                why.push("trace hash".to_string());
            }
        }
        _ => why.push("no seed and trace hash (a sweep point?)".to_string()),
    }
    why.join(", ")
}

/// A short label per run: `#i` and the scenario fields that differ
/// between the runs (see [`crate::render::overlay_labels`]).
fn labels(runs: &[Compared]) -> Vec<String> {
    let summaries: Vec<Json> = runs.iter().map(|r| r.summary.clone()).collect();
    crate::render::overlay_labels(&summaries)
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("#{} {l}", i + 1))
        .collect()
}

/// The comparison document (`compare.json`): per run its source, label,
/// seed, trace hash, verdict, the metrics and their deltas against the
/// first run (`value - first`, null when either is missing).
pub fn compare(runs: &[Compared], metrics: &[String]) -> Json {
    let labels = labels(runs);
    let first = runs.first().map(|r| &r.summary);
    let rows: Vec<Json> = runs
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(i, (r, label))| {
            let s = &r.summary;
            let mut values = Map::new();
            let mut deltas = Map::new();
            for m in metrics {
                let v = metric_value(s, m);
                let base = first.map_or(Json::Null, |f| metric_value(f, m));
                let delta = match (v.as_f64(), base.as_f64()) {
                    (Some(a), Some(b)) => json!(a - b),
                    _ => Json::Null,
                };
                values.insert(m.clone(), v);
                deltas.insert(m.clone(), delta);
            }
            let (verdict, why) = match first {
                Some(f) if i > 0 => (verdict(f, s), differences(f, s)),
                _ => (BASELINE, String::new()),
            };
            json!({
                "source": r.source,
                "label": label,
                "scenario": s["scenario"]["name"],
                "rng_seed": s["run"]["rng_seed"],
                "trace_hash": s["run"]["trace_hash"],
                "expect_pass": s["expectations"].as_array().map(|e| e.iter().all(|v| v["pass"] == json!(true))),
                "verdict": verdict,
                "differs_in": why,
                "metrics": values,
                "deltas": deltas,
            })
        })
        .collect();
    json!({ "compare_version": 1, "metrics": metrics, "runs": rows })
}

fn delta_text(d: &Json) -> String {
    match d.as_f64() {
        None => "–".into(),
        Some(x) if x > 0.0 => format!("+{}", fmt_num(d)),
        Some(x) if x < 0.0 => fmt_num(d),
        Some(_) => "0".into(),
    }
}

fn pad_table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let pad = widths[c] - s.chars().count();
                if c == 0 {
                    format!("{s}{}", " ".repeat(pad))
                } else {
                    format!("{}{s}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The printed comparison: one line per run (label, seed, trace hash,
/// verdict, why it differs), then one line per metric with each run's
/// value and, for every run after the first, its delta against the first.
pub fn table(doc: &Json) -> String {
    let runs = doc["runs"].as_array().cloned().unwrap_or_default();
    let mut out = String::new();
    let mut head = vec![vec![
        "run".to_string(),
        "seed".into(),
        "trace hash".into(),
        "expect".into(),
        "verdict".into(),
        "source".into(),
    ]];
    for r in &runs {
        head.push(vec![
            r["label"].as_str().unwrap_or("").to_string(),
            fmt_num(&r["rng_seed"]),
            r["trace_hash"].as_str().unwrap_or("–").to_string(),
            match r["expect_pass"].as_bool() {
                Some(true) => "pass".into(),
                Some(false) => "FAIL".into(),
                None => "–".into(),
            },
            match r["differs_in"].as_str() {
                Some(w) if !w.is_empty() => {
                    format!("{} ({w})", r["verdict"].as_str().unwrap_or(""))
                }
                _ => r["verdict"].as_str().unwrap_or("").to_string(),
            },
            r["source"].as_str().unwrap_or("").to_string(),
        ]);
    }
    out.push_str(&pad_table(&head));
    out.push('\n');
    let mut header = vec!["metric".to_string()];
    for (i, _) in runs.iter().enumerate() {
        header.push(format!("#{}", i + 1));
        if i > 0 {
            header.push(format!("Δ #{} − #1", i + 1));
        }
    }
    let mut rows = vec![header];
    for m in doc["metrics"].as_array().into_iter().flatten() {
        let m = m.as_str().unwrap_or_default();
        let mut row = vec![m.to_string()];
        for (i, r) in runs.iter().enumerate() {
            row.push(fmt_num(&r["metrics"][m]));
            if i > 0 {
                row.push(delta_text(&r["deltas"][m]));
            }
        }
        rows.push(row);
    }
    out.push_str(&pad_table(&rows));
    out
}

/// The comparison as CSV (`compare.csv`): one row per run with its
/// verdict, then each metric and its delta against the first run.
pub fn csv(doc: &Json) -> String {
    let metrics: Vec<&str> = doc["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    let mut out = String::from("run,label,source,scenario,rng_seed,trace_hash,verdict,differs_in");
    for m in &metrics {
        let _ = write!(
            out,
            ",{},{}",
            csv_field(m),
            csv_field(&format!("{m}.delta"))
        );
    }
    out.push('\n');
    for (i, r) in doc["runs"].as_array().into_iter().flatten().enumerate() {
        let text = |k: &str| csv_field(r[k].as_str().unwrap_or_default());
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{}",
            i + 1,
            text("label"),
            text("source"),
            text("scenario"),
            csv_number(&r["rng_seed"]),
            text("trace_hash"),
            text("verdict"),
            text("differs_in")
        );
        for m in &metrics {
            let _ = write!(
                out,
                ",{},{}",
                csv_number(&r["metrics"][*m]),
                csv_number(&r["deltas"][*m])
            );
        }
        out.push('\n');
    }
    out
}

/// One run or sweep point of an index page.
#[derive(Clone, Debug)]
pub struct IndexRun {
    /// Link target (relative to the page): the report, else the summary.
    pub href: String,
    /// Where it is, as shown.
    pub path: String,
    /// `run` or `sweep point`.
    pub kind: &'static str,
    /// Its summary.
    pub summary: Json,
}

/// One sweep of an index page.
#[derive(Clone, Debug)]
pub struct IndexSweep {
    /// Link target (relative to the page): sweep.json.
    pub href: String,
    /// Where it is, as shown.
    pub path: String,
    /// Its sweep.json.
    pub sweep: Json,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table cell whose sort key is `key` (numbers sort as numbers).
fn cell(text: &str, key: &Json) -> String {
    let sort = match key {
        Json::Number(n) => n.to_string(),
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("<td data-v=\"{}\">{}</td>", esc(&sort), text)
}

/// The inline script that sorts a table by the clicked column (numbers as
/// numbers, empty cells last, a second click reverses). No network.
const SORT_SCRIPT: &str = r#"<script>
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      t.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        if (x === '' || y === '') { return (x === '') - (y === ''); }
        var nx = Number(x), ny = Number(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
</script>"#;

/// The index page: a table of runs and sweep points (scenario, seed,
/// trace hash, expectations, the metrics) and a table of sweeps, each row
/// linking its report; click a column's header to sort by it.
pub fn index_html(runs: &[IndexRun], sweeps: &[IndexSweep], metrics: &[String]) -> String {
    let mut h = String::new();
    h.push_str(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>dynasim runs</title><style>\
body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3;cursor:pointer;user-select:none}\
th[data-dir=asc]::after{content:' ▲'}th[data-dir=desc]::after{content:' ▼'}\
td:nth-child(-n+3){text-align:left}.pass{color:#087f23}.fail{color:#b00020;font-weight:bold}</style></head><body>\n",
    );
    let _ = writeln!(
        h,
        "<h1>dynasim runs</h1><p>{} run(s) and sweep point(s), {} sweep(s). Click a column's header to sort by it.</p>",
        runs.len(),
        sweeps.len()
    );
    h.push_str("<h2>Runs</h2><table class=\"sortable\" id=\"runs\"><thead><tr><th>run</th><th>kind</th><th>scenario</th><th>seed</th><th>trace hash</th><th>expect</th>");
    for m in metrics {
        let _ = write!(h, "<th>{}</th>", esc(m));
    }
    h.push_str("</tr></thead><tbody>\n");
    for r in runs {
        let s = &r.summary;
        let pass = s["expectations"]
            .as_array()
            .map(|e| e.iter().all(|v| v["pass"] == json!(true)));
        let name = s["scenario"]["name"].as_str().unwrap_or("");
        h.push_str("<tr>");
        h.push_str(&cell(
            &format!("<a href=\"{}\">{}</a>", esc(&r.href), esc(&r.path)),
            &json!(r.path),
        ));
        h.push_str(&cell(r.kind, &json!(r.kind)));
        h.push_str(&cell(&esc(name), &json!(name)));
        h.push_str(&cell(
            &fmt_num(&s["run"]["rng_seed"]),
            &s["run"]["rng_seed"],
        ));
        let hash = s["run"]["trace_hash"].as_str().unwrap_or("");
        h.push_str(&cell(&esc(hash), &json!(hash)));
        h.push_str(&match pass {
            Some(true) => cell("<span class=\"pass\">pass</span>", &json!("pass")),
            Some(false) => cell("<span class=\"fail\">FAIL</span>", &json!("FAIL")),
            None => cell("–", &Json::Null),
        });
        for m in metrics {
            let v = metric_value(s, m);
            h.push_str(&cell(&fmt_num(&v), &v));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h.push_str("<h2>Sweeps</h2><table class=\"sortable\" id=\"sweeps\"><thead><tr><th>sweep</th><th>scenario file</th><th>parameters</th><th>seeds</th><th>runs</th><th>failed runs</th></tr></thead><tbody>\n");
    for s in sweeps {
        let d = &s.sweep;
        let params: Vec<String> = d["params"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}={}",
                    p["path"].as_str().unwrap_or(""),
                    p["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        let runs = d["runs"].as_array().map_or(0, Vec::len);
        let failed = d["failures"].as_array().map_or(0, Vec::len);
        let file = d["file"].as_str().unwrap_or("");
        let seeds = d["seeds"].as_str().unwrap_or("");
        h.push_str("<tr>");
        h.push_str(&cell(
            &format!("<a href=\"{}\">{}</a>", esc(&s.href), esc(&s.path)),
            &json!(s.path),
        ));
        h.push_str(&cell(&esc(file), &json!(file)));
        h.push_str(&cell(&esc(&params.join(" ")), &json!(params.join(" "))));
        h.push_str(&cell(&esc(seeds), &json!(seeds)));
        h.push_str(&cell(&runs.to_string(), &json!(runs)));
        h.push_str(&cell(&failed.to_string(), &json!(failed)));
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h.push_str(SORT_SCRIPT);
    h.push_str("\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(seed: u64, hash: &str, availability: f64) -> Json {
        json!({"scenario": {"name": "s", "rng_seed": seed}, "run": {"rng_seed": seed, "trace_hash": hash},
               "availability": availability, "expectations": [{"metric": "availability", "pass": true}]})
    }

    #[test]
    fn verdicts_and_deltas_are_against_the_first_run() {
        let runs = [
            Compared {
                source: "a".into(),
                summary: summary(1, "aa", 0.5),
            },
            Compared {
                source: "b".into(),
                summary: summary(1, "aa", 0.5),
            },
            Compared {
                source: "c".into(),
                summary: summary(2, "bb", 0.75),
            },
        ];
        let doc = compare(&runs, &["availability".to_string()]);
        let r = doc["runs"].as_array().expect("runs");
        assert_eq!(r[0]["verdict"], json!(BASELINE));
        assert_eq!(r[1]["verdict"], json!(IDENTICAL));
        assert_eq!(r[2]["verdict"], json!(DIFFERENT));
        assert_eq!(r[2]["deltas"]["availability"], json!(0.25));
        assert!(r[2]["differs_in"]
            .as_str()
            .expect("why")
            .contains("seed 1 vs 2"));
        let t = table(&doc);
        assert!(t.contains("+0.25"), "{t}");
        assert!(t.contains("identical run"), "{t}");
        let c = csv(&doc);
        assert_eq!(c.lines().count(), 4, "{c}");
        assert!(
            c.lines().nth(3).expect("row").contains(",different,"),
            "{c}"
        );
    }

    #[test]
    fn the_index_links_every_run_and_sorts_offline() {
        let runs = [IndexRun {
            href: "a/report.html".into(),
            path: "a".into(),
            kind: "run",
            summary: summary(3, "cc", 0.9),
        }];
        let html = index_html(&runs, &[], &["availability".to_string()]);
        assert!(html.contains("href=\"a/report.html\""));
        assert!(html.contains("data-v=\"0.9\""));
        assert!(!html.contains("http"), "no network");
    }
}
