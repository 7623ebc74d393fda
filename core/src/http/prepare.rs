//! Phase 1 of `check_http`: normalise the path, match routes, answer a CORS preflight,
//! evaluate the limit keys (authenticating first only if a key reads the principal).

use super::compile::{method_bit, CReq, HttpTables, ReqTest};
use super::cors::{Cors, Verdict};
use super::decision::{HttpDecision, HttpTrace, ReqTrace, RouteTrace};
use super::path::{normalise, PathError};
use super::pipeline::Pipeline;
use super::shortcuts::quick_key;
use super::state::{Chain, Early, KeyBytes, LimitKey, Prepared};
use crate::authorize::Reported;
use crate::cx::{Cx, HttpView};
use crate::eval;
use crate::http_request::HttpRequest;
use crate::program::Node;
use crate::value::V;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::net::IpAddr;

/// The reason of a `refuse_unlisted` refusal.
pub(super) const UNLISTED: &str = "request from an origin the policy's cors block does not list";

impl<'e> Pipeline<'e> {
    /// Phase 1, into `p` (from `Prepared::new(req)`): the decision when the request is
    /// answered without the store (a bad path, a preflight), else `None` with the keys
    /// to count in `p.keys`.
    pub(super) fn prepare<'r>(
        &self,
        req: &'r HttpRequest,
        mut tr: Option<&mut HttpTrace>,
        p: &mut Prepared<'r>,
    ) -> Option<HttpDecision<'e>> {
        let h = self.http;
        let tracing = tr.is_some();
        let refused = |e: PathError, tr: Option<&mut HttpTrace>| {
            if let Some(t) = tr {
                t.path = format!("refused: {e}");
            }
            if let Some(policy) = &self.tables.report_only {
                // Nothing is enforced, so no route's protection depends on the match.
                let mut d = self.base_decision(true, 200, &[], None);
                d.reported.push(Reported {
                    rule: policy,
                    status: 400,
                    reason: Some(e.text()),
                });
                return d;
            }
            let mut d = self.base_decision(false, 400, &[], None);
            d.reason = Some(Cow::Borrowed(e.text()));
            d
        };
        p.norm = match normalise(&req.path) {
            Ok(n) => n,
            Err(e) => return Some(refused(e, tr)),
        };
        // Pattern ids become route ids in place: one buffer for both.
        let chain = &mut p.chain;
        h.router.matching_inline(&p.norm.path, chain);
        // The path rule: a case-sensitive router on the raw path (axum) must dispatch
        // what this case-insensitive match on the decoded path found (Express folds
        // case, Starlette decodes), or the spelling is refused.
        if p.norm.exact_check {
            let mut exact = Chain::new();
            h.router.matching_exact(p.norm.raw, &mut exact);
            if exact != *chain {
                return Some(refused(PathError::Ambiguous, tr));
            }
        }
        let bit = method_bit(&req.method);
        let mut kept = 0;
        let mut pattern = 0;
        for i in 0..chain.len() {
            let Some(&p) = chain.get(i) else { break };
            let Some(&(route, pi)) = h.pattern_route.get(p as usize) else {
                continue;
            };
            let Some(r) = h.routes.get(route as usize) else {
                continue;
            };
            // HEAD is GET without a body: frameworks send it to GET handlers.
            let fits = r.methods == 0
                || r.methods & bit != 0
                || (bit == method_bit("HEAD") && r.methods & method_bit("GET") != 0);
            let seen = chain.get(..kept).is_some_and(|c| c.contains(&route));
            if fits && !seen {
                if kept == 0 {
                    pattern = pi;
                }
                if let Some(slot) = chain.get_mut(kept) {
                    *slot = route;
                }
                kept += 1;
            }
        }
        chain.truncate(kept);
        let applies = chain
            .iter()
            .position(|&r| h.routes.get(r as usize).is_some_and(|r| r.public))
            .map_or(chain.len(), |i| i + 1);
        p.cors = match &h.cors {
            Some(c) => c.verdict(req),
            None => Verdict::NoOrigin,
        };
        let chain = &p.chain;
        if let Some(t) = tr.as_deref_mut() {
            t.path = p.norm.path.to_string();
            t.routes = chain
                .iter()
                .enumerate()
                .filter_map(|(i, &r)| {
                    let route = h.routes.get(r as usize)?;
                    Some(RouteTrace {
                        rule: route.loc.to_string(),
                        pattern: route.patterns.join(", "),
                        public: route.public,
                        applies: i < applies,
                    })
                })
                .collect();
            t.cors = match (&h.cors, p.cors) {
                (None, _) | (_, Verdict::NoOrigin) => "none",
                (_, Verdict::Allowed(..)) => "allowed",
                (_, Verdict::Refused) => "refused",
            };
            t.principal = "not needed".into();
        }
        p.pattern = pattern;
        p.applies = applies;
        p.now_us = self.now_us(req);
        // `require first`: transport checks run before anything else looks at the
        // request, as a redirect middleware mounted first does.
        if let Some(d) = self.test_first(req, tr.as_deref_mut(), p) {
            return Some(d);
        }
        if let (Some(c), true) = (&h.cors, Cors::is_preflight(req)) {
            if let Some(t) = tr {
                t.preflight = true;
            }
            let mut hs = self.route_headers(&p.chain);
            const REFUSED: &str = "CORS preflight from an origin the policy does not allow";
            return Some(match p.cors {
                Verdict::Allowed(origin, listed) => {
                    c.preflight(origin, listed, &mut hs);
                    self.finish(true, 204, hs, p)
                }
                _ => {
                    c.actual(Verdict::Refused, &mut hs);
                    // With `refuse_unlisted: STATUS` a preflight is refused with it too:
                    // the `cors` package asks its origin callback before answering one.
                    let status = c.refuse_unlisted.unwrap_or(403);
                    match &self.tables.report_only {
                        // The application answers the preflight; no CORS grant is added.
                        Some(policy) => {
                            let mut d = self.finish(true, 200, hs, p);
                            d.reported.push(Reported {
                                rule: policy,
                                status,
                                reason: Some(REFUSED),
                            });
                            d
                        }
                        None => {
                            let mut d = self.finish(false, status, hs, p);
                            d.reason = Some(Cow::Borrowed(REFUSED));
                            d
                        }
                    }
                }
            });
        }
        // `refuse_unlisted`: an origin the block does not list ends the request here, as
        // the `cors` package's erroring origin callback does; no quota is spent.
        if let (Some(c), Verdict::Refused) = (&h.cors, p.cors) {
            if let (Some(status), Some(_)) = (c.refuse_unlisted, &self.tables.report_only) {
                p.early.push(Early::Unlisted(status));
            } else if let Some(status) = c.refuse_unlisted {
                let mut hs = self.route_headers(&p.chain);
                c.actual(Verdict::Refused, &mut hs);
                let mut d = self.finish(false, status, hs, p);
                d.reason = Some(Cow::Borrowed(UNLISTED));
                return Some(d);
            }
        }
        // Every matching route's limits count, `public` or not, down to the first route
        // that says `limit ... only`.
        let mut limits: SmallVec<[u32; 4]> = SmallVec::new();
        for &r in &p.chain {
            let Some(route) = h.routes.get(r as usize) else {
                continue;
            };
            for &l in route.limits.iter() {
                if !limits.contains(&l) {
                    limits.push(l);
                }
            }
            if route.limits_only {
                break;
            }
        }
        limits.sort_unstable();
        for l in limits {
            let Some(lim) = h.limits.get(l as usize) else {
                continue;
            };
            let (at, who, _) = p.parts();
            let principal = self.principal_if(lim.key_needs_principal, req, who, at.now_us);
            let (key, shown) = self.limit_key(l, &at.view(req, principal), &lim.key, tracing);
            p.keys.push(key);
            if tracing {
                p.shown.push(shown);
            }
        }
        None
    }

    /// The `require first` lines of every matching route, most specific route first,
    /// in source order: the first that fails decides (a trace records each one tested).
    fn test_first(
        &self,
        req: &HttpRequest,
        mut tr: Option<&mut HttpTrace>,
        p: &mut Prepared<'_>,
    ) -> Option<HttpDecision<'e>> {
        let h = self.http;
        let tracing = tr.is_some();
        let mut failed: Option<&'e CReq> = None;
        let mut reported: SmallVec<[Early; 1]> = SmallVec::new();
        {
            let (at, who, chain) = p.parts();
            'routes: for &r in chain {
                let Some(route) = h.routes.get(r as usize) else {
                    continue;
                };
                for (i, q) in route.first.iter().enumerate() {
                    let (ok, reads) = self.test(req, who, at, q, tracing);
                    if let Some(t) = tr.as_deref_mut() {
                        t.requirements.push(ReqTrace {
                            rule: q.loc.to_string(),
                            kind: "first",
                            value: match ok {
                                Some(true) => "true",
                                Some(false) => "false",
                                None => "missing",
                            },
                            reads,
                            report_only: q.report_only,
                        });
                    }
                    if ok != Some(true) && q.report_only {
                        reported.push(Early::First {
                            route: r,
                            index: i as u32,
                        });
                    } else if ok != Some(true) {
                        failed = Some(q);
                        break 'routes;
                    }
                }
            }
        }
        if !reported.is_empty() {
            p.early.extend(reported);
        }
        let q = failed?;
        let mut hs = self.route_headers(&p.chain);
        if let Some(c) = &h.cors {
            c.actual(Verdict::Refused, &mut hs);
        }
        Some(self.refuse(req, q, None, hs, p, (None, None)))
    }

    /// Evaluate a key: `s:TEXT` or `n:NUMBER`; the client's address `i:ADDR` (IPv6 by
    /// its prefix), a kind of its own so that no text a client writes (a header, an
    /// input field, a principal id spelling `203.0.113.7`) spends or borrows the
    /// budget of the client at that address;
    /// a missing key is the one shared key `missing` (see docs/LANGUAGE.md, Limits).
    /// Also the key as a trace shows it: empty unless tracing, so that no request
    /// pays for text only a trace reads.
    pub(super) fn limit_key(
        &self,
        limit: u32,
        view: &HttpView<'_>,
        node: &Node,
        tracing: bool,
    ) -> (LimitKey, String) {
        let cx = Cx {
            t: Some(self.tables),
            req: None,
            http: Some(view),
            rec: None,
            pmask: None,
            clock: Some(self.clock),
        };
        // Which operand supplied the key matters only for what a trace shows.
        let redact = tracing && matches!(key_source(&cx, node), Node::Header(_) | Node::Cookie(_));
        let value = quick_key(view, node).unwrap_or_else(|| eval::eval(&cx, node));
        let (key, shown) = match value {
            V::Str(s) if Some(&*s) == view.ip.peek() => {
                // The client address (behind trusted proxies, not the peer's).
                let k = match view.ip.addr() {
                    Some(IpAddr::V6(v6)) => Cow::Owned(match v6.to_ipv4_mapped() {
                        Some(v4) => v4.to_string(),
                        None => v6_prefix(v6, self.ipv6_prefix),
                    }),
                    _ => s,
                };
                (prefixed("i:", &k), shown_if(tracing, || k.to_string()))
            }
            V::Str(s) => {
                let shown = shown_if(tracing, || {
                    if redact {
                        "<redacted>".into()
                    } else {
                        s.to_string()
                    }
                });
                (prefixed("s:", &s), shown)
            }
            V::Secret(s) => (
                prefixed("s:", &s),
                shown_if(tracing, || "<redacted>".into()),
            ),
            V::Num(n) => (
                KeyBytes::from_vec(format!("n:{n}").into_bytes()),
                shown_if(tracing, || n.to_string()),
            ),
            _ => (
                KeyBytes::from_slice(b"missing"),
                shown_if(tracing, || "missing (one shared key)".into()),
            ),
        };
        (LimitKey { limit, key }, shown)
    }
}

