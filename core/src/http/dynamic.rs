//! Per-request response headers: `header set NAME: EXPR` lines whose value is not a
//! literal. Literal `header set`s stay folded at load; routes without an expression pay
//! nothing here.

use super::check::{Facts, Prepared, Who};
use super::headers::HeaderSet;
use super::HttpRequest;
use crate::eval::{self, Cx, V};
use crate::lower::Node;
use crate::Engine;
use std::borrow::Cow;

/// The most characters a computed header value keeps.
const MAX_VALUE_CHARS: usize = 8192;

/// One `header set NAME: EXPR` of a route.
#[derive(Debug)]
pub(crate) struct DynHeader {
    /// Lower-case.
    pub name: Box<str>,
    pub value: Node,
    pub needs_principal: bool,
}

/// A route's computed headers, and every header name its literal lines set or drop
/// (a more specific route's literal line wins over a less specific computed one).
#[derive(Debug, Default)]
pub(crate) struct RouteDyn {
    pub headers: Box<[DynHeader]>,
    pub fixed_names: Box<[Box<str>]>,
}

impl Engine {
    /// Apply the computed headers of the matching routes (least specific first, so the
    /// most specific wins) to an admitted request's headers.
    pub(crate) fn dynamic_headers<'e>(
        &'e self,
        req: &HttpRequest,
        p: &mut Prepared<'_>,
        hs: &mut HeaderSet<'e>,
    ) {
        let routes = &self.http.routes;
        let (at, who, chain) = p.parts();
        for (i, &r) in chain.iter().enumerate().rev() {
            let Some(route) = routes.get(r as usize) else {
                continue;
            };
            for h in route.dynamic.headers.iter() {
                let overridden = chain.iter().take(i).any(|&m| {
                    routes.get(m as usize).is_some_and(|m| {
                        m.dynamic.fixed_names.contains(&h.name)
                            || m.dynamic.headers.iter().any(|x| x.name == h.name)
                    })
                });
                if overridden {
                    continue;
                }
                if let Some(v) = self.header_value(req, who, at, h) {
                    hs.set(Cow::Borrowed(&h.name), Cow::Owned(v));
                }
            }
        }
    }

    /// The value of one computed header, made a valid header value; `None`: not set.
    fn header_value(
        &self,
        req: &HttpRequest,
        who: &mut Who,
        at: Facts<'_>,
        h: &DynHeader,
    ) -> Option<String> {
        let principal = self.principal_if(h.needs_principal, req, who, at.now_us);
        let view = at.view(req, principal);
        let cx = Cx {
            t: Some(&self.tables),
            req: None,
            http: Some(&view),
            rec: None,
            pmask: None,
            clock: Some(&*self.clock),
        };
        match eval::eval(&cx, &h.value) {
            // Secret-derived values never go into a response.
            V::Str(s) => Some(valid_value(&s)),
            _ => None,
        }
    }
}

/// Visible ASCII, space and tab stay; anything else (line breaks, controls, non-ASCII)
/// becomes `_`, and the value is cut to [`MAX_VALUE_CHARS`].
pub(crate) fn valid_value(s: &str) -> String {
    s.chars()
        .take(MAX_VALUE_CHARS)
        .map(|c| match c {
            ' '..='~' | '\t' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::valid_value;

    #[test]
    fn computed_values_cannot_break_the_header() {
        assert_eq!(valid_value("a\r\nX-Evil: 1"), "a__X-Evil: 1");
        assert_eq!(valid_value("é\u{0}"), "__");
        assert_eq!(valid_value(&"x".repeat(9000)).len(), 8192);
    }
}
