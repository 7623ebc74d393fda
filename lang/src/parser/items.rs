//! Top-level items: the file, roles, grants, shapes and types, rules and conditions,
//! startup checks and script blocks.

use super::grammar::Rule;
use super::lower::{
    action_list, comment_spans, inner, literal_ranges, missing_ident, span_of, Lower,
};
use crate::ast::Rule as Rule_;
use crate::ast::*;
use crate::diag::Diagnostic;
use pest::iterators::Pair;

impl<'l> Lower<'l> {
    pub(super) fn file(&mut self, pair: Pair<'_, Rule>) -> Option<Policy> {
        self.collect_comments(&pair);
        let mut name = None;
        let mut report_only = None;
        let mut items = Vec::new();
        for p in inner(pair) {
            match p.as_rule() {
                Rule::header => {
                    for c in inner(p) {
                        match c.as_rule() {
                            Rule::ident => name = Some(self.ident(c)),
                            Rule::report_only => report_only = Some(span_of(&c)),
                            _ => {}
                        }
                    }
                }
                Rule::EOI => {}
                _ => {
                    if let Some(item) = self.item(p) {
                        items.push(item);
                    }
                }
            }
        }
        let comments = std::mem::take(&mut self.comments);
        name.map(|name| Policy {
            name,
            report_only,
            items,
            comments,
        })
    }

    /// Every comment of the file, in order: a `#` outside string, regex and script
    /// literals, to the end of its line (what `WHITESPACE` skipped).
    pub(super) fn collect_comments(&mut self, file: &Pair<'_, Rule>) {
        let base = file.as_span().start();
        let text = file.as_str();
        let literals = literal_ranges(file.clone());
        for (start, end) in comment_spans(text, base, &literals) {
            let raw = &text[start - base..end - base];
            let body = raw.strip_prefix('#').unwrap_or(raw);
            self.comments.push(Comment {
                text: body.trim_end_matches('\r').to_string(),
                span: Span::new(start as u32, (start + raw.trim_end().len()) as u32),
            });
        }
    }

    pub(super) fn item(&mut self, p: Pair<'_, Rule>) -> Option<Item> {
        Some(match p.as_rule() {
            Rule::role_decl => Item::Role(self.role_decl(p)),
            Rule::grant_decl => Item::Grant(self.grant_decl(p)),
            Rule::shape_decl => Item::Shape(self.shape_decl(p)),
            Rule::rule_decl => Item::Rule(self.rule_decl(p)?),
            Rule::limit_decl => Item::Limit(self.limit_decl(p)?),
            Rule::route_decl => Item::Route(self.route_decl(p)?),
            Rule::headers_decl => Item::Headers(self.headers_decl(p)?),
            Rule::cors_decl => Item::Cors(self.cors_decl(p)?),
            Rule::startup_decl => Item::Startup(self.startup_decl(p)?),
            Rule::script_decl => Item::Script(self.script_decl(p)),
            Rule::auth_decl => Item::Auth(self.auth_decl(p)?),
            Rule::cookies_decl => Item::Cookies(self.cookies_decl(p)?),
            Rule::proxies_decl => Item::Proxies(self.proxies_decl(p)?),
            Rule::hosts_decl => Item::Hosts(HostsDecl {
                span: span_of(&p),
                hosts: inner(p).map(|s| self.string(s)).collect(),
            }),
            _ => return None,
        })
    }

    pub(super) fn role_decl(&mut self, p: Pair<'_, Rule>) -> RoleDecl {
        let span = span_of(&p);
        let mut it = inner(p);
        let name = it.next().map(|n| self.ident(n));
        let parents = it.next().map(|l| self.ident_list(l)).unwrap_or_default();
        RoleDecl {
            name: name.unwrap_or_else(|| missing_ident(span)),
            parents,
            span,
        }
    }

    pub(super) fn grant_decl(&mut self, p: Pair<'_, Rule>) -> GrantDecl {
        let span = span_of(&p);
        let mut it = inner(p);
        let roles = it.next().map(|l| self.ident_list(l)).unwrap_or_default();
        let actions = it.next().map(action_list).unwrap_or_default();
        GrantDecl {
            roles,
            actions,
            span,
        }
    }

    pub(super) fn shape_decl(&mut self, p: Pair<'_, Rule>) -> ShapeDecl {
        let span = span_of(&p);
        let text = p.as_str();
        let mut kind = if text.starts_with("principal") {
            ShapeKind::Principal
        } else if text.starts_with("context") {
            ShapeKind::Context
        } else if text.starts_with("input") {
            ShapeKind::Input
        } else {
            ShapeKind::Resource(missing_ident(span))
        };
        let mut attrs = Vec::new();
        for c in inner(p) {
            match c.as_rule() {
                Rule::ident => kind = ShapeKind::Resource(self.ident(c)),
                Rule::attr_decl => attrs.push(self.attr_decl(c)),
                _ => {}
            }
        }
        ShapeDecl { kind, attrs, span }
    }

