//! `MemoryStore`: rate-limit state in this process, bounded, sharded by a keyed hash.
//!
//! A check hashes `(policy, limit, key)` once, into 128 bits from two independently
//! keyed hashers (random per store). The first 64 bits pick the shard and the slot in
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

use super::{gcra, sliding, Admission, LimitSpec, LimitStore, StoreError};
use ahash::RandomState;
use lru::LruCache;
use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
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

type Shard = LruCache<u128, State, BuildHasherDefault<Prehashed>>;

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
    seeds: [RandomState; 2],
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
                Mutex::new(LruCache::with_hasher(
                    NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN),
                    BuildHasherDefault::default(),
                ))
            })
            .collect();
        MemoryStore {
            shards,
            seeds: [RandomState::new(), RandomState::new()],
            max_keys,
        }
    }

    /// The bound given at construction (at least 1).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Keys currently held, over all shards.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// No key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The 128-bit identity of `(policy, limit, key)`. Names cannot hold NUL and the key
    /// comes last, so the NUL-separated stream is unambiguous.
    fn identity(&self, spec: &LimitSpec, key: &[u8]) -> u128 {
        let [a, b] = &self.seeds;
        let feed = |s: &RandomState| {
            let mut h = s.build_hasher();
            h.write(spec.policy.as_bytes());
            h.write_u8(0);
            h.write(spec.name.as_bytes());
            h.write_u8(0);
            h.write(key);
            h.finish()
        };
        u128::from(feed(a)) | (u128::from(feed(b)) << 64)
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
        let mut shard = lock(self.shard(id));
        let state = shard.get_or_insert_mut(id, fresh);
        Ok(apply(spec, state, now_us))
    }

    fn clear(&self) {
        for shard in self.shards.iter() {
            lock(shard).clear();
        }
    }
}

/// Runs the limit's algorithm on the key's state. A limit whose `strict` flag changed
/// across a reload starts its keys afresh.
fn apply(spec: &LimitSpec, state: &mut State, now_us: u64) -> Admission {
    match (spec.strict, &mut *state) {
        (false, State::Gcra(tat)) => {
            let (admission, next) = gcra::check(spec.count, spec.period_us, Some(*tat), now_us);
            *tat = next;
            admission
        }
        (true, State::Log(log)) => sliding::check(spec.count, spec.period_us, log, now_us),
        (false, State::Log(_)) => {
            let (admission, next) = gcra::check(spec.count, spec.period_us, None, now_us);
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
