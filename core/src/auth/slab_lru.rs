//! The token cache's bounded map: least recently used entries go first, as with the
//! `lru` crate it replaces, but its entries live in one vector and a full map refills
//! the evicted entry in place. Every fresh token is an insertion that evicts, and with
//! `lru` each one moved the new entry into the evicted node and the old one out,
//! released the old entry's text (memory the CPU's caches no longer had) and
//! allocated the new one's: ~10% of a fresh Auth.js cookie's `check_http` (issue 23).
//! Here the evicted entry's text becomes the new entry's: no allocation, no release,
//! no move, once the map is full.
//!
//! The evicted entry is the least recently used, so its memory is out of the CPU's
//! caches when a fresh token is written over it: each of its lines fetched only when
//! the write reaches it was most of a fresh Auth.js cookie's insertion (~0.9 µs, issue
//! 23). A lookup that misses asks for the victim's lines ([`SlabLru::prefetch_victim`])
//! and the insertion asks for what they point to before it starts writing, so the
//! fetches overlap each other and the token's verification instead of following one
//! another. A prefetch is a hint: it never faults, waits or changes a value.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// A value whose memory can be asked for ahead of a refill.
pub(crate) trait Prefetch {
    /// Ask for the value's own lines (its fields), without reading them.
    fn prefetch_fields(&self);
    /// Ask for the memory the value's fields point to (reads the fields).
    fn prefetch_heap(&self);
}

