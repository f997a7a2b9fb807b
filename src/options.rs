//! The options of each command, as plain structs a library user can build
//! by hand. They also derive `clap::Args`, so the binary's parser flattens
//! them into its subcommands without a second copy of every flag.

use std::path::PathBuf;

pub use crate::guard::Limits;

/// `dynasim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Seeds: `A..B` (B excluded), `A..=B` (B included), or one seed. Default:
    /// the scenario's rng_seed.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Sweep a scenario field: a dotted JSON path (`[i]` for array items) and
    /// comma-separated values, each parsed as JSON or else taken as a string.
    /// Repeat for a cartesian product. Example: --set cluster.quorum.r=1,2
    #[arg(long = "set", value_name = "PATH=V1,V2,...")]
    pub set: Vec<String>,
    /// Parallel runs (default: the number of available cores). Results do
    /// not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only the I-th of N deterministic slices of the runs (1-based);
    /// combine the slices with `dynasim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Output directory (default: runs/sweep-<scenario>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the overlay plots (JSON and CSV only).
    #[arg(long)]
    pub no_plots: bool,
    /// Report these summary paths (dotted, `[i]` for array items; numbers,
    /// booleans as 1/0) per run and per point, in sweep.json, sweep.csv and
    /// points.csv, instead of the default ten. Repeat, or separate with
    /// commas. Example: --metric latency.get.p999_ms,convergence.time_to_converge_s
    #[arg(long = "metric", value_name = "PATH")]
    pub metric: Vec<String>,
    /// Resource limits.
    #[command(flatten)]
    pub limits: Limits,
}

/// `dynasim claims`.
#[derive(Debug, clap::Args)]
pub struct ClaimsArgs {
    /// Scenario files (default: every scenarios/*.json).
    pub files: Vec<PathBuf>,
    /// Seeds: `A..B` (B excluded), `A..=B` (B included), or one seed.
    #[arg(long, default_value = "1..=1000")]
    pub seeds: String,
    /// Parallel runs (default: the number of available cores). Results do
    /// not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output directory for claims.json and claims.md.
    #[arg(long, default_value = "runs/claims")]
    pub out: PathBuf,
    /// Paired claims (two files compared seed by seed; see
    /// docs/claims.md). Default: scenarios/pairs/pairs.json when it exists.
    /// Pairs whose two files are not both checked are skipped.
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Resource limits (each run gets its share of the memory limit).
    #[command(flatten)]
    pub limits: Limits,
}

/// `dynasim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output directories of `dynasim sweep --shard I/N`.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Skip the overlay plots (JSON and CSV only).
    #[arg(long)]
    pub no_plots: bool,
}

/// `dynasim shrink`.
#[derive(Debug, clap::Args)]
pub struct ShrinkArgs {
    /// The scenario file whose expectations fail.
    pub file: PathBuf,
    /// The failing seed (default: the scenario's rng_seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Set a scenario field first, as `dynasim run --set` does.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Where to write the minimal scenario (default: runs/<name>-seed<N>.min.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Maximum number of candidate runs.
    #[arg(long, default_value_t = 200)]
    pub budget: usize,
    /// Resource limits.
    #[command(flatten)]
    pub limits: Limits,
}

/// `dynasim explore`.
#[derive(Debug, clap::Args)]
pub struct ExploreArgs {
    /// The scenario file (its expect block is the oracle).
    pub file: PathBuf,
    /// Number of runs (seeds FIRST..FIRST+N, FIRST from --first).
    #[arg(long)]
    pub runs: u64,
    /// The first run number (and seed): resume an exploration, or go
    /// straight to a failing run found before.
    #[arg(long, default_value_t = 1)]
    pub first: u64,
    /// Output directory for the failing and the shrunk scenario
    /// (default: runs/explore-<scenario>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Parallel runs (default: the number of available cores). The first
    /// failing run found does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Maximum number of candidate runs when shrinking.
    #[arg(long, default_value_t = 200)]
    pub budget: usize,
    /// Resource limits.
    #[command(flatten)]
    pub limits: Limits,
}

/// `dynasim hash`.
#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Override the scenario's rng_seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Set a scenario field, as `dynasim run --set` does; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Resource limits.
    #[command(flatten)]
    pub limits: Limits,
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
    /// Format of the --trace file: jsonl, perfetto (Chrome trace-event JSON,
    /// for ui.perfetto.dev) or shiviz (ShiViz log with vector clocks).
    #[arg(long, default_value = "jsonl", value_parser = crate::explain::TRACE_FORMATS)]
    pub trace_format: String,
    /// Also write ops.csv (one row per client operation).
    #[arg(long)]
    pub ops: bool,
    /// Print only the trace hash and verdicts.
    #[arg(long)]
    pub quiet: bool,
    /// Skip plots and the HTML report (summary.json only).
    #[arg(long)]
    pub no_plots: bool,
    /// Collect metrics on the engine's thread instead of a second one, and
    /// run the WARS model's trials (`metrics.wars_trials`) there too (by
    /// default a machine with two or more cores collects beside the engine
    /// and spreads the trials over its cores; the results are the same
    /// either way).
    #[arg(long)]
    pub one_thread: bool,
    /// Set a scenario field (dotted JSON path, `[i]` for array items) to a
    /// value parsed as JSON or else taken as a string; repeatable.
    /// Example: --set cluster.quorum.r=1
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Resource limits.
    #[command(flatten)]
    pub limits: Limits,
}
