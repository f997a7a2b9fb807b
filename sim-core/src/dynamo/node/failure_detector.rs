//! Local failure detection (§4.8.3): "node A may consider node B failed if
//! node B does not respond to node A's messages". A then uses alternates and
//! periodically retries B. Detection is purely local: no gossip, no global
//! view. Nodes and partition-aware clients each keep one.
//!
//! Optionally (`failure_detector: phi_accrual`), a node instead judges peers
//! with the phi-accrual detector of Hayashibara et al., fed by the heartbeat
//! counters that membership gossip spreads (§4.8): no request timeouts, a
//! suspicion level per peer. [`FailureDetector`] puts either behind one API
//! so the request path does not care which one runs.
//!
//! This module only keeps suspicion state; the caller decides what "did not
//! respond" means (a timeout) and what to do instead.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::config::FailureDetectorKind;
use crate::engine::ids::NodeId;
use crate::engine::time::{SimDuration, SimTime};

/// The detector a node runs: the local one of §4.8.3, or phi-accrual.
#[derive(Clone, Debug)]
pub enum FailureDetector {
    /// Timeouts of this node's own requests.
    Local(LocalFailureDetector),
    /// Gossip heartbeats.
    PhiAccrual(PhiAccrual),
}

impl FailureDetector {
    /// A detector of the configured kind (`None`: the local one).
    pub fn new(kind: Option<&FailureDetectorKind>, expected_interval: SimDuration) -> Self {
        match kind {
            Some(&FailureDetectorKind::PhiAccrual {
                threshold,
                window,
                min_stddev,
            }) => FailureDetector::PhiAccrual(PhiAccrual::new(
                threshold,
                window as usize,
                min_stddev,
                expected_interval,
            )),
            _ => FailureDetector::Local(LocalFailureDetector::new()),
        }
    }

    /// See [`LocalFailureDetector::is_healthy`]; phi: not suspected.
    pub fn is_healthy(&self, peer: NodeId, now: SimTime) -> bool {
        match self {
            FailureDetector::Local(d) => d.is_healthy(peer, now),
            FailureDetector::PhiAccrual(d) => !d.is_suspected(peer),
        }
    }

    /// See [`LocalFailureDetector::is_trusted`]; phi: not suspected.
    pub fn is_trusted(&self, peer: NodeId) -> bool {
        match self {
            FailureDetector::Local(d) => d.is_trusted(peer),
            FailureDetector::PhiAccrual(d) => !d.is_suspected(peer),
        }
    }

    /// See [`LocalFailureDetector::claim`]; phi: not suspected.
    pub fn claim(&mut self, peer: NodeId, now: SimTime, retry_after: SimDuration) -> bool {
        match self {
            FailureDetector::Local(d) => d.claim(peer, now, retry_after),
            FailureDetector::PhiAccrual(d) => !d.is_suspected(peer),
        }
    }

    /// A request to `peer` timed out. Returns true on a new suspicion. The
    /// phi detector ignores timeouts (heartbeats alone decide).
    pub fn suspect(&mut self, peer: NodeId, now: SimTime, retry_after: SimDuration) -> bool {
        match self {
            FailureDetector::Local(d) => d.suspect(peer, now, retry_after),
            FailureDetector::PhiAccrual(_) => false,
        }
    }

    /// `peer` answered. Returns true if it was suspected (the local
    /// detector); phi ignores direct messages.
    pub fn heard_from(&mut self, peer: NodeId) -> bool {
        match self {
            FailureDetector::Local(d) => d.heard_from(peer),
            FailureDetector::PhiAccrual(_) => false,
        }
    }
}

/// Inter-arrival samples a peer needs before phi judges it.
const MIN_SAMPLES: usize = 3;

/// The phi-accrual failure detector (Hayashibara, Défago, Yared, Katayama,
/// SRDS 2004), as Cassandra uses it: per peer, a window of heartbeat
/// inter-arrival times; `phi(t) = -log10(P(next heartbeat later than t))`
/// under a normal distribution fitted to the window, its mean lengthened by
/// one expected interval of acceptable pause (heartbeats arrive through
/// gossip, second-hand). A peer is judged once it has a few samples, and is
/// suspected while phi is at or above the threshold, re-evaluated by
/// [`Self::evaluate`].
#[derive(Clone, Debug)]
pub struct PhiAccrual {
    threshold: f64,
    window: usize,
    min_stddev_us: f64,
    /// Assumed first interval, so one heartbeat suffices to start judging.
    bootstrap_us: u64,
    peers: BTreeMap<NodeId, Arrivals>,
    suspected: BTreeSet<NodeId>,
}

#[derive(Clone, Debug)]
struct Arrivals {
    last: SimTime,
    intervals: VecDeque<u64>,
    sum: u128,
    sum_sq: u128,
}

