//! Stored objects: how many siblings keys carry, Riak-style sibling limits,
//! and silent corruption (the `objects` and `corruption` blocks of the
//! summary).
//!
//! **Siblings.** Riak reports siblings per get (`node_get_fsm_siblings`)
//! beside object sizes per get (`node_get_fsm_objsize`); this tracker keeps
//! both halves of that pair (`siblings_per_read` / `size_bytes_per_read`,
//! `siblings_per_key` / `size_bytes_per_key`; a read's object size is the
//! sum of the sizes of the versions it returned, `workload.value_size`):
//! - per read: the exact distribution of versions a successful read that
//!   found the key returned, and the distribution of the object's bytes
//!   (log-linear histogram, relative error under 1 %);
//! - per key: the most siblings any read of the key returned, their
//!   distribution over keys, the keys over `metrics.sibling_threshold` and
//!   the worst keys; the largest object any read of the key returned, and
//!   its distribution over keys;
//! - at the end: the most versions any node holds for each key (ground
//!   truth from the stores, so blind-write keys nobody reads count too);
//! - over time: for the worst keys, the most siblings a read returned in
//!   each timeline window;
//! - stray copies: keys held at the end in the main store of a node outside
//!   their top N.
//!
//! *Bounded memory.* The per-key maxima cost one entry per key read. Time
//! series are kept for at most [`TRACKED_KEYS`] keys, those with the most
//! siblings so far; a key that enters the set later evicts the tracked key
//! with the lowest maximum, so its curve starts when it entered (its
//! earlier, smaller counts are missing). Each curve holds at most
//! [`SERIES_POINTS`] windows: past that, adjacent pairs merge (maximum).
//!
//! **Corruption.** Versions corrupted by `corrupt` faults, the ones
//! checksums caught, the reads that handed corrupted data to a client
//! (ground truth from the versions the client received), and the corrupted
//! versions still stored at the end.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};
use sim_core::config::Scenario;
use sim_core::engine::histogram::Histogram;
use sim_core::engine::ids::Key;
use sim_core::engine::record::Record;
use sim_core::engine::time::SimTime;

use crate::key_bits::KeyBits;

/// Keys whose sibling curve is tracked at once.
pub const TRACKED_KEYS: usize = 64;
/// Points per tracked curve before adjacent windows merge.
pub const SERIES_POINTS: usize = 256;
/// Worst keys listed in the summary (and drawn).
pub const WORST_LISTED: usize = 10;
/// Worst keys drawn in `siblings_over_time`.
pub const WORST_DRAWN: usize = 5;

/// One tracked key's curve: `(window index, most siblings in it)`.
#[derive(Clone, Debug, Default)]
struct Curve {
    /// Windows per point (doubles when the curve is full).
    stride: u64,
    points: Vec<(u64, u32)>,
}

impl Curve {
    fn add(&mut self, window: u64, siblings: u32) {
        let slot = window / self.stride * self.stride;
        match self.points.last_mut() {
            Some((w, n)) if *w == slot => *n = (*n).max(siblings),
            _ => self.points.push((slot, siblings)),
        }
        if self.points.len() > SERIES_POINTS {
            self.stride *= 2;
            let stride = self.stride;
            let mut merged: Vec<(u64, u32)> = Vec::with_capacity(self.points.len() / 2 + 1);
            for (w, n) in self.points.drain(..) {
                let slot = w / stride * stride;
                match merged.last_mut() {
                    Some((mw, mn)) if *mw == slot => *mn = (*mn).max(n),
                    _ => merged.push((slot, n)),
                }
            }
            self.points = merged;
        }
    }
}

/// What reads of one key found at most.
#[derive(Clone, Copy, Debug, Default)]
struct KeyMax {
    siblings: u32,
    bytes: u64,
}

/// Streams the records about stored objects.
#[derive(Debug)]
pub struct Objects {
    threshold: u32,
    window_us: u64,
    /// Siblings returned → successful reads that found the key.
    per_read: BTreeMap<u32, u64>,
    /// Per key a read found: the most siblings a read of it returned and
    /// the largest object (bytes) one returned.
    key_max: crate::key_table::KeyTable<KeyMax>,
    /// Object bytes per successful read that found the key.
    bytes_per_read: Histogram,
    /// Tracked curves (at most `TRACKED_KEYS`).
    curves: BTreeMap<Key, Curve>,
    /// The tracked keys by (most siblings, larger key first): the first
    /// is the one a new key evicts.
    tracked: BTreeSet<(u32, std::cmp::Reverse<Key>)>,
    /// Most versions any node held for the key at the end (a table by key:
    /// every final copy of a key looks it up, a loaded key nobody touched
    /// too, to see whether it has an entry).
    final_max: crate::key_table::KeyTable<u32>,
    /// One bit per key (by number) that some node held with exactly one
    /// version at the end, for the keys reported by
    /// [`Objects::record_final_single`] (loaded keys nobody touched) rather
    /// than through `final_max`: a bit instead of a map entry.
    final_single: KeyBits,
    /// (node, key) pairs held at the end by a node outside the key's top N.
    non_replica_copies: u64,
    warned: u64,
    refused: u64,
    corrupted_versions: u64,
    detections: u64,
    detected_versions: u64,
    corrupt_reads: u64,
    corrupt_versions_read: u64,
    remaining_corrupted: u64,
}

