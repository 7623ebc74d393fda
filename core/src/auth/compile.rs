//! `auth` blocks + host keys -> [`Auth`]: keys resolved by name (a missing one is a load
//! error naming it, never showing a value), PEM and JWKS keys parsed, and each key bound
//! to the listed algorithms of its own family only.

use super::api_key::{parse_sha256, ApiKey, ApiKeys, KeyValue};
use super::claims::{ClaimMap, ClaimPath};
use super::hs::HmacKeys;
use super::jwe::{Jwe, JweKey};
use super::jwt::{validation, Jwt, JwtKey};
use super::lifetime::TokenRules;
use super::source::Source;
use super::token_cache::TokenCache;
use super::{Auth, Mechanism};
use crate::options::Options;
use crate::request::{Principal, Value};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::str::FromStr;
use warden_lang::ast::{
    self, AuthDecl, AuthKind, AuthText, AuthValue, CredSource, ExprKind, Item, KeyKind, KeyRef,
};
use warden_lang::Diagnostic;

const HMAC: &[Algorithm] = &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
const RSA: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];
const EC: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];
const ED: &[Algorithm] = &[Algorithm::EdDSA];

/// Compile every `auth` block of the policy, in source order.
pub(crate) fn compile(policy: &ast::Policy, options: &Options) -> Result<Auth, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut mechanisms = Vec::new();
    for item in &policy.items {
        let Item::Auth(a) = item else { continue };
        if a.kind == AuthKind::NextAuth {
            for (cookie, jwe) in nextauth(a, options, &mut diags) {
                mechanisms.push((
                    Source::SessionCookie(cookie.into()),
                    Mechanism::NextAuth(jwe),
                ));
            }
            continue;
        }
        let source = source(a);
        let m = match a.kind {
            AuthKind::Jwt => jwt(a, options, &mut diags).map(Mechanism::Jwt),
            AuthKind::ApiKey | AuthKind::NextAuth => {
                api_keys(a, options, &mut diags).map(Mechanism::ApiKey)
            }
        };
        if let Some(m) = m {
            mechanisms.push((source, m));
        }
    }
    if diags.is_empty() {
        Ok(Auth { mechanisms })
    } else {
        Err(diags)
    }
}

fn source(a: &AuthDecl) -> Source {
    let from = a.entries.iter().find_map(|e| match &e.value {
        AuthValue::From(s) => Some(s),
        _ => None,
    });
    match (from, a.kind) {
        (Some(CredSource::Header(n)), _) => Source::Header(n.name.to_ascii_lowercase().into()),
        (Some(CredSource::Cookie(n)), _) => Source::Cookie(n.name.as_str().into()),
        (None, AuthKind::Jwt) => Source::Header("authorization".into()),
        (None, AuthKind::ApiKey | AuthKind::NextAuth) => Source::Header("x-api-key".into()),
    }
}

/// The cookies Auth.js v5 writes its session to: `__Secure-` prefixed over HTTPS.
const SESSION_COOKIES: [&str; 2] = ["__Secure-authjs.session-token", "authjs.session-token"];

/// One mechanism per cookie name: the name is the HKDF salt, so each has its own keys.
/// Without `from`, both of Auth.js's cookie names are read.
fn nextauth(a: &AuthDecl, options: &Options, diags: &mut Vec<Diagnostic>) -> Vec<(String, Jwe)> {
    // Auth.js decodes with a clock tolerance of 15 s; `leeway` overrides it.
    let mut rules = TokenRules {
        leeway_s: 15.0,
        ..TokenRules::default()
    };
    let mut claims = ClaimMap::default();
    let mut cookies: Vec<String> = Vec::new();
    let mut refs: Vec<&KeyRef> = Vec::new();
    for e in &a.entries {
        match &e.value {
            AuthValue::From(CredSource::Cookie(n)) => cookies.push(n.name.clone()),
            AuthValue::Keys(ks) => refs.extend(ks),
            AuthValue::Leeway(_)
            | AuthValue::MaxAge(_)
            | AuthValue::RequireClaim { .. }
            | AuthValue::Claim { .. } => token_entry(&e.value, &mut rules, &mut claims),
            _ => {}
        }
    }
    if cookies.is_empty() {
        cookies = SESSION_COOKIES.iter().map(|c| (*c).to_owned()).collect();
    }
    let before = diags.len();
    let mut secrets = Vec::new();
    for r in refs {
        match options.secret_value(&r.name.name) {
            Some(v) => secrets.push((format!("nextauth:{}", r.name.name), v)),
            None if r.optional => {}
            None => diags.push(crate::lower::missing_secret(&r.name)),
        }
    }
    if diags.len() > before {
        return Vec::new();
    }
    if secrets.is_empty() {
        diags.push(no_key(a));
        return Vec::new();
    }
    cookies
        .into_iter()
        .map(|cookie| {
            let keys = secrets
                .iter()
                .filter_map(|(label, v)| JweKey::derive(label, v.expose().as_bytes(), &cookie))
                .collect();
            let jwe = Jwe {
                keys,
                rules: rules.clone(),
                claims: claims.clone(),
                cache: TokenCache::new(options.token_cache_size),
                known_header: std::sync::OnceLock::new(),
            };
            (cookie, jwe)
        })
        .collect()
}

