//! `auth` blocks: JWT, API-key and Auth.js settings, key references and claim names.

use super::grammar::Rule;
use super::lower::{inner, span_of, Lower};
use crate::ast::*;
use pest::iterators::Pair;

impl<'l> Lower<'l> {
    pub(super) fn auth_decl(&mut self, p: Pair<'_, Rule>) -> Option<AuthDecl> {
        let span = span_of(&p);
        let mut it = inner(p);
        let k = it.next()?;
        let kind = match k.as_str() {
            "jwt" => AuthKind::Jwt,
            "nextauth" => AuthKind::NextAuth,
            _ => AuthKind::ApiKey,
        };
        let kind_span = span_of(&k);
        let mut entries = Vec::new();
        for e in it {
            let espan = span_of(&e);
            let rule = e.as_rule();
            let mut parts = inner(e);
            let value = match rule {
                Rule::auth_from => {
                    let src = parts.next()?;
                    let is_cookie = src.as_rule() == Rule::from_cookie;
                    let name = self.ident(inner(src).next()?);
                    AuthValue::From(if is_cookie {
                        CredSource::Cookie(name)
                    } else {
                        CredSource::Header(name)
                    })
                }
                Rule::auth_algorithms => {
                    AuthValue::Algorithms(parts.map(|i| self.ident(i)).collect())
                }
                Rule::auth_keys => {
                    AuthValue::Keys(parts.map(|k| self.key_ref(k)).collect::<Option<_>>()?)
                }
                Rule::auth_issuer => {
                    AuthValue::Issuer(parts.map(|s| self.auth_text(s)).collect::<Option<_>>()?)
                }
                Rule::auth_audience => {
                    AuthValue::Audience(parts.map(|s| self.auth_text(s)).collect::<Option<_>>()?)
                }
                Rule::auth_leeway => AuthValue::Leeway(self.duration(parts.next()?)?),
                Rule::auth_claim => {
                    let attr = self.ident(parts.next()?);
                    let claims = parts.map(|c| self.claim_name(c)).collect::<Option<_>>()?;
                    AuthValue::Claim { attr, claims }
                }
                Rule::auth_key => {
                    let mut keys = Vec::new();
                    let mut principal = Vec::new();
                    let mut hashes = Vec::new();
                    for x in parts {
                        match x.as_rule() {
                            Rule::key_ref => keys.push(self.key_ref(x)?),
                            Rule::key_hash => {
                                let hspan = span_of(&x);
                                let hex = self.string(inner(x).next()?);
                                hashes.push(KeyHash { hex, span: hspan });
                            }
                            Rule::principal_field => {
                                let fspan = span_of(&x);
                                let mut f = inner(x);
                                let name = self.ident(f.next()?);
                                let value = self.expr(f.next()?)?;
                                principal.push(PrincipalField {
                                    name,
                                    value,
                                    span: fspan,
                                });
                            }
                            _ => {}
                        }
                    }
                    AuthValue::Key {
                        keys,
                        principal,
                        hashes,
                    }
                }
                Rule::auth_max_age => AuthValue::MaxAge(self.duration(parts.next()?)?),
                Rule::auth_require_claim => {
                    let claim = self.claim_name(parts.next()?)?;
                    let value = self.string(parts.next()?);
                    AuthValue::RequireClaim { claim, value }
                }
                Rule::auth_revoked => AuthValue::Revoked(parts.map(|s| self.string(s)).collect()),
                _ => return None,
            };
            entries.push(AuthEntry { value, span: espan });
        }
        Some(AuthDecl {
            kind,
            kind_span,
            entries,
            span,
        })
    }

    pub(super) fn key_ref(&mut self, p: Pair<'_, Rule>) -> Option<KeyRef> {
        let span = span_of(&p);
        let mut it = inner(p);
        let kind = match it.next()?.as_str() {
            "secret" => KeyKind::Secret,
            "public_key" => KeyKind::PublicKey,
            _ => KeyKind::Jwks,
        };
        let name = self.ident(it.next()?);
        let optional = it.next().is_some();
        Some(KeyRef {
            kind,
            name,
            optional,
            span,
        })
    }

    /// `"text"` or `config(NAME)` in an auth line.
    fn auth_text(&mut self, p: Pair<'_, Rule>) -> Option<AuthText> {
        Some(match p.as_rule() {
            Rule::config => AuthText::Config(self.ident(inner(p).next()?)),
            _ => AuthText::Lit(self.string(p)),
        })
    }

    pub(super) fn claim_name(&mut self, p: Pair<'_, Rule>) -> Option<ClaimName> {
        let c = inner(p).next()?;
        Some(if c.as_rule() == Rule::string {
            let s = self.string(c);
            ClaimName {
                name: s.value,
                quoted: true,
                span: s.span,
            }
        } else {
            ClaimName {
                name: c.as_str().to_string(),
                quoted: false,
                span: span_of(&c),
            }
        })
    }
}
