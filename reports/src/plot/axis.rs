//! Axis ranges, tick placement and tick-label formatting.
//!
//! Everything here works in *plot space*: the raw value for a linear axis,
//! `log10(value)` for a log axis, the category index for a category axis.

use super::Scale;

/// Smallest relative width a fitted range may have before it is treated as a
/// single value and widened.
const MIN_RELATIVE_SPAN: f64 = 1e-9;

/// Fraction of the data span added on each side when fitting a range.
const PAD_FRACTION: f64 = 0.05;

/// Labelled ticks wanted when nobody says otherwise.
const DEFAULT_TICKS: usize = 10;

/// Upper bound on ticks of any kind, whatever plotters asks for.
const MAX_TICKS: usize = 200;

/// What the axis positions mean.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AxisKind {
    /// Numbers on a linear or logarithmic scale.
    Numeric(Scale),
    /// Integer category indices `0..n` labelled with these names.
    Category(Vec<String>),
}

/// One chart axis: its plot-space range and how to turn values into plot
/// space (log floor) and ticks back into labels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub(crate) kind: AxisKind,
    /// Plot-space lower bound.
    pub(crate) lo: f64,
    /// Plot-space upper bound (always `> lo`).
    pub(crate) hi: f64,
    /// Raw values at or below zero on a log axis are drawn at this value.
    pub(crate) log_floor: f64,
    /// Most labelled ticks wanted (set from the pixel size before drawing).
    pub(crate) max_ticks: usize,
}

/// Inputs for fitting a numeric axis.
pub(crate) struct AxisSpec<'a> {
    pub(crate) scale: Scale,
    /// Finite raw values from the data (points, and for x also bands/markers).
    pub(crate) values: &'a [f64],
    /// The caller's explicit range, if any.
    pub(crate) explicit: Option<(f64, f64)>,
    /// Whether a linear fitted range must include zero (bar baselines).
    pub(crate) include_zero: bool,
}

