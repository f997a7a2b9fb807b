//! Key transfer when ranges change hands (§4.9): "when a node is added to
//! the system, ... nodes that are no longer responsible for some of their
//! keys transfer those keys to X ... after receiving a confirmation from X".
//!
//! A giver is a node that, comparing its old and new views, was one of a
//! key's top N and no longer is (a join pushed it out, or it is leaving), or,
//! when a replica vanished for good (replaced), the first surviving replica.
//! It offers the keys to each node that gained them; the new owner accepts;
//! batches then flow one at a time, each acknowledged after the owner stored
//! it. Once a transfer completes, keys the giver no longer replicates are
//! deleted from its store. Writes that later reach a node for a key it does
//! not replicate (a coordinator with an older view) are kept as *strays* and
//! handed over the same way. Transfers are persisted with the store, and a
//! step that goes unanswered is sent again.
//!
//! This module never changes the membership; it only moves data.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ReadsDuringTransfer;
use crate::dynamo::protocol::{Endpoint, MemberStatus, Msg, TransferMsg};
use crate::dynamo::ring::{RangeId, Ring, Token};
use crate::engine::ids::{Key, NodeId};
use crate::engine::outbox::{DiskIo, DiskOp, Outbox};
use crate::engine::record::Record;
use crate::engine::time::SimTime;

use super::membership::transfer_retry_after;
use super::{Node, NodeTime, Timer};

/// A transfer this node is receiving (pending ownership).
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The ranges (end tokens) it completes.
    ranges: Vec<Token>,
    /// Keys offered.
    keys: u32,
    /// Keys received so far (each batch counted once).
    received: u32,
    /// Batches received.
    seqs: BTreeSet<u32>,
}

/// A transfer this node is giving.
#[derive(Clone, Debug)]
pub struct Outgoing {
    target: NodeId,
    /// The ranges (end tokens) this transfer completes for the target.
    ranges: Vec<Token>,
    /// The keys, sorted.
    keys: Vec<Key>,
    /// Keys before this index were acknowledged.
    next: usize,
    /// The batch in flight: its number and end index.
    in_flight: Option<(u32, usize)>,
    seq: u32,
    accepted: bool,
    offered_at: SimTime,
    last_sent: SimTime,
    versions: u32,
}

impl Node {
    /// After a view change: offer each key this node stopped replicating
    /// (or must pass on for a vanished replica) to the nodes that gained it.
    pub(super) fn plan_handoff_of_lost_ranges(
        &mut self,
        t: NodeTime,
        old: &Ring,
        out: &mut Outbox<Timer>,
    ) {
        let n = self.cluster.quorum.n as usize;
        let mut plans: BTreeMap<NodeId, (Vec<Key>, Vec<Token>)> = BTreeMap::new();
        let keys: Vec<Key> = self
            .durable
            .store
            .keys()
            .chain(self.volatile.buffer.keys())
            .collect();
        for key in keys {
            let before = &old.preference_list(key)[..n.min(old.list_len())];
            let after = &self.ring.preference_list(key)[..n.min(self.ring.list_len())];
            let gained: Vec<NodeId> = after
                .iter()
                .copied()
                .filter(|x| !before.contains(x) && *x != self.id)
                .collect();
            if gained.is_empty() {
                continue;
            }
            if self.gives(before, after) {
                for g in gained {
                    plans.entry(g).or_default().0.push(key);
                }
            }
        }
        // With pending ownership, the new owner learns which ranges each
        // transfer completes, including ranges this node holds no key of.
        let pending = self
            .cluster
            .membership
            .as_ref()
            .is_some_and(|m| m.reads_during_transfer == ReadsDuringTransfer::Declined);
        if pending {
            for r in 0..self.ring.range_count() as u32 {
                let (_, end) = self.ring.range_bounds(RangeId(r));
                let after =
                    &self.ring.preference_list_of_range(RangeId(r))[..n.min(self.ring.list_len())];
                let before =
                    &old.preference_list_of_range(old.range_of_token(end))[..n.min(old.list_len())];
                if !self.gives(before, after) {
                    continue;
                }
                for g in after
                    .iter()
                    .filter(|x| !before.contains(x) && **x != self.id)
                {
                    plans.entry(*g).or_default().1.push(end);
                }
            }
        }
        for (target, (mut keys, ranges)) in plans {
            keys.sort_unstable();
            keys.dedup();
            self.offer(t, target, keys, ranges, out);
        }
    }

