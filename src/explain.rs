//! `dynasim explain` (the story of a key, a window or some nodes in one run)
//! and the `--trace-format` exporters of `dynasim run --trace`.
//!
//! The work happens in `reports::explain`; this module parses arguments,
//! loads the scenario (as `dynasim run` does), prints and writes files.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use reports::explain::export::{self, Exporter};

use crate::load::{check_budget, Outcome};
use crate::outputs::{Kind, OutDir};
use reports::explain::{Names, Request};
use sim_core::config::Scenario;

/// The formats of `dynasim run --trace-format`.
pub const TRACE_FORMATS: [&str; 3] = export::FORMATS;

/// A streamed trace writer for `dynasim run --trace F --trace-format X`
/// (`jsonl`, `perfetto` or `shiviz`). Hand `exporter.tracer()` to
/// `Simulation::run`, then call `exporter.finish()` (closes the document,
/// flushes, reports write errors).
pub fn trace_format_tracer<'a, W: Write + 'a>(
    format: &str,
    out: W,
    scenario: &Scenario,
) -> Result<Box<dyn Exporter + 'a>> {
    export::exporter(format, out, Names::from_scenario(scenario)).map_err(anyhow::Error::msg)
}

/// `dynasim explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Override the scenario's rng_seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The key to follow (`7` or `k7`). Default: the key of the first
    /// finding of `--what`; with none, the whole run.
    #[arg(long)]
    pub key: Option<String>,
    /// Which finding to tell the story of: the first lost write, stale
    /// read, resurrected delete, or the read with the most siblings.
    #[arg(long, default_value = "lost-write", value_parser = reports::explain::What::NAMES)]
    pub what: String,
    /// Half-width (seconds) of the window around the explained event that
    /// the printed timeline and the sequence diagram show (default 1;
    /// --from/--to choose a window instead).
    #[arg(long, value_name = "S")]
    pub window: Option<f64>,
    /// Keep only events at or after this virtual time (seconds).
    #[arg(long)]
    pub from: Option<f64>,
    /// Keep only events at or before this virtual time (seconds).
    #[arg(long)]
    pub to: Option<f64>,
    /// Keep only events at or from these nodes or clients (names, or node
    /// numbers: `--nodes 1,2,5`).
    #[arg(long, value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Set a scenario field first, as `dynasim run --set` does.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Output directory (default: runs/<scenario>-seed<N>-explain/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Timeline lines printed to the terminal (all of them are written to
    /// timeline.txt).
    #[arg(long, default_value_t = 200)]
    pub lines: usize,
    /// Resource limits.
    #[command(flatten)]
    pub limits: crate::guard::Limits,
}

/// Parses `--key` (`7` or `k7`) and checks the scenario has that key.
fn parse_key(s: &str, key_count: u64) -> Result<u64> {
    let k: u64 = s
        .trim()
        .trim_start_matches('k')
        .parse()
        .with_context(|| format!("--key {s:?}: expected a key number like 7 or k7"))?;
    anyhow::ensure!(
        k < key_count,
        "--key {s}: the scenario has {key_count} key(s), k0..k{} (workload.keys.count)",
        key_count - 1
    );
    Ok(k)
}

/// Checks `--from`/`--to`: finite, not negative, in order, and not after
/// the end of the run (`end_s`).
fn check_window(from: Option<f64>, to: Option<f64>, end_s: f64) -> Result<()> {
    for (flag, v) in [("--from", from), ("--to", to)] {
        if let Some(v) = v {
            anyhow::ensure!(
                v.is_finite() && v >= 0.0,
                "{flag} {v}: expected a time in seconds, 0 or more"
            );
            anyhow::ensure!(
                v <= end_s,
                "{flag} {v}: after the end of the run ({end_s} s, duration_s + quiescence)"
            );
        }
    }
    if let (Some(a), Some(b)) = (from, to) {
        anyhow::ensure!(a <= b, "--from {a} is after --to {b}");
    }
    Ok(())
}

