//! `cookies { }`: the attributes every outgoing `Set-Cookie` of a listed name must
//! carry. The engine holds the rules and rewrites a header value; the Python and Node
//! middlewares call [`Engine::enforce_set_cookie`] on each `Set-Cookie` of an allowed
//! response, so the rewriting logic exists once.

use std::borrow::Cow;
use warden_lang::ast;

/// The `SameSite` value a rule imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`: never sent on cross-site requests.
    Strict,
    /// `SameSite=Lax`: sent on top-level cross-site navigations only.
    Lax,
    /// `SameSite=None`: sent cross-site (requires `Secure`).
    None,
}

impl SameSite {
    /// As written in a `Set-Cookie` header.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// One line of a `cookies` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRule {
    /// The cookie's name (case-sensitive).
    pub name: String,
    /// Impose `HttpOnly`.
    pub http_only: bool,
    /// Impose `Secure`.
    pub secure: bool,
    /// Impose this `SameSite`, when set.
    pub same_site: Option<SameSite>,
    /// Impose this `Path`, when set.
    pub path: Option<String>,
    /// The longest `Max-Age` allowed, in seconds.
    pub max_age: Option<u64>,
}

impl CookieRule {
    pub(crate) fn from_ast(r: &ast::CookieRule) -> CookieRule {
        let mut out = CookieRule {
            name: r.name.name.clone(),
            http_only: false,
            secure: false,
            same_site: None,
            path: None,
            max_age: None,
        };
        for a in &r.attrs {
            match &a.kind {
                ast::CookieAttrKind::HttpOnly => out.http_only = true,
                ast::CookieAttrKind::Secure => out.secure = true,
                ast::CookieAttrKind::SameSite(s) => {
                    out.same_site = Some(match s {
                        ast::SameSite::Strict => SameSite::Strict,
                        ast::SameSite::Lax => SameSite::Lax,
                        ast::SameSite::None => SameSite::None,
                    })
                }
                ast::CookieAttrKind::Path(p) => out.path = Some(p.value.clone()),
                ast::CookieAttrKind::MaxAge(d) => out.max_age = Some(d.millis() / 1000),
            }
        }
        out
    }

    /// The `Set-Cookie` value with this rule enforced: `HttpOnly` and `Secure` added
    /// when missing, `SameSite` and `Path` set to the rule's (replacing the app's),
    /// `Max-Age` added when the cookie has neither `Max-Age` nor `Expires`, and lowered
    /// to the rule's when longer (or unreadable). A deleting `Max-Age=0` stays.
    pub fn enforce(&self, set_cookie: &str) -> String {
        let mut parts = set_cookie.split(';');
        let first = parts.next().unwrap_or("");
        let mut out = String::with_capacity(set_cookie.len() + 64);
        out.push_str(first.trim());
        let (mut http_only, mut secure, mut expires, mut max_age) = (false, false, false, false);
        for attr in parts {
            let attr = attr.trim();
            if attr.is_empty() {
                continue;
            }
            let (key, value) = attr.split_once('=').unwrap_or((attr, ""));
            let key = key.trim();
            let is = |k: &str| key.eq_ignore_ascii_case(k);
            if (is("samesite") && self.same_site.is_some()) || (is("path") && self.path.is_some()) {
                continue;
            }
            if is("max-age") {
                if let Some(cap) = self.max_age {
                    max_age = true;
                    let within = value.trim().parse::<i64>().is_ok_and(|v| v <= cap as i64);
                    if !within {
                        out.push_str("; Max-Age=");
                        out.push_str(&cap.to_string());
                        continue;
                    }
                }
            }
            http_only |= is("httponly");
            secure |= is("secure");
            expires |= is("expires");
            out.push_str("; ");
            out.push_str(attr);
        }
        if let Some(p) = &self.path {
            out.push_str("; Path=");
            out.push_str(p);
        }
        if let (Some(cap), false, false) = (self.max_age, max_age, expires) {
            out.push_str("; Max-Age=");
            out.push_str(&cap.to_string());
        }
        if self.http_only && !http_only {
            out.push_str("; HttpOnly");
        }
        if self.secure && !secure {
            out.push_str("; Secure");
        }
        if let Some(s) = self.same_site {
            out.push_str("; SameSite=");
            out.push_str(s.as_str());
        }
        out
    }
}

/// The cookie name of a `Set-Cookie` value (`name=value; ...`), trimmed.
fn cookie_name(set_cookie: &str) -> Option<&str> {
    let first = set_cookie.split(';').next()?;
    first.split_once('=').map(|(n, _)| n.trim())
}

/// One outgoing `Set-Cookie` value with the rule for its cookie enforced; borrowed
/// unchanged when no rule names the cookie.
pub(crate) fn enforce<'a>(rules: &[CookieRule], set_cookie: &'a str) -> Cow<'a, str> {
    let Some(name) = cookie_name(set_cookie) else {
        return Cow::Borrowed(set_cookie);
    };
    match rules.iter().find(|r| r.name == name) {
        Some(rule) => Cow::Owned(rule.enforce(set_cookie)),
        None => Cow::Borrowed(set_cookie),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresh() -> CookieRule {
        CookieRule {
            name: "refreshToken".into(),
            http_only: true,
            secure: true,
            same_site: Some(SameSite::Strict),
            path: Some("/api/auth/refresh".into()),
            max_age: Some(604_800),
        }
    }

    #[test]
    fn missing_attributes_are_added() {
        assert_eq!(
            refresh().enforce("refreshToken=abc"),
            "refreshToken=abc; Path=/api/auth/refresh; Max-Age=604800; HttpOnly; Secure; SameSite=Strict"
        );
    }

    #[test]
    fn the_apps_own_attributes_stay_unless_the_rule_overrides_them() {
        assert_eq!(
            refresh().enforce("refreshToken=abc; Domain=myapp.com; path=/; samesite=none; secure; Max-Age=60"),
            "refreshToken=abc; Domain=myapp.com; secure; Max-Age=60; Path=/api/auth/refresh; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn max_age_is_a_ceiling_and_deletions_stay() {
        let r = refresh();
        assert!(r
            .enforce("refreshToken=a; Max-Age=31536000")
            .contains("Max-Age=604800"));
        assert!(!r
            .enforce("refreshToken=a; Max-Age=31536000")
            .contains("31536000"));
        assert!(r.enforce("refreshToken=; Max-Age=0").contains("Max-Age=0"));
        assert!(r
            .enforce("refreshToken=a; Max-Age=soon")
            .contains("Max-Age=604800"));
        // An `Expires` date is left to the app (it may be a deletion in the past).
        let e = r.enforce("refreshToken=; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert!(!e.contains("Max-Age"), "{e}");
    }

    #[test]
    fn names_are_read_from_the_first_pair() {
        assert_eq!(
            cookie_name(" refreshToken =x; Path=/"),
            Some("refreshToken")
        );
        assert_eq!(cookie_name("garbage"), None);
    }
}
