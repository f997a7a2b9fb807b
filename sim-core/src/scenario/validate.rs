//! Validation: a parsed [`ScenarioFile`] becomes a [`Scenario`] or a list of
//! [`ScenarioError`]s, each with the JSON path of the problem and what was
//! expected. Every cross-field rule lives here (quorum sizes, names that
//! must exist, fault times inside the run, membership order); the DTOs only
//! say what shapes parse. No I/O: referenced files come through the
//! caller's [`Resolver`].

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{
    AdmissionControl, AePartners, AntiEntropy, Arrival, BufferedWrites, Capacity, ClientSpec,
    ClockScheme, Cluster, Consistency, CoordinatorScope, CpuSpec, DiskLossIdentity, DiskSpec,
    Expectation, FailureDetectorKind, FallbackReads, Fallbacks, Hedge, LinkSpec, MembershipConfig,
    MetricsConfig, Mix, NetworkConfig, NicSpec, NodeCapacity, NodeSpec, OverloadPolicy, Popularity,
    Probe, ProbeCoordinator, ProbeKey, Quiescence, Quorum, QuorumMode, ReadsDuringTransfer,
    Reconcile, Retries, Routing, Scenario, ScheduledFault, SiblingLimits, StalenessOrigin,
    StorageConfig, TombstoneGc, Versioning, Workload, WriteCoordinator,
};
use crate::dynamo::protocol::{Endpoint, MsgKind};
use crate::dynamo::ring::PartitionStrategy;
use crate::engine::ids::{ClientId, DatacenterId, Key, NodeId};
use crate::engine::rng::Probability;
use crate::engine::time::{SimDuration, SimTime};
use crate::world::dist::Latency;
use crate::world::faults::{
    FaultAction, FaultId, Nemesis, NemesisCrashes, NemesisLoss, NemesisPartitions, PartitionShape,
    Resource,
};

use super::dto::*;
use super::{
    Resolver, ScenarioError, MAX_PRELOAD_KEYS, MAX_PROBE_CONCURRENT, MAX_PROBE_GRID,
    MAX_PROBE_READS, MAX_WARS_TRIALS,
};

/// The longest duration a field may hold: 10^9 s, in µs.
const MAX_DURATION_US: f64 = 1e15;
/// The most points an empirical distribution may have (inline or CSV):
/// each is a few bytes, and the CDF is searched per draw.
pub const MAX_EMPIRICAL_POINTS: usize = 100_000;
/// The most points of the t-visibility grid (each is a column of the
/// summary and of every sweep record).
pub const MAX_GRID_POINTS: usize = 10_000;
/// The most links the network distinguishes (the default, datacenter
/// links and endpoint pairs): it indexes them with 16 bits.
pub const MAX_LINKS: usize = u16::MAX as usize;
/// The longest name (scenario, node, client, datacenter), in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 16_384;

pub(super) struct Validator<'a> {
    pub(super) errors: Vec<ScenarioError>,
    /// Problems past [`MAX_ERRORS`]: how many, and the first one's path.
    pub(super) omitted: (usize, String),
    pub(super) resolver: Resolver<'a>,
}

/// The most problems listed for one file; the rest are counted (100,000
/// duplicated override entries used to print 100,000 lines).
pub const MAX_ERRORS: usize = 100;

/// Names → ids.
struct Names {
    datacenters: Vec<String>,
    /// Every node, the initial ones (ids `0..initial`) and the ones that
    /// `join` and `replace.with` introduce (ids `initial..`).
    nodes: BTreeMap<String, NodeId>,
    clients: BTreeMap<String, ClientId>,
    node_dc: Vec<DatacenterId>,
    client_dc: Vec<DatacenterId>,
    /// How many nodes are members from the start.
    initial: u32,
    /// A node introduced by a fault → that fault's index.
    introduced_by: BTreeMap<NodeId, usize>,
    /// More nodes were asked for than allowed (reported once; checks that
    /// depend on the node count are skipped).
    nodes_capped: bool,
}

impl Names {
    fn node_name(&self, id: NodeId) -> &str {
        self.nodes
            .iter()
            .find(|(_, x)| **x == id)
            .map_or("", |(s, _)| s.as_str())
    }
}

/// Where a fault sits in the order faults take effect: by time, then by
/// position in the file.
type Pos = (SimTime, usize);

