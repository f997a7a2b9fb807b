//! Node capacity: a node's request processing, disk and network interface as
//! queues with service times, so that latency depends on load.
//!
//! - A [`Pool`] is request processing: first-come-first-served workers whose
//!   schedule is computed when a message arrives (no event unless it waits);
//!   the engine runs the handler at the start of service and releases its
//!   effects at the end.
//! - A [`Station`] is a first-come-first-served queue in front of `servers`
//!   identical servers (a disk serving `concurrency` operations at once):
//!   a job starts when a server is free, holds it for
//!   its service time, and waits in a bounded queue meanwhile. A full queue
//!   refuses the new job ([`OverloadPolicy::Reject`]) or drops the oldest
//!   waiting one ([`OverloadPolicy::ShedOldest`]). Service times are drawn by
//!   the engine from the node's own resource stream and scaled by the
//!   station's slowdown (a gray failure); a stalled station starts nothing
//!   until the stall ends.
//! - A [`Nic`] is a network interface with a bandwidth in each direction.
//!   Each direction is a FIFO link whose service time is `bytes / bandwidth`,
//!   so its completion times follow from the arrival order alone and cost
//!   no events: egress is computed when a node sends (store and forward: a
//!   message leaves when its last byte is out), ingress when a message
//!   arrives (cut-through: its bytes stream in while they are sent, so one
//!   flow on idle links runs at the slower link's rate, and many flows into
//!   one node share its ingress).
//! - An [`AdmissionMonitor`] is §6.5's admission controller: it keeps the
//!   sojourn times of foreground jobs in a sliding window and admits
//!   background tasks while a percentile of them is under a target.
//!
//! Every station and interface keeps the statistics reports need:
//! busy time (utilisation), the time integral of its queue length (mean
//! queue length by Little's law), the longest queue, the distribution of
//! waiting times, refusals, and busy time per metrics window.
//!
//! This module owns queueing only. It never looks inside a job (the payload
//! is the engine's), never schedules events and never draws randomness: the
//! engine asks it what starts when, samples service times and schedules the
//! completions. Integers only, so the run stays deterministic.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::config::OverloadPolicy;
use crate::engine::histogram::Histogram;
use crate::engine::time::{SimDuration, SimTime};

/// The admission controller's verdict for background tasks (§6.5), an input
/// the engine computes from the node's resource latencies and hands to the
/// node with every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Foreground latency is under target: background tasks may run.
    Admit,
    /// Foreground latency is over target: background tasks wait.
    Defer,
}

/// The most metrics windows a busy-time timeline keeps; later time folds
/// into the last one (a scenario's window is validated, this is a backstop).
const MAX_WINDOWS: usize = 1 << 16;

/// How a resource's busy time is cut into metrics windows: their width,
/// and the run's end, after which nothing is counted (a job admitted
/// before the end may be served past it: that time is not the run's, and
/// counted it filled windows up to [`MAX_WINDOWS`] with a last one over
/// 100 % busy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// The metrics window (`metrics.window_s`).
    pub width: SimDuration,
    /// The end of the run.
    pub end: SimTime,
}

/// Busy time (server-µs or link-µs) per metrics window, up to the run's
/// end.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    window_us: u64,
    /// The run's end (µs): time from here on is not counted.
    end_us: u64,
    busy: Vec<u64>,
    /// The window last found and where it starts and ends (µs): times
    /// mostly fall in the window of the previous call, which then costs no
    /// division. Derived state, left out of equality.
    cached: (usize, u64, u64),
}

impl PartialEq for Timeline {
    fn eq(&self, other: &Self) -> bool {
        self.window_us == other.window_us && self.busy == other.busy
    }
}

impl Eq for Timeline {}

impl Timeline {
    fn new(windows: Windows) -> Self {
        Timeline {
            window_us: windows.width.as_micros().max(1),
            end_us: windows.end.as_micros(),
            busy: Vec::new(),
            cached: (0, 0, 0),
        }
    }

    /// The window holding `t` (µs, before the run's end), capped at the
    /// last one, and where its counted time ends: its edge, or the run's
    /// end when that comes first (`u64::MAX` for the last window, which
    /// holds everything after it, when the run's end is beyond it too).
    #[inline]
    fn window_of(&mut self, t: u64) -> (usize, u64) {
        let (w, lo, hi) = self.cached;
        if lo <= t && t < hi {
            return (w, hi);
        }
        let w = ((t / self.window_us) as usize).min(MAX_WINDOWS - 1);
        let lo = w as u64 * self.window_us;
        // The last window holds everything after it.
        let hi = if w == MAX_WINDOWS - 1 {
            u64::MAX
        } else {
            lo + self.window_us
        }
        .min(self.end_us);
        self.cached = (w, lo, hi);
        (w, hi)
    }

    /// Adds `weight` (servers busy) over `[from, to)`, split at window edges.
    /// The common charge lies inside the window of the previous call, whose
    /// slot exists: one bounds check and an add, inlined at every station
    /// and link (what [`Timeline::add_split`] does, without the loop).
    #[inline]
    fn add(&mut self, from: SimTime, to: SimTime, weight: u64) {
        let (t, end) = (from.as_micros(), to.as_micros());
        let (w, lo, hi) = self.cached;
        if lo <= t && t < end && end <= hi {
            if let Some(b) = self.busy.get_mut(w) {
                *b += weight * (end - t);
                return;
            }
        }
        self.add_split(from, to, weight);
    }

    /// [`Timeline::add`] for any interval: split at window edges.
    #[inline(never)]
    fn add_split(&mut self, from: SimTime, to: SimTime, weight: u64) {
        if weight == 0 || to <= from {
            return;
        }
        self.split(from, to, |busy, w, us| {
            if busy.len() <= w {
                busy.resize(w + 1, 0);
            }
            busy[w] += weight * us;
        });
    }

