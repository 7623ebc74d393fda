//! GCRA (generic cell rate algorithm): the ordinary limits' arithmetic over one stored
//! timestamp per key. `redis.lua` implements the same steps; keep the two in step.
//!
//! State: the theoretical arrival time `tat`, the moment the key's quota is whole again.
//! With emission interval `T = ceil(period / count)` and burst tolerance
//! `tau = (count - 1) * T`, a request at `now` is admitted when
//! `max(tat, now) - now <= tau`, and then `tat = max(tat, now) + T`.
//!
//! Guarantee (checked against a brute-force window counter in `core/tests/limits.rs`):
//! in any window of length `w`, at most `count + floor(w / T)` requests are admitted,
//! so at most `2 * count - 1` within one period, and `1 / T <= count / period` in the
//! long run. A key with no history admits a burst of `count` at once.

use super::Admission;

/// The emission interval: one admission is restored every `T` microseconds. Rounded up,
/// so the long-run rate never exceeds `count / period`.
pub(crate) fn interval(count: u64, period_us: u64) -> u64 {
    period_us.div_ceil(count.max(1)).max(1)
}

/// One limit's GCRA constants, computed once per `(count, period)`: the memory store
/// keeps the last ones per shard, so a check on a known limit does no division unless
/// it must report a partial `remaining`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    count: u64,
    period_us: u64,
    /// The emission interval `T`.
    t: u64,
    /// The burst tolerance `tau = (count - 1) * T` (saturating).
    tau: u64,
    /// `tau / T`: what `remaining` is when the key is idle (`ahead == 0`).
    full: u64,
}

impl Params {
    pub(crate) fn new(count: u64, period_us: u64) -> Params {
        let t = interval(count, period_us);
        let tau = t.saturating_mul(count.saturating_sub(1));
        Params {
            count,
            period_us,
            t,
            tau,
            full: tau / t,
        }
    }

    /// These are the constants of `(count, period_us)`.
    pub(crate) fn is_for(&self, count: u64, period_us: u64) -> bool {
        self.count == count && self.period_us == period_us
    }

    /// Admit or refuse one request at `now_us` for a key whose stored `tat` is given
    /// (`None` for a key with no history). Returns the answer and the `tat` to store:
    /// unchanged when refused, since refused requests do not consume quota.
    pub(crate) fn check(&self, tat: Option<u64>, now_us: u64) -> (Admission, u64) {
        let Params {
            count,
            period_us,
            t,
            tau,
            full,
        } = *self;
        let start = tat.map_or(now_us, |tat| tat.max(now_us));
        let ahead = start - now_us;
        if count > 0 && ahead <= tau {
            let next = start.saturating_add(t);
            // An idle key (the usual case) skips the division: `(tau - 0) / t`.
            let remaining = if ahead == 0 { full } else { (tau - ahead) / t };
            let admission = Admission {
                allowed: true,
                limit: count,
                remaining,
                reset_us: next - now_us,
                retry_after_us: 0,
            };
            (admission, next)
        } else {
            let admission = Admission {
                allowed: false,
                limit: count,
                remaining: 0,
                reset_us: ahead,
                retry_after_us: if count == 0 { period_us } else { ahead - tau },
            };
            // A refusal leaves the state as it was: `start` is `tat` whenever `ahead > tau`.
            (admission, start)
        }
    }
}

/// Admit or refuse one request at `now_us` for a key whose stored `tat` is given (`None`
/// for a key with no history): [`Params::check`] with the constants computed here.
pub(crate) fn check(count: u64, period_us: u64, tat: Option<u64>, now_us: u64) -> (Admission, u64) {
    Params::new(count, period_us).check(tat, now_us)
}

/// The arithmetic as first written (every constant recomputed, `remaining` always
/// divided): the reference the precomputed path is tested against.
#[cfg(test)]
fn reference(count: u64, period_us: u64, tat: Option<u64>, now_us: u64) -> (Admission, u64) {
    let t = interval(count, period_us);
    let tau = t.saturating_mul(count.saturating_sub(1));
    let start = tat.map_or(now_us, |tat| tat.max(now_us));
    let ahead = start - now_us;
    if count > 0 && ahead <= tau {
        let next = start.saturating_add(t);
        let admission = Admission {
            allowed: true,
            limit: count,
            remaining: (tau - ahead) / t,
            reset_us: next - now_us,
            retry_after_us: 0,
        };
        (admission, next)
    } else {
        let admission = Admission {
            allowed: false,
            limit: count,
            remaining: 0,
            reset_us: ahead,
            retry_after_us: if count == 0 { period_us } else { ahead - tau },
        };
        (admission, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_of_count_then_one_per_interval() {
        // 5 per 900 s: T = 180 s, a fresh key takes 5 at once.
        let (mut tat, now) = (None, 1_000_000u64);
        for left in (0..5).rev() {
            let (a, t) = check(5, 900_000_000, tat, now);
            assert!(a.allowed);
            assert_eq!(a.remaining, left);
            tat = Some(t);
        }
        let (a, t) = check(5, 900_000_000, tat, now);
        assert!(!a.allowed);
        assert_eq!(a.retry_after_us, 180_000_000);
        assert_eq!(a.reset_us, 900_000_000);
        assert_eq!(Some(t), tat);
        let (a, _) = check(5, 900_000_000, tat, now + 180_000_000 - 1);
        assert!(!a.allowed);
        assert_eq!(a.retry_after_us, 1);
        let (a, _) = check(5, 900_000_000, tat, now + 180_000_000);
        assert!(a.allowed);
        assert_eq!(a.remaining, 0);
    }

    #[test]
    fn interval_rounds_up() {
        assert_eq!(interval(7, 1_000_000), 142_858);
        assert_eq!(interval(60, 60_000_000), 1_000_000);
        assert_eq!(interval(10, 3), 1);
    }

    /// The precomputed constants and the idle shortcut give the reference's answers,
    /// including saturated bursts (`tau` clamped to `u64::MAX`) and zero counts.
    #[test]
    fn params_match_reference() {
        let counts = [0, 1, 2, 5, 7, 60, 1_000, u64::MAX / 2, u64::MAX];
        let periods = [1, 3, 1_000_000, 60_000_000, 900_000_000, u64::MAX];
        let now = 1_700_000_000_000_000u64;
        for &count in &counts {
            for &period in &periods {
                let p = Params::new(count, period);
                assert!(p.is_for(count, period));
                let t = interval(count, period);
                let tats = [
                    None,
                    Some(0),
                    Some(now - 1),
                    Some(now),
                    Some(now + 1),
                    Some(now.saturating_add(t / 2)),
                    Some(now.saturating_add(t)),
                    Some(now.saturating_add(t.saturating_mul(count.saturating_sub(1)))),
                    Some(now.saturating_add(t.saturating_mul(count))),
                    Some(u64::MAX),
                ];
                for tat in tats {
                    assert_eq!(
                        p.check(tat, now),
                        reference(count, period, tat, now),
                        "count {count}, period {period}, tat {tat:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn zero_count_refuses() {
        let (a, _) = check(0, 10, None, 5);
        assert!(!a.allowed);
    }
}