/// The values of an `issuer` or `audience` line: literals, and settings read now. An
/// unset setting is `missing-config`; an empty one would demand an empty claim, so it
/// is refused too (`invalid-config`), naming the setting.
fn texts(xs: &[AuthText], options: &Options, out: &mut Vec<String>, diags: &mut Vec<Diagnostic>) {
    for x in xs {
        match x {
            AuthText::Lit(s) => out.push(s.value.clone()),
            AuthText::Config(name) => match options.config_value(&name.name) {
                None => diags.push(crate::lower::missing_config(name)),
                Some(v) if v.trim().is_empty() => diags.push(
                    Diagnostic::error(
                        "invalid-config",
                        name.span,
                        format!("setting `{}` is empty", name.name),
                    )
                    .with_help("set it to the issuer or audience the tokens carry"),
                ),
                Some(v) => out.push(v.trim().to_string()),
            },
        }
    }
}

fn jwt(a: &AuthDecl, options: &Options, diags: &mut Vec<Diagnostic>) -> Option<Jwt> {
    let mut algs = Vec::new();
    let mut issuer = Vec::new();
    let mut audience = Vec::new();
    let mut rules = TokenRules::default();
    let mut claims = ClaimMap::default();
    let mut refs: Vec<&KeyRef> = Vec::new();
    for e in &a.entries {
        match &e.value {
            AuthValue::Algorithms(xs) => {
                // `none` and unknown names are checker errors; `FromStr` knows neither.
                algs.extend(xs.iter().filter_map(|x| Algorithm::from_str(&x.name).ok()));
            }
            AuthValue::Keys(ks) => refs.extend(ks),
            AuthValue::Issuer(xs) => texts(xs, options, &mut issuer, diags),
            AuthValue::Audience(xs) => texts(xs, options, &mut audience, diags),
            AuthValue::Leeway(_)
            | AuthValue::MaxAge(_)
            | AuthValue::RequireClaim { .. }
            | AuthValue::Claim { .. } => token_entry(&e.value, &mut rules, &mut claims),
            AuthValue::From(_) | AuthValue::Key { .. } | AuthValue::Revoked(_) => {}
        }
    }
    let before = diags.len();
    let mut keys = Vec::new();
    for r in refs {
        let Some(value) = options.secret_value(&r.name.name) else {
            if !r.optional {
                diags.push(crate::lower::missing_secret(&r.name));
            }
            continue;
        };
        let name = &r.name.name;
        let loaded: Vec<(Option<String>, DecodingKey, &[Algorithm])> = match r.kind {
            KeyKind::Secret => vec![(
                None,
                DecodingKey::from_secret(value.expose().as_bytes()),
                HMAC,
            )],
            KeyKind::PublicKey => match pem_key(value.expose().as_bytes()) {
                Some((k, fam)) => vec![(None, k, fam)],
                None => {
                    diags.push(bad_key(
                        r,
                        "is not a PEM-encoded RSA, EC or Ed25519 public key",
                    ));
                    continue;
                }
            },
            KeyKind::Jwks => match jwks(value.expose()) {
                Ok(ks) => ks,
                Err(why) => {
                    diags.push(bad_key(r, why));
                    continue;
                }
            },
        };
        for (kid, key, family) in loaded {
            let fit: Vec<Algorithm> = algs
                .iter()
                .copied()
                .filter(|x| family.contains(x))
                .collect();
            if fit.is_empty() {
                diags.push(
                    Diagnostic::error(
                        "key-algorithm-mismatch",
                        r.span,
                        format!(
                            "`{}({name})` verifies {} but none of them is listed",
                            r.kind.keyword(),
                            family_name(family)
                        ),
                    )
                    .with_help("list the algorithm the issuer signs with in `algorithms:`"),
                );
                continue;
            }
            let label = match &kid {
                Some(kid) => format!("jwt:{name}#{kid}"),
                None => format!("jwt:{name}"),
            };
            let validation = validation(&fit, &issuer, &audience);
            // A shared secret also gets its keyed hash states (`hs.rs`); PEM and JWKS
            // keys are verified by `jsonwebtoken` alone.
            let hmac = matches!(r.kind, KeyKind::Secret)
                .then(|| HmacKeys::new(value.expose().as_bytes(), &fit, &validation))
                .flatten();
            keys.push(JwtKey {
                label: label.into(),
                kid: kid.map(Into::into),
                key,
                validation,
                hmac,
            });
        }
    }
    if diags.len() > before {
        return None;
    }
    if keys.is_empty() {
        diags.push(no_key(a));
        return None;
    }
    Some(Jwt {
        keys,
        rules,
        claims,
        cache: TokenCache::new(options.token_cache_size),
    })
}

