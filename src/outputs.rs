//! Output directories: what a command may find there from an earlier run,
//! and how it writes so that a directory never mixes two runs or holds half
//! of a file.
//!
//! [`OutDir::prepare`] creates the directory, removes the files this
//! command writes (and their `.NAME.partial` temporaries) left by an
//! earlier run — only those: other files are the user's and stay — and
//! writes the [`IN_PROGRESS`] marker. Files are then written atomically
//! ([`reports::files`]: a temporary name, then a rename), and
//! [`OutDir::finish`] removes the marker. A command that is interrupted
//! (Ctrl-C, killed, out of memory) leaves the marker beside whatever it had
//! finished, never an older run's files. Every I/O error names its file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use reports::files::partial_path;

/// The marker a command leaves in its output directory while it writes.
pub const IN_PROGRESS: &str = "in-progress.dynasim";

/// What a command writes into its output directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `dynasim run`.
    Run,
    /// `dynasim sweep` and `dynasim merge`.
    Sweep,
    /// `dynasim explain`.
    Explain,
    /// `dynasim plot`.
    Plot,
    /// `dynasim claims`.
    Claims,
    /// `dynasim compare`.
    Compare,
}

impl Kind {
    /// The file names this command writes at the top of its directory.
    pub fn files(self) -> Vec<String> {
        let figures = |names: &[&str]| -> Vec<String> {
            names
                .iter()
                .flat_map(|n| [format!("{n}.svg"), format!("{n}.png")])
                .collect()
        };
        let mut files: Vec<String> = match self {
            Kind::Run => ["summary.json", "report.html", "ops.csv", "timeline.csv"]
                .map(String::from)
                .to_vec(),
            Kind::Sweep => ["sweep.json", "sweep.csv", "points.csv", "sweep-runs.json"]
                .map(String::from)
                .to_vec(),
            Kind::Explain => [
                "timeline.txt",
                "story.txt",
                "msc.svg",
                "perfetto.json",
                "shiviz.log",
            ]
            .map(String::from)
            .to_vec(),
            Kind::Plot => Vec::new(),
            Kind::Claims => ["claims.json", "claims.md"].map(String::from).to_vec(),
            Kind::Compare => ["compare.json", "compare.csv"].map(String::from).to_vec(),
        };
        match self {
            Kind::Run => {
                files.extend(figures(&reports::render::RUN_FIGURES));
                files.extend(figures(&reports::render::CAPACITY_FIGURES));
            }
            Kind::Sweep | Kind::Plot | Kind::Compare => {
                files.extend(figures(&reports::render::OVERLAY_FIGURES))
            }
            Kind::Explain | Kind::Claims => {}
        }
        files
    }

    fn command(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
            Kind::Explain => "explain",
            Kind::Plot => "plot",
            Kind::Claims => "claims",
            Kind::Compare => "compare",
        }
    }
}

/// An output directory being written.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing the old {}", path.display())),
    }
}

impl OutDir {
    /// Creates `dir`, clears the files `kind` writes (left by an earlier
    /// run) and marks the directory in progress.
    pub fn prepare(dir: &Path, kind: Kind) -> Result<OutDir> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        anyhow::ensure!(dir.is_dir(), "--out {}: not a directory", dir.display());
        let marker = dir.join(IN_PROGRESS);
        reports::files::write_atomic(
            &marker,
            format!(
                "dynasim {} is writing this directory; this file is removed when it is done.\n\
                 If it is still here, the command was interrupted and the files beside it are incomplete.\n",
                kind.command()
            )
            .as_bytes(),
        )?;
        for name in kind.files() {
            let path = dir.join(&name);
            remove_if_present(&path)?;
            remove_if_present(&partial_path(&path))?;
        }
        if kind == Kind::Sweep {
            clear_points(dir)?;
        }
        Ok(OutDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `dir/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `dir/name` atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        reports::files::write_atomic(&self.path(name), bytes)?;
        Ok(())
    }

    /// Removes the in-progress marker: everything was written.
    pub fn finish(self) -> Result<()> {
        let marker = self.dir.join(IN_PROGRESS);
        std::fs::remove_file(&marker).with_context(|| format!("removing {}", marker.display()))
    }
}

/// Removes a sweep's `points/NNN_label/summary.json` files (and the
/// directories they leave empty), nothing else.
fn clear_points(dir: &Path) -> Result<()> {
    let points = dir.join("points");
    let Ok(entries) = std::fs::read_dir(&points) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", points.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.len() > 4
            && name.as_bytes()[..3].iter().all(u8::is_ascii_digit)
            && name.as_bytes()[3] == b'_';
        if !ours || !entry.path().is_dir() {
            continue;
        }
        let summary = entry.path().join("summary.json");
        remove_if_present(&summary)?;
        remove_if_present(&partial_path(&summary))?;
        let _ = std::fs::remove_dir(entry.path()); // only if now empty
    }
    let _ = std::fs::remove_dir(&points); // only if now empty
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preparing_clears_our_files_keeps_the_users_and_marks_the_directory() {
        let dir = std::env::temp_dir().join(format!("dynasim-outputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("points/000_base")).expect("dirs");
        std::fs::create_dir_all(dir.join("points/mine")).expect("dirs");
        for f in [
            "summary.json",
            "latency.png",
            ".ops.csv.partial",
            "notes.txt",
            "sweep.json",
            "points/000_base/summary.json",
            "points/mine/x",
        ] {
            std::fs::write(dir.join(f), "old").expect("write");
        }
        let out = OutDir::prepare(&dir, Kind::Run).expect("prepare");
        assert!(dir.join(IN_PROGRESS).exists());
        for gone in ["summary.json", "latency.png", ".ops.csv.partial"] {
            assert!(!dir.join(gone).exists(), "{gone} cleared");
        }
        for kept in ["notes.txt", "sweep.json", "points/000_base/summary.json"] {
            assert!(dir.join(kept).exists(), "{kept} kept by run");
        }
        out.finish().expect("finish");
        assert!(!dir.join(IN_PROGRESS).exists());
        OutDir::prepare(&dir, Kind::Sweep)
            .expect("prepare")
            .finish()
            .expect("finish");
        assert!(!dir.join("sweep.json").exists());
        assert!(!dir.join("points/000_base").exists());
        assert!(dir.join("points/mine/x").exists(), "not ours");
        assert!(dir.join("notes.txt").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
