//! Hinted handoff (§4.6).
//!
//! When a write's intended owner is unreachable, the coordinator sends it to
//! the next healthy node with a *hint* naming the owner. That node keeps such
//! versions in a separate local store (the hint store, durable: a crash keeps
//! it, a lost disk does not), scans it periodically, and when the owner is
//! reachable again hands the versions over. Once the owner acknowledges a
//! batch, the holder deletes those hints. With `fallback_reads:
//! include_hints` (the default) the holder also answers reads of the key
//! with them (see `replica`).

use std::collections::BTreeMap;

use crate::config::Versioning;
use crate::dynamo::protocol::{Endpoint, HandoffMsg, Msg, Version};
use crate::dynamo::storage::reconcile;
use crate::engine::ids::{Key, NodeId};
use crate::engine::outbox::{DiskIo, DiskOp, Outbox};
use crate::engine::record::Record;
use crate::engine::time::SimTime;

use super::{Node, NodeTime, Timer};

/// Hinted versions, by intended owner then key.
#[derive(Clone, Debug)]
pub struct HintStore {
    versioning: Versioning,
    by_owner: BTreeMap<NodeId, BTreeMap<Key, Vec<Version>>>,
}

impl HintStore {
    /// An empty hint store.
    pub fn new(versioning: Versioning) -> Self {
        HintStore {
            versioning,
            by_owner: BTreeMap::new(),
        }
    }

    /// Keeps `version` of `key` for `owner` (reconciled with hints already kept).
    pub fn add(&mut self, owner: NodeId, key: Key, version: Version) {
        let slot = self
            .by_owner
            .entry(owner)
            .or_default()
            .entry(key)
            .or_default();
        let merged = reconcile(
            self.versioning,
            slot.drain(..).chain(std::iter::once(version)),
        );
        *slot = merged;
    }

    /// Up to `max` hints for `owner`, in key order. Under dotted version
    /// vectors and vnode clocks a key's versions are one merged object and
    /// are never split across batches (a batch holds whole keys, at least
    /// one): half an object would let the owner hold a coordinator's dot
    /// k+1 without its dot k.
    pub fn batch(&self, owner: NodeId, max: usize) -> Vec<(Key, Version)> {
        let Some(keys) = self.by_owner.get(&owner) else {
            return Vec::new();
        };
        let whole_keys = matches!(
            self.versioning,
            Versioning::VectorClocks {
                scheme: crate::config::ClockScheme::VnodeClocks
                    | crate::config::ClockScheme::DottedVersionVectors,
                ..
            }
        );
        if whole_keys {
            let mut out = Vec::new();
            for (k, vs) in keys {
                if !out.is_empty() && out.len() + vs.len() > max {
                    break;
                }
                out.extend(vs.iter().map(|v| (*k, v.clone())));
            }
            return out;
        }
        keys.iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (*k, v.clone())))
            .take(max)
            .collect()
    }

    /// Every hinted version of `key`, whatever its owner, in owner order.
    pub fn versions_of(&self, key: Key) -> Vec<Version> {
        self.by_owner
            .values()
            .filter_map(|keys| keys.get(&key))
            .flat_map(|vs| vs.iter().cloned())
            .collect()
    }

    /// Drops the delivered hints (only the exact versions delivered: a newer
    /// hint for the same key that arrived meanwhile stays).
    pub fn remove_delivered(&mut self, owner: NodeId, delivered: &[(Key, Version)]) {
        let Some(keys) = self.by_owner.get_mut(&owner) else {
            return;
        };
        for (key, version) in delivered {
            if let Some(vs) = keys.get_mut(key) {
                vs.retain(|v| v != version);
                if vs.is_empty() {
                    keys.remove(key);
                }
            }
        }
        if keys.is_empty() {
            self.by_owner.remove(&owner);
        }
    }

    /// Owners with hints, in id order.
    pub fn owners(&self) -> Vec<NodeId> {
        self.by_owner.keys().copied().collect()
    }

    /// Every hint as `(owner, key, version)`.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, Key, &Version)> + '_ {
        self.by_owner.iter().flat_map(|(o, keys)| {
            keys.iter()
                .flat_map(move |(k, vs)| vs.iter().map(move |v| (*o, *k, v)))
        })
    }

    /// Number of hinted versions.
    pub fn len(&self) -> usize {
        self.by_owner
            .values()
            .flat_map(|k| k.values())
            .map(Vec::len)
            .sum()
    }

    /// True when no hints are kept.
    pub fn is_empty(&self) -> bool {
        self.by_owner.is_empty()
    }

    /// Drops everything (disk loss).
    pub fn clear(&mut self) {
        self.by_owner.clear();
    }
}

