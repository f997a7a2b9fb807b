//! The top-N replicas' final copies of touched keys, kept compact: the end
//! state is the largest thing the collector holds at the end of a run over
//! many keys (2M blind writes over 1M loaded keys leave about 2.6M copies
//! and 9M values).
//!
//! A copy is 16 bytes (key, node, where its values start) and a value 8:
//! a write id packed as 24 bits of client and 40 of sequence number, with
//! the loader's writes and anything that does not fit spelled out in a
//! side list. Both lists are kept in chunks ([`chunk_bytes`]) rather
//! than one growing block: they hold at most a chunk more than they need,
//! nothing is ever copied to grow them, and each chunk is the size of the
//! store map leaves the engine frees as each node reports, so the
//! allocator places the chunks in the leaves' memory (a list of whole-run
//! size allocated as one block would add to the run's peak instead of
//! taking the stores' place).
//!
//! This module owns that layout and nothing else: what a copy means is the
//! collector's business (`metrics.rs`, "End state").

use sim_core::config::Versioning;
use sim_core::engine::ids::{ClientId, Key, NodeId, OpId, WriteId};

/// Bits of a packed write's sequence number.
const SEQ_BITS: u32 = 40;
/// The packed client field of the loader's writes.
const LOADER: u64 = (1 << (64 - SEQ_BITS)) - 1;
/// The packed client field of a write kept in the side list; the sequence
/// field is its index there.
const SPELLED_OUT: u64 = LOADER - 1;

/// Write ids, 8 bytes each where they fit (see the module docs).
#[derive(Clone, Debug)]
struct PackedWrites {
    codes: Chunked<u64>,
    spelled_out: Vec<WriteId>,
}

impl PackedWrites {
    fn push(&mut self, w: WriteId) {
        let OpId { client, seq } = w.0;
        let client = if client == ClientId::LOADER {
            Some(LOADER)
        } else {
            Some(u64::from(client.0)).filter(|c| *c < SPELLED_OUT)
        };
        let code = match client {
            Some(c) if seq < 1 << SEQ_BITS => c << SEQ_BITS | seq,
            _ => {
                self.spelled_out.push(w);
                SPELLED_OUT << SEQ_BITS | (self.spelled_out.len() - 1) as u64
            }
        };
        self.codes.push(code);
    }

    fn get(&self, i: usize) -> WriteId {
        let code = self.codes.get(i).expect("a value's index");
        let (client, seq) = (code >> SEQ_BITS, code & ((1 << SEQ_BITS) - 1));
        match client {
            LOADER => WriteId(OpId {
                client: ClientId::LOADER,
                seq,
            }),
            SPELLED_OUT => self.spelled_out[seq as usize],
            c => WriteId(OpId {
                client: ClientId(c as u32),
                seq,
            }),
        }
    }

    fn len(&self) -> usize {
        self.codes.len()
    }
}

/// Bytes per chunk of a [`Chunked`] list: the size of a leaf of the store
/// maps whose keys most copies come from. A store keeps a key with one
/// entry (every key under last-write-wins) in a `BTreeMap<Key, Slot>`,
/// whose leaf of eleven 16-byte pairs is 188 bytes, and a key with several
/// siblings (under vector clocks, every blind-written loaded key) in a
/// `BTreeMap<Key, Box<[Slot]>>`, whose leaf of eleven 24-byte pairs is
/// 280 bytes; mimalloc, the `dynasim` binary's allocator, serves them from
/// its 192- and 320-byte classes (the system allocator's bins differ and
/// gain less). The engine frees those leaves by the hundred thousand as
/// each node reports its end state, and an allocator reuses a freed block
/// for the next one of its size class on the same thread, so chunks of
/// that size take the leaves' place instead of adding to the run's peak
/// (the collector builds the end state on the engine's thread:
/// [`sim_core::engine::record::Sink::end_phase`]). Measured (twelfth
/// session, when the engine still built blind-written keys' loaded
/// versions), 2M blind writes over 1M keys: under vector clocks 690 MB
/// peak with 320-byte chunks and 771 with 192-byte ones; under
/// last-write-wins 426 MB with 192-byte chunks and 451 with 320-byte ones
/// (with one map of 280-byte leaves for every key, before: 913 MB under
/// vector clocks with 1 KB and 2 KB chunks, 824 with 320 bytes, 905 with
/// 384, 927 with 256). A list grown as one block would be a fresh mapping
/// of its own, briefly held twice when it grows.
pub(super) fn chunk_bytes(versioning: Versioning) -> usize {
    match versioning {
        Versioning::LastWriteWins => 192,
        Versioning::VectorClocks { .. } => 320,
    }
}

