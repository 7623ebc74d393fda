//! Type rules of the expression forms that compute values: `if ... then ... else`,
//! `header_safe(text, max)` and `principal is ROLE in ORG`.

use super::checker::Checker;
use super::types::{Scope, Ty};
use crate::ast::*;
use crate::diag::Diagnostic;

/// The longest `header_safe` result: well under the header sizes servers accept.
pub(crate) const HEADER_SAFE_MAX: f64 = 8192.0;

impl Checker<'_> {
    pub(crate) fn if_else(
        &mut self,
        cond: &Expr,
        then: &Expr,
        otherwise: &Expr,
        scope: &Scope<'_>,
    ) -> Option<Ty> {
        let before = self.diags.len();
        self.expect_bool(cond, scope);
        let (a, b) = (self.expr(then, scope), self.expr(otherwise, scope));
        let (a, b) = (a?, b?);
        if self.diags.len() != before {
            return None;
        }
        if !a.comparable(&b) {
            self.diags.push(
                Diagnostic::error(
                    "type-mismatch",
                    then.span.to(otherwise.span),
                    format!("the branches of `if` must have one type: {a} and {b}"),
                )
                .with_help("make `then` and `else` the same kind of value"),
            );
            return None;
        }
        Some(if a == Ty::Any { b } else { a })
    }

    pub(crate) fn header_safe(&mut self, text: &Expr, max: &Expr, scope: &Scope<'_>) -> Option<Ty> {
        let t = self.expr(text, scope);
        let limit_ok = matches!(max.kind, ExprKind::Num(n) if n.fract() == 0.0 && (1.0..=HEADER_SAFE_MAX).contains(&n));
        if !limit_ok {
            self.diags.push(
                Diagnostic::error(
                    "invalid-header-safe-max",
                    max.span,
                    "the length limit of `header_safe` must be a whole number from 1 to 8192",
                )
                .with_help("write the number of characters to keep, e.g. `header_safe(input.filename, 200)`"),
            );
            return None;
        }
        self.operand(text, &t?, &[Ty::Str], "`header_safe`")?;
        Some(Ty::Str)
    }

    pub(crate) fn is_in(
        &mut self,
        who: &Expr,
        role: &Ident,
        org: &Expr,
        scope: &Scope<'_>,
    ) -> Option<Ty> {
        let w = self.expr(who, scope);
        let o = self.expr(org, scope);
        let known = self.role_exists(role);
        let (w, o) = (w?, o?);
        if w != Ty::Principal {
            self.diags.push(
                Diagnostic::error(
                    "type-mismatch",
                    who.span,
                    format!("`is ROLE in ORG` needs the principal, but this is {w}"),
                )
                .with_help("write `principal is ROLE in resource.org`"),
            );
            return None;
        }
        let want = Type::Map(Box::new(Type::Set(Box::new(Type::Role))));
        if self.syms.principal.get("org_roles").map(|(t, _)| t) != Some(&want) {
            self.diags.push(
                Diagnostic::error(
                    "missing-org-roles",
                    who.span.to(org.span),
                    "roles held per organization need `org_roles: map<string, set<role>>` in the principal",
                )
                .with_help("declare `principal { org_roles: map<string, set<role>> }`"),
            );
            return None;
        }
        self.operand(org, &o, &[Ty::Str], "`is ROLE in`")?;
        known.then_some(Ty::Bool)
    }
}
