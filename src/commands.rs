//! `dynasim run`, `hash`, `validate` and `plot`: one run with its report,
//! one run through the simulator alone, the scenario checker, and redrawing
//! figures from saved summaries.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use reports::files::{partial_path, PartialFile};
use sim_core::config::Scenario;
use sim_core::engine::record::{NullSink, Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::sim::Simulation;

use crate::guard::Limits;
use crate::load::{
    check_budget, check_metrics, load, load_document, read_document, read_text, BadScenario,
    Outcome,
};
use crate::options::{HashArgs, RunArgs};
use crate::outputs::{Kind, OutDir};
use crate::{explain, sweep};

/// `dynasim validate`: checks each file; prints `FILE: ok` on stdout for
/// a good file and every problem, with its JSON path, on stderr; an error
/// counting the problems (not the files) when there is any.
pub fn validate(files: &[PathBuf], limits: &Limits) -> Result<Outcome> {
    let mut problems = 0;
    let mut bad_files = 0;
    for f in files {
        let loaded = load(f).and_then(|s| {
            check_budget(f, "", &s, &limits.budget(), "")?;
            Ok(s)
        });
        let found = match loaded {
            Ok(s) => {
                let unknown: Vec<&str> = s
                    .expect
                    .iter()
                    .map(|e| e.metric.as_str())
                    .filter(|m| !reports::metrics::is_known_metric(m))
                    .collect();
                for m in &unknown {
                    eprintln!("{}: expect[{m:?}]: unknown metric (see docs/scenario-format.md for metric paths)", f.display());
                }
                unknown.len()
            }
            Err(e) => match e.downcast_ref::<BadScenario>() {
                Some(b) => {
                    eprint!("{b}");
                    b.errors.0.len().max(1)
                }
                None => {
                    eprintln!("{}: {e:#}", f.display());
                    1
                }
            },
        };
        if found == 0 {
            println!("{}: ok", f.display());
        } else {
            bad_files += 1;
        }
        problems += found;
    }
    if problems > 0 {
        anyhow::bail!(
            "{problems} problem{} in {bad_files} of {} file{}",
            if problems == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(Outcome::Ok)
}

/// Feeds the collector and, with `--ops`, writes ops.csv (the first write
/// error is kept and reported after the run, naming the file).
struct Tee<'a> {
    collector: &'a mut reports::metrics::Collector,
    ops: Option<PartialFile>,
    ops_error: Option<std::io::Error>,
    scenario: &'a Scenario,
    progress: Option<RunProgress>,
}

/// Progress of one run on stderr, by virtual time: nothing for runs that
/// end within [`RunProgress::QUIET_FOR`] of wall-clock time; then a line
/// updated in place on a terminal, or one line per 10 % otherwise. Reads
/// the wall clock only when virtual time crosses a step, and never
/// influences the run.
struct RunProgress {
    end_us: u64,
    step_us: u64,
    next_us: u64,
    start: std::time::Instant,
    terminal: bool,
    shown: bool,
}

impl RunProgress {
    const QUIET_FOR: std::time::Duration = std::time::Duration::from_secs(3);

    fn new(scenario: &Scenario) -> RunProgress {
        use std::io::IsTerminal;
        let end_us =
            (scenario.duration.as_micros() + scenario.quiescence.duration.as_micros()).max(1);
        let terminal = std::io::stderr().is_terminal();
        let step_us = (end_us / if terminal { 100 } else { 10 }).max(1);
        RunProgress {
            end_us,
            step_us,
            next_us: step_us,
            start: std::time::Instant::now(),
            terminal,
            shown: false,
        }
    }

    #[inline]
    fn at(&mut self, at: SimTime) {
        if at.as_micros() >= self.next_us {
            self.step(at.as_micros());
        }
    }

    fn step(&mut self, now_us: u64) {
        self.next_us = (now_us / self.step_us + 1) * self.step_us;
        let elapsed = self.start.elapsed();
        if elapsed < Self::QUIET_FOR {
            return;
        }
        let pct = (now_us.min(self.end_us) * 100 / self.end_us) as u32;
        let line = format!(
            "run: {pct:>3}% of virtual time ({:.1} of {:.1} s), {:.0} s elapsed",
            now_us as f64 / 1e6,
            self.end_us as f64 / 1e6,
            elapsed.as_secs_f64()
        );
        if self.terminal {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
        self.shown = true;
    }

    fn finish(&self) {
        if self.terminal && self.shown {
            eprintln!();
        }
        if self.shown {
            eprintln!("run: simulated; computing the summary and writing the report");
        }
    }
}

impl Sink for Tee<'_> {
    fn record(&mut self, at: SimTime, record: &Record) {
        self.collector.record(at, record);
        if let Some(p) = &mut self.progress {
            p.at(at);
        }
        if self.ops_error.is_some() {
            return;
        }
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
            let written = writeln!(
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
            if let Err(e) = written {
                self.ops_error = Some(e);
            }
        }
    }

    fn end_phase(&mut self) {
        self.collector.end_phase();
    }
}

/// A trace file being streamed: written under its partial name and
/// renamed into place when the exporter has closed it.
fn finish_trace(path: &Path, result: std::io::Result<()>) -> Result<()> {
    let partial = partial_path(path);
    match result.and_then(|()| std::fs::rename(&partial, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e).with_context(|| format!("writing the trace {}", path.display()))
        }
    }
}

/// A scenario named on the command line: the file with its `--set`s
/// applied (and validated again), the document they were applied to, the
/// `--set`s themselves (for repro commands) and their description for
/// error messages.
struct Named {
    scenario: Scenario,
    doc: serde_json::Value,
    sets: Vec<(String, serde_json::Value)>,
    context: String,
}

/// Loads `file` with the `--set` arguments `set` applied.
fn named_scenario(file: &Path, set: &[String]) -> Result<Named> {
    let sets = set
        .iter()
        .map(|a| sweep::parse_single(a))
        .collect::<Result<Vec<_>>>()?;
    let context = sweep::sets_context(&sets);
    let scenario = if sets.is_empty() {
        let s = load(file)?;
        check_metrics(file, "", &s)?;
        Some(s)
    } else {
        None
    };
    // Read after the load, whose parse is gone by then: one document's
    // worth of JSON at a time (thousands of faults make it large).
    let mut doc = read_document(file)?;
    let scenario = if let Some(s) = scenario {
        s
    } else {
        for (path, value) in &sets {
            sweep::apply_set(&mut doc, path, value.clone())?;
        }
        load_document(file, &doc, &context)?
    };
    Ok(Named {
        scenario,
        doc,
        sets,
        context,
    })
}

/// `dynasim hash`: the run `dynasim run` would do, through the simulator
/// alone: no collector, checkers, summary or files, so it costs what the
/// engine costs. Prints the events, messages and stop reason, then the
/// trace hash, which is the same as `dynasim run`'s for the same scenario,
/// seed and `--set`s (the engine computes it; what consumes the records
/// cannot change it). For checking that a seed reproduces on another
/// machine or build, and for timing the engine on a scenario. A run that
/// stops before its end (a limit or `max_events`) says so and exits 3.
pub fn hash(args: &HashArgs) -> Result<Outcome> {
    let Named {
        mut scenario,
        sets,
        context,
        ..
    } = named_scenario(&args.file, &args.set)?;
    if let Some(seed) = args.seed {
        scenario.rng_seed = seed;
    }
    check_budget(&args.file, &context, &scenario, &args.limits.budget(), "")?;
    let seed = scenario.rng_seed;
    let name = scenario.name.clone();
    let mut guard = args.limits.guard();
    let outcome = Simulation::new(Arc::new(scenario)).run_guarded(&mut NullSink, None, &mut guard);
    let messages: u64 = outcome.stats.sent_by_kind.iter().sum();
    println!(
        "scenario {name}  rng_seed {seed}  ({} events, {messages} messages, {} s simulated, stop: {})",
        outcome.stats.events,
        outcome.end_time.as_micros() as f64 / 1e6,
        outcome.stop.name()
    );
    println!("trace hash {:016x}", outcome.trace_hash);
    if outcome.stop.is_complete() {
        return Ok(Outcome::Ok);
    }
    println!(
        "INCOMPLETE RUN: stopped at {} s after {} events ({}); the hash covers only part of the scenario",
        outcome.end_time.as_micros() as f64 / 1e6,
        outcome.stats.events,
        outcome.stop.name()
    );
    println!(
        "reproduce with:\n  {}",
        sweep::repro_command(&args.file, seed, &sets)
    );
    Ok(Outcome::Incomplete)
}

/// `dynasim run`: one run of a scenario; prints the summary table, the
/// verdicts and the trace hash; writes summary.json, the report and plots,
/// and on request ops.csv and a trace. A run that stops before its end is
/// reported as incomplete ([`Outcome::Incomplete`]).
pub fn run(args: &RunArgs) -> Result<Outcome> {
    run_and_keep(args).map(|(outcome, _left)| outcome)
}

/// What a run leaves once its files are written and its verdicts printed:
/// the collector's histories and the summary. Dropping it gives their
/// memory back one allocation at a time (on the engine bench's 1M-operation
/// baseline, about 4 % of the run's CPU time: 0.18 s of 4.3 s, the median of
/// ten interleaved pairs; on the main thread, after the report is out); a
/// process that is about to exit may leave that to the operating system
/// instead ([`std::mem::forget`]), as the `dynasim` binary does.
/// Nothing in it holds a file, thread or anything else a drop would
/// release outside this process's memory.
pub struct Leftovers {
    _collector: reports::metrics::Collector,
    _summary: serde_json::Value,
}

/// [`run`], handing back what the run built ([`Leftovers`]) instead of
/// freeing it.
pub fn run_and_keep(args: &RunArgs) -> Result<(Outcome, Leftovers)> {
    let Named {
        mut scenario,
        doc,
        sets,
        context,
    } = named_scenario(&args.file, &args.set)?;
    if let Some(seed) = args.seed {
        scenario.rng_seed = seed;
    }
    // Kept as text until summary.json is written: as a JSON tree the
    // document takes about 25 times its text, for the whole run (a
    // file of 20,000 faults peaked at 158 MB with its trees, 2 MB of text).
    let resolved = reports::json_text::Member::of(&crate::load::resolved_document(
        &args.file,
        doc,
        scenario.rng_seed,
    )?)?;
    check_budget(&args.file, &context, &scenario, &args.limits.budget(), "")?;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("{}-seed{}", scenario.name, scenario.rng_seed))
    });
    let out = OutDir::prepare(&out_dir, Kind::Run)?;
    let scenario = Arc::new(scenario);
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = reports::metrics::Collector::new(&scenario);
    let ops = if args.ops {
        let path = out.path("ops.csv");
        let mut w = PartialFile::create(&path)?;
        writeln!(
            w,
            "client,seq,kind,key,invoked_us,completed_us,result,coordinator,values"
        )
        .with_context(|| format!("writing {}", path.display()))?;
        Some(w)
    } else {
        None
    };
    let mut tracer = match &args.trace {
        Some(path) => {
            let partial = partial_path(path);
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("creating the trace {}", path.display()))?;
            Some(explain::trace_format_tracer(
                &args.trace_format,
                BufWriter::new(file),
                &scenario,
            )?)
        }
        None => None,
    };
    let mut tee = Tee {
        collector: &mut collector,
        ops,
        ops_error: None,
        scenario: &scenario,
        progress: (!args.quiet).then(|| RunProgress::new(&scenario)),
    };
    let mut guard = args.limits.guard();
    let trace = tracer.as_mut().map(|t| t.tracer());
    // Records flow one way, so collecting them on a second core changes
    // nothing but the wall time (`reports::pipeline`).
    let outcome = if args.one_thread || !reports::pipeline::worth_a_thread() {
        sim.run_guarded(&mut tee, trace, &mut guard)
    } else {
        reports::pipeline::pipelined(&mut tee, |sink| sim.run_guarded(sink, trace, &mut guard))
    };
    if let Some(p) = tee.progress.take() {
        p.finish();
    }
    if let Some(mut ops) = tee.ops.take() {
        let path = ops.path().to_path_buf();
        if let Some(e) = tee.ops_error.take() {
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        ops.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        ops.commit()?;
    }
    if let (Some(mut t), Some(path)) = (tracer, &args.trace) {
        finish_trace(path, t.finish())?;
    }
    let wall_stop = guard.wall_stop();
    let summarize =
        || reports::report::summary_until(&scenario, &outcome, &collector, &ring, &wall_stop);
    // The summary's WARS trials (`metrics.wars_trials`) spread over the
    // cores (`reports::wars::Wars::run_parallel`), except with --one-thread:
    // then in a pool of this thread alone.
    let mut summary = if args.one_thread && scenario.metrics.wars_trials.is_some() {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build()
            .context("a thread pool for the WARS trials")?
            .install(summarize)
    } else {
        summarize()
    };
    // A placeholder where the document goes (no reader below looks at it).
    summary[crate::load::SCENARIO_FILE_FIELD] = serde_json::Value::Null;
    out.write(
        "summary.json",
        (reports::json_text::pretty_with_member(
            &summary,
            crate::load::SCENARIO_FILE_FIELD,
            &resolved,
        )? + "\n")
            .as_bytes(),
    )?;
    out.write(
        "timeline.csv",
        reports::report::timeline_csv(&summary).as_bytes(),
    )?;
    if !args.no_plots {
        reports::render::write_report(&summary, out.dir())
            .with_context(|| format!("writing plots to {}", out.dir().display()))?;
    }
    out.finish()?;
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
    let outcome = if let Some(note) = reports::report::incomplete_note(&summary) {
        println!("{note}");
        println!(
            "reproduce with:\n  {}",
            sweep::repro_command(&args.file, scenario.rng_seed, &sets)
        );
        Outcome::Incomplete
    } else if verdicts.iter().any(|v| !v.pass) {
        println!(
            "expectations failed; reproduce with:\n  {}",
            sweep::repro_command(&args.file, scenario.rng_seed, &sets)
        );
        Outcome::ExpectFailed
    } else {
        Outcome::Ok
    };
    let left = Leftovers {
        _collector: collector,
        _summary: summary,
    };
    Ok((outcome, left))
}

