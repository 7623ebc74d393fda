//! The `auth` blocks: which settings each mechanism takes, algorithms against key kinds
//! (never `none`, never an HMAC algorithm with a public key), claim mappings and API-key
//! principals against the `principal { ... }` shape.

use super::checker::Checker;
use super::types::Scope;
use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use std::collections::HashMap;

/// Every algorithm a `jwt` block may list, with the key kind that verifies it.
const ALGORITHMS: &[(&str, KeyFamily)] = &[
    ("HS256", KeyFamily::Hmac),
    ("HS384", KeyFamily::Hmac),
    ("HS512", KeyFamily::Hmac),
    ("RS256", KeyFamily::Public),
    ("RS384", KeyFamily::Public),
    ("RS512", KeyFamily::Public),
    ("PS256", KeyFamily::Public),
    ("PS384", KeyFamily::Public),
    ("PS512", KeyFamily::Public),
    ("ES256", KeyFamily::Public),
    ("ES384", KeyFamily::Public),
    ("EdDSA", KeyFamily::Public),
];

/// Shared secrets verify HMAC algorithms; public keys (PEM or JWKS) the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFamily {
    Hmac,
    Public,
}

impl KeyKind {
    fn family(self) -> KeyFamily {
        match self {
            KeyKind::Secret => KeyFamily::Hmac,
            KeyKind::PublicKey | KeyKind::Jwks => KeyFamily::Public,
        }
    }
}

