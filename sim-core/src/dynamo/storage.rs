//! A node's local store of versions: per key, the set of causally unrelated
//! versions (siblings), with syntactic reconciliation on every write (§4.4).
//!
//! The store keeps what one storage engine instance holds. It owns the
//! reconciliation rule of each versioning scheme and knows nothing about
//! replicas, quorums or the network; which store is durable and which is a
//! volatile buffer is the node's business.
//!
//! | scheme | a stored version is dropped when | the anomaly it allows |
//! | --- | --- | --- |
//! | last-write-wins | a larger stamp arrives | a skewed clock silently loses writes |
//! | server clocks (the paper) | a version whose causal past (its clock with the coordinator's entry lowered to [`VersionData::seen`]) covers it arrives | lost writes: a context is a plain vector, so a read that returned counter k+1 of a coordinator but missed its concurrent counter k yields a write that supersedes k |
//! | dotted version vectors | the same per-version rule | none of the above; the coordinator's merge (in `node::coordinator`) is what makes "covers k+1" imply "saw k" |
//! | vnode clocks (Riak < 2.0) | an *object* whose single clock strictly descends the stored object's clock arrives | sibling explosion: siblings of one object share its clock, so a concurrent write keeps every old sibling, even those its writer read |
//!
//! Under vnode clocks every version of a key in one store carries the
//! object's clock, and a list of versions is a sequence of objects: runs of
//! equal clocks ([`reconcile`] and [`Store::apply_all`] group them).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::config::{ClockScheme, Versioning};
use crate::dynamo::protocol::{Value, Version, VersionData};
use crate::dynamo::vclock::{Causality, VectorClock};
use crate::engine::ids::{ClientId, Key, NodeId, OpId, WriteId};
use crate::engine::rng::{Probability, SimRng};
use crate::engine::time::SimTime;

/// A stored version, built: what a store hands out of its entries
/// ([`Store::iter`], [`Store::take_all`]); the map itself keeps [`Slot`]s.
///
/// When a tombstone was stored locally (what tombstone GC needs; nothing
/// else asks a version's store time) is kept beside the entries, in the
/// store's `TombstoneTimes`, so an entry is one shared pointer (or none:
/// a loaded version's slot): a key under last-write-wins or with one
/// version costs its map slot and nothing more, and each sibling 8 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct Stored {
    /// The version.
    pub version: Version,
}

/// A stored version as a store's map holds it: built, or `None` for the
/// key's loaded version (`workload.keys.preload`), left in the load table.
/// A loaded key that takes a write concurrent with its loaded version (a
/// blind put under vector clocks) keeps that version as a sibling without
/// building it: the 80 bytes of a built version, shared by the key's
/// replicas, for every such key (at most one `None` per key: only
/// [`Store::materialize`] makes one, as it clears the key's loaded bit,
/// which only the load phase sets). Readers build it on demand
/// ([`Loaded::resolve`]), through the table's cache, so replicas still
/// share one copy while anything holds it; a write compares itself with
/// its contents built in place ([`LoadTable::data`], [`pick`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(transparent)]
struct Slot(Option<Version>);

impl Slot {
    fn built(version: Version) -> Slot {
        Slot(Some(version))
    }

    /// The slot's value (the loaded value of `key` for a loaded slot),
    /// without building anything.
    fn value(&self, key: Key) -> Value {
        match &self.0 {
            Some(v) => v.value(),
            None => loaded_value(key),
        }
    }

    /// True when the version is corrupted (a loaded one never is: it is
    /// built afresh from its template, and corruption builds it first).
    fn corrupted(&self) -> bool {
        self.0.as_ref().is_some_and(|v| v.corrupted())
    }
}

/// One key's stored versions as a store changes them: the one inline
/// (nearly every key, and every key under last-write-wins), several in a
/// boxed slice of their exact number. A store keeps the two kinds in
/// separate maps ([`KeyMap`]) and hands a key's entries to its changes in
/// this form.
///
/// A representation only: it reads as a slice in stored order (entries are
/// changed in place through it), and every change to the number of entries
/// goes through the four methods below.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Siblings {
    One(Slot),
    Many(Box<[Slot]>),
}

impl Default for Siblings {
    fn default() -> Self {
        Siblings::Many(Box::default())
    }
}

impl std::ops::Deref for Siblings {
    type Target = [Slot];
    fn deref(&self) -> &[Slot] {
        match self {
            Siblings::One(s) => std::slice::from_ref(s),
            Siblings::Many(v) => v,
        }
    }
}

impl std::ops::DerefMut for Siblings {
    fn deref_mut(&mut self) -> &mut [Slot] {
        match self {
            Siblings::One(s) => std::slice::from_mut(s),
            Siblings::Many(v) => v,
        }
    }
}

impl From<Vec<Slot>> for Siblings {
    fn from(mut v: Vec<Slot>) -> Self {
        match v.len() {
            1 => Siblings::One(v.pop().expect("one")),
            _ => Siblings::Many(v.into_boxed_slice()),
        }
    }
}

impl Siblings {
    /// Appends `s` (siblings grow one at a time: no spare capacity).
    fn push(&mut self, s: Slot) {
        match self {
            Siblings::Many(v) if v.is_empty() => *self = Siblings::One(s),
            Siblings::One(_) => {
                let Siblings::One(first) = std::mem::take(self) else {
                    unreachable!("matched above")
                };
                *self = Siblings::Many(Box::new([first, s]));
            }
            // Growing by one reallocates once.
            Siblings::Many(_) => self.edit(|v| {
                v.reserve_exact(1);
                v.push(s);
            }),
        }
    }

    /// Keeps the entries `keep` accepts, in order.
    fn retain(&mut self, mut keep: impl FnMut(&Slot) -> bool) {
        match self {
            Siblings::One(s) => {
                if !keep(s) {
                    *self = Siblings::default();
                }
            }
            // Only a shorter slice is reallocated.
            Siblings::Many(_) => self.edit(|v| v.retain(keep)),
        }
    }

    /// Changes the entries as a vector (a boxed slice turns into one and
    /// back without copying when its length and capacity agree).
    fn edit(&mut self, f: impl FnOnce(&mut Vec<Slot>)) {
        let mut v = std::mem::take(self).into_vec();
        f(&mut v);
        *self = Siblings::from(v);
    }

    /// Drops every entry.
    fn clear(&mut self) {
        *self = Siblings::default();
    }

    /// The entries as a vector.
    fn into_vec(self) -> Vec<Slot> {
        match self {
            Siblings::One(s) => vec![s],
            Siblings::Many(v) => v.into_vec(),
        }
    }
}

/// Merges two streams of `(key, item)` in ascending key order into one
/// (on equal keys `b`'s comes first; the store's streams never share a
/// key): the one merge behind [`KeyMap`]'s two maps and a store's map and
/// loaded bits.
fn merge_by_key<T>(
    a: impl Iterator<Item = (Key, T)>,
    b: impl Iterator<Item = (Key, T)>,
) -> impl Iterator<Item = (Key, T)> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || {
        let from_a = match (a.peek(), b.peek()) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((x, _)), Some((y, _))) => x < y,
        };
        if from_a {
            a.next()
        } else {
            b.next()
        }
    })
}

/// A store's map from key to entries, kept as two maps: a key with one
/// entry (every key under last-write-wins, nearly every key of a
/// read-modify-write workload) maps to it, a key with several to their
/// boxed slice. A B-tree leaf of eleven (key, entry) pairs of 16 bytes is
/// 192 bytes, where pairs of a key and a [`Siblings`] (24 bytes) made a
/// 280-byte leaf that the allocator serves from its 320-byte class. A key is
/// in at most one of the two maps; readers see one map of slices in key
/// order, and changes go through [`KeyMap::edit`], which moves a key to the
/// map its new number of entries belongs in.
#[derive(Clone, Debug, Default)]
struct KeyMap {
    one: BTreeMap<Key, Slot>,
    many: BTreeMap<Key, Box<[Slot]>>,
}

impl KeyMap {
    fn get(&self, key: &Key) -> Option<&[Slot]> {
        match self.one.get(key) {
            Some(s) => Some(std::slice::from_ref(s)),
            None => self.many.get(key).map(|v| &**v),
        }
    }

    fn contains_key(&self, key: &Key) -> bool {
        self.one.contains_key(key) || self.many.contains_key(key)
    }

    /// Stores `key`'s single entry (`key` must not be stored).
    fn insert_one(&mut self, key: Key, s: Slot) {
        debug_assert!(!self.many.contains_key(&key));
        self.one.insert(key, s);
    }

    fn remove(&mut self, key: &Key) -> Option<Siblings> {
        match self.one.remove(key) {
            Some(s) => Some(Siblings::One(s)),
            None => self.many.remove(key).map(Siblings::Many),
        }
    }

    fn len(&self) -> usize {
        self.one.len() + self.many.len()
    }

    fn clear(&mut self) {
        self.one.clear();
        self.many.clear();
    }

