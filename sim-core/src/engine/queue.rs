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
//! small `(time, seq, slot, lane)` entries over a slab of payloads. Cancelling empties
//! the slot; the stale heap entry is skipped when it surfaces (its `seq` no
//! longer matches the slot). This keeps push/pop as cheap as a bare
//! `BinaryHeap`, which the benchmark compares against, while still supporting
//! cancellation. The `priority-queue` crate (an indexed heap with changeable
//! priorities) is measured in the same benchmark as the alternative.
//!
//! **Lanes** ([`EventQueue::push_in_lane`]): most timeouts are armed for a
//! fixed delay (a request's replica check and timeout, a client's operation
//! timeout) and cancelled before they fire. Pushed at nondecreasing times,
//! such events form a FIFO that is already in `(time, seq)` order, so a lane
//! keeps them in a `VecDeque` and only its front sits in the heap: a timeout
//! cancelled before it reaches the front never costs a heap push or pop. An
//! event pushed earlier than its lane's back goes to the heap instead, so the
//! order never depends on the caller's promise. The heap holds every lane's
//! front, hence the heap's top is the earliest pending event, and the pop
//! order is the same total order `(time, seq)` as without lanes.
//!
//! This module never iterates in an order that depends on anything but
//! `(time, seq)`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

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

/// Cancelled entries tolerated in the heap (or a lane) before
/// [`EventQueue::cancel`] compacts it (see `compact_if_stale`). Small in
/// tests, so that the property tests compact often.
const COMPACT_FLOOR: usize = if cfg!(test) { 4 } else { 1024 };

/// The most lanes a queue keeps (see the module docs); pushes for other
/// keys go to the heap.
pub const MAX_LANES: usize = 8;

/// The lane field of an entry that belongs to no lane.
const NO_LANE: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    time: SimTime,
    seq: u64,
    slot: u32,
    /// The lane whose front this entry is, or [`NO_LANE`].
    lane: u8,
}

/// Events pushed for one lane key at nondecreasing times (see the module
/// docs): the front is in the heap, the rest wait here in order.
#[derive(Debug)]
struct Lane {
    key: u64,
    entries: VecDeque<Entry>,
    /// Entries behind the front whose event was cancelled.
    stale: usize,
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
    /// The lane the event was pushed in, or [`NO_LANE`].
    lane: u8,
}

