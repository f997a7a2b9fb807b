//! The `dynasim` binary: parse arguments, read files, run `sim_core`, hand
//! the records to `reports`, write files. Thin on purpose: no simulation or
//! metric logic lives here.

mod cli;
mod explain;
mod shrink;
mod sweep;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use sim_core::config::Scenario;
use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{self, ScenarioErrors};
use sim_core::sim::Simulation;

use cli::{Cli, Command, RunArgs};

/// How a command ended.
pub(crate) enum Outcome {
    Ok,
    ExpectFailed,
}

/// Errors that mean "bad input" (exit 2) rather than a crash.
#[derive(Debug)]
pub(crate) struct BadScenario {
    pub(crate) file: PathBuf,
    /// What was changed from the file (`--set` assignments), if anything.
    pub(crate) context: String,
    pub(crate) errors: ScenarioErrors,
}

impl std::fmt::Display for BadScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.errors.0 {
            writeln!(f, "{}{}: {e}", self.file.display(), self.context)?;
        }
        Ok(())
    }
}
impl std::error::Error for BadScenario {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate { files } => validate(&files),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&scenario::json_schema()).expect("schema serializes")
            );
            Ok(Outcome::Ok)
        }
        Command::Plot { summaries, out } => plot(&summaries, &out),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Shrink(args) => shrink::shrink_command(&args),
        Command::Explore(args) => shrink::explore(&args),
        Command::Explain(args) => explain::run(&args).map(|ok| {
            if ok {
                Outcome::Ok
            } else {
                Outcome::ExpectFailed
            }
        }),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::ExpectFailed) => ExitCode::from(1),
        Err(e) => {
            if let Some(bad) = e.downcast_ref::<BadScenario>() {
                eprint!("{bad}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}

/// Reads and validates a scenario; files it references resolve beside it.
pub(crate) fn load(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading scenario {}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolver =
        move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
    scenario::parse(&text, &resolver).map_err(|errors| {
        BadScenario {
            file: path.to_path_buf(),
            context: String::new(),
            errors,
        }
        .into()
    })
}

/// Reads a scenario file as a JSON document (to apply `--set` assignments
/// to). Text that is not JSON is reported like `load` reports it.
pub(crate) fn read_document(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading scenario {}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(v),
        Err(_) => {
            load(path)?;
            anyhow::bail!("{}: not a JSON document", path.display())
        }
    }
}

/// Parses and validates a (modified) scenario document; files it references
/// resolve beside `path`. `context` names the modification in errors.
pub(crate) fn load_document(
    path: &Path,
    doc: &serde_json::Value,
    context: &str,
) -> Result<Scenario> {
    let text = serde_json::to_string(doc)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolver =
        move |rel: &str| std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string());
    let bad = |errors| BadScenario {
        file: path.to_path_buf(),
        context: context.to_string(),
        errors,
    };
    let file = scenario::parse_file(&text).map_err(bad)?;
    let scenario = scenario::validate(&file, &resolver).map_err(bad)?;
    check_metrics(path, context, &scenario)?;
    Ok(scenario)
}

/// Rejects `expect` entries that name no summary metric.
pub(crate) fn check_metrics(path: &Path, context: &str, scenario: &Scenario) -> Result<()> {
    for e in &scenario.expect {
        if !reports::metrics::is_known_metric(&e.metric) {
            return Err(BadScenario {
                file: path.to_path_buf(),
                context: context.to_string(),
                errors: ScenarioErrors(vec![scenario::ScenarioError::Invalid {
                    path: format!("expect[{:?}]", e.metric),
                    message: "unknown metric".into(),
                }]),
            }
            .into());
        }
    }
    Ok(())
}

/// Runs a scenario to its end without tracing and returns its summary.
pub(crate) fn simulate(scenario: Scenario) -> serde_json::Value {
    let scenario = Arc::new(scenario);
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = reports::metrics::Collector::new(&scenario);
    let outcome = sim.run(&mut collector, None);
    reports::report::summary(&scenario, &outcome, &collector, &ring)
}

fn validate(files: &[PathBuf]) -> Result<Outcome> {
    let mut bad = 0;
    for f in files {
        match load(f) {
            Ok(s) => {
                let unknown: Vec<&str> = s
                    .expect
                    .iter()
                    .map(|e| e.metric.as_str())
                    .filter(|m| !reports::metrics::is_known_metric(m))
                    .collect();
                for m in &unknown {
                    println!("{}: expect[{m:?}]: unknown metric (see docs/scenario-format.md for metric paths)", f.display());
                }
                if unknown.is_empty() {
                    println!("{}: ok", f.display());
                }
                bad += unknown.len();
            }
            Err(e) => {
                bad += 1;
                match e.downcast_ref::<BadScenario>() {
                    Some(b) => print!("{b}"),
                    None => println!("{}: {e:#}", f.display()),
                }
            }
        }
    }
    if bad > 0 {
        anyhow::bail!("{bad} problem(s) found");
    }
    Ok(Outcome::Ok)
}

/// Feeds the collector and, with `--ops`, writes ops.csv.
struct Tee<'a> {
    collector: &'a mut reports::metrics::Collector,
    ops: Option<BufWriter<File>>,
    scenario: &'a Scenario,
}