/// The membership timeline implied by the `join`, `decommission` and
/// `replace` faults, worked out before validation proper (the default
/// partition count depends on it) and without reporting: its problems are
/// reported with the faults they belong to.
#[derive(Default)]
struct Plan {
    /// When each node introduced by a fault becomes a member.
    joins: BTreeMap<NodeId, Pos>,
    /// When a node stops being a member, and by which verb.
    leaves: BTreeMap<NodeId, (Pos, &'static str)>,
    /// The most members at any point.
    peak: u32,
    /// Problems: fault index, path, message.
    problems: Vec<(usize, String, String)>,
}

fn secs(t: SimTime) -> f64 {
    t.as_micros() as f64 / 1e6
}

/// A fault time without reporting (a bad one is reported by `faults`).
fn lenient_time(at_s: f64) -> Option<SimTime> {
    (at_s.is_finite() && (0.0..=1e9).contains(&at_s))
        .then(|| SimTime::ZERO + SimDuration((at_s * 1e6).round() as u64))
}

/// The seeds of a membership section, ignoring bad names (those are
/// reported by `Validator::membership`).
fn seed_ids(names: &Names, m: &MembershipDto) -> Vec<NodeId> {
    match &m.seeds {
        Some(list) => {
            let mut seen = BTreeSet::new();
            list.iter()
                .filter_map(|s| names.nodes.get(s).copied())
                .filter(|id| id.0 < names.initial && seen.insert(*id))
                .collect()
        }
        None => (0..names.datacenters.len())
            .filter_map(|dc| {
                (0..names.initial)
                    .find(|&i| names.node_dc[i as usize] == DatacenterId(dc as u16))
                    .map(NodeId)
            })
            .collect(),
    }
}

fn plan(file: &ScenarioFile, names: &Names) -> Plan {
    let mut plan = Plan::default();
    let n = file.cluster.quorum.n as usize;
    let seeds = file
        .cluster
        .membership
        .as_ref()
        .map(|m| seed_ids(names, m))
        .unwrap_or_default();
    let mut events: Vec<(Pos, &FaultDto)> = file
        .faults
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.action_count() == 1
                && (f.join.is_some() || f.decommission.is_some() || f.replace.is_some())
        })
        .filter_map(|(i, f)| lenient_time(f.at_s).map(|t| ((t, i), f)))
        .collect();
    events.sort_by_key(|(pos, _)| *pos);
    // When each introduced node is meant to join, known before the walk so
    // that an earlier fault naming it can say when.
    for (pos, _) in &events {
        for (id, i) in &names.introduced_by {
            if *i == pos.1 {
                plan.joins.insert(*id, *pos);
            }
        }
    }
    let mut members: BTreeSet<NodeId> = (0..names.initial).map(NodeId).collect();
    plan.peak = names.initial;
    let seed_list = |names: &Names| -> String {
        seeds
            .iter()
            .map(|s| names.node_name(*s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The leaving node must be a member now.
    let can_leave =
        |plan: &mut Plan, members: &BTreeSet<NodeId>, pos: Pos, path: String, name: &str| {
            let id = *names.nodes.get(name)?;
            if members.contains(&id) {
                return Some(id);
            }
            if let Some(&join) = plan.joins.get(&id).filter(|p| **p > pos) {
                plan.problems
                    .push((pos.1, path, before_join(name, join, pos)));
            } else if let Some(&((t, j), how)) = plan.leaves.get(&id) {
                plan.problems.push((
                    pos.1,
                    path,
                    format!(
                    "{name} already left at {} s (faults[{j}], {how}); expected a current member",
                    secs(t)
                ),
                ));
            } else if names.introduced_by.contains_key(&id) {
                // Its join is not in effect (a bad time or a bad fault, reported there).
            } else {
                plan.problems.push((
                    pos.1,
                    path,
                    format!("{name} is not a member; expected a current member"),
                ));
            }
            None
        };
    for (pos, f) in events {
        let i = pos.1;
        let introduces = |name: &str| {
            names
                .nodes
                .get(name)
                .copied()
                .filter(|id| names.introduced_by.get(id) == Some(&i))
        };
        let seed_alive = |members: &BTreeSet<NodeId>, except: Option<NodeId>| {
            seeds.is_empty()
                || seeds
                    .iter()
                    .any(|s| members.contains(s) && Some(*s) != except)
        };
        if let Some(j) = &f.join {
            if let Some(id) = introduces(&j.node) {
                if !seed_alive(&members, None) {
                    plan.problems.push((
                        i,
                        format!("faults[{i}].join"),
                        format!(
                            "no seed ({}) is a member at {} s; expected at least one, from which {} learns the membership",
                            seed_list(names),
                            secs(pos.0),
                            j.node
                        ),
                    ));
                }
                members.insert(id);
            }
        }
        if let Some(d) = &f.decommission {
            let path = format!("faults[{i}].decommission.node");
            if let Some(id) = can_leave(&mut plan, &members, pos, path.clone(), &d.node) {
                members.remove(&id);
                plan.leaves.insert(id, (pos, "decommission"));
                if members.len() < n {
                    plan.problems.push((
                        i,
                        path,
                        format!(
                            "decommissioning {} leaves {} members; expected at least N = {n} (cluster.quorum.n) at every point",
                            d.node,
                            members.len()
                        ),
                    ));
                }
            }
        }
        if let Some(r) = &f.replace {
            let path = format!("faults[{i}].replace.node");
            let old = can_leave(&mut plan, &members, pos, path, &r.node);
            if let Some(new) = introduces(&r.with) {
                if !seed_alive(&members, old) {
                    let other = match old {
                        Some(o) if seeds.contains(&o) => format!(" other than {}", r.node),
                        _ => String::new(),
                    };
                    plan.problems.push((
                        i,
                        format!("faults[{i}].replace"),
                        format!(
                            "no seed ({}){other} is a member at {} s; expected at least one, from which {} learns the membership",
                            seed_list(names),
                            secs(pos.0),
                            r.with
                        ),
                    ));
                }
                members.insert(new);
            }
            if let Some(old) = old {
                members.remove(&old);
                plan.leaves.insert(old, (pos, "replace"));
            }
        }
        plan.peak = plan.peak.max(members.len() as u32);
    }
    plan
}

impl Validator<'_> {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.errors.len() >= MAX_ERRORS {
            if self.omitted.0 == 0 {
                self.omitted.1 = path.into();
            }
            self.omitted.0 += 1;
            return;
        }
        self.errors.push(ScenarioError::Invalid {
            path: path.into(),
            message: message.into(),
        });
    }

    /// A non-negative finite number of seconds/milliseconds → µs.
    fn duration(&mut self, path: &str, value: f64, unit_us: f64) -> SimDuration {
        self.checked_duration(path, value, unit_us)
            .unwrap_or(SimDuration::ZERO)
    }

    /// [`Self::duration`], `None` when it was reported as bad.
    fn checked_duration(&mut self, path: &str, value: f64, unit_us: f64) -> Option<SimDuration> {
        if !value.is_finite() || value < 0.0 {
            self.err(
                path,
                format!("expected a non-negative number, got {}", num(value)),
            );
            return None;
        }
        let us = value * unit_us;
        if us > MAX_DURATION_US {
            let unit = if unit_us >= 1e6 { "s" } else { "ms" };
            self.err(
                path,
                format!(
                    "expected at most {} {unit} (10^9 s, about 31 years), got {}",
                    MAX_DURATION_US / unit_us,
                    num(value)
                ),
            );
            return None;
        }
        Some(SimDuration(us.round() as u64))
    }

    fn positive_duration(&mut self, path: &str, value: f64, unit_us: f64) -> SimDuration {
        match self.checked_duration(path, value, unit_us) {
            Some(SimDuration::ZERO) => {
                self.err(
                    path,
                    format!("expected a positive duration, got {}", num(value)),
                );
                SimDuration::ZERO
            }
            Some(d) => d,
            None => SimDuration::ZERO,
        }
    }

    /// Checks a name or text field's length (and, for names used in file
    /// paths, its characters).
    fn text(&mut self, path: &str, value: &str, max_chars: usize) {
        let chars = value.chars().count();
        if chars > max_chars {
            self.err(
                path,
                format!("expected at most {max_chars} characters, got {chars}"),
            );
        }
    }

    fn probability(&mut self, path: &str, p: &ProbabilityDto) -> Probability {
        let value = match p {
            ProbabilityDto::Number(x) => Some(*x),
            ProbabilityDto::Ratio(s) => {
                let parts: Vec<&str> = s.split('/').collect();
                match parts.as_slice() {
                    [a, b] => match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
                        (Ok(a), Ok(b)) if b > 0.0 => Some(a / b),
                        _ => None,
                    },
                    _ => None,
                }
            }
        };
        match value.and_then(Probability::from_f64) {
            Some(p) => p,
            None => {
                self.err(
                    path,
                    format!(
                        "expected a probability in [0, 1] (a number or \"a/b\"), got {}",
                        probability_text(p)
                    ),
                );
                Probability::NEVER
            }
        }
    }

    fn latency(&mut self, path: &str, l: &LatencyDto) -> Latency {
        let ms = |v: &mut Self, field: &str, x: f64| -> f64 {
            if !x.is_finite() || x < 0.0 {
                v.err(
                    format!("{path}.{field}"),
                    format!(
                        "expected a non-negative number of milliseconds, got {}",
                        num(x)
                    ),
                );
                0.0
            } else {
                x * 1000.0
            }
        };
        match l {
            LatencyDto::Constant { ms: x } => Latency::Constant {
                us: ms(self, "constant.ms", *x),
            },
            LatencyDto::Uniform { min_ms, max_ms } => {
                let (lo, hi) = (
                    ms(self, "uniform.min_ms", *min_ms),
                    ms(self, "uniform.max_ms", *max_ms),
                );
                if hi < lo {
                    self.err(
                        format!("{path}.uniform.max_ms"),
                        format!("{max_ms} is below min_ms = {min_ms}"),
                    );
                }
                Latency::Uniform {
                    min_us: lo,
                    max_us: hi,
                }
            }
            LatencyDto::Normal { mean_ms, stddev_ms } => Latency::Normal {
                mean_us: ms(self, "normal.mean_ms", *mean_ms),
                stddev_us: ms(self, "normal.stddev_ms", *stddev_ms),
            },
            LatencyDto::Exponential { mean_ms } => Latency::Exponential {
                mean_us: ms(self, "exponential.mean_ms", *mean_ms),
            },
            LatencyDto::Lognormal { median_ms, sigma } => {
                if !sigma.is_finite() || *sigma < 0.0 {
                    self.err(
                        format!("{path}.lognormal.sigma"),
                        format!("expected a non-negative number, got {sigma}"),
                    );
                }
                Latency::LogNormal {
                    median_us: ms(self, "lognormal.median_ms", *median_ms),
                    sigma: sigma.max(0.0),
                }
            }
            LatencyDto::Pareto { scale_ms, shape } => {
                if !shape.is_finite() || *shape <= 0.0 {
                    self.err(
                        format!("{path}.pareto.shape"),
                        format!("expected a positive number, got {shape}"),
                    );
                }
                Latency::Pareto {
                    scale_us: ms(self, "pareto.scale_ms", *scale_ms),
                    shape: if *shape > 0.0 { *shape } else { 1.0 },
                }
            }
            LatencyDto::Mixture(parts) => {
                if parts.is_empty() {
                    self.err(
                        format!("{path}.mixture"),
                        "expected at least one part, got an empty mixture",
                    );
                }
                let total: f64 = parts.iter().map(|p| p.weight.max(0.0)).sum();
                let mut out = Vec::new();
                for (i, part) in parts.iter().enumerate() {
                    let p = format!("{path}.mixture[{i}]");
                    if !part.weight.is_finite() || part.weight <= 0.0 {
                        self.err(
                            format!("{p}.weight"),
                            format!("expected a positive weight, got {}", part.weight),
                        );
                    }
                    let weight = if total > 0.0 {
                        (part.weight.max(0.0) / total * 1e9).round() as u64
                    } else {
                        0
                    };
                    out.push((
                        weight.max(1),
                        self.latency(&format!("{p}.latency"), &part.latency),
                    ));
                }
                Latency::mixture(out)
            }
            LatencyDto::Empirical(e) => self.empirical(&format!("{path}.empirical"), e),
            LatencyDto::Sum(parts) => {
                if parts.is_empty() {
                    self.err(
                        format!("{path}.sum"),
                        "expected at least one part, got an empty sum",
                    );
                }
                Latency::Sum(
                    parts
                        .iter()
                        .enumerate()
                        .map(|(i, part)| self.latency(&format!("{path}.sum[{i}]"), part))
                        .collect(),
                )
            }
            LatencyDto::Offset(o) => Latency::Sum(vec![
                Latency::Constant {
                    us: ms(self, "offset.ms", o.ms),
                },
                self.latency(&format!("{path}.offset.latency"), &o.latency),
            ]),
        }
    }

    fn empirical(&mut self, path: &str, e: &EmpiricalDto) -> Latency {
        let points: Vec<(f64, f64)> = match (&e.csv, e.points.is_empty()) {
            (Some(_), false) => {
                self.err(path, "expected either \"points\" or \"csv\", not both");
                return Latency::ZERO;
            }
            (None, true) => {
                self.err(path, "expected \"points\" or \"csv\"");
                return Latency::ZERO;
            }
            (None, false) => e.points.clone(),
            (Some(file), true) => match (self.resolver)(file) {
                Err(msg) => {
                    self.err(
                        format!("{path}.csv"),
                        format!("cannot read {file:?}: {msg}"),
                    );
                    return Latency::ZERO;
                }
                Ok(text) => match parse_cdf_csv(&text) {
                    Ok(p) => p,
                    Err(msg) => {
                        self.err(format!("{path}.csv"), format!("{file}: {msg}"));
                        return Latency::ZERO;
                    }
                },
            },
        };
        if points.len() > MAX_EMPIRICAL_POINTS {
            let field = if e.csv.is_some() { "csv" } else { "points" };
            self.err(
                format!("{path}.{field}"),
                format!(
                    "expected at most {MAX_EMPIRICAL_POINTS} points, got {}",
                    points.len()
                ),
            );
            return Latency::ZERO;
        }
        let mut out = Vec::with_capacity(points.len());
        let mut prev = (f64::NEG_INFINITY, 0.0);
        for (i, (ms, p)) in points.iter().copied().enumerate() {
            let here = format!("{path}.points[{i}]");
            if !ms.is_finite() || ms < 0.0 {
                self.err(&here, format!("expected a non-negative latency, got {ms}"));
            }
            if !(0.0..=1.0).contains(&p) {
                self.err(
                    &here,
                    format!("expected a cumulative probability in [0, 1], got {p}"),
                );
            }
            if ms < prev.0 || p < prev.1 {
                self.err(
                    &here,
                    "expected points non-decreasing in both latency and probability",
                );
            }
            prev = (ms, p);
            out.push((ms * 1000.0, (p.clamp(0.0, 1.0) * 1e9).round() as u32));
        }
        if (prev.1 - 1.0).abs() > 1e-9 {
            self.err(
                path,
                format!(
                    "expected the last cumulative probability to be 1, got {}",
                    prev.1
                ),
            );
        }
        Latency::Empirical(out)
    }

    fn names(&mut self, file: &ScenarioFile) -> Names {
        let datacenters = if file.datacenters.is_empty() {
            vec!["dc1".to_string()]
        } else {
            file.datacenters.clone()
        };
        let mut seen = BTreeSet::new();
        for (i, dc) in datacenters.iter().enumerate() {
            self.text(&format!("datacenters[{i}]"), dc, MAX_NAME_CHARS);
            if !seen.insert(dc.clone()) {
                self.err(
                    format!("datacenters[{i}]"),
                    format!("duplicate datacenter name {dc:?}"),
                );
            }
        }
        let dc_of = |v: &mut Self, path: String, dc: &Option<String>| -> DatacenterId {
            match dc {
                None => DatacenterId(0),
                Some(name) => match datacenters.iter().position(|d| d == name) {
                    Some(i) => DatacenterId(i as u16),
                    None => {
                        v.err(
                            path,
                            format!("unknown datacenter {name:?}; expected one of {datacenters:?}"),
                        );
                        DatacenterId(0)
                    }
                },
            }
        };
        let mut all_names: BTreeSet<String> = datacenters.iter().cloned().collect();
        let mut nodes = BTreeMap::new();
        let mut node_dc = Vec::new();
        let asked = match &file.cluster.nodes {
            NodesDto::Count(n) => u64::from(*n),
            NodesDto::List(l) => l.len() as u64,
        };
        let node_list: Vec<NamedDto> = match &file.cluster.nodes {
            // Past the limit, keep 4096 so that later checks (partitions
            // per node) do not report a consequence of the same mistake.
            NodesDto::Count(n) => (0..*n.min(&4096))
                .map(|i| NamedDto {
                    name: format!("n{i}"),
                    datacenter: None,
                })
                .collect(),
            NodesDto::List(l) => l.iter().take(4096).cloned().collect(),
        };
        if node_list.is_empty() {
            self.err("cluster.nodes", "expected at least one node");
        }
        let nodes_capped = asked > 4096;
        if nodes_capped {
            self.err(
                "cluster.nodes",
                format!("expected at most 4096 nodes, got {asked}"),
            );
        }
        for (i, n) in node_list.iter().enumerate() {
            self.text(&format!("cluster.nodes[{i}].name"), &n.name, MAX_NAME_CHARS);
            if !all_names.insert(n.name.clone()) {
                self.err(
                    format!("cluster.nodes[{i}].name"),
                    format!("duplicate name {:?}", n.name),
                );
            }
            nodes.insert(n.name.clone(), NodeId(i as u32));
            node_dc.push(dc_of(
                self,
                format!("cluster.nodes[{i}].datacenter"),
                &n.datacenter,
            ));
        }
        let mut clients = BTreeMap::new();
        let mut client_dc = Vec::new();
        let asked = match &file.workload.clients {
            ClientsDto::Count(n) => u64::from(*n),
            ClientsDto::List(l) => l.len() as u64,
        };
        let client_list: Vec<NamedDto> = match &file.workload.clients {
            ClientsDto::Count(n) => (0..*n.min(&4096))
                .map(|i| NamedDto {
                    name: format!("c{i}"),
                    datacenter: None,
                })
                .collect(),
            ClientsDto::List(l) => l.iter().take(4096).cloned().collect(),
        };
        if asked > 4096 {
            self.err(
                "workload.clients",
                format!("expected at most 4096 clients, got {asked}"),
            );
        }
        for (i, c) in client_list.iter().enumerate() {
            self.text(
                &format!("workload.clients[{i}].name"),
                &c.name,
                MAX_NAME_CHARS,
            );
            if !all_names.insert(c.name.clone()) {
                self.err(
                    format!("workload.clients[{i}].name"),
                    format!("duplicate name {:?}", c.name),
                );
            }
            clients.insert(c.name.clone(), ClientId(i as u32));
            client_dc.push(dc_of(
                self,
                format!("workload.clients[{i}].datacenter"),
                &c.datacenter,
            ));
        }
        // Nodes that join later (`join`, `replace.with`) get the next ids, in
        // file order, so that every other reference can name them.
        let initial = node_list.len() as u32;
        let mut introduced_by = BTreeMap::new();
        let mut resolved = vec![true; node_dc.len()];
        let mut inherit: Vec<(usize, &str)> = Vec::new();
        for (i, f) in file.faults.iter().enumerate() {
            let intros = [
                f.join
                    .as_ref()
                    .map(|j| ("join", "node", &j.node, &j.datacenter, None)),
                f.replace.as_ref().map(|r| {
                    (
                        "replace",
                        "with",
                        &r.with,
                        &r.datacenter,
                        Some(r.node.as_str()),
                    )
                }),
            ];
            for (verb, field, name, dc, replaced) in intros.into_iter().flatten() {
                let path = format!("faults[{i}].{verb}.{field}");
                let clash = if let Some(id) = nodes.get(name) {
                    Some(match introduced_by.get(id) {
                        Some(j) => format!(
                            "{name:?} already joins in faults[{j}]; expected a new node name"
                        ),
                        None => format!("{name:?} is already a node; expected a new node name"),
                    })
                } else if clients.contains_key(name) {
                    Some(format!(
                        "{name:?} is already a client; expected a new node name"
                    ))
                } else if all_names.contains(name) {
                    Some(format!(
                        "{name:?} is a datacenter; expected a new node name"
                    ))
                } else if name.trim().is_empty() {
                    Some("expected a non-empty node name".to_string())
                } else if node_dc.len() >= 4096 {
                    Some("expected at most 4096 nodes in all, counting those that join".to_string())
                } else {
                    None
                };
                if let Some(msg) = clash {
                    self.err(path, msg);
                    continue;
                }
                let id = node_dc.len();
                all_names.insert(name.clone());
                nodes.insert(name.clone(), NodeId(id as u32));
                introduced_by.insert(NodeId(id as u32), i);
                match (dc, replaced) {
                    (None, Some(old)) => {
                        node_dc.push(DatacenterId(0));
                        resolved.push(false);
                        inherit.push((id, old));
                    }
                    _ => {
                        node_dc.push(dc_of(self, format!("faults[{i}].{verb}.datacenter"), dc));
                        resolved.push(true);
                    }
                }
            }
        }
        // A replacement without a datacenter takes the replaced node's, which
        // may itself be a replacement listed later.
        let mut progress = true;
        while progress {
            progress = false;
            for &(id, old) in &inherit {
                if let Some(o) = nodes.get(old).map(|o| o.0 as usize) {
                    if !resolved[id] && resolved[o] {
                        node_dc[id] = node_dc[o];
                        resolved[id] = true;
                        progress = true;
                    }
                }
            }
        }
        Names {
            datacenters,
            nodes,
            clients,
            node_dc,
            client_dc,
            initial,
            introduced_by,
            nodes_capped,
        }
    }

    fn node(&mut self, names: &Names, path: &str, name: &str) -> NodeId {
        match names.nodes.get(name) {
            Some(id) => *id,
            None => {
                self.err(path, format!("unknown node {name:?}"));
                NodeId(0)
            }
        }
    }

    /// A node, client or datacenter name → endpoints.
    fn endpoints(&mut self, names: &Names, path: &str, list: &[String]) -> Vec<Endpoint> {
        let mut out = Vec::new();
        for (i, name) in list.iter().enumerate() {
            if let Some(n) = names.nodes.get(name) {
                out.push(Endpoint::Node(*n));
            } else if let Some(c) = names.clients.get(name) {
                out.push(Endpoint::Client(*c));
            } else if let Some(dc) = names.datacenters.iter().position(|d| d == name) {
                let dc = DatacenterId(dc as u16);
                out.extend(
                    names
                        .node_dc
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| **d == dc)
                        .map(|(i, _)| Endpoint::Node(NodeId(i as u32))),
                );
                out.extend(
                    names
                        .client_dc
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| **d == dc)
                        .map(|(i, _)| Endpoint::Client(ClientId(i as u32))),
                );
            } else {
                self.err(
                    format!("{path}[{i}]"),
                    format!("unknown node, client or datacenter {name:?}"),
                );
            }
        }
        out.sort();
        out.dedup();
        out
    }

    pub(super) fn scenario(&mut self, f: &ScenarioFile) -> Option<Scenario> {
        if f.name.trim().is_empty() {
            self.err("name", "expected a non-empty name");
        }
        self.text("name", &f.name, MAX_NAME_CHARS);
        // The name becomes a directory name (runs/<name>-seed<N>/).
        if f.name.contains(['/', '\\', '\0']) || f.name == "." || f.name == ".." {
            self.err(
                "name",
                "expected a name without '/', '\\' or NUL that is not . or .. (it names the output directory)",
            );
        }
        self.text("description", &f.description, MAX_DESCRIPTION_CHARS);
        let duration = self.positive_duration("duration_s", f.duration_s, 1e6);
        let quiescence = Quiescence {
            duration: self.duration("quiescence.duration_s", f.quiescence.duration_s, 1e6),
            heal_faults: f.quiescence.heal_faults,
        };
        let names = self.names(f);
        let plan = plan(f, &names);
        let cluster = self.cluster(&f.cluster, &names, &plan);
        let network = self.network(&f.network, &names);
        let workload = self.workload(&f.workload, &names);
        self.probe_coordinator(f, &names);
        let end = SimTime::ZERO + duration + quiescence.duration;
        let faults = self.faults(
            &f.faults,
            &names,
            &plan,
            f.cluster.membership.is_some(),
            end,
            f.cluster.capacity.as_ref(),
        );
        let nemesis = f
            .nemesis
            .as_ref()
            .map(|n| self.nemesis(n, &names, duration));
        let metrics = self.metrics(&f.metrics);
        if let (Some(window), Some(c)) = (metrics.retention_window, &cluster) {
            let horizon = workload.horizon(c.request_timeout);
            if window > SimDuration::ZERO && window < horizon {
                self.err(
                    "metrics.retention_window_s",
                    format!(
                        "expected at least the horizon, twice the longest an operation can take (workload.client_timeout_ms, per attempt with workload.retries, plus the backoffs) plus cluster.request_timeout_ms ({} s), got {} s",
                        num(horizon.as_micros() as f64 / 1e6),
                        num(window.as_micros() as f64 / 1e6)
                    ),
                );
            }
        }
        let mut expect = Vec::new();
        for (metric, bound) in &f.expect {
            let path = format!("expect[{metric:?}]");
            if bound.min.is_none() && bound.max.is_none() {
                self.err(&path, "expected \"min\", \"max\" or both");
            }
            for (which, b) in [("min", bound.min), ("max", bound.max)] {
                if b.is_some_and(|x| !x.is_finite()) {
                    self.err(format!("{path}.{which}"), "expected a finite number");
                }
            }
            if let (Some(lo), Some(hi)) = (bound.min, bound.max) {
                if lo > hi {
                    self.err(&path, format!("min = {lo} exceeds max = {hi}"));
                }
            }
            expect.push(Expectation {
                metric: metric.clone(),
                min: bound.min,
                max: bound.max,
            });
        }
        if let Some(0) = f.max_events {
            self.err("max_events", "expected a positive number");
        }
        if !self.errors.is_empty() {
            return None;
        }
        Some(Scenario {
            name: f.name.clone(),
            description: f.description.clone(),
            rng_seed: f.rng_seed,
            duration,
            quiescence,
            max_events: f.max_events.unwrap_or(200_000_000),
            datacenters: names.datacenters.clone(),
            cluster: cluster?,
            network,
            workload,
            faults,
            nemesis,
            metrics,
            expect,
        })
    }

    fn cluster(&mut self, c: &ClusterDto, names: &Names, plan: &Plan) -> Option<Cluster> {
        let node_count = names.initial;
        let q = c.quorum;
        if q.n == 0 {
            self.err("cluster.quorum.n", "expected at least 1 replica");
        }
        if q.n > node_count {
            let later = if names.introduced_by.is_empty() {
                ""
            } else {
                " at the start; nodes that join later do not count"
            };
            self.err(
                "cluster.quorum.n",
                format!("{} exceeds the number of nodes ({node_count}){later}", q.n),
            );
        }
        if q.r == 0 || q.w == 0 {
            self.err(
                if q.r == 0 {
                    "cluster.quorum.r"
                } else {
                    "cluster.quorum.w"
                },
                "expected at least 1",
            );
        }
        if q.r > q.n {
            self.err("cluster.quorum.r", format!("{} exceeds n = {}", q.r, q.n));
        }
        if q.w > q.n {
            self.err("cluster.quorum.w", format!("{} exceeds n = {}", q.w, q.n));
        }
        for (field, value, of, bound) in [
            ("pr", q.pr, "r", q.r),
            ("pw", q.pw, "w", q.w),
            ("dw", q.dw, "w", q.w),
        ] {
            if value > bound {
                self.err(
                    format!("cluster.quorum.{field}"),
                    format!("{value} exceeds {of} = {bound}"),
                );
            }
        }
        if q.consistency != ConsistencyDto::Fixed && names.datacenters.len() < 2 {
            self.err(
                "cluster.quorum.consistency",
                "local_quorum and each_quorum need datacenters: expected at least two in `datacenters`",
            );
        }
        if q.fallbacks == FallbacksDto::SameDatacenter {
            if names.datacenters.len() < 2 {
                self.err(
                    "cluster.quorum.fallbacks",
                    "same_datacenter needs datacenters: expected at least two in `datacenters`",
                );
            } else if c.quorum_mode == QuorumModeDto::Strict {
                self.err(
                    "cluster.quorum.fallbacks",
                    "has no effect with quorum_mode strict (a strict quorum has no fallbacks)",
                );
            }
        }
        if q.basic_quorum && q.notfound_ok {
            self.err(
                "cluster.quorum.basic_quorum",
                "has no effect unless notfound_ok is false (not-found replies then count toward R)",
            );
        }
        // The default leaves room for the most members the cluster reaches.
        let partitioning = match c.partitioning.unwrap_or(PartitioningDto::EqualPartitions {
            partitions: (8 * plan.peak.max(node_count)).max(1),
        }) {
            PartitioningDto::RandomTokens { tokens_per_node } => {
                if tokens_per_node == 0 || tokens_per_node > 4096 {
                    self.err(
                        "cluster.partitioning.tokens_per_node",
                        format!("expected 1..=4096, got {tokens_per_node}"),
                    );
                }
                PartitionStrategy::RandomTokens {
                    tokens_per_node: tokens_per_node.max(1),
                }
            }
            PartitioningDto::RandomTokensEqualPartitions {
                tokens_per_node,
                partitions,
            } => {
                if tokens_per_node == 0 || tokens_per_node > 4096 {
                    self.err(
                        "cluster.partitioning.tokens_per_node",
                        format!("expected 1..=4096, got {tokens_per_node}"),
                    );
                }
                if partitions == 0 || partitions > 1 << 20 {
                    self.err(
                        "cluster.partitioning.partitions",
                        format!("expected 1..=1048576, got {partitions}"),
                    );
                }
                PartitionStrategy::RandomTokensEqualPartitions {
                    tokens_per_node: tokens_per_node.max(1),
                    partitions: partitions.max(1),
                }
            }
            PartitioningDto::EqualPartitions { partitions } => {
                if names.nodes_capped {
                    // The node count is wrong; partitions per node follow.
                } else if partitions < node_count {
                    self.err("cluster.partitioning.partitions", format!("{partitions} is fewer than the {node_count} nodes: every node needs a partition"));
                } else if partitions < plan.peak {
                    self.err(
                        "cluster.partitioning.partitions",
                        format!(
                            "{partitions} is fewer than the {} members the cluster reaches with joins: every node needs a partition",
                            plan.peak
                        ),
                    );
                }
                if partitions > 1 << 20 {
                    self.err(
                        "cluster.partitioning.partitions",
                        format!("expected at most 1048576, got {partitions}"),
                    );
                }
                PartitionStrategy::EqualPartitions {
                    partitions: partitions.max(1),
                }
            }
        };
        let read_repair_window = self.duration(
            "cluster.read_repair_window_ms",
            c.read_repair_window_ms,
            1e3,
        );
        let request_timeout =
            self.positive_duration("cluster.request_timeout_ms", c.request_timeout_ms, 1e3);
        let replica_timeout =
            self.positive_duration("cluster.replica_timeout_ms", c.replica_timeout_ms, 1e3);
        let retry_interval =
            self.positive_duration("cluster.retry_interval_ms", c.retry_interval_ms, 1e3);
        let hint_scan_interval = self.positive_duration(
            "cluster.hint_scan_interval_ms",
            c.hint_scan_interval_ms,
            1e3,
        );
        if c.hint_batch_max == 0 {
            self.err("cluster.hint_batch_max", "expected at least 1");
        }
        let tombstone_gc = c.tombstone_gc.as_ref().map(|g| TombstoneGc {
            grace: self.duration("cluster.tombstone_gc.grace_s", g.grace_s, 1e6),
            scan_interval: self.positive_duration(
                "cluster.tombstone_gc.scan_interval_s",
                g.scan_interval_s,
                1e6,
            ),
        });
        let storage = StorageConfig {
            read_latency: self.latency("cluster.storage.read_latency", &c.storage.read_latency),
            write_latency: self.latency("cluster.storage.write_latency", &c.storage.write_latency),
            buffered_writes: c.storage.buffered_writes.as_ref().map(|b| BufferedWrites {
                flush_interval: self.positive_duration(
                    "cluster.storage.buffered_writes.flush_interval_ms",
                    b.flush_interval_ms,
                    1e3,
                ),
            }),
        };
        let clocks = |scheme| Versioning::VectorClocks {
            truncation_threshold: c.vclock_truncation_threshold,
            scheme,
        };
        let capacity = c
            .capacity
            .as_ref()
            .map(|cap| self.capacity(cap, names, &storage));
        let versioning = match c.versioning {
            VersioningDto::VectorClocks => clocks(ClockScheme::ServerClocks),
            VersioningDto::DottedVersionVectors => clocks(ClockScheme::DottedVersionVectors),
            VersioningDto::VnodeClocks => clocks(ClockScheme::VnodeClocks),
            VersioningDto::LastWriteWins => Versioning::LastWriteWins,
        };
        let sibling_limits = self.sibling_limits(c.sibling_limits.as_ref());
        let nodes: Vec<NodeSpec> = names
            .nodes
            .iter()
            .map(|(name, id)| {
                (
                    id.0,
                    NodeSpec {
                        name: name.clone(),
                        datacenter: names.node_dc[id.0 as usize],
                    },
                )
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        let anti_entropy = c.anti_entropy.as_ref().map(|a| {
            if !(2..=64).contains(&a.fanout) {
                self.err(
                    "cluster.anti_entropy.fanout",
                    format!("expected 2..=64, got {}", a.fanout),
                );
            }
            if !(1..=4).contains(&a.depth) {
                self.err(
                    "cluster.anti_entropy.depth",
                    format!("expected 1..=4, got {}", a.depth),
                );
            } else if u64::from(a.fanout.clamp(2, 64)).pow(a.depth) > 65_536 {
                self.err(
                    "cluster.anti_entropy",
                    format!(
                        "fanout^depth = {}^{} exceeds 65536 leaves",
                        a.fanout, a.depth
                    ),
                );
            }
            AntiEntropy {
                interval: self.positive_duration(
                    "cluster.anti_entropy.interval_ms",
                    a.interval_ms,
                    1e3,
                ),
                fanout: a.fanout.clamp(2, 64),
                depth: a.depth.clamp(1, 4),
                partners: match a.partners {
                    None | Some(AePartnersDto::RoundRobin) => AePartners::RoundRobin,
                    Some(AePartnersDto::Random) => AePartners::Random,
                },
            }
        });
        let membership = c
            .membership
            .as_ref()
            .map(|m| self.membership(m, names, c.capacity.is_some()));
        Some(Cluster {
            anti_entropy,
            initial_nodes: names.initial,
            membership,
            nodes,
            quorum: Quorum {
                n: q.n,
                r: q.r,
                w: q.w,
                pr: q.pr,
                pw: q.pw,
                dw: q.dw,
                notfound_ok: q.notfound_ok,
                basic_quorum: q.basic_quorum,
                fail_fast: q.fail_fast,
                consistency: match q.consistency {
                    ConsistencyDto::Fixed => Consistency::Fixed,
                    ConsistencyDto::LocalQuorum => Consistency::LocalQuorum,
                    ConsistencyDto::EachQuorum => Consistency::EachQuorum,
                },
                fallbacks: match q.fallbacks {
                    FallbacksDto::Any => Fallbacks::Any,
                    FallbacksDto::SameDatacenter => Fallbacks::SameDatacenter,
                },
                return_body: q.return_body,
            },
            partitioning,
            versioning,
            quorum_mode: match c.quorum_mode {
                QuorumModeDto::Sloppy => QuorumMode::Sloppy,
                QuorumModeDto::Strict => QuorumMode::Strict,
            },
            hinted_handoff: c.hinted_handoff,
            hint_scan_interval,
            hint_batch_max: c.hint_batch_max.max(1),
            read_repair: c.read_repair.then_some(read_repair_window),
            request_timeout,
            replica_timeout,
            retry_interval,
            tombstone_gc,
            storage,
            write_coordinator: match c.write_coordinator {
                WriteCoordinatorDto::FirstHealthy => WriteCoordinator::FirstHealthy,
                WriteCoordinatorDto::FastestReadResponder => WriteCoordinator::FastestReadResponder,
            },
            coordinator_scope: match c.coordinator_scope {
                CoordinatorScopeDto::PreferenceList => CoordinatorScope::PreferenceList,
                CoordinatorScopeDto::AnyNode => CoordinatorScope::AnyNode,
                CoordinatorScopeDto::AnyNodeReadsAndWrites => {
                    CoordinatorScope::AnyNodeReadsAndWrites
                }
            },
            fallback_reads: match c.fallback_reads {
                FallbackReadsDto::IncludeHints => FallbackReads::IncludeHints,
                FallbackReadsDto::ExcludeHints => FallbackReads::ExcludeHints,
            },
            disk_loss_identity: match c.disk_loss_identity {
                DiskLossIdentityDto::NewActor => DiskLossIdentity::NewActor,
                DiskLossIdentityDto::SameActor => DiskLossIdentity::SameActor,
            },
            sibling_limits,
            checksums: c.checksums,
            capacity,
        })
    }

    /// `cluster.sibling_limits`: each limit at least 1, and a warning
    /// threshold that a refusal does not pre-empt.
    fn sibling_limits(&mut self, l: Option<&SiblingLimitsDto>) -> SiblingLimits {
        let Some(l) = l else {
            return SiblingLimits::default();
        };
        for (field, value) in [
            ("warn_above", l.warn_above),
            ("refuse_above", l.refuse_above),
        ] {
            if value == Some(0) {
                self.err(
                    format!("cluster.sibling_limits.{field}"),
                    "expected at least 1 (a key always holds at least one version)",
                );
            }
        }
        if let (Some(w), Some(r)) = (l.warn_above, l.refuse_above) {
            if w > r {
                self.err(
                    "cluster.sibling_limits.warn_above",
                    format!("{w} is above refuse_above ({r}): the warning could never fire"),
                );
            }
        }
        if l.warn_above.is_none() && l.refuse_above.is_none() {
            self.err(
                "cluster.sibling_limits",
                "expected warn_above, refuse_above or both",
            );
        }
        SiblingLimits {
            warn_above: l.warn_above,
            refuse_above: l.refuse_above,
        }
    }

    /// `cluster.capacity`: the default resources, per-node overrides and
    /// admission control.
    fn capacity(&mut self, c: &CapacityDto, names: &Names, storage: &StorageConfig) -> Capacity {
        let base = NodeCapacity {
            cpu: c.cpu.as_ref().map(|x| self.cpu("cluster.capacity.cpu", x)),
            disk: c
                .disk
                .as_ref()
                .map(|x| self.disk("cluster.capacity.disk", x, storage)),
            nic: c.nic.as_ref().map(|x| self.nic("cluster.capacity.nic", x)),
        };
        let mut nodes = vec![base; names.nodes.len()];
        let mut seen: BTreeMap<NodeId, usize> = BTreeMap::new();
        for (i, o) in c.overrides.iter().enumerate() {
            let path = format!("cluster.capacity.overrides[{i}]");
            if o.nodes.is_empty() {
                self.err(format!("{path}.nodes"), "expected at least one node name");
            }
            let cpu = o.cpu.as_ref().map(|x| self.cpu(&format!("{path}.cpu"), x));
            let disk = o
                .disk
                .as_ref()
                .map(|x| self.disk(&format!("{path}.disk"), x, storage));
            let nic = o.nic.as_ref().map(|x| self.nic(&format!("{path}.nic"), x));
            for (j, name) in o.nodes.iter().enumerate() {
                let id = self.node(names, &format!("{path}.nodes[{j}]"), name);
                if let Some(prev) = seen.insert(id, i) {
                    self.err(
                        format!("{path}.nodes[{j}]"),
                        format!(
                            "{name} is already overridden by cluster.capacity.overrides[{prev}]"
                        ),
                    );
                }
                let Some(n) = nodes.get_mut(id.0 as usize) else {
                    continue;
                };
                if cpu.is_some() {
                    n.cpu.clone_from(&cpu);
                }
                if disk.is_some() {
                    n.disk.clone_from(&disk);
                }
                if nic.is_some() {
                    n.nic.clone_from(&nic);
                }
            }
        }
        let admission = c.admission_control.as_ref().map(|a| {
            let path = "cluster.capacity.admission_control";
            if !(a.percentile > 0.0 && a.percentile < 1.0) {
                self.err(
                    format!("{path}.percentile"),
                    format!("expected a number in (0, 1), got {}", a.percentile),
                );
            }
            AdmissionControl {
                window: self.positive_duration(&format!("{path}.window_s"), a.window_s, 1e6),
                percentile_ppm: (a.percentile.clamp(0.0, 1.0) * 1e6).round() as u32,
                target: self.positive_duration(&format!("{path}.target_ms"), a.target_ms, 1e3),
            }
        });
        if admission.is_some() && !nodes.iter().any(|n| n.cpu.is_some() || n.disk.is_some()) {
            self.err(
                "cluster.capacity.admission_control",
                "admission control watches the latency of a CPU or disk queue; expected cluster.capacity.cpu or .disk",
            );
        }
        Capacity {
            nodes,
            admission,
            overridden: seen.into_keys().collect(),
        }
    }

    /// A gray failure of `resource` needs the node to have that resource.
    fn has_resource(
        &mut self,
        capacity: Option<&CapacityDto>,
        path: &str,
        node: &str,
        resource: Resource,
    ) {
        let (field, base) = match resource {
            Resource::Cpu => ("cpu", capacity.is_some_and(|c| c.cpu.is_some())),
            Resource::Disk => ("disk", capacity.is_some_and(|c| c.disk.is_some())),
            Resource::Nic => ("nic", capacity.is_some_and(|c| c.nic.is_some())),
        };
        let overridden = capacity.is_some_and(|c| {
            c.overrides.iter().any(|o| {
                o.nodes.iter().any(|n| n == node)
                    && match resource {
                        Resource::Cpu => o.cpu.is_some(),
                        Resource::Disk => o.disk.is_some(),
                        Resource::Nic => o.nic.is_some(),
                    }
            })
        });
        if !base && !overridden {
            self.err(
                format!("{path}.node"),
                format!("{node} has no {field} queue to slow down; expected cluster.capacity.{field} (or an override for {node})"),
            );
        }
    }

    fn overload(o: OverloadDto) -> OverloadPolicy {
        match o {
            OverloadDto::Reject => OverloadPolicy::Reject,
            OverloadDto::ShedOldest => OverloadPolicy::ShedOldest,
        }
    }

    /// A positive count of servers, bounded so a typo cannot allocate.
    fn servers(&mut self, path: &str, n: u32) -> u32 {
        if n == 0 || n > 1_000_000 {
            self.err(path, format!("expected 1..=1000000, got {n}"));
        }
        n.clamp(1, 1_000_000)
    }

    /// A service-time distribution: a latency whose mean is positive (a
    /// server that takes no time has infinite rate).
    fn service(&mut self, path: &str, l: &LatencyDto) -> Latency {
        let d = self.latency(path, l);
        if d.mean_us().is_some_and(|m| m <= 0.0) {
            self.err(
                path,
                "expected a service time with a positive mean (zero service means infinite rate; leave the resource out instead)",
            );
        }
        d
    }

    fn cpu(&mut self, path: &str, c: &CpuDto) -> CpuSpec {
        let workers = self.servers(&format!("{path}.workers"), c.workers);
        let default = self.service(&format!("{path}.service.default"), &c.service.default);
        let mut service = vec![default; MsgKind::ALL.len()];
        for (name, l) in &c.service.by_kind {
            let kpath = format!("{path}.service.by_kind.{name}");
            match MsgKind::from_name(name) {
                Some(k) => service[k.index()] = self.service(&kpath, l),
                None => {
                    let known: Vec<&str> = MsgKind::ALL.iter().map(|k| k.name()).collect();
                    self.err(
                        kpath,
                        format!("unknown message kind; expected one of {}", known.join(", ")),
                    );
                }
            }
        }
        let per_mb = self.duration(&format!("{path}.per_mb_ms"), c.per_mb_ms, 1e3);
        CpuSpec {
            workers,
            service,
            per_mb_us: per_mb.as_micros(),
            queue_limit: c.queue_limit,
            overload: Self::overload(c.overload),
        }
    }

    fn disk(&mut self, path: &str, d: &DiskDto, storage: &StorageConfig) -> DiskSpec {
        let concurrency = self.servers(&format!("{path}.concurrency"), d.concurrency);
        let read = match &d.read {
            Some(l) => self.service(&format!("{path}.read"), l),
            None => storage.read_latency.clone(),
        };
        let write = match &d.write {
            Some(l) => self.service(&format!("{path}.write"), l),
            None => storage.write_latency.clone(),
        };
        for (which, l) in [("read", &read), ("write", &write)] {
            if l.mean_us().is_some_and(|m| m <= 0.0) {
                self.err(
                    format!("{path}.{which}"),
                    format!("the disk's {which} service time (from cluster.storage.{which}_latency) has mean 0; give the disk a positive one"),
                );
            }
        }
        DiskSpec {
            concurrency,
            read,
            write,
            queue_limit: d.queue_limit,
            overload: Self::overload(d.overload),
        }
    }

    /// Megabytes per second → bytes per second, positive and finite.
    fn bandwidth(&mut self, path: &str, mb_per_s: f64) -> u64 {
        if !mb_per_s.is_finite() || mb_per_s <= 0.0 || mb_per_s > 1e9 {
            self.err(
                path,
                format!(
                    "expected a positive bandwidth in MB/s (at most 1e9), got {}",
                    num(mb_per_s)
                ),
            );
            return 1;
        }
        ((mb_per_s * 1e6).round() as u64).max(1)
    }

    fn nic(&mut self, path: &str, n: &NicDto) -> NicSpec {
        let both = n.bandwidth_mb_per_s;
        let side = |v: &mut Self, field: &str, x: Option<f64>| -> u64 {
            match x.or(both) {
                Some(mb) => {
                    let p = if x.is_some() {
                        format!("{path}.{field}")
                    } else {
                        format!("{path}.bandwidth_mb_per_s")
                    };
                    v.bandwidth(&p, mb)
                }
                None => {
                    v.err(
                        format!("{path}.{field}"),
                        "expected a bandwidth: set bandwidth_mb_per_s (both ways) or this field",
                    );
                    1
                }
            }
        };
        let egress = side(self, "egress_mb_per_s", n.egress_mb_per_s);
        let ingress = side(self, "ingress_mb_per_s", n.ingress_mb_per_s);
        let limit = n.queue_limit_mb;
        if !limit.is_finite() || limit <= 0.0 || limit > 1e6 {
            self.err(
                format!("{path}.queue_limit_mb"),
                format!(
                    "expected a positive number of megabytes (at most 1e6), got {}",
                    num(limit)
                ),
            );
        }
        NicSpec {
            egress_bytes_per_s: egress,
            ingress_bytes_per_s: ingress,
            queue_limit_bytes: (limit.clamp(0.0, 1e6) * 1e6) as u64,
        }
    }

    /// A size distribution in bytes (values of at most 1 GiB, positive).
    fn size(&mut self, path: &str, d: &SizeDto) -> Latency {
        const MAX: f64 = (1u64 << 30) as f64;
        let bytes = |v: &mut Self, field: &str, x: f64, zero_ok: bool| -> f64 {
            let ok = x.is_finite() && x <= MAX && (x > 0.0 || (zero_ok && x == 0.0));
            if !ok {
                v.err(
                    format!("{path}.{field}"),
                    format!(
                        "expected a {} number of bytes of at most 1 GiB, got {}",
                        if zero_ok { "non-negative" } else { "positive" },
                        num(x)
                    ),
                );
                return 1.0;
            }
            x
        };
        match d {
            SizeDto::Constant { bytes: b } => Latency::Constant {
                us: bytes(self, "constant.bytes", *b, false),
            },
            SizeDto::Uniform {
                min_bytes,
                max_bytes,
            } => {
                let lo = bytes(self, "uniform.min_bytes", *min_bytes, true);
                let hi = bytes(self, "uniform.max_bytes", *max_bytes, false);
                if hi < lo {
                    self.err(
                        format!("{path}.uniform.max_bytes"),
                        format!("{max_bytes} is below min_bytes = {min_bytes}"),
                    );
                }
                Latency::Uniform {
                    min_us: lo,
                    max_us: hi.max(lo),
                }
            }
            SizeDto::Exponential { mean_bytes } => Latency::Exponential {
                mean_us: bytes(self, "exponential.mean_bytes", *mean_bytes, false),
            },
            SizeDto::Lognormal {
                median_bytes,
                sigma,
            } => {
                if !sigma.is_finite() || *sigma < 0.0 || *sigma > 10.0 {
                    self.err(
                        format!("{path}.lognormal.sigma"),
                        format!("expected a number in [0, 10], got {sigma}"),
                    );
                }
                Latency::LogNormal {
                    median_us: bytes(self, "lognormal.median_bytes", *median_bytes, false),
                    sigma: sigma.clamp(0.0, 10.0),
                }
            }
            SizeDto::Pareto { scale_bytes, shape } => {
                if !shape.is_finite() || *shape <= 0.0 {
                    self.err(
                        format!("{path}.pareto.shape"),
                        format!("expected a positive number, got {shape}"),
                    );
                }
                Latency::Pareto {
                    scale_us: bytes(self, "pareto.scale_bytes", *scale_bytes, false),
                    shape: if *shape > 0.0 && shape.is_finite() {
                        *shape
                    } else {
                        1.0
                    },
                }
            }
        }
    }

    fn membership(&mut self, m: &MembershipDto, names: &Names, capacity: bool) -> MembershipConfig {
        let gossip_interval = self.positive_duration(
            "cluster.membership.gossip_interval_ms",
            m.gossip_interval_ms,
            1e3,
        );
        if let Some(list) = &m.seeds {
            if list.is_empty() {
                self.err("cluster.membership.seeds", "expected at least one seed");
            }
            let mut seen = BTreeSet::new();
            for (i, name) in list.iter().enumerate() {
                let path = format!("cluster.membership.seeds[{i}]");
                match names.nodes.get(name) {
                    None => self.err(path, format!("unknown node {name:?}")),
                    Some(id) if id.0 >= names.initial => {
                        let j = names.introduced_by.get(id).copied().unwrap_or_default();
                        self.err(
                            path,
                            format!("{name:?} joins later (faults[{j}]); expected an initial node"),
                        );
                    }
                    Some(_) => {
                        if !seen.insert(name) {
                            self.err(path, format!("duplicate seed {name:?}"));
                        }
                    }
                }
            }
        }
        let failure_detector = match &m.failure_detector {
            FailureDetectorDto::Local => FailureDetectorKind::Local,
            FailureDetectorDto::PhiAccrual {
                threshold,
                window,
                min_stddev_ms,
            } => {
                let path = "cluster.membership.failure_detector.phi_accrual";
                if !threshold.is_finite() || *threshold <= 0.0 {
                    self.err(
                        format!("{path}.threshold"),
                        format!("expected a positive finite number, got {threshold}"),
                    );
                }
                if !(2..=10_000).contains(window) {
                    self.err(
                        format!("{path}.window"),
                        format!("expected 2..=10000 samples, got {window}"),
                    );
                }
                FailureDetectorKind::PhiAccrual {
                    threshold: if threshold.is_finite() && *threshold > 0.0 {
                        *threshold
                    } else {
                        8.0
                    },
                    window: (*window).clamp(2, 10_000),
                    min_stddev: self.positive_duration(
                        &format!("{path}.min_stddev_ms"),
                        *min_stddev_ms,
                        1e3,
                    ),
                }
            }
        };
        if m.transfer_batch == 0 {
            self.err("cluster.membership.transfer_batch", "expected at least 1");
        }
        MembershipConfig {
            gossip_interval,
            seeds: seed_ids(names, m),
            failure_detector,
            transfer_batch: m.transfer_batch.max(1),
            reads_during_transfer: match (m.reads_during_transfer, capacity) {
                (Some(ReadsDuringTransferDto::Served), _) | (None, false) => {
                    ReadsDuringTransfer::Served
                }
                (Some(ReadsDuringTransferDto::Declined), _) | (None, true) => {
                    ReadsDuringTransfer::Declined
                }
            },
        }
    }

    fn link(&mut self, path: &str, base: &LinkSpec, l: &LinkDto) -> LinkSpec {
        let mut spec = base.clone();
        if let Some(lat) = &l.latency {
            spec.latency = self.latency(&format!("{path}.latency"), lat);
        }
        for (kind, lat) in &l.latency_by_kind {
            let p = format!("{path}.latency_by_kind.{kind}");
            match MsgKind::from_name(kind) {
                Some(k) => {
                    let lat = self.latency(&p, lat);
                    spec.latency_by_kind.insert(k, lat);
                }
                None => {
                    let kinds: Vec<&str> = MsgKind::ALL.iter().map(|k| k.name()).collect();
                    self.err(
                        p,
                        format!("unknown message kind {kind:?}; expected one of {kinds:?}"),
                    );
                }
            }
        }
        if let Some(p) = &l.loss {
            spec.loss = self.probability(&format!("{path}.loss"), p);
        }
        if let Some(p) = &l.duplicate {
            spec.duplicate = self.probability(&format!("{path}.duplicate"), p);
        }
        if let Some(fifo) = l.fifo {
            spec.fifo = fifo;
        }
        spec
    }

    fn network(&mut self, n: &NetworkDto, names: &Names) -> NetworkConfig {
        let base = LinkSpec {
            latency: Latency::Constant { us: 1000.0 },
            latency_by_kind: BTreeMap::new(),
            loss: Probability::NEVER,
            duplicate: Probability::NEVER,
            fifo: false,
        };
        let default = self.link("network", &base, &n.default);
        let mut datacenter_links = Vec::new();
        for (i, o) in n.datacenter_links.iter().enumerate() {
            let path = format!("network.datacenter_links[{i}]");
            if 1 + datacenter_links.len() >= MAX_LINKS {
                self.err(
                    "network.datacenter_links",
                    format!("expected at most {} entries", MAX_LINKS - 1),
                );
                break;
            }
            let mut ids = [DatacenterId(0); 2];
            for (j, name) in [&o.between.0, &o.between.1].into_iter().enumerate() {
                match names.datacenters.iter().position(|d| d == name) {
                    Some(x) => ids[j] = DatacenterId(x as u16),
                    None => self.err(
                        format!("{path}.between[{j}]"),
                        format!("unknown datacenter {name:?}"),
                    ),
                }
            }
            let spec = self.link(&path, &default, &o.link);
            datacenter_links.push((ids[0], ids[1], spec));
        }
        let mut endpoint_links = Vec::new();
        for (i, o) in n.links.iter().enumerate() {
            let path = format!("network.links[{i}]");
            let a = self.endpoints(
                names,
                &format!("{path}.between"),
                std::slice::from_ref(&o.between.0),
            );
            let b = self.endpoints(
                names,
                &format!("{path}.between"),
                std::slice::from_ref(&o.between.1),
            );
            let spec = self.link(&path, &default, &o.link);
            // The network indexes links with 16 bits: the default, the
            // datacenter links and every endpoint pair must fit.
            let pairs = a.len() * b.len();
            let used = 1 + datacenter_links.len() + endpoint_links.len();
            if used + pairs > MAX_LINKS {
                self.err(
                    format!("{path}.between"),
                    format!(
                        "expands to {pairs} endpoint pairs (a datacenter stands for all its nodes and clients), {} with the links before it; expected at most {MAX_LINKS} links in all",
                        used + pairs
                    ),
                );
                break;
            }
            for x in &a {
                for y in &b {
                    endpoint_links.push((*x, *y, spec.clone()));
                }
            }
        }
        NetworkConfig {
            default,
            datacenter_links,
            endpoint_links,
        }
    }

    fn workload(&mut self, w: &WorkloadDto, names: &Names) -> Workload {
        if names.clients.is_empty() {
            self.err("workload.clients", "expected at least one client");
        }
        let routing = match w.routing {
            RoutingDto::LoadBalancer => Routing::LoadBalancer,
            RoutingDto::PartitionAware | RoutingDto::ClientDriven => Routing::PartitionAware {
                client_driven: w.routing == RoutingDto::ClientDriven,
                refresh_interval: self.positive_duration(
                    "workload.membership_refresh_s",
                    w.membership_refresh_s,
                    1e6,
                ),
            },
        };
        let arrival = match &w.arrival {
            ArrivalDto::OpenLoop { rate_per_s } => {
                if !rate_per_s.is_finite() || *rate_per_s <= 0.0 || *rate_per_s > 1e6 {
                    self.err(
                        "workload.arrival.open_loop.rate_per_s",
                        format!("expected a rate in (0, 1000000], got {rate_per_s}"),
                    );
                }
                let mean = if *rate_per_s > 0.0 {
                    (1e6 / rate_per_s).round().max(1.0) as u64
                } else {
                    1
                };
                Arrival::OpenLoop {
                    mean_interarrival: SimDuration(mean),
                }
            }
            ArrivalDto::ClosedLoop { think_time } => Arrival::ClosedLoop {
                think_time: self.latency("workload.arrival.closed_loop.think_time", think_time),
            },
            ArrivalDto::Probe(p) => Arrival::Probe(self.probe(p)),
        };
        let probing = matches!(w.arrival, ArrivalDto::Probe(_));
        if probing && !w.mix.is_empty() {
            self.err(
                "workload.mix",
                "expected no mix with a probe arrival (a probe writes once and then reads by itself)",
            );
        }
        if w.keys.count == 0 || w.keys.count > 100_000_000 {
            self.err(
                "workload.keys.count",
                format!("expected 1..=100000000 keys, got {}", w.keys.count),
            );
        } else if w.keys.preload && w.keys.count > MAX_PRELOAD_KEYS {
            self.err(
                "workload.keys.preload",
                format!(
                    "expected at most {MAX_PRELOAD_KEYS} keys with a load phase (it stores every key N times before the run), got {}",
                    w.keys.count
                ),
            );
        }
        let popularity = match &w.keys.popularity {
            PopularityDto::Uniform => Popularity::Uniform,
            PopularityDto::Zipfian(s) => {
                if !s.is_finite() || *s < 0.0 || *s > 10.0 {
                    self.err(
                        "workload.keys.popularity.zipfian",
                        format!("expected an exponent in [0, 10], got {s}"),
                    );
                }
                Popularity::Zipfian {
                    s: s.clamp(0.0, 10.0),
                }
            }
            PopularityDto::Hotspot {
                hot_keys,
                hot_traffic,
            } => Popularity::Hotspot {
                hot_keys: self.probability(
                    "workload.keys.popularity.hotspot.hot_keys",
                    &ProbabilityDto::Number(*hot_keys),
                ),
                hot_traffic: self.probability(
                    "workload.keys.popularity.hotspot.hot_traffic",
                    &ProbabilityDto::Number(*hot_traffic),
                ),
            },
        };
        let m = &w.mix;
        let parts = [
            ("read", m.read),
            ("read_modify_write", m.read_modify_write),
            ("blind_write", m.blind_write),
            ("delete", m.delete),
        ];
        for (name, x) in parts {
            if !x.is_finite() || x < 0.0 {
                self.err(
                    format!("workload.mix.{name}"),
                    format!("expected a non-negative weight, got {}", num(x)),
                );
            }
        }
        let total: f64 = parts
            .iter()
            .map(|(_, x)| x.max(0.0))
            .filter(|x| x.is_finite())
            .sum();
        if total <= 0.0 && !probing {
            self.err("workload.mix", "expected at least one positive weight");
        }
        let scale = |x: f64| {
            if total > 0.0 && x.is_finite() {
                (x.max(0.0) / total * 1e9).round() as u32
            } else {
                0
            }
        };
        let mix = Mix {
            read: scale(m.read),
            read_modify_write: scale(m.read_modify_write),
            blind_write: scale(m.blind_write),
            delete: scale(m.delete),
        };
        let clients = names
            .clients
            .iter()
            .map(|(name, id)| {
                (
                    id.0,
                    ClientSpec {
                        name: name.clone(),
                        datacenter: names.client_dc[id.0 as usize],
                    },
                )
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        Workload {
            clients,
            routing,
            arrival,
            key_count: w.keys.count.max(1),
            preload: w.keys.preload,
            value_size: w
                .value_size
                .as_ref()
                .map(|d| self.size("workload.value_size", d)),
            popularity,
            mix,
            reconcile: match w.reconcile {
                ReconcileDto::Union => Reconcile::Union,
                ReconcileDto::LastWriterWins => Reconcile::LastWriterWins,
            },
            client_timeout: self.positive_duration(
                "workload.client_timeout_ms",
                w.client_timeout_ms,
                1e3,
            ),
            max_ops: w.max_ops,
            retries: w.retries.as_ref().map(|r| self.retries(r)),
            hedged_reads: w.hedged_reads.as_ref().and_then(|h| self.hedge(h)),
        }
    }

    /// `workload.retries`.
    fn retries(&mut self, r: &RetriesDto) -> Retries {
        const PATH: &str = "workload.retries";
        if !(2..=10).contains(&r.attempts) {
            self.err(
                format!("{PATH}.attempts"),
                format!(
                    "expected 2..=10 tries (the first included), got {}",
                    r.attempts
                ),
            );
        }
        let backoff = self.duration(&format!("{PATH}.backoff_ms"), r.backoff_ms, 1e3);
        let max_backoff =
            self.positive_duration(&format!("{PATH}.max_backoff_ms"), r.max_backoff_ms, 1e3);
        if !r.budget.is_finite() || !(0.0..=100.0).contains(&r.budget) {
            self.err(
                format!("{PATH}.budget"),
                format!(
                    "expected retries per operation between 0 and 100, got {}",
                    num(r.budget)
                ),
            );
        }
        Retries {
            attempts: r.attempts.clamp(2, 10),
            backoff,
            max_backoff,
            budget_ppm: if r.budget.is_finite() {
                (r.budget.clamp(0.0, 100.0) * 1e6) as u64
            } else {
                0
            },
        }
    }

    /// `workload.hedged_reads`: exactly one of a delay and a percentile.
    fn hedge(&mut self, h: &HedgedReadsDto) -> Option<Hedge> {
        const PATH: &str = "workload.hedged_reads";
        match (h.after_ms, h.after_percentile) {
            (Some(ms), None) => self
                .checked_duration(&format!("{PATH}.after_ms"), ms, 1e3)
                .map(Hedge::After),
            (None, Some(p)) => {
                if !p.is_finite() || p <= 0.0 || p >= 100.0 {
                    self.err(
                        format!("{PATH}.after_percentile"),
                        format!(
                            "expected a percentile strictly between 0 and 100, got {}",
                            num(p)
                        ),
                    );
                    return None;
                }
                Some(Hedge::Percentile((p * 1e4).round() as u32))
            }
            _ => {
                self.err(
                    PATH,
                    "expected exactly one of after_ms (a delay) and after_percentile (of the client's get latencies)",
                );
                None
            }
        }
    }

    /// `workload.arrival.probe` (the checks that need the cluster are in
    /// [`Validator::probe_coordinator`]).
    fn probe(&mut self, p: &ProbeDto) -> Probe {
        const PATH: &str = "workload.arrival.probe";
        if p.t_grid_ms.is_empty() {
            self.err(
                format!("{PATH}.t_grid_ms"),
                "expected at least one t (a probe with no reads measures nothing)",
            );
        }
        if p.t_grid_ms.len() > MAX_PROBE_GRID {
            self.err(
                format!("{PATH}.t_grid_ms"),
                format!(
                    "expected at most {MAX_PROBE_GRID} points, got {}",
                    p.t_grid_ms.len()
                ),
            );
        }
        let mut t_grid = Vec::with_capacity(p.t_grid_ms.len().min(MAX_PROBE_GRID));
        let mut prev: Option<f64> = None;
        for (i, t) in p.t_grid_ms.iter().enumerate().take(MAX_PROBE_GRID) {
            let path = format!("{PATH}.t_grid_ms[{i}]");
            if !t.is_finite() || *t < 0.0 || prev.is_some_and(|p| *t <= p) {
                self.err(
                    &path,
                    format!("expected strictly increasing non-negative values, got {t}"),
                );
            } else {
                t_grid.push(self.duration(&path, *t, 1e3));
            }
            prev = Some(*t);
        }
        if t_grid.windows(2).any(|w| w[0] >= w[1]) {
            self.err(
                format!("{PATH}.t_grid_ms"),
                "expected points at least 1 µs apart (times are whole microseconds)",
            );
        }
        if p.reads_per_t == 0 || p.reads_per_t > MAX_PROBE_READS {
            self.err(
                format!("{PATH}.reads_per_t"),
                format!(
                    "expected 1..={MAX_PROBE_READS} reads at each t (a probe with no reads measures nothing), got {}",
                    p.reads_per_t
                ),
            );
        }
        let reads = p.t_grid_ms.len() as u64 * u64::from(p.reads_per_t);
        if reads > u64::from(MAX_PROBE_READS) {
            self.err(
                PATH,
                format!("expected at most {MAX_PROBE_READS} reads per probe (t_grid_ms × reads_per_t), got {reads}"),
            );
        }
        if p.concurrent == 0 || p.concurrent > MAX_PROBE_CONCURRENT {
            self.err(
                format!("{PATH}.concurrent"),
                format!(
                    "expected 1..={MAX_PROBE_CONCURRENT} probes at once per client, got {}",
                    p.concurrent
                ),
            );
        }
        Probe {
            t_grid,
            reads_per_t: p.reads_per_t.max(1),
            concurrent: p.concurrent.max(1),
            interval: self.duration(&format!("{PATH}.interval_ms"), p.interval_ms, 1e3),
            key: match p.key {
                ProbeKeyDto::Fresh => ProbeKey::Fresh,
                ProbeKeyDto::Sampled => ProbeKey::Sampled,
            },
            coordinator: match p.coordinator {
                ProbeCoordinatorDto::Routing => ProbeCoordinator::Routing,
                ProbeCoordinatorDto::NonReplica => ProbeCoordinator::NonReplica,
            },
        }
    }

    /// A probe's non-replica coordinator needs a node outside every key's
    /// top N and the right to coordinate what reaches it.
    fn probe_coordinator(&mut self, f: &ScenarioFile, names: &Names) {
        let ArrivalDto::Probe(p) = &f.workload.arrival else {
            return;
        };
        if p.coordinator != ProbeCoordinatorDto::NonReplica {
            return;
        }
        let path = "workload.arrival.probe.coordinator";
        if names.initial <= f.cluster.quorum.n {
            self.err(
                path,
                format!(
                    "a non-replica coordinator needs more nodes than N = {}, got {}",
                    f.cluster.quorum.n, names.initial
                ),
            );
        }
        let writes_anywhere = match f.cluster.coordinator_scope {
            CoordinatorScopeDto::PreferenceList => false,
            CoordinatorScopeDto::AnyNode => f.cluster.versioning == VersioningDto::LastWriteWins,
            CoordinatorScopeDto::AnyNodeReadsAndWrites => true,
        };
        if !writes_anywhere {
            self.err(
                path,
                "a non-replica node forwards writes to a replica unless cluster.coordinator_scope is \"any_node_reads_and_writes\" (or \"any_node\" under last_write_wins)",
            );
        }
    }

    /// Checks that node `name`, named by the fault at `pos`, is a member
    /// then: not before it joins, not after it leaves.
    fn present(&mut self, names: &Names, plan: &Plan, path: &str, name: &str, pos: Option<Pos>) {
        let (Some(pos), Some(id)) = (pos, names.nodes.get(name)) else {
            return;
        };
        if let Some(&(t, j)) = plan.joins.get(id).filter(|p| pos < **p) {
            self.err(path, before_join(name, (t, j), pos));
        }
        if let Some(&((t, j), how)) = plan.leaves.get(id).filter(|(p, _)| pos > *p) {
            self.err(
                path,
                format!(
                    "{name} leaves at {} s (faults[{j}], {how}); expected a time before it",
                    secs(t)
                ),
            );
        }
    }

    fn present_all(
        &mut self,
        names: &Names,
        plan: &Plan,
        path: &str,
        list: &[String],
        pos: Option<Pos>,
    ) {
        for (k, name) in list.iter().enumerate() {
            self.present(names, plan, &format!("{path}[{k}]"), name, pos);
        }
    }

    fn faults(
        &mut self,
        faults: &[FaultDto],
        names: &Names,
        plan: &Plan,
        membership: bool,
        end: SimTime,
        capacity: Option<&CapacityDto>,
    ) -> Vec<ScheduledFault> {
        let mut out = Vec::new();
        let heal_targets = heal_all_targets(
            &faults
                .iter()
                .map(|f| {
                    let kind = if f.action_count() != 1 {
                        EntryKind::Other
                    } else if f.partition.is_some()
                        || f.isolate.is_some()
                        || f.partition_one_way.is_some()
                    {
                        EntryKind::Partition
                    } else if f.heal_all == Some(true) {
                        EntryKind::HealAll
                    } else {
                        EntryKind::Other
                    };
                    (lenient_time(f.at_s), kind)
                })
                .collect::<Vec<_>>(),
        );
        for (i, f) in faults.iter().enumerate() {
            let path = format!("faults[{i}]");
            let pos = lenient_time(f.at_s).map(|t| (t, i));
            let at = SimTime::ZERO + self.duration(&format!("{path}.at_s"), f.at_s, 1e6);
            if at >= end {
                self.err(
                    format!("{path}.at_s"),
                    format!(
                        "{} s is not before the end of the run ({} s)",
                        f.at_s,
                        end.as_micros() as f64 / 1e6
                    ),
                );
            }
            let until = f
                .for_s
                .map(|d| at + self.positive_duration(&format!("{path}.for_s"), d, 1e6));
            let id = FaultId(i as u32 + 1);
            let mut actions: Vec<(FaultAction, Option<FaultAction>)> = Vec::new();
            if let Some(c) = &f.crash {
                let node = self.node(names, &format!("{path}.crash.node"), &c.node);
                self.present(names, plan, &format!("{path}.crash.node"), &c.node, pos);
                actions.push((
                    FaultAction::Crash {
                        node,
                        disk_loss: c.disk_loss,
                    },
                    Some(FaultAction::Restart { node }),
                ));
            }
            if let Some(r) = &f.restart {
                let node = self.node(names, &format!("{path}.restart.node"), &r.node);
                self.present(names, plan, &format!("{path}.restart.node"), &r.node, pos);
                actions.push((FaultAction::Restart { node }, None));
            }
            if let Some(p) = &f.partition {
                if p.groups.len() < 2 {
                    self.err(
                        format!("{path}.partition.groups"),
                        "expected at least two groups",
                    );
                }
                let groups: Vec<Vec<Endpoint>> = p
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(g, names_)| {
                        let p = format!("{path}.partition.groups[{g}]");
                        self.present_all(names, plan, &p, names_, pos);
                        self.endpoints(names, &p, names_)
                    })
                    .collect();
                let mut seen = BTreeSet::new();
                for (g, group) in groups.iter().enumerate() {
                    for e in group {
                        if !seen.insert(*e) {
                            self.err(
                                format!("{path}.partition.groups[{g}]"),
                                format!(
                                    "an endpoint appears in two groups ({})",
                                    endpoint_label(names, *e)
                                ),
                            );
                        }
                    }
                }
                actions.push((
                    FaultAction::Partition { id, groups },
                    Some(FaultAction::Heal { id }),
                ));
            }
            if let Some(n) = &f.isolate {
                let node = self.node(names, &format!("{path}.isolate.node"), &n.node);
                self.present(names, plan, &format!("{path}.isolate.node"), &n.node, pos);
                let rest: Vec<Endpoint> = (0..names.nodes.len() as u32)
                    .map(NodeId)
                    .filter(|x| *x != node)
                    .map(Endpoint::Node)
                    .chain((0..names.clients.len() as u32).map(|c| Endpoint::Client(ClientId(c))))
                    .collect();
                actions.push((
                    FaultAction::Partition {
                        id,
                        groups: vec![vec![Endpoint::Node(node)], rest],
                    },
                    Some(FaultAction::Heal { id }),
                ));
            }
            if let Some(o) = &f.partition_one_way {
                for (end, list) in [("from", &o.from), ("to", &o.to)] {
                    let p = format!("{path}.partition_one_way.{end}");
                    self.present_all(names, plan, &p, list, pos);
                }
                let from =
                    self.endpoints(names, &format!("{path}.partition_one_way.from"), &o.from);
                let to = self.endpoints(names, &format!("{path}.partition_one_way.to"), &o.to);
                actions.push((
                    FaultAction::PartitionOneWay { id, from, to },
                    Some(FaultAction::Heal { id }),
                ));
            }
            if f.heal_all == Some(true) {
                for &j in heal_targets.get(&i).into_iter().flatten() {
                    actions.push((
                        FaultAction::Heal {
                            id: FaultId(j as u32 + 1),
                        },
                        None,
                    ));
                }
                if actions.is_empty() {
                    actions.push((FaultAction::Heal { id: FaultId(0) }, None));
                }
            }
            if let Some(d) = &f.degrade_links {
                for (end, list) in [("from", &d.from), ("to", &d.to)] {
                    let p = format!("{path}.degrade_links.{end}");
                    self.present_all(names, plan, &p, list, pos);
                }
                let from = self.endpoints(names, &format!("{path}.degrade_links.from"), &d.from);
                let to = self.endpoints(names, &format!("{path}.degrade_links.to"), &d.to);
                let extra_loss =
                    self.probability(&format!("{path}.degrade_links.extra_loss"), &d.extra_loss);
                let extra_latency = match &d.extra_latency {
                    Some(l) => self.latency(&format!("{path}.degrade_links.extra_latency"), l),
                    None => Latency::ZERO,
                };
                actions.push((
                    FaultAction::DegradeLinks {
                        id,
                        from,
                        to,
                        both_ways: d.both_ways,
                        extra_loss,
                        extra_latency,
                    },
                    Some(FaultAction::RestoreLinks { id }),
                ));
            }
            if let Some(s) = &f.slow_node {
                let node = self.node(names, &format!("{path}.slow_node.node"), &s.node);
                self.present(names, plan, &format!("{path}.slow_node.node"), &s.node, pos);
                let extra =
                    self.latency(&format!("{path}.slow_node.extra_latency"), &s.extra_latency);
                actions.push((
                    FaultAction::SlowNode { node, extra },
                    Some(FaultAction::RestoreNode { node }),
                ));
            }
            if let Some(s) = &f.clock_skew {
                let node = self.node(names, &format!("{path}.clock_skew.node"), &s.node);
                self.present(
                    names,
                    plan,
                    &format!("{path}.clock_skew.node"),
                    &s.node,
                    pos,
                );
                if !s.offset_ms.is_finite() || s.offset_ms.abs() > 1e9 {
                    self.err(
                        format!("{path}.clock_skew.offset_ms"),
                        format!(
                            "expected a finite offset within ±1e9 ms, got {}",
                            s.offset_ms
                        ),
                    );
                }
                if s.drift_ppm.unsigned_abs() > 1_000_000 {
                    self.err(
                        format!("{path}.clock_skew.drift_ppm"),
                        format!("expected a drift within ±1000000 ppm, got {}", s.drift_ppm),
                    );
                }
                let offset_us = if s.offset_ms.is_finite() {
                    (s.offset_ms * 1000.0).round() as i64
                } else {
                    0
                };
                actions.push((
                    FaultAction::ClockSkew {
                        node,
                        offset_us,
                        drift_ppm: s.drift_ppm,
                    },
                    Some(FaultAction::ClockSkew {
                        node,
                        offset_us: 0,
                        drift_ppm: 0,
                    }),
                ));
            }
            let verbs = [
                ("join", f.join.is_some()),
                ("decommission", f.decommission.is_some()),
                ("replace", f.replace.is_some()),
            ];
            for (verb, _) in verbs.iter().filter(|(_, set)| *set) {
                if !membership {
                    self.err(
                        format!("{path}.{verb}"),
                        "expected `cluster.membership` to be set (membership changes spread by gossip)",
                    );
                }
            }
            // A name that could not be introduced was reported by `names`.
            let introduced = |name: &str| names.nodes.get(name).copied().unwrap_or(NodeId(0));
            if let Some(j) = &f.join {
                let node = introduced(&j.node);
                actions.push((FaultAction::Join { node }, None));
            }
            if let Some(d) = &f.decommission {
                let node = self.node(names, &format!("{path}.decommission.node"), &d.node);
                actions.push((FaultAction::Decommission { node }, None));
            }
            if let Some(r) = &f.replace {
                let node = self.node(names, &format!("{path}.replace.node"), &r.node);
                let with = introduced(&r.with);
                actions.push((FaultAction::Replace { node, with }, None));
            }
            if let Some(c) = &f.corrupt {
                let p = format!("{path}.corrupt");
                let node = self.node(names, &format!("{p}.node"), &c.node);
                self.present(names, plan, &format!("{p}.node"), &c.node, pos);
                let fraction = self.probability(&format!("{p}.fraction"), &c.fraction);
                if let Some((first, last)) = c.keys {
                    if first > last {
                        self.err(
                            format!("{p}.keys"),
                            format!(
                                "expected [first, last] with first <= last, got [{first}, {last}]"
                            ),
                        );
                    }
                }
                actions.push((
                    FaultAction::Corrupt {
                        node,
                        fraction,
                        keys: c.keys.map(|(a, b)| (Key(a), Key(b))),
                    },
                    None,
                ));
            }
            let gray = [
                ("cpu_slowdown", &f.cpu_slowdown, Resource::Cpu),
                ("disk_slowdown", &f.disk_slowdown, Resource::Disk),
                ("bandwidth_drop", &f.bandwidth_drop, Resource::Nic),
            ];
            for (field, dto, resource) in gray {
                let Some(g) = dto else { continue };
                let fpath = format!("{path}.{field}");
                let node = self.node(names, &format!("{fpath}.node"), &g.node);
                self.present(names, plan, &format!("{fpath}.node"), &g.node, pos);
                self.has_resource(capacity, &fpath, &g.node, resource);
                if !g.factor.is_finite() || !(1.0..=1e6).contains(&g.factor) {
                    self.err(
                        format!("{fpath}.factor"),
                        format!(
                            "expected how many times slower, a number in [1, 1e6], got {}",
                            num(g.factor)
                        ),
                    );
                }
                actions.push((
                    FaultAction::SlowResource {
                        node,
                        resource,
                        factor_permille: (g.factor.clamp(1.0, 1e6) * 1000.0).round() as u64,
                    },
                    Some(FaultAction::RestoreResource { node, resource }),
                ));
            }
            if let Some(d) = &f.disk_stall {
                let fpath = format!("{path}.disk_stall");
                let node = self.node(names, &format!("{fpath}.node"), &d.node);
                self.present(names, plan, &format!("{fpath}.node"), &d.node, pos);
                self.has_resource(capacity, &fpath, &d.node, Resource::Disk);
                if f.for_s.is_none() {
                    self.err(
                        format!("{path}.for_s"),
                        "a disk stall needs a window: set for_s",
                    );
                }
                actions.push((
                    FaultAction::StallDisk { node },
                    Some(FaultAction::ResumeDisk { node }),
                ));
            }
            for (_, p, msg) in plan.problems.iter().filter(|(j, _, _)| *j == i) {
                self.err(p, msg);
            }
            let set = f.action_count();
            if set != 1 {
                self.err(
                    &path,
                    format!(
                        "expected exactly one action (crash, restart, partition, isolate, partition_one_way, heal_all, degrade_links, slow_node, clock_skew, join, decommission, replace, corrupt, cpu_slowdown, disk_slowdown, disk_stall, bandwidth_drop), got {set}"
                    ),
                );
                continue;
            }
            let mut windowless = false;
            for (action, undo) in actions {
                out.push(ScheduledFault { at, action });
                match (until, undo) {
                    (Some(t), Some(undo)) => out.push(ScheduledFault {
                        at: t,
                        action: undo,
                    }),
                    (Some(_), None) => windowless = true,
                    _ => {}
                }
            }
            if windowless {
                self.err(
                    format!("{path}.for_s"),
                    "this action has no window (it cannot be undone)",
                );
            }
        }
        out.sort_by_key(|f| f.at);
        out
    }

    fn nemesis(&mut self, n: &NemesisDto, names: &Names, duration: SimDuration) -> Nemesis {
        let start = SimTime::ZERO + self.duration("nemesis.start_s", n.start_s, 1e6);
        let end = match n.end_s {
            Some(e) => SimTime::ZERO + self.duration("nemesis.end_s", e, 1e6),
            None => SimTime::ZERO + duration,
        };
        if end < start {
            self.err("nemesis.end_s", "expected end_s >= start_s");
        }
        let crashes = n.crashes.as_ref().map(|c| NemesisCrashes {
            mtbf: self.positive_duration("nemesis.crashes.mtbf_s", c.mtbf_s, 1e6),
            downtime: self.latency("nemesis.crashes.downtime", &c.downtime),
            disk_loss: self.probability("nemesis.crashes.disk_loss", &c.disk_loss),
            nodes: c
                .nodes
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let path = format!("nemesis.crashes.nodes[{i}]");
                    let id = self.node(names, &path, name);
                    if let Some(j) = names.introduced_by.get(&id) {
                        self.err(
                            path,
                            format!("{name:?} joins later (faults[{j}]); expected an initial node"),
                        );
                    }
                    id
                })
                .collect(),
        });
        let partitions = n.partitions.as_ref().map(|p| NemesisPartitions {
            mean_interval: self.positive_duration(
                "nemesis.partitions.mean_interval_s",
                p.mean_interval_s,
                1e6,
            ),
            duration: self.latency("nemesis.partitions.duration", &p.duration),
            shape: match p.shape {
                PartitionShapeDto::RandomHalves => PartitionShape::RandomHalves,
                PartitionShapeDto::IsolateOne => PartitionShape::IsolateOne,
            },
        });
        let loss = n.loss.as_ref().map(|l| NemesisLoss {
            mean_interval: self.positive_duration(
                "nemesis.loss.mean_interval_s",
                l.mean_interval_s,
                1e6,
            ),
            duration: self.latency("nemesis.loss.duration", &l.duration),
            extra_loss: self.probability("nemesis.loss.extra_loss", &l.extra_loss),
        });
        Nemesis {
            start,
            end,
            crashes,
            partitions,
            loss,
        }
    }

    fn metrics(&mut self, m: &MetricsDto) -> MetricsConfig {
        let grid = m.t_visibility_grid_ms.as_ref().map(|g| {
            if g.is_empty() {
                self.err(
                    "metrics.t_visibility_grid_ms",
                    "expected at least one point",
                );
            }
            if g.len() > MAX_GRID_POINTS {
                self.err(
                    "metrics.t_visibility_grid_ms",
                    format!("expected at most {MAX_GRID_POINTS} points, got {}", g.len()),
                );
                return Vec::new();
            }
            let mut prev = -1.0;
            let mut out = Vec::new();
            for (i, x) in g.iter().enumerate() {
                if !x.is_finite() || *x < 0.0 || *x <= prev {
                    self.err(
                        format!("metrics.t_visibility_grid_ms[{i}]"),
                        format!("expected increasing non-negative values, got {}", num(*x)),
                    );
                }
                prev = *x;
                out.push((x.max(0.0) * 1000.0).round() as u64);
            }
            out
        });
        if m.sibling_threshold == 0 {
            self.err(
                "metrics.sibling_threshold",
                "expected at least 1 (every read that finds the key returns one version)",
            );
        }
        MetricsConfig {
            t_visibility_grid_us: grid,
            staleness_origin: match m.staleness_origin {
                None | Some(StalenessOriginDto::Commit) => StalenessOrigin::Commit,
                Some(StalenessOriginDto::ClientAck) => StalenessOrigin::ClientAck,
            },
            wars_trials: m.wars_trials.inspect(|n| {
                if !(1..=MAX_WARS_TRIALS).contains(n) {
                    self.err(
                        "metrics.wars_trials",
                        format!("expected 1..={MAX_WARS_TRIALS} trials, got {n}"),
                    );
                }
            }),
            window: self.positive_duration("metrics.window_s", m.window_s, 1e6),
            sibling_threshold: m.sibling_threshold.max(1),
            retention_window: m
                .retention_window_s
                .map(|w| self.positive_duration("metrics.retention_window_s", w, 1e6)),
        }
    }
}

