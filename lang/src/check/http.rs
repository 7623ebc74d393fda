//! HTTP-side declarations: limits, routes (patterns, methods, requirements), headers, cors.

use super::checker::Checker;
use super::patterns::{pattern_error, pattern_shape, valid_host, valid_origin};
use super::types::{Scope, Ty};
use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use std::collections::HashMap;

/// Webhook signature schemes `require signature` knows.
pub(crate) const SIGNATURE_SCHEMES: &[&str] = &["stripe"];

/// Methods a route may name.
pub(crate) const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl Checker<'_> {
    pub(crate) fn limit(&mut self, l: &LimitDecl) {
        if l.count == 0 {
            self.diags.push(
                Diagnostic::error(
                    "invalid-limit",
                    l.name.span,
                    format!("limit `{}` admits no request", l.name.name),
                )
                .with_help("a limit needs a count of at least 1; to block a route, use `require`"),
            );
        }
        if l.per.millis() == 0 {
            self.diags.push(
                Diagnostic::error(
                    "invalid-limit",
                    l.per.span,
                    "a limit's window must be longer than zero",
                )
                .with_help("write a duration such as `1m`"),
            );
        }
        if let Some(t) = self.expr(&l.key, &Scope::LimitKey) {
            if !matches!(t, Ty::Str | Ty::Num | Ty::Any) {
                self.diags.push(
                    Diagnostic::error("invalid-limit", l.key.span, format!("a limit key must be a string or number, but this is {t}"))
                        .with_help("key by `ip`, `principal.id`, `header NAME` or `input.FIELD`, with `??` fallbacks"),
                );
            }
        }
    }

    pub(crate) fn route(&mut self, r: &RouteDecl) {
        let mut seen_methods: Vec<&str> = Vec::new();
        for m in &r.methods {
            if !METHODS.contains(&m.name.as_str()) {
                let help = did_you_mean(&m.name, METHODS.iter().copied())
                    .unwrap_or_else(|| format!("methods are {}", METHODS.join(", ")));
                self.diags.push(
                    Diagnostic::error(
                        "unknown-method",
                        m.span,
                        format!("unknown HTTP method `{}`", m.name),
                    )
                    .with_help(help),
                );
            } else if seen_methods.contains(&m.name.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate",
                        m.span,
                        format!("method `{}` is listed twice", m.name),
                    )
                    .with_help("remove the repeated method"),
                );
            }
            seen_methods.push(&m.name);
        }
        let mut seen_patterns: Vec<String> = Vec::new();
        for p in &r.patterns {
            if let Some(d) = pattern_error(p) {
                self.diags.push(d);
                continue;
            }
            let shape = pattern_shape(&p.text);
            if seen_patterns.contains(&shape) {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate",
                        p.span,
                        format!("pattern `{}` is listed twice", p.text),
                    )
                    .with_help("remove the repeated pattern"),
                );
            }
            seen_patterns.push(shape);
        }
        let mut public: Option<Span> = None;
        let mut header_ops: HashMap<String, Span> = HashMap::new();
        for stmt in &r.body {
            match stmt {
                RouteStmt::Public(s) => {
                    if public.is_some() {
                        self.diags.push(
                            Diagnostic::warning("duplicate", *s, "`public` is written twice")
                                .with_help("remove one"),
                        );
                    }
                    public = Some(*s);
                }
                RouteStmt::Require(req) => self.requirement(req),
                RouteStmt::Limit(names, _) | RouteStmt::LimitOnly(names, _) => {
                    for n in names {
                        if !self.syms.limits.contains_key(&n.name) {
                            let help =
                                did_you_mean(&n.name, self.syms.limits.keys().map(String::as_str))
                                    .unwrap_or_else(|| {
                                        format!(
                                            "declare it with `limit {}: N per DURATION by KEY`",
                                            n.name
                                        )
                                    });
                            self.diags.push(
                                Diagnostic::error(
                                    "unknown-limit",
                                    n.span,
                                    format!("unknown limit `{}`", n.name),
                                )
                                .with_label("not declared")
                                .with_help(help),
                            );
                        }
                    }
                }
                RouteStmt::HeaderSet { name, value, .. } => {
                    self.header_value(value);
                    self.header_op(&mut header_ops, name);
                }
                RouteStmt::HeaderDrop { name, .. } => self.header_op(&mut header_ops, name),
                RouteStmt::HeaderSetExpr { name, value, .. } => {
                    self.header_expr(value);
                    self.header_op(&mut header_ops, name);
                }
            }
        }
    }

    fn header_op(&mut self, seen: &mut HashMap<String, Span>, name: &Ident) {
        let key = name.name.to_ascii_lowercase();
        if seen.insert(key, name.span).is_some() {
            self.diags.push(
                Diagnostic::error(
                    "conflicting-headers",
                    name.span,
                    format!(
                        "header `{}` is set or dropped twice in this route",
                        name.name
                    ),
                )
                .with_help("keep one `header set` or `header drop` per header"),
            );
        }
    }

    fn requirement(&mut self, req: &Requirement) {
        match &req.kind {
            ReqKind::Auth => {}
            ReqKind::Role(roles) => {
                for r in roles {
                    self.role_exists(r);
                }
            }
            ReqKind::Expr(e) => self.expect_bool(e, &Scope::Route),
            ReqKind::First(e) => self.expect_bool(e, &Scope::RouteFirst),
            ReqKind::Signature(sig) => self.signature(sig),
        }
        match &req.otherwise {
            Some(Otherwise::Status(code, span)) if !(400..=599).contains(code) => {
                self.diags.push(
                    Diagnostic::error(
                        "invalid-status",
                        *span,
                        format!("a failed requirement answers an error status, not `{code}`"),
                    )
                    .with_help("use a 4xx or 5xx status, or `else redirect \"/path\"`"),
                );
            }
            Some(Otherwise::Redirect {
                status,
                location,
                span,
            }) => {
                if let Some(code) = status {
                    if ![301, 302, 303, 307, 308].contains(code) {
                        self.diags.push(
                            Diagnostic::error(
                                "invalid-status",
                                *span,
                                format!("`{code}` is not a redirect status"),
                            )
                            .with_help("use 301, 302, 303, 307 or 308"),
                        );
                    }
                }
                self.location(location);
            }
            _ => {}
        }
    }

    fn location(&mut self, loc: &StrLit) {
        let v = &loc.value;
        if !(v.starts_with('/')
            || v.starts_with("https://")
            || v.starts_with("http://")
            || v.starts_with("{target}"))
            || v.starts_with("//")
        {
            self.diags.push(
                Diagnostic::error(
                    "invalid-redirect",
                    loc.span,
                    format!("redirect location `{v}` must be a path or an http(s) URL"),
                )
                .with_help("write a path such as \"/login\""),
            );
            return;
        }
        let mut rest = v.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let name = after.split('}').next().unwrap_or("");
            if !matches!(name, "path" | "host" | "target") || !after.contains('}') {
                self.diags.push(
                    Diagnostic::error("invalid-redirect", loc.span, format!("unknown placeholder `{{{name}}}` in redirect location"))
                        .with_help("placeholders are `{path}` (the path and query as one URL component), `{target}` (the path and query) and `{host}` (a listed host)"),
                );
                return;
            }
            rest = &after[name.len() + 1..];
        }
        self.location_host_target(loc);
    }

    /// `{host}` only right after `http(s)://` and with `hosts:` declared; `{target}` only
    /// at the start or right after an origin, and last: anywhere else the request's
    /// path could become a host name or a second query.
    fn location_host_target(&mut self, loc: &StrLit) {
        let v = loc.value.as_str();
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"));
        let scheme_end = rest.map(|r| v.len() - r.len());
        // Where the origin (`scheme://host[:port]` or `scheme://{host}`) ends.
        let origin_end = rest
            .zip(scheme_end)
            .map(|(r, s)| match r.strip_prefix("{host}") {
                Some(_) => s + "{host}".len(),
                None => s + r.find(['/', '?', '{']).unwrap_or(r.len()),
            });
        let host_at = v.find("{host}");
        if let Some(at) = host_at {
            let next = v.get(at + "{host}".len()..).unwrap_or("");
            let well_placed = Some(at) == scheme_end
                && v.matches("{host}").count() == 1
                && (next.is_empty() || next.starts_with(['/', '?']) || next == "{target}");
            if !well_placed {
                self.diags.push(
                    Diagnostic::error(
                        "invalid-redirect",
                        loc.span,
                        "`{host}` may only follow `https://` or `http://`, as the whole host",
                    )
                    .with_help("write \"https://{host}{target}\" or \"https://{host}/login\""),
                );
                return;
            }
            if !self.syms.hosts {
                self.diags.push(
                    Diagnostic::error("host-without-hosts", loc.span, "`{host}` needs the hosts the policy answers for")
                        .with_help("declare them, e.g. `hosts: \"myapp.com\", \"admin.myapp.com\"`; any other `Host` is answered 400"),
                );
            }
        }
        if let Some(at) = v.find("{target}") {
            let origin_ok = match origin_end {
                Some(end) if end == at => {
                    let origin = v.get(..at).unwrap_or("");
                    host_at.is_some() || valid_origin(origin)
                }
                _ => false,
            };
            if !(at == 0 || origin_ok) || at + "{target}".len() != v.len() {
                self.diags.push(
                    Diagnostic::error("invalid-redirect", loc.span, "`{target}` must start the location or follow its origin, and end it")
                        .with_help("write \"{target}\" or \"https://myapp.com{target}\"; inside a query, use `{path}`"),
                );
            }
        }
    }

    fn signature(&mut self, sig: &SignatureReq) {
        if !SIGNATURE_SCHEMES.contains(&sig.scheme.name.as_str()) {
            let help = did_you_mean(&sig.scheme.name, SIGNATURE_SCHEMES.iter().copied())
                .unwrap_or_else(|| format!("schemes are {}", SIGNATURE_SCHEMES.join(", ")));
            self.diags.push(
                Diagnostic::error(
                    "unknown-signature-scheme",
                    sig.scheme.span,
                    format!("unknown signature scheme `{}`", sig.scheme.name),
                )
                .with_help(help),
            );
        }
        // The grammar admits only `secret(NAME)` here; this checks the name.
        self.expr(&sig.secret, &Scope::Route);
        if let Some(t) = &sig.tolerance {
            if t.millis() < 1000 {
                self.diags.push(
                    Diagnostic::error(
                        "invalid-signature",
                        t.span,
                        "a signature tolerance must be at least one second",
                    )
                    .with_help("signed timestamps have whole seconds; Stripe's default is `5m`"),
                );
            }
        }
    }

    pub(crate) fn cookies(&mut self, c: &CookiesDecl) {
        let mut names: HashMap<&str, Span> = HashMap::new();
        for r in &c.rules {
            if names.insert(r.name.name.as_str(), r.name.span).is_some() {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate",
                        r.name.span,
                        format!("cookie `{}` has two rules", r.name.name),
                    )
                    .with_help("put every attribute of the cookie on one line"),
                );
            }
            let mut seen: Vec<&str> = Vec::new();
            let mut secure = false;
            for a in &r.attrs {
                let key = a.kind.keyword();
                if seen.contains(&key) {
                    self.diags.push(
                        Diagnostic::error(
                            "duplicate",
                            a.span,
                            format!("`{key}` is given twice for cookie `{}`", r.name.name),
                        )
                        .with_help("keep one"),
                    );
                }
                seen.push(key);
                match &a.kind {
                    CookieAttrKind::Secure => secure = true,
                    CookieAttrKind::Path(p)
                        if !p.value.starts_with('/')
                            || p.value.chars().any(|c| c == ';' || c.is_control()) =>
                    {
                        self.diags.push(
                            Diagnostic::error("invalid-cookie", p.span, format!("`{}` is not a cookie path", p.value))
                                .with_help("a path starts with `/` and has no `;` or control character, e.g. \"/api/auth/refresh\""),
                        );
                    }
                    _ => {}
                }
            }
            let none = r
                .attrs
                .iter()
                .find(|a| a.kind == CookieAttrKind::SameSite(SameSite::None));
            if let (Some(a), false) = (none, secure) {
                self.diags.push(
                    Diagnostic::error(
                        "insecure-cookie",
                        a.span,
                        format!(
                            "cookie `{}` is `same_site none` without `secure`",
                            r.name.name
                        ),
                    )
                    .with_help("browsers reject `SameSite=None` without `Secure`: add `secure`"),
                );
            }
        }
    }

    pub(crate) fn hosts(&mut self, h: &HostsDecl) {
        for s in &h.hosts {
            if !valid_host(&s.value) {
                self.diags.push(
                    Diagnostic::error("invalid-host", s.span, format!("`{}` is not a host name", s.value))
                        .with_help("write a DNS name or IPv4 address with an optional port, such as \"myapp.com\" or \"myapp.com:8443\", without scheme or path"),
                );
            }
        }
    }

    fn header_value(&mut self, value: &StrLit) {
        if value
            .value
            .chars()
            .any(|c| c == '\r' || c == '\n' || c == '\0')
        {
            self.diags.push(
                Diagnostic::error(
                    "invalid-header",
                    value.span,
                    "a header value cannot contain line breaks or NUL",
                )
                .with_help("put the value on one line"),
            );
        }
    }

    /// `header set NAME: EXPR`: a string per request, from what a route may read.
    fn header_expr(&mut self, value: &Expr) {
        if let Some(t) = self.expr(value, &Scope::Route) {
            if !matches!(t, Ty::Str | Ty::Any) {
                self.diags.push(
                    Diagnostic::error(
                        "type-mismatch",
                        value.span,
                        format!("a header value must be a string, but this is {t}"),
                    )
                    .with_help(
                        "build the value from strings, e.g. with `+` and `header_safe(...)`",
                    ),
                );
            }
        }
    }

    pub(crate) fn headers(&mut self, h: &HeadersDecl) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for e in &h.entries {
            self.header_value(&e.value);
            if let Some(c) = &e.cond {
                self.expect_bool(c, &Scope::Load);
            } else if seen
                .insert(e.name.name.to_ascii_lowercase(), e.name.span)
                .is_some()
            {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate",
                        e.name.span,
                        format!("header `{}` is declared twice", e.name.name),
                    )
                    .with_help("keep one value, or make the lines conditional with `if env ...`"),
                );
            }
        }
    }

    pub(crate) fn cors(&mut self, c: &CorsDecl) {
        let mut wildcard: Option<Span> = None;
        let mut credentials: Option<Span> = None;
        let mut singles: HashMap<&str, Span> = HashMap::new();
        for e in &c.entries {
            if let Some(cond) = &e.cond {
                self.expect_bool(cond, &Scope::Load);
            }
            match &e.value {
                CorsValue::Origins(list) => {
                    for o in list {
                        if o.value == "*" {
                            wildcard = Some(o.span);
                        } else if !valid_origin(&o.value) {
                            self.diags.push(
                                Diagnostic::error("invalid-origin", o.span, format!("`{}` is not an origin", o.value))
                                    .with_help("an origin is `scheme://host[:port]`, without a path or trailing slash, or \"*\""),
                            );
                        }
                    }
                }
                CorsValue::Methods(ms) => {
                    for m in ms {
                        if !METHODS.contains(&m.name.as_str()) {
                            self.diags.push(
                                Diagnostic::error(
                                    "unknown-method",
                                    m.span,
                                    format!("unknown HTTP method `{}`", m.name),
                                )
                                .with_help(format!("methods are {}", METHODS.join(", "))),
                            );
                        }
                    }
                }
                CorsValue::OriginsFrom {
                    setting,
                    separator,
                    fallback,
                } => {
                    let read = Expr {
                        kind: ExprKind::Config(setting.clone()),
                        span: setting.span,
                    };
                    self.expr(&read, &Scope::Load);
                    if separator.value.is_empty() {
                        self.diags.push(
                            Diagnostic::error(
                                "invalid-separator",
                                separator.span,
                                "the separator of `split` cannot be empty",
                            )
                            .with_help("origins are usually separated by `\",\"`"),
                        );
                    }
                    for o in fallback {
                        if o.value == "*" {
                            wildcard = Some(o.span);
                        } else if !valid_origin(&o.value) {
                            self.diags.push(
                                Diagnostic::error("invalid-origin", o.span, format!("`{}` is not an origin", o.value))
                                    .with_help("an origin is `scheme://host[:port]`, without a path or trailing slash, or \"*\""),
                            );
                        }
                    }
                }
                CorsValue::Credentials(true) => credentials = Some(e.span),
                CorsValue::RefuseUnlisted(Some(code)) if !(400..=599).contains(code) => {
                    self.diags.push(
                        Diagnostic::error(
                            "invalid-status",
                            e.span,
                            format!("a refused origin is answered an error status, not `{code}`"),
                        )
                        .with_help("use a 4xx or 5xx status, or `true` (403)"),
                    );
                }
                _ => {}
            }
            let single = matches!(
                e.value,
                CorsValue::Credentials(_) | CorsValue::MaxAge(_) | CorsValue::RefuseUnlisted(_)
            );
            if single && e.cond.is_none() && singles.insert(e.value.key(), e.span).is_some() {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate",
                        e.span,
                        format!("`{}` is set twice", e.value.key()),
                    )
                    .with_help("keep one, or make one conditional with `if env ...`"),
                );
            }
        }
        if let (Some(w), Some(_)) = (wildcard, credentials) {
            self.diags.push(
                Diagnostic::error("cors-wildcard-credentials", w, "origin `\"*\"` cannot be combined with `credentials: true`")
                    .with_label("any origin")
                    .with_help("browsers reject it, and echoing any origin with credentials exposes every user; list the allowed origins"),
            );
        }
    }
}
