//! Rules whose condition is decided by literals alone.

use crate::registry::declare_lint;
use crate::{finding, Finding};
use warden_lang::ast::{BinOp, CondKind, Expr, ExprKind, Item, Policy};

declare_lint! {
    /// A rule whose condition is decided by its literals alone so that the rule can
    /// never match: `if false`, `unless true`, `if x and false`, `unless true or x`.
    ///
    /// Often a rule switched off during debugging. Delete it, or write the condition
    /// it was meant to have. (A condition that is always true is not reported: it
    /// just means the rule has no condition.)
    pub NEVER_MATCHING_RULE, "never-matching-rule", Warning,
    "a rule whose condition can never hold"
}

/// The value of a condition when literals decide it whatever the request holds.
/// Missing values never turn a decided `and`/`or` around: `false and M` is false and
/// `true or M` is true (LANGUAGE.md, Missing propagation), and so are `M and false`'s
/// effects on matching: missing never makes an allow match, and for a deny it matches
/// only when the whole condition is missing, which a decided one is not.
fn constant(e: &Expr) -> Option<bool> {
    match &e.kind {
        ExprKind::Bool(b) => Some(*b),
        ExprKind::Not(x) => constant(x).map(|b| !b),
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        } => match (constant(lhs), constant(rhs)) {
            (Some(false), _) => Some(false),
            (Some(true), r) => r,
            _ => None,
        },
        ExprKind::Binary {
            op: BinOp::Or,
            lhs,
            rhs,
        } => match (constant(lhs), constant(rhs)) {
            (Some(true), _) => Some(true),
            (Some(false), r) => r,
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    for item in &policy.items {
        let Item::Rule(r) = item else { continue };
        let Some(c) = &r.cond else { continue };
        let never = matches!(
            (c.kind, constant(&c.expr)),
            (CondKind::If, Some(false)) | (CondKind::Unless, Some(true))
        );
        if never {
            out.push(
                finding(
                    NEVER_MATCHING_RULE.id,
                    c.expr.span,
                    "this condition is decided by literals: the rule can never match",
                )
                .with_help("delete the rule, or write the condition it was meant to have"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::constant;
    use warden_lang::ast::{Expr, ExprKind, Span};

    fn b(v: bool) -> Expr {
        Expr {
            kind: ExprKind::Bool(v),
            span: Span::default(),
        }
    }

    #[test]
    fn folding() {
        assert_eq!(constant(&b(false)), Some(false));
        let not = Expr {
            kind: ExprKind::Not(Box::new(b(true))),
            span: Span::default(),
        };
        assert_eq!(constant(&not), Some(false));
    }
}
