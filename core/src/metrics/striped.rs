//! Counters striped over shards, so that threads deciding at once do not increment
//! the same cache lines.
//!
//! One atomic per counter, shared by every thread, made each counted decision pull
//! the counters' cache lines from the core that last wrote them: with two threads
//! on two cores, `check_http` with metrics cost +45–60% against +10% on one thread
//! (docs/BENCHMARKS.md). Here each thread is given a shard at its first count and
//! writes only that shard's counters; an export adds the shards up.
//!
//! The first threads of the process to count (a server's workers, started with it)
//! each own a shard outright: the only writer of its counters, the thread adds with a
//! plain load and store (relaxed), where an atomic read-modify-write is a locked
//! instruction that waits for every store before it to reach the cache, the whole
//! decision just built included (~1.8 of the metrics' ~7 points on a refused
//! `check_http`, docs/BENCHMARKS.md). Threads past those share the remaining shards,
//! round robin, and add atomically, so they count exactly too. A thread keeps its
//! number for its life and numbers are never reused, so an owned shard never gets a
//! second writer, even after its owner has exited.
//!
//! A counter is a [`CounterId`]: the same index in every shard. Counters are made at
//! engine load ([`Striped::register`]); a request only reads the shard's chunk table
//! and increments.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// Counters held inline by every shard, found with one bounds check: the decision
/// counters (2,400 by status, 21 for the histogram) and the first labels.
const FIRST: usize = 4096;

/// Counters per chunk past [`FIRST`]: a chunk is made, in every shard at once, when
/// its first counter is registered.
const CHUNK: usize = 256;

/// Chunks per shard: up to 266,240 counters with [`FIRST`]. [`Striped::register`]
/// gives the last one to every counter past that (a label cardinality no policy set
/// reaches).
const CHUNKS: usize = 1024;

/// Counters a shard can hold.
const CAPACITY: usize = FIRST + CHUNK * CHUNKS;

/// The inline counters; aligned like [`Chunk`].
#[repr(align(128))]
struct First([AtomicU64; FIRST]);

/// Counters of one stripe; the alignment keeps two shards' chunks off one cache line
/// (adjacent-line prefetching pairs lines, hence 128).
#[repr(align(128))]
struct Chunk([AtomicU64; CHUNK]);

impl Chunk {
    fn new() -> Box<Chunk> {
        Box::new(Chunk(std::array::from_fn(|_| AtomicU64::new(0))))
    }
}

/// One shard's storage: its first counters, then chunks made at registration,
/// never removed.
struct Stripe {
    first: Box<First>,
    chunks: Box<[OnceLock<Box<Chunk>>]>,
}

impl Stripe {
    /// Counter `i`, if registered (or inline).
    #[inline]
    fn cell(&self, i: usize) -> Option<&AtomicU64> {
        match i.checked_sub(FIRST) {
            None => self.first.0.get(i),
            Some(j) => self.chunks.get(j / CHUNK)?.get()?.0.get(j % CHUNK),
        }
    }
}

/// A counter: its index in every shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CounterId(u32);

/// The striped counters of one [`super::Metrics`]; `repr(C)`: what a count reads
/// first (see `Metrics`).
#[repr(C)]
pub(crate) struct Striped {
    /// The owned shards (`0..owned`: shard `i` is thread number `i`'s alone), then
    /// the shared ones.
    shards: Box<[Stripe]>,
    /// How many shards are owned.
    owned: usize,
    /// Counters registered so far.
    len: Mutex<usize>,
}

impl std::fmt::Debug for Striped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Striped")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

/// The thread's number (assigned on first use, in order: its shard) and its sampling
/// generator's state.
struct Local {
    slot: Cell<usize>,
    rng: Cell<u32>,
}

thread_local! {
    static LOCAL: Local = const {
        Local { slot: Cell::new(usize::MAX), rng: Cell::new(0) }
    };
}

/// Shards handed out so far, process-wide: consecutive threads get consecutive shards.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// The calling thread's number, in `0..usize::MAX`: unique to it in the process.
#[inline]
fn slot() -> usize {
    LOCAL.with(|l| {
        let s = l.slot.get();
        if s != usize::MAX {
            return s;
        }
        let s = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1);
        l.slot.set(s);
        // A distinct seed per thread; odd, so never the generator's fixed point 0.
        let low = u32::try_from(s & 0x7FFF_FFFF).unwrap_or(0);
        l.rng.set(low.wrapping_mul(0x9E37_79B9) | 1);
        s
    })
}

/// The [`sampled`] threshold for timing about one call in `one_in`: a comparison
/// on the request path instead of a division.
pub(crate) fn threshold(one_in: u32) -> u32 {
    u32::MAX / one_in.max(1)
}

