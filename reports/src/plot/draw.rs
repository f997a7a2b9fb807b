//! Laying out and drawing a [`Chart`] on any plotters backend.
//!
//! Layout is done here in pixels (title, axis areas, plot rectangle); data
//! is mapped through [`Axis`] and clipped to the plot before it reaches
//! plotters, which only draws primitive shapes.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, AxisSpec};
use super::text::{Place, TextMode, Typesetter};
use super::{Chart, ChartKind, PlotError, SeriesStyle};

/// Opacity of an interval band.
const INTERVAL_ALPHA: f64 = 0.2;

/// Okabe–Ito colour-blind-safe palette, ordered for contrast on white
/// (yellow last, as it is faint).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

const TEXT: RGBColor = RGBColor(25, 25, 25);
const MUTED: RGBColor = RGBColor(100, 100, 100);
const AXIS: RGBColor = RGBColor(110, 110, 110);
const BAND_FILL: RGBColor = RGBColor(130, 130, 130);
const BAND_ALPHA: f64 = 0.17;
const MARKER_LINE: RGBColor = RGBColor(55, 55, 55);
const GRID_MAJOR_ALPHA: f64 = 0.13;
const GRID_MINOR_ALPHA: f64 = 0.05;

/// Turns a plotters error into ours, keeping only its message.
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// A series colour from the palette, cycling.
fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Pixel sizes derived from the image size, so small and large images both
/// look proportionate. `factor` is the supersampling factor of the target.
struct Sizes {
    scale: f64,
    title: f64,
    desc: f64,
    tick: f64,
    note: f64,
    line: u32,
    thin: u32,
    point: i32,
}

impl Sizes {
    fn new(width: u32, height: u32, factor: f64) -> Self {
        let logical = (f64::from(width) / factor).min(f64::from(height) / factor * 1.8);
        let scale = (logical / 900.0).clamp(0.6, 3.0) * factor;
        Sizes {
            scale,
            title: 18.0 * scale,
            desc: 14.0 * scale,
            tick: 12.5 * scale,
            note: 12.5 * scale,
            line: (2.0 * scale).round().max(1.0) as u32,
            thin: scale.round().max(1.0) as u32,
            point: (3.5 * scale).round().max(2.0) as i32,
        }
    }

    fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }
}

/// An interval in plot space: `(x, low, high)`.
type Span = (f64, f64, f64);

/// The chart's data in plot space, ready to draw.
struct Prepared {
    x: Axis,
    y: Axis,
    /// Finite plot-space points per series (sorted by x for steps).
    series: Vec<Vec<(f64, f64)>>,
    /// Plot-space x intervals and labels; infinite ends reach the edge.
    bands: Vec<(f64, f64, String)>,
    /// Plot-space x positions and labels.
    markers: Vec<(f64, String)>,
    /// Plot-space intervals per series: `(series, [(x, low, high)])`, the
    /// ends clamped into the visible y range.
    intervals: Vec<(usize, Vec<Span>)>,
    /// Plot-space flagged points: `(series, x, y)`.
    flags: Vec<(usize, f64, f64)>,
    has_data: bool,
}

impl Prepared {
    fn new(chart: &Chart) -> Self {
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let bars = chart.kind == ChartKind::Bars;
        let finite3 = |p: &&(f64, f64, f64)| p.0.is_finite() && p.1.is_finite() && p.2.is_finite();
        let mut ys: Vec<f64> = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(finite))
            .filter(|p| !bars || p.0.round() >= 0.0)
            .map(|p| p.1)
            .collect();
        ys.extend(
            chart
                .intervals
                .iter()
                .flat_map(|i| i.points.iter().filter(finite3))
                .flat_map(|p| [p.1, p.2]),
        );
        let y = Axis::numeric(&AxisSpec {
            scale: chart.y_scale,
            values: &ys,
            explicit: chart.y_range,
            include_zero: bars,
        });

        let x = if bars {
            let max_idx = chart
                .series
                .iter()
                .flat_map(|s| s.points.iter().filter(finite))
                .map(|p| p.0.round())
                .fold(-1.0f64, f64::max);
            let n = (max_idx + 1.0).max(chart.categories.len() as f64);
            Axis::category(chart.categories.clone(), n)
        } else {
            let mut xs: Vec<f64> = chart
                .series
                .iter()
                .flat_map(|s| s.points.iter().filter(finite).map(|p| p.0))
                .collect();
            xs.extend(
                chart
                    .bands
                    .iter()
                    .filter(|b| !b.start.is_nan() && !b.end.is_nan())
                    .flat_map(|b| [b.start, b.end])
                    .filter(|v| v.is_finite()),
            );
            xs.extend(chart.markers.iter().map(|m| m.x).filter(|v| v.is_finite()));
            Axis::numeric(&AxisSpec {
                scale: chart.x_scale,
                values: &xs,
                explicit: chart.x_range,
                include_zero: false,
            })
        };

