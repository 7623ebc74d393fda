//! Strict-Transport-Security shorter than a year.

use super::header_values;
use crate::registry::declare_lint;
use crate::{finding, Finding};
use warden_lang::ast::Policy;

declare_lint! {
    /// A `Strict-Transport-Security` header whose `max-age` is under one year
    /// (31536000 seconds), or that has no readable `max-age`.
    ///
    /// A short HSTS lets a user who has not visited for a while be downgraded to plain
    /// HTTP on a hostile network; browsers' preload lists require at least a year.
    /// Use `max-age=31536000; includeSubDomains` (or two years, `63072000`, as helmet
    /// does). Ramp up with short values only while rolling HSTS out.
    pub HSTS_SHORT, "hsts-short", Warning,
    "HSTS max-age under one year"
}

const YEAR: u64 = 31_536_000;

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    for v in header_values(policy, "strict-transport-security") {
        let max_age = v.value.value.split(';').find_map(|p| {
            let (k, val) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| val.trim().trim_matches('"').parse::<u64>().ok())?
        });
        let msg = match max_age {
            Some(n) if n >= YEAR => continue,
            Some(n) => format!(
                "HSTS `max-age={n}` is under one year ({} day(s))",
                n / 86_400
            ),
            None => "HSTS has no readable `max-age`".to_string(),
        };
        out.push(
            finding(HSTS_SHORT.id, v.value.span, msg)
                .with_help("use `max-age=31536000; includeSubDomains` or longer"),
        );
    }
}
