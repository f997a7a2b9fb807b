//! The replica role: local reads and writes (§4.4, §4.5, §6.1).
//!
//! A replica answers a read with every version it holds for the key (main
//! store plus unflushed buffer, reconciled), and applies a write with
//! syntactic reconciliation: the new version replaces exactly what it
//! supersedes. A write that carries a hint goes to the hint store instead of
//! the main store (§4.6). Answers leave after a storage latency drawn from the
//! node's own stream: a durable write waits for the disk, a buffered write
//! (§6.1) is acknowledged from memory and flushed later, so a crash before the
//! flush loses it. Tombstones are purged after their grace period, which is
//! how deleted items can resurface (§4.4).

use crate::dynamo::protocol::{Durability, Endpoint, Msg, ReplicaMsg, Version};
use crate::dynamo::storage::{reconcile, Applied};
use crate::engine::ids::{Key, NodeId, RequestId};
use crate::engine::outbox::{DiskIo, DiskOp, Outbox};
use crate::engine::record::Record;
use crate::engine::time::SimDuration;

use super::{Node, NodeTime, Timer};

impl Node {
    pub(super) fn on_replica_msg(
        &mut self,
        t: NodeTime,
        from: Endpoint,
        msg: ReplicaMsg,
        out: &mut Outbox<Timer>,
    ) {
        let Endpoint::Node(peer) = from else { return };
        match msg {
            ReplicaMsg::Read { request, key } => self.on_read(t, peer, request, key, out),
            ReplicaMsg::Write {
                request,
                key,
                version,
                hint,
                durability,
            } => self.on_write(t, peer, request, key, version, hint, durability, out),
            ReplicaMsg::Repair { key, versions } => {
                let writes = versions.len() as u32;
                for v in versions {
                    self.stats.replica_writes += 1;
                    self.store_apply(key, v, t.now);
                }
                self.background_writes(out, writes);
            }
            ReplicaMsg::ReadReply { request, versions } => {
                self.on_read_reply(t, peer, request, versions, out)
            }
            ReplicaMsg::WriteAck { request } => self.on_write_ack(t, peer, request, out),
            ReplicaMsg::ReadDeclined { request } => self.on_read_declined(t, peer, request, out),
        }
    }

    /// Applies a version to the durable store and keeps the Merkle tree of
    /// its range in step.
    pub(super) fn store_apply(
        &mut self,
        key: Key,
        version: Version,
        now: crate::engine::time::SimTime,
    ) -> Applied {
        let applied = self.durable.store.apply(key, version, now);
        if matches!(applied, Applied::Stored { .. }) {
            self.update_tree(key);
            self.note_stray(key);
        }
        applied
    }

    /// The load phase: stores `version` (from [`Node::coordinate_load`]) as
    /// if it had been written durably before time 0.
    pub fn preload(&mut self, key: Key, version: Version) {
        self.store_apply(key, version, crate::engine::time::SimTime::ZERO);
    }

    /// Every version this node holds for `key`: main store and buffer.
    pub fn local_versions(&self, key: Key) -> Vec<Version> {
        let main = self.durable.store.versions(key);
        if self.volatile.buffer.key_count() == 0 {
            return main;
        }
        reconcile(
            self.cluster.versioning,
            main.into_iter().chain(self.volatile.buffer.versions(key)),
        )
    }

    fn on_read(
        &mut self,
        _t: NodeTime,
        coordinator: NodeId,
        request: RequestId,
        key: Key,
        out: &mut Outbox<Timer>,
    ) {
        if self.is_pending(key) {
            // Pending ownership: the range has not arrived yet.
            self.send_node(
                out,
                coordinator,
                Msg::Replica(ReplicaMsg::ReadDeclined { request }),
            );
            return;
        }
        self.stats.replica_reads += 1;
        let versions = self.local_versions(key);
        let io = DiskIo {
            op: DiskOp::Read,
            ops: 1,
            foreground: true,
        };
        self.send_after_disk(
            out,
            io,
            Endpoint::Node(coordinator),
            Msg::Replica(ReplicaMsg::ReadReply { request, versions }),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn on_write(
        &mut self,
        t: NodeTime,
        coordinator: NodeId,
        request: RequestId,
        key: Key,
        version: Version,
        hint: Option<NodeId>,
        durability: Durability,
        out: &mut Outbox<Timer>,
    ) {
        self.stats.replica_writes += 1;
        let ack = Msg::Replica(ReplicaMsg::WriteAck { request });
        let to = Endpoint::Node(coordinator);
        let io = DiskIo {
            op: DiskOp::Write,
            ops: 1,
            foreground: true,
        };
        match (hint, durability) {
            (Some(owner), _) if owner != self.id => {
                self.durable.hints.add(owner, key, version);
                out.record(Record::HintStored {
                    holder: self.id,
                    owner,
                    key,
                });
                self.send_after_disk(out, io, to, ack);
            }
            (_, Durability::Buffered) => {
                // §6.1: acknowledged from memory; the flush pays the disk.
                self.volatile.buffer.apply(key, version, t.now);
                out.send_after(to, ack, SimDuration::ZERO);
            }
            (_, Durability::Durable) => {
                self.store_apply(key, version, t.now);
                self.send_after_disk(out, io, to, ack);
            }
        }
    }

    /// §6.1: the write buffer is flushed to the durable store periodically.
    pub(super) fn on_buffer_flush(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let mut writes = 0u32;
        for (key, entries) in self.volatile.buffer.take_all() {
            for s in entries {
                writes += 1;
                self.store_apply(key, s.version, t.now);
            }
        }
        self.background_writes(out, writes);
        if let Some(b) = &self.cluster.storage.buffered_writes {
            out.set_timer(Timer::BufferFlush, b.flush_interval);
        }
    }

    /// Purges tombstones older than the grace period.
    pub(super) fn on_tombstone_gc(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let Some(gc) = self.cluster.tombstone_gc.clone() else {
            return;
        };
        let cutoff =
            crate::engine::time::SimTime(t.now.as_micros().saturating_sub(gc.grace.as_micros()));
        if t.now.as_micros() >= gc.grace.as_micros() {
            let mut touched = Vec::new();
            let count = self.durable.store.purge_tombstones(cutoff, &mut touched)
                + self
                    .volatile
                    .buffer
                    .purge_tombstones(cutoff, &mut Vec::new());
            for key in touched {
                self.update_tree(key);
            }
            if count > 0 {
                out.record(Record::TombstonesPurged {
                    node: self.id,
                    count,
                });
            }
        }
        out.set_timer(Timer::TombstoneGc, gc.scan_interval);
    }
}