        let series: Vec<Vec<(f64, f64)>> = chart
            .series
            .iter()
            .map(|s| {
                let mut pts: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter(finite)
                    .filter(|p| !bars || p.0.round() >= 0.0)
                    .map(|&(px, py)| {
                        let px = if bars { px.round() } else { x.to_plot(px) };
                        (px, y.to_plot(py))
                    })
                    .collect();
                if chart.kind == ChartKind::Steps {
                    // Stable sort: equal x keep their given order.
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
                pts
            })
            .collect();
        let has_data = series.iter().any(|s| !s.is_empty());

        let edge = |v: f64| {
            if v == f64::NEG_INFINITY {
                x.lo
            } else if v == f64::INFINITY {
                x.hi
            } else {
                x.to_plot(v)
            }
        };
        let bands = if bars {
            Vec::new()
        } else {
            chart
                .bands
                .iter()
                .filter(|b| !b.start.is_nan() && !b.end.is_nan())
                .map(|b| {
                    let (a, c) = (edge(b.start), edge(b.end));
                    (a.min(c), a.max(c), b.label.clone())
                })
                .collect()
        };
        let markers = if bars {
            Vec::new()
        } else {
            chart
                .markers
                .iter()
                .filter_map(|m| x.to_plot_checked(m.x).map(|px| (px, m.label.clone())))
                .collect()
        };
        let px = |v: f64| if bars { v.round() } else { x.to_plot(v) };
        let intervals = chart
            .intervals
            .iter()
            .filter(|i| i.series < chart.series.len())
            .map(|i| {
                let pts = i
                    .points
                    .iter()
                    .filter(finite3)
                    .map(|&(a, lo, hi)| {
                        let (lo, hi) = (y.to_plot(lo.min(hi)), y.to_plot(lo.max(hi)));
                        (px(a), lo.clamp(y.lo, y.hi), hi.clamp(y.lo, y.hi))
                    })
                    .filter(|p| p.0.is_finite() && p.0 >= x.lo && p.0 <= x.hi)
                    .collect();
                (i.series, pts)
            })
            .collect();
        let flags = chart
            .flags
            .iter()
            .filter(|f| f.series < chart.series.len() && f.x.is_finite() && f.y.is_finite())
            .map(|f| (f.series, px(f.x), y.to_plot(f.y)))
            .filter(|f| f.1 >= x.lo && f.1 <= x.hi && f.2 >= y.lo && f.2 <= y.hi)
            .collect();
        Prepared {
            x,
            y,
            series,
            bands,
            markers,
            intervals,
            flags,
            has_data,
        }
    }

    fn x_visible(&self, v: f64) -> bool {
        v >= self.x.lo && v <= self.x.hi
    }

    fn y_visible(&self, v: f64) -> bool {
        v >= self.y.lo && v <= self.y.hi
    }
}

/// A pixel rectangle `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn contains(&self, (x, y): (i32, i32)) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
}

/// The plot rectangle and the mapping from plot space into it.
struct Frame<'a> {
    plot: Rect,
    x: &'a Axis,
    y: &'a Axis,
}

impl Frame<'_> {
    fn px(&self, x: f64) -> i32 {
        let t = self.x.fraction(x).clamp(-1.0, 2.0);
        (f64::from(self.plot.x0) + t * f64::from(self.plot.x1 - self.plot.x0)).round() as i32
    }

    fn py(&self, y: f64) -> i32 {
        let t = self.y.fraction(y).clamp(-1.0, 2.0);
        (f64::from(self.plot.y1) - t * f64::from(self.plot.y1 - self.plot.y0)).round() as i32
    }

    fn at(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.px(x), self.py(y))
    }
}

