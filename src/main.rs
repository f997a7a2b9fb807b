//! The `dynasim` binary: a thin argument parser over the `dynasim`
//! library. It parses the command line, calls the library function of the
//! subcommand and maps the outcome to the exit status (0 ok, 1 an `expect`
//! block failed, 2 bad input or I/O, 3 a run stopped before its end). No
//! simulation, metric or file logic lives here.

use std::path::PathBuf;

/// The allocator: mimalloc (version 2) rather than the system's (see
/// README, "Benchmarks"): 10 to 13 % less CPU per run on this machine for
/// about 9 MB more memory on a small run and 3 to 8 % on a large one; no
/// output depends on it (same trace hashes).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dynasim::load::{BadScenario, EXIT_BAD_INPUT};
use dynasim::{claims, commands, explain, explore, options, shrink, sweep, Outcome};

/// dynasim: a deterministic simulator of Amazon's Dynamo key-value store.
///
/// Every run is a pure function of (scenario file, seed): the same seed gives
/// the same trace hash on any machine. Exit status: 0 ok, 1 when the
/// scenario's `expect` block fails, 2 for bad input or I/O errors, 3 when a
/// run stopped before its end (max_events, --max-wall-s, --max-memory-mb).
#[derive(Debug, Parser)]
#[command(name = "dynasim", version = reports::VERSION_LINE, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: print a summary and the trace hash, write the report.
    ///
    /// Example: dynasim run scenarios/healthy-baseline.json --seed 7
    Run(options::RunArgs),
    /// Run a scenario through the simulator alone (no metrics, checks or
    /// files) and print its trace hash, the same as `dynasim run`'s: a quick
    /// check that a seed reproduces, and the engine's own cost.
    ///
    /// Example: dynasim hash scenarios/healthy-baseline.json --seed 7
    Hash(options::HashArgs),
    /// Check scenario files; print every problem with its JSON path.
    ///
    /// Example: dynasim validate scenarios/*.json
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The resource budget each file must fit.
        #[command(flatten)]
        limits: options::Limits,
    },
    /// Print the JSON Schema of the scenario format (for editor autocompletion).
    ///
    /// Example: dynasim schema > scenario.schema.json
    Schema,
    /// Redraw plots from saved summaries; several summaries are overlaid.
    ///
    /// Example: dynasim plot runs/a/summary.json runs/b/summary.json --out cmp/
    Plot {
        /// summary.json files.
        #[arg(required = true)]
        summaries: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "plots")]
        out: PathBuf,
    },
    /// Run a scenario over many seeds and parameter values, in parallel, and
    /// aggregate the results per parameter point.
    ///
    /// Example: dynasim sweep scenarios/healthy-baseline.json --seeds 1..=20
    /// --set cluster.quorum.r=1,2 --out runs/sweep-r
    Sweep(options::SweepArgs),
    /// Combine the output directories of a sharded sweep (`--shard I/N`) into
    /// the same sweep.json and sweep.csv as one unsharded sweep.
    ///
    /// Example: dynasim merge shard-1 shard-2 --out runs/sweep
    Merge(options::MergeArgs),
    /// Check every scenario's expectations over many seeds (default: every
    /// scenarios/*.json over seeds 1..=1000): seeds passing per expectation,
    /// the measured spread, repro commands for failures; exit 1 if any fails.
    ///
    /// Example: dynasim claims --seeds 1..=1000 --out runs/claims
    Claims(options::ClaimsArgs),
    /// Search for a smaller scenario that still fails the same expectation
    /// (delta debugging over faults, nodes, clients, keys, time, rates,
    /// latency models); every candidate is a normal deterministic run.
    ///
    /// Example: dynasim shrink failing.json --seed 7 --out min.json
    Shrink(options::ShrinkArgs),
    /// Swarm testing: add random nemesis faults (drawn from the run number)
    /// to a scenario until a run fails its expectations, then shrink it.
    ///
    /// Example: dynasim explore scenarios/healthy-baseline.json --runs 50
    Explore(options::ExploreArgs),
    /// Re-run a seed and tell the story of one key (default: the first lost
    /// write's): timeline, causal story, sequence diagram, Perfetto and ShiViz
    /// exports.
    ///
    /// Example: dynasim explain scenarios/lww-clock-skew.json --seed 1
    Explain(dynasim::explain::ExplainArgs),
    /// Compare runs side by side: a metrics table with deltas against the
    /// first run and a verdict per run (same seed and trace hash: "identical
    /// run", else "different"), compare.json, compare.csv and overlaid figures.
    ///
    /// Example: dynasim compare runs/a runs/b/summary.json --out runs/a-vs-b
    Compare(dynasim::compare::CompareArgs),
    /// Write one static HTML page (no network) linking every run and sweep
    /// found under some directories, sortable by any metric.
    ///
    /// Example: dynasim index runs --out runs/index.html
    Index(dynasim::compare::IndexArgs),
    /// Print PBS's WARS model of a scenario alone: t-visibility and
    /// latencies predicted from its quorum and per-message-kind latencies.
    ///
    /// Example: dynasim wars scenarios/pbs-lnkd-disk.json --trials 10000000
    Wars(dynasim::wars::WarsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // The process ends right after: the operating system takes back
        // the run's memory at once, not one allocation at a time
        // (`commands::Leftovers`).
        Command::Run(args) => commands::run_and_keep(&args).map(|(outcome, left)| {
            std::mem::forget(left);
            outcome
        }),
        Command::Hash(args) => commands::hash(&args),
        Command::Validate { files, limits } => commands::validate(&files, &limits),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&sim_core::scenario::json_schema())
                    .expect("schema serializes")
            );
            Ok(Outcome::Ok)
        }
        Command::Plot { summaries, out } => commands::plot(&summaries, &out),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Claims(args) => claims::claims(&args),
        Command::Shrink(args) => shrink::shrink_command(&args),
        Command::Explore(args) => explore::explore(&args),
        Command::Wars(args) => dynasim::wars::wars(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Compare(args) => dynasim::compare::compare(&args),
        Command::Index(args) => dynasim::compare::index(&args),
    };
    if std::env::var_os("DYNASIM_REPORT_PEAK_RSS").is_some() {
        if let Some(kb) = dynasim::guard::peak_resident_kb() {
            eprintln!("peak_rss_kb {kb}");
        }
    }
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            if let Some(bad) = e.downcast_ref::<BadScenario>() {
                eprint!("{bad}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
