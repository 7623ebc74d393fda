//! CORS: the `cors` block folded at load (lines with `if` kept or dropped), then per
//! request: headers for an allowed origin, and the answer to a preflight.

use super::headers::{name_bit, HeaderSet};
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
    /// `refuse_unlisted: true` (403) or `refuse_unlisted: STATUS`: a request from an
    /// origin not listed is answered that status, as the `cors` package's origin
    /// callback erroring (`next(err)`, Express's error handler: 500) ends it.
    pub refuse_unlisted: Option<u16>,
    /// The headers of an actual response from each listed origin (by index), made by
    /// [`Cors::seal`]: a request from a listed origin appends them in one go.
    actual_for: Vec<Headers>,
    /// [`name_bit`] of the names in `actual_for`.
    actual_mask: u64,
}

/// A fixed list of response headers: (lower-case name, value).
type Headers = Box<[(Box<str>, Box<str>)]>;

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

    /// Build the per-origin header lists, once the block is folded.
    pub fn seal(&mut self) {
        let lists: Vec<Headers> = (0..self.origins.len())
            .map(|i| {
                let mut h = HeaderSet::base(&[], 0);
                if let Some(o) = self.origins.get(i) {
                    self.actual_each(Verdict::Allowed(o, Some(i as u32)), &mut h);
                }
                h.add
                    .iter()
                    .map(|(n, v)| (Box::from(&**n), Box::from(&**v)))
                    .collect()
            })
            .collect();
        self.actual_mask = lists
            .iter()
            .flat_map(|l| l.iter())
            .fold(0, |m, (n, _)| m | name_bit(n));
        self.actual_for = lists;
    }

    /// Headers for an actual (non-preflight) response.
    pub fn actual<'e>(&'e self, v: Verdict<'_>, h: &mut HeaderSet<'e>) {
        if let Verdict::Allowed(_, Some(i)) = v {
            if let Some(list) = self.actual_for.get(i as usize) {
                if h.append_new(list, self.actual_mask) {
                    return;
                }
            }
        }
        self.actual_each(v, h);
    }

    /// [`Cors::actual`] one header at a time.
    fn actual_each<'e>(&'e self, v: Verdict<'_>, h: &mut HeaderSet<'e>) {
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
            h.merge("vary", "Origin");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::{HeaderOp, HeaderPlan};

    fn cors() -> Cors {
        let mut c = Cors {
            origins: vec!["https://a.example".into(), "https://b.example".into()],
            expose: Some("X-Total".into()),
            credentials: true,
            ..Cors::default()
        };
        c.seal();
        c
    }

    /// The prebuilt lists give what setting each header gives, and step aside when the
    /// plan already holds one of their names.
    #[test]
    fn prebuilt_headers_match_one_at_a_time() {
        let c = cors();
        let global: Vec<(Box<str>, Box<str>)> = vec![("x-frame-options".into(), "DENY".into())];
        let plain = HeaderPlan::new(&global, &[]);
        let with_vary = HeaderPlan::new(&global, &[HeaderOp::Set("vary".into(), "Cookie".into())]);
        for plan in [&plain, &with_vary] {
            for (i, origin) in ["https://a.example", "https://b.example"]
                .iter()
                .enumerate()
            {
                let v = Verdict::Allowed(origin, Some(i as u32));
                let mut fast = HeaderSet::planned(plan, 6);
                c.actual(v, &mut fast);
                let mut slow = HeaderSet::planned(plan, 6);
                c.actual_each(v, &mut slow);
                assert_eq!(fast.add, slow.add);
                assert!(fast.add.contains(&(
                    Cow::Borrowed("access-control-allow-origin"),
                    Cow::Borrowed(*origin)
                )));
            }
        }
        // With the route's `Vary` planned, `Origin` joins it: one header, both values.
        let mut h = HeaderSet::planned(&with_vary, 6);
        c.actual(Verdict::Allowed("https://a.example", Some(0)), &mut h);
        let vary: Vec<_> = h.add.iter().filter(|(n, _)| n == "vary").collect();
        assert_eq!(
            vary,
            [&(Cow::Borrowed("vary"), Cow::Borrowed("Cookie, Origin"))]
        );
    }
}
