//! Figures (SVG and PNG) drawn from plain numbers.
//!
//! This module owns turning a [`Chart`] — series of `(x, y)` points plus
//! shaded [`Band`]s (e.g. fault windows) and vertical [`Marker`]s (e.g.
//! percentiles) — into an image. It computes no metrics: percentiles, CDFs,
//! counts and windows are worked out elsewhere and arrive here as numbers.
//!
//! What it must never do:
//! - perform I/O, except [`write_chart`], which writes the two image files;
//! - read system fonts: the one font used is DejaVu Sans, compiled into the
//!   binary (`include_bytes!`). It is registered with plotters' `ab_glyph`
//!   support, and PNG text is rasterised from the same bytes with
//!   `ab_glyph`, so PNGs are identical on any machine, even one without font
//!   packages (plotters' `ttf` feature must stay off);
//! - be nondeterministic: the same chart always gives byte-identical SVG and
//!   PNG (no clocks, randomness or hash-map iteration);
//! - panic on odd data: NaN and infinite values are skipped, empty charts
//!   get a "no data" note, degenerate and huge ranges are widened or handled.
//!
//! Layout: title on top, band and marker labels in a strip above the plot
//! (so they never cover data), and a legend (one entry per labelled series,
//! Okabe–Ito colours) in whichever plot corner covers the least data.
//!
//! Log axes cannot show values `<= 0`; such values are drawn at the axis
//! *floor*: the explicit lower bound of `x_range`/`y_range` if it is positive,
//! otherwise one decade below the smallest positive value on that axis
//! (or 1 if there is none), so they sit at the bottom/left edge.

mod axis;
mod draw;
#[cfg(test)]
mod tests;
mod text;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;

/// Default image width used by [`write_chart`], in pixels.
pub const DEFAULT_WIDTH: u32 = 900;
/// Default image height used by [`write_chart`], in pixels.
pub const DEFAULT_HEIGHT: u32 = 500;
/// Smallest accepted image width or height, in pixels.
pub const MIN_SIDE: u32 = 120;
/// Largest accepted image width or height, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// PNGs up to this many pixels are drawn at twice their size and averaged
/// down, which anti-aliases lines (plotters' bitmap backend does not).
const SUPERSAMPLE_MAX_PIXELS: u64 = 4_000_000;

/// The embedded font (DejaVu Sans), so rendering never touches system fonts.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// The family name the embedded font is registered under.
const FONT_FAMILY: &str = "sans-serif";

/// How values are spread along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// Evenly spaced values.
    #[default]
    Linear,
    /// Base-10 logarithmic; values `<= 0` are drawn at the axis floor (see the
    /// module docs).
    Log,
}

/// How the series of a [`Chart`] are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartKind {
    /// Points joined by straight lines, in the given order.
    #[default]
    Lines,
    /// A step function (e.g. an empirical CDF): points are sorted by x and
    /// each value holds until the next point's x.
    Steps,
    /// Unconnected dots.
    Points,
    /// Grouped bars: a point's x is a category index (rounded to the nearest
    /// integer; negative indices are skipped), and each series gets one bar
    /// per category. [`Chart::categories`] names the x ticks.
    Bars,
}

/// One named line, set of dots or set of bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend text; series with an empty label get no legend entry.
    pub label: String,
    /// `(x, y)` points; points with a NaN or infinite coordinate are skipped.
    pub points: Vec<(f64, f64)>,
    /// How this series is drawn in a line or step chart.
    pub style: SeriesStyle,
}

/// How one series of a [`ChartKind::Lines`] or [`ChartKind::Steps`] chart
/// is drawn (other kinds ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesStyle {
    /// As the chart's kind says, in a solid line.
    #[default]
    Solid,
    /// A dashed line, drawn over the solid ones: a model or reference
    /// beside measured data, which stays visible under it.
    Dashed,
    /// Unconnected dots with interval whiskers: measurements at separate
    /// points (e.g. probes at fixed t), which a line would suggest were
    /// measured in between.
    Dots,
}

