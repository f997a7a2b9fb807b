//! Records the commit and build profile this crate was compiled from, for
//! `dynasim --version` and every summary (`run.dynasim_commit`,
//! `run.dynasim_build`). Reads git when the source is a checkout; a source
//! tarball without `.git` (or without git installed) builds as commit
//! "unknown" unless `DYNASIM_COMMIT` names it.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=DYNASIM_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = match std::env::var("DYNASIM_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => match git(&["rev-parse", "HEAD"]) {
            Some(head) if head.len() >= 12 => {
                if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
                    // A commit, a checkout or `git add` rewrites these.
                    for f in ["HEAD", "index"] {
                        let p = PathBuf::from(&dir).join(f);
                        if p.exists() {
                            println!("cargo:rerun-if-changed={}", p.display());
                        }
                    }
                }
                let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|s| !s.is_empty());
                format!("{}{}", &head[..12], if dirty { "-dirty" } else { "" })
            }
            _ => "unknown".to_string(),
        },
    };
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=DYNASIM_COMMIT={commit}");
    println!("cargo:rustc-env=DYNASIM_BUILD={profile}");
    println!(
        "cargo:rustc-env=DYNASIM_VERSION_LINE={} (commit {commit}, {profile} build)",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default()
    );
}
