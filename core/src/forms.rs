//! Run-time meaning of the value-computing forms: `now`, `header_safe` and
//! `principal is ROLE in ORG`.

use crate::cx::{has_request, principal, Cx};
use crate::value::{str_of, List, V};

/// `now` in seconds since the epoch. An authorization request's `context.time` wins
/// (seconds, or an RFC 3339 timestamp), then an HTTP request's `time`, then the
/// engine's clock. A `context.time` of another kind is missing: a malformed time never
/// falls back to the clock.
pub(crate) fn now(cx: &Cx<'_>) -> V<'static> {
    if !has_request(cx) {
        return V::Missing;
    }
    if let Some(r) = cx.req {
        match r.context("time") {
            V::Missing => {}
            V::Num(n) if n.is_finite() => return V::Num(n),
            V::Str(s) => {
                return crate::time::parse_time(&s).map_or(V::Missing, |us| V::Num(secs(us)))
            }
            _ => return V::Missing,
        }
    }
    if let Some(us) = cx.http.and_then(|h| h.req.time_us) {
        return V::Num(secs(us));
    }
    cx.clock
        .map_or(V::Missing, |c| V::Num(secs(c.now_micros())))
}

fn secs(us: u64) -> f64 {
    us as f64 / 1_000_000.0
}

/// `header_safe(text, max)`: every character that could end or split a header value,
/// or start a parameter or path in one (`\r`, `\n`, `"`, `;`, `\`, `/`), and every
/// non-printable or non-ASCII character becomes `_`; the result has at most `max`
/// characters.
pub(crate) fn header_safe(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| match c {
            '"' | ';' | '\\' | '/' => '_',
            ' '..='~' => c,
            _ => '_',
        })
        .collect()
}

/// `principal is ROLE in ORG`: some role the principal holds in `org`
/// (`principal.org_roles[org]`) is or inherits `role`. Anonymous: false. A missing map,
/// organization or role list, or an undeclared role name in it: missing, so that a
/// deny fails closed and an allow does not apply.
pub(crate) fn is_in<'a>(cx: &Cx<'a>, role: u32, org: &V<'a>) -> V<'a> {
    if !has_request(cx) {
        return V::Missing;
    }
    let Some(p) = principal(cx) else {
        return V::Bool(false);
    };
    let (Some(t), Some(org)) = (cx.t, str_of(org)) else {
        return V::Missing;
    };
    let V::Map(orgs) = p.get("org_roles") else {
        return V::Missing;
    };
    let mut held = false;
    let mut hold = |name: Option<&str>| match name.and_then(|s| t.role_id(s)) {
        Some(r) => {
            held |= t.inherits(r, role);
            true
        }
        None => false,
    };
    let all_declared = match orgs.get(org) {
        V::List(List::Values(names)) => names.iter().all(|n| match n {
            crate::request::Value::String(s) => hold(Some(s)),
            _ => hold(None),
        }),
        V::List(List::Json(names)) => names.iter().all(|n| hold(n.as_str())),
        _ => return V::Missing,
    };
    if all_declared {
        V::Bool(held)
    } else {
        V::Missing
    }
}

#[cfg(test)]
mod tests {
    use super::header_safe;

    #[test]
    fn header_safe_replaces_separators_controls_and_non_ascii() {
        assert_eq!(
            header_safe("a\r\nSet-Cookie: x=1", 200),
            "a__Set-Cookie: x=1"
        );
        assert_eq!(header_safe("../\"x\";\\y\té", 200), "..__x___y__");
        assert_eq!(header_safe("abcdef", 3), "abc");
        assert_eq!(header_safe("", 5), "");
    }
}