/// Pending events, earliest first, FIFO among equal times.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    lanes: Vec<Lane>,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
    /// Live events waiting in a lane behind its front (not in the heap);
    /// the heap's other entries are cancelled ones ([`EventQueue::stale`]).
    parked: usize,
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
            lanes: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: COUNTED_BASE,
            live: 0,
            parked: 0,
        }
    }

    /// An empty queue with room for `n` pending events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            lanes: Vec::new(),
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            next_seq: COUNTED_BASE,
            live: 0,
            parked: 0,
        }
    }

    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: SimTime, event: E) -> EventHandle {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.insert(time, seq, event, NO_LANE)
    }

    /// Schedules `event` at `time` like [`EventQueue::push`] (same order,
    /// same handle), in the lane of `key` (see the module docs): meant for
    /// events armed a fixed delay ahead (the delay is a good key) and
    /// usually cancelled. When the lane's last event is later than `time`,
    /// or every lane is taken by another key, the event goes to the heap.
    pub fn push_in_lane(&mut self, key: u64, time: SimTime, event: E) -> EventHandle {
        let seq = self.next_seq;
        self.next_seq += 1;
        let lane = match self.lanes.iter().position(|l| l.key == key) {
            Some(i) => i,
            None => match self.lanes.iter().position(|l| l.entries.is_empty()) {
                Some(i) => {
                    self.lanes[i].key = key;
                    i
                }
                None if self.lanes.len() < MAX_LANES => {
                    self.lanes.push(Lane {
                        key,
                        entries: VecDeque::new(),
                        stale: 0,
                    });
                    self.lanes.len() - 1
                }
                None => return self.insert(time, seq, event, NO_LANE),
            },
        };
        if self.lanes[lane]
            .entries
            .back()
            .is_some_and(|e| e.time > time)
        {
            return self.insert(time, seq, event, NO_LANE);
        }
        self.insert(time, seq, event, lane as u8)
    }

    /// Schedules `event` at `time` with a fixed `rank`: it pops before every
    /// event pushed with [`EventQueue::push`] for the same instant, and
    /// after ranked events of that instant with a lower rank. Ranks must be
    /// below 2^63 and never used twice in a queue's life, even after a
    /// cancellation: a rank is the event's sequence number, and a reused one
    /// in a reused slot would make the cancelled entry look live.
    ///
    /// # Panics
    /// If `rank` is 2^63 or more.
    pub fn push_ranked(&mut self, time: SimTime, rank: u64, event: E) -> EventHandle {
        assert!(rank < COUNTED_BASE, "ranks lie below 2^63");
        self.insert(time, rank, event, NO_LANE)
    }

    /// Puts `event` in a slot and its entry in the heap, or at the back of
    /// `lane` (in the heap too when it is the lane's front).
    fn insert(&mut self, time: SimTime, seq: u64, event: E, lane: u8) -> EventHandle {
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                debug_assert!(s.event.is_none(), "a free slot holds no event");
                s.seq = seq;
                s.event = Some(event);
                s.lane = lane;
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 pending events");
                self.slots.push(Slot {
                    seq,
                    event: Some(event),
                    lane,
                });
                slot
            }
        };
        let entry = Entry {
            time,
            seq,
            slot,
            lane,
        };
        if lane == NO_LANE {
            self.heap.push(entry);
        } else {
            let entries = &mut self.lanes[lane as usize].entries;
            if entries.is_empty() {
                self.heap.push(entry);
            } else {
                self.parked += 1;
            }
            entries.push_back(entry);
        }
        self.live += 1;
        EventHandle { slot, seq }
    }

    /// True when `entry`'s event is still pending.
    fn is_live(&self, entry: &Entry) -> bool {
        pending(&self.slots, entry)
    }

    /// Heap entries whose event was cancelled: the heap holds every live
    /// event but those parked in lanes, and nothing else.
    fn stale(&self) -> usize {
        self.heap.len() + self.parked - self.live
    }

    /// The front of `lane` left the heap: drops it and the cancelled
    /// events behind it, and puts the next pending one in the heap.
    fn advance_lane(&mut self, lane: u8) {
        let mut entries = std::mem::take(&mut self.lanes[lane as usize].entries);
        entries.pop_front();
        while let Some(front) = entries.front() {
            if self.is_live(front) {
                self.heap.push(*front);
                self.parked -= 1;
                break;
            }
            entries.pop_front();
            self.lanes[lane as usize].stale -= 1;
        }
        self.lanes[lane as usize].entries = entries;
    }

    /// Removes and returns the earliest event (FIFO among equal times).
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(entry) = self.heap.pop() {
            if entry.lane != NO_LANE {
                self.advance_lane(entry.lane);
            }
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
            if self.is_live(entry) {
                return Some(entry.time);
            }
            let entry = self.heap.pop().expect("peeked");
            if entry.lane != NO_LANE {
                self.advance_lane(entry.lane);
            }
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
        self.count_cancelled(handle);
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
        self.count_cancelled(handle);
        self.compact_if_stale();
        true
    }

    /// Accounts for the cancelled event of `handle`: its entry is now a
    /// stale one in the heap, unless it waits in a lane behind the front.
    fn count_cancelled(&mut self, handle: EventHandle) {
        let lane = self.slots[handle.slot as usize].lane;
        let in_heap = lane == NO_LANE
            || self.lanes[lane as usize]
                .entries
                .front()
                .is_some_and(|e| e.seq == handle.seq);
        if !in_heap {
            self.parked -= 1;
            self.compact_lane_if_stale(lane);
        }
    }

    /// Drops a lane's cancelled entries once they outnumber its live ones
    /// (and a floor), as [`EventQueue::compact_if_stale`] does for the heap,
    /// so a lane holds about what is pending in it, not every timeout
    /// armed within its delay. The front stays (it is in the heap).
    fn compact_lane_if_stale(&mut self, lane: u8) {
        let l = &mut self.lanes[lane as usize];
        l.stale += 1;
        if l.stale > COMPACT_FLOOR && 2 * l.stale > l.entries.len() {
            let slots = &self.slots;
            let mut first = true;
            l.entries.retain(|e| {
                let keep = first || pending(slots, e);
                first = false;
                keep
            });
            l.stale = 0;
        }
    }

    /// Drops the heap entries of cancelled events once they outnumber the
    /// live ones (and a floor), so a run that cancels most of what it arms
    /// (request timeouts, re-armed timers) keeps a heap the size of what is
    /// really pending. Each compaction costs O(heap) and follows at least
    /// as many cancellations, so it is amortised O(1) per cancel. The pop
    /// order is untouched: it is the total order `(time, seq)`.
    fn compact_if_stale(&mut self) {
        let stale = self.stale();
        if stale > COMPACT_FLOOR && stale > self.live - self.parked {
            let slots = &self.slots;
            let mut lanes_left = [false; MAX_LANES];
            self.heap.retain(|e| {
                let live = pending(slots, e);
                if !live && e.lane != NO_LANE {
                    lanes_left[e.lane as usize] = true;
                }
                live
            });
            // A lane whose cancelled front was dropped puts its next
            // pending event in the heap.
            for (lane, left) in lanes_left.into_iter().enumerate() {
                if left {
                    self.advance_lane(lane as u8);
                }
            }
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

/// True when `entry`'s event is still pending in `slots` (its slot holds
/// an event of the same sequence number).
fn pending<E>(slots: &[Slot<E>], entry: &Entry) -> bool {
    let slot = &slots[entry.slot as usize];
    slot.seq == entry.seq && slot.event.is_some()
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

    #[derive(Clone, Debug)]
    enum Op {
        Push(u64),
        PushInLane(u64, u64),
        Cancel(usize),
        Pop,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            2 => (0u64..50).prop_map(Op::Push),
            // Two keys armed at their own fixed delays (lanes fill, drain
            // and compact) ...
            4 => (0u64..2).prop_map(|k| Op::PushInLane(k, 20 + 10 * k)),
            // ... and others at any delay: lanes taken and given back,
            // pushes earlier than their lane's back.
            1 => (0u64..12, 0u64..60).prop_map(|(k, d)| Op::PushInLane(k, d)),
            // Mostly the latest events, as timeouts are.
            4 => (0usize..16).prop_map(Op::Cancel),
            1 => any::<usize>().prop_map(Op::Cancel),
            2 => Just(Op::Pop),
        ]
    }

    proptest::proptest! {
        /// Lanes change nothing about the order: any mix of pushes with and
        /// without lanes, cancellations and pops gives the events in
        /// `(time, seq)` order, exactly as a sorted map of the pending ones.
        #[test]
        fn lanes_pop_in_the_same_order_as_a_sorted_map(
            ops in proptest::collection::vec(op(), 0..400)
        ) {
            let mut q = EventQueue::new();
            let mut now = 0u64;
            let mut handles: Vec<(EventHandle, u64, u64)> = Vec::new();
            let mut pending: std::collections::BTreeMap<(u64, u64), u64> =
                std::collections::BTreeMap::new();
            let mut next = 0u64;
            for op in ops {
                match op {
                    Op::Push(d) | Op::PushInLane(_, d) => {
                        let t = now + d;
                        let h = match op {
                            Op::PushInLane(k, _) => q.push_in_lane(k % 10, SimTime(t), next),
                            _ => q.push(SimTime(t), next),
                        };
                        pending.insert((t, h.seq()), next);
                        handles.push((h, t, next));
                        next += 1;
                    }
                    Op::Cancel(i) if !handles.is_empty() => {
                        let i = if i < 16 { handles.len().saturating_sub(i + 1) } else { i };
                        let (h, t, v) = handles[i % handles.len()];
                        let expected = pending.remove(&(t, h.seq()));
                        proptest::prop_assert_eq!(expected, if i % 2 == 0 {
                            q.cancel(h)
                        } else {
                            q.discard(h).then_some(v)
                        });
                    }
                    Op::Cancel(_) => {}
                    Op::Pop => {
                        let expected = pending.pop_first().map(|((t, _), v)| (SimTime(t), v));
                        proptest::prop_assert_eq!(q.peek_time(), expected.map(|e| e.0));
                        let got = q.pop();
                        proptest::prop_assert_eq!(got, expected);
                        if let Some((t, _)) = got {
                            now = t.0;
                        }
                    }
                }
                proptest::prop_assert_eq!(q.len(), pending.len());
            }
            let rest: Vec<(SimTime, u64)> = std::iter::from_fn(|| q.pop()).collect();
            let expected: Vec<(SimTime, u64)> =
                pending.into_iter().map(|((t, _), v)| (SimTime(t), v)).collect();
            proptest::prop_assert_eq!(rest, expected);
        }
    }

    #[test]
    fn cancelled_lane_events_never_reach_the_heap_and_compaction_keeps_lanes() {
        // A fixed-delay timeout armed and cancelled per request, beside
        // short events: the heap holds the short events and one front per
        // lane, never the cancelled timeouts behind it.
        let mut q = EventQueue::new();
        // (time, push order, value): the queue's own order.
        let mut reference = Vec::new();
        let mut order = 0u64;
        for i in 0..20_000u64 {
            let h = q.push_in_lane(1_000, SimTime(i + 1_000), u64::MAX);
            if i % 100 != 0 {
                q.discard(h);
            } else {
                reference.push((i + 1_000, order, u64::MAX));
            }
            q.push(SimTime(i), i);
            reference.push((i, order + 1, i));
            order += 2;
            assert!(q.heap.len() <= q.len() + 2 * COMPACT_FLOOR + 2);
            assert!(
                q.lanes[0].entries.len() <= 2 * q.len() + 2 * COMPACT_FLOOR + 2,
                "a lane drops its cancelled entries ({} for {} pending)",
                q.lanes[0].entries.len(),
                q.len()
            );
            if i % 3 == 0 {
                let (t, v) = q.pop().expect("pending");
                let first = reference.iter().copied().min().expect("pending");
                assert_eq!((t.0, v), (first.0, first.2));
                reference.retain(|e| *e != first);
            }
        }
        reference.sort();
        let rest: Vec<(u64, u64)> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.0, e))
            .collect();
        let expected: Vec<(u64, u64)> = reference.iter().map(|(t, _, v)| (*t, *v)).collect();
        assert_eq!(rest, expected);
    }
}