    /// Changes `key`'s entries (none when it is not stored) through `f`;
    /// a key left without entries is removed. `fresh` is the entry of a
    /// key known to be in neither map (a loaded key's slot as it leaves its
    /// bit): `f` starts from it and the key goes straight to its map,
    /// without looking for it first.
    fn edit<R>(&mut self, key: Key, fresh: Option<Slot>, f: impl FnOnce(&mut Siblings) -> R) -> R {
        if let Some(s) = fresh {
            debug_assert!(!self.contains_key(&key), "a fresh key is in neither map");
            let mut entries = Siblings::One(s);
            let out = f(&mut entries);
            self.put_new(key, entries);
            return out;
        }
        if let Some(slot) = self.one.get_mut(&key) {
            let mut entries = Siblings::One(slot.clone());
            let out = f(&mut entries);
            match entries {
                Siblings::One(s) => *slot = s,
                Siblings::Many(v) => {
                    self.one.remove(&key);
                    self.put_many(key, v);
                }
            }
            return out;
        }
        if let Some(slot) = self.many.get_mut(&key) {
            let mut entries = Siblings::Many(std::mem::take(slot));
            let out = f(&mut entries);
            match entries {
                Siblings::Many(v) if !v.is_empty() => {
                    debug_assert_ne!(v.len(), 1, "one entry is kept inline");
                    *slot = v;
                }
                Siblings::Many(_) => {
                    self.many.remove(&key);
                }
                Siblings::One(s) => {
                    self.many.remove(&key);
                    self.one.insert(key, s);
                }
            }
            return out;
        }
        let mut entries = Siblings::default();
        let out = f(&mut entries);
        self.put_new(key, entries);
        out
    }

    /// Stores the entries of a key that is in neither map.
    fn put_new(&mut self, key: Key, entries: Siblings) {
        match entries {
            Siblings::One(s) => {
                self.one.insert(key, s);
            }
            Siblings::Many(v) => self.put_many(key, v),
        }
    }

    fn put_many(&mut self, key: Key, v: Box<[Slot]>) {
        debug_assert_ne!(v.len(), 1, "one entry is kept inline");
        if !v.is_empty() {
            self.many.insert(key, v);
        }
    }

    /// Every key with its entries, in key order.
    fn iter(&self) -> impl Iterator<Item = (Key, &[Slot])> + '_ {
        merge_by_key(
            self.one.iter().map(|(k, s)| (*k, std::slice::from_ref(s))),
            self.many.iter().map(|(k, v)| (*k, &**v)),
        )
    }

    fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Calls `f` with each key in `from..=to` and its entries, in key order.
    fn for_each_in_mut(&mut self, from: Key, to: Key, mut f: impl FnMut(Key, &mut [Slot])) {
        let one = self
            .one
            .range_mut(from..=to)
            .map(|(k, s)| (*k, std::slice::from_mut(s)));
        let many = self.many.range_mut(from..=to).map(|(k, v)| (*k, &mut **v));
        for (k, entries) in merge_by_key(one, many) {
            f(k, entries);
        }
    }

    /// Every key with its entries as a vector, in key order.
    fn into_map(self) -> BTreeMap<Key, Vec<Slot>> {
        merge_by_key(
            self.one.into_iter().map(|(k, s)| (k, vec![s])),
            self.many.into_iter().map(|(k, v)| (k, v.into_vec())),
        )
        .collect()
    }
}

/// The outcome of applying one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Stored; it replaced this many obsolete versions.
    Stored {
        /// Versions it superseded.
        replaced: u32,
    },
    /// A stored version already supersedes it (or it is already stored).
    Obsolete,
}

/// True under Riak's pre-2.0 vnode clocks (object-level reconciliation).
fn object_clocks(versioning: Versioning) -> bool {
    matches!(
        versioning,
        Versioning::VectorClocks {
            scheme: ClockScheme::VnodeClocks,
            ..
        }
    )
}

/// Keeps only the versions no other version supersedes (syntactic
/// reconciliation), or the single largest stamp under last-write-wins, or
/// (vnode clocks) the merge of the objects. Order of the result: the order
/// of first appearance.
pub fn reconcile(
    versioning: Versioning,
    versions: impl IntoIterator<Item = Version>,
) -> Vec<Version> {
    let mut out: Vec<Version> = Vec::new();
    if object_clocks(versioning) {
        for object in objects(versions) {
            absorb_object(&mut out, object);
        }
        return out;
    }
    for v in versions {
        absorb(versioning, &mut out, v);
    }
    out
}

/// The least upper bound of the versions' clocks: under vnode clocks, the
/// clock of the object they form. Siblings of one object share their clock,
/// so only a clock that differs from the running bound costs a merge.
pub fn object_clock(versions: &[Version]) -> VectorClock {
    let mut clock = VectorClock::new();
    for v in versions {
        if v.clock != clock {
            clock.merge_in(&v.clock);
        }
    }
    clock
}

/// Splits a list of versions into objects: maximal runs of equal clocks.
pub fn objects(versions: impl IntoIterator<Item = Version>) -> Vec<Vec<Version>> {
    let mut out: Vec<Vec<Version>> = Vec::new();
    for v in versions {
        match out.last_mut() {
            Some(run) if run[0].clock == v.clock => run.push(v),
            _ => out.push(vec![v]),
        }
    }
    out
}

/// Vnode clocks: merges `object` (versions sharing one clock) into `set`
/// (the stored object), Riak's `syntactic_merge`: the object whose clock
/// strictly descends the other's wins whole; equal clocks unite their
/// values; concurrent clocks unite their values under the merged clock.
fn absorb_object(set: &mut Vec<Version>, object: Vec<Version>) -> Applied {
    let Some(first) = object.first() else {
        return Applied::Obsolete;
    };
    let incoming = first.clock.clone();
    let current = object_clock(set);
    // Values are unique per write, so membership is by value (a set, as
    // exploded objects hold hundreds of siblings).
    let add = |set: &mut Vec<Version>, object: Vec<Version>, clock: &VectorClock| {
        let mut present: BTreeSet<Value> = set.iter().map(|s| s.value()).collect();
        let mut added = false;
        for mut v in object {
            if present.insert(v.value()) {
                v.clock = clock.clone();
                set.push(v);
                added = true;
            }
        }
        added
    };
    if set.is_empty() {
        add(set, object, &incoming);
        return Applied::Stored { replaced: 0 };
    }
    match incoming.compare(&current) {
        Causality::After => {
            let replaced = set.len() as u32;
            set.clear();
            add(set, object, &incoming);
            Applied::Stored { replaced }
        }
        Causality::Before => Applied::Obsolete,
        Causality::Equal => {
            if add(set, object, &incoming) {
                Applied::Stored { replaced: 0 }
            } else {
                Applied::Obsolete
            }
        }
        Causality::Concurrent => {
            let merged = current.merge(&incoming);
            for v in set.iter_mut() {
                v.clock = merged.clone();
            }
            add(set, object, &merged);
            Applied::Stored { replaced: 0 }
        }
    }
}

fn absorb(versioning: Versioning, set: &mut Vec<Version>, v: Version) -> Applied {
    match versioning {
        Versioning::LastWriteWins => match set.first() {
            Some(cur) if cur.stamp() >= v.stamp() => Applied::Obsolete,
            Some(_) => {
                set.clear();
                set.push(v);
                Applied::Stored { replaced: 1 }
            }
            None => {
                set.push(v);
                Applied::Stored { replaced: 0 }
            }
        },
        Versioning::VectorClocks { .. } => {
            if set.iter().any(|cur| cur.supersedes(&v)) {
                return Applied::Obsolete;
            }
            let before = set.len();
            set.retain(|cur| !v.supersedes(cur));
            let replaced = (before - set.len()) as u32;
            set.push(v);
            Applied::Stored { replaced }
        }
    }
}

/// True when `held` already contains or supersedes every version of `wanted`.
pub fn covers(held: &[Version], wanted: &[Version], versioning: Versioning) -> bool {
    if object_clocks(versioning) {
        // The held object has this value under the same clock, or a clock
        // that strictly descends it.
        let object = object_clock(held);
        let values: BTreeSet<Value> = held.iter().map(|h| h.value()).collect();
        return wanted.iter().all(|w| match object.compare(&w.clock) {
            Causality::After => true,
            Causality::Equal => values.contains(&w.value()),
            _ => false,
        });
    }
    wanted.iter().all(|w| match versioning {
        Versioning::LastWriteWins => held.iter().any(|h| h.stamp() >= w.stamp()),
        Versioning::VectorClocks { .. } => held.iter().any(|h| h.supersedes(w)),
    })
}

/// The load phase's values (`workload.keys.preload`), shared by every node:
/// loaded key `k`'s version is its coordinator's *template* (the version that
/// node built for the first key it loaded, by the ordinary code path) with
/// the value, the stamp's write and the size of `k`. Every load is
/// coordinated at time 0 from an empty context, so the templates differ
/// from the versions built one by one only in those three fields (the
/// clock's entries are shared instead of one copy per key).
///
/// Eight bytes per key instead of a version per replica: a store marks the
/// keys it loaded in a bitmap ([`Store::mark_loaded`]) and builds a loaded
/// version only when something reads it or compares a write with it. A
/// write that leaves it a sibling (a blind write under vector clocks)
/// leaves it unbuilt too, as a slot that names it ([`Slot`]).
///
/// The replicas of a key share its built version while any of them holds
/// it (`Shared`): readers of several replicas build it once.
#[derive(Debug)]
pub struct LoadTable {
    /// Per key: the node that coordinated its load.
    coordinator: Vec<NodeId>,
    /// Per key: its value's size (when `per_key_sizes`).
    sizes: Vec<u32>,
    per_key_sizes: bool,
    /// Every value's size otherwise.
    constant_size: u32,
    /// Per node (by index): the version it built for the first key it
    /// coordinated, `None` when it coordinated none.
    templates: Vec<Option<Version>>,
    /// The built versions replicas hold.
    shared: Mutex<Shared>,
}