impl Axis {
    /// Fits a numeric axis to `spec`. Never fails: degenerate inputs produce a
    /// sane default range.
    pub(crate) fn numeric(spec: &AxisSpec<'_>) -> Self {
        let explicit = spec
            .explicit
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| if a <= b { (a, b) } else { (b, a) });
        let log_floor = match spec.scale {
            Scale::Linear => 1.0,
            Scale::Log => log_floor(spec.values, explicit),
        };
        let mut axis = Axis {
            kind: AxisKind::Numeric(spec.scale),
            lo: 0.0,
            hi: 1.0,
            log_floor,
            max_ticks: DEFAULT_TICKS,
        };
        let (lo, hi) = match explicit {
            Some((a, b)) => {
                let (lo, hi) = (axis.to_plot(a), axis.to_plot(b));
                widen_if_degenerate(spec.scale, lo, hi).unwrap_or((lo, hi))
            }
            None => axis.fit(spec),
        };
        axis.lo = clamp_finite(lo);
        axis.hi = clamp_finite(hi);
        if spec.scale == Scale::Log {
            // Stay within what f64 can represent, so every tick has a value.
            let (min, max) = (f64::MIN_POSITIVE.log10(), f64::MAX.log10());
            axis.lo = axis.lo.clamp(min, max - 1.0);
            axis.hi = axis.hi.clamp(axis.lo + 0.1, max);
        }
        if axis.hi.partial_cmp(&axis.lo) != Some(std::cmp::Ordering::Greater) {
            // Only reachable at the very edge of f64; keep a usable axis.
            axis.lo = 0.0;
            axis.hi = 1.0;
        }
        axis
    }

    /// A category axis with `n` slots centred on `0..n`.
    pub(crate) fn category(names: Vec<String>, n: f64) -> Self {
        let n = if n.is_finite() { n.max(1.0) } else { 1.0 };
        Axis {
            kind: AxisKind::Category(names),
            lo: -0.5,
            hi: n - 0.5,
            log_floor: 1.0,
            max_ticks: DEFAULT_TICKS,
        }
    }

    /// Whether this axis is logarithmic.
    pub(crate) fn is_log(&self) -> bool {
        self.kind == AxisKind::Numeric(Scale::Log)
    }

    /// Maps a finite raw value to plot space (log axes clamp to the floor).
    pub(crate) fn to_plot(&self, v: f64) -> f64 {
        if self.is_log() {
            v.max(self.log_floor).log10()
        } else {
            v
        }
    }

    /// Maps a raw value to plot space, or `None` if it is NaN or infinite.
    pub(crate) fn to_plot_checked(&self, v: f64) -> Option<f64> {
        v.is_finite().then(|| self.to_plot(v))
    }

    /// Fraction of the way from `lo` to `hi` (overflow-safe for huge ranges).
    pub(crate) fn fraction(&self, v: f64) -> f64 {
        let half_span = self.hi * 0.5 - self.lo * 0.5;
        if half_span > 0.0 {
            (v * 0.5 - self.lo * 0.5) / half_span
        } else {
            0.5
        }
    }

    fn fit(&self, spec: &AxisSpec<'_>) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &v in spec.values.iter().filter(|v| v.is_finite()) {
            let p = self.to_plot(v);
            lo = lo.min(p);
            hi = hi.max(p);
        }
        if spec.include_zero && spec.scale == Scale::Linear {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if lo > hi {
            // No data at all: 0..1 on a linear axis, 1..10 on a log axis.
            return (0.0, 1.0);
        }
        if let Some(widened) = widen_if_degenerate(spec.scale, lo, hi) {
            return widened;
        }
        let pad = (hi * 0.5 - lo * 0.5) * 2.0 * PAD_FRACTION;
        let (mut plo, mut phi) = (lo - pad, hi + pad);
        if spec.scale == Scale::Linear {
            // Don't pad across zero: counts and CDFs start at the axis.
            if lo >= 0.0 && plo < 0.0 {
                plo = 0.0;
            }
            if hi <= 0.0 && phi > 0.0 {
                phi = 0.0;
            }
        }
        (plo, phi)
    }

    /// Major (labelled) tick positions in plot space, at most `max_n`.
    pub(crate) fn major_ticks(&self, max_n: usize) -> Vec<f64> {
        let max_n = max_n.clamp(2, MAX_TICKS);
        match &self.kind {
            AxisKind::Numeric(Scale::Linear) => linear_ticks(self.lo, self.hi, max_n).0,
            AxisKind::Numeric(Scale::Log) => log_ticks(self.lo, self.hi, max_n).major,
            AxisKind::Category(_) => category_ticks(self.hi, max_n),
        }
    }

    /// Minor (unlabelled, light grid) tick positions in plot space.
    pub(crate) fn minor_ticks(&self, max_n: usize) -> Vec<f64> {
        let max_n = max_n.clamp(2, MAX_TICKS);
        match &self.kind {
            AxisKind::Numeric(Scale::Linear) => {
                let (major, step) = linear_ticks(self.lo, self.hi, max_n);
                let half = step * 0.5;
                let mut minor: Vec<f64> = Vec::with_capacity(major.len() + 1);
                if let Some(first) = major.first() {
                    if first - half >= self.lo {
                        minor.push(first - half);
                    }
                }
                minor.extend(major.iter().map(|t| t + half).filter(|t| *t <= self.hi));
                minor
            }
            AxisKind::Numeric(Scale::Log) => log_ticks(self.lo, self.hi, max_n).minor,
            AxisKind::Category(_) => Vec::new(),
        }
    }

    /// The label for a tick at plot-space position `v`.
    pub(crate) fn label(&self, v: f64) -> String {
        match &self.kind {
            AxisKind::Numeric(Scale::Linear) => {
                let (_, step) = linear_ticks(self.lo, self.hi, self.max_ticks.clamp(2, MAX_TICKS));
                format_linear(v, step, self.lo.abs().max(self.hi.abs()))
            }
            AxisKind::Numeric(Scale::Log) => {
                let rounded = v.round();
                if (v - rounded).abs() < 1e-9 {
                    format_decade(rounded)
                } else {
                    format_general(10f64.powf(v))
                }
            }
            AxisKind::Category(names) => {
                let idx = v.round();
                if idx >= 0.0 && (idx as usize) < names.len() {
                    names[idx as usize].clone()
                } else {
                    format_general(idx)
                }
            }
        }
    }
}

