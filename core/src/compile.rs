//! Syntax tree -> decision tables ([`Tables`]): interned roles, actions and types, the
//! role x action grant table closed under inheritance and wildcards, and rules indexed by
//! (action, type).
//!
//! Architecture invariant: after this module, nothing looks at `warden_lang::ast` on the
//! request path; conditions are lowered by `lower.rs` into [`Node`] programs.

use crate::lower;
use crate::options::Options;
use crate::program::Fast;
use crate::tables::{Bits, CRule, Entry, FxMap, NameIndex, Tables, NO_GRANT};
use warden_lang::ast::{self, ActionKind, Effect, Item};
use warden_lang::diag::LineIndex;
use warden_lang::Diagnostic;

/// What an action class stands for, to match patterns against it.
enum Class<'a> {
    Exact(&'a str),
    Namespace(&'a str),
    Other,
}

fn class_matches(pat: &ActionKind, class: &Class<'_>) -> bool {
    match (pat, class) {
        (ActionKind::Any, _) => true,
        (p, Class::Exact(name)) => p.matches(name),
        (ActionKind::Namespace(n), Class::Namespace(ns)) => {
            n == ns
                || ns
                    .strip_prefix(n.as_str())
                    .is_some_and(|r| r.starts_with(':'))
        }
        _ => false,
    }
}

/// `file:line` of source positions, as decisions and the decision log cite them; one
/// line index for the whole load.
pub(crate) struct Locs<'a> {
    file: &'a str,
    lines: LineIndex,
}

impl<'a> Locs<'a> {
    pub fn new(file: &'a str, source: &str) -> Locs<'a> {
        Locs {
            file,
            lines: LineIndex::new(source),
        }
    }

    /// `file:line` of the span's start (built by hand: `format!` was a fiftieth of a
    /// small policy's load).
    pub fn at(&self, span: ast::Span) -> Box<str> {
        let mut line = itoa::Buffer::new();
        let line = line.format(self.lines.line(span.start as usize));
        let mut out = String::with_capacity(self.file.len() + 1 + line.len());
        out.push_str(self.file);
        out.push(':');
        out.push_str(line);
        out.into_boxed_str()
    }
}

/// Compile a checked policy. Errors are diagnostics pointing into the source.
pub(crate) fn compile(
    locs: &Locs,
    policy: &ast::Policy,
    options: &Options,
) -> Result<Tables, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let loc = |span: ast::Span| locs.at(span);

    // Roles, in declaration order.
    let mut roles: FxMap<u32> = FxMap::default();
    let mut role_names = Vec::new();
    for item in &policy.items {
        if let Item::Role(r) = item {
            if roles.contains_key(r.name.name.as_str()) {
                diags.push(Diagnostic::error(
                    "duplicate-role",
                    r.name.span,
                    format!("role `{}` is declared twice", r.name.name),
                ));
                continue;
            }
            roles.insert(r.name.name.as_str().into(), role_names.len() as u32);
            role_names.push(r.name.name.as_str().into());
        }
    }
    let n_roles = role_names.len();
    let role_ref = |id: &ast::Ident, diags: &mut Vec<Diagnostic>| -> Option<u32> {
        let r = roles.get(id.name.as_str()).copied();
        if r.is_none() {
            diags.push(
                Diagnostic::error(
                    "unknown-role",
                    id.span,
                    format!("role `{}` is not declared", id.name),
                )
                .with_help("declare it with `role NAME`"),
            );
        }
        r
    };

