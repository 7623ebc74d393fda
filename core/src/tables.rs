//! The decision tables of a loaded policy: interned roles, actions and types, the role x
//! action grant table closed under inheritance, and rules indexed by (action, type).
//! Data and run-time lookups only; `compile.rs` builds them at load.

use crate::program::{AttrPath, Fast, Node};
use crate::script::Scripts;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use warden_lang::ast::{CondKind, Effect, OnMissing};

/// FxHash: the names hashed here are short and not attacker-chosen keys of a growing
/// table (the tables are fixed at load), so a fast non-keyed hash is safe.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
}

pub(crate) type FxMap<V> = HashMap<Box<str>, V, BuildHasherDefault<Fx>>;

/// The names of one kind a policy declares (roles, actions, resource types), looked up
/// per request without hashing or comparing whole strings through `memcmp`: a perfect
/// hash over a string's length and its first and last eight bytes, found at load. Up to
/// 16 bytes those describe the string exactly (the two windows overlap and cover it),
/// so a hit is decided by three integer compares; a longer name is compared in full.
/// When no seed separates the names (many long names alike at both ends), the map.
///
/// The three lookups of a request (action, type, role) were ~400 of the ~1,900
/// instructions of building and deciding a docs-app `RequestRef` through `FxMap`.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    slots: Box<[Slot]>,
    seed: u64,
    shift: u32,
    /// Used when `slots` is empty (no perfect hash was found).
    fallback: FxMap<u32>,
}

#[derive(Debug, Clone)]
struct Slot {
    /// `usize::MAX` for an empty slot: no name is that long.
    len: usize,
    head: u64,
    tail: u64,
    id: u32,
    name: Box<str>,
}

/// A string's first and last eight bytes (four and four below eight bytes; below four,
/// its first, middle and last byte): with its length, the whole string up to 16 bytes.
#[inline(always)]
fn key(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    let word = |s: Option<&[u8]>| {
        s.and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map_or(0, u64::from_le_bytes)
    };
    let half = |s: Option<&[u8]>| {
        s.and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    if n >= 8 {
        (word(b.get(..8)), word(b.get(n - 8..)))
    } else if n >= 4 {
        (half(b.get(..4)), half(b.get(n - 4..)))
    } else if n > 0 {
        let at = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
        (at(0) | at(n / 2) << 8 | at(n - 1) << 16, 0)
    } else {
        (0, 0)
    }
}

#[inline(always)]
fn slot_of(len: usize, head: u64, tail: u64, seed: u64, shift: u32) -> usize {
    let h = head ^ tail.rotate_left(31) ^ (len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h.wrapping_mul(seed) >> shift) as usize
}

impl NameIndex {
    /// Index the names of `map`: the smallest table (up to 8x the names, at least 2
    /// slots) and the first of 64 odd seeds that put every name in a slot of its own.
    pub(crate) fn new(map: &FxMap<u32>) -> Self {
        let n = map.len();
        let keyed: Vec<(usize, u64, u64, u32, &str)> = map
            .iter()
            .map(|(k, &id)| {
                let (h, t) = key(k.as_bytes());
                (k.len(), h, t, id, &**k)
            })
            .collect();
        let min_bits = n.max(2).next_power_of_two().trailing_zeros();
        if n <= 4096 {
            for bits in min_bits..=min_bits + 3 {
                let shift = 64 - bits;
                let mut state = 0x2545_F491_4F6C_DD1Du64;
                for _ in 0..64 {
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let seed = (state ^ (state >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1;
                    let mut used = vec![false; 1 << bits];
                    let free = keyed.iter().all(|&(len, h, t, _, _)| {
                        let i = slot_of(len, h, t, seed, shift);
                        !std::mem::replace(&mut used[i], true)
                    });
                    if !free {
                        continue;
                    }
                    let empty = Slot {
                        len: usize::MAX,
                        head: 0,
                        tail: 0,
                        id: 0,
                        name: "".into(),
                    };
                    let mut slots = vec![empty; 1 << bits];
                    for &(len, head, tail, id, name) in &keyed {
                        slots[slot_of(len, head, tail, seed, shift)] = Slot {
                            len,
                            head,
                            tail,
                            id,
                            name: name.into(),
                        };
                    }
                    return NameIndex {
                        slots: slots.into(),
                        seed,
                        shift,
                        fallback: FxMap::default(),
                    };
                }
            }
        }
        NameIndex {
            fallback: map.clone(),
            ..NameIndex::default()
        }
    }

    /// The id of `name`, as the map it was built from gives it.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return self.get_fallback(name);
        }
        let b = name.as_bytes();
        let (head, tail) = key(b);
        let s = self
            .slots
            .get(slot_of(b.len(), head, tail, self.seed, self.shift))?;
        (s.len == b.len()
            && s.head == head
            && s.tail == tail
            && (b.len() <= 16 || *s.name == *name))
            .then_some(s.id)
    }

    /// Out of line: inlined, the map's probe made every lookup save and restore six
    /// registers.
    #[inline(never)]
    fn get_fallback(&self, name: &str) -> Option<u32> {
        self.fallback.get(name).copied()
    }
}

/// A small fixed bitset over role ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bits(pub(crate) Box<[u64]>);

impl Bits {
    pub(crate) fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)].into_boxed_slice())
    }
    pub(crate) fn set(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
    pub(crate) fn has(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    pub(crate) fn union(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }
}

/// One compiled allow or deny rule.
#[derive(Debug)]
pub(crate) struct CRule {
    pub effect: Effect,
    pub cond: Option<(CondKind, Node)>,
    /// The condition's fast form ([`Fast::of`]), when it has one.
    pub fast: Option<Fast>,
    pub missing: OnMissing,
    /// `file:line`, as decisions report it.
    pub loc: Box<str>,
    /// The `because` text, or a default naming the rule.
    pub reason: Box<str>,
    /// Every attribute path the condition reads: the decision cache's key.
    pub reads: Box<[AttrPath]>,
    /// The condition reads `now`: decisions it applies to are not cached.
    pub reads_now: bool,
    /// A deny that never denies: marked `report_only` (listed in [`Entry::reports`]),
    /// or any deny of a `report_only` policy (explain traces say so).
    pub report_only: bool,
}

/// The rules that can apply to one (action class, resource type) pair, in source order.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    pub allows: Box<[u32]>,
    pub denies: Box<[u32]>,
    /// `report_only` denies: read for allowed requests, to report, never to deny.
    pub reports: Box<[u32]>,
}