/// Whether this decision is one of those timed: true about once in `one_in` calls on
/// each thread, at random (xorshift32), so that a periodic pattern of requests cannot
/// line up with the sample; `threshold` is [`threshold`]`(one_in)` (`u32::MAX`:
/// every call).
#[inline]
pub(crate) fn sampled(threshold: u32) -> bool {
    if threshold == u32::MAX {
        return true;
    }
    LOCAL.with(|l| {
        let mut x = l.rng.get();
        if x == 0 {
            // First use on this thread: seeded with its shard.
            slot();
            x = l.rng.get();
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        l.rng.set(x);
        x <= threshold
    })
}

impl Striped {
    /// `owned` shards owned by the first threads to count (at most 256), and as many
    /// (at least one) shared by the threads after them: a pool larger than the cores
    /// spreads over as many stripes as before there were owners.
    pub(crate) fn new(owned: usize) -> Striped {
        let owned = owned.min(256);
        let n = owned + owned.max(1);
        Striped {
            shards: (0..n)
                .map(|_| Stripe {
                    first: Box::new(First(std::array::from_fn(|_| AtomicU64::new(0)))),
                    chunks: (0..CHUNKS).map(|_| OnceLock::new()).collect(),
                })
                .collect(),
            owned,
            len: Mutex::new(0),
        }
    }

    /// One owned shard per core the process may run on, and at least 4: a host usually
    /// has more busy threads than cores (a shard is ~40 KB: its 4,096 inline counters
    /// and its chunk table).
    pub(crate) fn for_this_machine() -> Striped {
        let cores = std::thread::available_parallelism().map_or(4, usize::from);
        Striped::new(cores.max(4))
    }

    /// `n` new counters, consecutive, zeroed.
    pub(crate) fn register(&self, n: usize) -> CounterId {
        let mut len = self.len.lock().unwrap_or_else(PoisonError::into_inner);
        let first = (*len).min(CAPACITY - n.max(1));
        *len = (first + n).min(CAPACITY);
        if *len > FIRST {
            let from = first.saturating_sub(FIRST) / CHUNK;
            for c in from..=(*len - FIRST - 1) / CHUNK {
                for shard in self.shards.iter() {
                    if let Some(chunk) = shard.chunks.get(c) {
                        chunk.get_or_init(Chunk::new);
                    }
                }
            }
        }
        CounterId(u32::try_from(first).unwrap_or(u32::MAX))
    }

    /// The counters of the calling thread.
    #[inline]
    pub(crate) fn local(&self) -> Shard<'_> {
        self.of(slot())
    }

    /// The counters of thread number `n`: its own shard, or a shared one.
    #[inline]
    fn of(&self, n: usize) -> Shard<'_> {
        let shared = self.shards.len() - self.owned;
        let (i, owned) = if n < self.owned {
            (n, true)
        } else {
            (self.owned + (n - self.owned) % shared, false)
        };
        Shard {
            stripe: &self.shards[i],
            owned,
        }
    }

    /// The sum over shards of counter `id + offset`.
    pub(crate) fn sum(&self, id: CounterId, offset: usize) -> u64 {
        let i = id.0 as usize + offset;
        self.shards
            .iter()
            .filter_map(|s| s.cell(i))
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// The shard a thread counts in.
#[derive(Clone, Copy)]
pub(crate) struct Shard<'a> {
    stripe: &'a Stripe,
    /// The calling thread is the shard's only writer, ever.
    owned: bool,
}

impl Shard<'_> {
    /// Adds `n` to counter `id + offset` (registered: any other is ignored).
    #[inline]
    pub(crate) fn add(self, id: CounterId, offset: usize, n: u64) {
        let i = id.0 as usize + offset;
        if let Some(c) = self.stripe.cell(i) {
            if self.owned {
                // The only writer: no other increment can fall between the two.
                c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
            } else {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_counting_at_once_add_up_exactly() {
        let s = Striped::new(4);
        let a = s.register(3);
        let b = s.register(1);
        assert_ne!(a, b);
        // More threads than shards: some share one, and still count exactly.
        std::thread::scope(|scope| {
            for t in 0..9u64 {
                let s = &s;
                scope.spawn(move || {
                    for _ in 0..10_000 {
                        s.local().add(a, 2, 1);
                        s.local().add(b, 0, t);
                    }
                });
            }
        });
        assert_eq!(s.sum(a, 2), 90_000);
        assert_eq!(s.sum(a, 0), 0);
        assert_eq!(s.sum(b, 0), (0..9).sum::<u64>() * 10_000);
    }

    /// Threads numbered as the process numbers them (each number once): the owners
    /// of the owned shards adding with plain stores while the others share the rest,
    /// all at once, and every count exact.
    #[test]
    fn owned_and_shared_shards_count_exactly_at_once() {
        for owned in [0usize, 1, 2, 4] {
            let s = Striped::new(owned);
            let c = s.register(2);
            std::thread::scope(|scope| {
                for n in 0..11usize {
                    let s = &s;
                    scope.spawn(move || {
                        let shard = s.of(n);
                        assert_eq!(shard.owned, n < owned);
                        for _ in 0..20_000 {
                            shard.add(c, 0, 1);
                            shard.add(c, 1, n as u64);
                        }
                    });
                }
            });
            assert_eq!(s.sum(c, 0), 11 * 20_000, "{owned} owned");
            assert_eq!(s.sum(c, 1), (0..11).sum::<u64>() * 20_000);
        }
    }

    #[test]
    fn counters_across_chunk_boundaries_are_distinct() {
        let s = Striped::new(2);
        let ids: Vec<CounterId> = (0..FIRST + 3 * CHUNK).map(|_| s.register(1)).collect();
        for (k, id) in ids.iter().enumerate() {
            s.local().add(*id, 0, k as u64);
        }
        for (k, id) in ids.iter().enumerate() {
            assert_eq!(s.sum(*id, 0), k as u64);
        }
    }

    #[test]
    fn past_capacity_counters_share_the_last_one_instead_of_failing() {
        let s = Striped::new(1);
        let big = s.register(CAPACITY - 1);
        let last = s.register(1);
        let over = s.register(1);
        assert_eq!(big, CounterId(0));
        assert_eq!(last, over, "no counter past the last");
        s.local().add(over, 0, 5);
        assert_eq!(s.sum(last, 0), 5);
    }

    #[test]
    fn sampling_times_about_one_in_n() {
        assert!((0..100).all(|_| sampled(threshold(1))));
        assert_eq!(threshold(0), u32::MAX);
        let n = 100_000;
        let hits = (0..n).filter(|_| sampled(threshold(16))).count();
        // 6,250 expected; a binomial's sd is ~77, so this cannot fail by chance.
        assert!((5_500..7_000).contains(&hits), "{hits}");
    }
}
