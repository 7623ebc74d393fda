//! Startup checks: `startup { require EXPR [if EXPR] [because "..."] }`, folded when the
//! engine loads. A policy whose checks fail does not load; every failed check is listed
//! at its line. Messages name secrets, never their values.

use crate::lower;
use crate::options::Options;
use crate::program::{Konst, Node};
use crate::tables::FxMap;
use warden_lang::ast::{self, CorsValue, Expr, ExprKind, Item, StrLit};
use warden_lang::Diagnostic;

/// Evaluate every startup check of `policy`; the diagnostics of those that fail.
pub(crate) fn check(source: &str, policy: &ast::Policy, options: &Options) -> Vec<Diagnostic> {
    let roles = FxMap::default();
    let scope = lower::Scope {
        roles: &roles,
        policy,
        scripts: None,
        options,
    };
    let origins = cors_origins(&scope);
    let mut diags = Vec::new();
    for item in &policy.items {
        let Item::Startup(s) = item else { continue };
        for c in &s.checks {
            if let Some(cond) = &c.cond {
                match fold(&scope, &with_origins(cond, &origins), &mut diags) {
                    Folded::Bool(true) => {}
                    // A condition on an unset optional secret does not hold.
                    Folded::Bool(false) | Folded::Missing => continue,
                    // Cannot be decided at load: the check applies (fail closed).
                    Folded::Unknown => {}
                }
            }
            match fold(&scope, &with_origins(&c.expr, &origins), &mut diags) {
                // Missing only through `secret(NAME)?` left unset: nothing to check.
                Folded::Bool(true) | Folded::Missing => continue,
                Folded::Bool(false) | Folded::Unknown => {}
            }
            let text = source.get(c.expr.span.range()).unwrap_or("the check");
            let message = match &c.because {
                Some(b) => b.value.clone(),
                None => format!("startup check failed: `{text}`"),
            };
            diags.push(
                Diagnostic::error("startup-check-failed", c.span, message)
                    .with_label(format!("`{text}` does not hold"))
                    .with_help(format!(
                        "the policy's startup checks must hold in environment `{}`; fix the secret or setting they name",
                        options.env
                    )),
            );
        }
    }
    diags
}

/// A load-time expression's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folded {
    Bool(bool),
    /// It reads an optional secret the host did not supply.
    Missing,
    /// Not a bool known at load (or an error, already reported).
    Unknown,
}

fn fold(scope: &lower::Scope<'_>, e: &Expr, diags: &mut Vec<Diagnostic>) -> Folded {
    match lower::lower(scope, &[], e, diags) {
        Some(Node::Const(Konst::Bool(b))) => Folded::Bool(b),
        Some(Node::Const(Konst::Missing)) => Folded::Missing,
        _ => Folded::Unknown,
    }
}

/// The origins the cors block allows in this environment, its `if` lines folded.
fn cors_origins(scope: &lower::Scope<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for item in &scope.policy.items {
        let Item::Cors(c) = item else { continue };
        for e in &c.entries {
            if !matches!(
                e.value,
                CorsValue::Origins(_) | CorsValue::OriginsFrom { .. }
            ) {
                continue;
            }
            let on = match &e.cond {
                None => true,
                Some(cond) => fold(scope, cond, &mut ignored) == Folded::Bool(true),
            };
            match &e.value {
                CorsValue::Origins(xs) if on => {
                    out.extend(xs.iter().map(|s: &StrLit| s.value.clone()));
                }
                // A bad setting is reported by the cors block itself.
                CorsValue::OriginsFrom {
                    setting,
                    separator,
                    fallback,
                } if on => out.extend(
                    crate::http::origins_from_setting(scope.options, setting, separator, fallback)
                        .unwrap_or_default(),
                ),
                _ => {}
            }
        }
    }
    out
}

/// `cors_origins()` -> the list literal of the folded origins.
fn with_origins(e: &Expr, origins: &[String]) -> Expr {
    let go = |x: &Expr| Box::new(with_origins(x, origins));
    let kind = match &e.kind {
        ExprKind::Call { func, args } if func.name == "cors_origins" && args.is_empty() => {
            ExprKind::List(
                origins
                    .iter()
                    .map(|o| Expr {
                        kind: ExprKind::Str(o.clone()),
                        span: e.span,
                    })
                    .collect(),
            )
        }
        ExprKind::List(xs) => ExprKind::List(xs.iter().map(|x| with_origins(x, origins)).collect()),
        ExprKind::Call { func, args } => ExprKind::Call {
            func: func.clone(),
            args: args.iter().map(|x| with_origins(x, origins)).collect(),
        },
        ExprKind::Not(x) => ExprKind::Not(go(x)),
        ExprKind::Len(x) => ExprKind::Len(go(x)),
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: go(lhs),
            rhs: go(rhs),
        },
        ExprKind::Matches { expr, regex } => ExprKind::Matches {
            expr: go(expr),
            regex: regex.clone(),
        },
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => ExprKind::IfElse {
            cond: go(cond),
            then: go(then),
            otherwise: go(otherwise),
        },
        other => other.clone(),
    };
    Expr { kind, span: e.span }
}
