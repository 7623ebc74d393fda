//! Declarations: roles and their inheritance DAG, shapes, limits; duplicates and cycles.

use super::symbols::{Symbols, RESERVED};
use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use std::collections::HashMap;

pub(crate) fn symbols(policy: &Policy, diags: &mut Vec<Diagnostic>) -> Symbols {
    let mut syms = Symbols::default();
    let mut role_spans: HashMap<String, Span> = HashMap::new();
    let mut shape_spans: HashMap<String, Span> = HashMap::new();
    for item in &policy.items {
        match item {
            Item::Role(r) => {
                if reserved(&r.name, "a role", diags) {
                    continue;
                }
                if let Some(first) = role_spans.get(&r.name.name) {
                    diags.push(duplicate("role", &r.name, *first));
                    continue;
                }
                role_spans.insert(r.name.name.clone(), r.name.span);
                let parents = r.parents.iter().map(|p| p.name.clone()).collect();
                syms.roles.insert(r.name.name.clone(), parents);
            }
            Item::Shape(s) => {
                let (key, what) = match &s.kind {
                    ShapeKind::Principal => ("principal".to_string(), "the principal shape"),
                    ShapeKind::Context => ("context".to_string(), "the context shape"),
                    ShapeKind::Input => ("input".to_string(), "the input shape"),
                    ShapeKind::Resource(n) => {
                        if reserved(n, "a resource type", diags) {
                            continue;
                        }
                        (format!("resource {}", n.name), "resource type")
                    }
                };
                let at = match &s.kind {
                    ShapeKind::Resource(n) => n.span,
                    _ => Span::new(s.span.start, s.span.start + key.len() as u32),
                };
                if let Some(first) = shape_spans.get(&key) {
                    let name = match &s.kind {
                        ShapeKind::Resource(n) => format!("{what} `{}`", n.name),
                        _ => what.to_string(),
                    };
                    diags.push(
                        Diagnostic::error("duplicate", at, format!("{name} is declared twice"))
                            .with_label("second declaration")
                            .with_help(format!(
                                "merge it with the first declaration at byte {}",
                                first.start
                            )),
                    );
                    continue;
                }
                shape_spans.insert(key, at);
                let attrs = attributes(s, diags);
                match &s.kind {
                    ShapeKind::Principal => syms.principal = attrs,
                    ShapeKind::Context => syms.context = Some(attrs),
                    ShapeKind::Input => syms.input = Some(attrs),
                    ShapeKind::Resource(n) => {
                        syms.resources.insert(n.name.clone(), attrs);
                    }
                }
            }
            Item::Limit(l) => {
                if let Some(first) = syms.limits.get(&l.name.name) {
                    diags.push(duplicate("limit", &l.name, *first));
                } else {
                    syms.limits.insert(l.name.name.clone(), l.name.span);
                }
            }
            _ => {}
        }
    }
    implicit_attrs(&mut syms, diags, policy);
    role_parents(policy, &syms, diags);
    role_cycles(policy, &syms, diags);
    syms
}

fn reserved(name: &Ident, what: &str, diags: &mut Vec<Diagnostic>) -> bool {
    if RESERVED.contains(&name.name.as_str()) {
        diags.push(
            Diagnostic::error(
                "reserved-name",
                name.span,
                format!("`{}` is a reserved word and cannot name {what}", name.name),
            )
            .with_label("reserved")
            .with_help("choose another name"),
        );
        return true;
    }
    false
}

fn duplicate(what: &str, name: &Ident, first: Span) -> Diagnostic {
    Diagnostic::error(
        "duplicate",
        name.span,
        format!("{what} `{}` is declared twice", name.name),
    )
    .with_label("second declaration")
    .with_help(format!(
        "remove one of the two declarations (the first is at byte {})",
        first.start
    ))
}

fn attributes(s: &ShapeDecl, diags: &mut Vec<Diagnostic>) -> HashMap<String, (Type, bool)> {
    let mut out: HashMap<String, (Type, bool)> = HashMap::new();
    let mut spans: HashMap<&str, Span> = HashMap::new();
    for a in &s.attrs {
        if let Some(first) = spans.get(a.name.name.as_str()) {
            diags.push(duplicate("attribute", &a.name, *first));
            continue;
        }
        spans.insert(&a.name.name, a.name.span);
        out.insert(a.name.name.clone(), (a.ty.clone(), a.optional));
    }
    out
}

