//! Rendering tests: sample figures, determinism and odd data.

use super::*;

fn series(label: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        label: label.to_string(),
        points,
        ..Default::default()
    }
}

/// An empirical CDF of `n` latencies that grow like `base * k^shape`.
fn cdf(n: usize, base: f64, shape: f64) -> Vec<(f64, f64)> {
    (1..=n)
        .map(|i| {
            let q = i as f64 / n as f64;
            // A heavy-ish tail: latency rises steeply near q = 1.
            let lat = base * (1.0 + 3.0 * q) * (1.0 / (1.001 - q)).powf(shape);
            (lat, q)
        })
        .collect()
}

pub(super) fn latency_cdf() -> Chart {
    Chart {
        title: "Read latency CDF".into(),
        x_label: "latency (ms)".into(),
        y_label: "fraction of reads".into(),
        x_scale: Scale::Log,
        kind: ChartKind::Lines,
        series: vec![
            series("R=1/W=1", cdf(400, 0.4, 0.35)),
            series("R=2/W=2", cdf(400, 0.9, 0.4)),
            series("R=3/W=3", cdf(400, 2.0, 0.45)),
        ],
        markers: vec![
            Marker {
                x: 3.1,
                label: "p50 = 3.1 ms".into(),
            },
            Marker {
                x: 12.3,
                label: "p99 = 12.3 ms".into(),
            },
        ],
        ..Default::default()
    }
}

