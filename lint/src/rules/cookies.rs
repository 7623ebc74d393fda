//! Cookie rules that leave a cookie readable by script, sent over HTTP or cross-site.

use crate::registry::declare_lint;
use crate::{finding, Finding};
use warden_lang::ast::{CookieAttrKind, Item, Policy};

declare_lint! {
    /// A `cookies` rule that does not require all of `secure`, `http_only` and
    /// `same_site`.
    ///
    /// The rule is where the policy says how a cookie must be sent; a missing
    /// attribute leaves the app's own choice (often none): without `secure` the cookie
    /// travels over plain HTTP, without `http_only` injected script can read it,
    /// without `same_site` it rides along on cross-site requests (CSRF). A cookie that
    /// script must read (a double-submit CSRF token) is the usual justified suppression
    /// of `http_only`.
    pub COOKIE_MISSING_ATTRIBUTES, "cookie-missing-attributes", Warning,
    "a cookie rule without secure, http_only or same_site"
}

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    for item in &policy.items {
        let Item::Cookies(c) = item else { continue };
        for rule in &c.rules {
            let has = |f: fn(&CookieAttrKind) -> bool| rule.attrs.iter().any(|a| f(&a.kind));
            let mut missing = Vec::new();
            if !has(|k| matches!(k, CookieAttrKind::Secure)) {
                missing.push("secure");
            }
            if !has(|k| matches!(k, CookieAttrKind::HttpOnly)) {
                missing.push("http_only");
            }
            if !has(|k| matches!(k, CookieAttrKind::SameSite(_))) {
                missing.push("same_site");
            }
            if missing.is_empty() {
                continue;
            }
            out.push(
                finding(
                    COOKIE_MISSING_ATTRIBUTES.id,
                    rule.name.span,
                    format!(
                        "cookie `{}` is not required to be {}",
                        rule.name.name,
                        missing.join(", ")
                    ),
                )
                .with_help(format!(
                    "add `{}` to the rule",
                    missing
                        .iter()
                        .map(|m| if *m == "same_site" {
                            "same_site lax"
                        } else {
                            m
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
}
