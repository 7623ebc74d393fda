//! Visiting every expression of a policy, with where it appears.

use warden_lang::ast::*;

/// Call `f` on `e` and every expression inside it, outermost first.
pub(crate) fn visit<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match &e.kind {
        ExprKind::List(xs) => xs.iter().for_each(|x| visit(x, f)),
        ExprKind::Call { args, .. } => args.iter().for_each(|x| visit(x, f)),
        ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::IsInt(x) => visit(x, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            visit(lhs, f);
            visit(rhs, f);
        }
        ExprKind::Matches { expr, .. } | ExprKind::Is { expr, .. } => visit(expr, f),
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            visit(cond, f);
            visit(then, f);
            visit(otherwise, f);
        }
        ExprKind::HeaderSafe { text, max } => {
            visit(text, f);
            visit(max, f);
        }
        ExprKind::IsIn { expr, org, .. } => {
            visit(expr, f);
            visit(org, f);
        }
        _ => {}
    }
}

/// The top-level expressions of a policy: rule conditions, route requirements and
/// computed headers, limit keys, startup checks, `if` conditions of headers and cors.
pub(crate) fn roots(policy: &Policy) -> Vec<&Expr> {
    let mut out = Vec::new();
    for item in &policy.items {
        match item {
            Item::Rule(r) => out.extend(r.cond.as_ref().map(|c| &c.expr)),
            Item::Limit(l) => out.push(&l.key),
            Item::Route(r) => {
                for s in &r.body {
                    match s {
                        RouteStmt::Require(req) => match &req.kind {
                            ReqKind::Expr(e) => out.push(e),
                            ReqKind::Signature(sig) => out.push(&sig.secret),
                            _ => {}
                        },
                        RouteStmt::HeaderSetExpr { value, .. } => out.push(value),
                        _ => {}
                    }
                }
            }
            Item::Headers(h) => out.extend(h.entries.iter().filter_map(|e| e.cond.as_ref())),
            Item::Cors(c) => out.extend(c.entries.iter().filter_map(|e| e.cond.as_ref())),
            Item::Startup(s) => {
                for c in &s.checks {
                    out.push(&c.expr);
                    out.extend(c.cond.as_ref());
                }
            }
            _ => {}
        }
    }
    out
}

/// Every expression of the policy, nested ones included.
pub(crate) fn all(policy: &Policy) -> Vec<&Expr> {
    let mut out = Vec::new();
    for root in roots(policy) {
        visit(root, &mut |e| out.push(e));
    }
    out
}

/// The routes of a policy.
pub(crate) fn routes(policy: &Policy) -> Vec<&RouteDecl> {
    policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Route(r) => Some(r),
            _ => None,
        })
        .collect()
}