/// The raw value non-positive values are drawn at on a log axis: the explicit
/// lower bound if it is positive, else one decade below the smallest positive
/// value, else 1.
fn log_floor(values: &[f64], explicit: Option<(f64, f64)>) -> f64 {
    if let Some((lo, _)) = explicit {
        if lo > 0.0 {
            return lo;
        }
    }
    let smallest = values
        .iter()
        .chain(explicit.iter().map(|(_, hi)| hi))
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    if smallest.is_finite() {
        (smallest / 10.0).max(f64::MIN_POSITIVE)
    } else {
        1.0
    }
}

/// Widens a (near) zero-width plot-space range; `None` if it is wide enough.
fn widen_if_degenerate(scale: Scale, lo: f64, hi: f64) -> Option<(f64, f64)> {
    let magnitude = lo.abs().max(hi.abs());
    if hi * 0.5 - lo * 0.5 > magnitude * MIN_RELATIVE_SPAN * 0.5 {
        return None;
    }
    let mid = lo * 0.5 + hi * 0.5;
    Some(match scale {
        // Half a decade either side.
        Scale::Log => (mid - 0.5, mid + 0.5),
        Scale::Linear if magnitude == 0.0 => (0.0, 1.0),
        // A lone value sits mid-height on an axis starting at zero.
        Scale::Linear if mid > 0.0 => (0.0, mid * 2.0),
        Scale::Linear => (mid * 2.0, 0.0),
    })
}

fn clamp_finite(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-f64::MAX, f64::MAX)
    }
}

/// The largest "nice" number (1, 2 or 5 times a power of ten) not above
/// `raw`, or 0 if `raw` is not a positive finite number.
fn nice_floor(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 0.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let f = raw / base;
    let nice = if f >= 5.0 {
        5.0
    } else if f >= 2.0 {
        2.0
    } else {
        1.0
    };
    nice * base
}

/// The next nice number after the nice number `step`.
fn next_nice(step: f64) -> f64 {
    let base = 10f64.powf(step.log10().floor());
    let f = (step / base).round();
    if f < 2.0 {
        2.0 * base
    } else if f < 5.0 {
        5.0 * base
    } else {
        10.0 * base
    }
}

/// Nice linear ticks within `[lo, hi]`, at most `max_n`, and their step.
fn linear_ticks(lo: f64, hi: f64, max_n: usize) -> (Vec<f64>, f64) {
    // Half-span based to stay finite for ranges near +-f64::MAX.
    let mut step = nice_floor((hi * 0.5 - lo * 0.5) / max_n.max(1) as f64 * 2.0);
    if step == 0.0 {
        return (Vec::new(), 0.0);
    }
    for _ in 0..16 {
        let first = (lo / step).ceil();
        let last = (hi / step).floor();
        let count = last - first + 1.0;
        if !(count.is_finite() && count >= 0.0) {
            return (Vec::new(), step);
        }
        if count <= max_n as f64 {
            let ticks = (0..count as usize)
                .map(|i| {
                    let t = (first + i as f64) * step;
                    if t.abs() < step * 1e-9 {
                        0.0
                    } else {
                        t
                    }
                })
                .filter(|t| t.is_finite() && *t >= lo && *t <= hi)
                .collect();
            return (ticks, step);
        }
        step = next_nice(step);
        if !step.is_finite() {
            break;
        }
    }
    (Vec::new(), step)
}

struct LogTicks {
    major: Vec<f64>,
    minor: Vec<f64>,
}

