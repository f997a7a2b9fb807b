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
    /// The key to follow (`7` or `k7`). Default: the key of the first lost
    /// write; with none, the whole run.
    #[arg(long)]
    pub key: Option<String>,
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
}

fn parse_key(s: &str) -> Result<u64> {
    s.trim()
        .trim_start_matches('k')
        .parse()
        .with_context(|| format!("--key {s:?}: expected a key number like 7 or k7"))
}

/// Runs `dynasim explain`: re-runs the seed, keeps the selection, prints the
/// story and the timeline, writes timeline.txt, story.txt, msc.svg,
/// perfetto.json and shiviz.log. Returns whether the run's expectations
/// passed.
pub fn run(args: &ExplainArgs) -> Result<bool> {
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
    if let (Some(a), Some(b)) = (args.from, args.to) {
        anyhow::ensure!(a <= b, "--from {a} is after --to {b}");
    }
    let request = Request {
        key: args.key.as_deref().map(parse_key).transpose()?,
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
    let ex = reports::explain::explain(Arc::new(scenario), &request).map_err(anyhow::Error::msg)?;

    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let header = ex.header(&name, seed);
    let timeline = ex.timeline();
    let story = ex.story();
    let title = format!("{name} seed {seed}: {}", ex.selection.describe(&ex.names));
    let write = |file: &str, bytes: &[u8]| {
        let p = out_dir.join(file);
        std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))
    };
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

    println!("{header}");
    print!("{story}");
    println!();
    let lines: Vec<&str> = timeline.lines().collect();
    for l in lines.iter().take(args.lines.max(1)) {
        println!("{l}");
    }
    if lines.len() > args.lines.max(1) {
        println!(
            "... {} more lines in {}",
            lines.len() - args.lines.max(1),
            out_dir.join("timeline.txt").display()
        );
    }
    println!(
        "\nwrote {}/{{timeline.txt, story.txt, msc.svg, perfetto.json, shiviz.log}}",
        out_dir.display()
    );
    println!("open perfetto.json at https://ui.perfetto.dev; paste shiviz.log at https://bestchai.bitbucket.io/shiviz/ (regex: {})", export::SHIVIZ_REGEX);
    Ok(ex.expectations_ok)
}
