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
}
