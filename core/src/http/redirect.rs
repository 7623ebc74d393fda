//! `{host}` and `{target}` in redirect locations: the request's `Host` only when the
//! policy lists it, and the normalised path with the raw query, encoded so that the
//! result is one path-and-query that no request can turn into another origin or a
//! header break.

use super::path::NormPath;
use super::HttpRequest;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// The reason of the 400 answered instead of a `{host}` redirect.
pub(crate) const HOST_NOT_ALLOWED: &str = "the request's Host is not one of the policy's hosts";

/// Bytes kept verbatim in a path: RFC 3986 `pchar` and `/`, minus `%` (the path is
/// decoded, so a literal `%` must be re-encoded to survive the round trip).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The query is passed on as received (its escapes stay), except bytes that may not
/// appear in a URL or would end it.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The listed host the request's single `Host` header names (ASCII case-insensitive,
/// port included), as the policy spells it; `None` for none, several, or another value.
pub(crate) fn listed_host<'h>(req: &HttpRequest, hosts: &'h [Box<str>]) -> Option<&'h str> {
    let mut values = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.as_str());
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    hosts
        .iter()
        .find(|h| h.eq_ignore_ascii_case(value))
        .map(|h| &**h)
}

/// `{target}`: `/path` then `?query` when there is one.
pub(crate) fn target(norm: &NormPath<'_>) -> String {
    let mut out: String = utf8_percent_encode(&norm.path, PATH).collect();
    if !norm.query.is_empty() {
        out.push('?');
        out.extend(utf8_percent_encode(norm.query, QUERY));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::http::normalise;

    fn t(raw: &str) -> String {
        normalise(raw).map_or_else(|e| format!("refused: {e:?}"), |n| target(&n))
    }

    #[test]
    fn target_keeps_path_and_query_readable() {
        assert_eq!(t("/pricing?plan=pro&x=%20y"), "/pricing?plan=pro&x=%20y");
        assert_eq!(t("/a/c/"), "/a/c");
        assert_eq!(t("/"), "/");
    }

    #[test]
    fn target_cannot_leave_the_origin_or_break_a_header() {
        // Empty segments and `\` are refused: never a protocol-relative `//host`.
        assert_eq!(t("//evil.com/x"), "refused: EmptySegment");
        assert_eq!(t("/\\evil.com"), "refused: Backslash");
        // A decoded `?`, `#` or `%` in the path is re-encoded.
        assert_eq!(t("/a%3Fb%23c%25d"), "/a%3Fb%23c%25d");
        assert_eq!(t("/caf%C3%A9"), "/caf%C3%A9");
        // The raw query cannot smuggle a line break or a space (the fragment is dropped).
        assert_eq!(
            t("/x?a=\r\nSet-Cookie:%20s=1 #f"),
            "/x?a=%0D%0ASet-Cookie:%20s=1%20"
        );
    }

    #[test]
    fn only_one_listed_host_is_echoed() {
        let hosts: Vec<Box<str>> = vec!["myapp.com".into(), "admin.myapp.com:8443".into()];
        let req = |vals: &[&str]| {
            vals.iter()
                .fold(HttpRequest::new("GET", "/"), |r, v| r.header("Host", *v))
        };
        assert_eq!(listed_host(&req(&["MyApp.com"]), &hosts), Some("myapp.com"));
        assert_eq!(
            listed_host(&req(&["admin.myapp.com:8443"]), &hosts),
            Some("admin.myapp.com:8443")
        );
        for bad in [
            "evil.com",
            "myapp.com:8080",
            "admin.myapp.com",
            "myapp.com\r\nx: y",
            "evil.com@myapp.com",
            "myapp.com@evil.com",
            "myapp.com.",
            "",
        ] {
            assert_eq!(listed_host(&req(&[bad]), &hosts), None, "{bad:?}");
        }
        assert_eq!(listed_host(&req(&[]), &hosts), None);
        assert_eq!(listed_host(&req(&["myapp.com", "myapp.com"]), &hosts), None);
    }
}