/// The family of a listed algorithm; `None` for an unknown name.
fn algorithm_family(name: &str) -> Option<KeyFamily> {
    ALGORITHMS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

impl Checker<'_> {
    pub(crate) fn auth(&mut self, a: &AuthDecl) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut algorithms: Vec<&Ident> = Vec::new();
        let mut keys: Vec<&KeyRef> = Vec::new();
        let mut has_keys = false;
        for e in &a.entries {
            let allowed = match (&e.value, a.kind) {
                (AuthValue::From(_), _) => true,
                (AuthValue::Key { .. } | AuthValue::Revoked(_), kind) => kind == AuthKind::ApiKey,
                (
                    AuthValue::Keys(_)
                    | AuthValue::Leeway(_)
                    | AuthValue::Claim { .. }
                    | AuthValue::MaxAge(_)
                    | AuthValue::RequireClaim { .. },
                    AuthKind::NextAuth,
                ) => true,
                (_, kind) => kind == AuthKind::Jwt,
            };
            if !allowed {
                let help = match a.kind {
                    AuthKind::Jwt => "a `jwt` block takes `from`, `algorithms`, `keys`, `issuer`, `audience`, `leeway`, `max_age`, `require_claim` and `principal.ATTR: claim` lines",
                    AuthKind::ApiKey => "an `api_key` block takes `from`, `key ... as { ... }` and `revoked` lines",
                    AuthKind::NextAuth => "a `nextauth` block takes `from: cookie NAME`, `keys`, `leeway`, `max_age`, `require_claim` and `principal.ATTR: claim` lines; the algorithms are Auth.js's own",
                };
                self.diags.push(
                    Diagnostic::error(
                        "auth-entry-not-allowed",
                        e.span,
                        format!(
                            "`{}` does not belong in an `auth {}` block",
                            e.value.key(),
                            a.kind.keyword()
                        ),
                    )
                    .with_help(help),
                );
                continue;
            }
            let dup_key = match &e.value {
                AuthValue::Key { .. } => None,
                AuthValue::Claim { attr, .. } => Some(format!("principal.{}", attr.name)),
                AuthValue::RequireClaim { claim, .. } => {
                    Some(format!("require_claim {}", claim.name))
                }
                v => Some(v.key().to_string()),
            };
            if let Some(k) = dup_key {
                if seen.contains_key(&k) {
                    self.diags.push(
                        Diagnostic::error(
                            "duplicate-auth-entry",
                            e.span,
                            format!("`{k}` is set twice in this `auth` block"),
                        )
                        .with_help("keep one line; list several values on it, separated by commas"),
                    );
                    continue;
                }
                seen.insert(k, e.span);
            }
            match &e.value {
                AuthValue::From(src) => {
                    if a.kind == AuthKind::NextAuth {
                        self.session_cookie_source(src, e.span);
                    }
                }
                AuthValue::Algorithms(xs) => {
                    for x in xs {
                        if self.algorithm(x) {
                            algorithms.push(x);
                        }
                    }
                }
                AuthValue::Keys(ks) => {
                    has_keys = true;
                    for k in ks {
                        if a.kind == AuthKind::NextAuth && k.kind != KeyKind::Secret {
                            self.session_key_kind(k);
                        } else if self.key_name(k) {
                            keys.push(k);
                        }
                    }
                }
                AuthValue::Issuer(xs) | AuthValue::Audience(xs) => {
                    for x in xs {
                        if let AuthText::Config(name) = x {
                            // The same name rules as `config(NAME)` in expressions.
                            let e = Expr {
                                kind: ExprKind::Config(name.clone()),
                                span: name.span,
                            };
                            self.expr(&e, &Scope::Load);
                        }
                    }
                }
                AuthValue::Leeway(_) => {}
                AuthValue::Claim { attr, .. } => {
                    self.principal_attr(attr);
                }
                AuthValue::MaxAge(d) => self.max_age(d),
                AuthValue::Revoked(ids) => self.revoked_ids(a, ids),
                AuthValue::RequireClaim { .. } => {}
                AuthValue::Key {
                    keys: ks,
                    principal,
                    hashes,
                } => {
                    has_keys = true;
                    hashes.iter().for_each(|h| self.key_hash(h));
                    for k in ks {
                        if k.kind != KeyKind::Secret {
                            self.diags.push(
                                Diagnostic::error(
                                    "key-algorithm-mismatch",
                                    k.span,
                                    format!(
                                        "an API key is compared with a shared secret, not a `{}`",
                                        k.kind.keyword()
                                    ),
                                )
                                .with_help("write `secret(NAME)`"),
                            );
                        } else {
                            self.key_name(k);
                        }
                    }
                    self.api_key_principal(e.span, principal);
                }
            }
        }
        if !has_keys {
            let what = match a.kind {
                AuthKind::Jwt => "a `keys: secret(NAME)` line",
                AuthKind::NextAuth => "a `keys: secret(AUTH_SECRET)` line",
                AuthKind::ApiKey => "a `key secret(NAME) as { id: \"...\" }` line",
            };
            self.diags.push(
                Diagnostic::error(
                    "missing-auth-keys",
                    a.kind_span,
                    format!("this `auth {}` block names no key", a.kind.keyword()),
                )
                .with_help(format!("add {what}")),
            );
        }
        if a.kind == AuthKind::Jwt {
            self.algorithms_fit_keys(a, &algorithms, &keys);
        }
    }

    /// Auth.js keeps its session token in a cookie, and derives the key with the
    /// cookie's name as the salt: a header has no such name.
    fn session_cookie_source(&mut self, src: &CredSource, span: Span) {
        if let CredSource::Header(_) = src {
            self.diags.push(
                Diagnostic::error(
                    "invalid-auth-source",
                    span,
                    "an Auth.js session token is read from its cookie, not a header",
                )
                .with_help("write `from: cookie authjs.session-token` (or `__Secure-authjs.session-token`), or omit `from` for both"),
            );
        }
    }

    /// Auth.js encrypts sessions with a key derived from a shared secret.
    fn session_key_kind(&mut self, k: &KeyRef) {
        self.diags.push(
            Diagnostic::error(
                "key-algorithm-mismatch",
                k.span,
                format!(
                    "an Auth.js session is encrypted with a key derived from a shared secret, not a `{}`",
                    k.kind.keyword()
                ),
            )
            .with_help("write `secret(AUTH_SECRET)`"),
        );
    }

    /// A SHA-256 is 64 hex digits; anything else can never match a key.
    fn key_hash(&mut self, h: &KeyHash) {
        let v = &h.hex.value;
        if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return;
        }
        self.diags.push(
            Diagnostic::error(
                "invalid-key-hash",
                h.hex.span,
                format!(
                    "`sha256(...)` takes the 64 hex digits of a SHA-256, not {} characters{}",
                    v.chars().count(),
                    if v.len() == 64 {
                        " with non-hex ones"
                    } else {
                        ""
                    }
                ),
            )
            .with_help("store `sha256sum` of the key (hex), never the key itself"),
        );
    }

    /// Each revoked id must be the `id` of a key of this block: a typo would leave the
    /// key it meant to revoke accepted.
    fn revoked_ids(&mut self, a: &AuthDecl, ids: &[StrLit]) {
        let known: Vec<&str> = a
            .entries
            .iter()
            .filter_map(|e| match &e.value {
                AuthValue::Key { principal, .. } => {
                    principal
                        .iter()
                        .find_map(|f| match (&*f.name.name, &f.value.kind) {
                            ("id", ExprKind::Str(s)) => Some(s.as_str()),
                            _ => None,
                        })
                }
                _ => None,
            })
            .collect();
        for id in ids {
            if known.contains(&id.value.as_str()) {
                continue;
            }
            let help = did_you_mean(&id.value, known.iter().copied())
                .unwrap_or_else(|| "list the `id` of a key of this block".into());
            self.diags.push(
                Diagnostic::error(
                    "unknown-key-id",
                    id.span,
                    format!(
                        "no key of this `auth api_key` block has the id `{}`",
                        id.value
                    ),
                )
                .with_help(help),
            );
        }
    }

    /// Token times are whole seconds: a `max_age` under a second refuses every token.
    fn max_age(&mut self, d: &Duration) {
        if d.millis() < 1000 {
            self.diags.push(
                Diagnostic::error(
                    "invalid-max-age",
                    d.span,
                    "`max_age` must be at least 1s: tokens carry `iat` and `exp` in whole seconds",
                )
                .with_help("give the lifetime the issuer signs tokens with, e.g. `max_age: 15m`"),
            );
        }
    }

    /// A known algorithm; `none` is refused with its own code.
    fn algorithm(&mut self, x: &Ident) -> bool {
        if algorithm_family(&x.name).is_some() {
            return true;
        }
        if x.name.eq_ignore_ascii_case("none") {
            self.diags.push(
                Diagnostic::error(
                    "insecure-algorithm",
                    x.span,
                    "algorithm `none` accepts unsigned tokens: anyone could forge one",
                )
                .with_help("list the algorithm your issuer signs with, e.g. `HS256` or `RS256`"),
            );
            return false;
        }
        let help = did_you_mean(&x.name, ALGORITHMS.iter().map(|(n, _)| *n)).unwrap_or_else(|| {
            "use one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA".into()
        });
        self.diags.push(
            Diagnostic::error(
                "unknown-algorithm",
                x.span,
                format!("unknown JWT algorithm `{}`", x.name),
            )
            .with_help(help),
        );
        false
    }

    fn key_name(&mut self, k: &KeyRef) -> bool {
        let n = &k.name.name;
        let ok = n.starts_with(|c: char| c.is_ascii_uppercase())
            && n.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            self.diags.push(
                Diagnostic::error(
                    "invalid-secret-name",
                    k.name.span,
                    format!("key name `{n}` must be UPPER_SNAKE_CASE"),
                )
                .with_help(format!(
                    "keys are read from host options or environment variables; use `{}`",
                    n.to_ascii_uppercase()
                )),
            );
        }
        ok
    }

    /// Each key must verify some listed algorithm and each algorithm must have a key:
    /// an HMAC algorithm next to a public key is the classic algorithm-confusion attack
    /// (the public key, which anyone has, used as the HMAC secret).
    fn algorithms_fit_keys(&mut self, a: &AuthDecl, algs: &[&Ident], keys: &[&KeyRef]) {
        let listed = a
            .entries
            .iter()
            .any(|e| matches!(e.value, AuthValue::Algorithms(_)));
        if !listed {
            self.diags.push(
                Diagnostic::error(
                    "missing-algorithms",
                    a.kind_span,
                    "a `jwt` block must list the algorithms it accepts",
                )
                .with_help("add e.g. `algorithms: HS256`: the token's own `alg` header is never trusted alone"),
            );
            return;
        }
        for k in keys {
            let fam = k.kind.family();
            if !algs.is_empty() && !algs.iter().any(|x| algorithm_family(&x.name) == Some(fam)) {
                let help = match fam {
                    KeyFamily::Hmac => {
                        "a `secret(...)` verifies HS256, HS384 or HS512: list one of them"
                    }
                    KeyFamily::Public => {
                        "a public key verifies RS*, PS*, ES* or EdDSA tokens: list one of them"
                    }
                };
                self.diags.push(
                    Diagnostic::error(
                        "key-algorithm-mismatch",
                        k.span,
                        format!(
                            "no listed algorithm can be verified with `{}({})`",
                            k.kind.keyword(),
                            k.name.name
                        ),
                    )
                    .with_help(help),
                );
            }
        }
        for x in algs {
            let fam = algorithm_family(&x.name);
            if !keys.is_empty() && !keys.iter().any(|k| Some(k.kind.family()) == fam) {
                let msg = match fam {
                    Some(KeyFamily::Hmac) => format!(
                        "`{}` needs a `secret(NAME)` key; an HMAC algorithm with a public key lets anyone who has the public key forge tokens",
                        x.name
                    ),
                    _ => format!("`{}` needs a `public_key(NAME)` or `jwks(NAME)` key", x.name),
                };
                self.diags.push(
                    Diagnostic::error("key-algorithm-mismatch", x.span, msg)
                        .with_help("list only the algorithms your keys verify"),
                );
            }
        }
    }

    /// `id`, `roles` or an attribute of the principal shape.
    fn principal_attr(&mut self, attr: &Ident) -> Option<Type> {
        match self.syms.principal.get(&attr.name) {
            Some((t, _)) => Some(t.clone()),
            None => {
                let help = did_you_mean(&attr.name, self.syms.principal.keys().map(String::as_str))
                    .unwrap_or_else(|| "declare it in `principal { ... }`".into());
                self.diags.push(
                    Diagnostic::error(
                        "unknown-attribute",
                        attr.span,
                        format!("the principal has no attribute `{}`", attr.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
                None
            }
        }
    }

    fn api_key_principal(&mut self, span: Span, fields: &[PrincipalField]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for f in fields {
            if seen.insert(&f.name.name, f.span).is_some() {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate-attribute",
                        f.name.span,
                        format!("`{}` is given twice", f.name.name),
                    )
                    .with_help("keep one"),
                );
                continue;
            }
            let Some(ty) = self.principal_attr(&f.name) else {
                continue;
            };
            self.literal_fits(&f.value, &ty);
        }
        if !seen.contains_key("id") {
            self.diags.push(
                Diagnostic::error(
                    "missing-principal-id",
                    span,
                    "the principal of an API key needs an `id`",
                )
                .with_help("add `id: \"service-name\"` inside `as { ... }`"),
            );
        }
    }

    /// A literal of the declared type: strings, numbers, bools, role names, lists of them.
    fn literal_fits(&mut self, e: &Expr, ty: &Type) {
        let ok = match (&e.kind, ty) {
            (ExprKind::Str(_), Type::String) => true,
            (ExprKind::Num(_), Type::Number) => true,
            (ExprKind::Bool(_), Type::Bool) => true,
            // `role_exists` reports an unknown role itself.
            (ExprKind::RoleName(r), Type::Role) => {
                self.role_exists(r);
                return;
            }
            (ExprKind::Str(s), Type::Role) => {
                let id = Ident {
                    name: s.clone(),
                    span: e.span,
                };
                self.role_exists(&id);
                return;
            }
            (ExprKind::List(items), Type::Set(elem)) => {
                for i in items {
                    self.literal_fits(i, elem);
                }
                return;
            }
            // One role for a role set: `roles: reporter`.
            (ExprKind::RoleName(_) | ExprKind::Str(_), Type::Set(elem)) => {
                self.literal_fits(e, elem);
                return;
            }
            _ => false,
        };
        if ok {
            return;
        }
        self.diags.push(
            Diagnostic::error(
                "type-mismatch",
                e.span,
                format!("this attribute is declared `{ty}`; give a literal of that type"),
            )
            .with_help("an API key's principal is fixed: strings, numbers, true/false, role names, or a list `[...]`"),
        );
    }
}