    /// Whether this node hands a key over when its top N goes from
    /// `before` to `after`: it was pushed out, or a replica vanished for
    /// good and this node is the first survivor.
    fn gives(&self, before: &[NodeId], after: &[NodeId]) -> bool {
        let pushed_out = before.contains(&self.id) && !after.contains(&self.id);
        let vanished = before.iter().any(|x| {
            !after.contains(x)
                && self
                    .durable
                    .membership
                    .get(*x)
                    .is_none_or(|s| s.status == MemberStatus::Left)
        });
        let first_survivor = before.iter().find(|x| after.contains(x)) == Some(&self.id);
        pushed_out || (vanished && first_survivor)
    }

    /// Notes a key stored here that this node's view does not place here.
    pub(super) fn note_stray(&mut self, key: Key) {
        if self.cluster.membership.is_some() && self.has_view() && !self.is_replica(key) {
            self.durable.strays.insert(key);
        }
    }

    fn offer(
        &mut self,
        t: NodeTime,
        target: NodeId,
        keys: Vec<Key>,
        ranges: Vec<Token>,
        out: &mut Outbox<Timer>,
    ) {
        let transfer = self.fresh_id();
        let count = keys.len() as u32;
        self.durable.outgoing.insert(
            transfer,
            Outgoing {
                target,
                ranges: ranges.clone(),
                keys,
                next: 0,
                in_flight: None,
                seq: 0,
                accepted: false,
                offered_at: t.now,
                last_sent: t.now,
                versions: 0,
            },
        );
        out.record(Record::TransferOffered {
            giver: self.id,
            target,
            transfer,
            keys: count,
        });
        self.send_node(
            out,
            target,
            Msg::Transfer(TransferMsg::Offer {
                transfer,
                keys: count,
                ranges,
            }),
        );
    }

    /// Every gossip round: hand over strays, drop transfers to nodes that
    /// left, and resend steps that went unanswered.
    pub(super) fn check_transfers(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        if !self.durable.strays.is_empty() && self.has_view() {
            let n = self.cluster.quorum.n as usize;
            let mut plans: BTreeMap<NodeId, Vec<Key>> = BTreeMap::new();
            let strays = std::mem::take(&mut self.durable.strays);
            for key in strays {
                if self.is_replica(key) {
                    continue;
                }
                let list = self.ring.preference_list(key);
                for &owner in list.iter().take(n).filter(|o| **o != self.id) {
                    plans.entry(owner).or_default().push(key);
                }
            }
            for (target, keys) in plans {
                self.offer(t, target, keys, Vec::new(), out);
            }
        }
        let gone: Vec<u64> = self
            .durable
            .outgoing
            .iter()
            .filter(|(_, o)| {
                self.durable
                    .membership
                    .get(o.target)
                    .is_some_and(|s| s.status != MemberStatus::Normal)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some(o) = self.durable.outgoing.remove(&id) {
                // The target left: whatever it did not take is a stray again.
                self.durable.strays.extend(o.keys[o.next..].iter().copied());
            }
        }
        let retry = transfer_retry_after(&self.cluster);
        let due: Vec<u64> = self
            .durable
            .outgoing
            .iter()
            .filter(|(_, o)| t.now >= o.last_sent + retry)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let o = self.durable.outgoing.get_mut(&id).expect("listed above");
            o.last_sent = t.now;
            if o.accepted {
                o.in_flight = None;
                self.send_next_batch(t, id, out);
            } else {
                let (target, keys, ranges) = (o.target, o.keys.len() as u32, o.ranges.clone());
                self.send_node(
                    out,
                    target,
                    Msg::Transfer(TransferMsg::Offer {
                        transfer: id,
                        keys,
                        ranges,
                    }),
                );
            }
        }
        self.maybe_finish_leaving(out);
    }

