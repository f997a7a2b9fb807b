//! The coordinator: how a node serves `get` and `put` (§4.5, §4.6, §5).
//!
//! **Routing.** A request that reaches a node outside the key's top N is
//! forwarded to the first node of the top N this node believes healthy
//! (server-driven routing through a load balancer). Partition-aware clients
//! send straight to a coordinator, so no hop is spent.
//!
//! **Sloppy quorum.** The coordinator sends the request to "the first N
//! healthy nodes" of the extended preference list. A write that would have
//! gone to an unreachable top-N node goes to the next healthy node instead,
//! carrying a *hint* that names the intended owner. A `get` waits for R
//! replies and returns every causally unrelated version with an opaque
//! *context*; a `put` builds the new vector clock from the context, and
//! succeeds after W acknowledgements (its own local write counts). Replicas
//! that do not answer within the replica timeout are treated as down
//! (§4.8.3) and replaced by the next node of the list. With a strict quorum
//! only the top N are ever used.
//!
//! **Read repair.** After answering a get, the coordinator waits a short
//! window for late replies, reconciles everything it heard and writes the
//! result back to replicas that returned stale versions.

use crate::config::{
    ClockScheme, Consistency, CoordinatorScope, Fallbacks, QuorumMode, Versioning, WriteCoordinator,
};
use crate::dynamo::protocol::{
    ClientMsg, Context, Durability, Endpoint, Failure, Msg, ReplicaMsg, Value, Version, VersionData,
};
use crate::dynamo::quorum::{checks_availability, Placement, ReadTally, SloppyTarget, WriteTally};
use crate::dynamo::storage::{covers, object_clock, reconcile};
use crate::dynamo::vclock::VectorClock;
use crate::engine::ids::DatacenterId;
use crate::engine::ids::{Key, NodeId, OpId, RequestId};
use crate::engine::outbox::Outbox;
use crate::engine::record::Record;
use crate::engine::time::SimTime;

use super::{Node, NodeTime, Timer};

/// One node a request was sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The node.
    pub node: NodeId,
    /// For a hinted write: the top-N owner it stands in for.
    pub hint: Option<NodeId>,
    /// It answered.
    pub answered: bool,
    /// It missed the replica timeout and was replaced.
    pub replaced: bool,
}

impl SloppyTarget for Target {
    fn new(node: NodeId, hint: Option<NodeId>) -> Self {
        Target {
            node,
            hint,
            answered: false,
            replaced: false,
        }
    }
    fn node(&self) -> NodeId {
        self.node
    }
}

/// A get being coordinated.
#[derive(Clone, Debug)]
pub struct PendingGet {
    op: OpId,
    key: Key,
    targets: Vec<Target>,
    /// Index of the next extended-preference-list entry to try as a fallback.
    next: usize,
    replies: Vec<(NodeId, Vec<Version>)>,
    /// The replies counted before the answer (Riak's get core).
    tally: ReadTally,
    answered: bool,
}

/// A put being coordinated.
#[derive(Clone, Debug)]
pub struct PendingPut {
    op: OpId,
    key: Key,
    version: Version,
    /// Shipped with `version` (see [`ReplicaMsg::Write::siblings`]).
    siblings: Vec<Version>,
    targets: Vec<Target>,
    next: usize,
    /// Acknowledgements so far (W, PW, DW).
    tally: WriteTally,
    /// Targets asked for a buffered write (§6.1): their acks are not durable.
    buffered: Vec<NodeId>,
    /// With `return_body`: the merge of the versions the acknowledgements
    /// so far carried.
    body: Vec<Version>,
    answered: bool,
}