/// An append-only list kept in fixed chunks (see [`chunk_bytes`]): it
/// never moves what it holds, holds at most one chunk more than it needs,
/// and each chunk is a small allocation.
#[derive(Clone, Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
    /// Elements per chunk (at least one).
    n: usize,
}

impl<T> Chunked<T> {
    /// A list of chunks of about `bytes` bytes.
    fn with_chunk_bytes(bytes: usize) -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
            n: (bytes / std::mem::size_of::<T>()).max(1),
        }
    }
}

impl<T: Copy> Chunked<T> {
    fn push(&mut self, x: T) {
        if self.len % self.n == 0 {
            self.chunks.push(Vec::with_capacity(self.n));
        }
        self.chunks.last_mut().expect("a chunk with room").push(x);
        self.len += 1;
    }

    fn get(&self, i: usize) -> Option<T> {
        (i < self.len).then(|| self.chunks[i / self.n][i % self.n])
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Elements allocated for, used or not.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }
}

/// One copy: 16 bytes.
#[derive(Clone, Copy, Debug)]
struct Copy16 {
    key: Key,
    node: NodeId,
    /// Where its values start; they end where the next copy's start.
    start: u32,
}

/// The final copies, in arrival order.
#[derive(Clone, Debug)]
pub(super) struct FinalCopies {
    copies: Chunked<Copy16>,
    writes: PackedWrites,
}

impl FinalCopies {
    /// No copies yet; the lists grow by chunks of about `chunk_bytes` bytes
    /// (see [`chunk_bytes`]).
    pub(super) fn new(chunk_bytes: usize) -> Self {
        FinalCopies {
            copies: Chunked::with_chunk_bytes(chunk_bytes),
            writes: PackedWrites {
                codes: Chunked::with_chunk_bytes(chunk_bytes),
                spelled_out: Vec::new(),
            },
        }
    }

    /// Adds `node`'s copy of `key` holding `values`.
    pub(super) fn push(
        &mut self,
        key: Key,
        node: NodeId,
        values: impl IntoIterator<Item = WriteId>,
    ) {
        let start = u32::try_from(self.writes.len()).expect("fewer than 2^32 final values");
        self.copies.push(Copy16 { key, node, start });
        for w in values {
            self.writes.push(w);
        }
    }

    /// How many copies.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.copies.len()
    }

    /// Copy `i`'s key and node.
    pub(super) fn copy(&self, i: u32) -> (Key, NodeId) {
        let c = self.copies.get(i as usize).expect("a copy's index");
        (c.key, c.node)
    }

    /// Copy `i`'s values, in the order they arrived.
    pub(super) fn values(&self, i: u32) -> impl Iterator<Item = WriteId> + '_ {
        let start = self.copies.get(i as usize).expect("a copy's index").start as usize;
        let end = self
            .copies
            .get(i as usize + 1)
            .map_or(self.writes.len(), |c| c.start as usize);
        (start..end).map(|j| self.writes.get(j))
    }

    /// The copies by (key, node), arrival order among equal ones.
    pub(super) fn by_key(&self) -> ByKey {
        let mut order: Vec<u32> = (0..self.copies.len() as u32).collect();
        order.sort_by_key(|&i| {
            let (key, node) = self.copy(i);
            (key, node, i)
        });
        ByKey {
            order,
            cursor: std::cell::Cell::new(0),
        }
    }
}

/// Copy indices sorted by (key, node); see [`FinalCopies::by_key`].
pub(super) struct ByKey {
    order: Vec<u32>,
    /// Where the last answer ended: the summary asks for keys in order, so
    /// the next answer usually starts there (a search from it costs a few
    /// probes instead of one per level over every copy, each a cache miss).
    cursor: std::cell::Cell<usize>,
}

