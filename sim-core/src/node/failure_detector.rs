//! Local failure detection (§4.8.3): "node A may consider node B failed if
//! node B does not respond to node A's messages". A then uses alternates and
//! periodically retries B. Detection is purely local: no gossip, no global
//! view. Nodes and partition-aware clients each keep one.
//!
//! This module only keeps suspicion state; the caller decides what "did not
//! respond" means (a timeout) and what to do instead.

use std::collections::BTreeMap;

use crate::ids::NodeId;
use crate::time::{SimDuration, SimTime};

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

    /// `peer` answered: it is healthy.
    pub fn heard_from(&mut self, peer: NodeId) {
        if !self.suspects.is_empty() {
            self.suspects.remove(&peer);
        }
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
