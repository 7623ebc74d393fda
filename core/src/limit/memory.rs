//! `MemoryStore`: rate-limit state in this process, bounded, sharded by a keyed hash.
//!
//! A check hashes `(policy, limit, key)` once, into 128 bits from two independently
//! keyed hashers (random per store) computed in one pass (`identity.rs`). The first 64 bits pick the shard and the slot in
//! the shard's table; the shard's `LruCache` holds the 128-bit hash itself as the key,
//! never the key bytes: entries are small and fixed-size, client material (API keys,
//! addresses) is not kept in memory, and a check on a known key allocates nothing.
//!
//! Two different keys share a budget only if their 128-bit hashes collide. The seeds are
//! random per store and never leave it, so a client cannot search for a collision
//! offline; by chance, among a million live keys the probability is about
//! 10^12 / 2^129, below 10^-26. Exact key bytes would buy nothing measurable for a
//! `MemoryStore`'s bounded, process-local state.
//!
//! The bound is total: `max_keys` is split across the shards and each evicts its least
//! recently used key. Eviction forgets a key's history, which can only admit more
//! (a forgotten key starts with a full quota), never refuse a request that the
//! unbounded store would have admitted.

use super::identity::Seeds;
use super::{gcra, sliding, Admission, LimitSpec, LimitStore, StoreError};
use lru::LruCache;
use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

/// Most shards a store uses; fewer for small bounds, so the LRU stays close to global.
const MAX_SHARDS: usize = 32;
/// Keys per shard below which sharding stops paying (and eviction order drifts further
/// from a single global LRU than tests of small bounds expect).
const MIN_KEYS_PER_SHARD: usize = 4_096;

/// One key's algorithm state.
#[derive(Debug)]
enum State {
    /// GCRA: the theoretical arrival time.
    Gcra(u64),
    /// Sliding log: in-window admission times, oldest first.
    Log(VecDeque<u64>),
}

/// The tables' hasher: the keys are already keyed hashes, so their low 64 bits are the
/// table hash as they are (hashing them again would only cost time).
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u128(&mut self, h: u128) {
        self.0 = h as u64;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u128` keys reach this hasher; fold anything else rather than panic.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

/// One shard: its keys, and the GCRA constants of the limit it last checked (a shard
/// sees the same few limits over and over; recomputing them costs two divisions).
#[derive(Debug)]
struct Shard {
    keys: LruCache<u128, State, BuildHasherDefault<Prehashed>>,
    gcra: gcra::Params,
}

/// The GCRA constants of `spec`, from the shard's memo when it is for the same limit.
fn params(memo: &mut gcra::Params, spec: &LimitSpec) -> gcra::Params {
    if !memo.is_for(spec.count, spec.period_us) {
        *memo = gcra::Params::new(spec.count, spec.period_us);
    }
    *memo
}

/// An in-process [`LimitStore`] holding at most `max_keys` keys in total.
///
/// The default store of an engine (of `Options::limit_keys` keys); share one between
/// engines by passing it as [`Options::store`](crate::Options::store).
///
/// ```
/// use std::sync::Arc;
/// use warden::limit::{LimitSpec, LimitStore, MemoryStore};
///
/// let store = Arc::new(MemoryStore::new(10_000));
/// let spec = LimitSpec {
///     id: 0,
///     policy: "api".into(),
///     name: "login".into(),
///     count: 2,
///     period_us: 60_000_000,
///     strict: true,
/// };
/// let now = 1_700_000_000_000_000;
/// let seen: Vec<bool> = (0..3)
///     .map(|i| store.check(&spec, b"s:192.0.2.7", now + i).map(|a| a.allowed))
///     .collect::<Result<_, _>>()
///     .map_err(|e| e.to_string())?;
/// assert_eq!(seen, [true, true, false]);
/// assert_eq!(store.len(), 1);
///
/// // The same store under an engine:
/// let options = warden::Options::default().store(store.clone());
/// # let _ = options;
/// # Ok::<(), String>(())
/// ```
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    /// Two independently keyed hashers: 128 bits of key identity per check.
    seeds: Seeds,
    max_keys: usize,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the seeds: with them a client could search for colliding keys.
        f.debug_struct("MemoryStore")
            .field("shards", &self.shards.len())
            .field("max_keys", &self.max_keys)
            .finish()
    }
}