/// `text()` when tracing, else nothing (no allocation).
fn shown_if(tracing: bool, text: impl FnOnce() -> String) -> String {
    if tracing {
        text()
    } else {
        String::new()
    }
}

/// `prefix` then `s`, as key bytes, in one allocation.
fn prefixed(prefix: &str, s: &str) -> KeyBytes {
    let n = prefix.len() + s.len();
    // Inline keys through a plain array: `SmallVec::extend_from_slice` costs ~150
    // instructions a key here.
    let mut buf = [0u8; 32];
    if let Some(out) = buf.get_mut(..n) {
        // `prefix.len() <= n`: the split and both copies fit by construction.
        let (head, tail) = out.split_at_mut(prefix.len());
        head.copy_from_slice(prefix.as_bytes());
        tail.copy_from_slice(s.as_bytes());
        return KeyBytes::from_buf_and_len(buf, n);
    }
    let mut k = KeyBytes::with_capacity(n);
    k.extend_from_slice(prefix.as_bytes());
    k.extend_from_slice(s.as_bytes());
    k
}

/// Which part of a `a ?? b ?? c` key supplied the value (to redact header keys).
fn key_source<'a>(cx: &Cx<'a>, node: &'a Node) -> &'a Node {
    match node {
        Node::Coalesce(a, b) => match eval::eval(cx, a) {
            V::Missing => key_source(cx, b),
            _ => key_source(cx, a),
        },
        n => n,
    }
}