    /// Calls `each(busy, window, µs)` for the pieces of `[from, to)` before
    /// the run's end, split at window edges.
    fn split(
        &mut self,
        from: SimTime,
        to: SimTime,
        mut each: impl FnMut(&mut Vec<u64>, usize, u64),
    ) {
        let (mut t, end) = (from.as_micros(), to.as_micros().min(self.end_us));
        while t < end {
            let (w, hi) = self.window_of(t);
            let edge = hi.min(end);
            each(&mut self.busy, w, edge - t);
            t = edge;
        }
    }

    /// Takes back `weight` over `[from, to)` (time a server was reserved
    /// but not serving). Inside the window of the previous call: one
    /// subtraction, as in [`Timeline::add`].
    #[inline]
    fn sub(&mut self, from: SimTime, to: SimTime, weight: u64) {
        let (t, end) = (from.as_micros(), to.as_micros());
        let (w, lo, hi) = self.cached;
        if lo <= t && t < end && end <= hi {
            if let Some(b) = self.busy.get_mut(w) {
                *b = b.saturating_sub(weight * (end - t));
                return;
            }
        }
        self.sub_split(from, to, weight);
    }

    /// [`Timeline::sub`] for any interval: split at window edges.
    #[inline(never)]
    fn sub_split(&mut self, from: SimTime, to: SimTime, weight: u64) {
        self.split(from, to, |busy, w, us| {
            if let Some(b) = busy.get_mut(w) {
                *b = b.saturating_sub(weight * us);
            }
        });
    }

    /// Busy time per window, from window 0.
    pub fn busy(&self) -> &[u64] {
        &self.busy
    }

    /// The window width.
    pub fn window_us(&self) -> u64 {
        self.window_us
    }
}

/// What a station observed over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StationStats {
    /// Servers (workers, or disk concurrency).
    pub servers: u32,
    /// Jobs that started service.
    pub started: u64,
    /// Jobs refused because the queue was full (policy `reject`).
    pub refused: u64,
    /// Waiting jobs dropped to make room (policy `shed_oldest`).
    pub shed: u64,
    /// Waiting jobs lost when the node crashed.
    pub lost: u64,
    /// Server-microseconds spent serving.
    pub busy_us: u128,
    /// The time integral of the number of waiting jobs (job-microseconds).
    pub queue_us: u128,
    /// The time integral of the number of jobs in the station, waiting or
    /// in service (for Little's law).
    pub in_system_us: u128,
    /// The most jobs that waited at once.
    pub queue_max: u32,
    /// Waiting time (arrival to start of service) of every started job, µs.
    pub wait: Histogram,
    /// Sojourn time (arrival to end of service) of every completed job, µs.
    pub sojourn: Histogram,
    /// Busy server-µs per metrics window.
    pub timeline: Timeline,
}

/// A job waiting for a server.
#[derive(Clone, Debug)]
struct Waiting<T> {
    job: T,
    since: SimTime,
}

/// The outcome of a job's arrival.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival<T> {
    /// A server was free: the job starts now (the caller draws its service
    /// time and schedules the completion).
    Start(T),
    /// It waits.
    Queued,
    /// The queue was full: this job is refused (policy `reject`).
    Refused(T),
    /// The queue was full: the oldest waiting job is dropped to make room
    /// and the new one waits (policy `shed_oldest`).
    Shed(T),
}

/// A first-come-first-served multi-server queue with a bounded waiting room.
#[derive(Clone, Debug)]
pub struct Station<T> {
    servers: u32,
    busy: u32,
    waiting: VecDeque<Waiting<T>>,
    limit: u32,
    policy: OverloadPolicy,
    /// Service times are scaled by `slowdown_permille / 1000`.
    slowdown_permille: u64,
    /// No job starts before this time.
    stalled_until: SimTime,
    last: SimTime,
    stats: StationStats,
}

impl<T> Station<T> {
    /// An idle station. `limit` bounds the jobs waiting (not those served).
    pub fn new(servers: u32, limit: u32, policy: OverloadPolicy, windows: Windows) -> Self {
        assert!(servers > 0, "a station has at least one server");
        Station {
            servers,
            busy: 0,
            waiting: VecDeque::new(),
            limit,
            policy,
            slowdown_permille: 1000,
            stalled_until: SimTime::ZERO,
            last: SimTime::ZERO,
            stats: StationStats {
                servers,
                timeline: Timeline::new(windows),
                ..StationStats::default()
            },
        }
    }

    /// Accounts for the time since the last change.
    fn advance(&mut self, now: SimTime) {
        if now > self.last {
            let dt = u128::from(now.as_micros() - self.last.as_micros());
            self.stats.busy_us += u128::from(self.busy) * dt;
            self.stats.queue_us += self.waiting.len() as u128 * dt;
            self.stats.in_system_us += (self.waiting.len() as u128 + u128::from(self.busy)) * dt;
            self.stats
                .timeline
                .add(self.last, now, u64::from(self.busy));
            self.last = now;
        }
    }

    fn can_start(&self, now: SimTime) -> bool {
        self.busy < self.servers && now >= self.stalled_until
    }

    /// A job arrives at `now`.
    pub fn arrive(&mut self, now: SimTime, job: T) -> Arrival<T> {
        self.advance(now);
        if self.can_start(now) && self.waiting.is_empty() {
            self.busy += 1;
            self.stats.started += 1;
            self.stats.wait.record(0);
            return Arrival::Start(job);
        }
        if (self.waiting.len() as u64) < u64::from(self.limit) {
            self.enqueue(now, job);
            return Arrival::Queued;
        }
        match self.policy {
            OverloadPolicy::Reject => {
                self.stats.refused += 1;
                Arrival::Refused(job)
            }
            OverloadPolicy::ShedOldest => match self.waiting.pop_front() {
                Some(old) => {
                    self.stats.shed += 1;
                    self.enqueue(now, job);
                    Arrival::Shed(old.job)
                }
                // A waiting room of zero: nothing to shed, refuse.
                None => {
                    self.stats.refused += 1;
                    Arrival::Refused(job)
                }
            },
        }
    }

