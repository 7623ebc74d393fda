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

/// Admit or refuse one request at `now_us` for a key whose stored `tat` is given (`None`
/// for a key with no history). Returns the answer and the `tat` to store: unchanged
/// when refused, since refused requests do not consume quota.
pub(crate) fn check(count: u64, period_us: u64, tat: Option<u64>, now_us: u64) -> (Admission, u64) {
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
        // A refusal leaves the state as it was: `start` is `tat` whenever `ahead > tau`.
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

    #[test]
    fn zero_count_refuses() {
        let (a, _) = check(0, 10, None, 5);
        assert!(!a.allowed);
    }
}