/// Clips the segment `a`-`b` to the rectangle (Liang–Barsky). Works on
/// values up to `f64::MAX` without overflowing.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (xlo, xhi): (f64, f64),
    (ylo, yhi): (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    // Halved differences cannot overflow; only their ratios matter.
    let dx = b.0 * 0.5 - a.0 * 0.5;
    let dy = b.1 * 0.5 - a.1 * 0.5;
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    let edges = [
        (-dx, a.0 * 0.5 - xlo * 0.5),
        (dx, xhi * 0.5 - a.0 * 0.5),
        (-dy, a.1 * 0.5 - ylo * 0.5),
        (dy, yhi * 0.5 - a.1 * 0.5),
    ];
    for (p, q) in edges {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 || t0.is_nan() || t1.is_nan() {
        return None;
    }
    // This form of interpolation cannot overflow either.
    let lerp = |t: f64| (a.0 * (1.0 - t) + b.0 * t, a.1 * (1.0 - t) + b.1 * t);
    let start = if t0 > 0.0 { lerp(t0) } else { a };
    let end = if t1 < 1.0 { lerp(t1) } else { b };
    Some((start, end))
}

/// Splits a polyline into visible pieces clipped to the axes' ranges.
fn clip_polyline(points: &[(f64, f64)], p: &Prepared) -> Vec<Vec<(f64, f64)>> {
    let xr = (p.x.lo, p.x.hi);
    let yr = (p.y.lo, p.y.hi);
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        match clip_segment(pair[0], pair[1], xr, yr) {
            Some((s, e)) => {
                if current.last() != Some(&s) {
                    if current.len() >= 2 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(s);
                }
                current.push(e);
            }
            None => {
                if current.len() >= 2 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// The polyline of a post-step function through `pts` (sorted by x).
fn step_path(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(pts.len() * 2);
    for (i, &p) in pts.iter().enumerate() {
        if i > 0 {
            out.push((p.0, pts[i - 1].1));
        }
        out.push(p);
    }
    out
}

/// Records pixels along a polyline (every few pixels) for legend placement.
fn sample_polyline(px: &[(i32, i32)], out: &mut Vec<(i32, i32)>) {
    const STEP: f64 = 4.0;
    const MAX_PER_SEGMENT: usize = 400;
    if let Some(first) = px.first() {
        out.push(*first);
    }
    for w in px.windows(2) {
        let (a, b) = (w[0], w[1]);
        let dx = f64::from(b.0) - f64::from(a.0);
        let dy = f64::from(b.1) - f64::from(a.1);
        let n = ((dx.hypot(dy) / STEP).ceil() as usize).clamp(1, MAX_PER_SEGMENT);
        for k in 1..=n {
            let t = k as f64 / n as f64;
            out.push((
                (f64::from(a.0) + dx * t).round() as i32,
                (f64::from(a.1) + dy * t).round() as i32,
            ));
        }
    }
}

/// A band or marker label, placed in the strip above the plot.
struct TopLabel {
    text: String,
    rect: Rect,
    /// Band labels get a box tinted like the band.
    tinted: bool,
    /// Index of the marker this labels, if it is a marker label.
    marker: Option<usize>,
}

/// A label that wants to sit at pixel x `x0` with width `w`.
struct WantedLabel {
    text: String,
    x0: i32,
    w: i32,
    tinted: bool,
    marker: Option<usize>,
}

/// Stacks labels into rows downward from `top` so none overlap: each label
/// takes the first row where it fits (giving up after a few rows).
fn place_top_labels(
    wanted: Vec<WantedLabel>,
    (left, right): (i32, i32),
    top: i32,
    line_h: i32,
    gap: i32,
) -> Vec<TopLabel> {
    const MAX_ROWS: i32 = 4;
    let mut placed: Vec<TopLabel> = Vec::new();
    for want in wanted {
        let x0 = want.x0.min(right - want.w).max(left);
        let mut row = 0;
        loop {
            let y0 = top + row * (line_h + gap);
            let rect = Rect {
                x0,
                y0,
                x1: x0 + want.w,
                y1: y0 + line_h,
            };
            let padded = Rect {
                x0: rect.x0 - gap,
                x1: rect.x1 + gap,
                ..rect
            };
            if row + 1 >= MAX_ROWS || !placed.iter().any(|l| l.rect.overlaps(&padded)) {
                placed.push(TopLabel {
                    text: want.text,
                    rect,
                    tinted: want.tinted,
                    marker: want.marker,
                });
                break;
            }
            row += 1;
        }
    }
    placed
}

/// Draws a straight line in pixel coordinates.
fn line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: (i32, i32),
    b: (i32, i32),
    style: ShapeStyle,
) -> Result<(), PlotError> {
    root.draw(&PathElement::new(vec![a, b], style))
        .map_err(draw_err)
}

/// Draws a wide polyline. SVG gets one native `<polyline>`; bitmaps get one
/// segment per pair of points with round joins, because plotters' wide-line
/// polygons spike far past the data at sharp reversals.
fn polyline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    px: Vec<(i32, i32)>,
    c: RGBColor,
    width: u32,
    mode: TextMode,
) -> Result<(), PlotError> {
    if mode == TextMode::Svg || width <= 1 {
        return root
            .draw(&PathElement::new(px, c.stroke_width(width)))
            .map_err(draw_err);
    }
    let radius = i32::try_from(width / 2).unwrap_or(1);
    for w in px.windows(2) {
        line(root, w[0], w[1], c.stroke_width(width))?;
    }
    for p in px.iter().skip(1).take(px.len().saturating_sub(2)) {
        root.draw(&Circle::new(*p, radius, c.filled()))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The dash pattern of a dashed series, pixels drawn and skipped.
fn dash_pattern(sz: &Sizes) -> (f64, f64) {
    (f64::from(sz.px(9.0)), f64::from(sz.px(5.0)))
}

/// Cuts a pixel polyline into the pieces of a dash pattern (`on` pixels
/// drawn, `off` skipped, measured along the line).
pub(super) fn dash_pieces(px: &[(i32, i32)], on: f64, off: f64) -> Vec<Vec<(i32, i32)>> {
    let mut pieces = Vec::new();
    let mut cur: Vec<(i32, i32)> = Vec::new();
    // Where we are in the pattern: drawing, and how far until it flips.
    let (mut drawing, mut left) = (true, on);
    for w in px.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
        let len = (dx * dx + dy * dy).sqrt();
        let at = |t: f64| {
            (
                a.0 + (dx * t / len.max(1e-9)).round() as i32,
                a.1 + (dy * t / len.max(1e-9)).round() as i32,
            )
        };
        let mut t = 0.0;
        if drawing && cur.is_empty() {
            cur.push(a);
        }
        while len - t > left {
            t += left;
            let p = at(t);
            if drawing {
                cur.push(p);
                pieces.push(std::mem::take(&mut cur));
            } else {
                cur = vec![p];
            }
            drawing = !drawing;
            left = if drawing { on } else { off };
        }
        left -= len - t;
        if drawing {
            cur.push(b);
        }
    }
    if cur.len() >= 2 {
        pieces.push(cur);
    }
    pieces.retain(|p| p.first() != p.last() || p.len() > 2);
    pieces
}

/// Draws the whole chart onto `root`. `factor` is the supersampling factor
/// (1 for SVG): every size is multiplied by it.
pub(crate) fn draw_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
    mode: TextMode,
    factor: f64,
) -> Result<(), PlotError> {
    let ts = Typesetter::new(mode)?;
    let (width, height) = root.dim_in_pixel();
    let sz = Sizes::new(width, height, factor);
    let mut prep = Prepared::new(chart);
    root.fill(&WHITE).map_err(draw_err)?;

    // ---- Layout -------------------------------------------------------
    let (w, h) = (
        i32::try_from(width).unwrap_or(i32::MAX),
        i32::try_from(height).unwrap_or(i32::MAX),
    );
    let pad = sz.px(12.0);
    let tick_len = sz.px(5.0);
    let gap = sz.px(6.0);
    let title_h = if chart.title.is_empty() {
        0
    } else {
        sz.title.round() as i32 + sz.px(12.0)
    };
    let desc_h = sz.desc.round() as i32;
    let tick_h = sz.tick.round() as i32;

    let approx_w = f64::from(width) * 0.8;
    let approx_h = f64::from(height) * 0.7;
    prep.x.max_ticks = if chart.kind == ChartKind::Bars {
        ((approx_w / (30.0 * sz.scale)) as usize).clamp(2, 60)
    } else {
        ((approx_w / (90.0 * sz.scale)) as usize).clamp(2, 12)
    };
    prep.y.max_ticks = ((approx_h / (45.0 * sz.scale)) as usize).clamp(2, 10);
    let y_ticks = prep.y.major_ticks(prep.y.max_ticks);
    let y_labels: Vec<String> = y_ticks.iter().map(|t| prep.y.label(*t)).collect();
    let widest_y = y_labels
        .iter()
        .map(|l| ts.width(l, sz.tick))
        .max()
        .unwrap_or(0);

    let y_desc_w = if chart.y_label.is_empty() {
        0
    } else {
        desc_h + gap * 2
    };
    let x_desc_h = if chart.x_label.is_empty() {
        0
    } else {
        desc_h + gap * 2
    };
    let plot_x0 = pad + y_desc_w + widest_y + tick_len + gap;
    let plot_x1 = (w - sz.px(28.0)).max(plot_x0 + 8);

    // Fewer x ticks until their labels fit side by side.
    let mut x_ticks = prep.x.major_ticks(prep.x.max_ticks);
    for _ in 0..12 {
        let widest = x_ticks
            .iter()
            .map(|t| ts.width(&prep.x.label(*t), sz.tick))
            .max()
            .unwrap_or(0);
        let need = (widest + sz.px(14.0)) * i32::try_from(x_ticks.len()).unwrap_or(i32::MAX);
        if need <= plot_x1 - plot_x0 || prep.x.max_ticks <= 2 {
            break;
        }
        prep.x.max_ticks = (x_ticks.len().saturating_sub(1)).clamp(2, prep.x.max_ticks - 1);
        x_ticks = prep.x.major_ticks(prep.x.max_ticks);
    }
    let x_frame = Frame {
        plot: Rect {
            x0: plot_x0,
            y0: 0,
            x1: plot_x1,
            y1: 1,
        },
        x: &prep.x,
        y: &prep.y,
    };

    // Band and marker labels go in a strip above the plot, so they never
    // cover data; their x positions are known before the plot's height.
    let mut band_px: Vec<Option<(i32, i32)>> = Vec::new();
    for (a, b, _) in &prep.bands {
        if *b < prep.x.lo || *a > prep.x.hi {
            band_px.push(None);
            continue;
        }
        let pa = x_frame.px(a.max(prep.x.lo));
        // At least a pixel wide so an instant still shows.
        let pb = x_frame.px(b.min(prep.x.hi)).max(pa + sz.thin as i32);
        band_px.push(Some((pa, pb)));
    }
    let marker_px: Vec<Option<i32>> = prep
        .markers
        .iter()
        .map(|(x, _)| prep.x_visible(*x).then(|| x_frame.px(*x)))
        .collect();
    let label_h = sz.note.round() as i32 + sz.px(7.0);
    let label_pad = sz.px(5.0);
    let mut wanted = Vec::new();
    for ((_, _, text), px) in prep.bands.iter().zip(&band_px) {
        let (Some((pa, pb)), false) = (px, text.is_empty()) else {
            continue;
        };
        let w = ts.width(text, sz.note) + 2 * label_pad;
        wanted.push(WantedLabel {
            text: text.clone(),
            x0: (pa + pb) / 2 - w / 2,
            w,
            tinted: true,
            marker: None,
        });
    }
    for (i, ((_, text), px)) in prep.markers.iter().zip(&marker_px).enumerate() {
        let (Some(px), false) = (px, text.is_empty()) else {
            continue;
        };
        let w = ts.width(text, sz.note) + 2 * label_pad;
        // Right of the line if it fits, else left of it.
        let x0 = if px + w <= plot_x1 { *px } else { px - w };
        wanted.push(WantedLabel {
            text: text.clone(),
            x0,
            w,
            tinted: false,
            marker: Some(i),
        });
    }
    let strip_top = pad + title_h;
    let labels = place_top_labels(
        wanted,
        (plot_x0, plot_x1),
        strip_top,
        label_h,
        sz.px(3.0).max(1),
    );
    let strip_h = labels
        .iter()
        .map(|l| l.rect.y1 - strip_top + sz.px(4.0))
        .max()
        .unwrap_or(0);

    let plot = Rect {
        x0: plot_x0,
        y0: strip_top + strip_h,
        x1: plot_x1,
        // Tiny images: keep a (cramped) plot rather than an inverted one.
        y1: (h - pad - x_desc_h - tick_h - tick_len - gap).max(strip_top + strip_h + 8),
    };
    let frame = Frame {
        plot,
        x: &prep.x,
        y: &prep.y,
    };

    // ---- Grid, axes, ticks, labels -----------------------------------
    let minor_style = RGBColor(0, 0, 0)
        .mix(GRID_MINOR_ALPHA)
        .stroke_width(sz.thin);
    let major_style = RGBColor(0, 0, 0)
        .mix(GRID_MAJOR_ALPHA)
        .stroke_width(sz.thin);
    let bars = chart.kind == ChartKind::Bars;
    if !bars {
        for t in prep.x.minor_ticks(prep.x.max_ticks) {
            let x = frame.px(t);
            line(root, (x, plot.y0), (x, plot.y1), minor_style)?;
        }
    }
    for t in prep.y.minor_ticks(prep.y.max_ticks) {
        let y = frame.py(t);
        line(root, (plot.x0, y), (plot.x1, y), minor_style)?;
    }
    if !bars {
        for t in &x_ticks {
            let x = frame.px(*t);
            line(root, (x, plot.y0), (x, plot.y1), major_style)?;
        }
    }
    for t in &y_ticks {
        let y = frame.py(*t);
        line(root, (plot.x0, y), (plot.x1, y), major_style)?;
    }

    // Bands, behind the data.
    for (pa, pb) in band_px.iter().flatten() {
        root.draw(&Rectangle::new(
            [(*pa, plot.y0), (*pb, plot.y1)],
            BAND_FILL.mix(BAND_ALPHA).filled(),
        ))
        .map_err(draw_err)?;
    }

    // ---- Data ---------------------------------------------------------
    let mut occupied: Vec<(i32, i32)> = Vec::new();
    let n_series = prep.series.len().max(1);
    // Interval bands (lines and steps), behind the series they belong to;
    // a series drawn as dots gets whiskers instead.
    let lines = matches!(chart.kind, ChartKind::Lines | ChartKind::Steps);
    let style = |i: usize| chart.style_of(i);
    let banded = |i: usize| lines && style(i) != SeriesStyle::Dots;
    for (i, pts) in prep
        .intervals
        .iter()
        .filter(|(i, p)| banded(*i) && p.len() >= 2)
    {
        let mut poly: Vec<(i32, i32)> = pts.iter().map(|p| frame.at((p.0, p.2))).collect();
        poly.extend(pts.iter().rev().map(|p| frame.at((p.0, p.1))));
        root.draw(&Polygon::new(poly, colour(*i).mix(INTERVAL_ALPHA).filled()))
            .map_err(draw_err)?;
    }
    // Solid series first, dashed ones (models, references) over them, so a
    // model never hides what was measured; dots last.
    let mut order: Vec<usize> = (0..prep.series.len()).collect();
    order.sort_by_key(|i| match style(*i) {
        SeriesStyle::Solid => 0,
        SeriesStyle::Dashed => 1,
        SeriesStyle::Dots => 2,
    });
    for i in order {
        let pts = &prep.series[i];
        let c = colour(i);
        match chart.kind {
            ChartKind::Lines | ChartKind::Steps if style(i) == SeriesStyle::Dots => {
                for &(x, y) in pts {
                    if prep.x_visible(x) && prep.y_visible(y) {
                        let p = frame.at((x, y));
                        occupied.push(p);
                        root.draw(&Circle::new(p, sz.point + 1, c.filled()))
                            .map_err(draw_err)?;
                    }
                }
            }
            ChartKind::Lines | ChartKind::Steps => {
                let path: Vec<(f64, f64)> = if chart.kind == ChartKind::Steps {
                    step_path(pts)
                } else {
                    pts.clone()
                };
                let mut drew_line = false;
                for piece in clip_polyline(&path, &prep) {
                    let mut px: Vec<(i32, i32)> = piece.iter().map(|p| frame.at(*p)).collect();
                    px.dedup();
                    if px.len() < 2 {
                        continue;
                    }
                    drew_line = true;
                    sample_polyline(&px, &mut occupied);
                    if style(i) == SeriesStyle::Dashed {
                        let (on, off) = dash_pattern(&sz);
                        for dash in dash_pieces(&px, on, off) {
                            polyline(root, dash, c, sz.line, mode)?;
                        }
                    } else {
                        polyline(root, px, c, sz.line, mode)?;
                    }
                }
                if !drew_line {
                    // Lone or coincident points draw no line; show them as dots.
                    for &(x, y) in pts {
                        if prep.x_visible(x) && prep.y_visible(y) {
                            let p = frame.at((x, y));
                            occupied.push(p);
                            root.draw(&Circle::new(p, sz.point, c.filled()))
                                .map_err(draw_err)?;
                        }
                    }
                }
            }
            ChartKind::Points => {
                // Translucent, so dense regions read darker than sparse
                // ones instead of merging into one opaque blob.
                for &(x, y) in pts {
                    if prep.x_visible(x) && prep.y_visible(y) {
                        let p = frame.at((x, y));
                        occupied.push(p);
                        root.draw(&Circle::new(p, sz.point, c.mix(0.35).filled()))
                            .map_err(draw_err)?;
                    }
                }
            }
            ChartKind::Bars => {
                let group = 0.8;
                let bw = group / n_series as f64;
                let base = if prep.y.is_log() {
                    prep.y.lo
                } else {
                    0.0f64.clamp(prep.y.lo, prep.y.hi)
                };
                for &(idx, v) in pts {
                    let x0 = idx - group / 2.0 + bw * i as f64 + bw * 0.06;
                    let x1 = x0 + bw * 0.88;
                    if x1 < prep.x.lo || x0 > prep.x.hi {
                        continue;
                    }
                    let top = v.clamp(prep.y.lo, prep.y.hi);
                    let (a, b) = (frame.at((x0, base)), frame.at((x1, top)));
                    for yy in [a.1, b.1, (a.1 + b.1) / 2] {
                        occupied.extend([(a.0, yy), (b.0, yy), ((a.0 + b.0) / 2, yy)]);
                    }
                    if a.1 != b.1 {
                        root.draw(&Rectangle::new([a, b], c.filled()))
                            .map_err(draw_err)?;
                    } else {
                        // Zero-height bar: a hairline at the baseline.
                        line(root, a, (b.0, a.1), c.stroke_width(sz.thin))?;
                    }
                }
            }
        }
    }

    // Interval whiskers (points and bars, or a lone point of a line), over
    // the data: at the point, or at the middle of the series' bar.
    let cap = sz.px(4.0).max(2);
    for (i, pts) in prep
        .intervals
        .iter()
        .filter(|(i, p)| !banded(*i) || p.len() < 2)
    {
        for &(x, lo, hi) in pts {
            let x = if chart.kind == ChartKind::Bars {
                let bw = 0.8 / n_series as f64;
                x - 0.4 + bw * *i as f64 + bw * 0.5
            } else {
                x
            };
            let (a, b) = (frame.at((x, lo)), frame.at((x, hi)));
            let style = MARKER_LINE.stroke_width(sz.thin);
            line(root, a, b, style)?;
            line(root, (a.0 - cap, a.1), (a.0 + cap, a.1), style)?;
            line(root, (b.0 - cap, b.1), (b.0 + cap, b.1), style)?;
        }
    }

    // Notes above bars (sample counts): over the bar's top or its
    // interval's, whichever is higher.
    if chart.kind == ChartKind::Bars {
        let bw = 0.8 / n_series as f64;
        for note in &chart.bar_notes {
            let Some(v) = chart
                .series
                .get(note.series)
                .and_then(|s| {
                    s.points
                        .iter()
                        .find(|p| p.0.round() == note.category as f64)
                })
                .map(|p| p.1)
            else {
                continue;
            };
            let top = chart
                .intervals
                .iter()
                .filter(|i| i.series == note.series)
                .flat_map(|i| i.points.iter())
                .filter(|p| p.0.round() == note.category as f64)
                .map(|p| p.2)
                .fold(v, f64::max);
            let top = prep.y.to_plot(top).clamp(prep.y.lo, prep.y.hi);
            let x = note.category as f64 - 0.4 + bw * note.series as f64 + bw * 0.5;
            if x < prep.x.lo || x > prep.x.hi {
                continue;
            }
            let (px, py) = frame.at((x, top));
            let y = (py - sz.tick as i32).max(plot.y0 + sz.tick as i32 / 2);
            ts.draw(root, &note.text, (px, y), sz.tick, TEXT, Place::center())?;
            let half = (note.text.len() as i32) * sz.tick as i32 / 4;
            occupied.extend([(px - half, y), (px, y), (px + half, y)]);
        }
    }

    // Flagged points: hollow rings over the data.
    for &(i, x, y) in &prep.flags {
        let p = frame.at((x, y));
        let r = sz.point + sz.thin as i32;
        root.draw(&Circle::new(p, r, WHITE.filled()))
            .map_err(draw_err)?;
        root.draw(&Circle::new(p, r, colour(i).stroke_width(sz.thin.max(2))))
            .map_err(draw_err)?;
        occupied.push(p);
    }

    // Axes on top of bands and data edges.
    let axis_style = AXIS.stroke_width(sz.thin);
    line(root, (plot.x0, plot.y1), (plot.x1, plot.y1), axis_style)?;
    line(root, (plot.x0, plot.y0), (plot.x0, plot.y1), axis_style)?;
    for t in &x_ticks {
        let x = frame.px(*t);
        line(root, (x, plot.y1), (x, plot.y1 + tick_len), axis_style)?;
        let label = prep.x.label(*t);
        let cy = plot.y1 + tick_len + gap + tick_h / 2;
        ts.draw(root, &label, (x, cy), sz.tick, TEXT, Place::center())?;
    }
    for (t, label) in y_ticks.iter().zip(&y_labels) {
        let y = frame.py(*t);
        line(root, (plot.x0 - tick_len, y), (plot.x0, y), axis_style)?;
        ts.draw(
            root,
            label,
            (plot.x0 - tick_len - gap, y),
            sz.tick,
            TEXT,
            Place::right(),
        )?;
    }
    if !chart.x_label.is_empty() {
        let cy = plot.y1 + tick_len + gap + tick_h + gap + desc_h / 2 + gap / 2;
        let cx = (plot.x0 + plot.x1) / 2;
        ts.draw(
            root,
            &chart.x_label,
            (cx, cy),
            sz.desc,
            TEXT,
            Place::center(),
        )?;
    }
    if !chart.y_label.is_empty() {
        let cx = pad + desc_h / 2;
        let cy = (plot.y0 + plot.y1) / 2;
        ts.draw(
            root,
            &chart.y_label,
            (cx, cy),
            sz.desc,
            TEXT,
            Place::vertical(),
        )?;
    }
    if !chart.title.is_empty() {
        let cx = (plot.x0 + plot.x1) / 2;
        let cy = pad + sz.title.round() as i32 / 2;
        ts.draw(
            root,
            &chart.title,
            (cx, cy),
            sz.title,
            TEXT,
            Place::center(),
        )?;
    }

    // ---- Markers: dashed vertical lines over the data ----------------
    let dash = sz.px(6.0).max(2);
    let dash_gap = sz.px(4.0).max(2);
    for (i, px) in marker_px.iter().enumerate() {
        let Some(px) = *px else { continue };
        // Reach up to the marker's own label, if it has one.
        let top = labels
            .iter()
            .find(|l| l.marker == Some(i))
            .map_or(plot.y0, |l| l.rect.y0);
        let mut y = top;
        while y < plot.y1 {
            let y_end = (y + dash).min(plot.y1);
            line(
                root,
                (px, y),
                (px, y_end),
                MARKER_LINE.stroke_width(sz.thin),
            )?;
            y = y_end + dash_gap;
        }
    }
    for l in &labels {
        let r = l.rect;
        if l.tinted {
            root.draw(&Rectangle::new(
                [(r.x0, r.y0), (r.x1, r.y1)],
                BAND_FILL.mix(BAND_ALPHA * 1.5).filled(),
            ))
            .map_err(draw_err)?;
        }
        let at = ((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2);
        ts.draw(root, &l.text, at, sz.note, TEXT, Place::center())?;
    }

    if !prep.has_data {
        let at = ((plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2);
        ts.draw(root, "no data", at, sz.desc, MUTED, Place::center())?;
    }

    let flag_entry = !prep.flags.is_empty() && !chart.flag_label.is_empty();
    draw_legend(root, chart, &ts, &sz, &plot, &occupied, flag_entry)
}

/// Draws one legend entry per labelled series, in the plot corner that
/// covers the fewest data pixels.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
    ts: &Typesetter,
    sz: &Sizes,
    plot: &Rect,
    occupied: &[(i32, i32)],
    flag_entry: bool,
) -> Result<(), PlotError> {
    // The flag entry, when there is one, is the last row (index usize::MAX).
    let entries: Vec<(usize, &str)> = chart
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.label.is_empty())
        .map(|(i, s)| (i, s.label.as_str()))
        .chain(flag_entry.then_some((usize::MAX, chart.flag_label.as_str())))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let row_h = sz.tick.round() as i32 + sz.px(7.0);
    let swatch = sz.px(22.0);
    let inner = sz.px(8.0);
    let text_max = entries
        .iter()
        .map(|(_, l)| ts.width(l, sz.tick))
        .max()
        .unwrap_or(0);
    let lw = inner * 3 + swatch + text_max;
    let lh = inner * 2 + row_h * entries.len() as i32 - sz.px(4.0);
    let margin = sz.px(10.0);
    let corner = |left: bool, upper: bool| {
        let x0 = if left {
            plot.x0 + margin
        } else {
            plot.x1 - margin - lw
        };
        let y0 = if upper {
            plot.y0 + margin
        } else {
            plot.y1 - margin - lh
        };
        Rect {
            x0,
            y0,
            x1: x0 + lw,
            y1: y0 + lh,
        }
    };
    // Preference order on ties: upper left, upper right, lower right, lower left.
    let candidates = [
        corner(true, true),
        corner(false, true),
        corner(false, false),
        corner(true, false),
    ];
    let mut best = candidates[0];
    let mut best_hits = usize::MAX;
    for r in candidates {
        let hits = occupied.iter().filter(|p| r.contains(**p)).count();
        if hits < best_hits {
            best_hits = hits;
            best = r;
        }
    }
    let r = best;
    root.draw(&Rectangle::new(
        [(r.x0, r.y0), (r.x1, r.y1)],
        WHITE.mix(0.9).filled(),
    ))
    .map_err(draw_err)?;
    root.draw(&Rectangle::new(
        [(r.x0, r.y0), (r.x1, r.y1)],
        RGBColor(0, 0, 0).mix(0.25).stroke_width(sz.thin),
    ))
    .map_err(draw_err)?;
    for (row, (i, label)) in entries.iter().enumerate() {
        let cy = r.y0 + inner + row as i32 * row_h + (row_h - sz.px(4.0)) / 2;
        let sx = r.x0 + inner;
        if *i == usize::MAX {
            let p = (sx + swatch / 2, cy);
            let ring = sz.point + sz.thin as i32;
            root.draw(&Circle::new(p, ring, MUTED.stroke_width(sz.thin.max(2))))
                .map_err(draw_err)?;
            ts.draw(
                root,
                label,
                (sx + swatch + inner, cy),
                sz.tick,
                TEXT,
                Place::left(),
            )?;
            continue;
        }
        let c = colour(*i);
        let style = chart.style_of(*i);
        match chart.kind {
            ChartKind::Lines | ChartKind::Steps if style == SeriesStyle::Dots => {
                root.draw(&Circle::new(
                    (sx + swatch / 2, cy),
                    sz.point + 1,
                    c.filled(),
                ))
                .map_err(draw_err)?;
            }
            ChartKind::Lines | ChartKind::Steps if style == SeriesStyle::Dashed => {
                let (on, off) = dash_pattern(sz);
                for dash in dash_pieces(&[(sx, cy), (sx + swatch, cy)], on, off) {
                    line(
                        root,
                        dash[0],
                        dash[dash.len() - 1],
                        c.stroke_width(sz.line + 1),
                    )?;
                }
            }
            ChartKind::Lines | ChartKind::Steps => {
                line(
                    root,
                    (sx, cy),
                    (sx + swatch, cy),
                    c.stroke_width(sz.line + 1),
                )?;
            }
            ChartKind::Points => {
                root.draw(&Circle::new((sx + swatch / 2, cy), sz.point, c.filled()))
                    .map_err(draw_err)?;
            }
            ChartKind::Bars => {
                let h = sz.px(5.0);
                root.draw(&Rectangle::new(
                    [(sx + swatch / 4, cy - h), (sx + swatch * 3 / 4, cy + h)],
                    c.filled(),
                ))
                .map_err(draw_err)?;
            }
        }
        ts.draw(
            root,
            label,
            (sx + swatch + inner, cy),
            sz.tick,
            TEXT,
            Place::left(),
        )?;
    }
    Ok(())
}
