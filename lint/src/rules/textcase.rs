//! Header values and media types compared case-sensitively.

use crate::registry::declare_lint;
use crate::{finding, Finding};
use warden_lang::ast::{
    BinOp, CondKind, Effect, Expr, ExprKind, Item, Policy, ReqKind, Requirement, RouteStmt,
};

declare_lint! {
    /// A header value whose grammar is case-insensitive (`Content-Type`, `Accept`,
    /// `X-Forwarded-Proto`, `Upgrade`, `Sec-Fetch-*`, ...) or a media type
    /// (`application/json`, `image/svg`) compared case-sensitively (`==`, `!=`, `in`,
    /// `starts_with`, `ends_with`, `contains`, or `matches` without `(?i)`) where the
    /// same value in another case makes the policy more permissive.
    ///
    /// `Content-Type: Image/SVG+xml` is the same media type as `image/svg+xml` (RFC
    /// 9110 §8.3.1). `deny ... if resource.mime starts_with "image/svg"` does not match
    /// it, so the deny is bypassed. Reported: a comparison whose mismatch makes a
    /// `deny ... if` not match, a `deny ... unless` or `allow` condition hold, or a
    /// route requirement pass; and every such comparison in a computed header or limit
    /// key. Not reported: allow-lists that a value in another case fails (`require
    /// input.type in ["image/png"]` refuses `IMAGE/PNG`: it fails closed). Compare the
    /// lower-cased value, or match with `(?i)`.
    pub CASE_SENSITIVE_COMPARE, "case-sensitive-compare", Warning,
    "a header value or media type compared case-sensitively where another case is let through"
}

/// Headers whose values are tokens or media types, compared without case.
const CASELESS_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "content-encoding",
    "transfer-encoding",
    "accept-encoding",
    "x-forwarded-proto",
    "upgrade",
    "connection",
    "x-requested-with",
];

const MIME_TOPS: &[&str] = &[
    "application",
    "text",
    "image",
    "audio",
    "video",
    "multipart",
    "font",
    "model",
    "message",
];

/// What makes an operand case-insensitive data, if anything.
fn caseless(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Header(h) => {
            let n = h.name.to_ascii_lowercase();
            (CASELESS_HEADERS.contains(&n.as_str()) || n.starts_with("sec-fetch-"))
                .then(|| format!("header `{}`", h.name))
        }
        ExprKind::Str(s) if is_mime(s) => Some(format!("media type `{s}`")),
        ExprKind::List(xs) => xs.iter().find_map(caseless),
        ExprKind::Binary {
            op: BinOp::Coalesce,
            lhs,
            rhs,
        } => caseless(lhs).or_else(|| caseless(rhs)),
        _ => None,
    }
}

/// `type/subtype` (or `type/`, a prefix) with a registered top-level type; parameters
/// allowed.
fn is_mime(s: &str) -> bool {
    let Some((top, sub)) = s.split_once('/') else {
        return false;
    };
    let sub = sub.split(';').next().unwrap_or("").trim();
    MIME_TOPS.contains(&top.to_ascii_lowercase().as_str()) && !sub.contains(' ')
}

/// An operand that is already folded to one case: a literal without upper-case
/// letters is not by itself a problem unless the other side is raw request data.
fn lowered(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Call { func, .. } if matches!(func.name.as_str(), "lower" | "to_lower"))
}

/// How a case mismatch (which makes a positive comparison false) moves a place's
/// decision: `Some(true)` when a *true* condition is the permissive outcome (it lets
/// the request through), `Some(false)` when a *false* one is, `None` when unknown.
type Permissive = Option<bool>;

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    for item in &policy.items {
        match item {
            Item::Rule(r) => {
                let Some(c) = &r.cond else { continue };
                // deny if C: C false lets through; deny unless C: C true does;
                // allow if C: C true permits; allow unless C: C false does.
                let true_permits = match (r.effect, c.kind) {
                    (Effect::Deny, CondKind::If) | (Effect::Allow, CondKind::Unless) => false,
                    (Effect::Deny, CondKind::Unless) | (Effect::Allow, CondKind::If) => true,
                };
                scan(&c.expr, Some(true_permits), out);
            }
            Item::Route(r) => {
                for st in &r.body {
                    match st {
                        RouteStmt::Require(Requirement {
                            kind: ReqKind::Expr(e),
                            ..
                        }) => scan(e, Some(true), out),
                        RouteStmt::HeaderSetExpr { value, .. } => scan(value, None, out),
                        _ => {}
                    }
                }
            }
            Item::Limit(l) => scan(&l.key, None, out),
            _ => {}
        }
    }
}

/// Report the comparisons under `e` whose case mismatch is permissive.
fn scan(e: &Expr, p: Permissive, out: &mut Vec<Finding>) {
    match &e.kind {
        ExprKind::Not(x) => scan(x, p.map(|b| !b), out),
        ExprKind::Binary {
            op: BinOp::And | BinOp::Or,
            lhs,
            rhs,
        } => {
            scan(lhs, p, out);
            scan(rhs, p, out);
        }
        ExprKind::Binary { op, lhs, rhs }
            if matches!(
                op,
                BinOp::Eq
                    | BinOp::Ne
                    | BinOp::In
                    | BinOp::StartsWith
                    | BinOp::EndsWith
                    | BinOp::Contains
            ) =>
        {
            // A mismatch makes `==`-like comparisons false and `!=` true.
            let mismatch_value = *op == BinOp::Ne;
            let permissive = p.is_none_or(|true_permits| true_permits == mismatch_value);
            if permissive && !lowered(lhs) && !lowered(rhs) {
                let data = |x: &Expr| !matches!(x.kind, ExprKind::Str(_) | ExprKind::List(_));
                if let (Some(w), _) | (_, Some(w)) = (caseless(lhs), caseless(rhs)) {
                    if data(lhs) || data(rhs) {
                        report(e, w, out);
                    }
                }
            }
            scan(lhs, None, out);
            scan(rhs, None, out);
        }
        ExprKind::Matches { expr, regex } => {
            if p.is_none_or(|true_permits| !true_permits) && !regex.value.starts_with("(?i)") {
                if let Some(w) = caseless(expr) {
                    report(e, w, out);
                }
            }
            scan(expr, None, out);
        }
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            scan(cond, None, out);
            scan(then, p, out);
            scan(otherwise, p, out);
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            scan(lhs, None, out);
            scan(rhs, None, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| scan(a, None, out)),
        ExprKind::HeaderSafe { text, .. } => scan(text, None, out),
        _ => {}
    }
}

fn report(e: &Expr, what: String, out: &mut Vec<Finding>) {
    out.push(
        finding(
            CASE_SENSITIVE_COMPARE.id,
            e.span,
            format!("{what} is compared case-sensitively, and the same value in another case is let through"),
        )
        .with_label("`Image/SVG+xml` would not match")
        .with_help("compare the lower-cased value, or use `matches /(?i).../`"),
    );
}

#[cfg(test)]
mod tests {
    use super::is_mime;

    #[test]
    fn mime() {
        assert!(is_mime("application/json"));
        assert!(is_mime("image/"));
        assert!(is_mime("text/html; charset=utf-8"));
        assert!(is_mime("multipart/form-data"));
        assert!(!is_mime("/api/x"));
        assert!(!is_mime("a/b"));
    }
}