/// Per loaded key, a weak reference to its built version while some store
/// (or message) holds it, so that the next replica to build it shares it.
///
/// A weak reference keeps the version's allocation (not its contents, 80
/// bytes) alive after the last holder drops it; once as many versions were
/// built as a sixteenth of the references held (at least 1,024), a sweep
/// forgets the dead ones, so the dead never outnumber a sixteenth of the
/// loaded keys (or 1,024, for fewer than 16,384 keys) and sweeping costs
/// at most sixteen reference checks per build. (With
/// half, the dead of a read-modify-write run over 100k loaded keys held
/// about 4 MB of its 28 MB peak.) Not
/// iterated by anything that affects a run: only what is shared, never
/// what is stored, depends on it.
#[derive(Debug, Default)]
struct Shared {
    versions: Vec<Weak<VersionData>>,
    built_since_sweep: usize,
}

impl Shared {
    /// `key`'s shared version, built by `build` when no holder is left;
    /// `keys`: how many keys were loaded (the references are made, one per
    /// key, on the first call).
    fn get_or_build(
        &mut self,
        key: usize,
        keys: usize,
        build: impl FnOnce() -> Version,
    ) -> Version {
        if self.versions.is_empty() {
            self.versions = std::iter::repeat_with(Weak::new).take(keys).collect();
        }
        if let Some(v) = Version::upgrade(&self.versions[key]) {
            return v;
        }
        let v = build();
        self.versions[key] = v.downgrade();
        self.built_since_sweep += 1;
        if self.built_since_sweep >= (self.versions.len() / 16).max(1024) {
            for w in &mut self.versions {
                if w.strong_count() == 0 {
                    *w = Weak::new();
                }
            }
            self.built_since_sweep = 0;
        }
        v
    }
}

impl LoadTable {
    /// An empty table for `nodes` nodes; keys are added in order with
    /// [`LoadTable::push`]. `constant_size`: `Some` when every value has
    /// that size (no per-key sizes kept).
    pub fn new(nodes: usize, constant_size: Option<u32>) -> LoadTable {
        LoadTable {
            coordinator: Vec::new(),
            sizes: Vec::new(),
            per_key_sizes: constant_size.is_none(),
            constant_size: constant_size.unwrap_or(0),
            templates: vec![None; nodes],
            shared: Mutex::default(),
        }
    }

    /// True once `node` has a template (it coordinated a load already).
    pub fn has_template(&self, node: NodeId) -> bool {
        self.templates
            .get(node.0 as usize)
            .is_some_and(Option::is_some)
    }

    /// Sets `node`'s template: the version it built for its first key.
    pub fn set_template(&mut self, node: NodeId, version: Version) {
        self.templates[node.0 as usize] = Some(version);
    }

    /// Adds the next key (keys are numbered from 0 in order), coordinated
    /// by `coordinator` (which must have a template), of `size` bytes.
    pub fn push(&mut self, coordinator: NodeId, size: u32) {
        debug_assert!(self.has_template(coordinator));
        self.coordinator.push(coordinator);
        if self.per_key_sizes {
            self.sizes.push(size);
        } else {
            debug_assert_eq!(size, self.constant_size);
        }
    }

    /// The counter `node`'s template issued for its own entry (what its
    /// `counters` held for each key it coordinated after the load).
    pub fn issued(&self, node: NodeId) -> u64 {
        self.templates
            .get(node.0 as usize)
            .and_then(Option::as_ref)
            .map_or(0, |t| t.clock.counter(t.coordinator))
    }

    /// The node that coordinated `key`'s load (`None`: not a loaded key).
    pub fn coordinator(&self, key: Key) -> Option<NodeId> {
        self.coordinator.get(usize::try_from(key.0).ok()?).copied()
    }

    /// The loaded version of `key` (a loaded key), shared with the other
    /// holders of the same version.
    pub fn version(&self, key: Key) -> Version {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.get_or_build(key.0 as usize, self.coordinator.len(), || self.build(key))
    }

    /// Builds `key`'s loaded version from its coordinator's template.
    fn build(&self, key: Key) -> Version {
        Version::new(self.data(key))
    }

    /// `key`'s loaded version's contents, built from its coordinator's
    /// template without allocating it (for a comparison).
    fn data(&self, key: Key) -> VersionData {
        let node = self.coordinator[key.0 as usize];
        let template = self.templates[node.0 as usize]
            .as_ref()
            .expect("a loaded key's coordinator has a template");
        let mut data = VersionData::clone(template);
        data.set_value(loaded_value(key));
        data.size = if self.per_key_sizes {
            self.sizes[key.0 as usize]
        } else {
            self.constant_size
        };
        data
    }
}

/// The loaded keys a store holds and has not moved into its map yet (see
/// [`Store::materialize`]): one bit per key.
#[derive(Clone, Debug, Default)]
struct Loaded {
    table: Option<Arc<LoadTable>>,
    bits: Vec<u64>,
    count: usize,
}

impl Loaded {
    fn contains(&self, key: Key) -> bool {
        let (word, bit) = ((key.0 / 64) as usize, key.0 % 64);
        self.bits.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// Clears `key`'s bit; true when it was set.
    fn take(&mut self, key: Key) -> bool {
        let (word, bit) = ((key.0 / 64) as usize, key.0 % 64);
        match self.bits.get_mut(word) {
            Some(w) if *w & (1 << bit) != 0 => {
                *w &= !(1 << bit);
                self.count -= 1;
                true
            }
            _ => false,
        }
    }

    /// The keys whose bits are set, in order, within `from..=to`.
    fn keys(&self, from: Key, to: Key) -> impl Iterator<Item = Key> + '_ {
        let first = usize::try_from(from.0 / 64).unwrap_or(usize::MAX);
        self.bits
            .iter()
            .enumerate()
            .skip(first)
            .flat_map(|(word, bits)| {
                let mut bits = *bits;
                std::iter::from_fn(move || {
                    (bits != 0).then(|| {
                        let bit = u64::from(bits.trailing_zeros());
                        bits &= bits - 1;
                        Key(word as u64 * 64 + bit)
                    })
                })
            })
            .skip_while(move |k| *k < from)
            .take_while(move |k| *k <= to)
    }

    fn stored(&self, key: Key) -> Stored {
        Stored {
            version: self.version(key),
        }
    }

    /// `key`'s loaded version, built (shared with the other holders of it).
    fn version(&self, key: Key) -> Version {
        self.table().version(key)
    }

    fn table(&self) -> &LoadTable {
        self.table.as_ref().expect("loaded keys have their table")
    }

    /// `key`'s `entries` as [`Stored`] versions (a loaded one built).
    fn built(&self, key: Key, entries: &[Slot]) -> Vec<Stored> {
        entries
            .iter()
            .map(|s| Stored {
                version: self.resolve(key, s).into_owned(),
            })
            .collect()
    }

    /// The version in `slot` of `key`: its own, or the loaded one built.
    fn resolve<'s>(&self, key: Key, slot: &'s Slot) -> Cow<'s, Version> {
        match &slot.0 {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned(self.version(key)),
        }
    }
}

/// The value the load phase wrote to `key`.
fn loaded_value(key: Key) -> Value {
    Value::Data(WriteId::preloaded(key))
}

/// The contents of the version in `slot`: its own, or `loaded` (the key's
/// loaded version's, built by the caller when the key has a loaded slot).
fn pick<'a>(slot: &'a Slot, loaded: &'a Option<VersionData>) -> &'a VersionData {
    match &slot.0 {
        Some(v) => v,
        None => loaded
            .as_ref()
            .expect("the caller built the loaded version of a key with a loaded slot"),
    }
}

/// The values a store holds for one key (see [`Store::values`]).
#[derive(Clone, Copy, Debug)]
pub struct StoredValues<'a> {
    key: Key,
    /// `None`: a loaded key still a bit (its loaded value).
    entries: Option<&'a [Slot]>,
}

impl StoredValues<'_> {
    /// Calls `f` with each value, in stored order.
    pub fn for_each(self, mut f: impl FnMut(Value)) {
        match self.entries {
            Some(v) => v.iter().for_each(|s| f(s.value(self.key))),
            None => f(loaded_value(self.key)),
        }
    }
}