    // Inheritance closure: a fixpoint over parent edges, safe on cycles.
    let mut parents: Vec<Vec<u32>> = vec![Vec::new(); n_roles];
    for item in &policy.items {
        if let Item::Role(r) = item {
            let Some(me) = roles.get(r.name.name.as_str()).copied() else {
                continue;
            };
            for p in &r.parents {
                if let Some(p) = role_ref(p, &mut diags) {
                    if let Some(list) = parents.get_mut(me as usize) {
                        list.push(p);
                    }
                }
            }
        }
    }
    let mut anc: Vec<Bits> = (0..n_roles)
        .map(|r| {
            let mut b = Bits::new(n_roles);
            b.set(r as u32);
            b
        })
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for r in 0..n_roles {
            let mut acc = anc[r].clone();
            for &p in &parents[r] {
                acc.union(&anc[p as usize]);
            }
            if acc.0 != anc[r].0 {
                anc[r] = acc;
                changed = true;
            }
        }
    }

    // Action classes: exact names, then one per namespace, then "other".
    let mut actions: FxMap<u32> = FxMap::default();
    let mut namespaces: FxMap<u32> = FxMap::default();
    let mut exact: Vec<String> = Vec::new();
    let mut nss: Vec<String> = Vec::new();
    let mut note = |k: &ActionKind| match k {
        ActionKind::Exact(a) if !exact.contains(a) => exact.push(a.clone()),
        ActionKind::Namespace(n) if !nss.contains(n) => nss.push(n.clone()),
        _ => {}
    };
    for item in &policy.items {
        match item {
            Item::Grant(g) => g.actions.iter().for_each(|a| note(&a.kind)),
            Item::Rule(r) => r.actions.iter().for_each(|a| note(&a.kind)),
            _ => {}
        }
    }
    let mut classes: Vec<Class<'_>> = Vec::new();
    for a in &exact {
        actions.insert(a.as_str().into(), classes.len() as u32);
        classes.push(Class::Exact(a));
    }
    for n in &nss {
        namespaces.insert(n.as_str().into(), classes.len() as u32);
        classes.push(Class::Namespace(n));
    }
    let other_action = classes.len() as u32;
    classes.push(Class::Other);
    let n_actions = classes.len();

    // Resource types.
    let mut types: FxMap<u32> = FxMap::default();
    let mut type_names: Vec<String> = Vec::new();
    let mut note_type = |t: &str| {
        if !type_names.iter().any(|x| x == t) {
            type_names.push(t.to_owned());
        }
    };
    for item in &policy.items {
        match item {
            Item::Rule(r) => r.on.iter().for_each(|t| note_type(&t.name)),
            Item::Shape(ast::ShapeDecl {
                kind: ast::ShapeKind::Resource(t),
                ..
            }) => note_type(&t.name),
            _ => {}
        }
    }
    for (i, t) in type_names.iter().enumerate() {
        types.insert(t.as_str().into(), i as u32);
    }
    let other_type = type_names.len() as u32;
    let n_types = type_names.len() + 1;

    // Grants: direct grants first, then closed under inheritance.
    let mut direct = vec![NO_GRANT; n_roles * n_actions];
    let mut grant_locs = Vec::new();
    for item in &policy.items {
        if let Item::Grant(g) = item {
            let gi = grant_locs.len() as u32;
            grant_locs.push(loc(g.span));
            for r in &g.roles {
                let Some(r) = role_ref(r, &mut diags) else {
                    continue;
                };
                for (c, class) in classes.iter().enumerate() {
                    if g.actions.iter().any(|p| class_matches(&p.kind, class)) {
                        let slot = &mut direct[r as usize * n_actions + c];
                        *slot = (*slot).min(gi);
                    }
                }
            }
        }
    }
    let mut grant_of = vec![NO_GRANT; n_roles * n_actions];
    for r in 0..n_roles {
        for a in 0..n_roles {
            if anc[r].has(a as u32) {
                for c in 0..n_actions {
                    let g = direct[a * n_actions + c];
                    let slot = &mut grant_of[r * n_actions + c];
                    *slot = (*slot).min(g);
                }
            }
        }
    }

    let scripts = crate::script::Scripts::compile(policy, &options.limits, &mut diags);
    let tables_partial = lower::Scope {
        scripts: scripts.as_ref(),
        roles: &roles,
        policy,
        options,
    };

    // Rules, then the index.
    let mut rules = Vec::new();
    let mut rule_asts = Vec::new();
    let whole_report = policy.report_only.is_some();
    for item in &policy.items {
        let Item::Rule(r) = item else { continue };
        let cond = r.cond.as_ref().and_then(|c| {
            lower::lower(&tables_partial, &r.on, &c.expr, &mut diags).map(|n| (c.kind, n))
        });
        let l = loc(r.span);
        let reason = match (&r.because, r.effect) {
            (Some(b), _) => b.value.clone().into_boxed_str(),
            (None, Effect::Deny) => format!("denied by the rule at {l}").into_boxed_str(),
            (None, Effect::Allow) => format!("allowed by the rule at {l}").into_boxed_str(),
        };
        let mut reads = Vec::new();
        if let Some((_, n)) = &cond {
            lower::reads(n, &mut reads);
        }
        rules.push(CRule {
            reads_now: cond.as_ref().is_some_and(|(_, n)| lower::reads_now(n)),
            reads: reads.into_boxed_slice(),
            effect: r.effect,
            fast: cond.as_ref().and_then(|(_, n)| Fast::of(n)),
            cond,
            missing: r.missing.unwrap_or_default(),
            loc: l,
            reason,
            report_only: r.effect == Effect::Deny && (r.report_only.is_some() || whole_report),
        });
        rule_asts.push(r);
    }
    let mut index = Vec::with_capacity(n_actions * n_types);
    for class in &classes {
        for t in 0..n_types {
            let mut entry_allows = Vec::new();
            let mut entry_denies = Vec::new();
            let mut entry_reports = Vec::new();
            for (i, r) in rule_asts.iter().enumerate() {
                let acts = r.actions.iter().any(|p| class_matches(&p.kind, class));
                let on = r.on.is_empty()
                    || r.on
                        .iter()
                        .any(|o| types.get(o.name.as_str()) == Some(&(t as u32)));
                if acts && on {
                    // In a `report_only` policy every deny is enforced as written and
                    // the decision reported as a whole (`Authz::decision`).
                    match (r.effect, r.report_only.is_some() && !whole_report) {
                        (Effect::Allow, _) => entry_allows.push(i as u32),
                        (Effect::Deny, false) => entry_denies.push(i as u32),
                        (Effect::Deny, true) => entry_reports.push(i as u32),
                    }
                }
            }
            index.push(Entry {
                allows: entry_allows.into_boxed_slice(),
                denies: entry_denies.into_boxed_slice(),
                reports: entry_reports.into_boxed_slice(),
            });
        }
    }

    secrets_outside_rules(policy, options, &mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    let anc_mask = (n_roles <= 64).then(|| {
        anc.iter()
            .map(|b| b.0.first().copied().unwrap_or(0))
            .collect()
    });
    Ok(Tables {
        role_ix: NameIndex::new(&roles),
        action_ix: NameIndex::new(&actions),
        type_ix: NameIndex::new(&types),
        roles,
        role_names,
        anc,
        anc_mask,
        namespaces,
        other_action,
        n_actions: n_actions as u32,
        other_type,
        n_types: n_types as u32,
        grant_of,
        grant_locs,
        index,
        rules,
        scripts,
        report_only: policy.report_only.map(|_| loc(policy.name.span)),
    })
}