    fn enqueue(&mut self, now: SimTime, job: T) {
        self.waiting.push_back(Waiting { job, since: now });
        self.stats.queue_max = self.stats.queue_max.max(self.waiting.len() as u32);
    }

    /// A job that arrived at `arrived` finishes service at `now`; returns the
    /// next waiting job, which starts now (unless the station is stalled).
    pub fn complete(&mut self, now: SimTime, arrived: SimTime) -> Option<T> {
        self.advance(now);
        debug_assert!(self.busy > 0, "a completion frees a busy server");
        self.busy = self.busy.saturating_sub(1);
        self.stats
            .sojourn
            .record(now.as_micros().saturating_sub(arrived.as_micros()));
        self.next(now)
    }

    fn next(&mut self, now: SimTime) -> Option<T> {
        if !self.can_start(now) {
            return None;
        }
        let w = self.waiting.pop_front()?;
        self.busy += 1;
        self.stats.started += 1;
        self.stats
            .wait
            .record(now.as_micros() - w.since.as_micros());
        Some(w.job)
    }

    /// Ends a stall now: every waiting job a free server can take starts.
    pub fn unstall(&mut self, now: SimTime) -> Vec<T> {
        self.advance(now);
        self.stalled_until = now;
        self.resume(now)
    }

    /// After a stall ends: every waiting job a free server can take now.
    pub fn resume(&mut self, now: SimTime) -> Vec<T> {
        self.advance(now);
        let mut started = Vec::new();
        while let Some(job) = self.next(now) {
            started.push(job);
        }
        started
    }

    /// Nothing starts before `until` (jobs in service finish).
    pub fn stall(&mut self, now: SimTime, until: SimTime) {
        self.advance(now);
        self.stalled_until = self.stalled_until.max(until);
    }

    /// When the current stall ends.
    pub fn stalled_until(&self) -> SimTime {
        self.stalled_until
    }

    /// Service times from now on are scaled by `permille / 1000`.
    pub fn set_slowdown(&mut self, permille: u64) {
        self.slowdown_permille = permille.max(1);
    }

    /// A job that started at `now` cannot be served before `ready`: its
    /// server is held but idle until then, which is not busy time.
    pub fn reserved_until(&mut self, now: SimTime, ready: SimTime) {
        if ready > now {
            self.advance(now);
            let idle = u128::from(ready.as_micros() - now.as_micros());
            self.stats.busy_us = self.stats.busy_us.saturating_sub(idle);
            self.stats.timeline.sub(now, ready, 1);
        }
    }

    /// Scales a drawn service time by the slowdown.
    pub fn scale(&self, service: SimDuration) -> SimDuration {
        if self.slowdown_permille == 1000 {
            return service;
        }
        SimDuration(
            (u128::from(service.as_micros()) * u128::from(self.slowdown_permille) / 1000)
                .min(u128::from(u64::MAX)) as u64,
        )
    }

    /// The node crashed: waiting jobs are lost, servers are free (the
    /// completions already scheduled belong to the old incarnation and are
    /// ignored by the engine). Returns the jobs lost.
    pub fn crash(&mut self, now: SimTime) -> usize {
        self.advance(now);
        let lost = self.waiting.len();
        self.stats.lost += lost as u64;
        self.waiting.clear();
        self.busy = 0;
        lost
    }

    /// Jobs waiting now.
    pub fn queue_len(&self) -> usize {
        self.waiting.len()
    }

    /// Servers busy now.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// The statistics, accounted up to `now`.
    pub fn stats_at(&mut self, now: SimTime) -> &StationStats {
        self.advance(now);
        &self.stats
    }
}

/// A job's place in a [`Pool`]: when it starts and when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Start of service (the arrival, or later when every worker is busy).
    pub start: SimTime,
    /// End of service.
    pub end: SimTime,
}

/// A first-come-first-served pool of identical workers whose schedule is
/// computed when a job arrives (the Kiefer–Wolfowitz recursion: each job
/// takes the worker that frees first, and start times never decrease), so a
/// job costs the engine an event only when it has to wait. The engine
/// draws the service time at arrival, runs the job's handler at its start
/// and lets its effects leave at its end. A full waiting room refuses the
/// newcomer or sheds the oldest waiting job; a shed job's reserved slot
/// stays idle (later jobs keep their computed times).
#[derive(Clone, Debug)]
pub struct Pool {
    /// Workers free at the last admission (the `now`s are monotone, so any
    /// time at or before it is as good as it: only a count is kept).
    idle: u32,
    /// When each other worker is next free: a min-heap, so memory and time
    /// per message grow with the busy workers, not with `workers` (a
    /// million-worker pool costs nothing until a million are busy).
    busy: BinaryHeap<Reverse<SimTime>>,
    /// Start times of jobs admitted but not started, in order.
    waiting: VecDeque<SimTime>,
    limit: u32,
    policy: OverloadPolicy,
    slowdown_permille: u64,
    stats: StationStats,
}

/// The outcome of a job's arrival at a [`Pool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolAdmission {
    /// Admitted in this slot.
    Admitted(Slot),
    /// Refused: the waiting room is full.
    Refused,
    /// Admitted in this slot after shedding the oldest waiting job, which
    /// was to start at `shed` (the caller cancels it).
    AdmittedShedding(Slot, SimTime),
}

impl Pool {
    /// An idle pool of `workers`.
    pub fn new(workers: u32, limit: u32, policy: OverloadPolicy, windows: Windows) -> Self {
        assert!(workers > 0, "a pool has at least one worker");
        Pool {
            idle: workers,
            busy: BinaryHeap::new(),
            waiting: VecDeque::new(),
            limit,
            policy,
            slowdown_permille: 1000,
            stats: StationStats {
                servers: workers,
                timeline: Timeline::new(windows),
                ..StationStats::default()
            },
        }
    }

    /// Service times are scaled by `permille / 1000` from now on.
    pub fn set_slowdown(&mut self, permille: u64) {
        self.slowdown_permille = permille.max(1);
    }

