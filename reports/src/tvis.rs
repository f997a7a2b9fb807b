//! The t-visibility curve: P(a read is consistent | it started t after the
//! latest write it must see), kept exactly per read and reported with the
//! number of reads behind every point and a 95 % Wilson interval.
//!
//! Each checked read arrives with its exact `t` (whole microseconds). Two
//! views are kept:
//! - **mass points**: a count per distinct `t`, for workloads that put reads
//!   at fixed times (the probe workload). Kept while there are at most
//!   [`MASS_POINTS_MAX`] distinct values; beyond that the map is dropped;
//! - **bins**: fine logarithmic bins, 20 per decade from 1 µs to 10 s (1 µs
//!   wide below 20 µs, where rounding to whole microseconds would make them
//!   narrower), plus `t = 0` exactly and everything from 10 s up; or the
//!   bins a scenario names (`metrics.t_visibility_grid_ms`). A bin reports the
//!   mean `t` of its reads, not its lower edge, so a curve drawn through the
//!   points does not lean towards earlier times (the bias a coarse grid read
//!   at its lower edges has).
//!
//! This module owns counting and the interval; it never decides whether a
//! read is consistent (that is `metrics`).

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

/// Distinct `t` values kept exactly before the mass points are dropped.
pub const MASS_POINTS_MAX: usize = 4096;

/// Points resting on fewer reads than this are flagged (`few_reads`) and
/// drawn hollow.
pub const FEW_READS: u64 = 100;

/// Bins per decade of the default logarithmic bins.
pub const BINS_PER_DECADE: u32 = 20;

/// The standard normal quantile for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95 % Wilson score interval of `successes` out of `n` trials
/// (`(0, 1)` for no trials). Unlike the normal approximation it stays inside
/// [0, 1] and is not degenerate at 0 or n successes.
pub fn wilson95(successes: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The default bin edges in µs: 0, then 20 per decade from 1 µs to 10 s
/// (rounded to whole microseconds, duplicates dropped), the last bin open.
pub fn default_edges_us() -> Vec<u64> {
    let mut edges = vec![0u64, 1];
    for i in 1..=(7 * BINS_PER_DECADE) {
        let e = 10f64
            .powf(f64::from(i) / f64::from(BINS_PER_DECADE))
            .round() as u64;
        if edges.last().is_some_and(|last| e > *last) {
            edges.push(e);
        }
    }
    edges
}

#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    reads: u64,
    consistent: u64,
    t_sum_us: u128,
}

impl Cell {
    fn add(&mut self, t_us: u64, consistent: bool) {
        self.reads += 1;
        self.consistent += u64::from(consistent);
        self.t_sum_us += u128::from(t_us);
    }
}

/// The accumulator (see the module docs).
#[derive(Clone, Debug)]
pub struct TVisibility {
    edges: Vec<u64>,
    bins: Vec<Cell>,
    exact: Option<BTreeMap<u64, Cell>>,
    /// Report mass points when there are at most this many distinct `t`
    /// (the probe grid's size), bins otherwise.
    mass_points_max: Option<usize>,
}

impl TVisibility {
    /// Bins at `edges` (µs, increasing; the default bins when `None`);
    /// with `mass_points` set (a probe workload's grid size), the exact
    /// values are reported instead when there are at most that many.
    pub fn new(edges: Option<Vec<u64>>, mass_points: Option<usize>) -> TVisibility {
        let edges = edges.unwrap_or_else(default_edges_us);
        TVisibility {
            bins: vec![Cell::default(); edges.len()],
            edges,
            exact: Some(BTreeMap::new()),
            mass_points_max: mass_points,
        }
    }

    /// One checked read, `t_us` after the write it had to see.
    pub fn record(&mut self, t_us: u64, consistent: bool) {
        // The last edge at or below t (t below the first edge counts there).
        let i = self.edges.partition_point(|e| *e <= t_us).saturating_sub(1);
        if let Some(cell) = self.bins.get_mut(i) {
            cell.add(t_us, consistent);
        }
        if let Some(exact) = &mut self.exact {
            exact.entry(t_us).or_default().add(t_us, consistent);
            if exact.len() > MASS_POINTS_MAX {
                self.exact = None;
            }
        }
    }

    /// True when the report lists exact mass points rather than bins.
    pub fn is_mass_points(&self) -> bool {
        match (&self.exact, self.mass_points_max) {
            (Some(exact), Some(max)) => exact.len() <= max,
            _ => false,
        }
    }

