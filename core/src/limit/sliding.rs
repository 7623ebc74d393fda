//! The exact sliding log for `strict` limits: the times of the key's admissions still
//! inside the window, oldest first, at most `count` of them. `redis.lua` implements the
//! same steps over a Redis list; keep the two in step.
//!
//! A request at `now` is admitted when fewer than `count` admissions lie in
//! `(now - period, now]`. Guarantee (checked against a brute-force window counter in
//! `core/tests/limits.rs`): never more than `count` admissions in any half-open window
//! `[s, s + period)`. A request stamped earlier than the key's latest admission (clock
//! skew between instances) is counted at that latest time, which keeps the log sorted;
//! the guarantee then holds for the recorded times.

use super::Admission;
use std::collections::VecDeque;

/// Admit or refuse one request at `now_us`, updating `log` in place (expired entries
/// are dropped, an admission appended). Refused requests leave no entry.
pub(crate) fn check(count: u64, period_us: u64, log: &mut VecDeque<u64>, now_us: u64) -> Admission {
    let now = log.back().map_or(now_us, |&newest| newest.max(now_us));
    while log
        .front()
        .is_some_and(|&oldest| oldest.saturating_add(period_us) <= now)
    {
        log.pop_front();
    }
    let held = log.len() as u64;
    if held < count {
        log.push_back(now);
        Admission {
            allowed: true,
            limit: count,
            remaining: count - held - 1,
            reset_us: now.saturating_add(period_us) - now_us,
            retry_after_us: 0,
        }
    } else {
        // A limit lowered across a reload can leave more than `count` entries: the
        // one that must expire before a retry is the `count`-th newest.
        let excess = log
            .len()
            .saturating_sub(usize::try_from(count).unwrap_or(usize::MAX));
        let gate = log.get(excess).copied().unwrap_or(now);
        let newest = log.back().copied().unwrap_or(now);
        Admission {
            allowed: false,
            limit: count,
            remaining: 0,
            reset_us: newest.saturating_add(period_us) - now_us,
            retry_after_us: if count == 0 {
                period_us
            } else {
                gate.saturating_add(period_us) - now_us
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_half_open() {
        let mut log = VecDeque::new();
        assert!(check(2, 100, &mut log, 1_000).allowed);
        assert!(check(2, 100, &mut log, 1_050).allowed);
        let refused = check(2, 100, &mut log, 1_099);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_us, 1);
        assert_eq!(refused.reset_us, 51);
        let a = check(2, 100, &mut log, 1_100);
        assert!(a.allowed);
        assert_eq!(a.remaining, 0);
        assert_eq!(log, [1_050, 1_100]);
    }

    #[test]
    fn skewed_request_counts_at_the_latest_time() {
        let mut log = VecDeque::new();
        assert!(check(2, 100, &mut log, 1_000).allowed);
        assert!(check(2, 100, &mut log, 900).allowed);
        assert_eq!(log, [1_000, 1_000]);
    }

    #[test]
    fn lowered_count_waits_for_the_right_entry() {
        let mut log = VecDeque::from([10, 20, 30]);
        let a = check(2, 100, &mut log, 40);
        assert!(!a.allowed);
        assert_eq!(a.retry_after_us, 20 + 100 - 40);
    }
}
