//! Command-line arguments (clap derive). Types only; `main.rs` acts on them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// dynasim: a deterministic simulator of Amazon's Dynamo key-value store.
///
/// Every run is a pure function of (scenario file, seed): the same seed gives
/// the same trace hash on any machine. Exit status: 0 ok, 1 when the
/// scenario's `expect` block fails, 2 for bad input or I/O errors.
#[derive(Debug, Parser)]
#[command(name = "dynasim", version, about, long_about)]
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
    Run(RunArgs),
    /// Check scenario files; print every problem with its JSON path.
    ///
    /// Example: dynasim validate scenarios/*.json
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
}

/// `dynasim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Override the scenario's rng_seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default: runs/<scenario>-seed<N>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stream every event as one JSON object per line to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Also write ops.csv (one row per client operation).
    #[arg(long)]
    pub ops: bool,
    /// Print only the trace hash and verdicts.
    #[arg(long)]
    pub quiet: bool,
    /// Skip plots and the HTML report (summary.json only).
    #[arg(long)]
    pub no_plots: bool,
}