    fn send_next_batch(&mut self, t: NodeTime, transfer: u64, out: &mut Outbox<Timer>) {
        let batch = self
            .cluster
            .membership
            .as_ref()
            .map_or(64, |m| m.transfer_batch as usize);
        let Some(o) = self.durable.outgoing.get(&transfer) else {
            return;
        };
        if o.next >= o.keys.len() {
            self.finish_transfer(transfer, out);
            return;
        }
        if t.background == super::Admission::Defer && !self.background_admitted(t) {
            // §6.5: the batch waits; the gossip round resends when due.
            let o = self.durable.outgoing.get_mut(&transfer).expect("present");
            o.in_flight = None;
            o.last_sent = t.now;
            return;
        }
        let Some(o) = self.durable.outgoing.get(&transfer) else {
            return;
        };
        let end = (o.next + batch).min(o.keys.len());
        let (target, seq) = (o.target, o.seq);
        let keys: Vec<Key> = o.keys[o.next..end].to_vec();
        for &k in &keys {
            self.verify(k, out);
        }
        let versions: Vec<_> = keys
            .iter()
            .flat_map(|&k| self.local_versions(k).into_iter().map(move |v| (k, v)))
            .collect();
        self.stats.transfer_versions_sent += versions.len() as u64;
        let o = self.durable.outgoing.get_mut(&transfer).expect("present");
        o.versions += versions.len() as u32;
        o.in_flight = Some((seq, end));
        o.last_sent = t.now;
        let reads = versions.len() as u32;
        self.send_after_reads(
            out,
            reads,
            target,
            Msg::Transfer(TransferMsg::Batch {
                transfer,
                seq,
                versions,
            }),
        );
    }

    fn finish_transfer(&mut self, transfer: u64, out: &mut Outbox<Timer>) {
        let Some(o) = self.durable.outgoing.remove(&transfer) else {
            return;
        };
        self.stats.transfer_keys_sent += o.keys.len() as u64;
        out.record(Record::TransferDone {
            giver: self.id,
            target: o.target,
            transfer,
            keys: o.keys.len() as u32,
            versions: o.versions,
            offered: o.offered_at,
        });
        // Keys no longer ours, and promised to nobody else, leave the store.
        for key in o.keys {
            let pending = self
                .durable
                .outgoing
                .values()
                .any(|x| x.keys[x.next..].binary_search(&key).is_ok());
            if !pending && !self.is_replica(key) && !self.volatile.buffer.contains(key) {
                self.durable.store.remove(key);
                self.update_tree(key);
            }
        }
        self.maybe_finish_leaving(out);
    }

    /// Pending ownership: a batch of `keys` keys of `transfer` arrived;
    /// when every key offered has, the transfer's ranges are received.
    fn batch_received(
        &mut self,
        t: NodeTime,
        transfer: u64,
        seq: u32,
        keys: u32,
        out: &mut Outbox<Timer>,
    ) {
        let Some(inc) = self.durable.incoming.get_mut(&transfer) else {
            return;
        };
        if inc.seqs.insert(seq) {
            inc.received += keys;
        }
        if inc.received >= inc.keys {
            let inc = self.durable.incoming.remove(&transfer).expect("present");
            self.ranges_received(t, &inc.ranges, out);
        }
    }

    /// Pending ownership: these ranges (end tokens, in the giver's view)
    /// are here now; reads of their keys are served from now on.
    fn ranges_received(&mut self, t: NodeTime, ranges: &[Token], out: &mut Outbox<Timer>) {
        for &end in ranges {
            // Map the giver's token onto this node's ranges.
            let r = self.ring.range_of_token(end);
            self.durable.pending.remove(&self.ring.range_bounds(r).1);
        }
        if self.durable.pending.is_empty() {
            if let Some(started) = self.durable.bootstrap_started.take() {
                out.record(Record::BootstrapDone {
                    node: self.id,
                    started,
                    first_offer: self.durable.first_offer.take(),
                    ranges: self.durable.bootstrap_ranges,
                });
                let _ = t;
            }
        }
    }

