//! RFC 3339 timestamps (`time` of an HTTP request, `context.time`): a full date, a
//! time with optional fraction and a UTC offset (`Z` or `+HH:MM`). A timestamp without
//! an offset names no instant (local time of which zone?), so it is refused rather than
//! read as UTC.

use crate::request::RequestError;

/// Microseconds since the Unix epoch of an RFC 3339 timestamp such as
/// `2026-11-22T10:00:00Z`, `2026-11-22T12:00:00.5+02:00` or `2026-11-22 10:00:00z`
/// (RFC 3339 allows a space for `T` and lower-case `t`/`z`). Timestamps before 1970,
/// without an offset, or with an out-of-range field are a [`RequestError`] that says
/// which.
pub fn parse_time(t: &str) -> Result<u64, RequestError> {
    let fail = |why: &str| {
        RequestError::new(format!(
            "`time` {t:?} {why}: expected an RFC 3339 timestamp such as \"2026-11-22T10:00:00Z\" or \"2026-11-22T12:00:00+02:00\""
        ))
    };
    let b = t.as_bytes();
    if b.len() < 19 || b.len() > 64 {
        return Err(fail("is not a timestamp"));
    }
    let num = |at: usize, len: usize| -> Option<u64> {
        let s = b.get(at..at + len)?;
        s.iter().try_fold(0u64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    let (Some(year), Some(month), Some(day)) = (num(0, 4), num(5, 2), num(8, 2)) else {
        return Err(fail("is not a timestamp"));
    };
    if !sep(4, b'-') || !sep(7, b'-') || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(fail("is not a timestamp"));
    }
    let (Some(hour), Some(min), Some(sec)) = (num(11, 2), num(14, 2), num(17, 2)) else {
        return Err(fail("is not a timestamp"));
    };
    if !sep(13, b':') || !sep(16, b':') {
        return Err(fail("is not a timestamp"));
    }
    // RFC 3339 allows a leap second (60); it is read as the next second's start.
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 60
    {
        return Err(fail("has a field out of range"));
    }
    let mut at = 19;
    let mut micros = 0u64;
    if sep(at, b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 6 {
                micros = micros * 10 + u64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err(fail("is not a timestamp"));
        }
        for _ in (at - start)..6 {
            micros *= 10;
        }
    }
    let offset_secs: i64 = match b.get(at..) {
        Some(b"Z" | b"z") => 0,
        Some([s @ (b'+' | b'-'), _, _, b':', _, _]) => {
            let (Some(oh), Some(om)) = (num(at + 1, 2), num(at + 4, 2)) else {
                return Err(fail("has a malformed UTC offset"));
            };
            if oh > 23 || om > 59 {
                return Err(fail("has a UTC offset out of range"));
            }
            let o = (oh * 3600 + om * 60) as i64;
            if *s == b'-' {
                -o
            } else {
                o
            }
        }
        Some([]) => return Err(fail("has no UTC offset (add `Z` or `+HH:MM`)")),
        _ => return Err(fail("has a malformed UTC offset")),
    };
    let days = days_from_civil(year as i64, month, day);
    let local = days * 86_400 + (hour * 3600 + min * 60 + sec) as i64;
    let utc = local - offset_secs;
    let secs = u64::try_from(utc).map_err(|_| fail("is before 1970"))?;
    secs.checked_mul(1_000_000)
        .and_then(|s| s.checked_add(micros))
        .ok_or_else(|| fail("is out of range"))
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    const AT: u64 = 1_795_341_600_000_000; // 2026-11-22T10:00:00Z

    #[test]
    fn reads_utc_and_offsets_as_the_same_instant() {
        for t in [
            "2026-11-22T10:00:00Z",
            "2026-11-22t10:00:00z",
            "2026-11-22 10:00:00Z",
            "2026-11-22T12:00:00+02:00",
            "2026-11-22T05:30:00-04:30",
            "2026-11-22T10:00:00.000000Z",
            "2026-11-22T10:00:00+00:00",
            "2026-11-22T10:00:00-00:00",
        ] {
            assert_eq!(parse_time(t).ok(), Some(AT), "{t}");
        }
    }

    #[test]
    fn keeps_fractions_to_the_microsecond() {
        assert_eq!(
            parse_time("2026-11-22T10:00:00.5Z").ok(),
            Some(AT + 500_000)
        );
        assert_eq!(
            parse_time("2026-11-22T10:00:00.123456789Z").ok(),
            Some(AT + 123_456)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z").ok(), Some(0));
        assert_eq!(
            parse_time("2024-02-29T00:00:00Z").ok(),
            Some(1_709_164_800_000_000)
        );
    }

    #[test]
    fn refuses_naive_and_malformed_times_saying_why() {
        let why = |t: &str| {
            parse_time(t)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(why("2026-11-22 10:00:00").contains("has no UTC offset"));
        assert!(why("2026-11-22T10:00:00").contains("has no UTC offset"));
        assert!(why("2026-11-22T10:00:00+0200").contains("malformed UTC offset"));
        assert!(why("2026-11-22T10:00:00+24:00").contains("offset out of range"));
        assert!(why("2026-02-30T10:00:00Z").contains("out of range"));
        assert!(why("2025-02-29T10:00:00Z").contains("out of range"));
        assert!(why("2026-11-22T10:00:00.Z").contains("not a timestamp"));
        assert!(why("1969-12-31T23:59:59Z").contains("before 1970"));
        assert!(why("2026-11-22").contains("not a timestamp"));
        assert!(why("yesterday").contains("not a timestamp"));
        assert!(why("２０２６-11-22T10:00:00Z").contains("not a timestamp"));
        assert!(why("2026-11-22T10:00:00Z ").contains("malformed UTC offset"));
    }
}