impl Node {
    pub(super) fn on_client_msg(&mut self, t: NodeTime, msg: ClientMsg, out: &mut Outbox<Timer>) {
        match msg {
            ClientMsg::Get { op, key, forwarded } => {
                let any = self.cluster.coordinator_scope != CoordinatorScope::PreferenceList;
                match self.forward_target(t.now, key, forwarded || any, None) {
                    Some(to) => {
                        self.stats.forwarded += 1;
                        let msg = Msg::Client(ClientMsg::Get {
                            op,
                            key,
                            forwarded: true,
                        });
                        self.send_node(out, to, msg);
                    }
                    None => self.start_get(t, op, key, out),
                }
            }
            ClientMsg::Put {
                op,
                key,
                context,
                value,
                size,
                forwarded,
            } => {
                let any = match self.cluster.coordinator_scope {
                    CoordinatorScope::PreferenceList => false,
                    CoordinatorScope::AnyNode => {
                        self.cluster.versioning == Versioning::LastWriteWins
                    }
                    CoordinatorScope::AnyNodeReadsAndWrites => true,
                };
                let chosen = match self.cluster.write_coordinator {
                    WriteCoordinator::FastestReadResponder => context.fastest_replica,
                    WriteCoordinator::FirstHealthy => None,
                };
                match self.forward_target(t.now, key, forwarded || any, chosen) {
                    Some(to) => {
                        self.stats.forwarded += 1;
                        let msg = Msg::Client(ClientMsg::Put {
                            op,
                            key,
                            context,
                            value,
                            size,
                            forwarded: true,
                        });
                        self.send_node(out, to, msg);
                    }
                    None => self.start_put(t, op, key, context, (value.into(), size), out),
                }
            }
            // Replies are for clients; a node ignores them.
            ClientMsg::GetReply { .. } | ClientMsg::PutReply { .. } => {}
        }
    }

    /// Where to forward a client request, or `None` to coordinate here.
    fn forward_target(
        &self,
        _now: SimTime,
        key: Key,
        no_forward: bool,
        chosen: Option<NodeId>,
    ) -> Option<NodeId> {
        if no_forward || chosen == Some(self.id) {
            return None;
        }
        // §5: the put goes to the replica that answered the read fastest,
        // unless this node has reason to think it is down.
        if let Some(fastest) = chosen.filter(|c| self.volatile.detector.is_trusted(*c)) {
            return Some(fastest);
        }
        let list = self.ring.preference_list(key);
        let top = &list[..(self.cluster.quorum.n as usize).min(list.len())];
        if top.contains(&self.id) {
            return None;
        }
        // A forward gets no reply to this node, so a silent target would go
        // unnoticed: forward only to peers that are not suspected at all.
        top.iter()
            .copied()
            .find(|peer| self.volatile.detector.is_trusted(*peer))
    }

    /// "The first N healthy nodes" of the extended preference list, with the
    /// top-N owner each fallback stands in for. Returns the targets and the
    /// index of the next list entry not yet considered, and how many of the
    /// targets (the first ones) the coordinator believes reachable.
    fn select_targets(&mut self, now: SimTime, key: Key) -> (Vec<Target>, usize, usize) {
        let ring = self.ring.clone();
        let cluster = self.cluster.clone();
        let retry = self.cluster.retry_interval;
        let me = self.id;
        let strict = self.cluster.quorum_mode == QuorumMode::Strict;
        let place = placement(&ring, &cluster, key, me);
        if strict {
            let list = place.top();
            let n = list.len();
            let mut targets: Vec<Target> =
                list.iter().map(|&node| Target::new(node, None)).collect();
            let mut reachable = n;
            // Only the request options that act on reachability ask the
            // detector (a claim spends a suspect's periodic retry).
            if self.cluster.quorum.needs_reachability() {
                let detector = &mut self.volatile.detector;
                let (up, down): (Vec<Target>, Vec<Target>) = targets
                    .into_iter()
                    .partition(|x| x.node == me || detector.claim(x.node, now, retry));
                reachable = up.len();
                targets = up.into_iter().chain(down).collect();
            }
            return (targets, place.list.len(), reachable);
        }
        let detector = &mut self.volatile.detector;
        let healthy = |node: NodeId| node == me || detector.claim(node, now, retry);
        place.sloppy_targets(cluster.quorum.fallbacks, healthy)
    }

