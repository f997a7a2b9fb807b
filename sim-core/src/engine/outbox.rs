//! The outbox: how a state machine asks the engine to act.
//!
//! Handlers (`on_message`, `on_timer`) return nothing; they push [`Command`]s
//! into an [`Outbox`] the engine owns and reuses between calls. The engine
//! turns sends into network transmissions, timers into queue events and
//! records into sink calls. A state machine never touches the queue, the
//! network or the clock itself.

use crate::dynamo::protocol::{Endpoint, Msg};
use crate::engine::record::Record;
use crate::engine::time::SimDuration;

/// One request from a state machine to the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Command<T> {
    /// Send `msg` to `to` after a local processing `delay` (e.g. a disk write
    /// before an acknowledgement). The message enters the network then; if the
    /// sender crashes first, it is never sent.
    Send {
        /// The receiver.
        to: Endpoint,
        /// The message.
        msg: Msg,
        /// Local delay before the message leaves.
        delay: SimDuration,
    },
    /// Fire `timer` after `after`. At most one instance of a timer value is
    /// armed: setting it again re-arms it. Handlers still check whether a
    /// timer that fires matters (a node may restart in between).
    SetTimer {
        /// The timer.
        timer: T,
        /// Delay.
        after: SimDuration,
    },
    /// Disarm `timer` if it is armed (e.g. a request timeout once the request
    /// completed), so it neither fires nor occupies the event queue.
    CancelTimer {
        /// The timer.
        timer: T,
    },
    /// An observation for the sink.
    Record(Record),
    /// Disk work on the node's disk queue (node capacity): `io` waits for
    /// the disk, is served, and then `then` (if any) is sent. A node asks
    /// for this only when it has a disk queue; without one it draws its
    /// storage latency itself and uses a delayed `Send`.
    Disk {
        /// The operations.
        io: DiskIo,
        /// The message to send once they are done.
        then: Option<(Endpoint, Msg)>,
    },
}

/// Reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskOp {
    /// Reads.
    Read,
    /// Durable writes.
    Write,
}

/// A disk job: `ops` operations of one kind. The disk serves one operation
/// at a time and sends the job back to the end of its queue until all are
/// done, so a large job (a hint batch, a transfer batch, a buffer flush)
/// holds one channel at a time, as a writer thread does, and operations
/// that arrive meanwhile interleave with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskIo {
    /// Reads or writes.
    pub op: DiskOp,
    /// How many (at least 1).
    pub ops: u32,
    /// Part of a client's get or put (§6.5's admission controller watches
    /// these), as opposed to background work.
    pub foreground: bool,
}

/// A reusable buffer of commands.
#[derive(Debug)]
pub struct Outbox<T> {
    commands: Vec<Command<T>>,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Outbox {
            commands: Vec::new(),
        }
    }
}

impl<T> Outbox<T> {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sends `msg` to `to` now.
    pub fn send(&mut self, to: Endpoint, msg: Msg) {
        self.commands.push(Command::Send {
            to,
            msg,
            delay: SimDuration::ZERO,
        });
    }
    /// Sends `msg` to `to` after a local delay.
    pub fn send_after(&mut self, to: Endpoint, msg: Msg, delay: SimDuration) {
        self.commands.push(Command::Send { to, msg, delay });
    }
    /// Arms `timer`.
    pub fn set_timer(&mut self, timer: T, after: SimDuration) {
        self.commands.push(Command::SetTimer { timer, after });
    }
    /// Disarms `timer`.
    pub fn cancel_timer(&mut self, timer: T) {
        self.commands.push(Command::CancelTimer { timer });
    }
    /// Queues disk work, then sends `then` (node capacity).
    pub fn disk(&mut self, io: DiskIo, then: Option<(Endpoint, Msg)>) {
        self.commands.push(Command::Disk { io, then });
    }
    /// Emits an observation.
    pub fn record(&mut self, record: Record) {
        self.commands.push(Command::Record(record));
    }
    /// Takes the commands out, leaving the buffer empty (capacity kept).
    pub fn drain(&mut self) -> std::vec::Drain<'_, Command<T>> {
        self.commands.drain(..)
    }
    /// Number of queued commands.
    pub fn len(&self) -> usize {
        self.commands.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}
