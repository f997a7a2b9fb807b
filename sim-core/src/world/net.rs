//! The simulated network: per-link latency, loss, duplication, reordering and
//! FIFO links, plus the dynamic faults that act on links (partitions, one-way
//! partitions, degraded links, slow nodes).
//!
//! The network decides, for one message at send time, whether it is dropped and
//! when (and how many times) it arrives. It draws only from its own stream, in
//! a fixed order per message. Reordering is not a separate knob: it falls out
//! of independent delays, unless a link is declared FIFO. Crashed nodes are the
//! engine's business (a message to a down node is dropped at delivery).
//!
//! This module never schedules events and never looks at message contents
//! beyond their [`MsgKind`].

use std::collections::BTreeMap;

use crate::config::{LinkSpec, NetworkConfig};
use crate::dynamo::protocol::{Endpoint, MsgKind};
use crate::engine::ids::{DatacenterId, NodeId};
use crate::engine::rng::{Probability, SimRng};
use crate::engine::time::{SimDuration, SimTime};
use crate::world::dist::Latency;
use crate::world::faults::FaultId;

/// Why the network dropped a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// Sender and receiver are on different sides of a partition.
    Partitioned,
    /// Random loss on the link.
    Lost,
    /// The receiver was down when the message arrived.
    NodeDown,
    /// A full queue refused it (node capacity: the request queue, or the
    /// network interface's backlog).
    Overloaded,
}

impl DropReason {
    /// The name used in traces and reports.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Partitioned => "partitioned",
            DropReason::Lost => "lost",
            DropReason::NodeDown => "node_down",
            DropReason::Overloaded => "overloaded",
        }
    }
}

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmission {
    /// Dropped at send time.
    Dropped(DropReason),
    /// Arrives at `at`, and again at `duplicate_at` if duplicated.
    Delivered {
        /// First arrival.
        at: SimTime,
        /// Second arrival, for a duplicated message.
        duplicate_at: Option<SimTime>,
    },
}

#[derive(Clone, Debug)]
enum Cut {
    /// `side[e]`: 0 = in no group, k = group k.
    Groups { id: FaultId, side: Vec<u16> },
    OneWay {
        id: FaultId,
        from: Vec<bool>,
        to: Vec<bool>,
    },
}

#[derive(Clone, Debug)]
struct Degradation {
    id: FaultId,
    from: Vec<bool>,
    to: Vec<bool>,
    both_ways: bool,
    extra_loss: Probability,
    extra_latency: Latency,
}

/// The network model and its dynamic state.
#[derive(Debug)]
pub struct Network {
    node_count: usize,
    endpoint_count: usize,
    links: Vec<LinkSpec>,
    /// `link_of[from * endpoint_count + to]`: index into `links`; empty
    /// when every pair uses the one default link (the common case: no
    /// lookup into a table of endpoints squared, which on 1,000 nodes is
    /// a cache miss per message).
    link_of: Vec<u16>,
    cuts: Vec<Cut>,
    degradations: Vec<Degradation>,
    slow: Vec<Option<Latency>>,
    fifo_last: BTreeMap<(u32, u32), SimTime>,
    rng: SimRng,
}