/// When each tombstone a store holds was stored there (global virtual
/// time): the one store time anything reads (tombstone GC, after
/// `tombstone_gc.grace`). Tombstones are few, so they pay for their times
/// instead of every entry. Kept in step with the entries after every change
/// to a key's entries: [`Store::apply`] drops the times of the entries it
/// replaced and stamps its own; a vnode clock merge, which rebuilds the
/// object, goes through [`TombstoneTimes::update`] (a value kept keeps its
/// time); removals forget the key's.
#[derive(Clone, Debug, Default)]
struct TombstoneTimes(BTreeMap<(Key, WriteId), SimTime>);

impl TombstoneTimes {
    /// `key`'s tombstones with their store times, in write order.
    fn of(&self, key: Key) -> impl Iterator<Item = (WriteId, SimTime)> + '_ {
        let first = WriteId(OpId {
            client: ClientId(0),
            seq: 0,
        });
        self.0
            .range((key, first)..)
            .take_while(move |((k, _), _)| *k == key)
            .map(|((_, w), t)| (*w, *t))
    }

    /// Brings `key`'s times in step with its `entries` after a change at
    /// `now`: a tombstone new to them was stored at `now`, one gone from
    /// them is forgotten, one still there keeps its time.
    fn update(&mut self, key: Key, entries: &[Slot], now: SimTime) {
        let tombstone = |s: &Slot| s.value(key).tombstone();
        if self.0.is_empty() && !entries.iter().any(|s| tombstone(s).is_some()) {
            return;
        }
        let gone: Vec<WriteId> = self
            .of(key)
            .map(|(w, _)| w)
            .filter(|w| !entries.iter().any(|s| tombstone(s) == Some(*w)))
            .collect();
        for w in gone {
            self.0.remove(&(key, w));
        }
        for w in entries.iter().filter_map(tombstone) {
            self.0.entry((key, w)).or_insert(now);
        }
    }

    /// Forgets the time of `entry` of `key`, if it is a tombstone (the
    /// entry was replaced).
    fn forget_entry(&mut self, key: Key, entry: &Slot) {
        if let Some(w) = entry.value(key).tombstone() {
            self.0.remove(&(key, w));
        }
    }

    /// `value` entered `key`'s entries at `now`: its time, if a tombstone.
    fn stamp(&mut self, key: Key, value: Value, now: SimTime) {
        if let Some(w) = value.tombstone() {
            self.0.insert((key, w), now);
        }
    }

    /// Forgets `key`'s tombstones (its entries are gone).
    fn forget(&mut self, key: Key) {
        if !self.0.is_empty() {
            self.update(key, &[], SimTime::ZERO);
        }
    }
}

/// One store: key → siblings.
///
/// Loaded keys (`workload.keys.preload`) are a bit each (see [`LoadTable`])
/// until a write is applied to them (even an obsolete one) or a `corrupt`
/// fault covers them; then their loaded version moves into the map as a
/// slot that names it, unbuilt ([`Slot`]), and stays so while it lasts
/// (beside the siblings of a blind write). Every method behaves as if
/// loaded versions were stored like any other, at time 0.
///
/// Every change to a key's set of values is logged (the key, once per
/// change) until the owner takes the log with [`Store::take_changes`]: the
/// engine's divergence observer reads it to know which keys to compare
/// across replicas. The owner must drain it.
#[derive(Clone, Debug)]
pub struct Store {
    versioning: Versioning,
    keys: KeyMap,
    tombstones: TombstoneTimes,
    loaded: Loaded,
    changes: Vec<Key>,
}

impl Store {
    /// An empty store.
    pub fn new(versioning: Versioning) -> Self {
        Store {
            versioning,
            keys: KeyMap::default(),
            tombstones: TombstoneTimes::default(),
            loaded: Loaded::default(),
            changes: Vec::new(),
        }
    }

    /// Moves the keys changed since the last call into `out` (a key once
    /// per change, in the order of the changes).
    pub fn take_changes(&mut self, out: &mut Vec<Key>) {
        out.append(&mut self.changes);
    }

    /// Logs a change to `key` made outside the store's methods (the owner
    /// dropped the store wholesale).
    pub fn note_changed(&mut self, key: Key) {
        self.changes.push(key);
    }