/// A t-visibility curve with its 95 % band, two points resting on few
/// reads flagged, and a bar chart with whiskers.
pub(super) fn banded() -> Chart {
    let pts: Vec<(f64, f64)> = [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
        .iter()
        .map(|t: &f64| (t.max(0.01), 1.0 - 0.6 * (-t / 4.0).exp()))
        .collect();
    Chart {
        title: "t-visibility with intervals".into(),
        x_label: "time since commit (ms)".into(),
        y_label: "P(consistent)".into(),
        x_scale: Scale::Log,
        kind: ChartKind::Lines,
        intervals: vec![Interval {
            series: 0,
            points: pts
                .iter()
                .map(|&(x, y)| (x, y - 0.05, (y + 0.05).min(1.0)))
                .collect(),
        }],
        flags: vec![
            Flag {
                series: 0,
                x: pts[6].0,
                y: pts[6].1,
            },
            Flag {
                series: 0,
                x: pts[7].0,
                y: pts[7].1,
            },
        ],
        flag_label: "fewer than 100 reads".into(),
        series: vec![series("simulated", pts)],
        y_range: Some((0.0, 1.02)),
        ..Default::default()
    }
}

pub(super) fn whiskered_bars() -> Chart {
    Chart {
        intervals: vec![Interval {
            series: 1,
            points: vec![
                (0.0, 6600.0, 7400.0),
                (1.0, 2000.0, 2400.0),
                (2.0, f64::NAN, 0.1),
            ],
        }],
        ..sibling_bars()
    }
}

pub(super) fn step_cdf() -> Chart {
    let pts = [0.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 5.0, 8.0, 13.0];
    let n = pts.len() as f64;
    Chart {
        title: "Staleness CDF".into(),
        x_label: "versions behind".into(),
        y_label: "P(staleness <= x)".into(),
        kind: ChartKind::Steps,
        series: vec![
            series(
                "t-visibility R=1/W=1",
                pts.iter()
                    .enumerate()
                    .map(|(i, v)| (*v, (i + 1) as f64 / n))
                    .collect(),
            ),
            series(
                "t-visibility R=2/W=2",
                [(0.0, 0.6), (1.0, 0.85), (2.0, 0.95), (4.0, 1.0)].to_vec(),
            ),
        ],
        ..Default::default()
    }
}

pub(super) fn sibling_bars() -> Chart {
    Chart {
        title: "Sibling count per read".into(),
        x_label: "siblings".into(),
        y_label: "reads".into(),
        kind: ChartKind::Bars,
        categories: vec!["1".into(), "2".into(), "3".into(), "4+".into()],
        series: vec![
            series(
                "no partition",
                vec![(0.0, 9120.0), (1.0, 610.0), (2.0, 41.0), (3.0, 3.0)],
            ),
            series(
                "partition 30 s",
                vec![(0.0, 7020.0), (1.0, 2200.0), (2.0, 480.0), (3.0, 95.0)],
            ),
        ],
        ..Default::default()
    }
}

pub(super) fn timeline() -> Chart {
    let ops: Vec<(f64, f64)> = (0..=120)
        .map(|t| {
            let t = f64::from(t);
            let dip = if (30.0..45.0).contains(&t) {
                0.55
            } else if (80.0..95.0).contains(&t) {
                0.7
            } else {
                1.0
            };
            (t, (1000.0 + 40.0 * (t * 0.7).sin()) * dip)
        })
        .collect();
    let failed: Vec<(f64, f64)> = ops
        .iter()
        .map(|&(t, v)| (t, (1040.0 - v).max(0.0) * 0.6))
        .collect();
    Chart {
        title: "Throughput under faults".into(),
        x_label: "simulated time (s)".into(),
        y_label: "operations / s".into(),
        series: vec![series("successful", ops), series("failed", failed)],
        bands: vec![
            Band {
                start: 30.0,
                end: 45.0,
                label: "crash n3".into(),
            },
            Band {
                start: 80.0,
                end: 95.0,
                label: "partition {n1,n2}|{n3..n5}".into(),
            },
        ],
        ..Default::default()
    }
}

fn odd_charts() -> Vec<(&'static str, Chart)> {
    let base = |kind: ChartKind, x: Scale, y: Scale, pts: Vec<(f64, f64)>| Chart {
        title: "odd".into(),
        x_label: "x (units)".into(),
        y_label: "y (units)".into(),
        x_scale: x,
        y_scale: y,
        kind,
        series: vec![series("s", pts)],
        ..Default::default()
    };
    let mut out = Vec::new();
    let kinds = [
        ChartKind::Lines,
        ChartKind::Steps,
        ChartKind::Points,
        ChartKind::Bars,
    ];
    let scales = [
        (Scale::Linear, Scale::Linear),
        (Scale::Log, Scale::Linear),
        (Scale::Linear, Scale::Log),
        (Scale::Log, Scale::Log),
    ];
    let datasets: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("empty", vec![]),
        ("single", vec![(3.0, 4.0)]),
        ("all_equal", vec![(2.0, 2.0); 5]),
        ("zeros", vec![(0.0, 0.0), (0.0, 0.0)]),
        ("negative", vec![(-5.0, -3.0), (-1.0, -10.0)]),
        (
            "nan_inf",
            vec![
                (f64::NAN, 1.0),
                (1.0, f64::INFINITY),
                (f64::NEG_INFINITY, 2.0),
                (2.0, 3.0),
                (3.0, f64::NAN),
            ],
        ),
        ("only_nan", vec![(f64::NAN, f64::NAN)]),
        (
            "huge",
            vec![(-f64::MAX, f64::MAX), (f64::MAX, -f64::MAX), (0.0, 1.0)],
        ),
        ("tiny", vec![(5e-324, 5e-324), (1e-300, 2e-300)]),
        ("near_equal", vec![(1.0, 1.0), (1.0 + 1e-15, 1.0 + 2e-15)]),
        ("log_zero", vec![(0.0, 0.0), (1.0, 10.0), (100.0, 0.0)]),
        ("huge_index", vec![(1e300, 1.0), (-4.0, 2.0)]),
    ];
    for (name, pts) in &datasets {
        for kind in kinds {
            for (x, y) in scales {
                let mut chart = base(kind, x, y, pts.clone());
                chart.title = format!("{name} {kind:?} {x:?}/{y:?}");
                out.push((*name, chart));
            }
        }
    }
    out.push(("no_series", Chart::default()));
    out.push((
        "intervals_and_flags_out_of_range",
        Chart {
            intervals: vec![
                Interval {
                    series: 7,
                    points: vec![(1.0, 0.0, 1.0)],
                },
                Interval {
                    series: 0,
                    points: vec![(f64::NAN, 0.0, 1.0), (1.0, 5.0, -5.0), (1e300, 0.0, 1.0)],
                },
            ],
            flags: vec![
                Flag {
                    series: 9,
                    x: 1.0,
                    y: 1.0,
                },
                Flag {
                    series: 0,
                    x: f64::INFINITY,
                    y: 1.0,
                },
            ],
            flag_label: "flagged".into(),
            ..base(
                ChartKind::Steps,
                Scale::Log,
                Scale::Linear,
                vec![(1.0, 1.0), (2.0, 0.5)],
            )
        },
    ));
    out.push((
        "bad_ranges",
        Chart {
            x_range: Some((f64::NAN, 3.0)),
            y_range: Some((5.0, 5.0)),
            ..base(
                ChartKind::Lines,
                Scale::Linear,
                Scale::Linear,
                vec![(1.0, 1.0)],
            )
        },
    ));
    out.push((
        "reversed_log_ranges",
        Chart {
            x_range: Some((100.0, -1.0)),
            y_range: Some((0.0, 0.0)),
            ..base(
                ChartKind::Lines,
                Scale::Log,
                Scale::Log,
                vec![(1.0, 1.0), (10.0, 0.5)],
            )
        },
    ));
    out.push((
        "odd_bands_markers",
        Chart {
            bands: vec![
                Band {
                    start: f64::NEG_INFINITY,
                    end: 2.0,
                    label: "from start".into(),
                },
                Band {
                    start: 5.0,
                    end: f64::NAN,
                    label: "nan".into(),
                },
                Band {
                    start: 9.0,
                    end: 7.0,
                    label: "reversed".into(),
                },
                Band {
                    start: 1e9,
                    end: 1e9,
                    label: "".into(),
                },
            ],
            markers: vec![
                Marker {
                    x: f64::NAN,
                    label: "nan".into(),
                },
                Marker {
                    x: 3.0,
                    label: "a long label that overflows the right edge of a small plot".into(),
                },
                Marker {
                    x: 3.0,
                    label: "same place".into(),
                },
                Marker {
                    x: -1e200,
                    label: "far left".into(),
                },
            ],
            ..base(
                ChartKind::Lines,
                Scale::Log,
                Scale::Linear,
                vec![(1.0, 1.0), (10.0, 2.0)],
            )
        },
    ));
    out.push((
        "many_series",
        Chart {
            series: (0..12)
                .map(|i| {
                    series(
                        &format!("series {i}"),
                        vec![(0.0, f64::from(i)), (1.0, 2.0)],
                    )
                })
                .collect(),
            ..Default::default()
        },
    ));
    out
}