impl Objects {
    /// A tracker with `scenario`'s threshold and timeline window.
    pub fn new(scenario: &Scenario) -> Objects {
        Objects {
            threshold: scenario.metrics.sibling_threshold,
            window_us: scenario.metrics.window.as_micros().max(1),
            per_read: BTreeMap::new(),
            key_max: crate::key_table::KeyTable::new(scenario.workload.key_count),
            bytes_per_read: Histogram::default(),
            curves: BTreeMap::new(),
            tracked: BTreeSet::new(),
            final_max: crate::key_table::KeyTable::new(scenario.workload.key_count),
            final_single: KeyBits::default(),
            non_replica_copies: 0,
            warned: 0,
            refused: 0,
            corrupted_versions: 0,
            detections: 0,
            detected_versions: 0,
            corrupt_reads: 0,
            corrupt_versions_read: 0,
            remaining_corrupted: 0,
        }
    }

    /// A successful read of `key` at `at` that returned `siblings` versions
    /// weighing `bytes` in all.
    pub fn on_read(&mut self, at: SimTime, key: Key, siblings: u32, bytes: u64) {
        if siblings == 0 {
            return;
        }
        self.bytes_per_read.record(bytes);
        *self.per_read.entry(siblings).or_default() += 1;
        let m = self.key_max.get_or_insert_with(key, KeyMax::default);
        m.bytes = m.bytes.max(bytes);
        let before = m.siblings;
        m.siblings = before.max(siblings);
        let max = m.siblings;
        let window = at.as_micros() / self.window_us;
        if let Some(c) = self.curves.get_mut(&key) {
            c.add(window, siblings);
            if max != before {
                self.tracked.remove(&(before, std::cmp::Reverse(key)));
                self.tracked.insert((max, std::cmp::Reverse(key)));
            }
            return;
        }
        if self.curves.len() >= TRACKED_KEYS {
            // Evict the tracked key with the lowest maximum (ties: the
            // largest key), if this key beats it.
            let &(lowest, std::cmp::Reverse(k)) =
                self.tracked.first().expect("the tracked set is full");
            if lowest >= max {
                return;
            }
            self.curves.remove(&k);
            self.tracked.pop_first();
        }
        self.tracked.insert((max, std::cmp::Reverse(key)));
        let mut c = Curve {
            stride: 1,
            points: Vec::new(),
        };
        c.add(window, siblings);
        self.curves.insert(key, c);
    }

    /// The records this tracker consumes (others are ignored).
    pub fn record(&mut self, record: &Record) {
        match record {
            Record::SiblingLimit { refused, .. } => {
                if *refused {
                    self.refused += 1;
                } else {
                    self.warned += 1;
                }
            }
            Record::VersionsCorrupted { versions, .. } => {
                self.corrupted_versions += u64::from(*versions)
            }
            Record::CorruptionDetected { versions, .. } => {
                self.detections += 1;
                self.detected_versions += u64::from(*versions);
            }
            Record::CorruptRead { versions, .. } => {
                self.corrupt_reads += 1;
                self.corrupt_versions_read += u64::from(*versions);
            }
            Record::FinalCorrupted { versions, .. } => {
                self.remaining_corrupted += u64::from(*versions)
            }
            Record::FinalValues {
                key,
                values,
                replica,
                ..
            } => {
                let single = self.has_final_single(*key);
                let m = self.final_max.get_or_insert_with(*key, || 0);
                *m = (*m).max(values.len() as u32).max(u32::from(single));
                if !replica {
                    self.non_replica_copies += 1;
                }
            }
            _ => {}
        }
    }

    /// A node's final copy of `key` holding exactly one version (as a
    /// [`Record::FinalValues`] with one value would count it), for keys
    /// with many such copies: a bit per key, not a map entry.
    pub fn record_final_single(&mut self, key: Key, replica: bool) {
        if let Some(m) = self.final_max.get_mut(&key) {
            *m = (*m).max(1);
        }
        self.final_single.insert(key);
        if !replica {
            self.non_replica_copies += 1;
        }
    }