impl MemoryStore {
    /// A store keeping at most `max_keys` keys (at least 1), least recently used
    /// evicted first.
    pub fn new(max_keys: usize) -> Self {
        let max_keys = max_keys.max(1);
        let wanted = (max_keys / MIN_KEYS_PER_SHARD).clamp(1, MAX_SHARDS);
        // A power of two, so routing is a mask.
        let n = if wanted.is_power_of_two() {
            wanted
        } else {
            wanted.next_power_of_two() / 2
        };
        let shards = (0..n)
            .map(|i| {
                let cap = max_keys / n + usize::from(i < max_keys % n);
                // Bounded, but grown as keys arrive: `LruCache::with_hasher` would
                // allocate the whole table now (~3 MB for the default 100,000 keys,
                // most of an engine load's page faults) for clients that may never come.
                let mut keys = LruCache::unbounded_with_hasher(BuildHasherDefault::default());
                keys.resize(NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN));
                Mutex::new(Shard {
                    keys,
                    gcra: gcra::Params::new(1, 1),
                })
            })
            .collect();
        MemoryStore {
            shards,
            seeds: Seeds::random(),
            max_keys,
        }
    }

    /// The bound given at construction (at least 1).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Keys currently held, over all shards.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).keys.len()).sum()
    }

    /// No key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The 128-bit identity of `(policy, limit, key)`. Each part's length is hashed
    /// before its bytes, so the three parts cannot run into each other.
    #[inline]
    fn identity(&self, spec: &LimitSpec, key: &[u8]) -> u128 {
        self.seeds
            .identity([spec.policy.as_bytes(), spec.name.as_bytes(), key])
    }

    fn shard(&self, id: u128) -> &Mutex<Shard> {
        // Bits 32.. of the table hash: independent of the bits the table itself uses
        // (the low bits for the slot, the top seven for the tag). The mask keeps the
        // index below the shard count, a power of two.
        let i = ((id >> 32) as usize) & (self.shards.len() - 1);
        &self.shards[i]
    }
}
/// A poisoned shard only means another thread panicked mid-check; its state is still a
/// valid timestamp or log, so keep serving.
fn lock(m: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LimitStore for MemoryStore {
    fn check(&self, spec: &LimitSpec, key: &[u8], now_us: u64) -> Result<Admission, StoreError> {
        let id = self.identity(spec, key);
        let fresh = || {
            if spec.strict {
                State::Log(VecDeque::new())
            } else {
                State::Gcra(now_us)
            }
        };
        let mut guard = lock(self.shard(id));
        let shard = &mut *guard;
        let state = shard.keys.get_or_insert_mut(id, fresh);
        Ok(apply(spec, &mut shard.gcra, state, now_us))
    }

    fn clear(&self) {
        for shard in self.shards.iter() {
            lock(shard).keys.clear();
        }
    }
}

/// Runs the limit's algorithm on the key's state (`memo`: the shard's last GCRA
/// constants). A limit whose `strict` flag changed across a reload starts its keys
/// afresh.
fn apply(spec: &LimitSpec, memo: &mut gcra::Params, state: &mut State, now_us: u64) -> Admission {
    match (spec.strict, &mut *state) {
        (false, State::Gcra(tat)) => {
            let (admission, next) = params(memo, spec).check(Some(*tat), now_us);
            *tat = next;
            admission
        }
        (true, State::Log(log)) => sliding::check(spec.count, spec.period_us, log, now_us),
        (false, State::Log(_)) => {
            let (admission, next) = params(memo, spec).check(None, now_us);
            *state = State::Gcra(next);
            admission
        }
        (true, State::Gcra(_)) => {
            let mut log = VecDeque::new();
            let admission = sliding::check(spec.count, spec.period_us, &mut log, now_us);
            *state = State::Log(log);
            admission
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The store as a plain map on the exact `(policy, limit, key)`, every constant
    /// recomputed per check: what `MemoryStore` must answer while nothing is evicted.
    #[derive(Default)]
    struct Reference(HashMap<(String, String, Vec<u8>), State>);

    impl Reference {
        fn check(&mut self, spec: &LimitSpec, key: &[u8], now: u64) -> Admission {
            let id = (spec.policy.to_string(), spec.name.to_string(), key.to_vec());
            let (count, period) = (spec.count, spec.period_us);
            match (spec.strict, self.0.get_mut(&id)) {
                (false, Some(State::Gcra(tat))) => {
                    let (a, next) = gcra::check(count, period, Some(*tat), now);
                    *tat = next;
                    a
                }
                (true, Some(State::Log(log))) => sliding::check(count, period, log, now),
                (false, _) => {
                    let (a, next) = gcra::check(count, period, None, now);
                    self.0.insert(id, State::Gcra(next));
                    a
                }
                (true, _) => {
                    let mut log = VecDeque::new();
                    let a = sliding::check(count, period, &mut log, now);
                    self.0.insert(id, State::Log(log));
                    a
                }
            }
        }
    }

    fn spec(policy: &str, name: &str, count: u64, period_us: u64, strict: bool) -> LimitSpec {
        LimitSpec {
            id: 0,
            policy: policy.into(),
            name: name.into(),
            count,
            period_us,
            strict,
        }
    }

    /// Differential: limits of several policies interleaved on shared shards (so the
    /// shard's GCRA memo switches limits all the time), a limit reloaded with a new
    /// count, period or `strict` flag, keys of every length class, time moving in
    /// small and large steps and sometimes backwards (clock skew between hosts).
    #[test]
    fn same_answers_as_exact_keys() {
        let specs = [
            spec("app", "api", 60, 60_000_000, false),
            spec("app", "login", 5, 900_000_000, true),
            spec("other", "api", 3, 1_000_000, false),
            spec("app", "api", 7, 1_000_000, false),
            spec("app", "api", 7, 1_000_000, true),
            spec("app", "burst", 1_000, 10, false),
            spec("app", "never", 0, 1_000_000, false),
            spec("ap", "papi", 60, 60_000_000, false),
            spec("app", "hourly", 60, 3_600_000_000, false),
            spec("app", "fast", 5, 1_000, false),
        ];
        let keys: Vec<Vec<u8>> = [0usize, 1, 3, 8, 12, 16, 17, 40]
            .iter()
            .flat_map(|&n| (0..4u8).map(move |k| (0..n).map(|i| i as u8 ^ k).collect()))
            .collect();
        let store = MemoryStore::new(1 << 20);
        let mut reference = Reference::default();
        let mut now = 1_700_000_000_000_000u64;
        // A fixed-seed LCG: the same sequence on every run.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let mut allowed = 0;
        for step in 0..200_000 {
            let s = &specs[next() as usize % specs.len()];
            let k = &keys[next() as usize % keys.len()];
            now = match next() % 8 {
                0 => now.saturating_sub(next() % 2_000_000),
                1 => now + next() % 120_000_000,
                _ => now + next() % 50_000,
            };
            let got = store.check(s, k, now);
            let want = reference.check(s, k, now);
            assert_eq!(got, Ok(want), "step {step}: {s:?}, key {k:?}, now {now}");
            allowed += usize::from(want.allowed);
        }
        // Both outcomes occur often enough for the comparison to mean something.
        assert!((20_000..180_000).contains(&allowed), "{allowed} admitted");
    }
}
