//! Where a credential is read from: a header (with the `Bearer` scheme on
//! `Authorization`) or a cookie. Absent, empty or wrong-scheme values are "no credential".

use crate::http::HttpRequest;

/// A compiled `from:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Lower-case header name.
    Header(Box<str>),
    Cookie(Box<str>),
}

impl Source {
    /// The credential, if the request carries one.
    pub(crate) fn read<'r>(&self, req: &'r HttpRequest) -> Option<&'r str> {
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
            Source::Cookie(name) => req.cookie_value(name)?,
        };
        (!raw.is_empty()).then_some(raw)
    }
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
        assert_eq!(auth.read(&req), Some("abc"));
        let basic = HttpRequest::new("GET", "/").header("authorization", "Basic dXNlcg==");
        assert_eq!(auth.read(&basic), None);
        let empty = HttpRequest::new("GET", "/").header("authorization", "Bearer ");
        assert_eq!(auth.read(&empty), None);
        let key = Source::Header("x-api-key".into());
        let req = HttpRequest::new("GET", "/").header("X-Api-Key", "k1");
        assert_eq!(key.read(&req), Some("k1"));
        let c = Source::Cookie("session".into());
        let req = HttpRequest::new("GET", "/").header("cookie", "a=1; session=tok; b=2");
        assert_eq!(c.read(&req), Some("tok"));
        assert_eq!(c.read(&HttpRequest::new("GET", "/")), None);
    }
}
