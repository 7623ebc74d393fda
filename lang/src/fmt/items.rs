//! One-line forms of items and statements: roles, grants, rules, limits, route
//! statements, cookie rules, headers, startup checks, auth and CORS entries.

use super::expr::{expr, string};
use super::layout::{width, INDENT, MAX_WIDTH};
use crate::ast::*;

pub(super) fn join<T>(xs: &[T], f: impl Fn(&T) -> String) -> String {
    xs.iter().map(f).collect::<Vec<_>>().join(", ")
}

pub(super) fn idents(xs: &[Ident]) -> String {
    join(xs, |i| i.name.clone())
}

pub(super) fn actions(xs: &[ActionPat]) -> String {
    join(xs, |a| a.kind.to_string())
}

pub(super) fn role(r: &RoleDecl) -> String {
    if r.parents.is_empty() {
        format!("role {}", r.name.name)
    } else {
        format!("role {} > {}", r.name.name, idents(&r.parents))
    }
}

pub(super) fn grant(g: &GrantDecl) -> String {
    format!("grant {}: {}", idents(&g.roles), actions(&g.actions))
}

pub(super) fn attr(a: &AttrDecl) -> String {
    let opt = if a.optional { "?" } else { "" };
    format!("{}: {}{opt}", a.name.name, a.ty)
}