    pub(super) fn attr_decl(&mut self, p: Pair<'_, Rule>) -> AttrDecl {
        let span = span_of(&p);
        let mut name = missing_ident(span);
        let mut ty = Type::String;
        let mut optional = false;
        for c in inner(p) {
            match c.as_rule() {
                Rule::ident => name = self.ident(c),
                Rule::type_expr => ty = self.type_expr(c),
                Rule::optional_mark => optional = true,
                _ => {}
            }
        }
        AttrDecl {
            name,
            ty,
            optional,
            span,
        }
    }

    pub(super) fn type_expr(&mut self, p: Pair<'_, Rule>) -> Type {
        let Some(c) = inner(p).next() else {
            return Type::String;
        };
        match c.as_rule() {
            Rule::set_type => {
                let elem = inner(c).next().map_or(Type::String, |t| self.type_expr(t));
                Type::Set(Box::new(elem))
            }
            Rule::map_type => {
                let mut it = inner(c);
                let key = it.next();
                if let Some(k) = key.filter(|k| k.as_str() != "string") {
                    self.diags.push(
                        Diagnostic::error(
                            "unknown-type",
                            span_of(&k),
                            format!("map keys are strings, not `{}`", k.as_str()),
                        )
                        .with_help("write `map<string, T>`"),
                    );
                }
                let elem = it.next().map_or(Type::String, |t| self.type_expr(t));
                Type::Map(Box::new(elem))
            }
            _ => match c.as_str() {
                "string" => Type::String,
                "number" => Type::Number,
                "bool" => Type::Bool,
                "role" => Type::Role,
                other => {
                    let mut d = Diagnostic::error(
                        "unknown-type",
                        span_of(&c),
                        format!("unknown type `{other}`"),
                    )
                    .with_label("not a type");
                    d = d.with_help(
                        crate::diag::did_you_mean(
                            other,
                            ["string", "number", "bool", "role", "set"],
                        )
                        .unwrap_or_else(|| {
                            "the types are `string`, `number`, `bool`, `role` and `set<T>`"
                                .to_string()
                        }),
                    );
                    self.diags.push(d);
                    Type::String
                }
            },
        }
    }

    pub(super) fn rule_decl(&mut self, p: Pair<'_, Rule>) -> Option<Rule_> {
        let span = span_of(&p);
        let mut effect = Effect::Deny;
        let mut actions = Vec::new();
        let mut on = Vec::new();
        let mut cond = None;
        let mut because = None;
        let mut missing = None;
        let mut report_only = None;
        for c in inner(p) {
            match c.as_rule() {
                Rule::effect => {
                    effect = if c.as_str().starts_with("allow") {
                        Effect::Allow
                    } else {
                        Effect::Deny
                    }
                }
                Rule::action_list => actions = action_list(c),
                Rule::ident_list => on = self.ident_list(c),
                Rule::condition => cond = Some(self.condition(c)?),
                Rule::because => because = inner(c).next().map(|s| self.string(s)),
                Rule::missing => {
                    missing = inner(c).next().map(|m| {
                        if m.as_str().starts_with("skip") {
                            OnMissing::Skip
                        } else {
                            OnMissing::Deny
                        }
                    })
                }
                Rule::report_only => report_only = Some(span_of(&c)),
                _ => {}
            }
        }
        Some(Rule_ {
            effect,
            actions,
            on,
            cond,
            because,
            missing,
            report_only,
            span,
        })
    }

    pub(super) fn condition(&mut self, p: Pair<'_, Rule>) -> Option<Condition> {
        let mut kind = CondKind::If;
        let mut expr = None;
        for c in inner(p) {
            match c.as_rule() {
                Rule::cond_kind => {
                    kind = if c.as_str().starts_with("unless") {
                        CondKind::Unless
                    } else {
                        CondKind::If
                    }
                }
                Rule::expr => expr = self.expr(c),
                _ => {}
            }
        }
        Some(Condition { kind, expr: expr? })
    }

    pub(super) fn startup_decl(&mut self, p: Pair<'_, Rule>) -> Option<StartupDecl> {
        let span = span_of(&p);
        let mut checks = Vec::new();
        for c in inner(p) {
            let cspan = span_of(&c);
            let mut expr = None;
            let mut cond = None;
            let mut because = None;
            for x in inner(c) {
                match x.as_rule() {
                    Rule::expr if expr.is_none() => expr = Some(self.expr(x)?),
                    Rule::expr => cond = Some(self.expr(x)?),
                    Rule::because => because = inner(x).next().map(|s| self.string(s)),
                    _ => {}
                }
            }
            checks.push(StartupCheck {
                expr: expr?,
                cond,
                because,
                span: cspan,
            });
        }
        Some(StartupDecl { checks, span })
    }

    pub(super) fn script_decl(&mut self, p: Pair<'_, Rule>) -> ScriptDecl {
        let span = span_of(&p);
        let block = inner(p).next();
        let (source, source_span) = match block {
            Some(b) => {
                let s = span_of(&b);
                let text = b.as_str();
                let body = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                (
                    body.to_string(),
                    Span::new(s.start + 1, s.end.saturating_sub(1)),
                )
            }
            None => (String::new(), span),
        };
        ScriptDecl {
            source,
            source_span,
            span,
        }
    }
}