impl ByKey {
    /// The copies of `key`, by node.
    pub(super) fn of<'a>(&'a self, copies: &FinalCopies, key: Key) -> &'a [u32] {
        let order = &self.order;
        let key_at = |i: usize| copies.copy(order[i]).0;
        let n = order.len();
        let c = self.cursor.get().min(n);
        let from = if c == 0 || key_at(c - 1) < key {
            // Every copy before `c` is of a smaller key: gallop from it.
            let (mut lo, mut hi, mut step) = (c, c, 1);
            while hi < n && key_at(hi) < key {
                lo = hi + 1;
                hi = (hi + step).min(n);
                step *= 2;
            }
            lo + order[lo..hi].partition_point(|&i| copies.copy(i).0 < key)
        } else {
            order[..c].partition_point(|&i| copies.copy(i).0 < key)
        };
        let mut to = from;
        while to < n && key_at(to) == key {
            to += 1;
        }
        self.cursor.set(to);
        &order[from..to]
    }

    /// Every key with a copy, in order, once each.
    pub(super) fn keys<'a>(&'a self, copies: &'a FinalCopies) -> impl Iterator<Item = Key> + 'a {
        let mut last = None;
        self.order.iter().filter_map(move |&i| {
            let key = copies.copy(i).0;
            (last != Some(key)).then(|| {
                last = Some(key);
                key
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn write(client: u32, seq: u64) -> WriteId {
        WriteId(OpId {
            client: ClientId(client),
            seq,
        })
    }

    proptest! {
        /// Packing gives back every write id, whatever its client and
        /// sequence number (the loader's, ones too large to pack, ordinary
        /// ones), and copies give back their own values.
        #[test]
        fn copies_give_back_what_was_pushed(
            copies in prop::collection::vec(
                (0u64..50, 0u32..8, prop::collection::vec(
                    prop_oneof![
                        (0u32..100, 0u64..1000).prop_map(|(c, s)| write(c, s)),
                        any::<(u32, u64)>().prop_map(|(c, s)| write(c, s)),
                        (0u64..1 << 45).prop_map(|k| WriteId::preloaded(Key(k))),
                        Just(write(u32::MAX - 1, 1)),
                        Just(write(0, u64::MAX)),
                    ],
                    0..5,
                )),
                0..40,
            )
        ) {
            let mut f = FinalCopies::new(192);
            for (key, node, values) in &copies {
                f.push(Key(*key), NodeId(*node), values.iter().copied());
            }
            prop_assert_eq!(f.len(), copies.len());
            for (i, (key, node, values)) in copies.iter().enumerate() {
                prop_assert_eq!(f.copy(i as u32), (Key(*key), NodeId(*node)));
                prop_assert_eq!(&f.values(i as u32).collect::<Vec<_>>(), values);
            }
            // By key: each key's copies, by node, stable among repeats.
            let by = f.by_key();
            let mut expected: Vec<(u64, u32, usize)> = copies
                .iter()
                .enumerate()
                .map(|(i, (k, n, _))| (*k, *n, i))
                .collect();
            expected.sort();
            let keys: Vec<Key> = by.keys(&f).collect();
            let mut want: Vec<Key> = expected.iter().map(|e| Key(e.0)).collect();
            want.dedup();
            prop_assert_eq!(&keys, &want);
            for key in keys {
                let got: Vec<usize> = by.of(&f, key).iter().map(|&i| i as usize).collect();
                let want: Vec<usize> = expected.iter().filter(|e| e.0 == key.0).map(|e| e.2).collect();
                prop_assert_eq!(got, want);
            }
            // In any order, absent keys too: the cursor only speeds up
            // ascending questions, it never assumes them.
            for k in (0u64..60).rev().chain(0..60).chain([7, 3, 55, 0, 59, 2, 2]) {
                let got: Vec<usize> = by.of(&f, Key(k)).iter().map(|&i| i as usize).collect();
                let want: Vec<usize> = expected.iter().filter(|e| e.0 == k).map(|e| e.2).collect();
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn lists_grow_by_a_chunk() {
        for (versioning, bytes) in [
            (Versioning::LastWriteWins, 192),
            (
                Versioning::VectorClocks {
                    truncation_threshold: 10,
                    scheme: sim_core::config::ClockScheme::ServerClocks,
                },
                320,
            ),
        ] {
            assert_eq!(chunk_bytes(versioning), bytes);
            let mut f = FinalCopies::new(bytes);
            for i in 0..100_000u64 {
                f.push(Key(i), NodeId(0), [write(1, i), write(2, i)]);
            }
            let (copies, codes) = (f.copies.n, f.writes.codes.n);
            assert!(f.copies.capacity() < 100_000 + copies);
            assert!(f.writes.codes.capacity() < 200_000 + codes);
            assert!(f.copies.chunks.iter().all(|c| c.capacity() == copies));
            // Each chunk is one block of the store map leaves' size.
            assert_eq!(copies * std::mem::size_of::<Copy16>(), bytes);
            assert_eq!(codes * 8, bytes);
            assert!(f.writes.spelled_out.is_empty(), "ordinary ids pack");
        }
    }
}