    /// The next healthy fallback after `next`, not already a target, that
    /// may stand in for `owner` (`cluster.quorum.fallbacks`).
    fn next_fallback(
        &self,
        now: SimTime,
        key: Key,
        owner: NodeId,
        next: &mut usize,
        taken: &[Target],
    ) -> Option<NodeId> {
        if self.cluster.quorum_mode == QuorumMode::Strict {
            return None;
        }
        let place = placement(&self.ring, &self.cluster, key, self.id);
        let fallbacks = self.cluster.quorum.fallbacks;
        if fallbacks == Fallbacks::SameDatacenter {
            // Scanned from N each time: nodes of other datacenters are
            // left for their own owners.
            *next = (*next).min(place.n.min(place.list.len()));
        }
        let list = place.list;
        while let Some(&node) = list.get(*next) {
            *next += 1;
            if !place.may_stand_in(fallbacks, node, owner) {
                continue;
            }
            let busy = taken.iter().any(|t| t.node == node && !t.replaced);
            if !busy && (node == self.id || self.volatile.detector.is_healthy(node, now)) {
                return Some(node);
            }
        }
        None
    }

    fn arm_request_timers(&self, req: RequestId, out: &mut Outbox<Timer>) {
        out.set_timer(Timer::ReplicaCheck(req), self.cluster.replica_timeout);
        out.set_timer(Timer::RequestTimeout(req), self.cluster.request_timeout);
    }

    /// True when `node` is one of `key`'s top N (a primary replica).
    fn is_primary(&self, key: Key, node: NodeId) -> bool {
        placement(&self.ring, &self.cluster, key, self.id).is_primary(node)
    }

    /// Whether replies from `nodes` meet every datacenter's need
    /// (`local_quorum` / `each_quorum`).
    fn dc_quorum_met(&self, key: Key, nodes: &[NodeId]) -> bool {
        placement(&self.ring, &self.cluster, key, self.id)
            .dc_quorum_met(self.cluster.quorum.consistency, nodes)
    }

    /// Riak's PR/PW check, the datacenters' needs and `fail_fast`, over
    /// the targets the coordinator believes reachable (the first
    /// `reachable`); see [`Placement::unavailable`].
    fn unavailable(
        &self,
        key: Key,
        targets: &[Target],
        reachable: usize,
        needs: (u32, u32),
    ) -> Option<Failure> {
        // Nothing to check: no need to place the key.
        if !checks_availability(&self.cluster.quorum, needs.0) {
            return None;
        }
        let up: Vec<NodeId> = targets[..reachable.min(targets.len())]
            .iter()
            .map(|x| x.node)
            .collect();
        placement(&self.ring, &self.cluster, key, self.id).unavailable(
            &self.cluster.quorum,
            &up,
            needs,
        )
    }

    fn start_get(&mut self, t: NodeTime, op: OpId, key: Key, out: &mut Outbox<Timer>) {
        self.stats.coordinated += 1;
        let q = self.cluster.quorum;
        let (targets, next, reachable) = self.select_targets(t.now, key);
        if let Some(failure) = self.unavailable(key, &targets, reachable, (q.pr, q.r)) {
            let reply = ClientMsg::GetReply {
                op,
                result: Err(failure),
                coordinator: self.id,
            };
            out.send(Endpoint::Client(op.client), Msg::Client(reply));
            return;
        }
        let request = RequestId(self.fresh_id());
        for target in &targets {
            self.send_node(
                out,
                target.node,
                Msg::Replica(ReplicaMsg::Read { request, key }),
            );
        }
        self.volatile.gets.insert(
            request,
            PendingGet {
                op,
                key,
                targets,
                next,
                replies: Vec::new(),
                tally: ReadTally::default(),
                answered: false,
            },
        );
        self.arm_request_timers(request, out);
    }

    /// The load phase (`workload.keys.preload`): this node coordinates the
    /// first write of `key`, [`WriteId::preloaded`](crate::engine::ids::WriteId::preloaded),
    /// at time 0 with an empty context; the engine stores it on the top N
    /// replicas ([`Node::preload`]) before the run starts.
    pub fn coordinate_load(&mut self, key: Key, size: u32) -> Version {
        let t = NodeTime::at(crate::engine::time::SimTime::ZERO);
        let value = Value::Data(crate::engine::ids::WriteId::preloaded(key));
        self.new_version(t, key, &Context::default(), (value, size))
    }

    /// The highest vector clock counter this node issued for `key` as a
    /// coordinator: its `counters` entry, or what a lazy load phase
    /// implies (0 when it issued none).
    pub fn issued_counter(&self, key: Key) -> u64 {
        match self.durable.counters.get(&key) {
            Some(c) => *c,
            None => self.loaded_counter(key),
        }
    }