    /// Every key held, in order, without building loaded keys' entries.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.entries().map(|(k, _)| k)
    }

    /// Every key in order with its map entry, `None` for a loaded key still
    /// a bit: the one merge of the map and the loaded bits that
    /// [`Store::keys`] and [`Store::iter`] share.
    fn entries(&self) -> impl Iterator<Item = (Key, Option<&[Slot]>)> + '_ {
        merge_by_key(
            self.keys.iter().map(|(k, v)| (k, Some(v))),
            self.loaded.keys(Key(0), Key(u64::MAX)).map(|k| (k, None)),
        )
    }

    /// `key`'s map entry as [`Store::entries`] gives it (`Some(None)` for a
    /// loaded key still a bit), `None` when the store does not hold it. The
    /// bit is asked first: a key whose bit is set is in neither map, so a
    /// loaded key costs no search of them.
    fn entry(&self, key: Key) -> Option<Option<&[Slot]>> {
        if self.loaded.contains(key) {
            return Some(None);
        }
        self.keys.get(&key).map(Some)
    }

    /// The load phase: this store holds `key`'s loaded version (from the
    /// table given to [`Store::attach_load_table`]), as if applied at time
    /// 0 to an empty store. `key` must not be stored yet.
    pub fn mark_loaded(&mut self, key: Key) {
        debug_assert!(!self.keys.contains_key(&key));
        let (word, bit) = ((key.0 / 64) as usize, key.0 % 64);
        if self.loaded.bits.len() <= word {
            self.loaded.bits.resize(word + 1, 0);
        }
        if self.loaded.bits[word] & (1 << bit) == 0 {
            self.loaded.bits[word] |= 1 << bit;
            self.loaded.count += 1;
        }
    }

    /// The table the keys marked by [`Store::mark_loaded`] take their
    /// versions from.
    pub fn attach_load_table(&mut self, table: &Arc<LoadTable>) {
        self.loaded.bits.shrink_to_fit();
        self.loaded.table = Some(table.clone());
    }

    /// Moves `key`'s loaded version from its bit into the map, if it has
    /// one pending: as a slot that names it, not built (see [`Slot`]).
    fn materialize(&mut self, key: Key) {
        if let Some(s) = self.take_loaded(key) {
            self.keys.insert_one(key, s);
        }
    }

    /// Clears `key`'s loaded bit, if set: the slot that names its loaded
    /// version, for the map (the key is not in it while the bit is set).
    fn take_loaded(&mut self, key: Key) -> Option<Slot> {
        self.loaded.take(key).then_some(Slot(None))
    }

    /// Applies `versions` of `key` (several objects under vnode clocks,
    /// grouped by [`objects`]; one version at a time otherwise). Stored if
    /// any of them was.
    pub fn apply_all(&mut self, key: Key, versions: Vec<Version>, now: SimTime) -> Applied {
        let mut replaced = 0;
        let mut stored = false;
        if object_clocks(self.versioning) {
            for object in objects(versions) {
                if let Applied::Stored { replaced: r } = self.apply_object(key, object, now) {
                    stored = true;
                    replaced += r;
                }
            }
        } else {
            for v in versions {
                if let Applied::Stored { replaced: r } = self.apply(key, v, now) {
                    stored = true;
                    replaced += r;
                }
            }
        }
        if stored {
            Applied::Stored { replaced }
        } else {
            Applied::Obsolete
        }
    }

    /// Vnode clocks: merges one object into the stored one. Versions kept
    /// keep their store time; new ones get `now`.
    fn apply_object(&mut self, key: Key, object: Vec<Version>, now: SimTime) -> Applied {
        let fresh = self.take_loaded(key);
        let tombs = &mut self.tombstones;
        let loaded = &self.loaded;
        let applied = self.keys.edit(key, fresh, |entry| {
            let mut set: Vec<Version> = entry
                .iter()
                .map(|s| loaded.resolve(key, s).into_owned())
                .collect();
            let applied = absorb_object(&mut set, object);
            if let Applied::Stored { .. } = applied {
                *entry = set.into_iter().map(Slot::built).collect::<Vec<_>>().into();
                tombs.update(key, entry, now);
            }
            applied
        });
        if let Applied::Stored { .. } = applied {
            self.changes.push(key);
        }
        applied
    }

    /// Applies `version` with syntactic reconciliation.
    pub fn apply(&mut self, key: Key, version: Version, now: SimTime) -> Applied {
        if object_clocks(self.versioning) {
            return self.apply_object(key, vec![version], now);
        }
        let fresh = self.take_loaded(key);
        // The entries this write replaced: their tombstones' times go, the
        // new entry's (if a tombstone) is `now`, even for a retried delete
        // whose tombstone replaces the same tombstone with a later stamp.
        let tombs = &mut self.tombstones;
        let value = version.value();
        let versioning = self.versioning;
        let loaded = &self.loaded;
        let applied = self.keys.edit(key, fresh, |entry| {
            // The loaded sibling's contents, if the key has one, for every
            // comparison below: built from the template in place, neither
            // allocated nor looked up in the table's cache.
            let built_loaded = entry
                .iter()
                .any(|s| s.0.is_none())
                .then(|| loaded.table().data(key));
            match versioning {
                Versioning::LastWriteWins => match entry.first() {
                    Some(cur) if pick(cur, &built_loaded).stamp() >= version.stamp() => {
                        Applied::Obsolete
                    }
                    Some(_) => {
                        entry.iter().for_each(|cur| tombs.forget_entry(key, cur));
                        entry.clear();
                        entry.push(Slot::built(version));
                        Applied::Stored { replaced: 1 }
                    }
                    None => {
                        entry.push(Slot::built(version));
                        Applied::Stored { replaced: 0 }
                    }
                },
                Versioning::VectorClocks { .. } => {
                    if entry
                        .iter()
                        .any(|cur| pick(cur, &built_loaded).supersedes(&version))
                    {
                        Applied::Obsolete
                    } else {
                        let before = entry.len();
                        entry.retain(|cur| {
                            let keep = !version.supersedes(pick(cur, &built_loaded));
                            if !keep {
                                tombs.forget_entry(key, cur);
                            }
                            keep
                        });
                        let replaced = (before - entry.len()) as u32;
                        entry.push(Slot::built(version));
                        Applied::Stored { replaced }
                    }
                }
            }
        });
        if let Applied::Stored { .. } = applied {
            self.tombstones.stamp(key, value, now);
            self.changes.push(key);
        }
        applied
    }

    /// Drops every version of `key` (it moved to its new owners).
    pub fn remove(&mut self, key: Key) {
        let loaded = self.loaded.take(key);
        self.tombstones.forget(key);
        if self.keys.remove(&key).is_some() || loaded {
            self.changes.push(key);
        }
    }

    /// The versions of `key` (cloned; a loaded one built).
    pub fn versions(&self, key: Key) -> Vec<Version> {
        match self.entry(key) {
            Some(Some(v)) => v
                .iter()
                .map(|s| self.loaded.resolve(key, s).into_owned())
                .collect(),
            Some(None) => vec![self.loaded.version(key)],
            None => Vec::new(),
        }
    }

    /// Calls `f` with each version of `key`, in stored order (a loaded one
    /// built).
    pub fn for_each_version(&self, key: Key, mut f: impl FnMut(&Version)) {
        match self.entry(key) {
            Some(Some(v)) => v.iter().for_each(|s| f(&self.loaded.resolve(key, s))),
            Some(None) => f(&self.loaded.version(key)),
            None => {}
        }
    }

    /// True when the store holds `key`.
    pub fn contains(&self, key: Key) -> bool {
        self.entry(key).is_some()
    }

    /// Appends the values stored for `key` to `out`, in stored order (a
    /// loaded key's value without building its version).
    pub fn push_values(&self, key: Key, out: &mut Vec<Value>) {
        match self.entry(key) {
            Some(Some(v)) => out.extend(v.iter().map(|s| s.value(key))),
            Some(None) => out.push(loaded_value(key)),
            None => {}
        }
    }

    /// Every key with the values of its entries, in key order and stored
    /// order (loaded keys' values without building their versions).
    pub fn values(&self) -> impl Iterator<Item = (Key, StoredValues<'_>)> + '_ {
        self.entries()
            .map(|(key, entries)| (key, StoredValues { key, entries }))
    }

    /// Every key with its entries, in key order (loaded versions built).
    pub fn iter(&self) -> impl Iterator<Item = (Key, Vec<Stored>)> + '_ {
        self.entries().map(|(k, entry)| match entry {
            Some(v) => (k, self.loaded.built(k, v)),
            None => (k, vec![self.loaded.stored(k)]),
        })
    }

    /// Removes tombstones stored at or before `cutoff`; returns how many, and
    /// appends the keys it touched to `touched`.
    pub fn purge_tombstones(&mut self, cutoff: SimTime, touched: &mut Vec<Key>) -> u32 {
        let due: Vec<(Key, WriteId)> = self
            .tombstones
            .0
            .iter()
            .filter(|(_, at)| **at <= cutoff)
            .map(|(kw, _)| *kw)
            .collect();
        let mut purged = 0;
        for group in due.chunk_by(|a, b| a.0 == b.0) {
            let key = group[0].0;
            assert!(self.keys.contains_key(&key), "a tombstone's key is stored");
            let removed = self.keys.edit(key, None, |entry| {
                let before = entry.len();
                entry.retain(|s| {
                    !s.value(key)
                        .tombstone()
                        .is_some_and(|w| group.contains(&(key, w)))
                });
                before - entry.len()
            });
            debug_assert_eq!(removed, group.len(), "tombstone times in step");
            purged += removed as u32;
            touched.push(key);
            self.changes.push(key);
            for kw in group {
                self.tombstones.0.remove(kw);
            }
        }
        purged
    }

    /// Takes every entry out, leaving the store empty.
    pub fn take_all(&mut self) -> BTreeMap<Key, Vec<Stored>> {
        self.materialize_range(Key(0), Key(u64::MAX));
        self.changes.extend(self.keys.keys());
        self.tombstones = TombstoneTimes::default();
        let loaded = &self.loaded;
        std::mem::take(&mut self.keys)
            .into_map()
            .into_iter()
            .map(|(key, slots)| (key, loaded.built(key, &slots)))
            .collect()
    }

    /// Moves every pending loaded key in `from..=to` into the map (unbuilt).
    fn materialize_range(&mut self, from: Key, to: Key) {
        let keys: Vec<Key> = self.loaded.keys(from, to).collect();
        for key in keys {
            self.materialize(key);
        }
    }

    /// Number of keys.
    pub fn key_count(&self) -> usize {
        self.keys.len() + self.loaded.count
    }

    /// Number of versions over all keys.
    pub fn version_count(&self) -> usize {
        self.keys.iter().map(|(_, v)| v.len()).sum::<usize>() + self.loaded.count
    }

    /// Drops everything (disk loss).
    pub fn clear(&mut self) {
        let gone: Vec<Key> = self.keys().collect();
        self.changes.extend(gone);
        self.keys.clear();
        self.tombstones = TombstoneTimes::default();
        self.loaded = Loaded::default();
    }

    /// Silent corruption: each stored version of a key in `keys` (every key
    /// when `None`) is corrupted with probability `fraction`, drawn from
    /// `rng` in key order. Returns the keys touched and how many versions
    /// of each were newly corrupted.
    pub fn corrupt(
        &mut self,
        fraction: Probability,
        keys: Option<(Key, Key)>,
        rng: &mut SimRng,
    ) -> Vec<(Key, u32)> {
        let mut touched = Vec::new();
        let range = keys.unwrap_or((Key(0), Key(u64::MAX)));
        // Draws go version by version in key order: loaded keys in the
        // range move into the map first so they take their turns (a loaded
        // version is built only when its draw corrupts it).
        self.materialize_range(range.0, range.1);
        let loaded = &self.loaded;
        self.keys
            .for_each_in_mut(range.0, range.1, |key, versions| {
                let mut count = 0;
                for s in versions.iter_mut() {
                    if rng.chance(fraction) && !s.corrupted() {
                        // A loaded version is built to be corrupted (the
                        // copy is this holder's alone, as for any other).
                        let v = s.0.get_or_insert_with(|| loaded.version(key));
                        v.corrupt();
                        count += 1;
                    }
                }
                if count > 0 {
                    touched.push((key, count));
                }
            });
        touched
    }

    /// Checksum verification of `key`: when any stored version is
    /// corrupted, the whole object (every version of the key) is dropped,
    /// since its siblings' clocks would otherwise claim a version this
    /// store no longer has. Returns the versions dropped (0: intact).
    pub fn drop_if_corrupted(&mut self, key: Key) -> u32 {
        let corrupted = self
            .keys
            .get(&key)
            .is_some_and(|vs| vs.iter().any(Slot::corrupted));
        if !corrupted {
            return 0;
        }
        self.changes.push(key);
        self.tombstones.forget(key);
        self.keys.remove(&key).map_or(0, |vs| vs.len() as u32)
    }

    /// Keys holding corrupted versions, with how many, in key order.
    pub fn corrupted(&self) -> impl Iterator<Item = (Key, u32)> + '_ {
        self.keys.iter().filter_map(|(k, vs)| {
            let n = vs.iter().filter(|s| s.corrupted()).count() as u32;
            (n > 0).then_some((k, n))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::protocol::Value;
    use crate::dynamo::vclock::VectorClock;
    use crate::engine::ids::{ClientId, NodeId, OpId, WriteId};

    const VC: Versioning = Versioning::VectorClocks {
        truncation_threshold: 10,
        scheme: ClockScheme::ServerClocks,
    };

    fn write(seq: u64) -> WriteId {
        WriteId(OpId {
            client: ClientId(0),
            seq,
        })
    }

    /// A version written by `node` from `context`.
    fn version(context: &VectorClock, node: u32, seq: u64) -> Version {
        let mut clock = context.clone();
        clock.increment(NodeId(node), SimTime(seq));
        Version::new(VersionData::new(
            clock,
            NodeId(node),
            context.counter(NodeId(node)),
            Value::Data(write(seq)),
            seq,
            0,
        ))
    }

    /// A store whose loaded keys are bits behaves like one that stored
    /// each loaded version: reads, iteration, counts, replacement, removal,
    /// corruption draws and clearing, under each versioning.
    #[test]
    fn lazily_loaded_keys_behave_like_stored_ones() {
        let vnode = Versioning::VectorClocks {
            truncation_threshold: 10,
            scheme: ClockScheme::VnodeClocks,
        };
        for versioning in [VC, vnode, Versioning::LastWriteWins] {
            // Keys 0..200, coordinated by nodes 0..3 in turn; the store
            // holds every third key from 1 and a few written ones.
            let mut table = LoadTable::new(3, None);
            for k in 0..200u64 {
                let node = NodeId((k % 3) as u32);
                if !table.has_template(node) {
                    let mut t = version(&VectorClock::new(), node.0, 1);
                    t.stamp_us = 0;
                    table.set_template(node, t);
                }
                table.push(node, 100 + k as u32);
            }
            let table = Arc::new(table);
            let mut lazy = Store::new(versioning);
            let mut eager = Store::new(versioning);
            for k in (1..200).step_by(3).map(Key) {
                lazy.mark_loaded(k);
                eager.apply(k, table.version(k), SimTime::ZERO);
            }
            lazy.attach_load_table(&table);
            let v = table.version(Key(7));
            assert_eq!(v.value(), Value::Data(WriteId::preloaded(Key(7))));
            assert_eq!((v.size, v.coordinator), (107, NodeId(1)));
            let same = |a: &Store, b: &Store| {
                assert_eq!(a.key_count(), b.key_count());
                assert_eq!(a.version_count(), b.version_count());
                let ia: Vec<(Key, Vec<Stored>)> = a.iter().map(|(k, v)| (k, v.to_vec())).collect();
                let ib: Vec<(Key, Vec<Stored>)> = b.iter().map(|(k, v)| (k, v.to_vec())).collect();
                assert_eq!(ia, ib);
                for k in (0..210).map(Key) {
                    assert_eq!(a.versions(k), b.versions(k));
                    assert_eq!(a.contains(k), b.contains(k));
                }
                assert_eq!(
                    a.corrupted().collect::<Vec<_>>(),
                    b.corrupted().collect::<Vec<_>>()
                );
                let values = |s: &Store| {
                    let mut out = Vec::new();
                    for (k, v) in s.values() {
                        v.for_each(|value| out.push((k, value)));
                    }
                    out
                };
                assert_eq!(values(a), values(b));
            };
            same(&lazy, &eager);
            // A newer write of key 4, an older one of key 7 (its own
            // template's clock again: obsolete or a sibling), a new key.
            let newer = version(&table.version(Key(4)).clock, 5, 9);
            let mut older = version(&VectorClock::new(), 7, 2);
            older.stamp_us = 0;
            for (key, v) in [
                (Key(4), newer),
                (Key(7), older),
                (Key(201), version(&VectorClock::new(), 2, 3)),
            ] {
                assert_eq!(
                    lazy.apply(key, v.clone(), SimTime(50)),
                    eager.apply(key, v, SimTime(50))
                );
                same(&lazy, &eager);
            }
            lazy.remove(Key(10));
            eager.remove(Key(10));
            same(&lazy, &eager);
            let rng = |s: u64| SimRng::new(s, crate::engine::rng::Stream::Custom(1));
            let (mut ra, mut rb) = (rng(3), rng(3));
            let half = Probability::from_ppb(Probability::SCALE / 2);
            // Keys 4 (a newer write replaced its loaded version) and 7 (its
            // loaded version a sibling under vector clocks) included.
            let ca = lazy.corrupt(half, Some((Key(4), Key(90))), &mut ra);
            let cb = eager.corrupt(half, Some((Key(4), Key(90))), &mut rb);
            assert_eq!(ca, cb);
            assert!(!ca.is_empty());
            same(&lazy, &eager);
            for k in [Key(7), Key(22)] {
                assert_eq!(lazy.drop_if_corrupted(k), eager.drop_if_corrupted(k));
                same(&lazy, &eager);
            }
            let mut ta = lazy.clone();
            let mut tb = eager.clone();
            assert_eq!(ta.take_all(), tb.take_all());
            same(&ta, &tb);
            lazy.clear();
            eager.clear();
            same(&lazy, &eager);
        }
    }

    #[test]
    fn a_descendant_replaces_its_ancestor() {
        let mut s = Store::new(VC);
        let d1 = version(&VectorClock::new(), 0, 1);
        let d2 = version(&d1.clock, 0, 2);
        assert_eq!(
            s.apply(Key(1), d1.clone(), SimTime(0)),
            Applied::Stored { replaced: 0 }
        );
        assert_eq!(
            s.apply(Key(1), d2.clone(), SimTime(0)),
            Applied::Stored { replaced: 1 }
        );
        assert_eq!(s.apply(Key(1), d1, SimTime(0)), Applied::Obsolete);
        assert_eq!(s.versions(Key(1)), vec![d2]);
    }

    #[test]
    fn concurrent_writes_through_one_coordinator_stay_siblings() {
        // Same context, same coordinator: the paper's clocks would be equal.
        let mut s = Store::new(VC);
        let base = version(&VectorClock::new(), 0, 1);
        let a = version(&base.clock, 0, 2);
        let b = version(&base.clock, 0, 3);
        s.apply(Key(1), base, SimTime(0));
        s.apply(Key(1), a.clone(), SimTime(0));
        s.apply(Key(1), b.clone(), SimTime(0));
        assert_eq!(s.versions(Key(1)), vec![a.clone(), b.clone()]);
        // A client that read both writes a version that supersedes both.
        let merged = a.clock.merge(&b.clock);
        let c = version(&merged, 1, 4);
        s.apply(Key(1), c.clone(), SimTime(0));
        assert_eq!(s.versions(Key(1)), vec![c]);
    }

    #[test]
    fn last_write_wins_keeps_the_largest_stamp() {
        let lww = Versioning::LastWriteWins;
        let mut s = Store::new(lww);
        let mut early = version(&VectorClock::new(), 0, 5);
        early.stamp_us = 100;
        let mut late = version(&VectorClock::new(), 1, 6);
        late.stamp_us = 50;
        s.apply(Key(2), early.clone(), SimTime(0));
        assert_eq!(s.apply(Key(2), late, SimTime(0)), Applied::Obsolete);
        assert_eq!(s.versions(Key(2)), vec![early]);
    }

    #[test]
    fn tombstones_are_purged_after_the_cutoff_only() {
        let mut s = Store::new(VC);
        let mut t = version(&VectorClock::new(), 0, 1);
        t.set_value(Value::Tombstone(write(1)));
        s.apply(Key(3), t, SimTime(10));
        assert_eq!(s.purge_tombstones(SimTime(9), &mut Vec::new()), 0);
        let mut touched = Vec::new();
        assert_eq!(s.purge_tombstones(SimTime(10), &mut touched), 1);
        assert_eq!(touched, vec![Key(3)]);
        assert_eq!(s.key_count(), 0);
    }

    #[test]
    fn reconcile_keeps_maximal_versions() {
        let d1 = version(&VectorClock::new(), 0, 1);
        let d2 = version(&d1.clock, 0, 2);
        let d3 = version(&d2.clock, 1, 3);
        let d4 = version(&d2.clock, 2, 4);
        let r = reconcile(VC, vec![d1, d3.clone(), d2, d4.clone()]);
        assert_eq!(r, vec![d3.clone(), d4.clone()]);
        assert!(covers(&r, &[d3], VC));
    }

    const VNODE: Versioning = Versioning::VectorClocks {
        truncation_threshold: 10,
        scheme: ClockScheme::VnodeClocks,
    };

    /// A vnode-clock object: every value under one clock.
    fn object(clock: &VectorClock, seqs: &[u64]) -> Vec<Version> {
        seqs.iter()
            .map(|s| {
                Version::new(VersionData::new(
                    clock.clone(),
                    NodeId(0),
                    clock.counter(NodeId(0)),
                    Value::Data(write(*s)),
                    *s,
                    0,
                ))
            })
            .collect()
    }

    fn clock(pairs: &[(u32, u64)]) -> VectorClock {
        let mut c = VectorClock::new();
        for &(n, k) in pairs {
            c.increment_above(NodeId(n), k - 1, SimTime(0));
        }
        c
    }

    fn seqs(vs: &[Version]) -> Vec<u64> {
        let mut out: Vec<u64> = vs.iter().map(|v| v.value().write().0.seq).collect();
        out.sort();
        out
    }

    #[test]
    fn vnode_objects_replace_unite_or_lose_whole() {
        let mut s = Store::new(VNODE);
        let c1 = clock(&[(0, 1)]);
        s.apply_all(Key(1), object(&c1, &[1, 2]), SimTime(0));
        assert_eq!(seqs(&s.versions(Key(1))), [1, 2]);
        // A strictly newer object replaces the whole stored one.
        let c2 = clock(&[(0, 2)]);
        assert_eq!(
            s.apply_all(Key(1), object(&c2, &[3]), SimTime(0)),
            Applied::Stored { replaced: 2 }
        );
        // An older one is obsolete; an equal one adds what it lacks.
        assert_eq!(
            s.apply_all(Key(1), object(&c1, &[1, 2]), SimTime(0)),
            Applied::Obsolete
        );
        assert_eq!(
            s.apply_all(Key(1), object(&c2, &[3, 4]), SimTime(0)),
            Applied::Stored { replaced: 0 }
        );
        // A concurrent object unites under the merged clock, and two objects
        // in one list stay two objects.
        let c3 = clock(&[(1, 1)]);
        let c4 = clock(&[(2, 1)]);
        let mut both = object(&c3, &[5, 6]);
        both.extend(object(&c4, &[7]));
        s.apply_all(Key(1), both, SimTime(0));
        let held = s.versions(Key(1));
        assert_eq!(seqs(&held), [3, 4, 5, 6, 7]);
        let merged = c2.merge(&c3).merge(&c4);
        assert!(held.iter().all(|v| v.clock == merged), "one object clock");
        assert!(covers(&held, &object(&c3, &[5]), VNODE));
        assert!(covers(&held, &object(&merged, &[7]), VNODE));
        assert!(!covers(&held, &object(&merged, &[8]), VNODE));
        assert!(!covers(&held, &object(&clock(&[(3, 1)]), &[9]), VNODE));
        // reconcile groups runs the same way.
        let r = reconcile(
            VNODE,
            object(&c1, &[1]).into_iter().chain(object(&c3, &[5, 6])),
        );
        assert_eq!(seqs(&r), [1, 5, 6]);
        assert!(r.iter().all(|v| v.clock == c1.merge(&c3)));
    }

    #[test]
    fn a_corrupted_copy_is_its_holders_alone() {
        // Two replicas hold one shared version; a disk corrupts one of them.
        let v = version(&VectorClock::new(), 1, 1);
        let (mut a, mut b) = (Store::new(VC), Store::new(VC));
        a.apply(Key(3), v.clone(), SimTime::ZERO);
        b.apply(Key(3), v.clone(), SimTime::ZERO);
        assert!(Version::shared(&a.versions(Key(3))[0], &v));
        assert!(Version::shared(&b.versions(Key(3))[0], &v));
        let mut rng = crate::engine::rng::SimRng::new(7, crate::engine::rng::Stream::Custom(0));
        let touched = a.corrupt(Probability::ALWAYS, None, &mut rng);
        assert_eq!(touched, vec![(Key(3), 1)]);
        assert!(a.versions(Key(3))[0].corrupted());
        assert!(
            !b.versions(Key(3))[0].corrupted(),
            "the other replica's copy"
        );
        assert!(!v.corrupted(), "the sender's copy");
        assert!(Version::shared(&b.versions(Key(3))[0], &v));
        assert_eq!(b.drop_if_corrupted(Key(3)), 0);
        assert_eq!(a.drop_if_corrupted(Key(3)), 1);
    }

    #[test]
    fn replicas_share_a_loaded_version_while_one_holds_it() {
        let mut table = LoadTable::new(2, Some(10));
        let template = version(&VectorClock::new(), 0, 1);
        table.set_template(NodeId(0), template);
        for _ in 0..4000 {
            table.push(NodeId(0), 10);
        }
        let table = Arc::new(table);
        let (mut a, mut b) = (Store::new(VC), Store::new(VC));
        for s in [&mut a, &mut b] {
            s.mark_loaded(Key(5));
            s.attach_load_table(&table);
        }
        let live = |t: &LoadTable| {
            let shared = t.shared.lock().unwrap();
            shared
                .versions
                .iter()
                .filter(|w| w.strong_count() > 0)
                .count()
        };
        // A blind write keeps the loaded value as a sibling on each replica,
        // not built: nothing holds a copy until a reader asks.
        let w = version(&VectorClock::new(), 1, 9);
        a.apply(Key(5), w.clone(), SimTime(1));
        b.apply(Key(5), w, SimTime(1));
        assert_eq!(live(&table), 0);
        assert_eq!((a.version_count(), b.version_count()), (2, 2));
        // Readers build it once for both replicas.
        let (va, vb) = (a.versions(Key(5)), b.versions(Key(5)));
        assert_eq!((va.len(), vb.len()), (2, 2));
        assert_eq!(va[0].value(), Value::Data(WriteId::preloaded(Key(5))));
        assert!(Version::shared(&va[0], &vb[0]));
        assert_eq!(va[0].size, 10);
        // Corruption builds the copy it corrupts: that holder's alone.
        let mut rng = crate::engine::rng::SimRng::new(7, crate::engine::rng::Stream::Custom(0));
        assert_eq!(
            a.corrupt(Probability::ALWAYS, None, &mut rng),
            vec![(Key(5), 2)]
        );
        assert_eq!(a.corrupted().collect::<Vec<_>>(), vec![(Key(5), 2)]);
        assert_eq!(b.corrupted().count(), 0);
        assert!(!b.versions(Key(5))[0].corrupted());
        // Once nobody holds it, the next build is a new allocation with the
        // same contents.
        drop((va, vb));
        a.remove(Key(5));
        b.remove(Key(5));
        let again = table.version(Key(5));
        assert_eq!(again.value(), Value::Data(WriteId::preloaded(Key(5))));
        // Dead references are forgotten: after 1,900 builds nobody kept,
        // the table holds no more dead ones than a sweep every 1,024 builds
        // allows (a sweep every 2,000, half the keys, would hold 1,900).
        for k in 0..1900 {
            drop(table.version(Key(k)));
        }
        let shared = table.shared.lock().unwrap();
        let dead = shared
            .versions
            .iter()
            // A dead reference still points at its allocation; a
            // forgotten one is `Weak::new()` (`weak_count` reads 0 for
            // both once no strong reference is left).
            .filter(|w| w.strong_count() == 0 && !w.ptr_eq(&Weak::new()));
        assert!(dead.count() <= 1024, "a sweep after every 1,024 builds");
        let live = shared
            .versions
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count();
        assert_eq!(live, 1, "`again` is still held");
    }

    #[test]
    fn corruption_marks_versions_and_a_checksum_drops_the_object() {
        let mut s = Store::new(VC);
        let a = version(&VectorClock::new(), 0, 1);
        let b = version(&VectorClock::new(), 1, 2);
        for k in 0..10 {
            s.apply(Key(k), a.clone(), SimTime(0));
            s.apply(Key(k), b.clone(), SimTime(0));
        }
        let mut rng = crate::engine::rng::SimRng::new(7, crate::engine::rng::Stream::Custom(0));
        let touched = s.corrupt(Probability::ALWAYS, Some((Key(2), Key(4))), &mut rng);
        assert_eq!(touched, vec![(Key(2), 2), (Key(3), 2), (Key(4), 2)]);
        assert_eq!(s.corrupted().count(), 3);
        assert!(s.versions(Key(2)).iter().all(|v| v.corrupted()));
        assert!(s.versions(Key(5)).iter().all(|v| !v.corrupted()));
        // Corrupting again touches nothing new; a fraction of 0 nothing at all.
        assert!(s
            .corrupt(Probability::ALWAYS, Some((Key(2), Key(4))), &mut rng)
            .is_empty());
        assert!(s.corrupt(Probability::NEVER, None, &mut rng).is_empty());
        assert_eq!(s.drop_if_corrupted(Key(5)), 0);
        assert_eq!(s.drop_if_corrupted(Key(3)), 2);
        assert!(s.versions(Key(3)).is_empty());
        assert_eq!(s.corrupted().count(), 2);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A history of writes: each picks a coordinator and a subset of the
        /// earlier writes as its context (what the client had read).
        fn history() -> impl Strategy<Value = Vec<(u32, Vec<usize>)>> {
            prop::collection::vec((0u32..3, prop::collection::vec(0usize..64, 0..3)), 1..12)
        }

        fn build(h: &[(u32, Vec<usize>)]) -> Vec<Version> {
            let mut out: Vec<Version> = Vec::new();
            let mut issued = [0u64; 3];
            for (i, (node, ctx)) in h.iter().enumerate() {
                let mut context = VectorClock::new();
                for j in ctx.iter().filter(|j| **j < i) {
                    context.merge_in(&out[*j].clock);
                }
                let mut clock = context.clone();
                let seen = clock.counter(NodeId(*node));
                clock.increment_above(NodeId(*node), issued[*node as usize], SimTime(i as u64));
                issued[*node as usize] = clock.counter(NodeId(*node));
                let id = write(i as u64);
                out.push(Version::new(VersionData::new(
                    clock,
                    NodeId(*node),
                    seen,
                    Value::Data(id),
                    i as u64,
                    0,
                )));
            }
            out
        }

        proptest! {
            /// The store keeps exactly the versions no other version
            /// supersedes, whatever order the versions arrive in.
            #[test]
            fn store_matches_the_maximal_elements_model(h in history(), seed in any::<u64>()) {
                let versions = build(&h);
                let model: Vec<WriteId> = versions
                    .iter()
                    .filter(|v| !versions.iter().any(|o| o.value() != v.value() && o.supersedes(v)))
                    .map(|v| v.value().write())
                    .collect();
                let mut order: Vec<usize> = (0..versions.len()).collect();
                let mut rng = crate::engine::rng::SimRng::new(seed, crate::engine::rng::Stream::Custom(0));
                rng.shuffle(&mut order);
                let mut s = Store::new(VC);
                for i in order {
                    s.apply(Key(0), versions[i].clone(), SimTime(0));
                }
                let mut got: Vec<WriteId> = s.versions(Key(0)).iter().map(|v| v.value().write()).collect();
                got.sort();
                let mut want = model;
                want.sort();
                prop_assert_eq!(got, want);
            }

            /// Tombstone GC purges exactly what it did when every entry
            /// carried its own store time: the tombstones that entered the
            /// key's entries (and stayed) at or before the cutoff. The model
            /// gives each entry the time it entered its key's entries (under
            /// vnode clocks, where a merge rebuilds the object, a value kept
            /// keeps its time), under every versioning, through writes,
            /// retried writes (the same value with a later stamp: a new
            /// entry under last-write-wins), removals, clears, purges.
            #[test]
            fn tombstone_times_match_per_entry_store_times(
                h in history(),
                tombs in prop::collection::vec(any::<bool>(), 12),
                ops in prop::collection::vec((0u8..8, 0u64..3, 0usize..12), 0..60),
                scheme in 0u8..3,
            ) {
                let versioning = match scheme {
                    0 => VC,
                    1 => Versioning::VectorClocks {
                        truncation_threshold: 10,
                        scheme: ClockScheme::VnodeClocks,
                    },
                    _ => Versioning::LastWriteWins,
                };
                let versions: Vec<Version> = build(&h)
                    .into_iter()
                    .zip(&tombs)
                    .map(|(mut v, tomb)| {
                        if *tomb {
                            let w = v.value().write();
                            v.set_value(Value::Tombstone(w));
                        }
                        v
                    })
                    .collect();
                // Each write and its retry: same value and clock, a later
                // stamp (a retried request's new coordinator).
                let versions: Vec<Version> = versions
                    .iter()
                    .flat_map(|v| {
                        let mut retry = v.clone();
                        retry.stamp_us += 1000;
                        [v.clone(), retry]
                    })
                    .collect();
                let by_value = scheme == 1;
                let mut s = Store::new(versioning);
                // key -> (entry, time it entered the key's entries)
                let mut model: BTreeMap<u64, Vec<(Version, SimTime)>> = BTreeMap::new();
                for (step, (op, key, i)) in ops.into_iter().enumerate() {
                    let now = SimTime(step as u64 * 10);
                    let k = Key(key);
                    match op {
                        0..=4 => {
                            let j = (i * 2 + usize::from(op == 4)) % versions.len();
                            s.apply(k, versions[j].clone(), now);
                        }
                        5 => s.remove(k),
                        6 => {
                            let cutoff = SimTime(now.0.saturating_sub(i as u64 * 10));
                            let mut want_touched = Vec::new();
                            let mut want = 0u32;
                            for (key, entries) in &model {
                                let n = entries
                                    .iter()
                                    .filter(|(v, at)| v.value().is_tombstone() && *at <= cutoff)
                                    .count() as u32;
                                if n > 0 {
                                    want_touched.push(Key(*key));
                                    want += n;
                                }
                            }
                            let mut touched = Vec::new();
                            prop_assert_eq!(s.purge_tombstones(cutoff, &mut touched), want);
                            prop_assert_eq!(touched, want_touched);
                        }
                        _ => {
                            if i == 0 {
                                s.clear();
                            }
                        }
                    }
                    // The model follows the store's entries, stamping new ones.
                    let mut next = BTreeMap::new();
                    for key in 0..3u64 {
                        let stored = s.versions(Key(key));
                        if stored.is_empty() {
                            continue;
                        }
                        let old = model.get(&key).cloned().unwrap_or_default();
                        let same = |o: &Version, v: &Version| {
                            if by_value { o.value() == v.value() } else { o == v }
                        };
                        let entries: Vec<(Version, SimTime)> = stored
                            .into_iter()
                            .map(|v| {
                                let at = old.iter().find(|(o, _)| same(o, &v)).map_or(now, |(_, at)| *at);
                                (v, at)
                            })
                            .collect();
                        next.insert(key, entries);
                    }
                    model = next;
                    let times: Vec<(Key, WriteId, SimTime)> = s
                        .tombstones
                        .0
                        .iter()
                        .map(|((k, w), at)| (*k, *w, *at))
                        .collect();
                    let want: Vec<(Key, WriteId, SimTime)> = model
                        .iter()
                        .flat_map(|(k, es)| {
                            es.iter()
                                .filter(|(v, _)| v.value().is_tombstone())
                                .map(|(v, at)| (Key(*k), v.value().write(), *at))
                        })
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    prop_assert_eq!(times, want);
                }
            }

            /// `KeyMap` behaves as one ordered map of key to entries (a
            /// key without entries absent), and keeps each key in the map
            /// its number of entries belongs in.
            #[test]
            fn key_map_behaves_as_one_map(
                ops in proptest::collection::vec((0u8..6, 0u64..8, 0u64..5), 0..80)
            ) {
                let stored = |t: u64| Slot::built(version(&VectorClock::new(), 1, t + 1));
                let seq = |s: &Slot| s.value(Key(0)).write().0.seq - 1;
                let mut map = KeyMap::default();
                let mut model: BTreeMap<Key, Vec<Slot>> = BTreeMap::new();
                for (op, k, t) in ops {
                    let key = Key(k);
                    match op {
                        0 | 1 => {
                            map.edit(key, None, |e| e.push(stored(t)));
                            model.entry(key).or_default().push(stored(t));
                        }
                        2 => {
                            map.edit(key, None, |e| e.retain(|s| seq(s) != t));
                            model.entry(key).or_default().retain(|s| seq(s) != t);
                        }
                        3 => {
                            let got = map.remove(&key).map(Siblings::into_vec);
                            let want = model.remove(&key).filter(|v| !v.is_empty());
                            prop_assert_eq!(got, want);
                        }
                        4 => {
                            if !map.contains_key(&key) {
                                map.insert_one(key, stored(t));
                                model.insert(key, vec![stored(t)]);
                            }
                        }
                        _ => {
                            // Corrupt every entry in a range, in key order.
                            let (from, to) = (Key(k.min(t)), Key(k.max(t)));
                            let mut seen = Vec::new();
                            map.for_each_in_mut(from, to, |key, entries| {
                                seen.push(key);
                                entries.iter_mut().for_each(|s| s.0.as_mut().expect("built").corrupt());
                            });
                            let mut want = Vec::new();
                            for (key, v) in model.range_mut(from..=to) {
                                if !v.is_empty() {
                                    want.push(*key);
                                }
                                v.iter_mut().for_each(|s| s.0.as_mut().expect("built").corrupt());
                            }
                            prop_assert_eq!(seen, want);
                        }
                    }
                    model.retain(|_, v| !v.is_empty());
                    let got: Vec<(Key, Vec<Slot>)> =
                        map.iter().map(|(k, v)| (k, v.to_vec())).collect();
                    let want: Vec<(Key, Vec<Slot>)> =
                        model.iter().map(|(k, v)| (*k, v.clone())).collect();
                    prop_assert_eq!(&got, &want);
                    prop_assert_eq!(map.len(), model.len());
                    for (k, v) in &model {
                        prop_assert_eq!(map.get(k), Some(v.as_slice()));
                        prop_assert_eq!(map.one.contains_key(k), v.len() == 1);
                        prop_assert_eq!(map.many.contains_key(k), v.len() > 1);
                    }
                    prop_assert_eq!(map.get(&Key(99)), None);
                }
                prop_assert_eq!(map.into_map(), model);
            }

            /// `Siblings` behaves as the vector it stands for, under any
            /// sequence of pushes, filters and clears.
            #[test]
            fn siblings_behave_as_a_vector(ops in proptest::collection::vec((0u8..4, 0u64..6), 0..40)) {
                let stored = |t: u64| Slot::built(version(&VectorClock::new(), 1, t + 1));
                let seq = |s: &Slot| s.value(Key(0)).write().0.seq - 1;
                let (mut sib, mut model) = (Siblings::default(), Vec::new());
                for (op, t) in ops {
                    match op {
                        0 | 1 => {
                            sib.push(stored(t));
                            model.push(stored(t));
                        }
                        2 => {
                            sib.retain(|s| seq(s) != t);
                            model.retain(|s: &Slot| seq(s) != t);
                        }
                        _ => {
                            sib.clear();
                            model.clear();
                        }
                    }
                    prop_assert_eq!(&*sib, model.as_slice());
                    prop_assert_eq!(matches!(sib, Siblings::One(_)), model.len() == 1);
                }
                prop_assert_eq!(Siblings::from(model.clone()).into_vec(), model);
            }
        }
    }

    /// A map entry is two words: one version inline (its store time is
    /// not kept), or a boxed slice of siblings.
    #[test]
    fn siblings_are_two_words() {
        assert_eq!(
            std::mem::size_of::<Stored>(),
            std::mem::size_of::<Version>()
        );
        assert_eq!(std::mem::size_of::<Slot>(), std::mem::size_of::<Version>());
        assert_eq!(
            std::mem::size_of::<Siblings>(),
            std::mem::size_of::<Box<[Slot]>>()
        );
    }
}
