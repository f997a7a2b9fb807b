//! `dynasim compare` (runs side by side: metrics with deltas against the
//! first, a verdict per run, overlaid figures) and `dynasim index` (one
//! static HTML page linking every run and sweep under some directories).
//!
//! This module finds and reads the files; the tables, verdicts and the page
//! are built by `reports::compare`.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use reports::compare::{Compared, IndexRun, IndexSweep};
use serde_json::Value as Json;

use crate::commands::{plottable, MAX_SUMMARY_BYTES};
use crate::load::{read_text, Outcome};
use crate::outputs::{Kind, OutDir};

/// `dynasim compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Run directories (holding summary.json) or summary.json files; the
    /// first is the baseline the others are compared against.
    #[arg(required = true, value_name = "RUN_OR_SUMMARY")]
    pub runs: Vec<PathBuf>,
    /// Output directory for compare.json, compare.csv and the overlays.
    #[arg(long, default_value = "runs/compare")]
    pub out: PathBuf,
    /// Compare these summary paths (as `sweep --metric`) instead of the
    /// default ten. Repeat, or separate with commas.
    #[arg(long = "metric", value_name = "PATH")]
    pub metric: Vec<String>,
    /// Skip the overlay plots.
    #[arg(long)]
    pub no_plots: bool,
}

/// `dynasim index`.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Directories searched (recursively) for runs (summary.json) and
    /// sweeps (sweep.json).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The HTML page to write; its links are relative to where it is.
    #[arg(long, default_value = "index.html")]
    pub out: PathBuf,
    /// Columns: these summary paths instead of the default ten.
    #[arg(long = "metric", value_name = "PATH")]
    pub metric: Vec<String>,
}

/// Directory levels `index` descends below each given directory.
pub const MAX_DEPTH: usize = 8;
/// Directory entries `index` looks at in all, at most.
pub const MAX_ENTRIES: usize = 200_000;

fn read_json(path: &Path) -> Result<Json> {
    let text = read_text(path, MAX_SUMMARY_BYTES)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Reads a run directory's summary.json or a summary file, checking it is
/// one.
fn read_summary(arg: &Path) -> Result<Json> {
    let path = if arg.is_dir() {
        arg.join("summary.json")
    } else {
        arg.to_path_buf()
    };
    let v = read_json(&path)?;
    plottable(&v).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(v)
}

/// `dynasim compare`: prints the table, writes compare.json, compare.csv
/// and (unless `--no-plots`) the overlays of the runs.
pub fn compare(args: &CompareArgs) -> Result<Outcome> {
    let metrics = crate::sweep::metric_list(&args.metric)?;
    let mut runs = Vec::new();
    for p in &args.runs {
        runs.push(Compared {
            source: p.display().to_string(),
            summary: read_summary(p)?,
        });
    }
    let doc = reports::compare::compare(&runs, &metrics);
    let dir = OutDir::prepare(&args.out, Kind::Compare)?;
    dir.write(
        "compare.json",
        (reports::json_text::pretty(&doc)? + "\n").as_bytes(),
    )?;
    dir.write("compare.csv", reports::compare::csv(&doc).as_bytes())?;
    if !args.no_plots {
        let summaries: Vec<Json> = runs.into_iter().map(|r| r.summary).collect();
        reports::render::write_overlays(&summaries, &args.out)
            .with_context(|| format!("writing plots to {}", args.out.display()))?;
    }
    dir.finish()?;
    print!("{}", reports::compare::table(&doc));
    println!("compare: {}", args.out.display());
    Ok(Outcome::Ok)
}

/// What `index` found.
#[derive(Default)]
struct Found {
    runs: Vec<PathBuf>,
    sweeps: Vec<PathBuf>,
    entries: usize,
}

/// Walks `dir` (sorted, so the page's order does not depend on the file
/// system) for directories holding summary.json or sweep.json.
fn walk(dir: &Path, depth: usize, found: &mut Found) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    found.entries += entries.len();
    anyhow::ensure!(
        found.entries <= MAX_ENTRIES,
        "more than {MAX_ENTRIES} files under the given directories; index fewer"
    );
    entries.sort();
    if dir.join("sweep.json").is_file() {
        found.sweeps.push(dir.to_path_buf());
    }
    if dir.join("summary.json").is_file() {
        found.runs.push(dir.to_path_buf());
    }
    if depth < MAX_DEPTH {
        for e in entries {
            let hidden = e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden && e.is_dir() && !e.is_symlink() {
                walk(&e, depth + 1, found)?;
            }
        }
    }
    Ok(())
}

/// `target` relative to the directory `base` (both made absolute).
pub fn relative(base: &Path, target: &Path) -> PathBuf {
    let abs = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (base, target) = (abs(base), abs(target));
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

/// `dynasim index`: writes one HTML page linking every run (its
/// report.html, else its summary.json), sweep point and sweep found.
pub fn index(args: &IndexArgs) -> Result<Outcome> {
    let metrics = crate::sweep::metric_list(&args.metric)?;
    let mut found = Found::default();
    for d in &args.dirs {
        anyhow::ensure!(d.is_dir(), "{}: not a directory", d.display());
        walk(d, 0, &mut found)?;
    }
    let page_dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&page_dir)
        .with_context(|| format!("creating {}", page_dir.display()))?;
    let link = |p: &Path| relative(&page_dir, p).display().to_string();
    let mut runs = Vec::new();
    let mut skipped = 0;
    for dir in &found.runs {
        let summary = read_json(&dir.join("summary.json"))?;
        if plottable(&summary).is_err() {
            skipped += 1;
            continue;
        }
        let in_sweep = dir
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == "points"))
            .and_then(Path::parent)
            .is_some_and(|s| s.join("sweep.json").is_file());
        let report = dir.join("report.html");
        let target = if report.is_file() {
            report
        } else {
            dir.join("summary.json")
        };
        runs.push(IndexRun {
            href: link(&target),
            path: dir.display().to_string(),
            kind: if in_sweep { "sweep point" } else { "run" },
            summary,
        });
    }
    let mut sweeps = Vec::new();
    for dir in &found.sweeps {
        let file = dir.join("sweep.json");
        sweeps.push(IndexSweep {
            href: link(&file),
            path: dir.display().to_string(),
            sweep: read_json(&file)?,
        });
    }
    let html = reports::compare::index_html(&runs, &sweeps, &metrics);
    reports::files::write_atomic(&args.out, html.as_bytes())?;
    println!(
        "index: {} run(s) and sweep point(s), {} sweep(s){} -> {}",
        runs.len(),
        sweeps.len(),
        if skipped > 0 {
            format!(" ({skipped} summary.json file(s) that are not dynasim summaries skipped)")
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_climb_to_the_common_directory() {
        let base = Path::new("/a/b/c");
        assert_eq!(
            relative(base, Path::new("/a/x/y.html")),
            PathBuf::from("../../x/y.html")
        );
        assert_eq!(
            relative(base, Path::new("/a/b/c/d/r.html")),
            PathBuf::from("d/r.html")
        );
    }
}
