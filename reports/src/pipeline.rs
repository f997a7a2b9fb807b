//! Consuming a run's records on a second thread, beside the engine.
//!
//! A run's records go one way, from the engine to its sink, and the engine
//! never reads anything back: so the collector (and whatever else consumes
//! the records) can work on another core while the engine simulates. The
//! engine's side moves each record into a batch; full batches cross a
//! bounded channel to the consumer thread, which feeds them to the real sink
//! in the same order, one record at a time, and hands the batches back for
//! reuse; the engine's side drops the records it made.
//! When the run's end phase begins ([`Sink::end_phase`]) the consumer
//! thread drains the batches and gives the consumer back, and the rest of
//! the records (the end state) reach it on the engine's thread, where the
//! memory the engine frees as each node reports can be reused for what the
//! consumer builds from them.
//!
//! This module owns that hand-over and nothing else. It must never change
//! what the sink sees: the same records, in the same order, with the same
//! times, as when the engine calls the sink directly (tested by comparing
//! the two). The run itself cannot depend on it: the engine writes records
//! and reads nothing from its sink. Threads are used here only, outside the
//! simulation, so a run stays a pure function of its scenario and seed.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;

/// Records per batch: large enough that the channel costs little per
/// record, small enough that a batch stays in the cache.
pub const BATCH: usize = 512;

/// Batches in flight at most (the channel's bound): the engine waits when
/// the consumer is this far behind, so memory stays bounded.
pub const IN_FLIGHT: usize = 16;

type Batch = Vec<(SimTime, Record)>;

/// The engine's side: a [`Sink`] that batches records for the consumer
/// thread, and from the end phase on ([`Sink::end_phase`]) hands them to
/// the consumer directly, once the consumer thread has seen every earlier
/// record and given the consumer back.
struct Feeder<'c, S> {
    batch: Batch,
    /// `None` once the consumer thread was told to finish.
    full: Option<SyncSender<Batch>>,
    empty: Receiver<Batch>,
    /// Where the consumer thread gives the consumer back when it finishes.
    back: Receiver<&'c mut S>,
    /// The consumer, on this thread, for the end phase.
    direct: Option<&'c mut S>,
}

impl<S> Feeder<'_, S> {
    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let Some(full_tx) = &self.full else {
            // Only when the consumer thread panicked before giving the
            // consumer back: the scope's join reports that panic.
            self.batch.clear();
            return;
        };
        // A returned batch still holds its records: dropping them here, on
        // the thread that allocated them, keeps their memory in this
        // thread's allocator caches for the next records (freed on the
        // consumer's thread, every record's vectors went back across
        // threads and the engine's thread allocated afresh: 1.5 s of its
        // 6.6 on the baseline).
        let mut next = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        next.clear();
        let full = std::mem::replace(&mut self.batch, next);
        // The consumer only stops receiving when it panicked; the scope's
        // join reports that panic, so a failed send is not an error here.
        let _ = full_tx.send(full);
    }
}

impl<S: Sink> Sink for Feeder<'_, S> {
    fn record(&mut self, at: SimTime, record: &Record) {
        match &mut self.direct {
            Some(consumer) => consumer.record(at, record),
            None => self.record_owned(at, record.clone()),
        }
    }

    fn record_owned(&mut self, at: SimTime, record: Record) {
        if let Some(consumer) = &mut self.direct {
            consumer.record_owned(at, record);
            return;
        }
        self.batch.push((at, record));
        if self.batch.len() == BATCH {
            self.send();
        }
    }

    /// The end state is built on the engine's thread, in the memory the
    /// engine frees as each node reports (on the consumer's thread it was
    /// new memory beside the engine's: 2M blind writes over 1M keys peaked
    /// 90 MB higher with two threads than with one).
    fn end_phase(&mut self) {
        if let Some(consumer) = &mut self.direct {
            consumer.end_phase();
            return;
        }
        self.send();
        self.full = None;
        // The consumer thread drains every batch, then gives the consumer
        // back; an error means it panicked (reported by the join).
        self.direct = self.back.recv().ok();
        if let Some(consumer) = &mut self.direct {
            consumer.end_phase();
        }
    }
}

/// True when the machine has a second core for the consumer (otherwise the
/// two threads would take turns on one, for nothing).
pub fn worth_a_thread() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Runs `produce` with a sink whose records reach `consumer` on another
/// thread, in order, until the first end phase ([`Sink::end_phase`]); from
/// then on `consumer` is called on this thread. Returns when `consumer` has
/// seen every record. `consumer` sees exactly what it would see if
/// `produce` called it directly, end phases included.
pub fn pipelined<S, R>(consumer: &mut S, produce: impl FnOnce(&mut dyn Sink) -> R) -> R
where
    S: Sink + Send,
{
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (back_tx, back_rx) = sync_channel::<&mut S>(1);
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            for batch in full_rx {
                for (at, record) in &batch {
                    consumer.record(*at, record);
                }
                // Back to the feeder, records and all (dropped here only
                // when it already holds enough spares).
                let _ = empty_tx.try_send(batch);
            }
            // The feeder is done with this thread (its end phase, or the
            // end of the run): the consumer goes back to it.
            let _ = back_tx.send(consumer);
        });
        let mut feeder = Feeder {
            batch: Vec::with_capacity(BATCH),
            full: Some(full_tx),
            empty: empty_rx,
            back: back_rx,
            direct: None,
        };
        let out = produce(&mut feeder);
        feeder.send();
        drop(feeder);
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
        out
    })
}
