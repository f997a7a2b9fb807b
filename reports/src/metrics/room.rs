//! Room for one more entry in the checkers' many short lists (a key's
//! sessions, its acknowledgement and commit lists, its chains and their
//! members), grown by half their length and at least one, where the
//! standard library's first push reserves four and every later one
//! doubles: most keys of a run keep one to three entries in each list, and
//! four slots for one entry, in every list of every key a run touches, was
//! a tenth of the run's peak on the engine bench's baseline through
//! `dynasim run` (230.4 MB, 206.0 MB with this growth). Growth by half
//! keeps a push amortised O(1) for the few lists that grow long (a hot
//! key's).
//!
//! The engine's small maps (`sim_core::engine::small_map`) keep their own
//! growth, by one or two up to their sixteen entries: moved onto this one
//! (by half, or by one or two while shorter than four), the engine bench's
//! 1M-operation baseline peaked at 29.0 to 29.3 MB against 28.4 to 28.6 MB,
//! three runs each.
//!
//! This module owns that growth policy and nothing else: callers push,
//! insert and remove as before.

use std::collections::VecDeque;

/// How many entries a full list of `len` grows by.
fn step(len: usize) -> usize {
    (len / 2).max(1)
}

/// Makes room for one more entry in `v` (see the module docs).
pub(super) fn vec<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact(step(v.len()));
    }
}

/// Makes room for one more entry in `v` (see the module docs).
pub(super) fn deque<T>(v: &mut VecDeque<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact(step(v.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_one_holds_one_and_long_lists_grow_by_half() {
        let mut v: Vec<u64> = Vec::new();
        vec(&mut v);
        v.push(1);
        assert_eq!(v.capacity(), 1, "a list of one entry");
        let mut caps = Vec::new();
        for i in 0..100 {
            vec(&mut v);
            v.push(i);
            if caps.last() != Some(&v.capacity()) {
                caps.push(v.capacity());
            }
        }
        assert_eq!(&caps[..6], &[2, 3, 4, 6, 9, 13], "{caps:?}");
        assert!(
            caps.len() < 16,
            "amortised: {} growths for 101 pushes",
            caps.len()
        );
        let mut d: VecDeque<u64> = VecDeque::new();
        deque(&mut d);
        d.push_back(1);
        deque(&mut d);
        d.push_back(2);
        assert_eq!(d.capacity(), 2);
    }
}