/// Runs `dynasim explain`: re-runs the seed, keeps the selection, prints the
/// story and the timeline, writes timeline.txt, story.txt, msc.svg,
/// perfetto.json and shiviz.log. The outcome follows the run's expectations
/// (incomplete when the run stopped before its end).
pub fn run(args: &ExplainArgs) -> Result<Outcome> {
    let sets = args
        .set
        .iter()
        .map(|a| crate::sweep::parse_single(a))
        .collect::<Result<Vec<_>>>()?;
    let mut scenario = if sets.is_empty() {
        let s = crate::load::load(&args.file)?;
        crate::load::check_metrics(&args.file, "", &s)?;
        s
    } else {
        let mut doc = crate::load::read_document(&args.file)?;
        for (path, value) in &sets {
            crate::sweep::apply_set(&mut doc, path, value.clone())?;
        }
        crate::load::load_document(&args.file, &doc, &crate::sweep::sets_context(&sets))?
    };
    if let Some(seed) = args.seed {
        scenario.rng_seed = seed;
    }
    let context = crate::sweep::sets_context(&sets);
    check_budget(&args.file, &context, &scenario, &args.limits.budget(), "")?;
    check_window(args.from, args.to, scenario.end().as_micros() as f64 / 1e6)?;
    if let Some(w) = args.window {
        anyhow::ensure!(
            w.is_finite() && w > 0.0,
            "--window {w}: expected a positive number of seconds"
        );
    }
    let request = Request {
        what: reports::explain::What::parse(&args.what).with_context(|| {
            format!(
                "--what {}: expected one of {:?}",
                args.what,
                reports::explain::What::NAMES
            )
        })?,
        window_s: args.window,
        key: args
            .key
            .as_deref()
            .map(|k| parse_key(k, scenario.workload.key_count))
            .transpose()?,
        from_s: args.from,
        to_s: args.to,
        endpoints: args.nodes.clone(),
    };
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "{}-seed{}-explain",
            scenario.name, scenario.rng_seed
        ))
    });
    let name = scenario.name.clone();
    let seed = scenario.rng_seed;
    let mut guard = args.limits.guard();
    let wall_stop = guard.wall_stop();
    let ex =
        reports::explain::explain_guarded(Arc::new(scenario), &request, &mut guard, &wall_stop)
            .map_err(anyhow::Error::msg)?;

    let out = OutDir::prepare(&out_dir, Kind::Explain)?;
    let header = ex.header(&name, seed);
    let timeline = ex.timeline();
    let shown = ex.timeline_window();
    let story = ex.story();
    let title = format!("{name} seed {seed}: {}", ex.selection.describe(&ex.names));
    let write = |file: &str, bytes: &[u8]| out.write(file, bytes);
    write("timeline.txt", format!("{header}\n{timeline}").as_bytes())?;
    write("story.txt", format!("{header}\n{story}").as_bytes())?;
    write("msc.svg", ex.msc(&title).as_bytes())?;
    write(
        "perfetto.json",
        &ex.export("perfetto").map_err(anyhow::Error::msg)?,
    )?;
    write(
        "shiviz.log",
        &ex.export("shiviz").map_err(anyhow::Error::msg)?,
    )?;
    out.finish()?;

    println!("{header}");
    print!("{story}");
    println!();
    let lines: Vec<&str> = shown.lines().collect();
    for l in lines.iter().take(args.lines.max(1)) {
        println!("{l}");
    }
    if lines.len() > args.lines.max(1) {
        println!(
            "... {} more lines (every kept event is in {})",
            lines.len() - args.lines.max(1),
            out_dir.join("timeline.txt").display()
        );
    }
    println!(
        "\nwrote {}/{{timeline.txt, story.txt, msc.svg, perfetto.json, shiviz.log}}",
        out_dir.display()
    );
    println!("open perfetto.json at https://ui.perfetto.dev; paste shiviz.log at https://bestchai.bitbucket.io/shiviz/ (regex: {})", export::SHIVIZ_REGEX);
    Ok(if !ex.complete {
        Outcome::Incomplete
    } else if ex.expectations_ok {
        Outcome::Ok
    } else {
        Outcome::ExpectFailed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_windows_are_checked_against_the_scenario() {
        assert_eq!(parse_key("k7", 10).expect("ok"), 7);
        let e = parse_key("999999999", 10).expect_err("no such key");
        assert!(e.to_string().contains("k0..k9"), "{e}");
        assert!(parse_key("x", 10).is_err());
        assert!(check_window(Some(1.0), Some(2.0), 10.0).is_ok());
        for (from, to) in [
            (Some(f64::NAN), None),
            (None, Some(f64::INFINITY)),
            (Some(-1.0), None),
            (Some(3.0), Some(2.0)),
            (Some(11.0), None),
        ] {
            assert!(check_window(from, to, 10.0).is_err(), "{from:?} {to:?}");
        }
    }
}