/// What a fault entry is, as far as `heal_all` is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    /// `partition`, `isolate` or `partition_one_way`: a cut `heal_all` ends.
    Partition,
    /// `heal_all`.
    HealAll,
    /// Anything else (`heal_all` leaves it alone).
    Other,
}

/// For each `heal_all` entry, the partition entries whose end it is.
///
/// A `heal_all` ends every partition listed before it. Faults apply by
/// (time, position in the file), and a partition can be ended once, so of
/// all the `heal_all` entries listed after a partition only the first due
/// at or after its start does anything; a `Heal` from any other would find
/// the cut already gone (or not yet made) and change nothing. Emitting only
/// that one keeps the schedule linear in the file: 10,000 `heal_all`
/// entries used to emit 50 million `Heal`s. Entries with a bad time
/// (`None`, reported elsewhere) are skipped. O(n log n).
fn heal_all_targets(entries: &[(Option<SimTime>, EntryKind)]) -> BTreeMap<usize, Vec<usize>> {
    let mut later_heals: BTreeSet<(SimTime, usize)> = BTreeSet::new();
    let mut targets: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (j, (at, kind)) in entries.iter().enumerate().rev() {
        let Some(at) = *at else { continue };
        match kind {
            EntryKind::HealAll => {
                later_heals.insert((at, j));
            }
            EntryKind::Partition => {
                if let Some(&(_, k)) = later_heals.range((at, 0)..).next() {
                    targets.entry(k).or_default().push(j);
                }
            }
            EntryKind::Other => {}
        }
    }
    for list in targets.values_mut() {
        list.reverse(); // ascending, as the entries are listed
    }
    targets
}

