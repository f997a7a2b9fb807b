//! The event queue: pending events ordered by `(time, seq)`.
//!
//! `seq` is a counter assigned at insertion, so events due at the same instant
//! pop in FIFO order and the pop order is a pure function of the pushes.
//! Events pushed with an explicit rank ([`EventQueue::push_ranked`], the
//! fault schedule) pop before every counted event due at the same instant,
//! in rank order: their place does not depend on when they were pushed, so
//! faults can be queued lazily yet pop as if all had been queued first. Events
//! can be cancelled and re-armed through the [`EventHandle`] returned by
//! [`EventQueue::push`].
//!
//! Structure (chosen by measurement, see `benches/engine.rs`): a binary heap of
//! small `(time, seq, slot)` entries over a slab of payloads. Cancelling empties
//! the slot; the stale heap entry is skipped when it surfaces (its `seq` no
//! longer matches the slot). This keeps push/pop as cheap as a bare
//! `BinaryHeap`, which the benchmark compares against, while still supporting
//! cancellation. The `priority-queue` crate (an indexed heap with changeable
//! priorities) is measured in the same benchmark as the alternative.
//!
//! This module never iterates in an order that depends on anything but
//! `(time, seq)`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::engine::time::SimTime;

/// Identifies one pushed event, for [`EventQueue::cancel`] and
/// [`EventQueue::rearm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventHandle {
    slot: u32,
    seq: u64,
}

impl EventHandle {
    /// The insertion sequence number of the event (its FIFO rank).
    pub fn seq(self) -> u64 {
        self.seq
    }
}

/// Counted sequence numbers start here; ranks lie below it.
const COUNTED_BASE: u64 = 1 << 63;

/// Cancelled entries tolerated in the heap before [`EventQueue::cancel`]
/// compacts it (see `compact_if_stale`).
const COMPACT_FLOOR: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    time: SimTime,
    seq: u64,
    slot: u32,
}

impl Entry {
    /// `(time, seq)` as one number, so that an ordering is one wide
    /// comparison the compiler can turn into a conditional move (the heap's
    /// choice between two children is a coin flip that a branch predictor
    /// cannot learn).
    fn order(&self) -> u128 {
        u128::from(self.time.as_micros()) << 64 | u128::from(self.seq)
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        other.order().cmp(&self.order())
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug)]
struct Slot<E> {
    seq: u64,
    event: Option<E>,
}