/// An IPv6 address reduced to its first `bits` bits, as `addr/bits`.
fn v6_prefix(ip: std::net::Ipv6Addr, bits: u8) -> String {
    let bits = bits.min(128);
    let mask = match bits {
        0 => 0,
        b => u128::MAX << (128 - u32::from(b)),
    };
    format!("{}/{bits}", std::net::Ipv6Addr::from(u128::from(ip) & mask))
}

/// Whether a request with this method and path meets a route that reads the body
/// (`require signature`): hosts read and pass the body only then. A path that does
/// not normalise needs no body (it is answered 400 anyway).
pub(crate) fn needs_body(h: &HttpTables, method: &str, path: &str) -> bool {
    if !h.any_signature {
        return false;
    }
    let Ok(norm) = normalise(path) else {
        return false;
    };
    let mut patterns = Vec::new();
    h.router.matching_into(&norm.path, &mut patterns);
    let bit = method_bit(&method.to_ascii_uppercase());
    patterns.iter().any(|&p| {
        let Some(r) = h
            .pattern_route
            .get(p as usize)
            .and_then(|&(r, _)| h.routes.get(r as usize))
        else {
            return false;
        };
        let fits = r.methods == 0
            || r.methods & bit != 0
            || (bit == method_bit("HEAD") && r.methods & method_bit("GET") != 0);
        fits && r
            .reqs
            .iter()
            .any(|q| matches!(q.test, ReqTest::Signature(_)))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn v6_prefix_keeps_the_network() {
        let ip = "2001:db8:1:2:3:4:5:6".parse().ok();
        assert_eq!(
            ip.map(|ip| super::v6_prefix(ip, 64)),
            Some("2001:db8:1:2::/64".to_owned())
        );
        assert_eq!(
            ip.map(|ip| super::v6_prefix(ip, 0)),
            Some("::/0".to_owned())
        );
    }
}
