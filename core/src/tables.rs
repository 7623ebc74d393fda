//! The decision tables of a loaded policy: interned roles, actions and types, the role x
//! action grant table closed under inheritance, and rules indexed by (action, type).
//! Data and run-time lookups only; `compile.rs` builds them at load.

use crate::program::{AttrPath, Node};
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
    pub role_names: Vec<Box<str>>,
    /// `anc[r]`: the roles that `r` is or inherits, transitively.
    pub anc: Vec<Bits>,
    /// With at most 64 roles, `anc` again as masks (bit r: role r), so that a principal's
    /// roles are resolved once per decision and `is`/`>=` become AND operations.
    pub anc_mask: Option<Box<[u64]>>,
    /// Exact action names mentioned by the policy.
    pub actions: FxMap<u32>,
    /// Namespaces of `ns:*` patterns: the class of an unlisted action in that namespace.
    pub namespaces: FxMap<u32>,
    /// The class of an action no pattern names.
    pub other_action: u32,
    pub n_actions: u32,
    /// Resource types mentioned by `on` lists or shapes; `other_type` for the rest and none.
    pub types: FxMap<u32>,
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
        if let Some(&a) = self.actions.get(action) {
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
        ty.and_then(|t| self.types.get(t).copied())
            .unwrap_or(self.other_type)
    }

    pub fn role_id(&self, name: &str) -> Option<u32> {
        self.roles.get(name).copied()
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
