//! Time as the engine sees it: microseconds since the Unix epoch, from the system clock
//! or from a manual clock that tests (and `warden test`) move by hand.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of "now" for rate limits and token expiry. An HTTP request's own `time`
/// field, when set, wins over the clock.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Microseconds since the Unix epoch.
    fn now_micros(&self) -> u64;
}

/// The system's wall clock.
///
/// Read on every `check_http`, so it is read cheaply: the CPU's invariant time-stamp
/// counter through `quanta`, anchored to `SystemTime` and re-anchored every 100 ms, so
/// that it follows the wall clock's adjustments within that delay. Where the counter is
/// unusable, `quanta` reads the OS monotonic clock instead. A re-anchoring can move the
/// time back by the drift accumulated since the last one (microseconds), which the
/// rate-limit algorithms take as they take any out-of-order request.
///
/// The counter is calibrated once per process, which spins for a while (~0.6 ms here,
/// bounded at 200 ms by `quanta`). The first read starts the calibration on a thread of
/// its own and returns `SystemTime`, as does every read until the calibration is done:
/// no request waits for it. A policy load reads no time: a host whose decisions never
/// read it (`authorize` on rules without `now`) never starts the thread (~40 µs to
/// start on this machine), and one that checks HTTP requests starts it on its first.
/// Where no thread can be started, the first read calibrates.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// How often [`SystemClock`] re-reads `SystemTime`: 100 ms.
const RESYNC_US: u64 = 100_000;

/// The calibrated counter, once the calibration thread has built it.
static WALL: OnceLock<Wall> = OnceLock::new();

impl Clock for SystemClock {
    fn now_micros(&self) -> u64 {
        if let Some(wall) = WALL.get() {
            return wall.now_micros();
        }
        static CALIBRATION: Once = Once::new();
        CALIBRATION.call_once(calibrate_in_background);
        system_micros()
    }
}

/// Builds [`WALL`] on a thread of its own (on this one if no thread can be started).
fn calibrate_in_background() {
    let spawned = std::thread::Builder::new()
        .name("warden-clock".into())
        .spawn(|| {
            WALL.get_or_init(Wall::new);
        });
    if spawned.is_err() {
        WALL.get_or_init(Wall::new);
    }
}

/// The counter and its current anchor.
struct Wall {
    counter: quanta::Clock,
    /// The counter's raw reading at creation: monotonic time counts from here.
    origin: u64,
    /// Wall-clock microseconds minus monotonic microseconds, at the last anchoring.
    /// One word, so a reader never sees half of an anchor.
    offset: AtomicU64,
    /// Monotonic microseconds at which to anchor again.
    next: AtomicU64,
}

impl Wall {
    fn new() -> Wall {
        let counter = quanta::Clock::new();
        let origin = counter.raw();
        let w = Wall {
            counter,
            origin,
            offset: AtomicU64::new(0),
            next: AtomicU64::new(0),
        };
        w.anchor(0);
        w
    }

    fn mono_micros(&self) -> u64 {
        self.counter.delta_as_nanos(self.origin, self.counter.raw()) / 1000
    }

    fn now_micros(&self) -> u64 {
        let mono = self.mono_micros();
        if mono >= self.next.load(Ordering::Relaxed) {
            self.anchor(mono);
        }
        mono.wrapping_add(self.offset.load(Ordering::Relaxed))
    }

    /// Two threads may anchor at once: each stores an offset that was true when taken.
    fn anchor(&self, mono: u64) {
        let wall = system_micros();
        self.offset
            .store(wall.wrapping_sub(mono), Ordering::Relaxed);
        self.next
            .store(mono.saturating_add(RESYNC_US), Ordering::Relaxed);
    }
}

/// `SystemTime` in microseconds since the Unix epoch (0 before it).
fn system_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A clock that only moves when told to: deterministic rate-limit tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `micros` microseconds since the Unix epoch.
    pub fn new(micros: u64) -> Self {
        ManualClock(AtomicU64::new(micros))
    }

    /// Move the clock to `micros` (backwards too).
    pub fn set(&self, micros: u64) {
        self.0.store(micros, Ordering::SeqCst);
    }

    /// Move the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let us = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.0.fetch_add(us, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(5);
        assert_eq!(c.now_micros(), 5);
        c.advance(Duration::from_millis(2));
        assert_eq!(c.now_micros(), 2_005);
        c.set(1);
        assert_eq!(c.now_micros(), 1);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_micros() > 1_577_836_800_000_000);
    }

    #[test]
    fn system_clock_follows_the_wall_clock_across_anchorings() {
        // Sleeps span several re-anchorings; a wrong offset or scale shows as a gap.
        let mut last = 0;
        for _ in 0..4 {
            let before = system_micros();
            let now = SystemClock.now_micros();
            let after = system_micros();
            assert!(
                now + 5_000 >= before && now <= after + 5_000,
                "{before} <= {now} <= {after}, within 5 ms"
            );
            assert!(now + 5_000 >= last, "no step back beyond drift");
            last = now;
            std::thread::sleep(Duration::from_millis(70));
        }
    }
}
