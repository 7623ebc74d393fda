//! What every answer of `check_http` is built from: the matched routes' response headers
//! (the plan built at load, and `header set NAME: EXPR` values computed per admitted
//! request), and the decision carrying them and the matched route.

use super::cors::Verdict;
use super::decision::{HttpDecision, RouteRef};
use super::dynamic::{valid_value, DynHeader};
use super::headers::HeaderSet;
use super::pipeline::Pipeline;
use super::state::{Facts, Prepared, Who};
use crate::cx::Cx;
use crate::eval;
use crate::http_request::HttpRequest;
use crate::value::V;
use std::borrow::Cow;

impl<'e> Pipeline<'e> {
    /// Security headers with every matching route's `header set`/`drop`, least specific
    /// route first so the most specific wins.
    pub(super) fn route_headers(&self, chain: &[u32]) -> HeaderSet<'e> {
        let h = self.http;
        // One route with changes (or none): its plan is the answer, built at load.
        let mut plans = chain
            .iter()
            .filter_map(|&r| h.routes.get(r as usize)?.plan.as_ref());
        match (plans.next(), plans.next()) {
            (None, _) => return HeaderSet::planned(&h.plan, 6),
            (Some(p), None) => return HeaderSet::planned(p, 6),
            _ => {}
        }
        let mut hs = HeaderSet::base(&h.headers, 6);
        for &r in chain.iter().rev() {
            for op in h.routes.get(r as usize).map_or(&[][..], |r| &r.header_ops) {
                hs.apply(op);
            }
        }
        hs
    }

    pub(super) fn base_decision(
        &self,
        allowed: bool,
        status: u16,
        chain: &[u32],
        route: Option<RouteRef<'e>>,
    ) -> HttpDecision<'e> {
        let mut hs = self.route_headers(chain);
        if let Some(c) = &self.http.cors {
            c.actual(Verdict::Refused, &mut hs);
        }
        decision(allowed, status, hs, route)
    }

    pub(super) fn finish(
        &self,
        allowed: bool,
        status: u16,
        hs: HeaderSet<'e>,
        p: &Prepared<'_>,
    ) -> HttpDecision<'e> {
        decision(allowed, status, hs, self.route_of(p))
    }

    /// The most specific matching route of a prepared request.
    fn route_of(&self, p: &Prepared<'_>) -> Option<RouteRef<'e>> {
        p.chain.first().and_then(|&r| {
            let route = self.http.routes.get(r as usize)?;
            Some(RouteRef {
                rule: &route.loc,
                pattern: route.patterns.get(p.pattern as usize)?,
            })
        })
    }

    /// A refusal, built whole in the return slot: a decision built by
    /// [`Pipeline::finish`] and then changed (`d.rules.push`, `settle`) was built aside
    /// and copied, all 304 bytes of it, once in `refuse` and once in `conclude`
    /// (`check_http` of a refused request: 4,471 -> 4,273 instructions; callgrind,
    /// docs/BENCHMARKS.md).
    #[inline]
    pub(super) fn refusal(
        &self,
        status: u16,
        hs: HeaderSet<'e>,
        p: &Prepared<'_>,
        why: Refusal<'e>,
    ) -> HttpDecision<'e> {
        let route = self.route_of(p);
        HttpDecision {
            allowed: false,
            status,
            reason: Some(why.reason),
            rules: why.rules,
            headers: hs.add,
            remove: hs.remove,
            location: why.location,
            route,
            authenticated_by: why.via,
            note: why.note,
            ..HttpDecision::default()
        }
    }
}

/// What a refusal says beside its status and headers.
pub(super) struct Refusal<'e> {
    pub reason: Cow<'e, str>,
    /// The refusing requirements or limits as `file:line`.
    pub rules: Vec<&'e str>,
    /// A redirect's target.
    pub location: Option<String>,
    /// How the `auth` section produced the principal, when it did.
    pub via: Option<String>,
    /// A failed store's error, for the decision log.
    pub note: Option<Cow<'e, str>>,
}

/// A decision carrying the headers to add and remove, and the matched route.
fn decision<'e>(
    allowed: bool,
    status: u16,
    hs: HeaderSet<'e>,
    route: Option<RouteRef<'e>>,
) -> HttpDecision<'e> {
    HttpDecision {
        allowed,
        status,
        headers: hs.add,
        remove: hs.remove,
        route,
        ..HttpDecision::default()
    }
}

impl<'e> Pipeline<'e> {
    /// Apply the computed headers of the matching routes (least specific first, so the
    /// most specific wins) to an admitted request's headers.
    pub(super) fn dynamic_headers(
        &self,
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
    pub(super) fn header_value(
        &self,
        req: &HttpRequest,
        who: &mut Who,
        at: Facts<'_>,
        h: &DynHeader,
    ) -> Option<String> {
        let principal = self.principal_if(h.needs_principal, req, who, at.now_us);
        let view = at.view(req, principal);
        let cx = Cx {
            t: Some(self.tables),
            req: None,
            http: Some(&view),
            rec: None,
            pmask: None,
            clock: Some(self.clock),
        };
        match eval::eval(&cx, &h.value) {
            // Secret-derived values never go into a response.
            V::Str(s) => Some(valid_value(&s)),
            _ => None,
        }
    }
}
