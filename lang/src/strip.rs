//! Structural comparison of syntax trees: zero every span and drop comments, so that two
//! parses of differently laid-out text compare equal exactly when they mean the same.

use crate::ast::*;

/// Zero every span in the tree and drop its comments.
pub fn strip_spans(policy: &mut Policy) {
    ident(&mut policy.name);
    zero(&mut policy.report_only);
    policy.comments.clear();
    for item in &mut policy.items {
        self::item(item);
    }
}

/// A copy of the tree with spans zeroed and comments dropped.
pub fn stripped(policy: &Policy) -> Policy {
    let mut p = policy.clone();
    strip_spans(&mut p);
    p
}

const ZERO: Span = Span::new(0, 0);

/// A marker word's span (`report_only`): kept present or absent, at no place.
fn zero(s: &mut Option<Span>) {
    if let Some(s) = s {
        *s = ZERO;
    }
}

fn ident(i: &mut Ident) {
    i.span = ZERO;
}

fn idents(xs: &mut [Ident]) {
    xs.iter_mut().for_each(ident);
}

fn lit(s: &mut StrLit) {
    s.span = ZERO;
}

fn actions(xs: &mut [ActionPat]) {
    for a in xs {
        a.span = ZERO;
    }
}

fn item(item: &mut Item) {
    match item {
        Item::Role(r) => {
            ident(&mut r.name);
            idents(&mut r.parents);
            r.span = ZERO;
        }
        Item::Grant(g) => {
            idents(&mut g.roles);
            actions(&mut g.actions);
            g.span = ZERO;
        }
        Item::Shape(s) => {
            if let ShapeKind::Resource(name) = &mut s.kind {
                ident(name);
            }
            for a in &mut s.attrs {
                ident(&mut a.name);
                a.span = ZERO;
            }
            s.span = ZERO;
        }
        Item::Rule(r) => {
            actions(&mut r.actions);
            idents(&mut r.on);
            if let Some(c) = &mut r.cond {
                expr(&mut c.expr);
            }
            if let Some(b) = &mut r.because {
                lit(b);
            }
            zero(&mut r.report_only);
            r.span = ZERO;
        }
        Item::Limit(l) => {
            ident(&mut l.name);
            l.per.span = ZERO;
            expr(&mut l.key);
            zero(&mut l.report_only);
            l.span = ZERO;
        }
        Item::Route(r) => {
            idents(&mut r.methods);
            for p in &mut r.patterns {
                p.span = ZERO;
            }
            r.body.iter_mut().for_each(route_stmt);
            r.span = ZERO;
        }
        Item::Cookies(c) => {
            for r in &mut c.rules {
                ident(&mut r.name);
                for a in &mut r.attrs {
                    match &mut a.kind {
                        CookieAttrKind::Path(p) => lit(p),
                        CookieAttrKind::MaxAge(d) => d.span = ZERO,
                        _ => {}
                    }
                    a.span = ZERO;
                }
                r.span = ZERO;
            }
            c.span = ZERO;
        }
        Item::Hosts(h) => {
            h.hosts.iter_mut().for_each(lit);
            h.span = ZERO;
        }
        Item::Headers(h) => {
            for e in &mut h.entries {
                ident(&mut e.name);
                lit(&mut e.value);
                if let Some(c) = &mut e.cond {
                    expr(c);
                }
                e.span = ZERO;
            }
            h.span = ZERO;
        }
        Item::Proxies(p) => {
            for e in &mut p.entries {
                match &mut e.value {
                    ProxiesValue::Trusted(xs) => xs.iter_mut().for_each(lit),
                    ProxiesValue::Hops { span, .. } => *span = ZERO,
                    ProxiesValue::Header(h) => ident(h),
                }
                if let Some(cond) = &mut e.cond {
                    expr(cond);
                }
                e.span = ZERO;
            }
            p.span = ZERO;
        }
        Item::Cors(c) => {
            for e in &mut c.entries {
                match &mut e.value {
                    CorsValue::Origins(xs) => xs.iter_mut().for_each(lit),
                    CorsValue::Methods(xs) | CorsValue::Headers(xs) | CorsValue::Expose(xs) => {
                        idents(xs)
                    }
                    CorsValue::Credentials(_) | CorsValue::RefuseUnlisted(_) => {}
                    CorsValue::MaxAge(d) => d.span = ZERO,
                    CorsValue::OriginsFrom {
                        setting,
                        separator,
                        fallback,
                    } => {
                        ident(setting);
                        lit(separator);
                        fallback.iter_mut().for_each(lit);
                    }
                }
                if let Some(cond) = &mut e.cond {
                    expr(cond);
                }
                e.span = ZERO;
            }
            c.span = ZERO;
        }
        Item::Startup(s) => {
            for c in &mut s.checks {
                expr(&mut c.expr);
                if let Some(cond) = &mut c.cond {
                    expr(cond);
                }
                if let Some(b) = &mut c.because {
                    lit(b);
                }
                c.span = ZERO;
            }
            s.span = ZERO;
        }
        Item::Script(s) => {
            s.source_span = ZERO;
            s.span = ZERO;
        }
        Item::Auth(a) => {
            for e in &mut a.entries {
                auth_value(&mut e.value);
                e.span = ZERO;
            }
            a.kind_span = ZERO;
            a.span = ZERO;
        }
    }
}

