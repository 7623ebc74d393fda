//! Rules and grants that never change a decision, decided exactly over the policy's
//! decision table (no solver): the same partition of actions and resource types that
//! the engine compiles (`core/src/compile.rs`).
//!
//! Actions fall into finitely many classes: each exact action the policy names, each
//! namespace of an `ns:*` pattern (its unnamed verbs), and every other action; resource
//! types into the declared ones and "any other or none". A rule or grant applies to a
//! set of cells (action class x type). Only rules without a condition are taken to
//! match always, so every finding is exact: it holds for every request.

use crate::registry::declare_lint;
use crate::{finding, Finding};
use std::collections::BTreeSet;
use warden_lang::ast::{ActionKind, ActionPat, Effect, Item, Policy, Rule, ShapeKind};

declare_lint! {
    /// A rule that never changes a decision, because rules without a condition decide
    /// every request it applies to:
    ///
    /// - an `allow` rule all of whose (action, resource type) cells are also covered
    ///   by an unconditional `deny` (a deny always wins: the allow is overridden);
    /// - a `deny` rule all of whose cells are covered by another unconditional `deny`
    ///   (an earlier one, when both are unconditional);
    /// - an `allow` rule all of whose cells are covered by an earlier unconditional
    ///   `allow`.
    ///
    /// Decided exactly over the decision table (action classes x resource types), not
    /// guessed. Usually the covering rule is broader than meant (`deny *` for
    /// `deny posts:*`), or the shadowed rule is dead code to delete.
    pub SHADOWED_RULE, "shadowed-rule", Warning,
    "a rule that is always overridden or duplicated by unconditional rules"
}

