//! `dynasim run`, `validate` and `plot`: one run with its report, the
//! scenario checker, and redrawing figures from saved summaries.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use sim_core::config::Scenario;
use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::sim::Simulation;

use crate::load::{check_metrics, load, load_document, read_document, BadScenario, Outcome};
use crate::options::RunArgs;
use crate::{explain, sweep};

/// `dynasim validate`: checks each file, prints every problem with its
/// JSON path; an error when any file has a problem.
pub fn validate(files: &[PathBuf]) -> Result<Outcome> {
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
                ..
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

/// `dynasim run`: one run of a scenario; prints the summary table, the
/// verdicts and the trace hash; writes summary.json, the report and plots,
/// and on request ops.csv and a trace.
pub fn run(args: &RunArgs) -> Result<Outcome> {
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

/// `dynasim plot`: redraws the figures of saved summaries, overlaid.
pub fn plot(summaries: &[PathBuf], out: &Path) -> Result<Outcome> {
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