/// `principal.id`, `principal.roles` and `resource.id` always exist, with fixed types.
fn implicit_attrs(syms: &mut Symbols, diags: &mut Vec<Diagnostic>, policy: &Policy) {
    for item in &policy.items {
        let Item::Shape(s) = item else { continue };
        let expected: &[(&str, Type)] = match s.kind {
            ShapeKind::Principal => &[
                ("id", Type::String),
                ("roles", Type::Set(Box::new(Type::Role))),
            ],
            ShapeKind::Resource(_) => &[("id", Type::String)],
            _ => &[],
        };
        for a in &s.attrs {
            for (name, ty) in expected {
                if a.name.name == *name && a.ty != *ty {
                    diags.push(
                        Diagnostic::error(
                            "type-mismatch",
                            a.span,
                            format!("`{name}` always has type `{ty}`, not `{}`", a.ty),
                        )
                        .with_help(format!("declare it as `{name}: {ty}` or leave it out")),
                    );
                }
            }
        }
    }
    syms.principal
        .entry("id".into())
        .or_insert((Type::String, false));
    syms.principal
        .entry("roles".into())
        .or_insert((Type::Set(Box::new(Type::Role)), false));
    for attrs in syms.resources.values_mut() {
        attrs.entry("id".into()).or_insert((Type::String, false));
    }
}

fn role_parents(policy: &Policy, syms: &Symbols, diags: &mut Vec<Diagnostic>) {
    for item in &policy.items {
        let Item::Role(r) = item else { continue };
        for p in &r.parents {
            if p.name == r.name.name {
                diags.push(
                    Diagnostic::error(
                        "role-cycle",
                        p.span,
                        format!("role `{}` inherits from itself", p.name),
                    )
                    .with_help("a role cannot outrank itself; remove it from its own parents"),
                );
            } else if !syms.roles.contains_key(&p.name) {
                let help = did_you_mean(&p.name, syms.roles.keys().map(String::as_str))
                    .unwrap_or_else(|| format!("declare it with `role {}`", p.name));
                diags.push(
                    Diagnostic::error("unknown-role", p.span, format!("unknown role `{}`", p.name))
                        .with_label("not declared")
                        .with_help(help),
                );
            }
        }
    }
}

/// Inheritance must be a DAG: report each cycle once, at the declaration that closes it.
fn role_cycles(policy: &Policy, syms: &Symbols, diags: &mut Vec<Diagnostic>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks: HashMap<&str, Mark> =
        syms.roles.keys().map(|k| (k.as_str(), Mark::New)).collect();
    let spans: HashMap<&str, Span> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Role(r) => Some((r.name.name.as_str(), r.name.span)),
            _ => None,
        })
        .collect();
    // Iterative DFS in declaration order, so the report is deterministic.
    let order: Vec<&str> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Role(r) => Some(r.name.name.as_str()),
            _ => None,
        })
        .collect();
    for &root in &order {
        if marks.get(root) != Some(&Mark::New) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        marks.insert(root, Mark::Active);
        while let Some((node, next)) = stack.last().copied() {
            let parents = syms.roles.get(node).map_or(&[][..], Vec::as_slice);
            if next >= parents.len() {
                marks.insert(node, Mark::Done);
                stack.pop();
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let p = parents[next].as_str();
            if p == node {
                continue; // reported by role_parents
            }
            match marks.get(p).copied() {
                Some(Mark::New) => {
                    marks.insert(p, Mark::Active);
                    stack.push((p, 0));
                }
                Some(Mark::Active) => {
                    let start = stack.iter().position(|(n, _)| *n == p).unwrap_or(0);
                    let mut path: Vec<&str> = stack[start..].iter().map(|(n, _)| *n).collect();
                    path.push(p);
                    let span = spans.get(node).copied().unwrap_or_default();
                    diags.push(
                        Diagnostic::error(
                            "role-cycle",
                            span,
                            format!("role inheritance has a cycle: {}", path.join(" > ")),
                        )
                        .with_label("closes the cycle")
                        .with_help("roles must form a hierarchy without cycles; remove one of these parents"),
                    );
                }
                _ => {}
            }
        }
    }
}