impl PhiAccrual {
    /// A detector with no history.
    pub fn new(
        threshold: f64,
        window: usize,
        min_stddev: SimDuration,
        expected_interval: SimDuration,
    ) -> Self {
        PhiAccrual {
            threshold,
            window: window.max(2),
            min_stddev_us: min_stddev.as_micros() as f64,
            bootstrap_us: expected_interval.as_micros().max(1),
            peers: BTreeMap::new(),
            suspected: BTreeSet::new(),
        }
    }

    /// A fresh heartbeat of `peer` arrived (directly or through gossip).
    pub fn heartbeat(&mut self, peer: NodeId, now: SimTime) {
        let window = self.window;
        let a = self.peers.entry(peer).or_insert_with(|| Arrivals {
            last: now,
            intervals: VecDeque::new(),
            sum: 0,
            sum_sq: 0,
        });
        let gap = if a.intervals.is_empty() && a.last == now {
            self.bootstrap_us
        } else {
            now.as_micros().saturating_sub(a.last.as_micros())
        };
        a.last = now;
        if a.intervals.len() == window {
            let old = a.intervals.pop_front().expect("window is full");
            a.sum -= u128::from(old);
            a.sum_sq -= u128::from(old) * u128::from(old);
        }
        a.intervals.push_back(gap);
        a.sum += u128::from(gap);
        a.sum_sq += u128::from(gap) * u128::from(gap);
    }

    /// The suspicion level of `peer` at `now` (0 for a peer never heard).
    pub fn phi(&self, peer: NodeId, now: SimTime) -> f64 {
        let Some(a) = self.peers.get(&peer) else {
            return 0.0;
        };
        if a.intervals.len() < MIN_SAMPLES {
            return 0.0;
        }
        let n = a.intervals.len() as f64;
        // Heartbeats reach a node second-hand, a round or so late: one
        // expected interval of pause is acceptable (Akka's
        // `acceptable-heartbeat-pause`).
        let measured = a.sum as f64 / n;
        let var = (a.sum_sq as f64 / n - measured * measured).max(0.0);
        let sd = libm::sqrt(var).max(self.min_stddev_us);
        let mean = measured + self.bootstrap_us as f64;
        let t = now.as_micros().saturating_sub(a.last.as_micros()) as f64;
        let p_later = 0.5 * libm::erfc((t - mean) / (sd * std::f64::consts::SQRT_2));
        if p_later <= 0.0 {
            return f64::MAX;
        }
        -libm::log10(p_later)
    }

    /// Re-judges every peer at `now`; calls `changed(peer, suspected)` for
    /// each peer whose state flipped, in id order.
    pub fn evaluate(&mut self, now: SimTime, mut changed: impl FnMut(NodeId, bool)) {
        let peers: Vec<NodeId> = self.peers.keys().copied().collect();
        for p in peers {
            let suspect = self.phi(p, now) >= self.threshold;
            if suspect && self.suspected.insert(p) {
                changed(p, true);
            } else if !suspect && self.suspected.remove(&p) {
                changed(p, false);
            }
        }
    }

    /// Whether `peer` was suspected at the last evaluation.
    pub fn is_suspected(&self, peer: NodeId) -> bool {
        self.suspected.contains(&peer)
    }

    /// Stops tracking a peer (it left the ring).
    pub fn forget(&mut self, peer: NodeId) {
        self.peers.remove(&peer);
        self.suspected.remove(&peer);
    }
}

/// Which peers this node currently treats as down, and when to retry them.
#[derive(Clone, Debug, Default)]
pub struct LocalFailureDetector {
    /// Suspected peer → when it may be tried again.
    suspects: BTreeMap<NodeId, SimTime>,
}

impl LocalFailureDetector {
    /// Nobody suspected.
    pub fn new() -> Self {
        Self::default()
    }

    /// True unless `peer` is suspected and its retry time has not come. Once
    /// the retry time passes, the peer is treated as healthy again: the next
    /// request to it is the periodic retry of §4.8.3.
    pub fn is_healthy(&self, peer: NodeId, now: SimTime) -> bool {
        match self.suspects.get(&peer) {
            Some(retry_at) => now >= *retry_at,
            None => true,
        }
    }

    /// True when `peer` is not suspected at all (a request that has no way to
    /// notice a silent peer, such as a forward, must only go to such peers).
    pub fn is_trusted(&self, peer: NodeId) -> bool {
        !self.suspects.contains_key(&peer)
    }

