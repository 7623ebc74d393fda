//! The HTTP items: limits, routes and their statements (requirements, signatures,
//! `else`), cookies, security headers and CORS.

use super::grammar::Rule;
use super::lower::{inner, span_of, Lower};
use crate::ast::*;
use crate::diag::Diagnostic;
use pest::iterators::Pair;

impl<'l> Lower<'l> {
    pub(super) fn limit_decl(&mut self, p: Pair<'_, Rule>) -> Option<LimitDecl> {
        let span = span_of(&p);
        let mut name = None;
        let mut count = None;
        let mut per = None;
        let mut key = None;
        let mut strict = false;
        let mut report_only = None;
        for c in inner(p) {
            match c.as_rule() {
                Rule::ident => name = Some(self.ident(c)),
                Rule::integer => count = self.integer(c),
                Rule::duration => per = self.duration(c),
                Rule::expr => key = self.expr(c),
                Rule::strict => strict = true,
                Rule::report_only => report_only = Some(span_of(&c)),
                _ => {}
            }
        }
        Some(LimitDecl {
            name: name?,
            count: count?,
            per: per?,
            key: key?,
            strict,
            report_only,
            span,
        })
    }

    pub(super) fn route_decl(&mut self, p: Pair<'_, Rule>) -> Option<RouteDecl> {
        let span = span_of(&p);
        let mut methods = Vec::new();
        let mut patterns = Vec::new();
        let mut body = Vec::new();
        let mut ok = true;
        for c in inner(p) {
            match c.as_rule() {
                Rule::method_list => methods = self.ident_list(c),
                Rule::route_pattern => patterns.push(RoutePattern {
                    text: c.as_str().to_string(),
                    span: span_of(&c),
                }),
                _ => match self.route_stmt(c) {
                    Some(s) => body.push(s),
                    None => ok = false,
                },
            }
        }
        ok.then_some(RouteDecl {
            methods,
            patterns,
            body,
            span,
        })
    }

    pub(super) fn route_stmt(&mut self, p: Pair<'_, Rule>) -> Option<RouteStmt> {
        let span = span_of(&p);
        Some(match p.as_rule() {
            Rule::public_stmt => RouteStmt::Public(span),
            Rule::require_stmt => {
                let mut kind = None;
                let mut otherwise = None;
                let mut report_only = None;
                for c in inner(p) {
                    match c.as_rule() {
                        Rule::req_auth => kind = Some(ReqKind::Auth),
                        Rule::req_role => {
                            let roles = inner(c).next().map(|l| self.ident_list(l));
                            kind = Some(ReqKind::Role(roles.unwrap_or_default()));
                        }
                        Rule::expr => kind = Some(ReqKind::Expr(self.expr(c)?)),
                        Rule::req_signature => {
                            kind = Some(ReqKind::Signature(self.signature(c)?));
                        }
                        Rule::req_first => {
                            let e = inner(c).find(|x| x.as_rule() == Rule::expr)?;
                            kind = Some(ReqKind::First(self.expr(e)?));
                        }
                        Rule::otherwise => otherwise = Some(self.otherwise(c)?),
                        Rule::report_only => report_only = Some(span_of(&c)),
                        _ => {}
                    }
                }
                RouteStmt::Require(Requirement {
                    kind: kind?,
                    otherwise,
                    report_only,
                    span,
                })
            }
            Rule::limit_ref => {
                let only = inner(p.clone()).any(|c| c.as_rule() == Rule::limit_only);
                let names = inner(p).next().map(|l| self.ident_list(l));
                if only {
                    RouteStmt::LimitOnly(names.unwrap_or_default(), span)
                } else {
                    RouteStmt::Limit(names.unwrap_or_default(), span)
                }
            }
            Rule::header_set => {
                let mut it = inner(p);
                let name = it.next().map(|n| self.ident(n))?;
                let value = self.expr(it.next()?)?;
                // A lone string literal is a value fixed at load; anything else is
                // evaluated per request.
                match value.kind {
                    ExprKind::Str(text) => RouteStmt::HeaderSet {
                        name,
                        value: StrLit {
                            value: text,
                            span: value.span,
                        },
                        span,
                    },
                    _ => RouteStmt::HeaderSetExpr { name, value, span },
                }
            }
            Rule::header_drop => {
                let name = inner(p).next().map(|n| self.ident(n))?;
                RouteStmt::HeaderDrop { name, span }
            }
            _ => return None,
        })
    }

    pub(super) fn cookies_decl(&mut self, p: Pair<'_, Rule>) -> Option<CookiesDecl> {
        let span = span_of(&p);
        let mut rules = Vec::new();
        for r in inner(p) {
            let rspan = span_of(&r);
            let mut it = inner(r);
            let name = self.ident(it.next()?);
            let mut attrs = Vec::new();
            for a in it {
                let aspan = span_of(&a);
                let a = inner(a).next()?;
                let kind = match a.as_rule() {
                    Rule::ca_http_only => CookieAttrKind::HttpOnly,
                    Rule::ca_secure => CookieAttrKind::Secure,
                    Rule::ca_same_site => {
                        CookieAttrKind::SameSite(match inner(a).next()?.as_str() {
                            "strict" => SameSite::Strict,
                            "lax" => SameSite::Lax,
                            _ => SameSite::None,
                        })
                    }
                    Rule::ca_path => CookieAttrKind::Path(self.string(inner(a).next()?)),
                    Rule::ca_max_age => CookieAttrKind::MaxAge(self.duration(inner(a).next()?)?),
                    _ => return None,
                };
                attrs.push(CookieAttr { kind, span: aspan });
            }
            rules.push(CookieRule {
                name,
                attrs,
                span: rspan,
            });
        }
        Some(CookiesDecl { rules, span })
    }

