//! Rate limits across routes: login-like routes, public holes in protected prefixes,
//! client-address keys behind proxies.

use super::head;
use crate::registry::declare_lint;
use crate::routes::{ancestors, effective_limits};
use crate::{finding, walk, Config, Finding};
use std::collections::HashMap;
use warden_lang::ast::{ExprKind, Item, LimitDecl, Policy, ProxiesValue, ReqKind, Root, RouteStmt};

declare_lint! {
    /// A login, registration or password-reset route (a path segment containing
    /// `login`, `signin`, `register`, `signup`, `password`, `reset`, `forgot`, `otp`,
    /// `mfa`, ... or a word from the config's `auth_route_words`) that accepts
    /// POST/PUT/PATCH and is counted by no `strict` limit (its own or an ancestor's).
    ///
    /// An ordinary limit admits up to twice its count in one period (a burst, then one
    /// per interval); credential stuffing and reset-mail flooding want exactly that.
    /// `strict` limits never admit more than COUNT in any window. Write
    /// `limit login: 5 per 15m by ip strict` and `limit login` on the route.
    pub AUTH_ROUTE_WITHOUT_STRICT_LIMIT, "auth-route-without-strict-limit", Warning,
    "a login, registration or password-reset route without a strict limit"
}

declare_lint! {
    /// A limit keyed by the client address (`ip`, `request.ip`) while the policy does
    /// not say which proxies are trusted.
    ///
    /// Behind a load balancer or CDN, the socket peer is the proxy: every client
    /// shares one key and a busy minute locks everyone out. Reading the address from
    /// `X-Forwarded-For` without a trusted-proxy setting is worse: each client picks
    /// its own key. Declare the trusted proxies in the policy (a `proxies` block with a
    /// `trusted:` line) so the engine computes `ip` from the forwarding header they
    /// write, or suppress with the reason when the host passes the real client address.
    pub IP_LIMIT_WITHOUT_TRUSTED_PROXY, "ip-limit-without-trusted-proxy", Warning,
    "a limit keyed by the client address with no trusted-proxy setting"
}

declare_lint! {
    /// A `public` route under a route that requires authentication or a role, with no
    /// limit counting its requests.
    ///
    /// `public` opens a hole in a protected prefix (a webhook, a login, a health
    /// check); anyone can send it requests at any rate, and such endpoints are often
    /// the expensive or sensitive ones. Give it (or an ancestor route) a `limit`.
    pub PUBLIC_ROUTE_WITHOUT_LIMIT, "public-route-without-limit", Warning,
    "a public route inside a protected prefix with no rate limit"
}

const AUTH_WORDS: &[&str] = &[
    "login",
    "logon",
    "signin",
    "sign-in",
    "sign_in",
    "register",
    "signup",
    "sign-up",
    "sign_up",
    "password",
    "passwd",
    "reset",
    "forgot",
    "otp",
    "mfa",
    "2fa",
    "totp",
    "magic-link",
];

pub(crate) fn check(policy: &Policy, config: &Config, out: &mut Vec<Finding>) {
    let limits: HashMap<&str, &LimitDecl> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Limit(l) => Some((l.name.name.as_str(), l)),
            _ => None,
        })
        .collect();
    let routes = walk::routes(policy);
    for route in &routes {
        let writes = route.methods.is_empty()
            || route.methods.iter().any(|m| {
                ["POST", "PUT", "PATCH"]
                    .iter()
                    .any(|w| m.name.eq_ignore_ascii_case(w))
            });
        let public = route.body.iter().find_map(|s| match s {
            RouteStmt::Public(span) => Some(*span),
            _ => None,
        });
        for pattern in &route.patterns {
            let counted = effective_limits(&routes, route, pattern);
            let login_like = pattern.text.split('/').any(|seg| {
                let seg = seg.to_ascii_lowercase();
                AUTH_WORDS.iter().any(|w| seg.contains(w))
                    || config
                        .extra_auth_words
                        .iter()
                        .any(|w| seg.contains(w.as_str()))
            });
            let strict = counted
                .iter()
                .any(|n| limits.get(n).is_some_and(|l| l.strict));
            if writes && login_like && !strict {
                let help = match counted.first() {
                    Some(n) => format!("make `{n}` strict, or add a strict limit: `limit login: 5 per 15m by ip strict`"),
                    None => "add a strict limit: `limit login: 5 per 15m by ip strict` and `limit login` on the route".to_string(),
                };
                out.push(
                    finding(
                        AUTH_ROUTE_WITHOUT_STRICT_LIMIT.id,
                        pattern.span,
                        format!("`{}` looks like a login, registration or password-reset route, and no strict limit counts it", pattern.text),
                    )
                    .with_help(help),
                );
            }
            if let Some(span) = public {
                let protector = ancestors(&routes, route, pattern).into_iter().find(|a| {
                    a.body.iter().any(|s| {
                        matches!(s, RouteStmt::Require(r) if matches!(r.kind, ReqKind::Auth | ReqKind::Role(_)))
                    })
                });
                if let (Some(p), true) = (protector, counted.is_empty()) {
                    let prefix = p.patterns.first().map_or("", |p| p.text.as_str());
                    out.push(
                        finding(
                            PUBLIC_ROUTE_WITHOUT_LIMIT.id,
                            span,
                            format!(
                                "public route `{}` under protected `{prefix}` has no rate limit",
                                pattern.text
                            ),
                        )
                        .with_label("anyone, at any rate")
                        .with_help("add a `limit` to the route or to an ancestor route"),
                    );
                }
            }
        }
    }
    if !trusted_proxies_declared(policy) {
        for l in limits.values() {
            let mut by_ip = false;
            walk::visit(&l.key, &mut |e| {
                by_ip |= matches!(&e.kind, ExprKind::Ip)
                    || matches!(&e.kind, ExprKind::Path(p) if p.root == Root::Request
                        && p.attrs.first().is_some_and(|a| a.name == "ip"));
            });
            if by_ip {
                out.push(
                    finding(
                        IP_LIMIT_WITHOUT_TRUSTED_PROXY.id,
                        head(l.span, 5).to(l.name.span),
                        format!("limit `{}` is keyed by the client address, and the policy names no trusted proxy", l.name.name),
                    )
                    .with_help("behind a proxy every client shares the proxy's address; declare the trusted proxies (`proxies { trusted: \"10.0.0.0/8\" }`), or suppress with where `ip` comes from"),
                );
            }
        }
    }
}

/// Whether the policy says which proxies' forwarding headers to believe: a `proxies`
/// block with a `trusted:` line (the engine then computes `ip` from the header they
/// write). A line under an `if` counts too: the author has decided where `ip` comes
/// from in the environments it names.
fn trusted_proxies_declared(policy: &Policy) -> bool {
    policy.items.iter().any(|item| match item {
        Item::Proxies(p) => p
            .entries
            .iter()
            .any(|e| matches!(&e.value, ProxiesValue::Trusted(ranges) if !ranges.is_empty())),
        _ => false,
    })
}
