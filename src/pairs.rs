//! Paired claims: what two scenario files claim *together*, on the same
//! seed.
//!
//! Many shipped scenarios come in pairs whose point is relative:
//! client-driven coordination has a lower get p99.9 than server-driven,
//! recovery with admission control a lower get p99 than without, dotted
//! version vectors lose fewer writes than server clocks. An absolute bound
//! on each file (set near one seed's value) fails on seeds where the whole
//! pair is faster or slower; the relative claim is what should hold on
//! every seed. A pairs file (`scenarios/pairs/pairs.json`, outside the
//! `scenarios/*.json` glob so nothing takes it for a scenario) states them:
//!
//! ```json
//! { "pairs": [ {
//!     "claim": "client-driven coordination cuts the get p99.9",
//!     "a": "../client-vs-server-driven-aware.json",
//!     "b": "../client-vs-server-driven-lb.json",
//!     "metric": "latency.get.p999_ms",
//!     "relation": "below"
//! } ] }
//! ```
//!
//! `a` and `b` are file names relative to the pairs file; `metric` a dotted
//! summary path; `relation` `below` (a < b) or `above` (a > b), strictly, on
//! each seed. `dynasim claims` checks every pair whose two files it runs.
//! This module owns the format and the comparison; it never runs anything.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value as Json;

/// How `a`'s value must compare with `b`'s on each seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// `a < b`.
    Below,
    /// `a > b`.
    Above,
}

impl Relation {
    /// Whether the two values satisfy the relation (false when either is
    /// missing or not a number).
    pub fn holds(self, a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => match self {
                Relation::Below => a < b,
                Relation::Above => a > b,
            },
            _ => false,
        }
    }

    /// The name used in pairs files.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Below => "below",
            Relation::Above => "above",
        }
    }
}

/// One paired claim.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// What the pair shows, in words.
    pub claim: String,
    /// The first file (resolved against the pairs file's directory).
    pub a: PathBuf,
    /// The second file.
    pub b: PathBuf,
    /// The dotted summary path compared.
    pub metric: String,
    /// How `a` compares with `b`.
    pub relation: Relation,
}

/// The most pairs a file may hold.
pub const MAX_PAIRS: usize = 1000;

/// Reads a pairs file. Errors name the JSON path and what was expected.
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Json = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse_pairs(&doc, dir).with_context(|| format!("{}", path.display()))
}

/// Parses a pairs document; `dir` resolves the file names.
pub fn parse_pairs(doc: &Json, dir: &Path) -> Result<Vec<Pair>> {
    let Some(obj) = doc.as_object() else {
        bail!("$: expected an object with a \"pairs\" array");
    };
    if let Some(k) = obj.keys().find(|k| k.as_str() != "pairs") {
        bail!("$.{k}: unknown field (expected only \"pairs\")");
    }
    let Some(items) = obj.get("pairs").and_then(Json::as_array) else {
        bail!("$.pairs: expected an array of pairs");
    };
    if items.len() > MAX_PAIRS {
        bail!("$.pairs: {} pairs, at most {MAX_PAIRS}", items.len());
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_pair(item, dir, &format!("$.pairs[{i}]")))
        .collect()
}

fn parse_pair(item: &Json, dir: &Path, at: &str) -> Result<Pair> {
    let Some(obj) = item.as_object() else {
        bail!("{at}: expected an object with claim, a, b, metric and relation");
    };
    const FIELDS: [&str; 5] = ["claim", "a", "b", "metric", "relation"];
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        bail!(
            "{at}.{k}: unknown field (expected one of {})",
            FIELDS.join(", ")
        );
    }
    let text = |field: &str| -> Result<String> {
        match obj.get(field).and_then(Json::as_str) {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => bail!("{at}.{field}: expected a non-empty string"),
        }
    };
    let file = |field: &str| -> Result<PathBuf> {
        let name = text(field)?;
        let p = dir.join(&name);
        if !p.is_file() {
            bail!("{at}.{field}: {} is not a file", p.display());
        }
        Ok(p)
    };
    let relation = match text("relation")?.as_str() {
        "below" => Relation::Below,
        "above" => Relation::Above,
        other => bail!("{at}.relation: expected \"below\" or \"above\", got {other:?}"),
    };
    let metric = text("metric")?;
    if metric.split('.').any(str::is_empty) {
        bail!("{at}.metric: expected a dotted summary path such as latency.get.p999_ms, got {metric:?}");
    }
    let (a, b) = (file("a")?, file("b")?);
    if same_file(&a, &b) {
        bail!("{at}: a and b name the same file");
    }
    Ok(Pair {
        claim: text("claim")?,
        a,
        b,
        metric,
        relation,
    })
}

/// True when two paths name the same file (compared canonically when both
/// exist).
pub fn same_file(x: &Path, y: &Path) -> bool {
    match (x.canonicalize(), y.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")
    }

    fn one(pair: Json) -> Result<Vec<Pair>> {
        parse_pairs(&json!({ "pairs": [pair] }), &dir())
    }

    fn good() -> Json {
        json!({
            "claim": "c",
            "a": "client-vs-server-driven-aware.json",
            "b": "client-vs-server-driven-lb.json",
            "metric": "latency.get.p999_ms",
            "relation": "below"
        })
    }

    #[test]
    fn a_good_pair_parses() {
        let p = one(good()).expect("parses");
        assert_eq!(p[0].relation, Relation::Below);
        assert_eq!(p[0].metric, "latency.get.p999_ms");
    }

    #[test]
    fn bad_pairs_name_the_path() {
        let cases = [
            ("relation", json!("less"), "$.pairs[0].relation"),
            ("a", json!("no-such.json"), "$.pairs[0].a"),
            ("b", json!(3), "$.pairs[0].b"),
            ("metric", json!("latency..p99"), "$.pairs[0].metric"),
            ("claim", json!(""), "$.pairs[0].claim"),
            ("extra", json!(1), "$.pairs[0].extra"),
        ];
        for (field, value, path) in cases {
            let mut p = good();
            p[field] = value;
            let e = format!("{:#}", one(p).expect_err(field));
            assert!(e.contains(path), "{field}: {e}");
        }
        let mut p = good();
        p["b"] = p["a"].clone();
        assert!(format!("{:#}", one(p).expect_err("same")).contains("same file"));
        let e = parse_pairs(&json!([1]), &dir()).expect_err("array");
        assert!(format!("{e:#}").contains("$:"));
        let e = parse_pairs(&json!({ "pairs": 1 }), &dir()).expect_err("not an array");
        assert!(format!("{e:#}").contains("$.pairs"));
    }

    #[test]
    fn relations_are_strict_and_fail_on_missing_values() {
        assert!(Relation::Below.holds(Some(1.0), Some(2.0)));
        assert!(!Relation::Below.holds(Some(2.0), Some(2.0)));
        assert!(Relation::Above.holds(Some(3.0), Some(2.0)));
        assert!(!Relation::Above.holds(None, Some(2.0)));
        assert!(!Relation::Below.holds(Some(f64::NAN), Some(2.0)));
    }

    #[test]
    fn the_shipped_pairs_file_parses() {
        let p = read_pairs(&dir().join("pairs/pairs.json"))
            .expect("scenarios/pairs/pairs.json is valid");
        assert!(p.len() >= 5, "{} pairs", p.len());
    }
}
