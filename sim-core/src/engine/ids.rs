//! Identifiers: small `Copy + Ord` newtypes so that maps keyed by them iterate
//! in a defined order and a node id can never be confused with a client id.

use std::fmt;

/// A physical storage node (dense index, `0..node_count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    /// Physical node ids stay below this; ids at or above it are actor ids
    /// of later epochs ([`NodeId::actor`]).
    pub const EPOCH_STRIDE: u32 = 1 << 20;

    /// The id this node signs vector clock entries with in `epoch` (0: its
    /// own id). A node that lost its disk moves to a new epoch, so the dots
    /// it issues can never equal dots it issued before (Riak's vnode
    /// epochs). Epochs beyond the id space wrap, which a run never reaches.
    pub fn actor(self, epoch: u32) -> NodeId {
        debug_assert!(self.0 < Self::EPOCH_STRIDE, "{self} is already an actor id");
        let span = u32::MAX / Self::EPOCH_STRIDE;
        NodeId(self.0 + (epoch % span) * Self::EPOCH_STRIDE)
    }

    /// The physical node behind an actor id.
    pub fn physical(self) -> NodeId {
        NodeId(self.0 % Self::EPOCH_STRIDE)
    }

    /// The epoch of an actor id.
    pub fn epoch(self) -> u32 {
        self.0 / Self::EPOCH_STRIDE
    }
}

/// A client session (dense index, `0..client_count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u32);

impl ClientId {
    /// The load phase's writer (`workload.keys.preload`): not a session, it
    /// never issues operations; its writes are [`WriteId::preloaded`].
    pub const LOADER: ClientId = ClientId(u32::MAX);
}

/// A key of the store. Keys are numbered `0..key_count`; the ring position of a
/// key is the MD5 of its number (see `ring::key_token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub u64);

/// A request a coordinator is handling, unique within the coordinating node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// A client operation, unique within the run: `(client, sequence number)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId {
    /// The client that issued the operation.
    pub client: ClientId,
    /// The client's own operation counter, from 1.
    pub seq: u64,
}

/// The identity of one written value. Every put writes a value nobody wrote
/// before, so the checker knows exactly which write a read returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteId(pub OpId);

impl WriteId {
    /// The value the load phase wrote to `key`.
    pub fn preloaded(key: Key) -> WriteId {
        WriteId(OpId {
            client: ClientId::LOADER,
            seq: key.0 + 1,
        })
    }

    /// True for a value written by the load phase.
    pub fn is_preloaded(self) -> bool {
        self.0.client == ClientId::LOADER
    }
}

/// A datacenter (dense index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DatacenterId(pub u16);

impl fmt::Display for NodeId {
    /// `n3`; an actor id of a later epoch shows it: `n3e1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.epoch() {
            0 => write!(f, "n{}", self.0),
            e => write!(f, "n{}e{e}", self.physical().0),
        }
    }
}
impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == ClientId::LOADER {
            return write!(f, "loader");
        }
        write!(f, "c{}", self.0)
    }
}
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k{}", self.0)
    }
}
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}
impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.client, self.seq)
    }
}
impl fmt::Display for WriteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_preloaded() {
            // The load phase's value of key `seq - 1`.
            write!(f, "vload.{}", self.0.seq)
        } else {
            write!(f, "v{}.{}", self.0.client.0, self.0.seq)
        }
    }
}
impl fmt::Display for DatacenterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dc{}", self.0)
    }
}