    /// The counter this node issued for `key` in a lazy load phase (its
    /// template's, when it coordinated the key's load), else 0: what
    /// `counters` would hold had the load stored one entry per key.
    fn loaded_counter(&self, key: Key) -> u64 {
        match &self.durable.loaded_counters {
            Some(table) if table.coordinator(key) == Some(self.id) => table.issued(self.id),
            _ => 0,
        }
    }

    /// Builds the new version: the context's clock with this node's entry
    /// incremented (§4.4), truncated past the threshold; or a timestamp from
    /// the local clock under last-write-wins. The increment goes above every
    /// counter this node issued for the key before: with the paper's plain
    /// "context + 1", two writes from the same context through the same
    /// coordinator would get identical clocks and one would silently replace
    /// the other (the checker found exactly that in a healthy run).
    fn new_version(
        &mut self,
        t: NodeTime,
        key: Key,
        context: &Context,
        (value, size): (Value, u32),
    ) -> Version {
        let stamp_us = t.local.as_micros();
        match self.cluster.versioning {
            Versioning::LastWriteWins => Version::new(VersionData::new(
                VectorClock::new(),
                self.id,
                0,
                value,
                stamp_us,
                size,
            )),
            Versioning::VectorClocks {
                truncation_threshold,
                scheme,
            } => {
                let actor = self.actor();
                let mut clock = match scheme {
                    ClockScheme::ServerClocks | ClockScheme::DottedVersionVectors => {
                        context.clock.clone()
                    }
                    // One clock per object: the new object's clock descends
                    // both the context and the local object, whose
                    // siblings it keeps unless the context descends it
                    // (`local_siblings`).
                    ClockScheme::VnodeClocks => {
                        object_clock(&self.object_versions(key)).merge(&context.clock)
                    }
                };
                let seen = clock.counter(actor);
                let loaded = self.loaded_counter(key);
                let issued = self.durable.counters.entry(key).or_insert(loaded);
                clock.increment_above(actor, *issued, t.local);
                *issued = clock.counter(actor);
                clock.truncate(truncation_threshold);
                let seen = match scheme {
                    // No dots: the whole clock is the version's past.
                    ClockScheme::VnodeClocks => clock.counter(actor),
                    _ => seen,
                };
                Version::new(VersionData::new(clock, actor, seen, value, stamp_us, size))
            }
        }
    }

    /// The coordinator's merge (dotted version vectors and vnode clocks):
    /// the local siblings of `key` that ship with `version`, the new
    /// version built from `context`. DVV: every local version the new one
    /// does not supersede (the context did not cover its dot). Vnode
    /// clocks: the whole local object, under the new clock, unless the
    /// context descends the local object's clock. Server clocks and
    /// last-write-wins: none, the version travels alone.
    fn local_siblings(&mut self, key: Key, context: &Context, version: &Version) -> Vec<Version> {
        match self.cluster.clock_scheme() {
            None | Some(ClockScheme::ServerClocks) => Vec::new(),
            Some(ClockScheme::DottedVersionVectors) => self
                .object_versions(key)
                .into_iter()
                .filter(|l| !version.supersedes(l))
                .collect(),
            Some(ClockScheme::VnodeClocks) => {
                let local = self.object_versions(key);
                if context.clock.descends(&object_clock(&local)) {
                    return Vec::new();
                }
                local
                    .into_iter()
                    .filter(|v| v.value() != version.value())
                    .map(|mut v| {
                        v.clock = version.clock.clone();
                        v
                    })
                    .collect()
            }
        }
    }

    /// How many siblings `key` holds once the coordinator stored the put:
    /// the merged object under DVV and vnode clocks; with server clocks,
    /// what the coordinator's own store would keep.
    fn siblings_after(&mut self, key: Key, version: &Version, siblings: &[Version]) -> u32 {
        match self.cluster.clock_scheme() {
            None => 1,
            Some(ClockScheme::ServerClocks) => {
                let local = self.object_versions(key);
                reconcile(
                    self.cluster.versioning,
                    local.into_iter().chain(std::iter::once(version.clone())),
                )
                .len() as u32
            }
            Some(_) => 1 + siblings.len() as u32,
        }
    }