fn family_name(f: &[Algorithm]) -> &'static str {
    if f == HMAC {
        "HS256, HS384 and HS512"
    } else if f == RSA {
        "RS* and PS* (an RSA key)"
    } else if f == EC {
        "ES256 and ES384 (an EC key)"
    } else {
        "EdDSA (an Ed25519 key)"
    }
}

/// The key and its family, whichever PEM kind it is.
fn pem_key(pem: &[u8]) -> Option<(DecodingKey, &'static [Algorithm])> {
    if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
        return Some((k, RSA));
    }
    if let Ok(k) = DecodingKey::from_ec_pem(pem) {
        return Some((k, EC));
    }
    DecodingKey::from_ed_pem(pem).ok().map(|k| (k, ED))
}

type Loaded = Vec<(Option<String>, DecodingKey, &'static [Algorithm])>;

fn jwks(json: &str) -> Result<Loaded, &'static str> {
    let set: JwkSet = serde_json::from_str(json).map_err(|_| "is not a JWKS document")?;
    let mut out = Vec::new();
    for jwk in &set.keys {
        let family: &'static [Algorithm] = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => RSA,
            AlgorithmParameters::EllipticCurve(_) => EC,
            AlgorithmParameters::OctetKeyPair(_) => ED,
            // A symmetric key published in a key set is a shared secret in the open.
            AlgorithmParameters::OctetKey(_) => return Err("holds a symmetric (`oct`) key"),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|_| "holds a key that cannot be read")?;
        out.push((jwk.common.key_id.clone(), key, family));
    }
    if out.is_empty() {
        return Err("holds no key");
    }
    Ok(out)
}

fn bad_key(r: &KeyRef, why: &str) -> Diagnostic {
    Diagnostic::error(
        "invalid-key",
        r.span,
        format!("`{}({})` {why}", r.kind.keyword(), r.name.name),
    )
    .with_help("pass the key's text (PEM, or a JWKS JSON document) under this name")
}

fn no_key(a: &AuthDecl) -> Diagnostic {
    Diagnostic::error(
        "missing-auth-keys",
        a.kind_span,
        format!(
            "every key of this `auth {}` block is absent",
            a.kind.keyword()
        ),
    )
    .with_help("set at least one of its keys; `?` marks keys that may be absent during a rotation")
}

