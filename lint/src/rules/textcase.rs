//! Header values and media types compared case-sensitively: the checker's own analysis
//! (`warden_lang::case_sensitive`), reported as a lint so that it can be configured and
//! suppressed in place like the others.

use crate::registry::declare_lint;
use crate::{finding, Finding};
use warden_lang::ast::Policy;

declare_lint! {
    /// A value that HTTP defines as case-blind compared with text case-sensitively
    /// (`==`, `!=`, `in`, `starts_with`, `ends_with`, `contains`, or `matches` without
    /// `(?i)`) in a rule condition, a route requirement or a computed response header.
    ///
    /// Case-blind values: media types (an attribute named `mime`, `*_mime`,
    /// `*mime_type*`, `*content_type*`, `*media_type*`) and the token headers
    /// `content-type`, `accept`, `content-encoding`, `accept-encoding`,
    /// `transfer-encoding`, `upgrade`, `connection`, `x-requested-with`, `sec-fetch-*`.
    /// `Content-Type: Image/SVG+xml` is the same media type as `image/svg+xml` (RFC
    /// 9110 §8.3.1), so `deny ... if resource.mime starts_with "image/svg"` lets the
    /// upper-case spelling through.
    ///
    /// This is the checker's `case-sensitive-compare` warning (the same analysis, so
    /// `warden check` and `warden lint` agree); as a lint it can be suppressed or
    /// configured. It also reports allow-lists, which fail closed, because a client
    /// sending `IMAGE/PNG` is refused for no reason. Compare `lower(...)` of the value
    /// with lower-case text, or match with `(?i)`.
    pub CASE_SENSITIVE_COMPARE, "case-sensitive-compare", Warning,
    "a header value or media type compared case-sensitively"
}

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    for d in warden_lang::case_sensitive(policy) {
        let mut f = finding(CASE_SENSITIVE_COMPARE.id, d.span, d.message);
        f.label = d.label;
        f.help = d.help;
        out.push(f);
    }
}