    /// Checks `cluster.sibling_limits`; true when the put is refused.
    fn over_sibling_limit(
        &mut self,
        op: OpId,
        key: Key,
        siblings: u32,
        out: &mut Outbox<Timer>,
    ) -> bool {
        let limits = self.cluster.sibling_limits;
        let me = self.id;
        if let Some(limit) = limits.refuse_above.filter(|l| siblings > *l) {
            out.record(Record::SiblingLimit {
                coordinator: me,
                key,
                siblings,
                refused: true,
            });
            let reply = ClientMsg::PutReply {
                op,
                result: Err(Failure::TooManySiblings { siblings, limit }),
                coordinator: me,
                body: Vec::new(),
            };
            out.send(Endpoint::Client(op.client), Msg::Client(reply));
            return true;
        }
        if limits.warn_above.is_some_and(|l| siblings > l) {
            out.record(Record::SiblingLimit {
                coordinator: me,
                key,
                siblings,
                refused: false,
            });
        }
        false
    }

    /// DVV and vnode clocks: the coordinator stores the merged object
    /// itself before anything else (Riak's coordinating vnode), where its
    /// role in `targets` says (main store, buffer, or hint store), so the
    /// next put it coordinates for the key merges with this one. A
    /// coordinator that is not a target keeps it as a hint for the key's
    /// first owner, so the dot it issued stays with it until handed off.
    fn store_coordinated(
        &mut self,
        t: NodeTime,
        key: Key,
        object: Vec<Version>,
        targets: &[Target],
        out: &mut Outbox<Timer>,
    ) {
        let buffered = self.cluster.storage.buffered_writes.is_some();
        let me = self.id;
        let role = targets.iter().position(|x| x.node == me);
        let hint = match role {
            Some(i) => targets[i].hint,
            None => self.ring.preference_list(key).first().copied(),
        };
        match hint {
            Some(owner) if owner != me => {
                for v in object {
                    self.durable.hints.add(owner, key, v);
                }
                if role.is_none() {
                    out.record(Record::HintStored {
                        holder: me,
                        owner,
                        key,
                    });
                }
            }
            _ if buffered && role.is_some_and(|i| i >= self.cluster.quorum.dw.max(1) as usize) => {
                self.volatile.buffer.apply_all(key, object, t.now);
            }
            _ => {
                self.store_apply_all(key, object, t.now, out);
            }
        }
    }

    fn start_put(
        &mut self,
        t: NodeTime,
        op: OpId,
        key: Key,
        context: Context,
        value: (Value, u32),
        out: &mut Outbox<Timer>,
    ) {
        self.stats.coordinated += 1;
        let request = RequestId(self.fresh_id());
        self.verify(key, out);
        let version = self.new_version(t, key, &context, value);
        let siblings = self.local_siblings(key, &context, &version);
        let limits = self.cluster.sibling_limits;
        if limits.warn_above.is_some() || limits.refuse_above.is_some() {
            let count = self.siblings_after(key, &version, &siblings);
            if self.over_sibling_limit(op, key, count, out) {
                return;
            }
        }
        let (targets, next, reachable) = self.select_targets(t.now, key);
        let q = self.cluster.quorum;
        if let Some(failure) = self.unavailable(key, &targets, reachable, (q.pw, q.w)) {
            let reply = ClientMsg::PutReply {
                op,
                result: Err(failure),
                coordinator: self.id,
                body: Vec::new(),
            };
            out.send(Endpoint::Client(op.client), Msg::Client(reply));
            return;
        }
        if matches!(
            self.cluster.clock_scheme(),
            Some(ClockScheme::DottedVersionVectors | ClockScheme::VnodeClocks)
        ) {
            let object: Vec<Version> = std::iter::once(version.clone())
                .chain(siblings.iter().cloned())
                .collect();
            self.store_coordinated(t, key, object, &targets, out);
        }
        let buffered = self.cluster.storage.buffered_writes.is_some();
        let durable_first = self.cluster.quorum.dw.max(1) as usize;
        let mut buffered_targets = Vec::new();
        for (i, target) in targets.iter().enumerate() {
            // §6.1: with buffered writes, one replica (the first) writes
            // durably; with DW, the first DW do.
            let durability = if buffered && i >= durable_first {
                buffered_targets.push(target.node);
                Durability::Buffered
            } else {
                Durability::Durable
            };
            let msg = ReplicaMsg::Write {
                request,
                key,
                version: version.clone(),
                siblings: siblings.clone(),
                hint: target.hint,
                durability,
            };
            self.send_node(out, target.node, Msg::Replica(msg));
        }
        self.volatile.puts.insert(
            request,
            PendingPut {
                op,
                key,
                version,
                siblings,
                targets,
                next,
                tally: WriteTally::default(),
                buffered: buffered_targets,
                body: Vec::new(),
                answered: false,
            },
        );
        self.arm_request_timers(request, out);
    }