fn api_keys(a: &AuthDecl, options: &Options, diags: &mut Vec<Diagnostic>) -> Option<ApiKeys> {
    let before = diags.len();
    let revoked: Vec<&str> = a
        .entries
        .iter()
        .filter_map(|e| match &e.value {
            AuthValue::Revoked(ids) => Some(ids.iter().map(|s| s.value.as_str())),
            _ => None,
        })
        .flatten()
        .collect();
    let mut out = ApiKeys::default();
    for e in &a.entries {
        let AuthValue::Key {
            keys,
            principal,
            hashes,
        } = &e.value
        else {
            continue;
        };
        let idx = out.principals.len();
        let p = principal_literal(principal);
        let is_revoked = revoked.contains(&p.id.as_str());
        for h in hashes {
            // The checker refuses malformed digests; this is its load-time twin.
            let Some(digest) = parse_sha256(&h.hex.value) else {
                diags.push(Diagnostic::error(
                    "invalid-key-hash",
                    h.hex.span,
                    "`sha256(...)` takes the 64 hex digits of a SHA-256",
                ));
                continue;
            };
            out.keys.push(ApiKey {
                label: format!("api_key:{}", p.id).into(),
                value: KeyValue::Sha256(digest),
                principal: idx,
                revoked: is_revoked,
            });
        }
        for r in keys {
            match options.secret_value(&r.name.name) {
                Some(value) => out.keys.push(ApiKey {
                    label: format!("api_key:{}", r.name.name).into(),
                    value: KeyValue::Secret(value),
                    principal: idx,
                    revoked: is_revoked,
                }),
                // A revoked key's secret may already be gone from the deployment.
                None if r.optional || is_revoked => {}
                None => diags.push(crate::lower::missing_secret(&r.name)),
            }
        }
        out.principals.push(p);
    }
    if diags.len() > before {
        return None;
    }
    if out.keys.is_empty() {
        diags.push(no_key(a));
        return None;
    }
    Some(out)
}

fn principal_literal(fields: &[ast::PrincipalField]) -> Principal {
    let mut p = Principal::default();
    for f in fields {
        match (f.name.name.as_str(), literal(&f.value)) {
            ("id", Value::String(s)) => p.id = s,
            ("roles", Value::String(r)) => p.roles.push(r),
            ("roles", Value::List(rs)) => p.roles.extend(rs.into_iter().filter_map(|r| match r {
                Value::String(s) => Some(s),
                _ => None,
            })),
            (name, v) => {
                p.attrs.set(name, v);
            }
        }
    }
    p
}

/// The value of a literal; the checker refuses anything else, which reads as null.
fn literal(e: &ast::Expr) -> Value {
    match &e.kind {
        ExprKind::Str(s) => Value::String(s.clone()),
        ExprKind::Num(n) => Value::Number(*n),
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::RoleName(r) => Value::String(r.name.clone()),
        ExprKind::Size { value, unit } => Value::Number(value.saturating_mul(unit.bytes()) as f64),
        ExprKind::Duration { value, unit } => {
            Value::Number(value.saturating_mul(unit.millis()) as f64 / 1000.0)
        }
        ExprKind::List(xs) => Value::List(xs.iter().map(literal).collect()),
        _ => Value::Null,
    }
}

/// The entries `auth jwt` and `auth nextauth` share: token lifetime rules and the
/// claim mapping.
fn token_entry(v: &AuthValue, rules: &mut TokenRules, claims: &mut ClaimMap) {
    match v {
        AuthValue::Leeway(d) => rules.leeway_s = d.millis() as f64 / 1000.0,
        AuthValue::MaxAge(d) => rules.max_age_s = Some(d.millis() as f64 / 1000.0),
        AuthValue::RequireClaim { claim, value } => rules.required.push((
            ClaimPath::new(&claim.name, claim.quoted),
            value.value.as_str().into(),
        )),
        AuthValue::Claim {
            attr,
            claims: names,
        } => {
            let paths = names
                .iter()
                .map(|c| ClaimPath::new(&c.name, c.quoted))
                .collect();
            match attr.name.as_str() {
                "id" => claims.id = paths,
                "roles" => claims.roles = paths,
                other => claims.attrs.push((other.into(), paths)),
            }
        }
        _ => {}
    }
}

impl Auth {
    /// Compile the policy's `auth` blocks with the host's keys.
    pub(crate) fn compile(
        policy: &warden_lang::ast::Policy,
        options: &Options,
    ) -> Result<Auth, Vec<Diagnostic>> {
        compile(policy, options)
    }
}