/// Log-axis ticks in plot space (decades, or a 1-2-5 / linear fallback for
/// axes spanning less than about two decades).
fn log_ticks(lo: f64, hi: f64, max_n: usize) -> LogTicks {
    let first = lo.ceil();
    let last = hi.floor();
    let decades = last - first + 1.0;
    if decades >= 2.0 && decades.is_finite() {
        // Decade stride: 1, 2, 5, 10, 20, 50, ...
        let mut stride = 1.0;
        while ((last / stride).floor() - (first / stride).ceil() + 1.0) > max_n as f64 {
            stride = next_nice(stride);
            if stride == 0.0 || !stride.is_finite() {
                return LogTicks {
                    major: Vec::new(),
                    minor: Vec::new(),
                };
            }
        }
        let k0 = (first / stride).ceil();
        let k1 = (last / stride).floor();
        let major: Vec<f64> = (0..=((k1 - k0).max(0.0) as usize).min(MAX_TICKS))
            .map(|i| (k0 + i as f64) * stride)
            .filter(|t| *t >= lo && *t <= hi)
            .collect();
        let mut minor = Vec::new();
        if stride == 1.0 && hi - lo <= 12.0 {
            let mut d = lo.floor();
            while d <= hi {
                for m in 2..=9 {
                    let t = d + f64::from(m).log10();
                    if t >= lo && t <= hi {
                        minor.push(t);
                    }
                }
                d += 1.0;
            }
        }
        return LogTicks { major, minor };
    }
    // Narrow range: 1-2-5 or 1..9 times powers of ten, else nice linear
    // ticks in value space, all mapped back to log space.
    for mantissas in [
        &[1.0f64, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..],
    ] {
        let mut major = Vec::new();
        let mut d = lo.floor();
        while d <= hi && major.len() <= max_n {
            for m in mantissas.iter().copied() {
                let t = d + m.log10();
                if t >= lo && t <= hi {
                    major.push(t);
                }
            }
            d += 1.0;
        }
        if major.len() >= 2 && major.len() <= max_n {
            return LogTicks {
                major,
                minor: Vec::new(),
            };
        }
    }
    let (vlo, vhi) = (10f64.powf(lo), 10f64.powf(hi));
    let (ticks, _) = linear_ticks(vlo, vhi, max_n);
    let major = ticks
        .into_iter()
        .filter(|t| *t > 0.0)
        .map(f64::log10)
        .filter(|t| *t >= lo && *t <= hi)
        .collect();
    LogTicks {
        major,
        minor: Vec::new(),
    }
}

/// Category indices to label: every slot, or every k-th if there are many.
fn category_ticks(hi: f64, max_n: usize) -> Vec<f64> {
    let n = (hi + 0.5).round().max(1.0);
    let stride = (n / max_n as f64).ceil().max(1.0);
    let count = ((n - 1.0) / stride).floor() as usize + 1;
    (0..count.min(MAX_TICKS))
        .map(|i| i as f64 * stride)
        .collect()
}