#[test]
fn sample_figures_render_and_are_png() {
    for chart in [
        latency_cdf(),
        step_cdf(),
        sibling_bars(),
        timeline(),
        banded(),
        whiskered_bars(),
    ] {
        let png = render_png(&chart, DEFAULT_WIDTH, DEFAULT_HEIGHT).expect("png renders");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
        let svg = render_svg(&chart, DEFAULT_WIDTH, DEFAULT_HEIGHT).expect("svg renders");
        assert!(svg.starts_with("<svg"), "SVG document");
        assert!(svg.contains(&chart.title), "title is in the SVG");
        for s in &chart.series {
            assert!(svg.contains(&s.label), "legend has {}", s.label);
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for chart in [
        latency_cdf(),
        step_cdf(),
        sibling_bars(),
        timeline(),
        banded(),
    ] {
        let a = render_png(&chart, 640, 400).expect("png renders");
        let b = render_png(&chart, 640, 400).expect("png renders");
        assert!(a == b, "PNG bytes differ for {}", chart.title);
        let a = render_svg(&chart, 640, 400).expect("svg renders");
        let b = render_svg(&chart, 640, 400).expect("svg renders");
        assert_eq!(a, b, "SVG differs for {}", chart.title);
    }
}

#[test]
fn odd_data_renders() {
    for (name, chart) in odd_charts() {
        let svg = render_svg(&chart, 400, 300);
        assert!(svg.is_ok(), "{name} {:?} svg: {svg:?}", chart.kind);
        let png = render_png(&chart, 400, 300);
        assert!(png.is_ok(), "{name} {:?} png: {:?}", chart.kind, png.err());
    }
}

/// The band is drawn (a filled polygon in the series' colour) and the
/// flagged points as rings, with their legend entry; without flags, no entry.
#[test]
fn intervals_draw_a_band_and_flags_draw_rings_with_a_legend_entry() {
    let svg = render_svg(&banded(), 900, 500).expect("svg renders");
    assert!(svg.contains("<polygon"), "the band is a polygon");
    assert!(svg.contains("fewer than 100 reads"), "legend entry");
    let plain = Chart {
        intervals: vec![],
        flags: vec![],
        ..banded()
    };
    let svg_plain = render_svg(&plain, 900, 500).expect("svg renders");
    assert!(!svg_plain.contains("<polygon"));
    assert!(!svg_plain.contains("fewer than 100 reads"));
    assert!(svg.matches("<circle").count() >= svg_plain.matches("<circle").count() + 2);
}

#[test]
fn empty_chart_says_no_data() {
    let chart = Chart {
        title: "nothing".into(),
        series: vec![series("a", vec![(f64::NAN, 1.0)])],
        ..Default::default()
    };
    let svg = render_svg(&chart, 500, 300).expect("svg renders");
    assert!(svg.contains("no data"));
    let data = render_svg(&latency_cdf(), 500, 300).expect("svg renders");
    assert!(!data.contains("no data"));
}

#[test]
fn log_axis_ticks_are_plain_decades() {
    let chart = Chart {
        x_scale: Scale::Log,
        series: vec![series("a", vec![(0.05, 1.0), (0.0, 2.0), (2000.0, 3.0)])],
        ..Default::default()
    };
    let svg = render_svg(&chart, 900, 500).expect("svg renders");
    for label in [
        "\n0.01\n", "\n0.1\n", "\n1\n", "\n10\n", "\n100\n", "\n1000\n",
    ] {
        assert!(svg.contains(label), "missing tick {label}");
    }
}

#[test]
fn invalid_sizes_are_errors() {
    let chart = latency_cdf();
    for (w, h) in [(0, 0), (10, 500), (900, MAX_SIDE + 1)] {
        assert!(matches!(
            render_png(&chart, w, h),
            Err(PlotError::InvalidSize { .. })
        ));
        assert!(matches!(
            render_svg(&chart, w, h),
            Err(PlotError::InvalidSize { .. })
        ));
    }
    assert!(render_png(&chart, MIN_SIDE, MIN_SIDE).is_ok());
    // Large enough to skip supersampling.
    let png = render_png(&chart, 2600, 1600).expect("large png renders");
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn write_chart_writes_both_files() {
    let dir = std::env::temp_dir().join(format!("plot-test-{}", std::process::id()));
    write_chart(&timeline(), &dir, "timeline").expect("chart written");
    let svg = std::fs::read_to_string(dir.join("timeline.svg")).expect("svg written");
    assert!(svg.starts_with("<svg"));
    let png = std::fs::read(dir.join("timeline.png")).expect("png written");
    assert!(png.starts_with(b"\x89PNG"));
    for bad in ["", "a/b", "..", "."] {
        assert!(matches!(
            write_chart(&timeline(), &dir, bad),
            Err(PlotError::InvalidStem(_))
        ));
    }
    std::fs::remove_dir_all(&dir).expect("temp dir removed");
}

/// Writes the sample figures to `$PLOT_SAMPLES_DIR` for eyeballing; does
/// nothing when the variable is unset.
#[test]
fn write_samples_for_review() {
    let Some(dir) = std::env::var_os("PLOT_SAMPLES_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (stem, chart) in [
        ("latency_cdf", latency_cdf()),
        ("step_cdf", step_cdf()),
        ("sibling_bars", sibling_bars()),
        ("timeline", timeline()),
        ("banded", banded()),
        ("whiskered_bars", whiskered_bars()),
    ] {
        write_chart(&chart, &dir, stem).expect("sample written");
    }
    // Contact sheets of the odd cases, 4 x 4 tiles of 300 x 200 each.
    let (tw, th, cols, rows) = (300usize, 200usize, 4usize, 4usize);
    let odd = odd_charts();
    for (sheet, group) in odd.chunks(cols * rows).enumerate() {
        let (w, h) = (tw * cols, th * rows);
        let mut img = vec![255u8; w * h * 3];
        for (k, (_, chart)) in group.iter().enumerate() {
            let tile = render_rgb(chart, tw as u32, th as u32).expect("odd renders");
            let (ox, oy) = ((k % cols) * tw, (k / cols) * th);
            for y in 0..th {
                let src = &tile[y * tw * 3..(y + 1) * tw * 3];
                let at = ((oy + y) * w + ox) * 3;
                img[at..at + tw * 3].copy_from_slice(src);
            }
        }
        let png = encode_png(&img, w as u32, h as u32).expect("sheet encodes");
        std::fs::write(dir.join(format!("odd_sheet_{sheet:02}.png")), png).expect("written");
    }
}

/// Series styles in a line chart: a `Dots` series draws one circle per point
/// and whiskers instead of a band (no connecting line), a `Dashed` one is cut
/// into dashes drawn after the solid series, and the legend shows each.
#[test]
fn dotted_and_dashed_series_are_drawn_as_such() {
    let mut chart = banded();
    chart.flags.clear();
    let solid = render_svg(&chart, 900, 500).expect("svg renders");
    let n_points = chart.series[0].points.len();
    chart.series[0].style = SeriesStyle::Dots;
    let dots = render_svg(&chart, 900, 500).expect("svg renders");
    assert!(
        dots.matches("<circle").count() >= solid.matches("<circle").count() + n_points,
        "one dot per point"
    );
    assert!(!dots.contains("<polygon"), "no band under dots");
    assert!(
        dots.matches("<polyline").count() + dots.matches("<path").count() >= 3 * n_points,
        "whiskers: a stem and two caps per point"
    );

    let mut chart = banded();
    chart.flags.clear();
    let model: Vec<(f64, f64)> = chart.series[0]
        .points
        .iter()
        .map(|&(x, y)| (x, y * 0.9))
        .collect();
    chart.series.push(Series {
        label: "model".into(),
        points: model,
        style: SeriesStyle::Dashed,
    });
    let svg = render_svg(&chart, 900, 500).expect("svg renders");
    let mut solid_one = chart.clone();
    solid_one.series[1].style = SeriesStyle::Solid;
    let svg_solid = render_svg(&solid_one, 900, 500).expect("svg renders");
    let lines = |s: &str| s.matches("<polyline").count() + s.matches("<path").count();
    assert!(
        lines(&svg) > lines(&svg_solid) + 5,
        "the model is cut into dashes"
    );
    assert!(svg.contains("model"));
}

#[test]
fn dash_pieces_follow_the_pattern_along_the_line() {
    let pieces = super::draw::dash_pieces(&[(0, 0), (100, 0)], 10.0, 5.0);
    assert_eq!(pieces.len(), 7, "{pieces:?}");
    assert_eq!(pieces[0], vec![(0, 0), (10, 0)]);
    assert_eq!(pieces[1], vec![(15, 0), (25, 0)]);
    assert_eq!(pieces[6], vec![(90, 0), (100, 0)]);
    // Around a corner the pattern carries on.
    let bent = super::draw::dash_pieces(&[(0, 0), (6, 0), (6, 20)], 10.0, 5.0);
    assert_eq!(bent[0], vec![(0, 0), (6, 0), (6, 4)]);
    assert_eq!(bent[1], vec![(6, 9), (6, 19)]);
}