    /// Pending ownership: after this node took its place in the ring,
    /// every range it replicates waits for its transfer.
    pub(super) fn begin_pending(&mut self, t: NodeTime) {
        let declined = self
            .cluster
            .membership
            .as_ref()
            .is_some_and(|m| m.reads_during_transfer == ReadsDuringTransfer::Declined);
        if !declined {
            return;
        }
        let ranges = self.ring.ranges_replicated_by(self.id);
        self.durable.pending = ranges
            .iter()
            .map(|r| self.ring.range_bounds(*r).1)
            .collect();
        self.durable.bootstrap_ranges = self.durable.pending.len() as u32;
        self.durable.bootstrap_started = (!self.durable.pending.is_empty()).then_some(t.now);
    }

    /// Pending ownership: true when `key`'s range has not been received
    /// (this node declines its reads).
    pub fn is_pending(&self, key: Key) -> bool {
        !self.durable.pending.is_empty()
            && self
                .durable
                .pending
                .contains(&self.ring.range_bounds(self.ring.range_of(key)).1)
    }

    /// Handles a transfer message.
    pub(super) fn on_transfer_msg(
        &mut self,
        t: NodeTime,
        from: Endpoint,
        msg: TransferMsg,
        out: &mut Outbox<Timer>,
    ) {
        let Endpoint::Node(peer) = from else { return };
        match msg {
            TransferMsg::Offer {
                transfer,
                keys,
                ranges,
            } => {
                let normal = self
                    .durable
                    .membership
                    .get(self.id)
                    .is_some_and(|s| s.status == MemberStatus::Normal);
                if normal {
                    if !self.durable.pending.is_empty() && !ranges.is_empty() {
                        self.durable.first_offer.get_or_insert(t.now);
                        if keys == 0 {
                            self.ranges_received(t, &ranges, out);
                        } else {
                            self.durable
                                .incoming
                                .entry(transfer)
                                .or_insert_with(|| Incoming {
                                    ranges,
                                    keys,
                                    received: 0,
                                    seqs: BTreeSet::new(),
                                });
                        }
                    }
                    self.send_node(out, peer, Msg::Transfer(TransferMsg::Accept { transfer }));
                }
            }
            TransferMsg::Accept { transfer } => {
                if let Some(o) = self.durable.outgoing.get_mut(&transfer) {
                    if !o.accepted {
                        o.accepted = true;
                        self.send_next_batch(t, transfer, out);
                    }
                }
            }
            TransferMsg::Batch {
                transfer,
                seq,
                versions,
            } => {
                let writes = versions.len() as u32;
                self.stats.replica_writes += u64::from(writes);
                let groups = super::handoff::by_key(versions);
                let distinct = groups.len() as u32;
                for (key, versions) in groups {
                    self.store_apply_all(key, versions, t.now, out);
                }
                self.batch_received(t, transfer, seq, distinct, out);
                let io = DiskIo {
                    op: DiskOp::Write,
                    ops: writes.max(1),
                    foreground: false,
                };
                self.send_after_disk(
                    out,
                    io,
                    Endpoint::Node(peer),
                    Msg::Transfer(TransferMsg::BatchAck { transfer, seq }),
                );
            }
            TransferMsg::BatchAck { transfer, seq } => {
                let Some(o) = self.durable.outgoing.get_mut(&transfer) else {
                    return;
                };
                match o.in_flight {
                    Some((s, end)) if s == seq => {
                        o.next = end;
                        o.seq += 1;
                        o.in_flight = None;
                        self.send_next_batch(t, transfer, out);
                    }
                    _ => {}
                }
            }
        }
    }
}