impl Sink for Tee<'_> {
    fn record(&mut self, at: SimTime, record: &Record) {
        self.collector.record(at, record);
        if let (
            Some(out),
            Record::OpCompleted {
                op,
                kind,
                key,
                invoked,
                result,
                values,
                coordinator,
            },
        ) = (&mut self.ops, record)
        {
            let values: Vec<String> = values.iter().map(|v| v.write().to_string()).collect();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                self.scenario.workload.clients[op.client.0 as usize].name,
                op.seq,
                kind.name(),
                key.0,
                invoked.as_micros(),
                at.as_micros(),
                match result {
                    Ok(()) => "ok".to_string(),
                    Err(f) => f.to_string(),
                },
                coordinator
                    .map(|c| self.scenario.cluster.nodes[c.0 as usize].name.clone())
                    .unwrap_or_default(),
                values.join(" ")
            );
        }
    }
}

fn run(args: &RunArgs) -> Result<Outcome> {
    let sets = args
        .set
        .iter()
        .map(|a| sweep::parse_single(a))
        .collect::<Result<Vec<_>>>()?;
    let mut scenario = if sets.is_empty() {
        let s = load(&args.file)?;
        check_metrics(&args.file, "", &s)?;
        s
    } else {
        let mut doc = read_document(&args.file)?;
        for (path, value) in &sets {
            sweep::apply_set(&mut doc, path, value.clone())?;
        }
        load_document(&args.file, &doc, &sweep::sets_context(&sets))?
    };
    if let Some(seed) = args.seed {
        scenario.rng_seed = seed;
    }
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("{}-seed{}", scenario.name, scenario.rng_seed))
    });
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let scenario = Arc::new(scenario);
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = reports::metrics::Collector::new(&scenario);
    let ops = if args.ops {
        let path = out_dir.join("ops.csv");
        let mut w = BufWriter::new(
            File::create(&path).with_context(|| format!("creating {}", path.display()))?,
        );
        writeln!(
            w,
            "client,seq,kind,key,invoked_us,completed_us,result,coordinator,values"
        )?;
        Some(w)
    } else {
        None
    };
    let mut tracer = match &args.trace {
        Some(path) => Some(explain::trace_format_tracer(
            &args.trace_format,
            BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ),
            &scenario,
        )?),
        None => None,
    };
    let mut tee = Tee {
        collector: &mut collector,
        ops,
        scenario: &scenario,
    };
    let outcome = sim.run(&mut tee, tracer.as_mut().map(|t| t.tracer()));
    if let Some(mut out) = tee.ops.take() {
        out.flush()?;
    }
    if let Some(mut t) = tracer {
        t.finish().context("writing the trace")?;
    }
    let summary = reports::report::summary(&scenario, &outcome, &collector, &ring);
    let summary_path = out_dir.join("summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .with_context(|| format!("writing {}", summary_path.display()))?;
    if !args.no_plots {
        reports::render::write_report(&summary, &out_dir)
            .with_context(|| format!("writing plots to {}", out_dir.display()))?;
    }
    let verdicts = reports::report::verdicts(&summary);
    if !args.quiet {
        println!(
            "scenario {}  rng_seed {}  ({} events, stop: {})",
            scenario.name,
            scenario.rng_seed,
            outcome.stats.events,
            outcome.stop.name()
        );
        print!("{}", reports::report::table(&summary));
    }
    for v in &verdicts {
        let bound = match (v.min, v.max) {
            (Some(lo), Some(hi)) => format!("in [{lo}, {hi}]"),
            (Some(lo), None) => format!(">= {lo}"),
            (None, Some(hi)) => format!("<= {hi}"),
            (None, None) => String::new(),
        };
        let value = v.value.map_or("missing".to_string(), |x| format!("{x}"));
        println!(
            "expect {} {bound}: {} ({value})",
            v.metric,
            if v.pass { "pass" } else { "FAIL" }
        );
    }
    println!("trace hash {:016x}", outcome.trace_hash);
    if !args.quiet {
        println!("report: {}", out_dir.display());
    }
    if verdicts.iter().any(|v| !v.pass) {
        println!(
            "expectations failed; reproduce with:\n  {}",
            sweep::repro_command(&args.file, scenario.rng_seed, &sets)
        );
        return Ok(Outcome::ExpectFailed);
    }
    Ok(Outcome::Ok)
}

fn plot(summaries: &[PathBuf], out: &Path) -> Result<Outcome> {
    let mut loaded = Vec::new();
    for p in summaries {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
        loaded.push(v);
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    reports::render::write_overlays(&loaded, out)
        .with_context(|| format!("writing plots to {}", out.display()))?;
    println!("plots: {}", out.display());
    Ok(Outcome::Ok)
}