/// Formats a linear tick `v` given the tick step and the axis magnitude.
pub(crate) fn format_linear(v: f64, step: f64, magnitude: f64) -> String {
    if !v.is_finite() || step <= 0.0 || !step.is_finite() {
        return format_general(v);
    }
    let step_exp = step.log10().floor() as i32;
    if !(1e-3..1e6).contains(&magnitude) {
        if v == 0.0 {
            return "0".to_string();
        }
        let exp = v.abs().log10().floor() as i32;
        let digits = (exp - step_exp).clamp(0, 8) as usize;
        return format_sci(v, digits);
    }
    let decimals = (-step_exp).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    match s.strip_prefix('-') {
        // "-0.0" after rounding is just zero.
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// `10^k` written out plainly for `-3 <= k <= 5`, else as `1e{k}`.
fn format_decade(k: f64) -> String {
    let k = k as i32;
    match k {
        0..=5 => format!("1{}", "0".repeat(k as usize)),
        -3..=-1 => format!("0.{}1", "0".repeat((-k - 1) as usize)),
        _ => format!("1e{k}"),
    }
}

/// A compact, human-friendly rendering of any number (about 6 significant
/// digits, trailing zeros trimmed, scientific outside `[1e-3, 1e6)`).
pub(crate) fn format_general(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-3..1e6).contains(&a) {
        let exp = a.log10().floor() as i32;
        let decimals = (5 - exp).clamp(0, 9) as usize;
        trim_zeros(format!("{v:.decimals$}"))
    } else {
        format_sci(v, 5)
    }
}

/// `v` as `m.mmm e x` with `digits` mantissa decimals (trailing zeros trimmed).
fn format_sci(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa.to_string())),
        None => s,
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lin(values: &[f64]) -> Axis {
        Axis::numeric(&AxisSpec {
            scale: Scale::Linear,
            values,
            explicit: None,
            include_zero: false,
        })
    }

    fn log(values: &[f64]) -> Axis {
        Axis::numeric(&AxisSpec {
            scale: Scale::Log,
            values,
            explicit: None,
            include_zero: false,
        })
    }

    #[test]
    fn decade_labels_are_plain_near_one() {
        let labels: Vec<String> = [-4.0, -3.0, -1.0, 0.0, 1.0, 5.0, 6.0]
            .iter()
            .map(|k| format_decade(*k))
            .collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.1", "1", "10", "100000", "1e6"]);
    }

    #[test]
    fn log_axis_labels_decades() {
        let axis = log(&[0.2, 3.0, 450.0]);
        let labels: Vec<String> = axis
            .major_ticks(10)
            .iter()
            .map(|t| axis.label(*t))
            .collect();
        assert_eq!(labels, ["1", "10", "100"]);
        assert!(!axis.minor_ticks(10).is_empty());
    }

    #[test]
    fn narrow_log_axis_still_has_ticks() {
        let axis = log(&[2.0, 3.0]);
        assert!(axis.major_ticks(10).len() >= 2);
    }

    #[test]
    fn log_floor_is_a_decade_below_smallest_positive() {
        let axis = log(&[0.0, -3.0, 0.5, 20.0]);
        assert!((axis.log_floor - 0.05).abs() < 1e-12);
        assert!(axis.lo < 0.05f64.log10());
    }

    #[test]
    fn linear_labels_use_step_precision() {
        let mut axis = lin(&[0.0, 1.0]);
        axis.max_ticks = 6;
        let labels: Vec<String> = axis.major_ticks(6).iter().map(|t| axis.label(*t)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    }

    #[test]
    fn huge_values_use_scientific_labels() {
        let axis = lin(&[0.0, 3e9]);
        let labels: Vec<String> = axis.major_ticks(8).iter().map(|t| axis.label(*t)).collect();
        assert_eq!(labels.first().map(String::as_str), Some("0"));
        assert!(labels.iter().skip(1).all(|l| l.contains('e')), "{labels:?}");
    }

    #[test]
    fn extreme_ranges_stay_finite() {
        for values in [
            vec![-f64::MAX, f64::MAX],
            vec![f64::MIN_POSITIVE, f64::MAX],
            vec![5e-324, 1.0],
            vec![1.0, 1.0 + 1e-15],
        ] {
            for axis in [lin(&values), log(&values)] {
                assert!(axis.lo.is_finite() && axis.hi.is_finite() && axis.hi > axis.lo);
                assert!(axis.major_ticks(10).len() <= 10);
                let _ = axis.minor_ticks(10);
            }
        }
    }

    #[test]
    fn no_data_defaults() {
        assert_eq!((lin(&[]).lo, lin(&[]).hi), (0.0, 1.0));
        assert_eq!((log(&[]).lo, log(&[]).hi), (0.0, 1.0));
    }

    #[test]
    fn single_value_is_widened() {
        let a = lin(&[5.0]);
        assert!(a.lo <= 5.0 && a.hi > 5.0);
        let b = lin(&[-5.0]);
        assert!(b.lo < -5.0 && b.hi >= -5.0);
        let c = log(&[100.0]);
        assert!(c.lo < 2.0 && c.hi > 2.0);
    }

    #[test]
    fn general_format() {
        assert_eq!(format_general(12.3), "12.3");
        assert_eq!(format_general(0.25), "0.25");
        assert_eq!(format_general(2_500_000.0), "2.5e6");
        assert_eq!(format_general(-0.0001), "-1e-4");
    }
}
