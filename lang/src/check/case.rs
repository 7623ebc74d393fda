//! `case-sensitive-compare`: a warning when a value that HTTP defines as case-blind (a
//! MIME type, a header token such as `Upgrade: WebSocket`) is compared with text
//! case-sensitively. Browsers read `image/SVG+xml` as `image/svg+xml`, so a policy that
//! checks `resource.mime starts_with "image/svg"` lets the upper-case spelling through.
//! The fix is `lower(...)` around the value. `warden lint` reuses [`case_sensitive`].

use crate::ast::*;
use crate::diag::Diagnostic;

/// Request headers whose values are compared case-blind by HTTP (RFC 9110 media types,
/// tokens, schemes); a header outside this list (a token, a signature) is
/// case-sensitive and never warned about.
const CASE_BLIND_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "content-encoding",
    "accept-encoding",
    "transfer-encoding",
    "upgrade",
    "connection",
    "x-requested-with",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-dest",
];

/// Whether `e` reads a value HTTP compares case-blind: one of [`CASE_BLIND_HEADERS`], or
/// an attribute named for a media type (`mime`, `mime_type`, `content_type`,
/// `media_type`), possibly with `?? "default"` after it.
fn case_blind_value(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Header(h) => CASE_BLIND_HEADERS
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&h.name)),
        ExprKind::Path(p) => p.attrs.last().is_some_and(|a| {
            let n = a.name.to_ascii_lowercase();
            n == "mime"
                || n.ends_with("_mime")
                || n.contains("mime_type")
                || n.contains("content_type")
                || n.contains("media_type")
        }),
        ExprKind::Binary {
            op: BinOp::Coalesce,
            lhs,
            ..
        } => case_blind_value(lhs),
        _ => false,
    }
}

/// Whether `e` is text with an ASCII letter (or a list holding one): comparing a
/// case-blind value with it depends on case.
fn has_letters(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Str(s) => s.bytes().any(|b| b.is_ascii_alphabetic()),
        ExprKind::List(items) => items.iter().any(has_letters),
        _ => false,
    }
}

/// Every comparison in `e` of a case-blind value with text, as a warning.
fn visit(e: &Expr, out: &mut Vec<Diagnostic>) {
    e.walk(&mut |x| {
        let hit = match &x.kind {
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinOp::Eq | BinOp::Ne => {
                    (case_blind_value(lhs) && has_letters(rhs))
                        || (case_blind_value(rhs) && has_letters(lhs))
                }
                BinOp::StartsWith | BinOp::EndsWith | BinOp::Contains => {
                    case_blind_value(lhs) && has_letters(rhs)
                }
                BinOp::In => case_blind_value(lhs) && has_letters(rhs),
                _ => false,
            },
            ExprKind::Matches { expr, regex } => {
                case_blind_value(expr)
                    && regex.value.bytes().any(|b| b.is_ascii_alphabetic())
                    && !regex.value.starts_with("(?i)")
            }
            _ => false,
        };
        if hit {
            out.push(
                Diagnostic::warning(
                    "case-sensitive-compare",
                    x.span,
                    "this compares a case-insensitive value (a MIME type or header token) \
                     case-sensitively",
                )
                .with_help(
                    "compare `lower(...)` of the value with lower-case text: clients may \
                     send `image/SVG+xml` for `image/svg+xml`",
                ),
            );
        }
    });
}

/// Warnings for every case-sensitive comparison of a case-blind value in `policy`.
pub fn case_sensitive(policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for item in &policy.items {
        match item {
            Item::Rule(r) => {
                if let Some(c) = &r.cond {
                    visit(&c.expr, &mut out);
                }
            }
            Item::Route(r) => {
                for s in &r.body {
                    match s {
                        RouteStmt::Require(Requirement {
                            kind: ReqKind::Expr(e),
                            ..
                        })
                        | RouteStmt::HeaderSetExpr { value: e, .. } => visit(e, &mut out),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}
