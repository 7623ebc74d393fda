//! `MemoryStore`: rate-limit state in this process, bounded, sharded by a keyed hash.
//!
//! Each shard is a `Mutex<LruCache>` keyed by `policy \0 limit \0 key` (names cannot
//! hold NUL, so limits never share an entry). The key is assembled in a per-shard
//! scratch buffer, so a check on a known key allocates nothing; a new key allocates its
//! entry. The shard is chosen by a hash keyed at random per store, so a client cannot
//! pick keys that all land in one shard, and the shards' own tables use a second,
//! independent key.
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

#[derive(Debug)]
struct Shard {
    entries: LruCache<Vec<u8>, State, RandomState>,
    /// Where the lookup key is built: reused, so hits do not allocate.
    scratch: Vec<u8>,
}

/// An in-process [`LimitStore`] holding at most `max_keys` keys in total.
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    /// Picks the shard; independent of the shards' table hashers.
    router: RandomState,
    max_keys: usize,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the keys: they are client material (addresses, API keys).
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
                Mutex::new(Shard {
                    entries: LruCache::with_hasher(
                        NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN),
                        RandomState::new(),
                    ),
                    scratch: Vec::new(),
                })
            })
            .collect();
        MemoryStore {
            shards,
            router: RandomState::new(),
            max_keys,
        }
    }

    /// The bound given at construction (at least 1).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Keys currently held, over all shards.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, spec: &LimitSpec, key: &[u8]) -> &Mutex<Shard> {
        let h = self
            .router
            .hash_one((spec.policy.as_bytes(), spec.name.as_bytes(), key));
        // The mask keeps the index below the shard count, a power of two.
        let i = (h as usize) & (self.shards.len() - 1);
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
        let mut guard = lock(self.shard(spec, key));
        let Shard { entries, scratch } = &mut *guard;
        scratch.clear();
        scratch.extend_from_slice(spec.policy.as_bytes());
        scratch.push(0);
        scratch.extend_from_slice(spec.name.as_bytes());
        scratch.push(0);
        scratch.extend_from_slice(key);
        let fresh = || {
            if spec.strict {
                State::Log(VecDeque::new())
            } else {
                State::Gcra(now_us)
            }
        };
        // Copies the key only when it is new.
        let state = entries.get_or_insert_mut_ref(scratch.as_slice(), fresh);
        Ok(apply(spec, state, now_us))
    }

    fn clear(&self) {
        for shard in self.shards.iter() {
            lock(shard).entries.clear();
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
