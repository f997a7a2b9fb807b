//! Figures and the HTML report, drawn from a summary document.
//!
//! Everything here reads `summary.json` values (never records), so
//! `dynasim plot` can redraw saved runs and overlay several of them. Each
//! figure is written as SVG and PNG; `report.html` inlines the SVGs so it
//! opens offline as one file.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value as Json;

use crate::plot::{
    self, Band, BarNote, Chart, ChartKind, Flag, Interval, Marker, PlotError, Scale, Series,
    SeriesStyle,
};

const KINDS: [&str; 3] = ["get", "put", "delete"];

fn f(v: &Json) -> Option<f64> {
    v.as_f64()
}

fn points(v: &Json) -> Vec<(f64, f64)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((f(&p[0])?, f(&p[1])?)))
                .collect()
        })
        .unwrap_or_default()
}

fn fault_bands(summary: &Json) -> Vec<Band> {
    summary["timeline"]["fault_windows"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|w| {
                    Some(Band {
                        start: f(&w["start_s"])?,
                        end: f(&w["end_s"])?,
                        label: w["label"].as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Latency CDF per op kind (log x axis), p50 and p99 marked.
pub fn latency_chart(summary: &Json, label: &str) -> Chart {
    let mut series = Vec::new();
    let mut markers = Vec::new();
    for kind in KINDS {
        let l = &summary["latency"][kind];
        let cdf = points(&l["cdf"]);
        if cdf.is_empty() {
            continue;
        }
        series.push(Series {
            label: format!("{label}{kind}"),
            points: cdf,
            ..Default::default()
        });
        for (q, key) in [("p50", "p50_ms"), ("p99", "p99_ms")] {
            if let Some(x) = f(&l[key]) {
                markers.push(Marker {
                    x,
                    label: format!("{kind} {q} {x:.2} ms"),
                });
            }
        }
    }
    // The WARS model's get (R-th response) and put (commit) latencies.
    for kind in ["get", "put"] {
        let cdf = points(&summary["wars"]["latency"][kind]["cdf"]);
        if !cdf.is_empty() {
            series.push(Series {
                label: format!("{label}{kind} (WARS model)"),
                points: cdf,
                style: SeriesStyle::Dashed,
            });
        }
    }
    Chart {
        title: "Latency CDF by operation".into(),
        x_label: "latency (ms)".into(),
        y_label: "fraction of successful operations".into(),
        x_scale: Scale::Log,
        kind: ChartKind::Steps,
        series,
        markers,
        y_range: Some((0.0, 1.0)),
        ..Default::default()
    }
}

/// The tail beside the CDF: the fraction of successful operations slower
/// than x (1 - CDF), both axes logarithmic, so p99 and p99.9 are as far
/// apart as p9 and p99 rather than squeezed into the top 1 %.
pub fn latency_tail_chart(summary: &Json) -> Chart {
    let mut series = Vec::new();
    let mut markers = Vec::new();
    for kind in KINDS {
        let l = &summary["latency"][kind];
        let ccdf: Vec<(f64, f64)> = points(&l["cdf"])
            .into_iter()
            .map(|(x, y)| (x, 1.0 - y))
            .filter(|(_, y)| *y > 0.0)
            .collect();
        if ccdf.is_empty() {
            continue;
        }
        series.push(Series {
            label: format!("{kind} ({} successful)", l["ok"].as_u64().unwrap_or(0)),
            points: ccdf,
            ..Default::default()
        });
        for (q, key) in [("p99", "p99_ms"), ("p99.9", "p999_ms")] {
            if let Some(x) = f(&l[key]) {
                markers.push(Marker {
                    x,
                    label: format!("{kind} {q} {x:.2} ms"),
                });
            }
        }
    }
    Chart {
        title: "Latency tail (1 - CDF), log axes".into(),
        x_label: "latency (ms)".into(),
        y_label: "fraction of successful operations slower".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        kind: ChartKind::Steps,
        series,
        markers,
        ..Default::default()
    }
}

/// One run's curve for a chart: the series, its intervals and its flagged
/// points (added to a chart at series index `i` by [`Curve::add_to`]).
struct Curve {
    series: Series,
    intervals: Vec<(f64, f64, f64)>,
    flags: Vec<(f64, f64)>,
    /// Texts above bars: `(category, text)`.
    notes: Vec<(usize, String)>,
}

impl Curve {
    fn add_to(self, chart: &mut Chart) {
        let i = chart.series.len();
        chart.series.push(self.series);
        if !self.intervals.is_empty() {
            chart.intervals.push(Interval {
                series: i,
                points: self.intervals,
            });
        }
        chart.flags.extend(
            self.flags
                .into_iter()
                .map(|(x, y)| Flag { series: i, x, y }),
        );
        chart
            .bar_notes
            .extend(self.notes.into_iter().map(|(category, text)| BarNote {
                series: i,
                category,
                text,
            }));
    }
}

/// Whether one bar dwarfs the others on a linear axis: the largest
/// non-zero value is more than 50 times the smallest, so the small ones
/// would be invisible (a log axis shows them).
fn one_bar_hides_the_rest(values: &[f64]) -> bool {
    let nonzero = values.iter().copied().filter(|v| *v > 0.0);
    let (lo, hi) = nonzero.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    lo.is_finite() && hi > 50.0 * lo
}

/// The 95 % interval of a point (`ci95: [lo, hi]`).
fn ci(p: &Json) -> Option<(f64, f64)> {
    Some((f(&p["ci95"][0])?, f(&p["ci95"][1])?))
}

/// t-visibility: P(consistent read) against time since the write was done,
/// each point at its reads' mean t, with its 95 % interval; points resting
/// on fewer than 100 reads are flagged.
fn t_visibility_curve(summary: &Json, label: String) -> Curve {
    // Probe reads sit at fixed t: dots with whiskers, not a line that
    // suggests measurements in between.
    let style = if summary["staleness"]["t_visibility_kind"] == "mass_points" {
        SeriesStyle::Dots
    } else {
        SeriesStyle::Solid
    };
    let mut c = Curve {
        series: Series {
            label,
            points: Vec::new(),
            style,
        },
        intervals: Vec::new(),
        flags: Vec::new(),
        notes: Vec::new(),
    };
    let mut n = 0;
    for p in summary["staleness"]["t_visibility"]
        .as_array()
        .into_iter()
        .flatten()
    {
        n += p["reads"].as_u64().unwrap_or(0);
        let (Some(t), Some(y)) = (f(&p["t_ms"]), f(&p["p_consistent"])) else {
            continue;
        };
        c.series.points.push((t, y));
        if let Some((lo, hi)) = ci(p) {
            c.intervals.push((t, lo, hi));
        }
        if p["few_reads"].as_bool() == Some(true) {
            c.flags.push((t, y));
        }
    }
    let _ = write!(c.series.label, " (n = {n})");
    c
}

/// The WARS model's curve from a summary's `wars` block, if it has one.
fn wars_curve(summary: &Json) -> Option<Curve> {
    let w = summary.get("wars")?;
    let label = format!(
        "WARS model (N={} R={} W={})",
        w["n"].as_u64()?,
        w["r"].as_u64()?,
        w["w"].as_u64()?
    );
    let mut c = Curve {
        series: Series {
            label,
            points: Vec::new(),
            style: SeriesStyle::Dashed,
        },
        intervals: Vec::new(),
        flags: Vec::new(),
        notes: Vec::new(),
    };
    for p in w["t_visibility"].as_array()? {
        let (Some(t), Some(y)) = (f(&p["t_ms"]), f(&p["p_consistent"])) else {
            continue;
        };
        c.series.points.push((t, y));
        if let Some((lo, hi)) = ci(p) {
            c.intervals.push((t, lo, hi));
        }
    }
    Some(c)
}

/// Where t starts, for axis labels.
fn origin_words(summary: &Json) -> &'static str {
    match summary["staleness"]["origin"].as_str() {
        Some("client_ack") => "since the client got the latest write's acknowledgement",
        _ => "since the latest write committed",
    }
}

fn t_visibility_chart(curves: Vec<Curve>, origin: &str) -> Chart {
    let mut chart = Chart {
        title: "t-visibility: probability of a consistent read (95 % intervals)".into(),
        x_label: format!("time {origin} (ms)"),
        y_label: "P(read returns it or newer)".into(),
        x_scale: Scale::Log,
        kind: ChartKind::Lines,
        y_range: Some((0.0, 1.02)),
        flag_label: "fewer than 100 reads".into(),
        ..Default::default()
    };
    for c in curves {
        c.add_to(&mut chart);
    }
    // Reads at t = 0 cannot sit on a log axis: they are drawn at its left
    // edge, one decade below the smallest positive t, which a marker names.
    let xs = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
    };
    let smallest = xs().filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
    let largest = xs().fold(f64::NEG_INFINITY, f64::max);
    if xs().any(|x| x <= 0.0) && smallest.is_finite() && largest > smallest {
        let floor = smallest / 10.0;
        chart.x_range = Some((floor, largest));
        chart.markers.push(Marker {
            x: floor,
            label: "t = 0 (drawn at this edge)".into(),
        });
    }
    chart
}

const K_CATEGORIES: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10+"];

/// k-staleness: the fraction of checked reads k versions behind, with 95 %
/// intervals (from `k_staleness_detail`; older summaries without it give
/// the bars alone).
fn k_staleness_curve(summary: &Json, label: String) -> Curve {
    let k = &summary["staleness"]["k_staleness"];
    let total: f64 = K_CATEGORIES.iter().filter_map(|c| f(&k[*c])).sum();
    let detail = summary["staleness"]["k_staleness_detail"].as_array();
    let mut c = Curve {
        series: Series {
            label,
            points: Vec::new(),
            ..Default::default()
        },
        intervals: Vec::new(),
        flags: Vec::new(),
        notes: Vec::new(),
    };
    for (i, name) in K_CATEGORIES.iter().enumerate() {
        let x = i as f64;
        let count = f(&k[*name]).unwrap_or(0.0);
        c.series.points.push((x, count / total.max(1.0)));
        if let Some((lo, hi)) = detail.and_then(|d| d.get(i)).and_then(ci) {
            c.intervals.push((x, lo, hi));
        }
        if count > 0.0 {
            c.notes.push((i, format!("n={count}")));
        }
    }
    let _ = write!(c.series.label, " (n = {total} checked)");
    c
}

fn k_staleness_chart(curves: Vec<Curve>) -> Chart {
    let single = curves.len() == 1;
    let mut chart = Chart {
        title: "k-staleness: versions behind the newest (95 % intervals)".into(),
        x_label: "k (versions done before the read that replaced what it returned)".into(),
        y_label: "fraction of reads".into(),
        kind: ChartKind::Bars,
        categories: K_CATEGORIES.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    };
    for mut c in curves {
        if !single {
            // Counts over several runs' bars would collide: the legend has them.
            c.notes.clear();
        }
        c.add_to(&mut chart);
    }
    log_if_one_bar_hides_the_rest(&mut chart);
    chart
}

/// Puts a bar chart on a log y axis when one bar would hide the rest.
fn log_if_one_bar_hides_the_rest(chart: &mut Chart) {
    let values: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    if one_bar_hides_the_rest(&values) {
        chart.y_scale = Scale::Log;
        chart.y_label.push_str(" (log scale)");
        let smallest = values
            .iter()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        // Room above the tallest bar for its count.
        chart.y_range = Some((smallest / 3.0, 4.0));
    } else if !chart.bar_notes.is_empty() {
        let top = chart
            .intervals
            .iter()
            .flat_map(|i| i.points.iter().map(|p| p.2))
            .chain(values.iter().copied())
            .fold(0.0f64, f64::max);
        chart.y_range = Some((0.0, (top * 1.15).max(0.01)));
    }
}

fn siblings_chart(summary: &Json) -> Chart {
    let s = &summary["siblings"];
    let cats = ["1", "2", "3", "4+"];
    let total: f64 = cats.iter().filter_map(|c| f(&s[*c])).sum();
    let counts: Vec<f64> = cats.iter().map(|c| f(&s[*c]).unwrap_or(0.0)).collect();
    let pts = counts
        .iter()
        .enumerate()
        .map(|(i, n)| (i as f64, n / total.max(1.0)))
        .collect();
    let mut chart = Chart {
        title: "Versions per successful read (siblings)".into(),
        x_label: "versions returned".into(),
        y_label: "fraction of reads that found the key".into(),
        kind: ChartKind::Bars,
        series: vec![Series {
            label: format!("reads (n = {total})"),
            points: pts,
            ..Default::default()
        }],
        categories: cats.iter().map(|c| c.to_string()).collect(),
        bar_notes: counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0.0)
            .map(|(category, n)| BarNote {
                series: 0,
                category,
                text: format!("n={n}"),
            })
            .collect(),
        ..Default::default()
    };
    log_if_one_bar_hides_the_rest(&mut chart);
    chart
}

/// Sibling count over time for the worst keys (the most siblings a read
/// returned in each window), faults shaded.
fn siblings_over_time_chart(summary: &Json) -> Chart {
    let series = summary["objects"]["siblings_over_time"]["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .map(|k| Series {
                    label: format!("k{}", k["key"]),
                    points: points(&k["points"]),
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    Chart {
        title: "Siblings over time, worst keys".into(),
        x_label: "virtual time (s)".into(),
        y_label: "most versions a read returned".into(),
        kind: ChartKind::Lines,
        series,
        bands: fault_bands(summary),
        ..Default::default()
    }
}

/// The fewest checked reads a window needs for its stale fraction to be
/// drawn (two reads make a fraction of 0.5 that says nothing).
pub const MIN_READS_PER_WINDOW: u64 = 10;

/// A timeline: one series per `(field, legend in words)`, a window's point
/// at its start. Windows cut short by the end of the run (`partial`) are
/// left out, and for the stale fraction windows with fewer than
/// [`MIN_READS_PER_WINDOW`] checked reads.
fn timeline_chart(
    summary: &Json,
    fields: &[(&str, &str)],
    title: &str,
    y_label: &str,
    y_range: Option<(f64, f64)>,
) -> Chart {
    let windows = summary["timeline"]["windows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let series = fields
        .iter()
        .map(|(field, legend)| Series {
            label: (*legend).into(),
            points: windows
                .iter()
                .filter(|w| w["partial"].as_bool() != Some(true))
                .filter(|w| {
                    *field != "stale_read_fraction"
                        || w["reads_checked"].as_u64().unwrap_or(0) >= MIN_READS_PER_WINDOW
                })
                .filter_map(|w| Some((f(&w["start_s"])?, f(&w[*field])?)))
                .collect(),
            ..Default::default()
        })
        .collect();
    let mut markers = Vec::new();
    if let Some(end) = f(&summary["workload_end_s"]) {
        markers.push(Marker {
            x: end,
            label: "workload ends".into(),
        });
    }
    Chart {
        title: title.into(),
        x_label: "virtual time (s)".into(),
        y_label: y_label.into(),
        kind: ChartKind::Lines,
        series,
        bands: fault_bands(summary),
        markers,
        y_range,
        ..Default::default()
    }
}

/// Each operation as a dot at (completion time, latency), failures in a
/// second colour (a deterministic subsample on long runs), faults shaded.
fn scatter_chart(summary: &Json) -> Chart {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for p in summary["scatter"]["points"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(t), Some(ms)) = (f(&p[0]), f(&p[1])) else {
            continue;
        };
        if p[2].as_bool().unwrap_or(false) {
            ok.push((t, ms));
        } else {
            failed.push((t, ms));
        }
    }
    let stride = summary["scatter"]["stride"].as_u64().unwrap_or(1);
    let title = if stride > 1 {
        format!("Latency of each operation over time (every {stride}th operation)")
    } else {
        "Latency of each operation over time".to_string()
    };
    Chart {
        title,
        x_label: "virtual time at completion (s)".into(),
        y_label: "latency (ms)".into(),
        y_scale: Scale::Log,
        kind: ChartKind::Points,
        series: vec![
            Series {
                label: "ok".into(),
                points: ok,
                ..Default::default()
            },
            Series {
                label: "failed".into(),
                points: failed,
                ..Default::default()
            },
        ],
        bands: fault_bands(summary),
        ..Default::default()
    }
}

/// Completed operations per second, split by outcome, faults shaded.
fn outcomes_chart(summary: &Json) -> Chart {
    let window = f(&summary["timeline"]["window_s"]).unwrap_or(1.0).max(1e-9);
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for w in summary["timeline"]["windows"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(t), Some(done), Some(good)) = (f(&w["start_s"]), f(&w["completed"]), f(&w["ok"]))
        else {
            continue;
        };
        ok.push((t, good / window));
        failed.push((t, (done - good) / window));
    }
    Chart {
        title: "Request rate and outcome over time".into(),
        x_label: "virtual time (s)".into(),
        y_label: "operations / s".into(),
        kind: ChartKind::Lines,
        series: vec![
            Series {
                label: "ok".into(),
                points: ok,
                ..Default::default()
            },
            Series {
                label: "failed".into(),
                points: failed,
                ..Default::default()
            },
        ],
        bands: fault_bands(summary),
        ..Default::default()
    }
}

/// Node capacity: utilisation of one resource over time, one line per
/// node (the busiest ones on a large cluster), faults shaded.
fn utilisation_chart(summary: &Json, resource: &str, title: &str) -> Option<Chart> {
    let t = &summary["capacity"]["timeline"];
    let window = f(&t["window_s"])?;
    let per_node = t["utilisation"][resource].as_object()?;
    let series: Vec<Series> = per_node
        .iter()
        .map(|(node, v)| Series {
            label: node.clone(),
            points: v
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, u)| Some((i as f64 * window, f(u)?)))
                .collect(),
            ..Default::default()
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    Some(Chart {
        title: title.into(),
        x_label: "virtual time (s)".into(),
        y_label: "utilisation (busy / capacity)".into(),
        kind: ChartKind::Lines,
        series,
        bands: fault_bands(summary),
        y_range: Some((0.0, 1.05)),
        ..Default::default()
    })
}

/// The figures of one run, as `(file stem, chart)`.
pub fn run_charts(summary: &Json) -> Vec<(&'static str, Chart)> {
    let mut charts = run_charts_common(summary);
    for (resource, stem, title) in [
        (
            "cpu",
            "utilisation_cpu",
            "Request processing utilisation per node",
        ),
        ("disk", "utilisation_disk", "Disk utilisation per node"),
        (
            "egress",
            "utilisation_egress",
            "Network interface (out) utilisation per node",
        ),
        (
            "ingress",
            "utilisation_ingress",
            "Network interface (in) utilisation per node",
        ),
    ] {
        if let Some(c) = utilisation_chart(summary, resource, title) {
            charts.push((stem, c));
        }
    }
    charts
}

fn run_charts_common(summary: &Json) -> Vec<(&'static str, Chart)> {
    vec![
        ("latency", latency_chart(summary, "")),
        ("latency_tail", latency_tail_chart(summary)),
        ("latency_scatter", scatter_chart(summary)),
        ("timeline_outcomes", outcomes_chart(summary)),
        (
            "t_visibility",
            t_visibility_chart(
                std::iter::once(t_visibility_curve(summary, "simulated reads".into()))
                    .chain(wars_curve(summary))
                    .collect(),
                origin_words(summary),
            ),
        ),
        (
            "k_staleness",
            k_staleness_chart(vec![k_staleness_curve(summary, "reads".into())]),
        ),
        ("siblings", siblings_chart(summary)),
        ("siblings_over_time", siblings_over_time_chart(summary)),
        (
            "timeline_throughput",
            timeline_chart(
                summary,
                &[("throughput_per_s", "completed operations")],
                "Throughput over time",
                "completed ops / s",
                None,
            ),
        ),
        (
            "timeline_availability",
            timeline_chart(
                summary,
                &[("availability", "operations that succeeded")],
                "Availability over time",
                "fraction of ops that succeeded",
                Some((0.0, 1.02)),
            ),
        ),
        (
            "timeline_p99",
            timeline_chart(
                summary,
                &[
                    (
                        "p99_all_ms",
                        "all operations (failures at the time they failed)",
                    ),
                    ("p99_ms", "successful operations only"),
                ],
                "p99 latency over time",
                "p99 latency (ms)",
                None,
            ),
        ),
        (
            "timeline_staleness",
            timeline_chart(
                summary,
                &[("stale_read_fraction", "checked reads that were stale")],
                &format!(
                    "Stale reads over time (windows with >= {MIN_READS_PER_WINDOW} checked reads)"
                ),
                "fraction of reads that were stale",
                Some((0.0, 1.0)),
            ),
        ),
        ("timeline_divergence", divergence_chart(summary)),
    ]
}

/// Divergent keys over time (the engine's 100 ms checks, by window: the
/// most in each window at its start, the count at its end at its end),
/// faults shaded, the workload's end and the convergence marked.
fn divergence_chart(summary: &Json) -> Chart {
    let mut chart = timeline_chart(
        summary,
        &[
            ("divergent_keys_max", "most at any check in the window"),
            ("divergent_keys", "at the window's end"),
        ],
        "Keys whose replicas disagree, over time",
        "divergent keys",
        None,
    );
    // A window's end value is drawn at its end.
    let width = f(&summary["timeline"]["window_s"]).unwrap_or(0.0);
    if let Some(end) = chart.series.get_mut(1) {
        for p in &mut end.points {
            p.0 += width;
        }
    }
    let c = &summary["convergence"];
    if let Some(at) = f(&c["converged_at_s"]).filter(|t| *t > 0.0) {
        chart.markers.push(Marker {
            x: at,
            label: "replicas agree from here".into(),
        });
    }
    chart
}

/// Writes every figure (SVG + PNG) and `report.html` into `dir`.
pub fn write_report(summary: &Json, dir: &Path) -> Result<(), PlotError> {
    let charts = run_charts(summary);
    let mut svgs = Vec::new();
    for (stem, chart) in &charts {
        plot::write_chart(chart, dir, stem)?;
        svgs.push((
            *stem,
            plot::render_svg(chart, plot::DEFAULT_WIDTH, plot::DEFAULT_HEIGHT)?,
        ));
    }
    let html = report_html(summary, &svgs);
    let path = dir.join("report.html");
    crate::files::write_atomic(&path, html.as_bytes()).map_err(|e| PlotError::Io {
        path: path.clone(),
        source: e.source,
    })
}

/// The figures [`write_report`] writes (each as `.svg` and `.png`), in
/// [`run_charts`] order.
pub const RUN_FIGURES: [&str; 13] = [
    "latency",
    "latency_tail",
    "latency_scatter",
    "timeline_outcomes",
    "t_visibility",
    "k_staleness",
    "siblings",
    "siblings_over_time",
    "timeline_throughput",
    "timeline_availability",
    "timeline_p99",
    "timeline_staleness",
    "timeline_divergence",
];

/// The figures [`write_report`] writes only when the summary has what they
/// show (node capacity's utilisation per node).
pub const CAPACITY_FIGURES: [&str; 4] = [
    "utilisation_cpu",
    "utilisation_disk",
    "utilisation_egress",
    "utilisation_ingress",
];

/// The figures [`write_overlays`] writes (each as `.svg` and `.png`).
pub const OVERLAY_FIGURES: [&str; 4] =
    ["t_visibility", "k_staleness", "latency_get", "latency_put"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn report_html(summary: &Json, svgs: &[(&str, String)]) -> String {
    let sc = &summary["scenario"];
    let mut h = String::new();
    let name = esc(sc["name"].as_str().unwrap_or("run"));
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>dynasim: {name}</title><style>\
body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f3f3f3}}td.l,th.l{{text-align:left}}\
.pass{{color:#087f23}}.fail{{color:#b00020;font-weight:bold}}pre{{background:#f6f6f6;padding:.6em;overflow:auto}}\
</style></head><body><h1>dynasim: {name}</h1><p>{}</p>",
        esc(sc["description"].as_str().unwrap_or(""))
    );
    let run = &summary["run"];
    let _ = write!(
        h,
        "<table><tr><th class=l>rng_seed</th><td>{}</td><th class=l>trace hash</th><td>{}</td><th class=l>events</th><td>{}</td><th class=l>version</th><td>{}</td></tr></table>",
        run["rng_seed"], esc(run["trace_hash"].as_str().unwrap_or("")), run["events"], esc(&format!(
            "{} (commit {}, {} build)",
            run["dynasim_version"].as_str().unwrap_or(""),
            run["dynasim_commit"].as_str().unwrap_or("unknown"),
            run["dynasim_build"].as_str().unwrap_or("unknown")
        ))
    );
    if let Some(note) = crate::report::incomplete_note(summary) {
        let _ = write!(h, "<p class=fail>{}</p>", esc(&note));
    }
    let verdicts = summary["expectations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !verdicts.is_empty() {
        h.push_str("<h2>Expectations</h2><table><tr><th class=l>metric</th><th>min</th><th>max</th><th>value</th><th>result</th></tr>");
        for v in verdicts {
            let pass = v["pass"].as_bool().unwrap_or(false);
            let _ =
                write!(
                h,
                "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td class={}>{}</td></tr>",
                esc(v["metric"].as_str().unwrap_or("")),
                fmt_num(&v["min"]), fmt_num(&v["max"]), fmt_num(&v["value"]),
                if pass { "pass" } else { "fail" },
                if pass { "pass" } else { "FAIL" }
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Summary</h2><table><tr><th class=l>op</th><th>count</th><th>failed</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>");
    for kind in KINDS {
        let l = &summary["latency"][kind];
        if l["count"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let g = |k: &str| f(&l[k]).map_or("-".into(), |x| format!("{x:.3}"));
        let _ = write!(
            h,
            "<tr><td class=l>{kind}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            l["count"], l["failed"], g("p50_ms"), g("p90_ms"), g("p99_ms"), g("p999_ms"), g("max_ms")
        );
    }
    h.push_str("</table><table>");
    for (label, v) in [
        ("availability", &summary["availability"]),
        (
            "stale read fraction",
            &summary["staleness"]["stale_read_fraction"],
        ),
        (
            "single-version reads",
            &summary["siblings"]["single_version_fraction"],
        ),
        (
            "acknowledged writes",
            &summary["durability"]["acknowledged"],
        ),
        ("lost writes", &summary["durability"]["lost"]),
        (
            "resurrected deletes",
            &summary["anomalies"]["resurrected_deletes"],
        ),
        (
            "read-your-writes violations",
            &summary["anomalies"]["read_your_writes_violations"],
        ),
        (
            "monotonic-read violations",
            &summary["anomalies"]["monotonic_read_violations"],
        ),
        (
            "of which of acknowledged writes",
            &summary["anomalies"]["monotonic_read_violations_of_acknowledged_writes"],
        ),
        (
            "divergent keys at end",
            &summary["convergence"]["divergent_keys"],
        ),
        (
            "most divergent keys at any check",
            &summary["convergence"]["peak_divergent_keys"],
        ),
        (
            "replicas agree from (s)",
            &summary["convergence"]["converged_at_s"],
        ),
        (
            "last heal's divergence cleared in (s)",
            &summary["convergence"]["time_to_converge_from_last_heal_s"],
        ),
        (
            "hints stored / delivered",
            &Json::String(format!(
                "{} / {}",
                summary["repair"]["hints_stored"], summary["repair"]["hints_delivered"]
            )),
        ),
        ("read repairs", &summary["repair"]["read_repairs"]),
        (
            "load-balancing efficiency",
            &summary["load"]["load_balancing_efficiency"],
        ),
    ] {
        let text = match v {
            Json::String(s) => s.clone(),
            other => fmt_num(other),
        };
        let _ = write!(
            h,
            "<tr><th class=l>{label}</th><td>{}</td></tr>",
            esc(&text)
        );
    }
    h.push_str("</table>");
    h.push_str(&breakdown_html(summary));
    if let Some(w) = summary.get("wars").filter(|w| w.get("trials").is_some()) {
        let _ = write!(
            h,
            "<h2>WARS model</h2><p>PBS's model (Bailis et al. 2012) for N={} R={} W={} from this scenario's per-message-kind latencies, {} trials: P(consistent | t = 0) = {}. Against the simulated curve at {} points resting on at least 100 reads: largest gap {} (at {} ms); {} of those points' 95 % intervals leave the model out. The t-visibility and latency figures overlay the model.</p>",
            w["n"], w["r"], w["w"], w["trials"], w["p_consistent_t0"], w["points_compared"],
            w["max_gap"], w["max_gap_t_ms"], w["points_outside_ci"]
        );
        let caveats: Vec<&str> = w["caveats"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        if !caveats.is_empty() {
            h.push_str("<p>Not in the model:</p><ul>");
            for c in caveats {
                let _ = write!(h, "<li>{}</li>", esc(c));
            }
            h.push_str("</ul>");
        }
    }
    let lost = summary["durability"]["lost_writes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !lost.is_empty() {
        h.push_str("<h2>Lost writes</h2><table><tr><th>key</th><th class=l>value</th><th>acknowledged at (s)</th></tr>");
        for l in lost {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=l>{}</td><td>{}</td></tr>",
                l["key"],
                esc(l["value"].as_str().unwrap_or("")),
                l["acked_at_s"]
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Figures</h2>");
    for (_, svg) in svgs {
        h.push_str("<div>");
        h.push_str(svg);
        h.push_str("</div>");
    }
    let faults = summary["faults"].as_array().cloned().unwrap_or_default();
    if !faults.is_empty() {
        h.push_str("<h2>Faults applied</h2><pre>");
        for x in faults {
            let _ = writeln!(
                h,
                "{:>10.3} s  {}",
                f(&x["at_s"]).unwrap_or(0.0),
                esc(x["action"].as_str().unwrap_or(""))
            );
        }
        h.push_str("</pre>");
    }
    let _ = writeln!(
        h,
        "<h2>Scenario</h2><pre>{}</pre></body></html>",
        esc(&serde_json::to_string_pretty(sc).unwrap_or_default())
    );
    h
}

/// Labels for several runs: the scenario fields that differ between them
/// (falling back to name and seed).
pub fn overlay_labels(summaries: &[Json]) -> Vec<String> {
    let fields = [
        ("quorum", "quorum"),
        ("versioning", "versioning"),
        ("quorum_mode", "quorum"),
        ("routing", "routing"),
        ("hinted_handoff", "hinted_handoff"),
        ("read_repair", "read_repair"),
        ("nodes", "nodes"),
        ("name", "scenario"),
        ("rng_seed", "seed"),
    ];
    let differing: Vec<&(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| {
            summaries
                .windows(2)
                .any(|w| w[0]["scenario"][*k] != w[1]["scenario"][*k])
        })
        .collect();
    summaries
        .iter()
        .map(|s| {
            let sc = &s["scenario"];
            let parts: Vec<String> = differing
                .iter()
                .map(|(k, label)| match *k {
                    "quorum" => format!(
                        "N={} R={} W={}",
                        sc["quorum"]["n"], sc["quorum"]["r"], sc["quorum"]["w"]
                    ),
                    _ => format!(
                        "{label}={}",
                        sc[*k].as_str().map_or(sc[*k].to_string(), str::to_string)
                    ),
                })
                .collect();
            if parts.is_empty() {
                format!(
                    "{} seed {}",
                    sc["name"].as_str().unwrap_or("run"),
                    sc["rng_seed"]
                )
            } else {
                parts.join(" ")
            }
        })
        .collect()
}

/// A sweep over one numeric parameter (an arrival rate, say): get and put
/// p50, p99 and p99.9 of the merged runs of each point against the
/// parameter's value, on a log latency axis. `points` are `(value, merged
/// summary of the point)`; nothing is drawn with fewer than two.
pub fn write_latency_vs_parameter(
    points: &[(f64, Json)],
    parameter: &str,
    dir: &Path,
) -> Result<bool, PlotError> {
    if points.len() < 2 {
        return Ok(false);
    }
    let mut series = Vec::new();
    for kind in ["get", "put"] {
        for (field, name) in [("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p99.9")] {
            let pts: Vec<(f64, f64)> = points
                .iter()
                .filter_map(|(x, s)| Some((*x, f(&s["latency"][kind][field])?)))
                .filter(|(_, y)| *y > 0.0)
                .collect();
            if !pts.is_empty() {
                series.push(Series {
                    label: format!("{kind} {name}"),
                    points: pts,
                    ..Default::default()
                });
            }
        }
    }
    let chart = Chart {
        title: format!("Latency against {parameter}"),
        x_label: parameter.into(),
        y_label: "latency (ms), successful operations".into(),
        y_scale: Scale::Log,
        kind: ChartKind::Lines,
        series,
        ..Default::default()
    };
    plot::write_chart(&chart, dir, "latency_vs_param")?;
    Ok(true)
}

/// Overlays several runs: t-visibility, k-staleness and per-kind latency CDFs.
pub fn write_overlays(summaries: &[Json], dir: &Path) -> Result<(), PlotError> {
    let labels = overlay_labels(summaries);
    let tv = summaries
        .iter()
        .zip(&labels)
        .map(|(s, l)| t_visibility_curve(s, l.clone()))
        .collect();
    let origin = summaries.first().map_or("", origin_words);
    let mut tv: Vec<Curve> = tv;
    // The model of the first run that has one (runs of one scenario share it).
    tv.extend(summaries.iter().find_map(wars_curve));
    plot::write_chart(&t_visibility_chart(tv, origin), dir, "t_visibility")?;
    let ks = summaries
        .iter()
        .zip(&labels)
        .map(|(s, l)| k_staleness_curve(s, l.clone()))
        .collect();
    plot::write_chart(&k_staleness_chart(ks), dir, "k_staleness")?;
    for kind in ["get", "put"] {
        let mut series: Vec<Series> = summaries
            .iter()
            .zip(&labels)
            .map(|(s, l)| Series {
                label: l.clone(),
                points: points(&s["latency"][kind]["cdf"]),
                ..Default::default()
            })
            .collect();
        if let Some(cdf) = summaries
            .iter()
            .map(|s| points(&s["wars"]["latency"][kind]["cdf"]))
            .find(|c| !c.is_empty())
        {
            series.push(Series {
                label: "WARS model".into(),
                points: cdf,
                style: SeriesStyle::Dashed,
            });
        }
        let chart = Chart {
            title: format!("{kind} latency CDF"),
            x_label: "latency (ms)".into(),
            y_label: "fraction of successful operations".into(),
            x_scale: Scale::Log,
            kind: ChartKind::Steps,
            series,
            y_range: Some((0.0, 1.0)),
            ..Default::default()
        };
        plot::write_chart(&chart, dir, &format!("latency_{kind}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_lists_name_what_is_written() {
        let summary = serde_json::json!({});
        let stems: Vec<&str> = run_charts(&summary).iter().map(|(s, _)| *s).collect();
        assert_eq!(
            stems, RUN_FIGURES,
            "dynasim clears these from a reused --out"
        );
        let dir = std::env::temp_dir().join(format!("dynasim-overlays-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_overlays(&[summary], &dir).expect("overlays");
        let mut written: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        written.sort();
        let mut expected: Vec<String> = OVERLAY_FIGURES
            .iter()
            .flat_map(|n| [format!("{n}.png"), format!("{n}.svg")])
            .collect();
        expected.sort();
        assert_eq!(written, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Staleness figures carry their sample counts; a bar chart where one
    /// bar dwarfs the rest goes on a log axis so the small ones show.
    #[test]
    fn staleness_figures_count_their_samples_and_small_bars_stay_visible() {
        let summary = serde_json::json!({
            "staleness": {
                "k_staleness": {"0": 990, "1": 10},
                "t_visibility": [{"t_ms": 1.0, "reads": 600, "consistent": 590, "p_consistent": 0.98},
                                 {"t_ms": 10.0, "reads": 400, "consistent": 400, "p_consistent": 1.0}],
            },
            "siblings": {"1": 2000, "2": 10, "3": 0, "4+": 1},
        });
        let k = k_staleness_chart(vec![k_staleness_curve(&summary, "reads".into())]);
        assert_eq!(k.series[0].label, "reads (n = 1000 checked)");
        let notes: Vec<&str> = k.bar_notes.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(notes, ["n=990", "n=10"]);
        assert_eq!(k.y_scale, Scale::Log, "0.99 against 0.01");
        let tv = t_visibility_curve(&summary, "simulated reads".into());
        assert_eq!(tv.series.label, "simulated reads (n = 1000)");
        let sib = siblings_chart(&summary);
        assert_eq!(sib.y_scale, Scale::Log);
        assert!(sib.y_label.ends_with("(log scale)"));
        assert_eq!(sib.bar_notes.len(), 3, "no note on an empty bar");
        let svg = |c: &Chart| {
            plot::render_svg(c, plot::DEFAULT_WIDTH, plot::DEFAULT_HEIGHT).expect("svg")
        };
        let bare = Chart {
            bar_notes: Vec::new(),
            ..sib.clone()
        };
        assert_ne!(svg(&sib), svg(&bare), "the counts are drawn");
        // Comparable bars stay linear.
        let even = serde_json::json!({"siblings": {"1": 60, "2": 40, "3": 0, "4+": 0}});
        assert_eq!(siblings_chart(&even).y_scale, Scale::Linear);
        assert!(!one_bar_hides_the_rest(&[0.0, 0.5, 0.02]));
        assert!(one_bar_hides_the_rest(&[0.99, 0.001]));
    }

    /// The README's outputs table names exactly the figures every run
    /// writes (the test above ties those to what is drawn).
    #[test]
    fn the_readme_lists_every_run_figure() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md");
        let row = readme
            .lines()
            .find(|l| l.starts_with("| `latency`,"))
            .expect("the figures row of the outputs table");
        let names = row.split("`.svg`").next().unwrap_or_default();
        let mut listed: Vec<String> = Vec::new();
        for name in names.split('`').skip(1).step_by(2) {
            match name.split_once('{') {
                Some((stem, rest)) => {
                    for part in rest.trim_end_matches('}').split(',') {
                        listed.push(format!("{stem}{part}"));
                    }
                }
                None => listed.push(name.to_string()),
            }
        }
        listed.sort();
        let mut figures: Vec<String> = RUN_FIGURES.iter().map(|s| s.to_string()).collect();
        figures.sort();
        assert_eq!(listed, figures, "README's figure list against RUN_FIGURES");
    }
}

/// A number for a report table, to meaningful digits: integers as they
/// are, other numbers to 5 significant digits (`0.99496`, `52.731`,
/// `1234.6`; trailing zeros dropped only when the value is exact, so 0.999999
/// shows as `1.00000`, not `1`), a dash for nothing (null).
pub fn fmt_num(v: &Json) -> String {
    match v {
        Json::Null => "–".into(),
        Json::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        Json::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if x == 0.0 || !x.is_finite() {
                return format!("{x}");
            }
            let digits = (4 - x.abs().log10().floor() as i32).clamp(1, 12) as usize;
            let text = format!("{x:.digits$}");
            let trimmed = text.trim_end_matches('0').trim_end_matches('.');
            // Zeros go only when the value is exact (0.999999 stays 1.0000).
            if trimmed.parse::<f64>() == Ok(x) {
                trimmed.to_string()
            } else {
                text
            }
        }
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The report's breakdown tables (see [`crate::breakdown`]).
fn breakdown_html(summary: &Json) -> String {
    let b = &summary["breakdown"];
    if !b.is_object() {
        return String::new();
    }
    let mut h = String::from(
        "<h2>Breakdowns</h2><p>Operations count in the phase in which they were invoked. \
         <i>p99 all</i> counts failed operations at the time they took to fail (a client \
         timeout at the timeout); <i>p99 ok</i> only successful ones.</p>",
    );
    let table = |h: &mut String, title: &str, rows: Vec<(String, &Json)>| {
        let _ = write!(
            h,
            "<table><tr><th class=l>{}</th><th>ops</th><th>failed</th><th>availability</th><th>p50 ok ms</th><th>p99 ok ms</th><th>p99 all ms</th><th>p99.9 all ms</th><th>reads checked</th><th>stale fraction</th><th>multi-version reads</th></tr>",
            esc(title)
        );
        for (name, s) in rows {
            let _ = write!(
                h,
                "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&name),
                fmt_num(&s["ops"]),
                fmt_num(&s["failed"]),
                fmt_num(&s["availability"]),
                fmt_num(&s["latency_ok_ms"]["p50"]),
                fmt_num(&s["latency_ok_ms"]["p99"]),
                fmt_num(&s["latency_all_ms"]["p99"]),
                fmt_num(&s["latency_all_ms"]["p999"]),
                fmt_num(&s["reads_checked"]),
                fmt_num(&s["stale_read_fraction"]),
                fmt_num(&s["multi_version_read_fraction"]),
            );
        }
        h.push_str("</table>");
    };
    let phases: Vec<(String, &Json)> = b["by_phase"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                format!(
                    "{} ({}–{} s)",
                    p["phase"].as_str().unwrap_or(""),
                    fmt_num(&p["start_s"]),
                    fmt_num(&p["end_s"])
                ),
                p,
            )
        })
        .collect();
    table(&mut h, "phase", phases);
    for (key, title) in [
        ("by_datacenter", "datacenter (of the client)"),
        ("by_client_group", "client group"),
        ("by_client", "client"),
    ] {
        let rows = crate::breakdown::groups(b, key);
        if rows.len() > 1 {
            table(&mut h, title, rows);
        }
    }
    h
}

#[cfg(test)]
mod number_tests {
    use super::fmt_num;
    use serde_json::json;

    #[test]
    fn report_numbers_have_meaningful_digits() {
        assert_eq!(fmt_num(&json!(0.9949558638083228)), "0.99496");
        assert_eq!(fmt_num(&json!(52.7312)), "52.731");
        assert_eq!(fmt_num(&json!(1234.56)), "1234.6");
        assert_eq!(fmt_num(&json!(1.0)), "1");
        assert_eq!(fmt_num(&json!(0.0)), "0");
        assert_eq!(fmt_num(&json!(0.999999)), "1.00000");
        assert_eq!(fmt_num(&json!(17)), "17");
        assert_eq!(fmt_num(&json!(null)), "–");
    }
}
