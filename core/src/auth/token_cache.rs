//! Verified tokens, remembered: a bearer JWT or an Auth.js session cookie is presented
//! on every request of a session, and verifying it (base64, a signature or AES, JSON)
//! is most of `check_http`'s cost. A hit skips exactly that work and nothing else.
//!
//! Why a hit is always right:
//! - an entry holds the whole token, compared in full on every lookup (a keyed hash
//!   only picks the shard and the slot), so a hit is the same bytes that verified;
//! - what verification depends on besides the token (keys, algorithms, issuer,
//!   audience) is fixed for the compiled policy that owns the cache: key rotation or
//!   revocation is a reload, and a reloaded policy starts with an empty cache;
//! - what depends on time (`exp`, `nbf`, `max_age`) is checked again on every hit
//!   against the request's time, so an entry never admits a token past its `exp`
//!   (and an expired entry is dropped when it is found);
//! - only tokens that verified and passed every claim rule are stored: failures are
//!   never cached, so a forged token costs a full verification every time.
//!
//! Bounded (least recently used entries go first), split into shards by a keyed hash
//! so that threads presenting different tokens rarely meet on one lock. A poisoned
//! shard is bypassed, never unwrapped.

use super::claims::ClaimMap;
use super::doc::Members;
use super::lifetime::{Times, TokenRules};
use super::outcome::AuthFailure;
use super::slab_lru::{prefetch_line, Prefetch, SlabLru};
use crate::request::{Attrs, Principal, Value};
use smallvec::SmallVec;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// What verifying a token established, whatever the time it is presented at (what
/// an [`Entry`] holds; tests store it whole).
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Verified {
    /// The verified time claims, for the time rules on each use (the whole claims
    /// map is not kept: an entry stays small, and evicting it frees little).
    pub times: Times,
    pub principal: Principal,
    /// Which key of the block verified it (its label is the decision's `via`).
    pub key: usize,
}

const SHARDS: usize = 8;

/// Keyed by the token's [`TailHash`], each entry holding the whole token it is for.
/// The map's key is that hash, not the token: evicting the least recently used entry
/// of a full shard (every fresh token's insertion) then rehashes a number in the map,
/// where a token key had its bytes read again from memory the cache no longer had
/// (~4% of a fresh token's `check_http` in a profile, issue 23). A full shard writes
/// the new entry over the evicted one ([`SlabLru`]).
type Shard = Mutex<SlabLru<Entry, Slot>>;

/// A remembered token and what it verified to, held in the map's node itself: no
/// allocation of its own, and no shared count whose release would touch an evicted
/// entry's memory once more (a hit builds the principal under the shard's lock). An
/// evicted entry is refilled in place ([`Entry::fill`]): its text's allocation is
/// the new token's.
///
/// The token, the principal's id, its roles and its string attributes sit end to end
/// in one allocation: a fresh token's entry is then one copy (not the token's plus a
/// clone of the principal's strings), and an eviction one release of memory the cache
/// no longer has, where each string's release was its own miss (issue 23's profiles
/// of fresh tokens: ~10% in releasing evicted entries; the attributes' clone and
/// release ~6% of an HS256 token with one attribute claim).
struct Entry {
    /// The token, the id, each role, then each attribute's name and value when every
    /// attribute is a string.
    text: String,
    /// Where each of them ends in `text`.
    ends: SmallVec<[usize; 10]>,
    /// Where the roles end in `ends`.
    roles_end: usize,
    /// The attributes, when one of them is not a string (else they are in `text`).
    attrs: Option<Attrs>,
    times: Times,
    key: usize,
}

impl Entry {
    fn new(token: &str, times: Times, principal: &Principal, key: usize) -> Entry {
        let mut e = Entry {
            text: String::new(),
            ends: SmallVec::new(),
            roles_end: 0,
            attrs: None,
            times,
            key,
        };
        e.fill(token, times, principal, key);
        e
    }

    /// This entry made `token`'s, in the room it has (a shard's evicted entry).
    fn fill(&mut self, token: &str, times: Times, principal: &Principal, key: usize) {
        let strings: Option<SmallVec<[(&str, &str); 4]>> = principal
            .attrs
            .0
            .iter()
            .map(|(n, v)| match v {
                Value::String(s) => Some((n.as_str(), s.as_str())),
                _ => None,
            })
            .collect();
        let parts = || {
            [token, principal.id.as_str()]
                .into_iter()
                .chain(principal.roles.iter().map(String::as_str))
                .chain(strings.iter().flatten().flat_map(|(n, v)| [*n, *v]))
        };
        self.text.clear();
        self.text.reserve(parts().map(str::len).sum());
        self.ends.clear();
        for part in parts() {
            self.text.push_str(part);
            self.ends.push(self.text.len());
        }
        self.roles_end = 2 + principal.roles.len();
        self.attrs = strings.is_none().then(|| principal.attrs.clone());
        self.times = times;
        self.key = key;
    }