/// Everything a decision reads, built once per policy.
#[derive(Debug)]
pub(crate) struct Tables {
    pub roles: FxMap<u32>,
    /// `roles` again, for the per-request lookups.
    pub role_ix: NameIndex,
    /// Exact action names mentioned by the policy.
    pub action_ix: NameIndex,
    pub role_names: Vec<Box<str>>,
    /// `anc[r]`: the roles that `r` is or inherits, transitively.
    pub anc: Vec<Bits>,
    /// With at most 64 roles, `anc` again as masks (bit r: role r), so that a principal's
    /// roles are resolved once per decision and `is`/`>=` become AND operations.
    pub anc_mask: Option<Box<[u64]>>,
    /// Namespaces of `ns:*` patterns: the class of an unlisted action in that namespace.
    pub namespaces: FxMap<u32>,
    /// The class of an action no pattern names.
    pub other_action: u32,
    pub n_actions: u32,
    /// Resource types mentioned by `on` lists or shapes; `other_type` for the rest and none.
    pub type_ix: NameIndex,
    pub other_type: u32,
    pub n_types: u32,
    /// `grant_of[role * n_actions + action]`: the first grant (source order) covering the
    /// action for the role, closed under inheritance; `u32::MAX` when none.
    pub grant_of: Vec<u32>,
    pub grant_locs: Vec<Box<str>>,
    /// `index[action * n_types + type]`.
    pub index: Vec<Entry>,
    pub rules: Vec<CRule>,
    pub scripts: Option<Scripts>,
    /// `policy NAME report_only`: the `policy` line as `file:line`. Every denial and
    /// refusal is then reported and the request allowed.
    pub report_only: Option<Box<str>>,
}

pub(crate) const NO_GRANT: u32 = u32::MAX;

impl Tables {
    /// The action class of a concrete action name; no allocation.
    pub fn action_class(&self, action: &str) -> u32 {
        if let Some(a) = self.action_ix.get(action) {
            return a;
        }
        // The longest `ns` with `action` = `ns:...` decides: every shorter matching
        // namespace is a prefix of it, so its class already accounts for them.
        let mut class = self.other_action;
        for (i, _) in action.match_indices(':') {
            if let Some(&c) = action.get(..i).and_then(|ns| self.namespaces.get(ns)) {
                class = c;
            }
        }
        class
    }