    /// A job arrives at `now` (never earlier than the previous call's)
    /// needing `service` (before the slowdown). It takes the worker free
    /// first, so its start is the earliest free time, or `now`.
    pub fn admit(&mut self, now: SimTime, service: SimDuration) -> PoolAdmission {
        while self.waiting.front().is_some_and(|s| *s <= now) {
            self.waiting.pop_front();
        }
        while self.busy.peek().is_some_and(|Reverse(t)| *t <= now) {
            self.busy.pop();
            self.idle += 1;
        }
        let start = if self.idle > 0 {
            now
        } else {
            self.busy.peek().expect("at least one worker").0
        };
        let mut shed = None;
        if start > now && self.waiting.len() as u64 >= u64::from(self.limit) {
            match (self.policy, self.waiting.pop_front()) {
                (OverloadPolicy::ShedOldest, Some(oldest)) => {
                    self.stats.shed += 1;
                    shed = Some(oldest);
                }
                (_, front) => {
                    if let Some(f) = front {
                        self.waiting.push_front(f);
                    }
                    self.stats.refused += 1;
                    return PoolAdmission::Refused;
                }
            }
        }
        let service = SimDuration(if self.slowdown_permille == 1000 {
            // The common case, without 128-bit division (same result).
            service.as_micros().min(u64::MAX / 4)
        } else {
            (u128::from(service.as_micros()) * u128::from(self.slowdown_permille) / 1000)
                .min(u128::from(u64::MAX / 4)) as u64
        });
        let end = start + service;
        if self.idle > 0 {
            self.idle -= 1;
        } else {
            self.busy.pop();
        }
        self.busy.push(Reverse(end));
        if start > now {
            self.waiting.push_back(start);
            self.stats.queue_max = self.stats.queue_max.max(self.waiting.len() as u32);
        }
        let wait = start.as_micros() - now.as_micros();
        self.stats.started += 1;
        self.stats.busy_us += u128::from(service.as_micros());
        self.stats.queue_us += u128::from(wait);
        self.stats.in_system_us += u128::from(wait + service.as_micros());
        self.stats.wait.record(wait);
        self.stats.sojourn.record(wait + service.as_micros());
        self.stats.timeline.add(start, end, 1);
        let slot = Slot { start, end };
        match shed {
            Some(s) => PoolAdmission::AdmittedShedding(slot, s),
            None => PoolAdmission::Admitted(slot),
        }
    }

    /// The node crashed at `now`: every worker is free, nothing waits (the
    /// engine drops the jobs whose start it had scheduled).
    pub fn crash(&mut self, now: SimTime) {
        self.stats.lost += self.waiting.iter().filter(|s| **s > now).count() as u64;
        self.waiting.clear();
        self.idle += self.busy.len() as u32;
        self.busy.clear();
    }

    /// The statistics.
    pub fn stats(&self) -> &StationStats {
        &self.stats
    }
}

/// One direction of a network interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Bytes carried.
    pub bytes: u64,
    /// Bytes carried per message class (indexed by the caller's class
    /// number: the engine uses `MsgKind::index`).
    pub bytes_by_class: Vec<u64>,
    /// Messages carried.
    pub messages: u64,
    /// Messages dropped because the backlog was over the limit.
    pub dropped: u64,
    /// Microseconds the link was busy.
    pub busy_us: u128,
    /// Total queueing delay (waiting behind earlier messages), µs.
    pub wait_us: u128,
    /// Largest backlog seen, bytes.
    pub backlog_max_bytes: u64,
    /// Queueing delay of every message, µs.
    pub wait: Histogram,
    /// Busy µs per metrics window.
    pub timeline: Timeline,
}

/// A FIFO link with a bandwidth: a message's transmission takes
/// `bytes / bandwidth` and starts when the previous one is done.
#[derive(Clone, Debug)]
pub struct Link {
    bytes_per_s: u64,
    /// The bandwidth in use, bytes/s: `bytes_per_s` scaled by a degraded
    /// interface's factor (at least 1).
    rate: u64,
    limit_bytes: u64,
    free_at: SimTime,
    stats: LinkStats,
}

impl Link {
    fn new(bytes_per_s: u64, limit_bytes: u64, windows: Windows) -> Self {
        Link {
            bytes_per_s: bytes_per_s.max(1),
            rate: bytes_per_s.max(1),
            limit_bytes,
            free_at: SimTime::ZERO,
            stats: LinkStats {
                timeline: Timeline::new(windows),
                ..LinkStats::default()
            },
        }
    }

    /// Scales the bandwidth by `permille / 1000` from now on.
    fn set_factor(&mut self, permille: u64) {
        let rate = u128::from(self.bytes_per_s) * u128::from(permille.max(1)) / 1000;
        self.rate = rate.clamp(1, u128::from(u64::MAX)) as u64;
    }

    /// Microseconds to carry `bytes` (at least 1 for a non-empty message).
    pub fn transmission(&self, bytes: u64) -> SimDuration {
        // The u64 product is exact for any message under 18 TB; the u128
        // path gives the same result beyond (and keeps the hot path off
        // 128-bit division).
        SimDuration(match bytes.checked_mul(1_000_000) {
            Some(b) => b.div_ceil(self.rate),
            None => (u128::from(bytes) * 1_000_000)
                .div_ceil(u128::from(self.rate))
                .min(u128::from(u64::MAX)) as u64,
        })
    }

    /// Bytes this link carries in `us` microseconds.
    fn bytes_in(&self, us: u64) -> u64 {
        match us.checked_mul(self.rate) {
            Some(b) => b / 1_000_000,
            None => (u128::from(us) * u128::from(self.rate) / 1_000_000).min(u128::from(u64::MAX))
                as u64,
        }
    }