    /// The reported points, each `{t_ms, t_ms_lo, t_ms_hi, reads,
    /// consistent, p_consistent, ci95: [lo, hi], few_reads}`; only points
    /// with reads. For a mass point `t_ms_lo = t_ms_hi = t_ms`; a bin covers
    /// `[t_ms_lo, t_ms_hi)` (`t_ms_hi` null for the open last bin) and
    /// `t_ms` is the mean t of its reads.
    pub fn points(&self) -> Vec<Json> {
        let ms = |us: u64| us as f64 / 1000.0;
        if self.is_mass_points() {
            let exact = self.exact.as_ref().expect("mass points are kept");
            return exact
                .iter()
                .map(|(t, c)| point(c, ms(*t), Some(ms(*t)), ms(*t)))
                .collect();
        }
        self.bins
            .iter()
            .enumerate()
            .filter(|(_, c)| c.reads > 0)
            .map(|(i, c)| {
                let mean = c.t_sum_us as f64 / c.reads as f64 / 1000.0;
                point(
                    c,
                    ms(self.edges[i]),
                    self.edges.get(i + 1).map(|e| ms(*e)),
                    mean,
                )
            })
            .collect()
    }
}

fn point(c: &Cell, lo_ms: f64, hi_ms: Option<f64>, t_ms: f64) -> Json {
    let (lo, hi) = wilson95(c.consistent, c.reads);
    json!({
        "t_ms": t_ms,
        "t_ms_lo": lo_ms,
        "t_ms_hi": hi_ms,
        "reads": c.reads,
        "consistent": c.consistent,
        "p_consistent": c.consistent as f64 / c.reads as f64,
        "ci95": [lo, hi],
        "few_reads": c.reads < FEW_READS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_reference_values() {
        // Wilson (1927) / Newcombe (1998) table: 81 of 263 gives
        // [0.2553, 0.3662]; 0 of 10 gives [0, 0.2775].
        let (lo, hi) = wilson95(81, 263);
        assert!(
            (lo - 0.2553).abs() < 1e-4 && (hi - 0.3662).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson95(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-4, "{hi}");
        let (lo, hi) = wilson95(10, 10);
        assert!(
            (lo - 0.7225).abs() < 1e-4 && (hi - 1.0).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(wilson95(0, 0), (0.0, 1.0));
    }

    #[test]
    fn default_bins_are_at_least_twenty_per_decade() {
        let e = default_edges_us();
        assert_eq!(&e[..3], &[0, 1, 2]);
        assert_eq!(*e.last().expect("edges"), 10_000_000);
        for decade in 2..7 {
            let lo = 10u64.pow(decade);
            let n = e.iter().filter(|x| **x >= lo && **x < lo * 10).count();
            assert!(n >= 20, "{n} bins in [{lo}, {})", lo * 10);
        }
        assert!(e.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_bin_reports_its_reads_mean_t_and_mass_points_their_exact_t() {
        let mut tv = TVisibility::new(None, Some(3));
        for (t, ok) in [
            (0, false),
            (0, true),
            (1500, true),
            (1500, true),
            (9000, false),
        ] {
            tv.record(t, ok);
        }
        assert!(tv.is_mass_points());
        let p = tv.points();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1]["t_ms"], json!(1.5));
        assert_eq!(p[1]["t_ms_lo"], json!(1.5));
        assert_eq!(p[1]["reads"], json!(2));
        assert_eq!(p[0]["p_consistent"], json!(0.5));
        assert_eq!(p[2]["few_reads"], json!(true));
        // A fourth distinct t: more than the grid, so bins.
        tv.record(1510, false);
        assert!(!tv.is_mass_points());
        let p = tv.points();
        let bin = p
            .iter()
            .find(|x| {
                x["t_ms_lo"].as_f64().expect("lo") <= 1.5
                    && x["t_ms_hi"].as_f64().expect("hi") > 1.51
            })
            .expect("1.5 and 1.51 ms share a bin");
        assert_eq!(bin["reads"], json!(3));
        assert!((bin["t_ms"].as_f64().expect("t") - 4.51 / 3.0).abs() < 1e-12);
        // Without a probe grid there are never mass points.
        let mut tv = TVisibility::new(None, None);
        tv.record(5, true);
        assert!(!tv.is_mass_points());
    }

    #[test]
    fn explicit_edges_count_below_the_first_edge_in_the_first_bin() {
        let mut tv = TVisibility::new(Some(vec![1000, 2000]), None);
        tv.record(10, true);
        tv.record(1999, false);
        tv.record(50_000, true);
        let p = tv.points();
        assert_eq!(p[0]["reads"], json!(2));
        assert_eq!(p[1]["t_ms_hi"], Json::Null);
    }
}
