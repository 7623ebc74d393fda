//! The checker: everything that can be known wrong before a request arrives.
//!
//! It never stops at the first problem: every independent error of a file is reported,
//! in source order. `declare` builds the symbol table, `types` checks expressions,
//! `http` checks limits, routes, headers and cors, `script` compiles Rhai blocks,
//! `actions` checks rules' actions against the ones the policy declares, `report` where
//! `report_only` may stand.

mod actions;
mod auth;
pub mod case;
mod checker;
mod declare;
mod forms;
pub(crate) mod http;
mod paths;
pub(crate) mod patterns;
mod proxies;
pub(crate) mod regexes;
mod report;
pub(crate) mod script;
mod symbols;
mod types;

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;
use checker::Checker;
use std::collections::HashMap;
use symbols::Symbols;

/// A policy that parsed and checked without errors, with any warnings.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The syntax tree, safe to compile.
    pub policy: Policy,
    /// Warnings only (a policy with errors is not `Checked`).
    pub warnings: Vec<Diagnostic>,
}

/// Parse and check. `Err` holds every diagnostic (errors and warnings) when any is an error.
pub fn load(source: &str, limits: &Limits) -> Result<Checked, Vec<Diagnostic>> {
    let policy = crate::parse(source, limits)?;
    let diags = check(&policy, limits);
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(Checked {
            policy,
            warnings: diags,
        })
    }
}

/// Check a parsed policy; returns every error and warning, in source order.
pub fn check(policy: &Policy, limits: &Limits) -> Vec<Diagnostic> {
    let mut cx = Checker {
        limits,
        diags: Vec::new(),
        syms: Symbols::default(),
        regexes: HashMap::new(),
    };
    cx.syms = declare::symbols(policy, &mut cx.diags);
    cx.syms.hosts = policy.items.iter().any(|i| matches!(i, Item::Hosts(_)));
    script::check(policy, limits, &mut cx.syms, &mut cx.diags);
    for item in &policy.items {
        match item {
            Item::Role(_) | Item::Shape(_) | Item::Script(_) => {}
            Item::Grant(g) => cx.grant(g),
            Item::Rule(r) => cx.rule(r),
            Item::Limit(l) => cx.limit(l),
            Item::Route(r) => cx.route(r),
            Item::Headers(h) => cx.headers(h),
            Item::Cors(c) => cx.cors(c),
            Item::Startup(s) => cx.startup(s),
            Item::Auth(a) => cx.auth(a),
            Item::Hosts(h) => cx.hosts(h),
            Item::Cookies(c) => cx.cookies(c),
            Item::Proxies(p) => cx.proxies(p),
        }
    }
    patterns::route_conflicts(policy, &mut cx.diags);
    proxies::one_block(policy, &mut cx.diags);
    actions::check(policy, &mut cx.diags);
    report::check(policy, &mut cx.diags);
    cx.diags.extend(case::case_sensitive(policy));
    let mut diags = cx.diags;
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    diags.dedup();
    diags
}

impl Checker<'_> {
    fn grant(&mut self, g: &GrantDecl) {
        for r in &g.roles {
            self.role_exists(r);
        }
    }

    fn rule(&mut self, r: &Rule) {
        let mut types_ok = true;
        for t in &r.on {
            if !self.syms.resources.contains_key(&t.name) {
                types_ok = false;
                let help = crate::diag::did_you_mean(
                    &t.name,
                    self.syms.resources.keys().map(String::as_str),
                )
                .unwrap_or_else(|| format!("declare it with `resource {} {{ ... }}`", t.name));
                self.diags.push(
                    Diagnostic::error(
                        "unknown-resource",
                        t.span,
                        format!("unknown resource type `{}`", t.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
            }
        }
        if let Some(c) = &r.cond {
            let scope = types::Scope::Rule {
                on: if types_ok { &r.on } else { &[] },
                types_ok,
            };
            self.expect_bool(&c.expr, &scope);
        }
        if r.effect == Effect::Allow && r.missing.is_some() {
            let span = Span::new(r.span.start, r.span.start + 5);
            self.diags.push(
                Diagnostic::error(
                    "missing-on-allow",
                    span,
                    "`missing` applies to deny rules only",
                )
                .with_help("an allow rule whose condition reads a missing attribute never matches; remove `missing ...`"),
            );
        }
    }

    fn startup(&mut self, s: &StartupDecl) {
        for c in &s.checks {
            self.expect_bool(&c.expr, &types::Scope::Load);
            if let Some(cond) = &c.cond {
                self.expect_bool(cond, &types::Scope::Load);
            }
        }
    }
}