    /// A message of `bytes` enters the link at `now`: when it is through,
    /// or `None` when the backlog ahead of it is over the limit.
    pub fn carry(&mut self, now: SimTime, bytes: u64, class: usize) -> Option<SimTime> {
        let start = self.free_at.max(now);
        let wait = start.as_micros() - now.as_micros();
        let backlog = if wait == 0 { 0 } else { self.bytes_in(wait) };
        if backlog.saturating_add(bytes) > self.limit_bytes && wait > 0 {
            self.stats.dropped += 1;
            return None;
        }
        let done = start + self.transmission(bytes);
        self.free_at = done;
        self.count(bytes, class);
        self.stats.busy_us += u128::from(done.as_micros() - start.as_micros());
        self.stats.wait_us += u128::from(wait);
        self.stats.wait.record(wait);
        self.stats.backlog_max_bytes = self.stats.backlog_max_bytes.max(backlog + bytes);
        self.stats.timeline.add(start, done, 1);
        Some(done)
    }

    /// A message of `bytes` whose last byte arrives at `at`, its bytes
    /// having been sent over the `spread` before (the sender's
    /// transmission): when it is through this link. The link receives at
    /// its own rate, streaming (cut-through): alone on an idle link at least
    /// as fast as the sender, the message is through when its last byte
    /// arrives; behind other messages, or on a slower link, it waits. `None`
    /// when the backlog ahead of it is over the limit.
    pub fn receive(
        &mut self,
        at: SimTime,
        bytes: u64,
        spread: SimDuration,
        class: usize,
    ) -> Option<SimTime> {
        let tx = self.transmission(bytes);
        self.receive_tx(at, bytes, spread, tx, class)
    }

    /// The rate in use, bytes/s.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// [`Link::receive`] with the message's transmission time on this link
    /// already known (`tx`: for a sender whose link has this link's rate it
    /// is the sender's `spread`, with no second division).
    pub fn receive_tx(
        &mut self,
        at: SimTime,
        bytes: u64,
        spread: SimDuration,
        tx: SimDuration,
        class: usize,
    ) -> Option<SimTime> {
        let first_byte = SimTime(at.as_micros().saturating_sub(spread.as_micros()));
        let start = self.free_at.max(first_byte);
        let done = (start + tx).max(at);
        let unhindered = (first_byte + tx).max(at);
        let wait = done.as_micros() - unhindered.as_micros();
        let ahead = self.free_at.as_micros().saturating_sub(at.as_micros());
        let backlog = if ahead == 0 { 0 } else { self.bytes_in(ahead) };
        if backlog.saturating_add(bytes) > self.limit_bytes && self.free_at > at {
            self.stats.dropped += 1;
            return None;
        }
        self.free_at = done;
        self.count(bytes, class);
        self.stats.busy_us += u128::from(tx.as_micros());
        self.stats.wait_us += u128::from(wait);
        self.stats.wait.record(wait);
        self.stats.backlog_max_bytes = self.stats.backlog_max_bytes.max(backlog + bytes);
        let tx_start = SimTime(done.as_micros() - tx.as_micros().min(done.as_micros()));
        self.stats.timeline.add(tx_start, done, 1);
        Some(done)
    }

    fn count(&mut self, bytes: u64, class: usize) {
        self.stats.bytes += bytes;
        self.stats.messages += 1;
        if self.stats.bytes_by_class.len() <= class {
            self.stats.bytes_by_class.resize(class + 1, 0);
        }
        self.stats.bytes_by_class[class] += bytes;
    }

    /// The statistics.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }
}

/// A network interface: egress and ingress links.
#[derive(Clone, Debug)]
pub struct Nic {
    /// Outgoing messages.
    pub egress: Link,
    /// Incoming messages.
    pub ingress: Link,
}

impl Nic {
    /// An idle interface.
    pub fn new(
        egress_bytes_per_s: u64,
        ingress_bytes_per_s: u64,
        limit_bytes: u64,
        windows: Windows,
    ) -> Self {
        Nic {
            egress: Link::new(egress_bytes_per_s, limit_bytes, windows),
            ingress: Link::new(ingress_bytes_per_s, limit_bytes, windows),
        }
    }

    /// Scales both directions' bandwidth by `permille / 1000` from now on
    /// (messages already queued keep their times).
    pub fn set_factor(&mut self, permille: u64) {
        self.egress.set_factor(permille);
        self.ingress.set_factor(permille);
    }

    /// The node crashed: whatever waited to be sent or received is gone.
    pub fn crash(&mut self, now: SimTime) {
        self.egress.free_at = self.egress.free_at.min(now);
        self.ingress.free_at = self.ingress.free_at.min(now);
    }
}

/// Slots a window is split into: the percentile covers the last
/// `SLOTS - 1` full slots and the current one.
const SLOTS: u64 = 10;

/// §6.5's admission controller for one node: foreground sojourn times in a
/// sliding window; background tasks are admitted while the chosen
/// percentile is at or under the target. The verdict is re-evaluated at most
/// once per slot (a tenth of the window).
#[derive(Clone, Debug)]
pub struct AdmissionMonitor {
    slot_us: u64,
    percentile_ppm: u32,
    target_us: u64,
    /// Per slot: the slot number it holds, and its samples.
    slots: Vec<(u64, Histogram)>,
    verdict: Admission,
    next_eval: SimTime,
    /// Evaluations that deferred background work.
    deferrals: u64,
    evaluations: u64,
}

impl AdmissionMonitor {
    /// A monitor with an empty window (background admitted).
    pub fn new(window: SimDuration, percentile_ppm: u32, target: SimDuration) -> Self {
        AdmissionMonitor {
            slot_us: (window.as_micros() / SLOTS).max(1),
            percentile_ppm,
            target_us: target.as_micros(),
            slots: vec![(u64::MAX, Histogram::default()); SLOTS as usize],
            verdict: Admission::Admit,
            next_eval: SimTime::ZERO,
            deferrals: 0,
            evaluations: 0,
        }
    }