/// Groups `(key, version)` pairs into runs of one key, in order (a key's
/// versions are adjacent in every batch this crate builds).
pub(super) fn by_key(pairs: Vec<(Key, Version)>) -> Vec<(Key, Vec<Version>)> {
    let mut out: Vec<(Key, Vec<Version>)> = Vec::new();
    for (key, v) in pairs {
        match out.last_mut() {
            Some((k, vs)) if *k == key => vs.push(v),
            _ => out.push((key, vec![v])),
        }
    }
    out
}

/// A hint batch sent and not yet acknowledged.
#[derive(Clone, Debug)]
pub struct InFlightHandoff {
    owner: NodeId,
    hints: Vec<(Key, Version)>,
    sent_at: SimTime,
}

impl Node {
    /// Periodic scan: hand hints to every owner that is not suspected.
    /// Re-armed only while there is something to scan for: hints stored or
    /// a batch in flight (see `Volatile::hint_scan`).
    pub(super) fn on_hint_scan(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let busy = !self.durable.hints.is_empty() || !self.volatile.handoffs.is_empty();
        self.volatile.hint_scan.1 = busy;
        if busy {
            out.set_timer(Timer::HintScan, self.cluster.hint_scan_interval);
        }
        // Batches that were never acknowledged: the owner did not answer.
        let stale_after = self.cluster.replica_timeout.saturating_mul(2);
        let stale: Vec<u64> = self
            .volatile
            .handoffs
            .iter()
            .filter(|(_, h)| t.now >= h.sent_at + stale_after)
            .map(|(b, _)| *b)
            .collect();
        for batch in stale {
            if let Some(h) = self.volatile.handoffs.remove(&batch) {
                if self
                    .volatile
                    .detector
                    .suspect(h.owner, t.now, self.cluster.retry_interval)
                {
                    out.record(Record::PeerSuspected {
                        by: self.id,
                        peer: h.owner,
                    });
                }
            }
        }
        if self.durable.hints.is_empty() || !self.background_admitted(t) {
            return;
        }
        for owner in self.durable.hints.owners() {
            let busy = self.volatile.handoffs.values().any(|h| h.owner == owner);
            if !busy && self.volatile.detector.is_healthy(owner, t.now) {
                self.send_hint_batch(t, owner, out);
            }
        }
    }

    fn send_hint_batch(&mut self, t: NodeTime, owner: NodeId, out: &mut Outbox<Timer>) {
        let hints = self.durable.hints.batch(owner, self.cluster.hint_batch_max);
        if hints.is_empty() {
            return;
        }
        let batch = self.fresh_id();
        let reads = hints.len() as u32;
        let msg = Msg::Handoff(HandoffMsg::Deliver {
            batch,
            hints: hints.clone(),
        });
        self.send_after_reads(out, reads, owner, msg);
        self.volatile.handoffs.insert(
            batch,
            InFlightHandoff {
                owner,
                hints,
                sent_at: t.now,
            },
        );
    }

    pub(super) fn on_handoff_msg(
        &mut self,
        t: NodeTime,
        from: Endpoint,
        msg: HandoffMsg,
        out: &mut Outbox<Timer>,
    ) {
        let Endpoint::Node(peer) = from else { return };
        match msg {
            HandoffMsg::Deliver { batch, hints } => {
                let writes = hints.len() as u32;
                self.stats.replica_writes += u64::from(writes);
                for (key, versions) in by_key(hints) {
                    self.store_apply_all(key, versions, t.now, out);
                }
                let io = DiskIo {
                    op: DiskOp::Write,
                    ops: writes.max(1),
                    foreground: false,
                };
                self.send_after_disk(
                    out,
                    io,
                    Endpoint::Node(peer),
                    Msg::Handoff(HandoffMsg::Delivered { batch }),
                );
            }
            HandoffMsg::Delivered { batch } => {
                let Some(h) = self.volatile.handoffs.remove(&batch) else {
                    return;
                };
                self.durable.hints.remove_delivered(h.owner, &h.hints);
                out.record(Record::HintsDelivered {
                    holder: self.id,
                    owner: h.owner,
                    count: h.hints.len() as u32,
                });
                // Keep going while the owner is reachable (and, with §6.5
                // admission control, while background work is admitted).
                if self.background_admitted(t) {
                    self.send_hint_batch(t, h.owner, out);
                }
            }
        }
    }
}