    fn has_final_single(&self, key: Key) -> bool {
        self.final_single.contains(key)
    }

    /// The keys counted only through [`Objects::record_final_single`].
    fn single_only_keys(&self) -> u64 {
        self.final_single
            .iter()
            .filter(|k| !self.final_max.contains_key(k))
            .count() as u64
    }

    /// Reads that returned corrupted data.
    pub fn corrupt_reads(&self) -> u64 {
        self.corrupt_reads
    }

    /// The `objects` block of the summary.
    pub fn summary(&self) -> Json {
        let reads: u64 = self.per_read.values().sum();
        let total: u64 = self.per_read.iter().map(|(n, c)| u64::from(*n) * c).sum();
        let quantile = |dist: &BTreeMap<u32, u64>, count: u64, q: f64| -> u32 {
            if count == 0 {
                return 0;
            }
            let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (n, c) in dist {
                seen += c;
                if seen >= rank {
                    return *n;
                }
            }
            0
        };
        let mut by_key: BTreeMap<u32, u64> = BTreeMap::new();
        for m in self.key_max.values() {
            *by_key.entry(m.siblings).or_default() += 1;
        }
        let keys = self.key_max.len() as u64;
        let mut worst: Vec<(Key, u32)> =
            self.key_max.iter().map(|(k, m)| (k, m.siblings)).collect();
        worst.sort_by_key(|(k, m)| (std::cmp::Reverse(*m), *k));
        let over = |it: &mut dyn Iterator<Item = u32>| it.filter(|m| *m > self.threshold).count();
        let single_only = self.single_only_keys();
        let mut drawn: Vec<(Key, u32)> = self
            .curves
            .keys()
            .map(|k| (*k, self.key_max.get(k).map_or(0, |m| m.siblings)))
            .collect();
        drawn.sort_by_key(|(k, m)| (std::cmp::Reverse(*m), *k));
        let mut key_bytes = Histogram::default();
        for m in self.key_max.values() {
            key_bytes.record(m.bytes);
        }
        let mut worst_bytes: Vec<(Key, u64)> =
            self.key_max.iter().map(|(k, m)| (k, m.bytes)).collect();
        worst_bytes.sort_by_key(|(k, b)| (std::cmp::Reverse(*b), *k));
        let window_s = self.window_us as f64 / 1e6;
        let series: Vec<Json> = drawn
            .iter()
            .take(WORST_DRAWN)
            .map(|(k, m)| {
                let c = &self.curves[k];
                json!({
                    "key": k.0,
                    "max": m,
                    "points": c.points.iter().map(|(w, n)| json!([*w as f64 * window_s, n])).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "siblings_per_read": {
                "reads": reads,
                "mean": if reads == 0 { 0.0 } else { total as f64 / reads as f64 },
                "p50": quantile(&self.per_read, reads, 0.5),
                "p99": quantile(&self.per_read, reads, 0.99),
                "max": self.per_read.keys().next_back().copied().unwrap_or(0),
                "histogram": self.per_read.iter().map(|(n, c)| json!([n, c])).collect::<Vec<_>>(),
            },
            "siblings_per_key": {
                "keys": keys,
                "p50": quantile(&by_key, keys, 0.5),
                "p99": quantile(&by_key, keys, 0.99),
                "max": worst.first().map_or(0, |(_, m)| *m),
                "threshold": self.threshold,
                "over_threshold": over(&mut self.key_max.values().map(|m| m.siblings)),
                "worst": worst.iter().take(WORST_LISTED).map(|(k, m)| json!({"key": k.0, "max": m})).collect::<Vec<_>>(),
            },
            "size_bytes_per_read": {
                "reads": self.bytes_per_read.count(),
                "mean": self.bytes_per_read.mean(),
                "p50": self.bytes_per_read.quantile(0.5),
                "p99": self.bytes_per_read.quantile(0.99),
                "max": self.bytes_per_read.max(),
            },
            "size_bytes_per_key": {
                "keys": key_bytes.count(),
                "p50": key_bytes.quantile(0.5),
                "p99": key_bytes.quantile(0.99),
                "max": key_bytes.max(),
                "worst": worst_bytes.iter().take(WORST_LISTED).map(|(k, b)| json!({"key": k.0, "max": b})).collect::<Vec<_>>(),
            },
            "siblings_at_end": {
                "keys": self.final_max.len() as u64 + single_only,
                "max": self.final_max.values().copied().max().unwrap_or(0).max(u32::from(single_only > 0)),
                "over_threshold": over(&mut self.final_max.values().copied()) as u64
                    + if self.threshold < 1 { single_only } else { 0 },
            },
            // Copies in main stores of nodes outside the key's top N (hints
            // excluded): stray copies, which read repair to fallbacks used
            // to leave for ever under static membership.
            "non_replica_copies_at_end": self.non_replica_copies,
            "sibling_limit": {
                "warned": self.warned,
                "refused": self.refused,
            },
            "siblings_over_time": {
                "window_s": window_s,
                "keys": series,
            },
        })
    }

    /// The `corruption` block of the summary.
    pub fn corruption(&self) -> Json {
        json!({
            "versions_corrupted": self.corrupted_versions,
            "detections": self.detections,
            "detected_versions": self.detected_versions,
            "reads_corrupted": self.corrupt_reads,
            "corrupted_versions_read": self.corrupt_versions_read,
            "remaining_versions": self.remaining_corrupted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects() -> Objects {
        let text = r#"{"name":"t","duration_s":10,"cluster":{"nodes":3,"quorum":{"n":3,"r":2,"w":2}},
            "workload":{"clients":2,"arrival":{"open_loop":{"rate_per_s":1}},"keys":{"count":1},"mix":{"read":1}},
            "metrics":{"sibling_threshold":3}}"#;
        let s = sim_core::scenario::parse(text, &sim_core::scenario::no_files).expect("valid");
        Objects::new(&s)
    }

    #[test]
    fn per_read_and_per_key_distributions_are_exact() {
        let mut o = objects();
        let t = |s: u64| SimTime(s * 1_000_000);
        for (s, key, n) in [
            (0, 1, 1),
            (1, 1, 2),
            (2, 1, 5),
            (3, 2, 1),
            (4, 3, 4),
            (5, 3, 0),
        ] {
            // 1 000 bytes a version.
            o.on_read(t(s), Key(key), n, 1_000 * u64::from(n));
        }
        let j = o.summary();
        assert_eq!(j["siblings_per_read"]["reads"], 5);
        assert_eq!(j["siblings_per_read"]["max"], 5);
        assert_eq!(j["siblings_per_read"]["p50"], 2);
        assert_eq!(j["siblings_per_read"]["mean"], 13.0 / 5.0);
        assert_eq!(j["siblings_per_key"]["keys"], 3);
        assert_eq!(j["siblings_per_key"]["max"], 5);
        assert_eq!(j["siblings_per_key"]["over_threshold"], 2);
        assert_eq!(j["siblings_per_key"]["worst"][0]["key"], 1);
        assert_eq!(j["siblings_per_key"]["worst"][1]["key"], 3);
        // Object sizes: reads of 1, 2, 5, 1 and 4 versions; per key the
        // largest object (5 000, 1 000, 4 000 bytes); histogram values are
        // within 1 % and the maxima exact.
        assert_eq!(j["size_bytes_per_read"]["reads"], 5);
        assert_eq!(j["size_bytes_per_read"]["max"], 5_000);
        assert_eq!(j["size_bytes_per_read"]["mean"], 13_000.0 / 5.0);
        let p50 = j["size_bytes_per_read"]["p50"].as_u64().unwrap();
        assert!((1_980..=2_020).contains(&p50), "{p50}");
        assert_eq!(j["size_bytes_per_key"]["keys"], 3);
        assert_eq!(j["size_bytes_per_key"]["max"], 5_000);
        assert_eq!(j["size_bytes_per_key"]["worst"][0]["key"], 1);
        assert_eq!(j["size_bytes_per_key"]["worst"][1]["key"], 3);
        let curve = &j["siblings_over_time"]["keys"][0];
        assert_eq!(curve["key"], 1);
        assert_eq!(curve["points"], json!([[0.0, 1], [1.0, 2], [2.0, 5]]));
    }

    #[test]
    fn tracked_curves_stay_bounded_and_keep_the_worst_keys() {
        let mut o = objects();
        // 200 keys with one sibling each, then key 500 climbs.
        for k in 0..200u64 {
            o.on_read(SimTime(k), Key(k), 1, 0);
        }
        assert_eq!(o.curves.len(), TRACKED_KEYS);
        for w in 0..10_000u64 {
            o.on_read(SimTime(w * 1_000_000), Key(500), (w / 10) as u32 + 1, 0);
        }
        assert!(o.curves.len() <= TRACKED_KEYS);
        let c = &o.curves[&Key(500)];
        assert!(c.points.len() <= SERIES_POINTS, "{}", c.points.len());
        assert_eq!(c.points.last().map(|p| p.1), Some(1000));
        let j = o.summary();
        assert_eq!(j["siblings_over_time"]["keys"][0]["key"], 500);
        assert_eq!(j["siblings_over_time"]["keys"][0]["max"], 1000);
    }
}