/// A number as a message shows it: plain when it is of everyday size,
/// scientific otherwise (so `1e300` does not print three hundred digits).
fn num(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-6..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// The message for a fault that names a node before it joins.
fn before_join(name: &str, join: Pos, pos: Pos) -> String {
    let (t, j) = join;
    if t == pos.0 {
        format!(
            "{name} joins at {} s (faults[{j}]), listed after this fault; faults at the same time apply in file order, so list this one after the join",
            secs(t)
        )
    } else {
        format!(
            "{name} joins at {} s (faults[{j}]); expected a time at or after it",
            secs(t)
        )
    }
}

fn endpoint_label(names: &Names, e: Endpoint) -> String {
    match e {
        Endpoint::Node(n) => names
            .nodes
            .iter()
            .find(|(_, id)| **id == n)
            .map(|(s, _)| s.clone())
            .unwrap_or_default(),
        Endpoint::Client(c) => names
            .clients
            .iter()
            .find(|(_, id)| **id == c)
            .map(|(s, _)| s.clone())
            .unwrap_or_default(),
    }
}

fn probability_text(p: &ProbabilityDto) -> String {
    match p {
        ProbabilityDto::Number(x) => x.to_string(),
        ProbabilityDto::Ratio(s) => format!("{s:?}"),
    }
}

/// The default t-visibility grid: 0, then 1-2-5 steps from 1 µs to 10 s.
pub fn default_t_grid_us() -> Vec<u64> {
    let mut grid = vec![0];
    let mut decade = 1u64;
    while decade <= 1_000_000 {
        for m in [1, 2, 5] {
            grid.push(decade * m);
        }
        decade *= 10;
    }
    grid.push(10_000_000);
    grid
}

/// Parses `latency_ms,cumulative_probability` lines (a header line and `#`
/// comments are skipped).
pub fn parse_cdf_csv(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed = match cols.as_slice() {
            [a, b] => a.parse::<f64>().ok().zip(b.parse::<f64>().ok()),
            _ => None,
        };
        match parsed {
            Some(p) => out.push(p),
            None if out.is_empty() && i == 0 => continue, // header
            None => {
                return Err(format!(
                    "line {}: expected `latency_ms,cumulative_probability`",
                    i + 1
                ))
            }
        }
    }
    if out.is_empty() {
        return Err("no data rows".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The cut changes a schedule makes, applied in order: `(time, id,
    /// started)` for every partition made and every heal that found its cut
    /// (a heal of a missing cut changes nothing).
    fn applied(schedule: &[(SimTime, usize, bool)]) -> Vec<(SimTime, usize, bool)> {
        let mut live = BTreeSet::new();
        let mut out = Vec::new();
        for &(t, id, start) in schedule {
            let changed = if start {
                live.insert(id)
            } else {
                live.remove(&id)
            };
            if changed {
                out.push((t, id, start));
            }
        }
        out
    }

    /// The schedule of partition starts, window ends and `heal_all` heals
    /// as `(time, partition id, is_start)` in the order faults apply: by
    /// time, then by the entry that emitted them.
    fn schedule(
        entries: &[(Option<SimTime>, EntryKind, Option<SimTime>)],
        heals: impl Fn(usize) -> Vec<usize>,
    ) -> Vec<(SimTime, usize, bool)> {
        let mut tagged = Vec::new();
        for (i, (at, kind, until)) in entries.iter().enumerate() {
            let Some(at) = *at else { continue };
            match kind {
                EntryKind::Partition => {
                    tagged.push((at, i, i, true));
                    if let Some(u) = until {
                        tagged.push((*u, i, i, false));
                    }
                }
                EntryKind::HealAll => {
                    for j in heals(i) {
                        tagged.push((at, i, j, false));
                    }
                }
                EntryKind::Other => {}
            }
        }
        tagged.sort_by_key(|(t, pos, _, _)| (*t, *pos));
        tagged
            .into_iter()
            .map(|(t, _, id, start)| (t, id, start))
            .collect()
    }

    fn entry() -> impl Strategy<Value = (Option<SimTime>, EntryKind, Option<SimTime>)> {
        (
            prop::option::weighted(0.95, 0u64..8),
            prop_oneof![
                Just(EntryKind::Partition),
                Just(EntryKind::HealAll),
                Just(EntryKind::Other)
            ],
            prop::option::of(1u64..4),
        )
            .prop_map(|(at, kind, window)| {
                let at = at.map(SimTime);
                let until = match (at, kind, window) {
                    (Some(a), EntryKind::Partition, Some(w)) => Some(SimTime(a.0 + w)),
                    _ => None,
                };
                (at, kind, until)
            })
    }

    proptest! {
        #[test]
        fn heal_all_emits_only_the_heals_that_take_effect(
            entries in prop::collection::vec(entry(), 0..24)
        ) {
            // What `heal_all` used to emit: a heal of every entry before it.
            let every_earlier = schedule(&entries, |i| (0..i).filter(|j| entries[*j].1 == EntryKind::Partition).collect());
            let plain: Vec<_> = entries.iter().map(|(a, k, _)| (*a, *k)).collect();
            let targets = heal_all_targets(&plain);
            let linear = schedule(&entries, |i| targets.get(&i).cloned().unwrap_or_default());
            prop_assert_eq!(applied(&linear), applied(&every_earlier));
            let emitted: usize = targets.values().map(Vec::len).sum();
            let partitions = entries.iter().filter(|e| e.1 == EntryKind::Partition).count();
            prop_assert!(emitted <= partitions, "at most one heal_all heal per partition");
        }
    }

    #[test]
    fn ten_thousand_heal_alls_after_ten_thousand_partitions_emit_one_heal_each() {
        let mut entries = vec![(Some(SimTime(5)), EntryKind::Partition); 10_000];
        entries.extend(vec![(Some(SimTime(6)), EntryKind::HealAll); 10_000]);
        let targets = heal_all_targets(&entries);
        assert_eq!(targets.len(), 1, "only the first heal_all at 6 ends them");
        assert_eq!(targets.values().map(Vec::len).sum::<usize>(), 10_000);
    }
}