    /// The `i`th string of `text`.
    fn part(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .map_or(0, |p| self.ends.get(p).copied().unwrap_or(0));
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }

    fn token(&self) -> &str {
        self.part(0)
    }

    /// The principal it verified to, as it was when stored.
    fn principal(&self) -> Principal {
        let attrs = match &self.attrs {
            Some(attrs) => attrs.clone(),
            None => Attrs(
                (self.roles_end..self.ends.len())
                    .step_by(2)
                    .map(|i| {
                        (
                            self.part(i).to_owned(),
                            Value::String(self.part(i + 1).to_owned()),
                        )
                    })
                    .collect(),
            ),
        };
        Principal {
            id: self.part(1).to_owned(),
            roles: (2..self.roles_end)
                .map(|i| self.part(i).to_owned())
                .collect(),
            attrs,
        }
    }
}

impl Prefetch for Entry {
    fn prefetch_fields(&self) {
        // Each field's first byte: the entry's lines whatever order the compiler
        // lays the fields out in, but for a line wholly inside `ends` (its used end
        // is asked for by `prefetch_heap`).
        prefetch_line(&self.text);
        prefetch_line(&self.ends);
        prefetch_line(&self.roles_end);
        prefetch_line(&self.attrs);
        prefetch_line(&self.times);
        prefetch_line(&self.key);
    }

    fn prefetch_heap(&self) {
        // The text's lines (what the refill overwrites first), and the ends' first
        // and last used slots (inline in the entry, or its spill).
        for line in self.text.as_bytes().chunks(64) {
            if let Some(b) = line.first() {
                prefetch_line(b);
            }
        }
        if let (Some(first), Some(last)) = (self.ends.first(), self.ends.last()) {
            prefetch_line(first);
            prefetch_line(last);
        }
    }
}

/// A bounded map from a token to what verifying it established; empty when off.
pub(crate) struct TokenCache {
    shards: Box<[Shard]>,
    hasher: TailHash,
}

// Tokens are credentials: `Debug` shows the size, never a key.
impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache of about `entries` tokens; 0 turns it off.
    pub(crate) fn new(entries: usize) -> Self {
        let per_shard = NonZeroUsize::new(entries.div_ceil(SHARDS));
        let shards = match per_shard {
            None => Box::default(),
            Some(n) => (0..SHARDS)
                .map(|_| Mutex::new(SlabLru::new(n.get(), Slot)))
                .collect(),
        };
        TokenCache {
            shards,
            hasher: TailHash::new(),
        }
    }

    /// The shard of `token` and its key there.
    fn shard(&self, token: &str) -> Option<(&Shard, u64)> {
        if self.shards.is_empty() {
            return None;
        }
        let h = self.hasher.hash_one(token);
        // The high half picks the shard; the map's slot is taken from the low bits.
        let shard = self.shards.get((h >> 32) as usize % self.shards.len())?;
        Some((shard, h))
    }

    /// `f` of what `token` verified to, if it did before, under its shard's lock. An
    /// entry of the same hash for another token is a miss (and stays: it is that
    /// token's).
    /// A miss asks for the memory the token's insertion will write
    /// ([`SlabLru::prefetch_victim`]): it follows once the token has verified.
    fn read<R>(&self, token: &str, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        let (shard, h) = self.shard(token)?;
        let mut shard = shard.lock().ok()?;
        match shard.get(h) {
            Some(e) => (e.token() == token).then(|| f(e)),
            None => {
                shard.prefetch_victim();
                None
            }
        }
    }

    /// The principal `token` verified to, if it did before (tests).
    #[cfg(test)]
    fn get(&self, token: &str) -> Option<Principal> {
        self.read(token, Entry::principal)
    }

    /// The last steps of every token mechanism once a key verified `token` (its
    /// signature, or its decryption): the claim rules at `now_us`, the principal the
    /// claims map to, and the token remembered with both for its next request.
    pub(crate) fn admit(
        &self,
        rules: &TokenRules,
        map: &ClaimMap,
        token: &str,
        claims: &Members<'_>,
        now_us: u64,
        key: usize,
    ) -> Result<Principal, AuthFailure> {
        let times = Times::of(claims);
        rules.check_with(claims, &times, now_us)?;
        let principal = map.principal(claims).ok_or(AuthFailure::InvalidToken)?;
        self.store(token, times, &principal, key);
        Ok(principal)
    }

    /// Remember a token that verified and passed its claim rules.
    #[cfg(test)]
    pub(crate) fn put(&self, token: &str, v: Verified) {
        self.store(token, v.times, &v.principal, v.key);
    }

    /// Store the entry of `token` (built only when the cache is on, under the shard's
    /// lock: in the room of the entry it evicts).
    fn store(&self, token: &str, times: Times, principal: &Principal, key: usize) {
        let Some((shard, h)) = self.shard(token) else {
            return;
        };
        if let Ok(mut s) = shard.lock() {
            s.insert_with(
                h,
                || Entry::new(token, times, principal, key),
                |e| e.fill(token, times, principal, key),
            );
        }
    }

    /// A token verified before, presented at `now_us`: `None` when it was not; else
    /// the time rules again (an expired entry is dropped), then its principal and the
    /// index of the key that verified it. The same answer as verifying it.
    pub(crate) fn reuse(
        &self,
        rules: &TokenRules,
        token: &str,
        now_us: u64,
    ) -> Option<Result<(Principal, usize), AuthFailure>> {
        let known = self.read(token, |hit| {
            rules
                .check_times(&hit.times, now_us)
                .map(|()| (hit.principal(), hit.key))
        })?;
        if known == Err(AuthFailure::TokenExpired) {
            self.remove(token);
        }
        Some(known)
    }

    /// Forget a token (found expired).
    fn remove(&self, token: &str) {
        let Some((shard, h)) = self.shard(token) else {
            return;
        };
        if let Ok(mut shard) = shard.lock() {
            if shard.peek(h).is_some_and(|e| e.token() == token) {
                shard.remove(h);
            }
        }
    }

    /// Tokens held now (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.len()))
            .sum()
    }
}