fn auth_value(v: &mut AuthValue) {
    let key = |k: &mut KeyRef| {
        k.name.span = ZERO;
        k.span = ZERO;
    };
    match v {
        AuthValue::From(CredSource::Header(n) | CredSource::Cookie(n)) => n.span = ZERO,
        AuthValue::Algorithms(xs) => idents(xs),
        AuthValue::Keys(ks) => ks.iter_mut().for_each(key),
        AuthValue::Issuer(xs) | AuthValue::Audience(xs) => {
            for x in xs {
                match x {
                    AuthText::Lit(s) => lit(s),
                    AuthText::Config(n) => n.span = ZERO,
                }
            }
        }
        AuthValue::Leeway(d) => d.span = ZERO,
        AuthValue::Claim { attr, claims } => {
            attr.span = ZERO;
            claims.iter_mut().for_each(|c| c.span = ZERO);
        }
        AuthValue::Key {
            keys,
            principal,
            hashes,
        } => {
            keys.iter_mut().for_each(key);
            for h in hashes {
                lit(&mut h.hex);
                h.span = ZERO;
            }
            for f in principal {
                f.name.span = ZERO;
                expr(&mut f.value);
                f.span = ZERO;
            }
        }
        AuthValue::MaxAge(d) => d.span = ZERO,
        AuthValue::RequireClaim { claim, value } => {
            claim.span = ZERO;
            lit(value);
        }
        AuthValue::Revoked(xs) => xs.iter_mut().for_each(lit),
    }
}

fn route_stmt(s: &mut RouteStmt) {
    match s {
        RouteStmt::Public(span) => *span = ZERO,
        RouteStmt::Limit(names, span) => {
            idents(names);
            *span = ZERO;
        }
        RouteStmt::HeaderSet { name, value, span } => {
            ident(name);
            lit(value);
            *span = ZERO;
        }
        RouteStmt::HeaderDrop { name, span } => {
            ident(name);
            *span = ZERO;
        }
        RouteStmt::HeaderSetExpr { name, value, span } => {
            ident(name);
            expr(value);
            *span = ZERO;
        }
        RouteStmt::LimitOnly(names, span) => {
            idents(names);
            *span = ZERO;
        }
        RouteStmt::Require(r) => {
            zero(&mut r.report_only);
            match &mut r.kind {
                ReqKind::Auth => {}
                ReqKind::Role(roles) => idents(roles),
                ReqKind::Expr(e) | ReqKind::First(e) => expr(e),
                ReqKind::Signature(sig) => {
                    ident(&mut sig.scheme);
                    ident(&mut sig.header);
                    expr(&mut sig.secret);
                    if let Some(t) = &mut sig.tolerance {
                        t.span = ZERO;
                    }
                }
            }
            match &mut r.otherwise {
                None => {}
                Some(Otherwise::Status(_, span)) => *span = ZERO,
                Some(Otherwise::Redirect { location, span, .. }) => {
                    lit(location);
                    *span = ZERO;
                }
            }
            r.span = ZERO;
        }
    }
}

fn expr(e: &mut Expr) {
    e.span = ZERO;
    match &mut e.kind {
        ExprKind::Str(_)
        | ExprKind::Num(_)
        | ExprKind::Bool(_)
        | ExprKind::Size { .. }
        | ExprKind::Duration { .. }
        | ExprKind::Ip
        | ExprKind::Now
        | ExprKind::Env => {}
        ExprKind::List(items) => items.iter_mut().for_each(expr),
        ExprKind::Path(p) => idents(&mut p.attrs),
        ExprKind::Header(name)
        | ExprKind::Secret { name, .. }
        | ExprKind::Config(name)
        | ExprKind::Cookie(name)
        | ExprKind::RoleName(name) => ident(name),
        ExprKind::Call { func, args } => {
            ident(func);
            args.iter_mut().for_each(expr);
        }
        ExprKind::Not(inner)
        | ExprKind::Len(inner)
        | ExprKind::IsInt(inner)
        | ExprKind::Lower(inner) => expr(inner),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs);
            expr(rhs);
        }
        ExprKind::Matches { expr: inner, regex } => {
            expr(inner);
            lit(regex);
        }
        ExprKind::Is { expr: inner, role } => {
            expr(inner);
            ident(role);
        }
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            expr(cond);
            expr(then);
            expr(otherwise);
        }
        ExprKind::HeaderSafe { text, max } => {
            expr(text);
            expr(max);
        }
        ExprKind::IsIn {
            expr: inner,
            role,
            org,
        } => {
            expr(inner);
            ident(role);
            expr(org);
        }
    }
}