    /// Whether to send a request to `peer` now. A suspect whose retry time has
    /// come is used for exactly one request (the probe); until that probe is
    /// answered or another interval passes, it stays avoided.
    pub fn claim(&mut self, peer: NodeId, now: SimTime, retry_after: SimDuration) -> bool {
        match self.suspects.get_mut(&peer) {
            None => true,
            Some(retry_at) if now >= *retry_at => {
                *retry_at = now + retry_after;
                true
            }
            Some(_) => false,
        }
    }

    /// `peer` did not answer in time. Returns true if it was not suspected
    /// before (a new suspicion, worth recording).
    pub fn suspect(&mut self, peer: NodeId, now: SimTime, retry_after: SimDuration) -> bool {
        let fresh = !self.suspects.contains_key(&peer);
        self.suspects.insert(peer, now + retry_after);
        fresh
    }

    /// `peer` answered: it is healthy. Returns true if it was suspected.
    pub fn heard_from(&mut self, peer: NodeId) -> bool {
        !self.suspects.is_empty() && self.suspects.remove(&peer).is_some()
    }

    /// Number of suspected peers (including those due for a retry).
    pub fn suspect_count(&self) -> usize {
        self.suspects.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspect_is_retried_after_the_interval_and_cleared_by_a_reply() {
        let mut d = LocalFailureDetector::new();
        let b = NodeId(2);
        assert!(d.suspect(b, SimTime(100), SimDuration(50)));
        assert!(!d.is_healthy(b, SimTime(120)));
        assert!(d.is_healthy(b, SimTime(150)), "due for a retry");
        assert!(
            !d.suspect(b, SimTime(150), SimDuration(50)),
            "not a new suspicion"
        );
        d.heard_from(b);
        assert!(d.is_healthy(b, SimTime(151)));
        assert_eq!(d.suspect_count(), 0);
    }

    #[test]
    fn phi_rises_with_silence_and_falls_with_a_heartbeat() {
        let sec = SimDuration::from_millis(1000);
        let mut d = PhiAccrual::new(8.0, 100, SimDuration::from_millis(100), sec);
        let p = NodeId(3);
        for i in 0..20u64 {
            d.heartbeat(p, SimTime(i * 1_000_000));
        }
        let last = SimTime(19_000_000);
        assert!(d.phi(p, last + SimDuration::from_millis(500)) < 1.0);
        let mut flips = Vec::new();
        d.evaluate(last + SimDuration::from_millis(1200), |n, s| {
            flips.push((n, s))
        });
        assert!(
            flips.is_empty(),
            "a slightly late heartbeat is not a failure"
        );
        let phi_3s = d.phi(p, last + SimDuration::from_millis(3000));
        assert!(
            phi_3s >= 8.0,
            "3 s of silence after 1 s heartbeats: phi {phi_3s}"
        );
        d.evaluate(last + SimDuration::from_millis(3000), |n, s| {
            flips.push((n, s))
        });
        assert_eq!(flips, vec![(p, true)]);
        assert!(d.is_suspected(p));
        d.heartbeat(p, last + SimDuration::from_millis(3100));
        d.evaluate(last + SimDuration::from_millis(3100), |n, s| {
            flips.push((n, s))
        });
        assert_eq!(flips, vec![(p, true), (p, false)]);
        assert_eq!(d.phi(NodeId(9), last), 0.0, "never heard: not judged");
    }

    #[test]
    fn phi_tolerates_jitter_it_has_seen() {
        // Heartbeats alternating 0.5 s and 1.5 s: a 2 s gap is normal.
        let sec = SimDuration::from_millis(1000);
        let mut jittery = PhiAccrual::new(8.0, 100, SimDuration::from_millis(10), sec);
        let mut regular = jittery.clone();
        let (mut t, p) = (0u64, NodeId(1));
        for i in 0..40u64 {
            t += if i % 2 == 0 { 500_000 } else { 1_500_000 };
            jittery.heartbeat(p, SimTime(t));
            regular.heartbeat(p, SimTime(i * 1_000_000));
        }
        let j = jittery.phi(p, SimTime(t + 2_000_000));
        let r = regular.phi(p, SimTime(39_000_000 + 2_000_000));
        assert!(j < r, "jitter seen before lowers phi: {j} vs {r}");
    }

    #[test]
    fn a_due_suspect_is_probed_by_one_request_only() {
        let mut d = LocalFailureDetector::new();
        let b = NodeId(1);
        d.suspect(b, SimTime(0), SimDuration(10));
        assert!(!d.is_trusted(b));
        assert!(!d.claim(b, SimTime(5), SimDuration(10)));
        assert!(d.claim(b, SimTime(10), SimDuration(10)), "the probe");
        assert!(
            !d.claim(b, SimTime(11), SimDuration(10)),
            "no second request until it answers"
        );
        d.heard_from(b);
        assert!(d.claim(b, SimTime(12), SimDuration(10)));
    }
}