/// A shaded x-interval drawn translucent behind the data, labelled at the
/// top (e.g. a fault window "crash n3").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Band {
    /// Where the interval starts (x units); swapped with `end` if larger.
    pub start: f64,
    /// Where the interval ends (x units).
    pub end: f64,
    /// Text shown at the top of the band; may be empty.
    pub label: String,
}

/// A labelled vertical dashed line (e.g. "p99 = 12.3 ms").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Marker {
    /// Where the line is drawn (x units).
    pub x: f64,
    /// Text shown beside the top of the line; may be empty.
    pub label: String,
}

/// A y-interval around one series at each of some x (for example a 95 %
/// confidence interval): drawn as a translucent band in the series' colour
/// for lines and steps, as whiskers for points and bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interval {
    /// Index of the series in [`Chart::series`].
    pub series: usize,
    /// `(x, low, high)`; non-finite entries are skipped. For bars, x is the
    /// category index.
    pub points: Vec<(f64, f64, f64)>,
}

/// A point of a series drawn as a hollow ring over the data (for example a
/// point resting on too few observations to trust).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Flag {
    /// Index of the series in [`Chart::series`] (its colour).
    pub series: usize,
    /// x (plot units as for the series).
    pub x: f64,
    /// y.
    pub y: f64,
}

/// A short text drawn just above one bar of a bar chart (a sample count,
/// say).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarNote {
    /// Index of the series in [`Chart::series`].
    pub series: usize,
    /// The bar's category index.
    pub category: usize,
    /// The text.
    pub text: String,
}

/// Everything needed to draw one figure. `Chart { title: .., ..Default::default() }`
/// gives linear axes, lines, and ranges fitted to the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chart {
    /// Figure title, drawn above the plot; may be empty.
    pub title: String,
    /// X-axis description, including units (e.g. "latency (ms)").
    pub x_label: String,
    /// Y-axis description, including units.
    pub y_label: String,
    /// Scale of the x axis (ignored for [`ChartKind::Bars`]).
    pub x_scale: Scale,
    /// Scale of the y axis.
    pub y_scale: Scale,
    /// How the series are drawn.
    pub kind: ChartKind,
    /// The data, drawn in order with colours from a fixed colour-blind-safe
    /// palette (Okabe–Ito), repeating after eight series.
    pub series: Vec<Series>,
    /// Shaded x-intervals drawn behind the data.
    pub bands: Vec<Band>,
    /// Labelled vertical lines drawn over the data.
    pub markers: Vec<Marker>,
    /// Visible x range; `None` fits the data, bands and markers with a little
    /// padding (0..1, or 1..10 on a log axis, when there is nothing to fit).
    /// Ignored for [`ChartKind::Bars`].
    pub x_range: Option<(f64, f64)>,
    /// Visible y range; `None` fits the data with a little padding (bar
    /// charts on a linear axis always include zero).
    pub y_range: Option<(f64, f64)>,
    /// For [`ChartKind::Bars`]: the x tick labels, category `i` at index `i`.
    /// Indices without a name are labelled with the number.
    pub categories: Vec<String>,
    /// Intervals around series, drawn behind the data.
    pub intervals: Vec<Interval>,
    /// Points drawn as hollow rings over the data.
    pub flags: Vec<Flag>,
    /// Legend text for the rings (no legend entry when empty or when no
    /// flag is visible).
    pub flag_label: String,
    /// For [`ChartKind::Bars`]: texts drawn above bars.
    pub bar_notes: Vec<BarNote>,
}

impl Chart {
    /// How series `i` is drawn: its style in a line or step chart, solid
    /// otherwise (other kinds ignore styles).
    pub(crate) fn style_of(&self, i: usize) -> SeriesStyle {
        match self.kind {
            ChartKind::Lines | ChartKind::Steps => {
                self.series.get(i).map_or(SeriesStyle::Solid, |s| s.style)
            }
            _ => SeriesStyle::Solid,
        }
    }
}

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The requested image size is outside `MIN_SIDE..=MAX_SIDE`.
    #[error("invalid image size {width}x{height} (each side must be {MIN_SIDE}..={MAX_SIDE} px)")]
    InvalidSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// The embedded font could not be parsed or registered with plotters.
    #[error("embedded font could not be loaded")]
    Font,
    /// Plotters reported a drawing error (message kept as text).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Encode(String),
    /// The file stem given to [`write_chart`] is empty or contains a path
    /// separator.
    #[error("invalid file stem {0:?}: must be a non-empty plain file name")]
    InvalidStem(String),
    /// Writing an output file (or creating its directory) failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Registers the embedded font with plotters once per process.
fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

fn check_size(width: u32, height: u32) -> Result<(), PlotError> {
    let ok = |side: u32| (MIN_SIDE..=MAX_SIDE).contains(&side);
    if ok(width) && ok(height) {
        Ok(())
    } else {
        Err(PlotError::InvalidSize { width, height })
    }
}

/// Draws `chart` as an SVG document of `width` x `height` pixels.
///
/// Text is written as SVG `<text>` elements in the `sans-serif` family, so
/// the viewer picks the face; layout is computed with the embedded font.
pub fn render_svg(chart: &Chart, width: u32, height: u32) -> Result<String, PlotError> {
    check_size(width, height)?;
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw::draw_chart(&root, chart, text::TextMode::Svg, 1.0)?;
        root.present().map_err(draw::draw_err)?;
    }
    Ok(out)
}

/// Draws `chart` as a `width` x `height` RGB image and returns the bytes of
/// a PNG file.
pub fn render_png(chart: &Chart, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let pixels = render_rgb(chart, width, height)?;
    encode_png(&pixels, width, height)
}

/// Draws `chart` into a `width * height * 3` RGB buffer.
fn render_rgb(chart: &Chart, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    check_size(width, height)?;
    ensure_font()?;
    // Draw at k times the size and average down (a deterministic integer
    // box filter) to anti-alias lines.
    let k = if u64::from(width) * u64::from(height) <= SUPERSAMPLE_MAX_PIXELS {
        2
    } else {
        1
    };
    let (big_w, big_h) = (width * k, height * k);
    let mut big = vec![0u8; big_w as usize * big_h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut big, (big_w, big_h)).into_drawing_area();
        draw::draw_chart(&root, chart, text::TextMode::Raster, f64::from(k))?;
        root.present().map_err(draw::draw_err)?;
    }
    if k == 1 {
        return Ok(big);
    }
    Ok(downsample(&big, width, height, k))
}

/// Averages each `k` x `k` block of an RGB image `k*width` x `k*height`.
fn downsample(big: &[u8], width: u32, height: u32, k: u32) -> Vec<u8> {
    let (w, h, k) = (width as usize, height as usize, k as usize);
    let big_w = w * k;
    let n = (k * k) as u32;
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..k {
                    let row = (y * k + dy) * big_w;
                    for dx in 0..k {
                        sum += u32::from(big[(row + x * k + dx) * 3 + c]);
                    }
                }
                // Rounded average; fits in u8 since it is at most 255.
                out[(y * w + x) * 3 + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    out
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let enc_err = |e: png::EncodingError| PlotError::Encode(e.to_string());
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header().map_err(enc_err)?;
        writer.write_image_data(rgb).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
    }
    Ok(out)
}

/// Writes `dir/stem.svg` and `dir/stem.png` at [`DEFAULT_WIDTH`] x
/// [`DEFAULT_HEIGHT`], creating `dir` if needed. Both images are rendered
/// before anything is written, so a drawing error leaves no files behind.
pub fn write_chart(chart: &Chart, dir: &Path, stem: &str) -> Result<(), PlotError> {
    let plain = !stem.is_empty()
        && stem != "."
        && stem != ".."
        && !stem.contains(['/', '\\'])
        && Path::new(stem).components().count() == 1;
    if !plain {
        return Err(PlotError::InvalidStem(stem.to_string()));
    }
    let svg = render_svg(chart, DEFAULT_WIDTH, DEFAULT_HEIGHT)?;
    let png = render_png(chart, DEFAULT_WIDTH, DEFAULT_HEIGHT)?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for (ext, bytes) in [("svg", svg.as_bytes()), ("png", png.as_slice())] {
        let path = dir.join(format!("{stem}.{ext}"));
        crate::files::write_atomic(&path, bytes).map_err(|e| PlotError::Io {
            path,
            source: e.source,
        })?;
    }
    Ok(())
}