/// A keyed hash of a token's last 16 bytes and its length, for the cache's shards and
/// maps. The end of a token that verified is its signature or authentication tag:
/// uniform, and not choosable without the key, so it spreads entries as the whole
/// token would; a lookup still compares the whole token. The whole token hashed (the
/// map's SipHash, then `ahash` for the shard) was ~8% of a fresh token's
/// `check_http`: tokens are a few hundred bytes. Tokens that fail are never stored,
/// so a crafted token can only meet an entry, never add a colliding one.
#[derive(Clone)]
struct TailHash {
    keys: [u64; 2],
}

impl TailHash {
    fn new() -> Self {
        let seed = ahash::RandomState::new();
        TailHash {
            keys: [seed.hash_one(0u8), seed.hash_one(1u8)],
        }
    }
}

impl BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher {
            h: self.keys[0],
            k: self.keys[1],
        }
    }
}

/// See [`TailHash`].
struct TailHasher {
    h: u64,
    k: u64,
}

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        let tail = bytes.get(bytes.len().saturating_sub(16)..).unwrap_or(bytes);
        let mut block = [0u8; 16];
        if let Some(dst) = block.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        let [a, b] = [0, 8].map(|i| {
            let mut w = [0u8; 8];
            w.copy_from_slice(block.get(i..i + 8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(w)
        });
        let x = fold(self.h ^ a, self.k ^ b);
        self.h = fold(x ^ bytes.len() as u64, self.k.rotate_left(32));
    }

    fn finish(&self) -> u64 {
        self.h
    }
}

/// The map hasher of a shard: its keys are [`TailHash`] values already, keyed and
/// mixed, so they are their own hash.
#[derive(Clone, Copy)]
struct Slot;

impl BuildHasher for Slot {
    type Hasher = SlotHasher;

    fn build_hasher(&self) -> SlotHasher {
        SlotHasher(0)
    }
}

/// See [`Slot`].
struct SlotHasher(u64);