/// Pending events, earliest first, FIFO among equal times.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: COUNTED_BASE,
            live: 0,
        }
    }

    /// An empty queue with room for `n` pending events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            next_seq: COUNTED_BASE,
            live: 0,
        }
    }

    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: SimTime, event: E) -> EventHandle {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.insert(time, seq, event)
    }

    /// Schedules `event` at `time` with a fixed `rank`: it pops before every
    /// event pushed with [`EventQueue::push`] for the same instant, and
    /// after ranked events of that instant with a lower rank. Ranks must be
    /// unique among pending events and below 2^63.
    ///
    /// # Panics
    /// If `rank` is 2^63 or more.
    pub fn push_ranked(&mut self, time: SimTime, rank: u64, event: E) -> EventHandle {
        assert!(rank < COUNTED_BASE, "ranks lie below 2^63");
        self.insert(time, rank, event)
    }

    fn insert(&mut self, time: SimTime, seq: u64, event: E) -> EventHandle {
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                debug_assert!(s.event.is_none(), "a free slot holds no event");
                s.seq = seq;
                s.event = Some(event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 pending events");
                self.slots.push(Slot {
                    seq,
                    event: Some(event),
                });
                slot
            }
        };
        self.heap.push(Entry { time, seq, slot });
        self.live += 1;
        EventHandle { slot, seq }
    }

    /// Removes and returns the earliest event (FIFO among equal times).
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(entry) = self.heap.pop() {
            let slot = &mut self.slots[entry.slot as usize];
            if slot.seq != entry.seq {
                continue; // cancelled, and the slot was reused
            }
            if let Some(event) = slot.event.take() {
                self.free.push(entry.slot);
                self.live -= 1;
                return Some((entry.time, event));
            }
            // cancelled, slot not yet reused: already on the free list
        }
        None
    }

    /// The time of the earliest live event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(entry) = self.heap.peek() {
            let slot = &self.slots[entry.slot as usize];
            if slot.seq == entry.seq && slot.event.is_some() {
                return Some(entry.time);
            }
            self.heap.pop();
        }
        None
    }

    /// Cancels a pending event and returns it; `None` if it already fired or
    /// was cancelled.
    pub fn cancel(&mut self, handle: EventHandle) -> Option<E> {
        let slot = self.slots.get_mut(handle.slot as usize)?;
        if slot.seq != handle.seq {
            return None;
        }
        let event = slot.event.take()?;
        self.free.push(handle.slot);
        self.live -= 1;
        self.compact_if_stale();
        Some(event)
    }

    /// Cancels a pending event and drops it where it lies (no copy out,
    /// unlike [`EventQueue::cancel`]); false if it already fired or was
    /// cancelled.
    pub fn discard(&mut self, handle: EventHandle) -> bool {
        let Some(slot) = self.slots.get_mut(handle.slot as usize) else {
            return false;
        };
        if slot.seq != handle.seq || slot.event.is_none() {
            return false;
        }
        slot.event = None;
        self.free.push(handle.slot);
        self.live -= 1;
        self.compact_if_stale();
        true
    }

    /// Drops the heap entries of cancelled events once they outnumber the
    /// live ones (and a floor), so a run that cancels most of what it arms
    /// (request timeouts, re-armed timers) keeps a heap the size of what is
    /// really pending. Each compaction costs O(heap) and follows at least
    /// as many cancellations, so it is amortised O(1) per cancel. The pop
    /// order is untouched: it is the total order `(time, seq)`.
    fn compact_if_stale(&mut self) {
        let stale = self.heap.len() - self.live;
        if stale > COMPACT_FLOOR && stale > self.live {
            let slots = &self.slots;
            self.heap.retain(|e| {
                slots[e.slot as usize].seq == e.seq && slots[e.slot as usize].event.is_some()
            });
        }
    }

    /// Moves a pending event to `time`. It queues behind everything already
    /// pushed for that time (it gets a new sequence number and handle).
    /// Returns `None` if the event is no longer pending.
    pub fn rearm(&mut self, handle: EventHandle, time: SimTime) -> Option<EventHandle> {
        let event = self.cancel(handle)?;
        Some(self.push(time, event))
    }

    /// Number of live (not cancelled, not popped) events.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no live event is pending.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_fifo_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), 'a');
        q.push(SimTime(1), 'b');
        q.push(SimTime(5), 'c');
        q.push(SimTime(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    #[test]
    fn ranked_events_pop_first_among_equal_times_whenever_they_were_pushed() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "counted-a");
        q.push(SimTime(1), "counted-early");
        q.push_ranked(SimTime(5), 7, "rank-7");
        q.push(SimTime(5), "counted-b");
        q.push_ranked(SimTime(5), 3, "rank-3");
        q.push_ranked(SimTime(4), 9, "rank-9-earlier");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec![
                "counted-early",
                "rank-9-earlier",
                "rank-3",
                "rank-7",
                "counted-a",
                "counted-b"
            ]
        );
    }

    #[test]
    fn discarded_events_never_pop_and_discard_matches_cancel() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        let b = q.push(SimTime(1), 2);
        assert!(q.discard(a));
        assert!(!q.discard(a), "a second discard finds nothing");
        assert_eq!(q.cancel(a), None);
        q.push(SimTime(0), 3); // reuses a's slot
        assert!(!q.discard(a), "a stale handle cannot discard the new event");
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some((SimTime(0), 3)));
        assert_eq!(q.pop(), Some((SimTime(1), 2)));
        assert!(!q.discard(b), "popped events cannot be discarded");
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn cancelled_events_never_pop_even_after_slot_reuse() {
        let mut q = EventQueue::new();
        let h = q.push(SimTime(1), 1);
        assert_eq!(q.cancel(h), Some(1));
        assert_eq!(q.cancel(h), None);
        q.push(SimTime(2), 2); // reuses the slot
        assert_eq!(
            q.cancel(h),
            None,
            "a stale handle cannot cancel the new event"
        );
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(2), 2)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn rearm_moves_an_event() {
        let mut q = EventQueue::new();
        let h = q.push(SimTime(10), "late");
        q.push(SimTime(5), "mid");
        let h2 = q.rearm(h, SimTime(1)).expect("pending");
        assert_ne!(h, h2);
        assert_eq!(q.peek_time(), Some(SimTime(1)));
        assert_eq!(q.pop(), Some((SimTime(1), "late")));
        assert_eq!(q.pop(), Some((SimTime(5), "mid")));
        assert!(q.rearm(h2, SimTime(3)).is_none());
    }

    #[test]
    fn cancelling_most_events_keeps_the_heap_small_and_the_order_intact() {
        // Every round arms a long timeout and cancels the previous one (a
        // request timeout that the reply beats), plus one short event.
        let mut q = EventQueue::new();
        let mut reference = Vec::new();
        let mut armed = None;
        for i in 0..20_000u64 {
            if let Some(h) = armed.take() {
                q.cancel(h).expect("still pending");
            }
            armed = Some(q.push(SimTime(1_000_000 + i), u64::MAX));
            q.push(SimTime(i * 7 % 5_000), i);
            reference.push((i * 7 % 5_000, i));
            assert!(
                q.heap.len() <= 2 * q.len() + COMPACT_FLOOR + 1,
                "stale entries are compacted away (heap {}, live {})",
                q.heap.len(),
                q.len()
            );
        }
        reference.sort();
        let popped: Vec<(u64, u64)> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.0, e))
            .collect();
        let (last, rest) = popped.split_last().expect("events");
        assert_eq!(rest, reference.as_slice());
        assert_eq!(*last, (1_019_999, u64::MAX));
    }
}