    pub(super) fn on_read_reply(
        &mut self,
        t: NodeTime,
        from: NodeId,
        request: RequestId,
        versions: Vec<Version>,
        out: &mut Outbox<Timer>,
    ) {
        let q = self.cluster.quorum;
        let versioning = self.cluster.versioning;
        let read_repair = self.cluster.read_repair;
        let me = self.id;
        let primary = self
            .volatile
            .gets
            .get(&request)
            .is_some_and(|g| q.pr > 0 && self.is_primary(g.key, from));
        let dc_met = q.consistency != Consistency::Fixed
            && self.volatile.gets.get(&request).is_some_and(|g| {
                let nodes: Vec<NodeId> = g
                    .replies
                    .iter()
                    .map(|r| r.0)
                    .chain(std::iter::once(from))
                    .collect();
                self.dc_quorum_met(g.key, &nodes)
            });
        let Some(get) = self.volatile.gets.get_mut(&request) else {
            return;
        };
        let Some(target) = get
            .targets
            .iter_mut()
            .find(|x| x.node == from && !x.answered)
        else {
            return;
        };
        target.answered = true;
        if !get.answered {
            get.tally.count(&q, !versions.is_empty(), primary);
        }
        get.replies.push((from, versions));
        let verdict = get.tally.verdict(&q, dc_met);
        if let Some(verdict) = verdict.filter(|_| !get.answered) {
            get.answered = true;
            let result = get.tally.answer(&q, verdict, versioning, &get.replies);
            let reply = ClientMsg::GetReply {
                op: get.op,
                result,
                coordinator: me,
            };
            out.send(Endpoint::Client(get.op.client), Msg::Client(reply));
            out.cancel_timer(Timer::RequestTimeout(request));
            match read_repair {
                None => {
                    out.cancel_timer(Timer::ReplicaCheck(request));
                    self.volatile.gets.remove(&request);
                    return;
                }
                Some(window) => out.set_timer(Timer::ReadRepair(request), window),
            }
        }
        // Every replica has answered: no need to wait out the repair window.
        if get.answered && get.targets.iter().all(|x| x.answered || x.replaced) {
            out.cancel_timer(Timer::ReplicaCheck(request));
            out.cancel_timer(Timer::ReadRepair(request));
            self.on_read_repair_window(t, request, out);
        }
    }

    /// A replica declined a read (pending ownership: it has not received
    /// the key's range yet). Its share goes at once to the next node of the
    /// extended preference list that is not a target yet, whatever the
    /// quorum mode: that is the node the joiner displaced, which holds the
    /// range until the transfer completes.
    pub(super) fn on_read_declined(
        &mut self,
        _t: NodeTime,
        from: NodeId,
        request: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let Some(get) = self.volatile.gets.get_mut(&request) else {
            return;
        };
        let Some(i) = get
            .targets
            .iter()
            .position(|x| x.node == from && !x.answered && !x.replaced)
        else {
            return;
        };
        get.targets[i].replaced = true;
        let list = self.ring.preference_list(get.key);
        let next = list
            .iter()
            .copied()
            .find(|n| !get.targets.iter().any(|x| x.node == *n));
        let Some(node) = next else { return };
        get.targets.push(Target {
            node,
            hint: None,
            answered: false,
            replaced: false,
        });
        let key = get.key;
        self.send_node(out, node, Msg::Replica(ReplicaMsg::Read { request, key }));
    }