    pub(super) fn signature(&mut self, p: Pair<'_, Rule>) -> Option<SignatureReq> {
        let mut it = inner(p);
        let scheme = self.ident(it.next()?);
        let header = self.ident(inner(it.next()?).next()?);
        let secret = self.primary(it.next()?)?;
        let tolerance = match it.next() {
            Some(d) => Some(self.duration(d)?),
            None => None,
        };
        Some(SignatureReq {
            scheme,
            header,
            secret,
            tolerance,
        })
    }

    pub(super) fn otherwise(&mut self, p: Pair<'_, Rule>) -> Option<Otherwise> {
        let c = inner(p).next()?;
        let span = span_of(&c);
        match c.as_rule() {
            Rule::status => Some(Otherwise::Status(self.status(c)?, span)),
            Rule::redirect => {
                let mut status = None;
                let mut location = None;
                for r in inner(c) {
                    match r.as_rule() {
                        Rule::status => status = Some(self.status(r)?),
                        Rule::string => location = Some(self.string(r)),
                        _ => {}
                    }
                }
                Some(Otherwise::Redirect {
                    status,
                    location: location?,
                    span,
                })
            }
            _ => None,
        }
    }

    pub(super) fn status(&mut self, p: Pair<'_, Rule>) -> Option<u16> {
        let v: u16 = p.as_str().parse().ok()?;
        if (100..=599).contains(&v) {
            Some(v)
        } else {
            self.diags.push(
                Diagnostic::error(
                    "invalid-status",
                    span_of(&p),
                    format!("`{v}` is not an HTTP status"),
                )
                .with_help("use a status between 100 and 599, e.g. `403`"),
            );
            None
        }
    }

    pub(super) fn headers_decl(&mut self, p: Pair<'_, Rule>) -> Option<HeadersDecl> {
        let span = span_of(&p);
        let mut entries = Vec::new();
        for e in inner(p) {
            let espan = span_of(&e);
            let mut it = inner(e);
            let name = it.next().map(|n| self.ident(n))?;
            let value = it.next().map(|s| self.string(s))?;
            let cond = match it.next() {
                Some(c) => Some(self.expr(c)?),
                None => None,
            };
            entries.push(HeaderEntry {
                name,
                value,
                cond,
                span: espan,
            });
        }
        Some(HeadersDecl { entries, span })
    }

    pub(super) fn cors_decl(&mut self, p: Pair<'_, Rule>) -> Option<CorsDecl> {
        let span = span_of(&p);
        let mut entries = Vec::new();
        for e in inner(p) {
            let espan = span_of(&e);
            let mut it = inner(e);
            let v = it.next()?;
            let value = match v.as_rule() {
                Rule::cors_origins => match inner(v.clone()).next() {
                    Some(split) if split.as_rule() == Rule::origins_split => {
                        let mut it = inner(split);
                        let setting = self.ident(inner(it.next()?).next()?);
                        let separator = self.string(it.next()?);
                        let fallback = it.map(|s| self.string(s)).collect();
                        CorsValue::OriginsFrom {
                            setting,
                            separator,
                            fallback,
                        }
                    }
                    _ => CorsValue::Origins(inner(v).map(|s| self.string(s)).collect()),
                },
                Rule::cors_methods => CorsValue::Methods(inner(v).map(|s| self.ident(s)).collect()),
                Rule::cors_headers => CorsValue::Headers(inner(v).map(|s| self.ident(s)).collect()),
                Rule::cors_expose => CorsValue::Expose(inner(v).map(|s| self.ident(s)).collect()),
                Rule::cors_credentials => {
                    CorsValue::Credentials(inner(v).next().is_some_and(|b| b.as_str() == "true"))
                }
                Rule::cors_max_age => CorsValue::MaxAge(self.duration(inner(v).next()?)?),
                Rule::cors_refuse_unlisted => CorsValue::RefuseUnlisted(match inner(v).next() {
                    Some(s) if s.as_rule() == Rule::status => Some(self.status(s)?),
                    Some(b) if b.as_str() == "true" => Some(403),
                    _ => None,
                }),
                _ => return None,
            };
            let cond = match it.next() {
                Some(c) => Some(self.expr(c)?),
                None => None,
            };
            entries.push(CorsEntry {
                value,
                cond,
                span: espan,
            });
        }
        Some(CorsDecl { entries, span })
    }

    pub(super) fn proxies_decl(&mut self, p: Pair<'_, Rule>) -> Option<ProxiesDecl> {
        let span = span_of(&p);
        let mut entries = Vec::new();
        for e in inner(p) {
            let espan = span_of(&e);
            let mut it = inner(e);
            let v = it.next()?;
            let value = match v.as_rule() {
                Rule::proxies_trusted => {
                    ProxiesValue::Trusted(inner(v).map(|s| self.string(s)).collect())
                }
                Rule::proxies_hops => {
                    let n = inner(v).next()?;
                    let span = span_of(&n);
                    ProxiesValue::Hops {
                        value: self.integer(n)?,
                        span,
                    }
                }
                Rule::proxies_header => ProxiesValue::Header(self.ident(inner(v).next()?)),
                _ => return None,
            };
            let cond = match it.next() {
                Some(c) => Some(self.expr(c)?),
                None => None,
            };
            entries.push(ProxiesEntry {
                value,
                cond,
                span: espan,
            });
        }
        Some(ProxiesDecl { entries, span })
    }
}
