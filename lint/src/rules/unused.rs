//! Declarations nothing uses: roles, grants, limits, shapes.

use super::head;
use crate::registry::declare_lint;
use crate::{finding, walk, Finding};
use std::collections::{HashMap, HashSet};
use warden_lang::ast::*;

declare_lint! {
    /// A role without parents that nothing refers to: no grant gives it anything, no
    /// role inherits from it, and no rule, route or auth block reads it (`principal is
    /// R`, `require role R`, a bare role name, `roles: [R]`).
    ///
    /// A principal holding it gets nothing from it, so it is either a typo'd twin of a
    /// used role or left over. Remove it, or grant it what it was meant to have. (A
    /// role with parents is not reported: it names a rank that data such as
    /// `resource.role` may hold, and it has its parents' grants.)
    pub UNUSED_ROLE, "unused-role", Warning,
    "a role that grants nothing and that nothing checks"
}

declare_lint! {
    /// A grant all of whose (role, action) pairs another grant already gives: the same
    /// or a broader action pattern, to the same role or one it inherits from (for two
    /// identical grants, the later one is reported).
    ///
    /// Removing it changes no decision; keeping it suggests a difference that is not
    /// there (often one of the two was meant for another role).
    pub UNUSED_GRANT, "unused-grant", Warning,
    "a grant that other grants already give in full"
}

declare_lint! {
    /// A `limit` that no route applies (`limit NAME` in a route).
    ///
    /// The limit counts nothing: either a route lost its `limit` line, or the limit is
    /// left over.
    pub UNUSED_LIMIT, "unused-limit", Warning,
    "a limit that no route applies"
}

declare_lint! {
    /// A shape nothing reads: a `resource T { }` that no rule names in `on`, or a
    /// `context { }` / `input { }` shape while no expression reads `context.*` /
    /// `input.*`.
    ///
    /// Shapes exist so that rules are type-checked; an unread shape checks nothing.
    /// It is often a resource type spelt differently in the rules (`on posts` against
    /// `resource post`).
    pub UNUSED_SHAPE, "unused-shape", Warning,
    "a resource, context or input shape that nothing reads"
}

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    roles(policy, out);
    grants(policy, out);
    limits(policy, out);
    shapes(policy, out);
}