/// The largest summary `plot` reads.
pub(crate) const MAX_SUMMARY_BYTES: u64 = 1 << 30;

/// Checks that `doc` is something `plot` can draw: a run's summary.json or
/// a sweep point's merged one. Returns what it is otherwise.
pub(crate) fn plottable(doc: &serde_json::Value) -> Result<(), String> {
    let is_obj = |k: &str| doc.get(k).is_some_and(serde_json::Value::is_object);
    if doc
        .get("summary_version")
        .is_some_and(serde_json::Value::is_u64)
        && is_obj("latency")
        && is_obj("staleness")
    {
        return Ok(());
    }
    let what = if !doc.is_object() {
        format!(
            "a JSON {}",
            match doc {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "boolean",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Array(_) => "array",
                serde_json::Value::Object(_) => "object",
            }
        )
    } else if doc.get("sweep_version").is_some() {
        "a sweep's sweep.json (plot its points/*/summary.json, or read the sweep's own overlays)"
            .into()
    } else if is_obj("cluster") || is_obj("workload") {
        "a scenario (run it with `dynasim run` first)".into()
    } else {
        "a JSON object without summary_version, latency and staleness".into()
    };
    Err(format!(
        "not a dynasim summary: expected a run's summary.json (or a sweep point's), got {what}"
    ))
}

/// `dynasim plot`: redraws the figures of saved summaries, overlaid.
pub fn plot(summaries: &[PathBuf], out: &Path) -> Result<Outcome> {
    let mut loaded = Vec::new();
    for p in summaries {
        let text = read_text(p, MAX_SUMMARY_BYTES)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
        plottable(&v).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        loaded.push(v);
    }
    let dir = OutDir::prepare(out, Kind::Plot)?;
    reports::render::write_overlays(&loaded, out)
        .with_context(|| format!("writing plots to {}", out.display()))?;
    dir.finish()?;
    println!("plots: {}", out.display());
    Ok(Outcome::Ok)
}