impl Network {
    /// Builds the link table for `node_dcs.len()` nodes and `client_dcs.len()`
    /// clients.
    pub fn new(
        config: &NetworkConfig,
        node_dcs: &[DatacenterId],
        client_dcs: &[DatacenterId],
        rng: SimRng,
    ) -> Network {
        let node_count = node_dcs.len();
        let endpoint_count = node_count + client_dcs.len();
        let dc_of = |e: usize| {
            if e < node_count {
                node_dcs[e]
            } else {
                client_dcs[e - node_count]
            }
        };
        let mut links = vec![config.default.clone()];
        let mut dc_index: BTreeMap<(DatacenterId, DatacenterId), u16> = BTreeMap::new();
        for (a, b, spec) in &config.datacenter_links {
            let i = links.len() as u16;
            links.push(spec.clone());
            dc_index.insert((*a, *b), i);
            dc_index.insert((*b, *a), i);
        }
        let mut pair_index: BTreeMap<(usize, usize), u16> = BTreeMap::new();
        let idx = |e: Endpoint| match e {
            Endpoint::Node(n) => n.0 as usize,
            Endpoint::Client(c) => node_count + c.0 as usize,
        };
        for (a, b, spec) in &config.endpoint_links {
            let i = links.len() as u16;
            links.push(spec.clone());
            pair_index.insert((idx(*a), idx(*b)), i);
            pair_index.insert((idx(*b), idx(*a)), i);
        }
        // One link for every pair: no table (see `link_of`).
        let pairs = if links.len() > 1 {
            endpoint_count * endpoint_count
        } else {
            0
        };
        let mut link_of = vec![0u16; pairs];
        if pairs > 0 {
            for from in 0..endpoint_count {
                for to in 0..endpoint_count {
                    let l = pair_index
                        .get(&(from, to))
                        .or_else(|| dc_index.get(&(dc_of(from), dc_of(to))))
                        .copied()
                        .unwrap_or(0);
                    link_of[from * endpoint_count + to] = l;
                }
            }
        }
        Network {
            node_count,
            endpoint_count,
            links,
            link_of,
            cuts: Vec::new(),
            degradations: Vec::new(),
            slow: vec![None; node_count],
            fifo_last: BTreeMap::new(),
            rng,
        }
    }

    fn index(&self, e: Endpoint) -> usize {
        match e {
            Endpoint::Node(n) => n.0 as usize,
            Endpoint::Client(c) => self.node_count + c.0 as usize,
        }
    }

    fn mask(&self, eps: &[Endpoint]) -> Vec<bool> {
        let mut m = vec![false; self.endpoint_count];
        for e in eps {
            m[self.index(*e)] = true;
        }
        m
    }

    /// True if a partition currently blocks `from → to`.
    pub fn is_cut(&self, from: Endpoint, to: Endpoint) -> bool {
        let (f, t) = (self.index(from), self.index(to));
        self.cuts.iter().any(|cut| match cut {
            Cut::Groups { side, .. } => side[f] != 0 && side[t] != 0 && side[f] != side[t],
            Cut::OneWay { from, to, .. } => from[f] && to[t],
        })
    }

    /// Decides the fate of one message sent at `now`. Draws, in order: loss,
    /// delay, duplication (and the duplicate's delay), then extra delays of
    /// degraded links and a slow receiver.
    pub fn transmit(
        &mut self,
        now: SimTime,
        from: Endpoint,
        to: Endpoint,
        kind: MsgKind,
    ) -> Transmission {
        if self.is_cut(from, to) {
            return Transmission::Dropped(DropReason::Partitioned);
        }
        let (f, t) = (self.index(from), self.index(to));
        let link = match self.link_of.get(f * self.endpoint_count + t) {
            Some(l) => &self.links[usize::from(*l)],
            None => &self.links[0],
        };
        let mut loss = link.loss;
        let mut extra = SimDuration::ZERO;
        for d in &self.degradations {
            if (d.from[f] && d.to[t]) || (d.both_ways && d.from[t] && d.to[f]) {
                loss = loss.or(d.extra_loss);
            }
        }
        if self.rng.chance(loss) {
            return Transmission::Dropped(DropReason::Lost);
        }
        let latency = link.latency_by_kind.get(&kind).unwrap_or(&link.latency);
        let delay = latency.sample(&mut self.rng);
        let duplicate = if self.rng.chance(link.duplicate) {
            Some(latency.sample(&mut self.rng))
        } else {
            None
        };
        let fifo = link.fifo;
        for d in &self.degradations {
            if ((d.from[f] && d.to[t]) || (d.both_ways && d.from[t] && d.to[f]))
                && !d.extra_latency.is_zero()
            {
                extra = extra + d.extra_latency.sample(&mut self.rng);
            }
        }
        if let Endpoint::Node(n) = to {
            if let Some(slow) = &self.slow[n.0 as usize] {
                extra = extra + slow.sample(&mut self.rng);
            }
        }
        let mut at = now + delay + extra;
        if fifo {
            let last = self
                .fifo_last
                .entry((f as u32, t as u32))
                .or_insert(SimTime::ZERO);
            at = at.max(*last);
            *last = at;
        }
        Transmission::Delivered {
            at,
            duplicate_at: duplicate.map(|d| (now + d + extra).max(at)),
        }
    }

