//! Where a credential is read from: a header (with the `Bearer` scheme on
//! `Authorization`) or a cookie. Absent, empty or wrong-scheme values are "no credential".

use crate::http_request::HttpRequest;
use std::borrow::Cow;

/// Auth.js splits a session cookie over 4 KiB into `NAME.0`, `NAME.1`, ...
const MAX_CHUNKS: usize = 16;

/// A compiled `from:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Lower-case header name.
    Header(Box<str>),
    Cookie(Box<str>),
    /// An Auth.js session cookie: `NAME`, or its chunks `NAME.0`, `NAME.1`, ... joined.
    SessionCookie(Box<str>),
}

impl Source {
    /// The credential, if the request carries one.
    pub(crate) fn read<'r>(&self, req: &'r HttpRequest) -> Option<Cow<'r, str>> {
        if let Source::SessionCookie(name) = self {
            return session_cookie(req, name).filter(|v| !v.is_empty());
        }
        let raw = match self {
            Source::Header(name) => {
                let v = req.header_value(name)?.trim();
                match bearer(v) {
                    Some(token) => token,
                    // `Authorization: Basic ...` is another scheme, not a bearer token.
                    None if &**name == "authorization" => return None,
                    None => v,
                }
            }
            Source::Cookie(name) | Source::SessionCookie(name) => req.cookie_value(name)?,
        };
        (!raw.is_empty()).then_some(Cow::Borrowed(raw))
    }
}

/// The whole cookie when present, else its consecutive chunks from `.0` on. One pass
/// over the cookies answers both whether the whole cookie is there and whether a
/// `.0` chunk is (a policy's Auth.js block reads two cookie names, and every request
/// used to scan for each twice and format a chunk's name: ~10% of a cookie's
/// verification in a profile).
fn session_cookie<'r>(req: &'r HttpRequest, name: &str) -> Option<Cow<'r, str>> {
    let mut chunked = false;
    for (n, v) in req.cookies() {
        if n == name {
            return Some(Cow::Borrowed(v));
        }
        chunked |= n.strip_prefix(name) == Some(".0");
    }
    if !chunked {
        return None;
    }
    let mut joined = String::new();
    for i in 0..MAX_CHUNKS {
        match req.cookie_value(&format!("{name}.{i}")) {
            Some(part) => joined.push_str(part),
            None => break,
        }
    }
    (!joined.is_empty()).then_some(Cow::Owned(joined))
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
fn bearer(v: &str) -> Option<&str> {
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_cookie() {
        let auth = Source::Header("authorization".into());
        let req = HttpRequest::new("GET", "/").header("Authorization", "bearer abc");
        assert_eq!(auth.read(&req).as_deref(), Some("abc"));
        let basic = HttpRequest::new("GET", "/").header("authorization", "Basic dXNlcg==");
        assert_eq!(auth.read(&basic), None);
        let empty = HttpRequest::new("GET", "/").header("authorization", "Bearer ");
        assert_eq!(auth.read(&empty), None);
        let key = Source::Header("x-api-key".into());
        let req = HttpRequest::new("GET", "/").header("X-Api-Key", "k1");
        assert_eq!(key.read(&req).as_deref(), Some("k1"));
        let c = Source::Cookie("session".into());
        let req = HttpRequest::new("GET", "/").header("cookie", "a=1; session=tok; b=2");
        assert_eq!(c.read(&req).as_deref(), Some("tok"));
        assert_eq!(c.read(&HttpRequest::new("GET", "/")), None);
    }

    #[test]
    fn session_cookies_may_come_in_chunks() {
        let s = Source::SessionCookie("authjs.session-token".into());
        let whole = HttpRequest::new("GET", "/").header("cookie", "authjs.session-token=abc");
        assert_eq!(s.read(&whole).as_deref(), Some("abc"));
        let chunks = HttpRequest::new("GET", "/")
            .header("cookie", "authjs.session-token.1=def; x=1")
            .header("cookie", "authjs.session-token.0=abc");
        assert_eq!(s.read(&chunks).as_deref(), Some("abcdef"));
        // A gap ends the token: `.2` without `.1` is not read.
        let gap = HttpRequest::new("GET", "/").header(
            "cookie",
            "authjs.session-token.0=abc; authjs.session-token.2=ghi",
        );
        assert_eq!(s.read(&gap).as_deref(), Some("abc"));
        let other = HttpRequest::new("GET", "/").header("cookie", "authjs.session-token2=abc");
        assert_eq!(s.read(&other), None);
    }

    /// `session_cookie` as it was: the whole cookie looked up, then the chunks.
    fn reference(req: &HttpRequest, name: &str) -> Option<String> {
        if let Some(v) = req.cookie_value(name) {
            return Some(v.to_owned());
        }
        let mut joined = String::new();
        for i in 0..MAX_CHUNKS {
            match req.cookie_value(&format!("{name}.{i}")) {
                Some(part) => joined.push_str(part),
                None => break,
            }
        }
        (!joined.is_empty()).then_some(joined)
    }

    #[test]
    fn one_pass_over_the_cookies_reads_what_the_lookups_did() {
        let name = "authjs.session-token";
        let headers: &[&[&str]] = &[
            &[],
            &["a=1"],
            &["authjs.session-token=abc"],
            &[" authjs.session-token = \"abc\" ; b=2"],
            &["authjs.session-token.0=abc; authjs.session-token=whole"],
            &["authjs.session-token=; authjs.session-token.0=abc"],
            &["authjs.session-token.0=; authjs.session-token.1=x"],
            &["authjs.session-token.0=a", "authjs.session-token.1=b"],
            &["authjs.session-token.1=b", "authjs.session-token.0=a"],
            &["authjs.session-token.00=a; authjs.session-token.0x=b"],
            &["authjs.session-token.0"],
            &["Authjs.session-token=abc; authjs.session-token.0=low"],
            &["x=authjs.session-token.0=abc"],
            &[";;authjs.session-token.0=a;;authjs.session-token.1=b=c;"],
        ];
        for hs in headers {
            let mut req = HttpRequest::new("GET", "/");
            for h in *hs {
                req = req.header("cookie", *h);
            }
            let got = session_cookie(&req, name).map(Cow::into_owned);
            assert_eq!(got, reference(&req, name), "{hs:?}");
        }
    }
}