    /// A foreground job's sojourn time, observed at `now`.
    pub fn sample(&mut self, now: SimTime, sojourn: SimDuration) {
        let slot = now.as_micros() / self.slot_us;
        let entry = &mut self.slots[(slot % SLOTS) as usize];
        if entry.0 != slot {
            *entry = (slot, Histogram::default());
        }
        entry.1.record(sojourn.as_micros());
    }

    /// The verdict at `now` (re-evaluated once per slot).
    pub fn verdict(&mut self, now: SimTime) -> Admission {
        if now >= self.next_eval {
            let slot = now.as_micros() / self.slot_us;
            let mut window = Histogram::default();
            for (s, h) in &self.slots {
                if *s != u64::MAX && *s + SLOTS > slot {
                    window.merge(h);
                }
            }
            let p = window.quantile_ppm(self.percentile_ppm);
            self.verdict = if window.count() > 0 && p > self.target_us {
                Admission::Defer
            } else {
                Admission::Admit
            };
            self.evaluations += 1;
            if self.verdict == Admission::Defer {
                self.deferrals += 1;
            }
            self.next_eval = SimTime((slot + 1) * self.slot_us);
        }
        self.verdict
    }

    /// `(evaluations, evaluations that deferred background work)`.
    pub fn counts(&self) -> (u64, u64) {
        (self.evaluations, self.deferrals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::queue::EventQueue;
    use crate::engine::rng::{SimRng, Stream};

    /// One-second windows over a run that never ends.
    const W: Windows = Windows {
        width: SimDuration::from_secs(1),
        end: SimTime(u64::MAX),
    };

    fn windows(width_us: u64) -> Windows {
        Windows {
            width: SimDuration(width_us),
            end: SimTime(u64::MAX),
        }
    }

    /// The timeline's cached window gives what dividing every time gives,
    /// for charges and refunds, in any order, inside the last window (the
    /// inlined path), across window edges and past the last window.
    #[test]
    fn the_cached_window_matches_a_division_every_time() {
        let mut rng = SimRng::new(3, Stream::Custom(9));
        for window in [1u64, 7, 1_000, 1_000_000] {
            let mut t = Timeline::new(windows(window));
            let mut naive = vec![0u64; 0];
            let mut last = 0;
            for i in 0..20_000u64 {
                let from = match i % 5 {
                    0 => rng.below(window * 50),
                    1 => i * window / 3,
                    2 => rng.below(u64::from(u32::MAX)) * window,
                    3 => (MAX_WINDOWS as u64 - 2) * window + rng.below(window * 4),
                    // Close to the previous charge: mostly the same window.
                    _ => last + rng.below(window / 4 + 1),
                };
                last = from;
                let to = from + rng.below(window * 3) + 1;
                let weight = 1 + rng.below(3);
                let refund = i % 7 == 6;
                if refund {
                    t.sub(SimTime(from), SimTime(to), weight);
                } else {
                    t.add(SimTime(from), SimTime(to), weight);
                }
                // The timeline as first written: a division per window.
                let mut us = from;
                while us < to {
                    let w = ((us / window) as usize).min(MAX_WINDOWS - 1);
                    let edge = if w == MAX_WINDOWS - 1 {
                        to
                    } else {
                        ((w as u64 + 1) * window).min(to)
                    };
                    if refund {
                        if let Some(b) = naive.get_mut(w) {
                            *b = b.saturating_sub(weight * (edge - us));
                        }
                    } else {
                        if naive.len() <= w {
                            naive.resize(w + 1, 0);
                        }
                        naive[w] += weight * (edge - us);
                    }
                    us = edge;
                }
            }
            assert_eq!(t.busy(), naive.as_slice(), "window {window}");
        }
    }

    /// The pool as first written: every worker's free time in a `Vec`,
    /// the earliest taken by a linear scan (O(workers) per message).
    fn reference_start(free: &mut [SimTime], now: SimTime, service: u64) -> (u64, u64) {
        let (w, t) = free
            .iter()
            .enumerate()
            .min_by_key(|(i, t)| (**t, *i))
            .map(|(i, t)| (i, *t))
            .expect("a worker");
        let start = t.max(now);
        free[w] = start + SimDuration(service);
        (start.as_micros(), start.as_micros() + service)
    }

    #[test]
    fn the_heap_pool_starts_every_job_when_the_linear_scan_did() {
        let mut rng = SimRng::new(7, Stream::Custom(1));
        for workers in [1u32, 2, 3, 8, 64] {
            let mut p = Pool::new(workers, u32::MAX, OverloadPolicy::Reject, W);
            let mut free = vec![SimTime::ZERO; workers as usize];
            let mut now = SimTime::ZERO;
            for i in 0..20_000u64 {
                now = now + SimDuration(rng.below(50));
                if i % 5000 == 4999 {
                    p.crash(now);
                    for f in &mut free {
                        *f = (*f).min(now);
                    }
                }
                let service = rng.below(100 * u64::from(workers));
                let got = match p.admit(now, SimDuration(service)) {
                    PoolAdmission::Admitted(s) => (s.start.as_micros(), s.end.as_micros()),
                    other => panic!("{other:?}"),
                };
                assert_eq!(got, reference_start(&mut free, now, service), "job {i}");
            }
        }
    }

    #[test]
    fn a_million_workers_cost_only_the_busy_ones() {
        let mut p = Pool::new(1_000_000, 10, OverloadPolicy::Reject, W);
        for i in 0..100_000u64 {
            let now = SimTime(i);
            assert!(matches!(
                p.admit(now, SimDuration(50)),
                PoolAdmission::Admitted(s) if s.start == now
            ));
        }
        assert!(p.busy.len() <= 51, "{} busy entries", p.busy.len());
    }

    #[test]
    fn a_pool_schedules_first_come_first_served_on_the_first_free_worker() {
        let mut p = Pool::new(2, 1, OverloadPolicy::Reject, W);
        let slot = |a: PoolAdmission| match a {
            PoolAdmission::Admitted(s) => (s.start.as_micros(), s.end.as_micros()),
            other => panic!("{other:?}"),
        };
        assert_eq!(slot(p.admit(SimTime(0), SimDuration(10))), (0, 10));
        assert_eq!(slot(p.admit(SimTime(1), SimDuration(10))), (1, 11));
        assert_eq!(slot(p.admit(SimTime(2), SimDuration(5))), (10, 15));
        assert_eq!(p.admit(SimTime(3), SimDuration(5)), PoolAdmission::Refused);
        assert_eq!(slot(p.admit(SimTime(10), SimDuration(5))), (11, 16));
        let st = p.stats();
        assert_eq!(st.queue_us, 8 + 1);
        assert_eq!(st.busy_us, 30);
        assert_eq!(st.refused, 1);
        let mut s = Pool::new(1, 1, OverloadPolicy::ShedOldest, W);
        s.admit(SimTime(0), SimDuration(10));
        s.admit(SimTime(1), SimDuration(10));
        match s.admit(SimTime(2), SimDuration(10)) {
            PoolAdmission::AdmittedShedding(slot, shed) => {
                assert_eq!(shed, SimTime(10));
                assert_eq!(slot.start, SimTime(20), "the shed slot stays idle");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_free_server_starts_a_job_at_once_and_a_busy_one_queues_it() {
        let mut s: Station<u32> = Station::new(1, 10, OverloadPolicy::Reject, W);
        assert_eq!(s.arrive(SimTime(0), 1), Arrival::Start(1));
        assert_eq!(s.arrive(SimTime(5), 2), Arrival::Queued);
        assert_eq!(s.queue_len(), 1);
        assert_eq!(s.complete(SimTime(10), SimTime(0)), Some(2));
        assert_eq!(s.complete(SimTime(20), SimTime(5)), None);
        let st = s.stats_at(SimTime(20));
        assert_eq!(st.busy_us, 20);
        assert_eq!(st.queue_us, 5, "job 2 waited from 5 to 10");
        assert_eq!(st.wait.max(), 5);
        assert_eq!(st.sojourn.max(), 15);
    }

    #[test]
    fn a_full_queue_refuses_or_sheds_the_oldest() {
        let mut r: Station<u32> = Station::new(1, 1, OverloadPolicy::Reject, W);
        assert_eq!(r.arrive(SimTime(0), 1), Arrival::Start(1));
        assert_eq!(r.arrive(SimTime(1), 2), Arrival::Queued);
        assert_eq!(r.arrive(SimTime(2), 3), Arrival::Refused(3));
        let mut s: Station<u32> = Station::new(1, 1, OverloadPolicy::ShedOldest, W);
        assert_eq!(s.arrive(SimTime(0), 1), Arrival::Start(1));
        assert_eq!(s.arrive(SimTime(1), 2), Arrival::Queued);
        assert_eq!(s.arrive(SimTime(2), 3), Arrival::Shed(2));
        assert_eq!(s.complete(SimTime(3), SimTime(0)), Some(3));
        let mut z: Station<u32> = Station::new(1, 0, OverloadPolicy::ShedOldest, W);
        assert_eq!(z.arrive(SimTime(0), 1), Arrival::Start(1));
        assert_eq!(z.arrive(SimTime(0), 2), Arrival::Refused(2));
    }

    #[test]
    fn a_stalled_station_starts_nothing_until_it_resumes() {
        let mut s: Station<u32> = Station::new(2, 10, OverloadPolicy::Reject, W);
        s.stall(SimTime(0), SimTime(100));
        assert_eq!(s.arrive(SimTime(10), 1), Arrival::Queued);
        assert_eq!(s.arrive(SimTime(20), 2), Arrival::Queued);
        assert_eq!(s.arrive(SimTime(30), 3), Arrival::Queued);
        assert_eq!(s.resume(SimTime(100)), vec![1, 2]);
        assert_eq!(s.complete(SimTime(150), SimTime(10)), Some(3));
    }

    #[test]
    fn a_link_serialises_messages_and_drops_over_its_backlog_limit() {
        // 1 MB/s: 1000 bytes take 1 ms.
        let mut l = Link::new(1_000_000, 2_500, W);
        assert_eq!(l.carry(SimTime(0), 1000, 0), Some(SimTime(1000)));
        assert_eq!(l.carry(SimTime(0), 1000, 0), Some(SimTime(2000)));
        // 2000 bytes ahead + 1000 > 2500: dropped.
        assert_eq!(l.carry(SimTime(0), 1000, 0), None);
        assert_eq!(l.carry(SimTime(1500), 1000, 0), Some(SimTime(3000)));
        assert_eq!(l.stats().busy_us, 3000);
        assert_eq!(l.stats().dropped, 1);
        l.set_factor(500);
        assert_eq!(l.carry(SimTime(10_000), 1000, 0), Some(SimTime(12_000)));
    }

    #[test]
    fn ingress_streams_one_flow_and_serialises_converging_ones() {
        // 1 MB/s: 1000 bytes take 1 ms; sent over 1 ms, last byte at 5 ms.
        let mut l = Link::new(1_000_000, 1_000_000, W);
        let spread = SimDuration(1000);
        assert_eq!(
            l.receive(SimTime(5000), 1000, spread, 0),
            Some(SimTime(5000))
        );
        // Two senders' messages arriving together: the second waits.
        assert_eq!(
            l.receive(SimTime(9000), 1000, spread, 0),
            Some(SimTime(9000))
        );
        assert_eq!(
            l.receive(SimTime(9000), 1000, spread, 0),
            Some(SimTime(10_000))
        );
        // A fast sender into a slow link: the link's rate bounds it.
        let mut slow = Link::new(500_000, 1_000_000, W);
        assert_eq!(
            slow.receive(SimTime(5000), 1000, SimDuration(100), 0),
            Some(SimTime(6900))
        );
    }

    #[test]
    fn timelines_split_busy_time_at_window_edges() {
        let mut t = Timeline::new(windows(10));
        t.add(SimTime(5), SimTime(25), 2);
        assert_eq!(t.busy(), &[10, 20, 10]);
    }

    /// Service that runs past the run's end is not the run's: it is not
    /// counted (a 10 s service admitted near the end of a short run with
    /// 10 ms windows filled 65,536 windows, the last one 52,688 times
    /// over busy, and the summary 64 MB past the budget's estimate).
    #[test]
    fn timelines_stop_at_the_run_end() {
        let mut t = Timeline::new(Windows {
            width: SimDuration(10),
            end: SimTime(32),
        });
        // Inside one window (the inlined path), then across the end.
        t.add(SimTime(30), SimTime(31), 1);
        t.add(SimTime(5), SimTime(10_000_000), 2);
        assert_eq!(t.busy(), &[10, 20, 20, 5]);
        // A refund clips the same way.
        t.sub(SimTime(25), SimTime(10_000_000), 2);
        assert_eq!(t.busy(), &[10, 20, 10, 1]);
        // Time after the end changes nothing.
        t.add(SimTime(40), SimTime(50), 1);
        t.add(SimTime(32), SimTime(33), 1);
        assert_eq!(t.busy(), &[10, 20, 10, 1]);
        // A run's end on a window edge leaves no empty window after it.
        let mut t = Timeline::new(Windows {
            width: SimDuration(10),
            end: SimTime(30),
        });
        t.add(SimTime(0), SimTime(1_000), 1);
        assert_eq!(t.busy(), &[10, 10, 10]);
    }

    #[test]
    fn admission_defers_while_the_percentile_is_over_target() {
        let mut m = AdmissionMonitor::new(W.width, 990_000, SimDuration::from_millis(50));
        assert_eq!(m.verdict(SimTime(0)), Admission::Admit);
        for i in 0..100 {
            m.sample(SimTime(i * 1000), SimDuration::from_millis(80));
        }
        assert_eq!(m.verdict(SimTime(100_000)), Admission::Defer);
        // A window later the slow samples have left it.
        assert_eq!(m.verdict(SimTime(1_200_000)), Admission::Admit);
        assert_eq!(m.counts(), (3, 1));
    }

    /// Drives one station with Poisson arrivals and exponential service
    /// (M/M/c) through the real event queue; returns (mean time in system,
    /// mean wait, mean number in system) in µs and jobs.
    fn simulate_mmc(
        c: u32,
        lambda_per_s: f64,
        mu_per_s: f64,
        jobs: u64,
        seed: u64,
    ) -> (f64, f64, f64) {
        #[derive(Debug)]
        enum Ev {
            Arrive(u64),
            Done(SimTime),
        }
        let mut rng = SimRng::new(seed, Stream::Custom(7));
        let mut st: Station<SimTime> = Station::new(c, u32::MAX, OverloadPolicy::Reject, W);
        let mut q: EventQueue<Ev> = EventQueue::new();
        let ia = 1e6 / lambda_per_s;
        let sv = 1e6 / mu_per_s;
        let draw = |rng: &mut SimRng, mean: f64| SimDuration(rng.exp_f64(mean).round() as u64);
        q.push(SimTime(0), Ev::Arrive(0));
        let mut end = SimTime(0);
        let mut sojourn_sum = 0u128;
        let mut done_jobs = 0u64;
        // Warm-up: skip the first 1 % of completions.
        let warm = jobs / 100;
        while let Some((now, ev)) = q.pop() {
            match ev {
                Ev::Arrive(i) => {
                    if let Arrival::Start(a) = st.arrive(now, now) {
                        q.push(now + draw(&mut rng, sv), Ev::Done(a));
                    }
                    if i + 1 < jobs {
                        q.push(now + draw(&mut rng, ia), Ev::Arrive(i + 1));
                    }
                }
                Ev::Done(arrived) => {
                    done_jobs += 1;
                    if done_jobs > warm {
                        sojourn_sum += u128::from(now.as_micros() - arrived.as_micros());
                    }
                    if let Some(next) = st.complete(now, arrived) {
                        q.push(now + draw(&mut rng, sv), Ev::Done(next));
                    }
                    end = now;
                }
            }
        }
        let stats = st.stats_at(end).clone();
        let counted = (done_jobs - warm) as f64;
        let mean_t = sojourn_sum as f64 / counted;
        let mean_wait = stats.wait.mean();
        let mean_n = stats.in_system_us as f64 / end.as_micros() as f64;
        (mean_t, mean_wait, mean_n)
    }

    fn erlang_c(c: u32, a: f64) -> f64 {
        // Probability of waiting, offered load a = lambda / mu.
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..c {
            term *= a / f64::from(k);
            sum += term;
        }
        let last = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
        last / (sum + last)
    }

    #[test]
    fn mm1_time_in_system_matches_one_over_mu_minus_lambda() {
        for (rho, seed) in [(0.5, 11), (0.8, 12)] {
            let mu = 1000.0; // 1 ms mean service
            let lambda = rho * mu;
            let (t, _, n) = simulate_mmc(1, lambda, mu, 2_000_000, seed);
            let expected = 1e6 / (mu - lambda);
            assert!(
                (t - expected).abs() / expected < 0.03,
                "rho {rho}: mean time in system {t:.1} us, M/M/1 gives {expected:.1}"
            );
            // Little's law: L = lambda * W (W in seconds).
            let little = lambda * t / 1e6;
            assert!(
                (n - little).abs() / little < 0.03,
                "rho {rho}: L = {n:.4}, lambda W = {little:.4}"
            );
        }
    }

    #[test]
    fn mmc_mean_wait_matches_erlang_c() {
        let (c, mu, lambda) = (4u32, 1000.0, 3200.0); // utilisation 0.8
        let (_, wait, _) = simulate_mmc(c, lambda, mu, 2_000_000, 13);
        let a = lambda / mu;
        let expected = erlang_c(c, a) / (f64::from(c) * mu - lambda) * 1e6;
        assert!(
            (wait - expected).abs() / expected < 0.05,
            "mean wait {wait:.1} us, Erlang C gives {expected:.1}"
        );
    }
}