/// Every `secret(NAME)` outside rules (routes, limits, headers, cors, startup) must be
/// set at load too, although only rules are compiled here: a missing secret is a load
/// error wherever it is read, never a surprise on the first HTTP request.
fn secrets_outside_rules(policy: &ast::Policy, options: &Options, diags: &mut Vec<Diagnostic>) {
    /// Host values read by name: `secret(NAME)` (true) or `config(NAME)` (false).
    fn visit(e: &ast::Expr, out: &mut Vec<(ast::Ident, bool)>) {
        use ast::ExprKind as K;
        match &e.kind {
            K::Config(name) => out.push((name.clone(), false)),
            // An optional secret reads as missing when unset: not a load error.
            K::Secret {
                name,
                optional: false,
            } => out.push((name.clone(), true)),
            K::List(xs) => xs.iter().for_each(|x| visit(x, out)),
            K::Call { args, .. } => args.iter().for_each(|x| visit(x, out)),
            K::Not(x) | K::Len(x) => visit(x, out),
            K::Matches { expr, .. } | K::Is { expr, .. } => visit(expr, out),
            K::Binary { lhs, rhs, .. } => {
                visit(lhs, out);
                visit(rhs, out);
            }
            _ => {}
        }
    }
    let mut names = Vec::new();
    for item in &policy.items {
        match item {
            Item::Limit(l) => visit(&l.key, &mut names),
            Item::Route(r) => {
                for st in &r.body {
                    if let ast::RouteStmt::Require(ast::Requirement {
                        kind: ast::ReqKind::Expr(e) | ast::ReqKind::First(e),
                        ..
                    }) = st
                    {
                        visit(e, &mut names);
                    }
                    if let ast::RouteStmt::Require(ast::Requirement {
                        kind: ast::ReqKind::Signature(sig),
                        ..
                    }) = st
                    {
                        visit(&sig.secret, &mut names);
                    }
                }
            }
            Item::Headers(h) => h
                .entries
                .iter()
                .filter_map(|e| e.cond.as_ref())
                .for_each(|e| visit(e, &mut names)),
            Item::Cors(c) => c
                .entries
                .iter()
                .filter_map(|e| e.cond.as_ref())
                .for_each(|e| visit(e, &mut names)),
            Item::Startup(s) => {
                for c in &s.checks {
                    visit(&c.expr, &mut names);
                    if let Some(e) = &c.cond {
                        visit(e, &mut names);
                    }
                }
            }
            _ => {}
        }
    }
    for (n, secret) in names {
        if secret && options.secret_value(&n.name).is_none() {
            diags.push(crate::lower::missing_secret(&n));
        } else if !secret && options.config_value(&n.name).is_none() {
            diags.push(crate::lower::missing_config(&n));
        }
    }
}