    pub(super) fn on_write_ack(
        &mut self,
        _t: NodeTime,
        from: NodeId,
        request: RequestId,
        stored: Vec<Version>,
        out: &mut Outbox<Timer>,
    ) {
        let q = self.cluster.quorum;
        let versioning = self.cluster.versioning;
        let me = self.id;
        let primary = self
            .volatile
            .puts
            .get(&request)
            .is_some_and(|p| q.pw > 0 && self.is_primary(p.key, from));
        let dc_met = q.consistency != Consistency::Fixed
            && self.volatile.puts.get(&request).is_some_and(|p| {
                let nodes: Vec<NodeId> = p
                    .targets
                    .iter()
                    .filter(|x| x.answered)
                    .map(|x| x.node)
                    .chain(std::iter::once(from))
                    .collect();
                self.dc_quorum_met(p.key, &nodes)
            });
        let Some(put) = self.volatile.puts.get_mut(&request) else {
            return;
        };
        let Some(target) = put
            .targets
            .iter_mut()
            .find(|x| x.node == from && !x.answered)
        else {
            return;
        };
        target.answered = true;
        if q.return_body && !put.answered {
            // Riak's put FSM merges the objects the vnodes returned.
            let merged = put.body.drain(..).chain(stored);
            put.body = reconcile(versioning, merged);
        }
        let durable = !put.buffered.contains(&from);
        put.tally.count(primary, durable);
        let enough = put.tally.enough(&q, dc_met);
        if !put.answered && enough {
            put.answered = true;
            out.record(Record::WriteCommitted {
                op: put.op,
                key: put.key,
                write: put.version.value().write(),
                coordinator: me,
            });
            let reply = ClientMsg::PutReply {
                op: put.op,
                result: Ok(()),
                coordinator: me,
                body: std::mem::take(&mut put.body),
            };
            out.send(Endpoint::Client(put.op.client), Msg::Client(reply));
            out.cancel_timer(Timer::RequestTimeout(request));
        }
        if put.answered && put.targets.iter().all(|x| x.answered || x.replaced) {
            out.cancel_timer(Timer::ReplicaCheck(request));
            self.volatile.puts.remove(&request);
        }
    }

    /// Replicas that missed the replica timeout are treated as down; their
    /// share of the request goes to the next healthy nodes (sloppy quorum).
    pub(super) fn on_replica_check(
        &mut self,
        t: NodeTime,
        req: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let retry = self.cluster.retry_interval;
        if let Some(mut get) = self.volatile.gets.remove(&req) {
            let mut resent = false;
            let silent: Vec<usize> = (0..get.targets.len())
                .filter(|&i| !get.targets[i].answered && !get.targets[i].replaced)
                .collect();
            for i in silent {
                let peer = get.targets[i].node;
                if peer != self.id && self.volatile.detector.suspect(peer, t.now, retry) {
                    out.record(Record::PeerSuspected { by: self.id, peer });
                }
                if get.answered {
                    continue;
                }
                // The owner this fallback stands in for: read repair
                // gives it hints for that owner, not a permanent copy.
                let owner = get.targets[i].hint.unwrap_or(peer);
                if let Some(node) =
                    self.next_fallback(t.now, get.key, owner, &mut get.next, &get.targets)
                {
                    get.targets[i].replaced = true;
                    get.targets.push(Target {
                        node,
                        hint: (node != owner).then_some(owner),
                        answered: false,
                        replaced: false,
                    });
                    self.send_node(
                        out,
                        node,
                        Msg::Replica(ReplicaMsg::Read {
                            request: req,
                            key: get.key,
                        }),
                    );
                    resent = true;
                }
            }
            if resent {
                out.set_timer(Timer::ReplicaCheck(req), self.cluster.replica_timeout);
            }
            self.volatile.gets.insert(req, get);
        } else if let Some(mut put) = self.volatile.puts.remove(&req) {
            let mut resent = false;
            let silent: Vec<usize> = (0..put.targets.len())
                .filter(|&i| !put.targets[i].answered && !put.targets[i].replaced)
                .collect();
            for i in silent {
                let peer = put.targets[i].node;
                if peer != self.id && self.volatile.detector.suspect(peer, t.now, retry) {
                    out.record(Record::PeerSuspected { by: self.id, peer });
                }
                let owner = put.targets[i].hint.unwrap_or(peer);
                if let Some(node) =
                    self.next_fallback(t.now, put.key, owner, &mut put.next, &put.targets)
                {
                    put.targets[i].replaced = true;
                    let hint = if node == owner { None } else { Some(owner) };
                    put.targets.push(Target {
                        node,
                        hint,
                        answered: false,
                        replaced: false,
                    });
                    let msg = ReplicaMsg::Write {
                        request: req,
                        key: put.key,
                        version: put.version.clone(),
                        siblings: put.siblings.clone(),
                        hint,
                        durability: Durability::Durable,
                    };
                    self.send_node(out, node, Msg::Replica(msg));
                    resent = true;
                }
            }
            if resent {
                out.set_timer(Timer::ReplicaCheck(req), self.cluster.replica_timeout);
            }
            let done = put.answered && put.targets.iter().all(|x| x.answered || x.replaced);
            if !done {
                self.volatile.puts.insert(req, put);
            }
        }
    }

