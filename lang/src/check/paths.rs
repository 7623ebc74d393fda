//! Attribute paths: what each scope may read (`principal.*`, `resource.*` of the rule's
//! types, `context.*`, `input.*`, `request.*`) and the declared type of each attribute.

use super::checker::Checker;
use super::types::{load_only, Scope, Ty};
use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use std::collections::HashMap;

impl Checker<'_> {
    pub(super) fn path(&mut self, p: &Path, span: Span, scope: &Scope<'_>) -> Option<Ty> {
        let allowed = match (p.root, scope) {
            (_, Scope::Load) => false,
            (Root::Principal, Scope::RouteFirst) => {
                self.diags.push(
                    Diagnostic::error(
                        "principal-before-auth",
                        span,
                        "`require first` is tested before authentication; it cannot read the principal",
                    )
                    .with_help("check the principal with a plain `require` (tested after authentication)"),
                );
                return None;
            }
            (Root::Principal, _) => true,
            (Root::Resource | Root::Context, Scope::Rule { .. }) => true,
            (Root::Input | Root::Request, Scope::Route | Scope::RouteFirst | Scope::LimitKey) => {
                true
            }
            _ => false,
        };
        if !allowed {
            let msg = match scope {
                Scope::Load => {
                    self.diags.push(load_only(span, &format!("`{}`", p.root.keyword())));
                    return None;
                }
                Scope::Rule { .. } => format!(
                    "`{}` is part of an HTTP request; rules read principal, resource and context",
                    p.root.keyword()
                ),
                Scope::Route | Scope::RouteFirst | Scope::LimitKey => format!(
                    "`{}` is not available in a route or limit; they read principal, input, header, ip and request",
                    p.root.keyword()
                ),
            };
            self.diags.push(
                Diagnostic::error("wrong-scope", span, msg)
                    .with_help("see \"What each place may read\" in docs/LANGUAGE.md"),
            );
            return None;
        }
        let Some(first) = p.attrs.first() else {
            return match p.root {
                Root::Principal => Some(Ty::Principal),
                _ => {
                    self.diags.push(
                        Diagnostic::error(
                            "incomplete-path",
                            span,
                            format!(
                                "`{}` needs an attribute, e.g. `{}.id`",
                                p.root.keyword(),
                                p.root.keyword()
                            ),
                        )
                        .with_help("name the attribute to read"),
                    );
                    None
                }
            };
        };
        let ty = match p.root {
            Root::Principal => {
                let attrs = &self.syms.principal;
                lookup(attrs, first, "the principal", "principal { ... }")
                    .map_err(|d| self.diags.push(d))
                    .ok()?
            }
            Root::Resource => {
                let Scope::Rule { on, types_ok } = scope else {
                    return None;
                };
                if on.is_empty() {
                    if *types_ok {
                        self.diags.push(
                            Diagnostic::error(
                                "resource-without-type",
                                span,
                                format!(
                                    "`resource.{}` is read, but the rule names no resource type",
                                    first.name
                                ),
                            )
                            .with_help("add `on TYPE` so the attribute can be checked"),
                        );
                    }
                    return None;
                }
                let mut found: Option<Ty> = None;
                for t in *on {
                    let attrs = self.syms.resources.get(&t.name)?;
                    let what = format!("resource type `{}`", t.name);
                    let decl = format!("resource {} {{ ... }}", t.name);
                    let ty = lookup(attrs, first, &what, &decl)
                        .map_err(|d| self.diags.push(d))
                        .ok()?;
                    if let Some(prev) = &found {
                        if *prev != ty {
                            self.diags.push(
                                Diagnostic::error(
                                    "type-mismatch",
                                    first.span,
                                    format!("`{}` has different types in the rule's resource types", first.name),
                                )
                                .with_help("give the attribute one type in every resource type the rule names"),
                            );
                            return None;
                        }
                    }
                    found = Some(ty);
                }
                found?
            }
            Root::Context => match &self.syms.context {
                Some(attrs) => lookup(attrs, first, "the context", "context { ... }")
                    .map_err(|d| self.diags.push(d))
                    .ok()?,
                None => Ty::Any,
            },
            Root::Input => match &self.syms.input {
                Some(attrs) => lookup(attrs, first, "the input", "input { ... }")
                    .map_err(|d| self.diags.push(d))
                    .ok()?,
                None => Ty::Any,
            },
            Root::Request => match first.name.as_str() {
                "method" | "path" | "ip" | "query" => Ty::Str,
                other => {
                    let help = did_you_mean(other, ["method", "path", "ip", "query"])
                        .unwrap_or_else(|| {
                            "a request has `method`, `path`, `query` and `ip`".into()
                        });
                    self.diags.push(
                        Diagnostic::error(
                            "unknown-attribute",
                            first.span,
                            format!("a request has no attribute `{other}`"),
                        )
                        .with_help(help),
                    );
                    return None;
                }
            },
        };
        if p.attrs.len() > 1 && ty != Ty::Any {
            self.diags.push(
                Diagnostic::error(
                    "unknown-attribute",
                    p.attrs[1].span,
                    format!("`{}` is {ty}, which has no attributes", first.name),
                )
                .with_help("declared attributes are flat; read the attribute directly"),
            );
            return None;
        }
        Some(ty)
    }
}

fn lookup(
    attrs: &HashMap<String, (Type, bool)>,
    name: &Ident,
    what: &str,
    decl: &str,
) -> Result<Ty, Diagnostic> {
    match attrs.get(&name.name) {
        Some((t, _)) => Ok(Ty::from_decl(t)),
        None => {
            let help = did_you_mean(&name.name, attrs.keys().map(String::as_str))
                .unwrap_or_else(|| format!("declare it in `{decl}`"));
            Err(Diagnostic::error(
                "unknown-attribute",
                name.span,
                format!("{what} has no attribute `{}`", name.name),
            )
            .with_label("not declared")
            .with_help(help))
        }
    }
}