fn roles(policy: &Policy, out: &mut Vec<Finding>) {
    let mut used: HashSet<&str> = HashSet::new();
    for item in &policy.items {
        match item {
            Item::Role(r) => used.extend(r.parents.iter().map(|p| p.name.as_str())),
            Item::Grant(g) => used.extend(g.roles.iter().map(|p| p.name.as_str())),
            Item::Route(r) => {
                for s in &r.body {
                    if let RouteStmt::Require(Requirement {
                        kind: ReqKind::Role(rs),
                        ..
                    }) = s
                    {
                        used.extend(rs.iter().map(|p| p.name.as_str()));
                    }
                }
            }
            Item::Auth(a) => {
                for e in &a.entries {
                    if let AuthValue::Key { principal, .. } = &e.value {
                        for f in principal {
                            walk::visit(&f.value, &mut |x| {
                                if let ExprKind::RoleName(n) = &x.kind {
                                    used.insert(n.name.as_str());
                                }
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for e in walk::all(policy) {
        match &e.kind {
            ExprKind::RoleName(n)
            | ExprKind::Is { role: n, .. }
            | ExprKind::IsIn { role: n, .. } => {
                used.insert(n.name.as_str());
            }
            _ => {}
        }
    }
    for item in &policy.items {
        if let Item::Role(r) = item {
            if r.parents.is_empty() && !used.contains(r.name.name.as_str()) {
                out.push(
                    finding(
                        UNUSED_ROLE.id,
                        r.name.span,
                        format!("role `{}` is never granted anything nor checked: holding it gives nothing", r.name.name),
                    )
                    .with_help("grant it something, check it, or remove it"),
                );
            }
        }
    }
}

/// Whether pattern `a` covers every action of pattern `b`.
fn pattern_covers(a: &ActionKind, b: &ActionKind) -> bool {
    match (a, b) {
        (ActionKind::Any, _) => true,
        (_, ActionKind::Any) => false,
        (a, ActionKind::Exact(x)) => a.matches(x),
        (ActionKind::Namespace(n), ActionKind::Namespace(m)) => {
            n == m
                || m.strip_prefix(n.as_str())
                    .is_some_and(|r| r.starts_with(':'))
        }
        (ActionKind::Exact(_), ActionKind::Namespace(_)) => false,
    }
}

fn grants(policy: &Policy, out: &mut Vec<Finding>) {
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut grants = Vec::new();
    for item in &policy.items {
        match item {
            Item::Role(r) => {
                parents.insert(
                    r.name.name.as_str(),
                    r.parents.iter().map(|p| p.name.as_str()).collect(),
                );
            }
            Item::Grant(g) => grants.push(g),
            _ => {}
        }
    }
    // `role` is or inherits `other` (the checker rejects cycles; `seen` guards anyway).
    let inherits = |role: &str, other: &str| {
        let mut stack = vec![role];
        let mut seen = HashSet::new();
        while let Some(r) = stack.pop() {
            if r == other {
                return true;
            }
            if seen.insert(r) {
                stack.extend(parents.get(r).into_iter().flatten().copied());
            }
        }
        false
    };
    for (i, g) in grants.iter().enumerate() {
        let pairs_covered = g.roles.iter().all(|role| {
            g.actions.iter().all(|act| {
                grants.iter().enumerate().any(|(j, o)| {
                    j != i
                        && o.roles.iter().any(|r| inherits(&role.name, &r.name))
                        && o.actions.iter().any(|p| {
                            pattern_covers(&p.kind, &act.kind)
                                && (j < i
                                    || !pattern_covers(&act.kind, &p.kind)
                                    || !o.roles.iter().any(|r| r.name == role.name))
                        })
                })
            })
        });
        if pairs_covered && !g.roles.is_empty() && !g.actions.is_empty() {
            out.push(
                finding(
                    UNUSED_GRANT.id,
                    head(g.span, 5),
                    "every action of this grant is already given to its roles by other grants (directly or by inheritance)",
                )
                .with_help("remove it, or grant it to the role it was meant for"),
            );
        }
    }
}

fn limits(policy: &Policy, out: &mut Vec<Finding>) {
    let used: HashSet<&str> = walk::routes(policy)
        .iter()
        .flat_map(|r| r.body.iter())
        .flat_map(|s| match s {
            RouteStmt::Limit(n, _) | RouteStmt::LimitOnly(n, _) => n.as_slice(),
            _ => &[],
        })
        .map(|n| n.name.as_str())
        .collect();
    for item in &policy.items {
        if let Item::Limit(l) = item {
            if !used.contains(l.name.name.as_str()) {
                out.push(
                    finding(
                        UNUSED_LIMIT.id,
                        l.name.span,
                        format!("limit `{}` is applied by no route", l.name.name),
                    )
                    .with_help(format!(
                        "add `limit {}` to the routes it should count, or remove it",
                        l.name.name
                    )),
                );
            }
        }
    }
}

fn shapes(policy: &Policy, out: &mut Vec<Finding>) {
    let on: HashSet<&str> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Rule(r) => Some(r.on.iter().map(|t| t.name.as_str())),
            _ => None,
        })
        .flatten()
        .collect();
    let reads = |root: Root| {
        walk::all(policy)
            .iter()
            .any(|e| matches!(&e.kind, ExprKind::Path(p) if p.root == root))
    };
    for item in &policy.items {
        let Item::Shape(s) = item else { continue };
        let unused = match &s.kind {
            ShapeKind::Resource(t) => (!on.contains(t.name.as_str()))
                .then(|| format!("resource type `{}` is named by no rule's `on`", t.name)),
            ShapeKind::Context => (!reads(Root::Context)).then(|| {
                "the `context` shape is declared, and no expression reads `context`".to_string()
            }),
            ShapeKind::Input => (!reads(Root::Input)).then(|| {
                "the `input` shape is declared, and no expression reads `input`".to_string()
            }),
            ShapeKind::Principal => None,
        };
        if let Some(msg) = unused {
            out.push(
                finding(UNUSED_SHAPE.id, head(s.span, 8), msg)
                    .with_help("remove the shape, or fix the name the rules use"),
            );
        }
    }
}