    /// Starts a partition between groups.
    pub fn partition(&mut self, id: FaultId, groups: &[Vec<Endpoint>]) {
        let mut side = vec![0u16; self.endpoint_count];
        for (g, members) in groups.iter().enumerate() {
            for e in members {
                side[self.index(*e)] = g as u16 + 1;
            }
        }
        self.cuts.push(Cut::Groups { id, side });
    }

    /// Starts a one-way partition.
    pub fn partition_one_way(&mut self, id: FaultId, from: &[Endpoint], to: &[Endpoint]) {
        let (from, to) = (self.mask(from), self.mask(to));
        self.cuts.push(Cut::OneWay { id, from, to });
    }

    /// Ends a partition; returns false if none had that id.
    pub fn heal(&mut self, id: FaultId) -> bool {
        let before = self.cuts.len();
        self.cuts.retain(|c| match c {
            Cut::Groups { id: i, .. } | Cut::OneWay { id: i, .. } => *i != id,
        });
        before != self.cuts.len()
    }

    /// Ends every partition.
    pub fn heal_all(&mut self) {
        self.cuts.clear();
    }

    /// Degrades links for a window.
    pub fn degrade(
        &mut self,
        id: FaultId,
        from: &[Endpoint],
        to: &[Endpoint],
        both_ways: bool,
        extra_loss: Probability,
        extra_latency: Latency,
    ) {
        let (from, to) = (self.mask(from), self.mask(to));
        self.degradations.push(Degradation {
            id,
            from,
            to,
            both_ways,
            extra_loss,
            extra_latency,
        });
    }

    /// Ends a degradation.
    pub fn restore(&mut self, id: FaultId) -> bool {
        let before = self.degradations.len();
        self.degradations.retain(|d| d.id != id);
        before != self.degradations.len()
    }

    /// Ends every degradation and slowness.
    pub fn restore_all(&mut self) {
        self.degradations.clear();
        self.slow.iter_mut().for_each(|s| *s = None);
    }

    /// Makes a node slow (or not, with `None`).
    pub fn set_slow(&mut self, node: NodeId, extra: Option<Latency>) {
        self.slow[node.0 as usize] = extra;
    }