impl Hasher for SlotHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed (`write_u64`); any other input is still mixed in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Folded 64x64 -> 128-bit multiply (the mixing step of `ahash`'s fallback).
fn fold(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn verified(id: &str) -> Verified {
        Verified {
            times: Times::of(&Members::default()),
            principal: Principal::new(id),
            key: 0,
        }
    }

    #[test]
    fn tokens_sharing_a_tail_are_told_apart() {
        // Same last 16 bytes and length: one key. Tokens that verified differ there
        // (their signatures), so this only happens by construction; the later entry
        // replaces the earlier, and neither token ever meets the other's entry.
        let c = TokenCache::new(64);
        let tail = ".sig-0123456789abcdef";
        c.put(&format!("aaaa{tail}"), verified("a"));
        assert_eq!(c.get(&format!("aaaa{tail}")).unwrap().id, "a");
        assert!(c.get(&format!("cccc{tail}")).is_none());
        c.put(&format!("bbbb{tail}"), verified("b"));
        assert_eq!(c.get(&format!("bbbb{tail}")).unwrap().id, "b");
        assert!(c.get(&format!("aaaa{tail}")).is_none());
        assert!(c.get(tail).is_none());
        // Forgetting a token leaves another token's entry of the same key.
        c.remove(&format!("aaaa{tail}"));
        assert_eq!(c.get(&format!("bbbb{tail}")).unwrap().id, "b");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn the_tail_hash_spreads_tokens_over_the_shards() {
        let h = TailHash::new();
        let shards: std::collections::HashSet<u64> = (0..64)
            .map(|i| (h.hash_one(format!("header.claims.signature-{i:04}")) >> 32) % SHARDS as u64)
            .collect();
        // 64 tokens over 8 shards: fewer than 6 used is a broken hash, not bad luck.
        assert!(shards.len() >= 6, "{shards:?}");
    }

    /// An entry packs the token, the id, the roles and string attributes into one
    /// string: each principal shape comes back as it went in, and the token as it was.
    #[test]
    fn entries_give_back_the_principal_stored() {
        let mut with_attrs = Principal::new("u\u{e9}1");
        with_attrs.attrs.set("org", "o1");
        with_attrs.attrs.set("n", 2.5);
        let mut strings = Principal::new("s");
        strings.roles = vec!["admin".into(), String::new()];
        for (n, v) in [("org", "o1"), ("", ""), ("email", "a@b.c"), ("org", "o2")] {
            strings.attrs.0.push((n.into(), v.into()));
        }
        // Eleven parts: past the entry's inline room for where they end.
        let mut wide = Principal::new("w");
        wide.roles = vec!["r".into()];
        for i in 0..4 {
            wide.attrs.set(format!("a{i}"), format!("v\u{e9}{i}"));
        }
        let mut mixed = strings.clone();
        mixed.attrs.0.insert(1, ("null".into(), Value::Null));
        let many = Principal {
            roles: (0..9).map(|i| format!("r{i}")).collect(),
            ..Principal::new("many")
        };
        let odd = Principal {
            roles: vec![String::new(), "a".into(), String::new(), "\u{1F600}".into()],
            ..Principal::new("")
        };
        let mut room = Entry::new(
            "room",
            Times::of(&Members::default()),
            &Principal::new("r"),
            0,
        );
        for (token, p) in [
            ("t1", Principal::new("u1")),
            ("", Principal::new("")),
            ("t\u{e9}.x.y", with_attrs),
            ("t.strings", strings),
            ("t.wide", wide),
            ("t.mixed", mixed),
            ("t.many", many),
            ("t.odd", odd),
        ] {
            let e = Entry::new(token, Times::of(&Members::default()), &p, 3);
            assert_eq!(e.token(), token);
            assert_eq!(e.principal(), p, "{token}");
            assert_eq!(e.key, 3);
            // Refilled in the room of the previous shape: the same, nothing left over.
            room.fill(token, Times::of(&Members::default()), &p, 5);
            assert_eq!((room.token(), room.principal(), room.key), (token, p, 5));
        }
    }

    #[test]
    fn off_holds_nothing() {
        let c = TokenCache::new(0);
        c.put("t", verified("u1"));
        assert!(c.get("t").is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn holds_whole_tokens_bounded() {
        let c = TokenCache::new(16);
        c.put("token-a", verified("a"));
        assert_eq!(c.get("token-a").unwrap().id, "a");
        // Only the exact bytes hit.
        assert!(c.get("token-").is_none());
        assert!(c.get("token-ab").is_none());
        // Expired at presentation: refused as expired, and dropped.
        let rules = TokenRules::default();
        assert_eq!(
            c.reuse(&rules, "token-a", 1_000_000).unwrap(),
            Err(AuthFailure::InvalidToken),
            "no `exp` claim at all"
        );
        let mut claims = serde_json::Map::new();
        claims.insert("exp".into(), 100.into());
        c.put(
            "token-b",
            Verified {
                times: Times::of(&Members::of_map(&claims)),
                principal: Principal::new("b"),
                key: 0,
            },
        );
        assert_eq!(
            c.reuse(&rules, "token-b", 99_000_000)
                .unwrap()
                .unwrap()
                .0
                .id,
            "b"
        );
        assert_eq!(
            c.reuse(&rules, "token-b", 100_000_000).unwrap(),
            Err(AuthFailure::TokenExpired)
        );
        assert!(c.get("token-b").is_none());
        for i in 0..1000 {
            c.put(&format!("t{i}"), verified(&format!("x{i}")));
        }
        assert!(c.len() <= 16, "{}", c.len());
        // Entries refilled in place answer for their own tokens only.
        let held: Vec<usize> = (0..1000)
            .filter(|i| match c.get(&format!("t{i}")) {
                Some(p) => {
                    assert_eq!(p.id, format!("x{i}"));
                    true
                }
                None => false,
            })
            .collect();
        assert_eq!(held.len(), c.len());
        assert!(held.iter().all(|&i| i >= 1000 - 16 * 8), "{held:?}");
    }
}