pub(super) fn rule(r: &Rule) -> String {
    let effect = match r.effect {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    };
    let mut head = format!("{effect} {}", actions(&r.actions));
    if !r.on.is_empty() {
        head.push_str(" on ");
        head.push_str(&idents(&r.on));
    }
    let mut clauses = Vec::new();
    if let Some(c) = &r.cond {
        let kw = match c.kind {
            CondKind::If => "if",
            CondKind::Unless => "unless",
        };
        clauses.push(format!("{kw} {}", expr(&c.expr)));
    }
    if let Some(b) = &r.because {
        clauses.push(format!("because {}", string(&b.value)));
    }
    if let Some(m) = r.missing {
        clauses.push(match m {
            OnMissing::Skip => "missing skip".to_string(),
            OnMissing::Deny => "missing deny".to_string(),
        });
    }
    if r.report_only.is_some() {
        clauses.push("report_only".to_string());
    }
    let one_line = std::iter::once(head.clone())
        .chain(clauses.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if width(&one_line) <= MAX_WIDTH {
        return one_line;
    }
    for c in clauses {
        head.push('\n');
        head.push_str(INDENT);
        head.push_str(&c);
    }
    head
}

pub(super) fn limit(l: &LimitDecl) -> String {
    let strict = if l.strict { " strict" } else { "" };
    let report = if l.report_only.is_some() {
        " report_only"
    } else {
        ""
    };
    format!(
        "limit {}: {} per {} by {}{strict}{report}",
        l.name.name,
        l.count,
        duration(&l.per),
        expr(&l.key)
    )
}

pub(super) fn duration(d: &Duration) -> String {
    format!("{}{}", d.value, d.unit.suffix())
}

pub(super) fn route_stmt(s: &RouteStmt) -> String {
    match s {
        RouteStmt::Public(_) => "public".to_string(),
        RouteStmt::Limit(names, _) => format!("limit {}", idents(names)),
        RouteStmt::HeaderSet { name, value, .. } => {
            format!("header set {}: {}", name.name, string(&value.value))
        }
        RouteStmt::HeaderDrop { name, .. } => format!("header drop {}", name.name),
        RouteStmt::HeaderSetExpr { name, value, .. } => {
            format!("header set {}: {}", name.name, expr(value))
        }
        RouteStmt::LimitOnly(names, _) => format!("limit {} only", idents(names)),
        RouteStmt::Require(r) => {
            let mut s = String::from("require ");
            match &r.kind {
                ReqKind::Auth => s.push_str("auth"),
                ReqKind::Role(roles) => {
                    s.push_str("role ");
                    s.push_str(&idents(roles));
                }
                ReqKind::Signature(sig) => {
                    s.push_str(&format!(
                        "signature {}(header {}, {})",
                        sig.scheme.name,
                        sig.header.name,
                        expr(&sig.secret)
                    ));
                    if let Some(t) = &sig.tolerance {
                        s.push_str(&format!(" tolerance {}", duration(t)));
                    }
                }
                ReqKind::First(e) => {
                    s.push_str("first ");
                    s.push_str(&expr(e));
                }
                ReqKind::Expr(e) => {
                    let text = expr(e);
                    // `require auth ...`, `require role ...` and `require first ...` are
                    // the other forms: a condition that starts with such a bare name
                    // needs parentheses.
                    if ["auth", "role", "first"]
                        .iter()
                        .any(|w| starts_with_word(&text, w))
                    {
                        s.push_str(&format!("({text})"));
                    } else {
                        s.push_str(&text);
                    }
                }
            }
            match &r.otherwise {
                None => {}
                Some(Otherwise::Status(code, _)) => s.push_str(&format!(" else {code}")),
                Some(Otherwise::Redirect {
                    status, location, ..
                }) => {
                    s.push_str(" else redirect ");
                    if let Some(code) = status {
                        s.push_str(&format!("{code} "));
                    }
                    s.push_str(&string(&location.value));
                }
            }
            if r.report_only.is_some() {
                s.push_str(" report_only");
            }
            s
        }
    }
}

pub(super) fn cookie_rule(r: &CookieRule) -> String {
    let attrs = join(&r.attrs, |a| match &a.kind {
        CookieAttrKind::SameSite(s) => format!("same_site {}", s.keyword()),
        CookieAttrKind::Path(p) => format!("path {}", string(&p.value)),
        CookieAttrKind::MaxAge(d) => format!("max_age {}", duration(d)),
        k => k.keyword().to_string(),
    });
    format!("{}: {attrs}", r.name.name)
}

pub(super) fn starts_with_word(text: &str, word: &str) -> bool {
    text.strip_prefix(word).is_some_and(|rest| {
        !rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

pub(super) fn header_entry(e: &HeaderEntry) -> String {
    let mut s = format!("{}: {}", e.name.name, string(&e.value.value));
    if let Some(c) = &e.cond {
        s.push_str(" if ");
        s.push_str(&expr(c));
    }
    s
}

/// Like a rule: one line when it fits (inside the block's indent), else `if` and
/// `because` on lines of their own.
pub(super) fn startup_check(c: &StartupCheck) -> String {
    let mut head = format!("require {}", expr(&c.expr));
    let mut clauses = Vec::new();
    if let Some(cond) = &c.cond {
        clauses.push(format!("if {}", expr(cond)));
    }
    if let Some(b) = &c.because {
        clauses.push(format!("because {}", string(&b.value)));
    }
    let one_line = std::iter::once(head.clone())
        .chain(clauses.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if INDENT.len() + width(&one_line) <= MAX_WIDTH {
        return one_line;
    }
    for c in clauses {
        head.push('\n');
        head.push_str(INDENT);
        head.push_str(INDENT);
        head.push_str(&c);
    }
    head
}

pub(super) fn auth_entry(e: &AuthEntry) -> String {
    let keys = |ks: &[KeyRef]| {
        join(ks, |k| {
            let q = if k.optional { "?" } else { "" };
            format!("{}({}){q}", k.kind.keyword(), k.name.name)
        })
    };
    match &e.value {
        AuthValue::From(CredSource::Header(n)) => format!("from: header {}", n.name),
        AuthValue::From(CredSource::Cookie(n)) => format!("from: cookie {}", n.name),
        AuthValue::Algorithms(xs) => format!("algorithms: {}", idents(xs)),
        AuthValue::Keys(ks) => format!("keys: {}", keys(ks)),
        AuthValue::Issuer(xs) => format!("issuer: {}", join(xs, auth_text)),
        AuthValue::Audience(xs) => format!("audience: {}", join(xs, auth_text)),
        AuthValue::Leeway(d) => format!("leeway: {}", duration(d)),
        AuthValue::Claim { attr, claims } => {
            let names: Vec<String> = claims.iter().map(claim_name).collect();
            format!("principal.{}: {}", attr.name, names.join(" ?? "))
        }
        AuthValue::Key {
            keys: ks,
            principal,
            hashes,
        } => {
            let fields = join(principal, |f| {
                format!("{}: {}", f.name.name, expr(&f.value))
            });
            let mut all: Vec<String> = hashes
                .iter()
                .map(|h| format!("sha256({})", string(&h.hex.value)))
                .collect();
            if !ks.is_empty() {
                all.push(keys(ks));
            }
            let all = all.join(", ");
            if fields.is_empty() {
                format!("key {all} as {{}}")
            } else {
                format!("key {all} as {{ {fields} }}")
            }
        }
        AuthValue::MaxAge(d) => format!("max_age: {}", duration(d)),
        AuthValue::RequireClaim { claim, value } => {
            format!(
                "require_claim {} == {}",
                claim_name(claim),
                string(&value.value)
            )
        }
        AuthValue::Revoked(xs) => format!("revoked: {}", join(xs, |s| string(&s.value))),
    }
}

pub(super) fn auth_text(t: &AuthText) -> String {
    match t {
        AuthText::Lit(s) => string(&s.value),
        AuthText::Config(n) => format!("config({})", n.name),
    }
}

pub(super) fn claim_name(c: &ClaimName) -> String {
    if c.quoted {
        string(&c.name)
    } else {
        c.name.clone()
    }
}

pub(super) fn proxies_entry(e: &ProxiesEntry) -> String {
    let values = match &e.value {
        ProxiesValue::Trusted(xs) => join(xs, |s| string(&s.value)),
        ProxiesValue::Hops { value, .. } => value.to_string(),
        ProxiesValue::Header(h) => h.name.clone(),
    };
    let mut s = format!("{}: {values}", e.value.key());
    if let Some(c) = &e.cond {
        s.push_str(" if ");
        s.push_str(&expr(c));
    }
    s
}

pub(super) fn cors_entry(e: &CorsEntry) -> String {
    let values = match &e.value {
        CorsValue::Origins(xs) => join(xs, |s| string(&s.value)),
        CorsValue::Methods(xs) | CorsValue::Headers(xs) | CorsValue::Expose(xs) => idents(xs),
        CorsValue::Credentials(b) => b.to_string(),
        CorsValue::RefuseUnlisted(None) => "false".into(),
        CorsValue::RefuseUnlisted(Some(403)) => "true".into(),
        CorsValue::RefuseUnlisted(Some(status)) => status.to_string(),
        CorsValue::MaxAge(d) => duration(d),
        CorsValue::OriginsFrom {
            setting,
            separator,
            fallback,
        } => {
            let mut s = format!(
                "split(config({}), {})",
                setting.name,
                string(&separator.value)
            );
            if !fallback.is_empty() {
                s.push_str(" ?? ");
                s.push_str(&join(fallback, |f| string(&f.value)));
            }
            s
        }
    };
    let mut s = format!("{}: {values}", e.value.key());
    if let Some(c) = &e.cond {
        s.push_str(" if ");
        s.push_str(&expr(c));
    }
    s
}

// ---------------------------------------------------------------- expressions