    pub fn type_id(&self, ty: Option<&str>) -> u32 {
        ty.and_then(|t| self.type_ix.get(t))
            .unwrap_or(self.other_type)
    }

    pub fn role_id(&self, name: &str) -> Option<u32> {
        self.role_ix.get(name)
    }

    pub fn entry(&self, action: u32, ty: u32) -> Option<&Entry> {
        self.index
            .get(action as usize * self.n_types as usize + ty as usize)
    }

    /// The first grant giving `action` to `role` (by inheritance), or [`NO_GRANT`].
    pub fn grant(&self, role: u32, action: u32) -> u32 {
        self.grant_of
            .get(role as usize * self.n_actions as usize + action as usize)
            .copied()
            .unwrap_or(NO_GRANT)
    }

    /// The principal's declared roles as a mask, when the policy has at most 64 roles.
    pub fn role_mask<S: AsRef<str>>(&self, names: &[S]) -> Option<u64> {
        self.anc_mask.as_ref()?;
        Some(
            names
                .iter()
                .filter_map(|n| self.role_id(n.as_ref()))
                .fold(0, |m, r| m | (1u64 << r)),
        )
    }

    /// Whether role `a` is or inherits role `b`.
    pub fn inherits(&self, a: u32, b: u32) -> bool {
        self.anc.get(a as usize).is_some_and(|s| s.has(b))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn map(names: &[String]) -> FxMap<u32> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str().into(), i as u32))
            .collect()
    }

    /// Every name, and strings near each (a byte changed at each position, one byte
    /// more or less, prefixes and suffixes), give what the map gives.
    fn agrees(names: &[String]) -> NameIndex {
        let m = map(names);
        let ix = NameIndex::new(&m);
        let mut probes: Vec<String> = vec![String::new(), "x".into(), "é".into()];
        for n in names {
            probes.push(n.clone());
            probes.push(format!("{n}a"));
            probes.push(format!("a{n}"));
            for i in 0..n.len() {
                let mut b = n.clone().into_bytes();
                b[i] = if b[i] == b'z' { b'y' } else { b'z' };
                probes.extend(String::from_utf8(b).ok());
                probes.extend(n.get(..i).map(String::from));
                probes.extend(n.get(i + 1..).map(String::from));
            }
        }
        for p in &probes {
            assert_eq!(ix.get(p), m.get(p.as_str()).copied(), "{p:?}");
        }
        ix
    }

    #[test]
    fn the_tour_names_hash_perfectly() {
        let names: Vec<String> = [
            "posts:read",
            "posts:write",
            "posts:delete",
            "users:read",
            "users:write",
            "users:delete",
        ]
        .map(String::from)
        .into();
        assert!(!agrees(&names).slots.is_empty());
        let roles: Vec<String> = ["viewer", "editor", "admin"].map(String::from).into();
        assert!(!agrees(&roles).slots.is_empty());
        let types: Vec<String> = ["post", "user"].map(String::from).into();
        assert!(!agrees(&types).slots.is_empty());
        let one: Vec<String> = vec!["a".into()];
        assert!(!agrees(&one).slots.is_empty());
        assert_eq!(NameIndex::new(&FxMap::default()).get("a"), None);
    }

    #[test]
    fn names_of_every_length_alike_at_both_ends() {
        // Lengths 1 to 16 (below four bytes, windows overlapping), shared prefixes and
        // suffixes: the key is the whole name.
        let names = alike(16);
        assert!(!agrees(&names).slots.is_empty());
        // Up to 40: past 16 bytes the names differ only outside the windows (the map).
        agrees(&alike(40));
        let many: Vec<String> = (0..300).map(|i| format!("app:resource{i}:read")).collect();
        assert!(!agrees(&many).slots.is_empty());
    }

    fn alike(max: usize) -> Vec<String> {
        let mut names = Vec::new();
        for len in 1..=max {
            for c in ['a', 'b', 'q'] {
                let mut s = "n".repeat(len);
                s.replace_range(len / 2..len / 2 + 1, &c.to_string());
                names.push(s);
            }
        }
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn names_alike_but_in_the_middle_fall_back_to_the_map() {
        // Longer than 16 bytes and equal in length, first and last eight bytes: one
        // key for all, so no seed separates them.
        let names: Vec<String> = (0..10)
            .map(|i| format!("aaaaaaaaaa{i}bbbbbbbbbb"))
            .collect();
        assert!(agrees(&names).slots.is_empty());
    }
}
