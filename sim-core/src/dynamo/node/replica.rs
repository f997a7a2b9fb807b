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
//!
//! **Fallback reads.** A node that stands in for an unreachable owner keeps
//! its writes as hints. With `fallback_reads: include_hints` (the default,
//! Riak's rule and what the paper's sloppy quorum implies) it answers reads
//! with them too, so a read quorum of healthy nodes sees what a write quorum
//! of healthy nodes acknowledged; with `exclude_hints` (Cassandra's) hints
//! are invisible to reads. A read repair sent to a fallback carries the
//! owner it stood in for and lands in the hint store, handed off and then
//! deleted like any hint: it never leaves a permanent copy on a node that
//! does not replicate the key.
//!
//! **Checksums.** With `cluster.checksums`, a replica verifies a key's
//! stored versions whenever it reads them (a client read, anti-entropy, a
//! transfer, a write to the key); a corrupted version makes it drop the
//! key's whole object (siblings share causal context) and record the
//! detection, and read repair or anti-entropy brings a good copy back.
//! Without checksums a corrupted version is served as if intact.

use crate::config::FallbackReads;
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
        // A client-driven client (§6.4) reads, writes and repairs like a
        // coordinator.
        let peer = match from {
            Endpoint::Node(peer) => peer,
            Endpoint::Client(_) => match msg {
                ReplicaMsg::Read { .. } | ReplicaMsg::Repair { .. } | ReplicaMsg::Write { .. } => {
                    self.id
                }
                _ => return,
            },
        };
        match msg {
            ReplicaMsg::Read { request, key } => self.on_read(t, from, request, key, out),
            ReplicaMsg::Write {
                request,
                key,
                version,
                siblings,
                hint,
                durability,
            } => {
                let mut object = Vec::with_capacity(1 + siblings.len());
                object.push(version);
                object.extend(siblings);
                self.on_write(t, from, request, key, object, hint, durability, out)
            }
            ReplicaMsg::Repair {
                key,
                versions,
                hint,
            } => {
                let writes = versions.len() as u32;
                self.stats.replica_writes += u64::from(writes);
                match hint {
                    Some(owner) if owner != self.id => {
                        for v in versions {
                            self.durable.hints.add(owner, key, v);
                        }
                        out.record(Record::HintStored {
                            holder: self.id,
                            owner,
                            key,
                        });
                    }
                    _ => {
                        self.store_apply_all(key, versions, t.now, out);
                    }
                }
                self.background_writes(out, writes);
            }
            ReplicaMsg::ReadReply { request, versions } => {
                self.on_read_reply(t, peer, request, versions, out)
            }
            ReplicaMsg::WriteAck { request, versions } => {
                self.on_write_ack(t, peer, request, versions, out)
            }
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

    /// Applies `versions` of `key` (one object under vnode clocks, or
    /// several versions) to the durable store, after verifying the stored
    /// copy's checksum, and keeps the Merkle tree in step.
    pub(super) fn store_apply_all(
        &mut self,
        key: Key,
        versions: Vec<Version>,
        now: crate::engine::time::SimTime,
        out: &mut Outbox<Timer>,
    ) -> Applied {
        self.verify(key, out);
        let applied = self.durable.store.apply_all(key, versions, now);
        if matches!(applied, Applied::Stored { .. }) {
            self.update_tree(key);
            self.note_stray(key);
        }
        applied
    }

    /// With checksums: drops the stored object of `key` if any version of it
    /// is corrupted, and records the detection.
    pub(super) fn verify(&mut self, key: Key, out: &mut Outbox<Timer>) {
        if !self.cluster.checksums {
            return;
        }
        let dropped = self.durable.store.drop_if_corrupted(key);
        if dropped > 0 {
            self.update_tree(key);
            out.record(Record::CorruptionDetected {
                node: self.id,
                key,
                versions: dropped,
            });
        }
    }

    /// Every version this node holds for `key` in any store (main, buffer
    /// and hints for any owner): what a coordinator merges a new version
    /// with (dotted version vectors, vnode clocks).
    pub(super) fn object_versions(&self, key: Key) -> Vec<Version> {
        let hinted = self.durable.hints.versions_of(key);
        if hinted.is_empty() {
            return self.local_versions(key);
        }
        reconcile(
            self.cluster.versioning,
            self.local_versions(key).into_iter().chain(hinted),
        )
    }

    /// The load phase: stores `version` (from [`Node::coordinate_load`]) as
    /// if it had been written durably before time 0.
    pub fn preload(&mut self, key: Key, version: Version) {
        self.store_apply(key, version, crate::engine::time::SimTime::ZERO);
    }

    /// True when the load phase may mark keys ([`Node::mark_loaded`])
    /// instead of storing versions: no Merkle trees to keep in step.
    pub fn can_load_lazily(&self) -> bool {
        self.durable.trees.is_empty()
    }

    /// The load phase, lazily: this node holds `key`'s loaded version, to
    /// be taken from the table given to [`Node::attach_load_table`]; the
    /// same state as [`Node::preload`] with that version, a bit per key.
    pub fn mark_loaded(&mut self, key: Key) {
        self.durable.store.mark_loaded(key);
        self.note_stray(key);
    }

    /// Ends a lazy load phase: the table of loaded versions, which also
    /// stands for the counters the coordinators issued.
    pub fn attach_load_table(&mut self, table: &std::sync::Arc<crate::dynamo::storage::LoadTable>) {
        self.durable.store.attach_load_table(table);
        self.durable.loaded_counters = Some(table.clone());
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
        coordinator: Endpoint,
        request: RequestId,
        key: Key,
        out: &mut Outbox<Timer>,
    ) {
        if self.is_pending(key) {
            // Pending ownership: the range has not arrived yet.
            out.send(
                coordinator,
                Msg::Replica(ReplicaMsg::ReadDeclined { request }),
            );
            return;
        }
        self.stats.replica_reads += 1;
        self.verify(key, out);
        let versions = match self.cluster.fallback_reads {
            FallbackReads::IncludeHints => self.object_versions(key),
            FallbackReads::ExcludeHints => self.local_versions(key),
        };
        let io = DiskIo {
            op: DiskOp::Read,
            ops: 1,
            foreground: true,
        };
        self.send_after_disk(
            out,
            io,
            coordinator,
            Msg::Replica(ReplicaMsg::ReadReply { request, versions }),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn on_write(
        &mut self,
        t: NodeTime,
        to: Endpoint,
        request: RequestId,
        key: Key,
        object: Vec<Version>,
        hint: Option<NodeId>,
        durability: Durability,
        out: &mut Outbox<Timer>,
    ) {
        self.stats.replica_writes += 1;
        let io = DiskIo {
            op: DiskOp::Write,
            ops: 1,
            foreground: true,
        };
        // Riak's `return_body`: the ack carries the object as stored.
        let ack = |node: &Node| {
            let versions = if node.cluster.quorum.return_body {
                node.object_versions(key)
            } else {
                Vec::new()
            };
            Msg::Replica(ReplicaMsg::WriteAck { request, versions })
        };
        match (hint, durability) {
            (Some(owner), _) if owner != self.id => {
                for version in object {
                    self.durable.hints.add(owner, key, version);
                }
                out.record(Record::HintStored {
                    holder: self.id,
                    owner,
                    key,
                });
                let ack = ack(self);
                self.send_after_disk(out, io, to, ack);
            }
            (_, Durability::Buffered) => {
                // §6.1: acknowledged from memory; the flush pays the disk.
                self.volatile.buffer.apply_all(key, object, t.now);
                out.send_after(to, ack(self), SimDuration::ZERO);
            }
            (_, Durability::Durable) => {
                self.store_apply_all(key, object, t.now, out);
                let ack = ack(self);
                self.send_after_disk(out, io, to, ack);
            }
        }
    }

    /// §6.1: the write buffer is flushed to the durable store periodically.
    pub(super) fn on_buffer_flush(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let mut writes = 0u32;
        for (key, entries) in self.volatile.buffer.take_all() {
            let versions: Vec<_> = entries.into_iter().map(|s| s.version).collect();
            writes += versions.len() as u32;
            self.store_apply_all(key, versions, t.now, out);
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