    /// Number of active partitions.
    pub fn active_cuts(&self) -> usize {
        self.cuts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::ClientId;
    use crate::engine::rng::Stream;

    fn spec(us: f64) -> LinkSpec {
        LinkSpec {
            latency: Latency::Constant { us },
            latency_by_kind: BTreeMap::new(),
            loss: Probability::NEVER,
            duplicate: Probability::NEVER,
            fifo: false,
        }
    }

    fn net() -> Network {
        let mut by_kind = spec(100.0);
        by_kind
            .latency_by_kind
            .insert(MsgKind::WriteAck, Latency::Constant { us: 7.0 });
        let config = NetworkConfig {
            default: by_kind,
            datacenter_links: vec![(DatacenterId(0), DatacenterId(1), spec(50_000.0))],
            endpoint_links: vec![(
                Endpoint::Node(NodeId(0)),
                Endpoint::Node(NodeId(1)),
                spec(3.0),
            )],
        };
        Network::new(
            &config,
            &[DatacenterId(0), DatacenterId(0), DatacenterId(1)],
            &[DatacenterId(0)],
            SimRng::new(1, Stream::Network),
        )
    }

    fn delay(n: &mut Network, a: Endpoint, b: Endpoint, k: MsgKind) -> Option<u64> {
        match n.transmit(SimTime(0), a, b, k) {
            Transmission::Delivered { at, .. } => Some(at.0),
            Transmission::Dropped(_) => None,
        }
    }

    #[test]
    fn most_specific_link_wins() {
        let mut n = net();
        let (n0, n1, n2) = (
            Endpoint::Node(NodeId(0)),
            Endpoint::Node(NodeId(1)),
            Endpoint::Node(NodeId(2)),
        );
        let c0 = Endpoint::Client(ClientId(0));
        assert_eq!(delay(&mut n, n0, n1, MsgKind::ReadRequest), Some(3));
        assert_eq!(delay(&mut n, n1, n2, MsgKind::ReadRequest), Some(50_000));
        assert_eq!(delay(&mut n, c0, n1, MsgKind::ClientRequest), Some(100));
        assert_eq!(delay(&mut n, c0, n1, MsgKind::WriteAck), Some(7));
    }

    #[test]
    fn partitions_cut_across_groups_only_and_heal() {
        let mut n = net();
        let (n0, n1, n2) = (
            Endpoint::Node(NodeId(0)),
            Endpoint::Node(NodeId(1)),
            Endpoint::Node(NodeId(2)),
        );
        let c0 = Endpoint::Client(ClientId(0));
        n.partition(FaultId(1), &[vec![n0], vec![n1, n2]]);
        assert!(n.is_cut(n0, n1) && n.is_cut(n2, n0));
        assert!(!n.is_cut(n1, n2));
        assert!(!n.is_cut(c0, n0), "endpoints in no group are unaffected");
        n.partition_one_way(FaultId(2), &[n1], &[n2]);
        assert!(n.is_cut(n1, n2) && !n.is_cut(n2, n1));
        assert!(n.heal(FaultId(1)));
        assert!(!n.is_cut(n0, n1));
        n.heal_all();
        assert_eq!(n.active_cuts(), 0);
    }

    #[test]
    fn degraded_links_lose_everything_at_full_extra_loss() {
        let mut n = net();
        let (n0, n2) = (Endpoint::Node(NodeId(0)), Endpoint::Node(NodeId(2)));
        n.degrade(
            FaultId(3),
            &[n0],
            &[n2],
            false,
            Probability::ALWAYS,
            Latency::ZERO,
        );
        assert_eq!(
            n.transmit(SimTime(0), n0, n2, MsgKind::Repair),
            Transmission::Dropped(DropReason::Lost)
        );
        assert!(
            delay(&mut n, n2, n0, MsgKind::Repair).is_some(),
            "one way only"
        );
        n.restore(FaultId(3));
        assert!(delay(&mut n, n0, n2, MsgKind::Repair).is_some());
    }

    #[test]
    fn slow_receiver_adds_delay_and_fifo_preserves_order() {
        let mut n = net();
        let (n0, n1) = (Endpoint::Node(NodeId(0)), Endpoint::Node(NodeId(1)));
        n.set_slow(NodeId(1), Some(Latency::Constant { us: 1000.0 }));
        assert_eq!(delay(&mut n, n0, n1, MsgKind::ReadRequest), Some(1003));
        let mut fifo = spec(0.0);
        fifo.latency = Latency::Uniform {
            min_us: 0.0,
            max_us: 10_000.0,
        };
        fifo.fifo = true;
        let config = NetworkConfig {
            default: fifo,
            datacenter_links: vec![],
            endpoint_links: vec![],
        };
        let mut f = Network::new(
            &config,
            &[DatacenterId(0); 2],
            &[],
            SimRng::new(2, Stream::Network),
        );
        let mut last = 0;
        for i in 0..200 {
            match f.transmit(SimTime(i), n0, n1, MsgKind::WriteRequest) {
                Transmission::Delivered { at, .. } => {
                    assert!(at.0 >= last, "FIFO link reordered");
                    last = at.0;
                }
                Transmission::Dropped(_) => unreachable!("no loss configured"),
            }
        }
    }
}