/// Ask the CPU for the cache line holding `v`, to be written: a hint, never a read
/// (`prefetchw` where the build targets a CPU with it, else `prefetcht0`, which this
/// crate's default x86-64 target gets).
#[inline(always)]
pub(crate) fn prefetch_line<T>(v: &T) {
    #[cfg(target_arch = "x86_64")]
    safe_arch::prefetch_et0(v);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// No node: the end of the recency list.
const NIL: u32 = u32::MAX;

struct Node<V> {
    key: u64,
    /// Towards the most recently used node.
    prev: u32,
    /// Towards the least recently used node.
    next: u32,
    value: V,
}

/// A map of at most `cap` values by `u64` key, least recently used first out.
pub(crate) struct SlabLru<V, S> {
    /// Key -> index in `nodes` (each node in the list is in the map, and only those).
    map: HashMap<u64, u32, S>,
    nodes: Vec<Node<V>>,
    /// Nodes taken out of the list (`remove`): their values are rooms to refill.
    free: Vec<u32>,
    /// The most recently used node.
    head: u32,
    /// The least recently used node.
    tail: u32,
    cap: usize,
}

impl<V: Prefetch, S: BuildHasher> SlabLru<V, S> {
    /// An empty map of at most `cap` values (at least one, and fewer than `u32::MAX`).
    pub(crate) fn new(cap: usize, hasher: S) -> Self {
        let cap = cap.clamp(1, NIL as usize - 1);
        SlabLru {
            map: HashMap::with_capacity_and_hasher(cap, hasher),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            cap,
        }
    }

    /// Values held (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    fn node(&mut self, i: u32) -> Option<&mut Node<V>> {
        self.nodes.get_mut(i as usize)
    }

    /// Take node `i` out of the recency list.
    fn unlink(&mut self, i: u32) {
        let Some(n) = self.node(i) else { return };
        let (prev, next) = (n.prev, n.next);
        match self.node(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.node(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    /// Put node `i` (out of the list) at its head.
    fn push_front(&mut self, i: u32) {
        let head = self.head;
        let Some(n) = self.node(i) else { return };
        n.prev = NIL;
        n.next = head;
        match self.node(head) {
            Some(h) => h.prev = i,
            None => self.tail = i,
        }
        self.head = i;
    }

    /// The value of `key`, now the most recently used.
    pub(crate) fn get(&mut self, key: u64) -> Option<&V> {
        let i = *self.map.get(&key)?;
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        self.nodes.get(i as usize).map(|n| &n.value)
    }

    /// The value of `key`, its recency unchanged.
    pub(crate) fn peek(&self, key: u64) -> Option<&V> {
        let i = *self.map.get(&key)?;
        self.nodes.get(i as usize).map(|n| &n.value)
    }

    /// Ask for the lines of the node the next insertion of a new key would take when
    /// the map is full (the least recently used one): after a lookup's miss, which
    /// an insertion follows once the token has verified. Reads nothing of the node,
    /// so a lookup does not wait for it.
    #[inline]
    pub(crate) fn prefetch_victim(&self) {
        if !self.free.is_empty() || self.nodes.len() < self.cap {
            return;
        }
        if let Some(n) = self.nodes.get(self.tail as usize) {
            prefetch_line(&n.key);
            n.value.prefetch_fields();
        }
    }

    /// Give `key` a value, the most recently used: `refill` rewrites the value in the
    /// room it takes (the value `key` had, a removed one's, or the least recently used
    /// one's when the map is full, which leaves the map); `make` builds one while the
    /// map has never been full.
    pub(crate) fn insert_with(
        &mut self,
        key: u64,
        make: impl FnOnce() -> V,
        refill: impl FnOnce(&mut V),
    ) {
        let i = if let Some(&i) = self.map.get(&key) {
            self.unlink(i);
            i
        } else if let Some(i) = self.free.pop() {
            i
        } else if self.nodes.len() < self.cap {
            let Ok(i) = u32::try_from(self.nodes.len()) else {
                return;
            };
            self.nodes.push(Node {
                key,
                prev: NIL,
                next: NIL,
                value: make(),
            });
            self.map.insert(key, i);
            self.push_front(i);
            return;
        } else {
            let i = self.tail;
            let Some(n) = self.nodes.get(i as usize) else {
                return;
            };
            // The lines the refill and the unlinking write, asked for together
            // before the map's update, which has its own line to fetch.
            n.value.prefetch_heap();
            if let Some(p) = self.nodes.get(n.prev as usize) {
                prefetch_line(&p.next);
            }
            let old = n.key;
            self.unlink(i);
            self.map.remove(&old);
            i
        };
        let Some(n) = self.node(i) else { return };
        refill(&mut n.value);
        n.key = key;
        self.map.insert(key, i);
        self.push_front(i);
    }

    /// Forget `key`: its value stays as a room for a later insertion.
    pub(crate) fn remove(&mut self, key: u64) {
        if let Some(i) = self.map.remove(&key) {
            self.unlink(i);
            self.free.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use std::collections::hash_map::RandomState;

    impl Prefetch for u64 {
        fn prefetch_fields(&self) {
            prefetch_line(self);
        }
        fn prefetch_heap(&self) {}
    }

    /// The map against a plain model of LRU (a vector, most recent last) over a long
    /// deterministic mix of lookups, peeks, insertions and removals of few keys: the
    /// same values, the same evictions.
    #[test]
    fn answers_as_a_plain_lru_model() {
        for cap in [1usize, 2, 3, 8] {
            let mut m = SlabLru::new(cap, RandomState::new());
            let mut model: Vec<(u64, u64)> = Vec::new();
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ cap as u64;
            for step in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = x % 12;
                match (x >> 8) % 5 {
                    0 => {
                        let want = model.iter().position(|e| e.0 == key).map(|p| {
                            let e = model.remove(p);
                            model.push(e);
                            e.1
                        });
                        assert_eq!(m.get(key).copied(), want, "cap {cap} step {step}");
                    }
                    1 => {
                        let want = model.iter().find(|e| e.0 == key).map(|e| e.1);
                        assert_eq!(m.peek(key).copied(), want);
                        m.prefetch_victim();
                    }
                    2 => {
                        model.retain(|e| e.0 != key);
                        m.remove(key);
                    }
                    _ => {
                        model.retain(|e| e.0 != key);
                        if model.len() == cap {
                            model.remove(0);
                        }
                        model.push((key, step));
                        m.insert_with(key, || step, |v| *v = step);
                    }
                }
                assert_eq!(m.len(), model.len());
                assert!(m.nodes.len() <= cap);
            }
        }
    }
}
