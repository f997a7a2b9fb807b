//! Text drawing with the embedded font.
//!
//! For bitmaps, glyphs are rasterised here with `ab_glyph` straight from the
//! embedded DejaVu Sans bytes and blended pixel by pixel, with correct glyph
//! bearings and kerning. (Plotters 0.3.7's own `ab_glyph` text path drops
//! each glyph's left bearing, which visibly mis-spaces text such as "R=1".)
//! For SVG, plotters writes `<text>` elements; their layout (widths,
//! anchors) is computed from the same embedded font.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::{PlotError, FONT_BYTES, FONT_FAMILY};

/// Plotters divides a text style's size by this to get the SVG font size.
const PLOTTERS_SVG_SIZE_RATIO: f64 = 1.24;
/// Baseline offset below the anchor for vertically centred text, in ems
/// (half an x-height, matching the SVG backend's `dy="0.5ex"`).
const CENTER_BASELINE_EM: f64 = 0.27;

/// Where text ends up: as SVG `<text>` or as blended pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextMode {
    Svg,
    Raster,
}

/// How a piece of text is placed relative to its anchor point; vertically
/// it is always centred on the anchor.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    /// Which end (or the middle) of the text is at the anchor.
    pub(crate) h: HPos,
    /// Rotated to read bottom-to-top.
    pub(crate) rotated: bool,
}

impl Place {
    pub(crate) fn left() -> Self {
        Place {
            h: HPos::Left,
            rotated: false,
        }
    }

    pub(crate) fn center() -> Self {
        Place {
            h: HPos::Center,
            rotated: false,
        }
    }

    pub(crate) fn right() -> Self {
        Place {
            h: HPos::Right,
            rotated: false,
        }
    }

    /// Centred and rotated to read bottom-to-top (y-axis titles).
    pub(crate) fn vertical() -> Self {
        Place {
            h: HPos::Center,
            rotated: true,
        }
    }
}

/// The embedded font plus the drawing mode.
pub(crate) struct Typesetter {
    font: FontRef<'static>,
    mode: TextMode,
}

impl Typesetter {
    pub(crate) fn new(mode: TextMode) -> Result<Self, PlotError> {
        let font = FontRef::try_from_slice(FONT_BYTES).map_err(|_| PlotError::Font)?;
        Ok(Typesetter { font, mode })
    }

    /// `ab_glyph` scales so that ascent - descent equals the pixel scale;
    /// convert from a CSS-style em size.
    fn scale(&self, em: f64) -> PxScale {
        let upm = self.font.units_per_em().unwrap_or(2048.0);
        PxScale::from((em * f64::from(self.font.height_unscaled()) / f64::from(upm)) as f32)
    }

    /// Advance width of `text` in pixels at font size `em`.
    pub(crate) fn width(&self, text: &str, em: f64) -> i32 {
        let font = self.font.as_scaled(self.scale(em));
        let mut x = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                x += font.kern(p, id);
            }
            x += font.h_advance(id);
            prev = Some(id);
        }
        x.ceil() as i32
    }

    /// Draws `text` at font size `em` with its anchor at `at`, vertically
    /// centred there.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        at: (i32, i32),
        em: f64,
        color: RGBColor,
        place: Place,
    ) -> Result<(), PlotError> {
        if text.is_empty() {
            return Ok(());
        }
        match self.mode {
            TextMode::Svg => {
                let mut style = (FONT_FAMILY, em * PLOTTERS_SVG_SIZE_RATIO)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(place.h, VPos::Center));
                if place.rotated {
                    style = style.transform(FontTransform::Rotate270);
                }
                root.draw(&Text::new(text.to_string(), at, style))
                    .map_err(super::draw::draw_err)
            }
            TextMode::Raster => self.raster(root, text, at, em, color, place),
        }
    }

    fn raster<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        at: (i32, i32),
        em: f64,
        color: RGBColor,
        place: Place,
    ) -> Result<(), PlotError> {
        let font = self.font.as_scaled(self.scale(em));
        let width = f64::from(self.width(text, em));
        let start_x = match place.h {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let baseline = CENTER_BASELINE_EM * em;
        let mut caret = start_x as f32;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                caret += font.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(font.scale(), point(caret, baseline as f32));
            caret += font.h_advance(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
            outline.draw(|x, y, coverage| {
                if coverage > 0.004 {
                    pixels.push((
                        bounds.min.x as i32 + x as i32,
                        bounds.min.y as i32 + y as i32,
                        coverage.min(1.0),
                    ));
                }
            });
            for (lx, ly, coverage) in pixels {
                let p = if place.rotated {
                    (at.0 + ly, at.1 - lx)
                } else {
                    (at.0 + lx, at.1 + ly)
                };
                root.draw_pixel(p, &color.mix(f64::from(coverage)))
                    .map_err(super::draw::draw_err)?;
            }
        }
        Ok(())
    }
}