declare_lint! {
    /// A grant whose every action is denied, for every resource type, by unconditional
    /// `deny` rules: the grant never allows anything.
    ///
    /// Remove the grant, or narrow the deny (`on TYPE`, a condition).
    pub OVERRIDDEN_GRANT, "overridden-grant", Warning,
    "a grant that unconditional deny rules always override"
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Class {
    Exact(String),
    Namespace(String),
    Other,
}

/// Whether an action pattern covers every action of a class.
fn pat_covers(p: &ActionKind, c: &Class) -> bool {
    match (p, c) {
        (ActionKind::Any, _) => true,
        (p, Class::Exact(a)) => p.matches(a),
        (ActionKind::Namespace(n), Class::Namespace(m)) => {
            n == m
                || m.strip_prefix(n.as_str())
                    .is_some_and(|r| r.starts_with(':'))
        }
        _ => false,
    }
}

/// The decision table's axes.
struct Table {
    classes: Vec<Class>,
    /// Declared types, then `None` for any other type or none.
    types: Vec<Option<String>>,
}

type Cell = (usize, usize);

impl Table {
    fn new(policy: &Policy) -> Self {
        let mut classes = BTreeSet::new();
        let mut types = BTreeSet::new();
        let mut add = |pats: &[ActionPat]| {
            for p in pats {
                match &p.kind {
                    ActionKind::Exact(a) => {
                        classes.insert(Class::Exact(a.clone()));
                    }
                    ActionKind::Namespace(n) => {
                        classes.insert(Class::Namespace(n.clone()));
                    }
                    ActionKind::Any => {}
                }
            }
        };
        for item in &policy.items {
            match item {
                Item::Grant(g) => add(&g.actions),
                Item::Rule(r) => {
                    add(&r.actions);
                    types.extend(r.on.iter().map(|t| t.name.clone()));
                }
                Item::Shape(s) => {
                    if let ShapeKind::Resource(t) = &s.kind {
                        types.insert(t.name.clone());
                    }
                }
                _ => {}
            }
        }
        let mut classes: Vec<Class> = classes.into_iter().collect();
        classes.push(Class::Other);
        let mut types: Vec<Option<String>> = types.into_iter().map(Some).collect();
        types.push(None);
        Table { classes, types }
    }

    fn cells(
        &self,
        actions: &[ActionPat],
        on: Option<&[warden_lang::ast::Ident]>,
    ) -> BTreeSet<Cell> {
        let mut out = BTreeSet::new();
        for (ci, c) in self.classes.iter().enumerate() {
            if !actions.iter().any(|p| pat_covers(&p.kind, c)) {
                continue;
            }
            for (ti, t) in self.types.iter().enumerate() {
                let applies = match (on, t) {
                    (None, _) | (Some([]), _) => true,
                    (Some(list), Some(t)) => list.iter().any(|x| &x.name == t),
                    (Some(_), None) => false,
                };
                if applies {
                    out.insert((ci, ti));
                }
            }
        }
        out
    }
}

/// A rule that matches every request it applies to.
fn unconditional(r: &Rule) -> bool {
    r.cond.is_none()
}

pub(crate) fn check(policy: &Policy, source: &str, out: &mut Vec<Finding>) {
    let index = warden_lang::diag::LineIndex::new(source);
    let table = Table::new(policy);
    let rules: Vec<(&Rule, BTreeSet<Cell>)> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Rule(r) => Some((r, table.cells(&r.actions, Some(&r.on)))),
            _ => None,
        })
        .collect();
    let covered_by = |cells: &BTreeSet<Cell>, pred: &dyn Fn(usize, &Rule) -> bool| {
        let covering: Vec<usize> = rules
            .iter()
            .enumerate()
            .filter(|(j, (r, _))| pred(*j, r))
            .map(|(j, _)| j)
            .collect();
        let all = !cells.is_empty()
            && cells
                .iter()
                .all(|cell| covering.iter().any(|&j| rules[j].1.contains(cell)));
        all.then(|| {
            covering
                .into_iter()
                .filter(|&j| cells.iter().any(|c| rules[j].1.contains(c)))
                .collect::<Vec<usize>>()
        })
    };
    let lines_of = |js: &[usize]| {
        let lines: Vec<String> = js
            .iter()
            .map(|&j| {
                index
                    .line_col(source, rules[j].0.span.start as usize)
                    .0
                    .to_string()
            })
            .collect();
        let noun = if lines.len() == 1 { "line" } else { "lines" };
        format!("{noun} {}", lines.join(", "))
    };
    for (i, (r, cells)) in rules.iter().enumerate() {
        let hit = match r.effect {
            Effect::Allow => {
                covered_by(cells, &|_, o| o.effect == Effect::Deny && unconditional(o))
                    .map(|j| (j, "a deny always wins, and these have no condition"))
                    .or_else(|| {
                        covered_by(cells, &|j, o| {
                            j < i && o.effect == Effect::Allow && unconditional(o)
                        })
                        .map(|j| {
                            (
                                j,
                                "an earlier allow without a condition already allows all of it",
                            )
                        })
                    })
            }
            // Of two unconditional denies covering each other, the later is reported;
            // a narrower one is reported whatever the order.
            Effect::Deny => covered_by(cells, &|j, o| {
                j != i
                    && o.effect == Effect::Deny
                    && unconditional(o)
                    && (j < i || !unconditional(r) || !rules[j].1.is_subset(cells))
            })
            .map(|j| {
                (
                    j,
                    "those denies have no condition, so this one never changes a decision",
                )
            }),
        };
        if let Some((j, why)) = hit {
            let kind = if r.effect == Effect::Allow {
                "allow"
            } else {
                "deny"
            };
            out.push(
                finding(
                    SHADOWED_RULE.id,
                    super::head(r.span, 5),
                    format!("this {kind} rule never changes a decision: the rules on {} decide every request it applies to", lines_of(&j)),
                )
                .with_label(why)
                .with_help("remove it, or narrow the covering rule (`on TYPE`, a condition)"),
            );
        }
    }
    for item in &policy.items {
        let Item::Grant(g) = item else { continue };
        let cells = table.cells(&g.actions, None);
        if let Some(j) = covered_by(&cells, &|_, o| o.effect == Effect::Deny && unconditional(o)) {
            out.push(
                finding(
                    OVERRIDDEN_GRANT.id,
                    super::head(g.span, 5),
                    format!("this grant never allows anything: unconditional deny rules on {} cover all of it", lines_of(&j)),
                )
                .with_help("remove the grant, or narrow the deny"),
            );
        }
    }
}
