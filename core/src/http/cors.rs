//! CORS: the `cors` block folded at load (lines with `if` kept or dropped), then per
//! request: headers for an allowed origin, and the answer to a preflight.

use super::headers::HeaderSet;
use super::HttpRequest;
use std::borrow::Cow;

/// The folded `cors` block. Header values are joined once at load.
#[derive(Debug, Default)]
pub(crate) struct Cors {
    /// Allowed origins, lower-case, without `"*"`.
    pub origins: Vec<Box<str>>,
    /// `"*"` is listed: any origin (never with credentials; the checker refuses it).
    pub any: bool,
    pub methods: Option<Box<str>>,
    pub headers: Option<Box<str>>,
    pub expose: Option<Box<str>>,
    pub credentials: bool,
    /// Seconds, as text.
    pub max_age: Option<Box<str>>,
}

/// What CORS says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict<'r> {
    /// No `Origin` header: not a cross-origin request.
    NoOrigin,
    /// The request's origin, and the index of the listed origin spelled the same byte
    /// for byte (whose text the answer then borrows).
    Allowed(&'r str, Option<u32>),
    Refused,
}

impl Cors {
    pub fn verdict<'r>(&self, req: &'r HttpRequest) -> Verdict<'r> {
        let Some(origin) = req.header_value("origin") else {
            return Verdict::NoOrigin;
        };
        // Listed origins are lower-case, as browsers send them: try bytes first.
        if let Some(i) = self.origins.iter().position(|o| **o == *origin) {
            return Verdict::Allowed(origin, Some(i as u32));
        }
        if self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Verdict::Allowed(origin, None)
        } else {
            Verdict::Refused
        }
    }

    /// A preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    pub fn is_preflight(req: &HttpRequest) -> bool {
        req.method == "OPTIONS"
            && req.header_value("origin").is_some()
            && req.header_value("access-control-request-method").is_some()
    }

    /// Headers for an actual (non-preflight) response.
    pub fn actual<'e>(&'e self, v: Verdict<'_>, h: &mut HeaderSet<'e>) {
        self.vary(h);
        if let Verdict::Allowed(origin, listed) = v {
            self.allow_origin(origin, listed, h);
            if let Some(e) = &self.expose {
                h.set(
                    Cow::Borrowed("access-control-expose-headers"),
                    Cow::Borrowed(e),
                );
            }
        }
    }

    /// Headers answering a preflight from an allowed origin.
    pub fn preflight<'e>(&'e self, origin: &str, listed: Option<u32>, h: &mut HeaderSet<'e>) {
        self.vary(h);
        self.allow_origin(origin, listed, h);
        if let Some(m) = &self.methods {
            h.set(
                Cow::Borrowed("access-control-allow-methods"),
                Cow::Borrowed(m),
            );
        }
        if let Some(x) = &self.headers {
            h.set(
                Cow::Borrowed("access-control-allow-headers"),
                Cow::Borrowed(x),
            );
        }
        if let Some(a) = &self.max_age {
            h.set(Cow::Borrowed("access-control-max-age"), Cow::Borrowed(a));
        }
    }

    fn allow_origin<'e>(&'e self, origin: &str, listed: Option<u32>, h: &mut HeaderSet<'e>) {
        // With `"*"` and no credentials, answer `*`: the response is the same for
        // every origin and caches may share it.
        let value = if self.any && !self.credentials {
            Cow::Borrowed("*")
        } else {
            // The listed spelling when it is the request's, byte for byte: no copy.
            match listed.and_then(|i| self.origins.get(i as usize)) {
                Some(listed) => Cow::Borrowed(&**listed),
                None => Cow::Owned(origin.to_owned()),
            }
        };
        h.set(Cow::Borrowed("access-control-allow-origin"), value);
        if self.credentials {
            h.set(
                Cow::Borrowed("access-control-allow-credentials"),
                Cow::Borrowed("true"),
            );
        }
    }

    /// The answer depends on `Origin` unless it is `*` for everyone.
    fn vary<'e>(&'e self, h: &mut HeaderSet<'e>) {
        if !self.any || self.credentials {
            h.set(Cow::Borrowed("vary"), Cow::Borrowed("Origin"));
        }
    }
}