    pub(super) fn on_request_timeout(
        &mut self,
        _t: NodeTime,
        req: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let me = self.id;
        if let Some(get) = self.volatile.gets.get(&req) {
            if get.answered {
                return; // the read repair window owns it now
            }
            let failure = Failure::NotEnoughReplicas {
                got: get.replies.len() as u32,
                required: self.cluster.quorum.r,
            };
            let reply = ClientMsg::GetReply {
                op: get.op,
                result: Err(failure),
                coordinator: me,
            };
            out.send(Endpoint::Client(get.op.client), Msg::Client(reply));
            self.volatile.gets.remove(&req);
        } else if let Some(put) = self.volatile.puts.remove(&req) {
            if !put.answered {
                let failure = put.tally.shortfall(&self.cluster.quorum);
                let reply = ClientMsg::PutReply {
                    op: put.op,
                    result: Err(failure),
                    coordinator: me,
                    body: Vec::new(),
                };
                out.send(Endpoint::Client(put.op.client), Msg::Client(reply));
            }
        }
    }

    /// The read repair window closed: write the reconciled versions to every
    /// replica that answered with something stale.
    pub(super) fn on_read_repair_window(
        &mut self,
        _t: NodeTime,
        req: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let Some(get) = self.volatile.gets.remove(&req) else {
            return;
        };
        // The common case: every replica answered the same versions.
        if get.replies.windows(2).all(|w| w[0].1 == w[1].1) {
            return;
        }
        let versioning = self.cluster.versioning;
        let latest = reconcile(
            versioning,
            get.replies.iter().flat_map(|(_, v)| v.iter().cloned()),
        );
        if latest.is_empty() {
            return;
        }
        let mut repaired = 0;
        for (node, versions) in &get.replies {
            if !covers(versions, &latest, versioning) {
                let hint = get
                    .targets
                    .iter()
                    .find(|x| x.node == *node && x.answered)
                    .and_then(|x| x.hint);
                let msg = ReplicaMsg::Repair {
                    key: get.key,
                    versions: latest.clone(),
                    hint,
                };
                self.send_node(out, *node, Msg::Replica(msg));
                repaired += 1;
            }
        }
        if repaired > 0 {
            out.record(Record::ReadRepair {
                coordinator: self.id,
                key: get.key,
                replicas: repaired,
            });
        }
    }
}

/// Where `key` lives, as node `me` of `cluster` sees it through `ring`.
pub(super) fn placement<'a>(
    ring: &'a crate::dynamo::ring::Ring,
    cluster: &'a crate::config::Cluster,
    key: Key,
    me: NodeId,
) -> Placement<'a, impl Fn(NodeId) -> DatacenterId + 'a> {
    let nodes = &cluster.nodes;
    Placement {
        list: ring.preference_list(key),
        n: cluster.quorum.n as usize,
        dc: move |n: NodeId| nodes[n.0 as usize].datacenter,
        local: nodes[me.0 as usize].datacenter,
    }
}
