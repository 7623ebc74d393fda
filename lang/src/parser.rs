//! Source text -> [`Policy`]: the pest grammar, and one lowering function per rule.
//!
//! Architecture invariant: pest types never leave this module (nor `syntax_error.rs`);
//! everything after it works on `ast` types.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;
use crate::syntax_error;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct PestParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_subset_of, Assoc::Left)
            | Op::infix(Rule::op_contains, Assoc::Left)
            | Op::infix(Rule::op_starts_with, Assoc::Left)
            | Op::infix(Rule::op_ends_with, Assoc::Left)
            | Op::postfix(Rule::op_matches)
            | Op::postfix(Rule::op_is)
            | Op::postfix(Rule::op_is_in))
        .op(Op::infix(Rule::op_coalesce, Assoc::Left))
        .op(Op::infix(Rule::op_concat, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::postfix(Rule::op_len) | Op::postfix(Rule::op_is_int))
});

/// Parse a policy. On failure, every syntax or lowering error found is returned.
pub fn parse(source: &str, limits: &Limits) -> Result<Policy, Vec<Diagnostic>> {
    if source.len() > limits.max_source_bytes {
        return Err(vec![Diagnostic::error(
            "source-too-large",
            Span::new(0, 0),
            format!(
                "policy file is {} bytes, more than the limit of {} bytes",
                source.len(),
                limits.max_source_bytes
            ),
        )
        .with_help("split the policy, or raise `Limits::max_source_bytes`")]);
    }
    if let Some(d) = check_nesting(source, limits.max_nesting) {
        return Err(vec![d]);
    }
    pest::set_call_limit(std::num::NonZeroUsize::new(limits.max_parser_calls));
    match PestParser::parse(Rule::file, source) {
        Ok(mut pairs) => {
            let file = pairs.next();
            let mut lower = Lower::new(limits);
            let policy = file.and_then(|f| lower.file(f));
            match policy {
                Some(p) if lower.diags.is_empty() => Ok(p),
                _ => Err(lower.diags),
            }
        }
        Err(first) => Err(syntax_error::recover(source, first, limits)),
    }
}

/// Parse one item or the header alone (used by error recovery); returns only errors.
pub(crate) fn parse_fragment(text: &str, header: bool) -> Result<(), pest::error::Error<Rule>> {
    let rule = if header {
        Rule::header_only
    } else {
        Rule::item_only
    };
    PestParser::parse(rule, text).map(|_| ())
}

/// Reject nesting deeper than the limit before pest recurses into it.
fn check_nesting(source: &str, max: usize) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (i, b) in source.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    let at = i as u32;
                    return Some(
                        Diagnostic::error(
                            "nesting-too-deep",
                            Span::new(at, at + 1),
                            format!("brackets nested more than {max} levels deep"),
                        )
                        .with_label("too deep here")
                        .with_help("flatten the expression, or raise `Limits::max_nesting`"),
                    );
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The pair's span without the blanks and comments that pest's implicit whitespace
/// leaves at its end when an optional tail is tried and not found.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let text = pair.as_str();
    let mut end = text.len();
    loop {
        end = text[..end].trim_end().len();
        // A comment runs to the end of its line: none can end here unless the last
        // line holds a `#`, which spares the walk for nearly every pair.
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        if !text[line_start..end].contains('#') {
            break;
        }
        match comment_ending_at(pair, s.start() + end) {
            Some(start) => end = start - s.start(),
            None => break,
        }
    }
    Span::new(s.start() as u32, (s.start() + end) as u32)
}

/// Start of the comment pair that ends at byte `at` inside `pair`'s subtree. Siblings
/// do not overlap, so only the child holding `at` is walked, from the last one back.
fn comment_ending_at(pair: &Pair<'_, Rule>, at: usize) -> Option<usize> {
    let mut node = pair.clone();
    'descend: loop {
        for c in node.clone().into_inner().rev() {
            let span = c.as_span();
            if span.end() < at {
                return None;
            }
            if c.as_rule() == Rule::COMMENT && span.end() == at {
                return Some(span.start());
            }
            if span.start() < at {
                node = c;
                continue 'descend;
            }
        }
        return None;
    }
}

/// Keywords and comments carry no content for the tree.
fn is_noise(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::COMMENT
            | Rule::kw_policy
            | Rule::kw_role
            | Rule::kw_grant
            | Rule::kw_principal
            | Rule::kw_resource
            | Rule::kw_context
            | Rule::kw_input
            | Rule::kw_set
            | Rule::kw_on
            | Rule::kw_because
            | Rule::kw_missing
            | Rule::kw_limit
            | Rule::kw_per
            | Rule::kw_by
            | Rule::kw_route
            | Rule::kw_require
            | Rule::kw_else
            | Rule::kw_redirect
            | Rule::kw_header
            | Rule::kw_drop
            | Rule::kw_headers
            | Rule::kw_cors
            | Rule::kw_startup
            | Rule::kw_script
            | Rule::kw_if
            | Rule::kw_matches
            | Rule::kw_is
            | Rule::kw_secret
            | Rule::kw_config
            | Rule::cookie_word
            | Rule::kw_auth
            | Rule::kw_cookie
            | Rule::kw_key
            | Rule::kw_as
            | Rule::kw_map
            | Rule::kw_then
            | Rule::kw_in
            | Rule::kw_header_safe
            | Rule::kw_lower
            | Rule::if_word
            | Rule::kw_hosts
            | Rule::kw_signature
            | Rule::kw_tolerance
            | Rule::kw_cookies
            | Rule::kw_same_site
            | Rule::kw_cookie_path
            | Rule::kw_max_age
    )
}

fn inner<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_noise(p.as_rule()))
}

/// Lowering state: the limits and the errors found so far.
struct Lower<'l> {
    limits: &'l Limits,
    diags: Vec<Diagnostic>,
    comments: Vec<Comment>,
}

impl<'l> Lower<'l> {
    fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            diags: Vec::new(),
            comments: Vec::new(),
        }
    }

    fn file(&mut self, pair: Pair<'_, Rule>) -> Option<Policy> {
        self.collect_comments(pair.clone().into_inner());
        let mut name = None;
        let mut items = Vec::new();
        for p in inner(pair) {
            match p.as_rule() {
                Rule::header => name = inner(p).next().map(|n| self.ident(n)),
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
            items,
            comments,
        })
    }

    fn collect_comments(&mut self, pairs: Pairs<'_, Rule>) {
        for p in pairs.flatten() {
            if p.as_rule() == Rule::COMMENT {
                let text = p.as_str().strip_prefix('#').unwrap_or(p.as_str());
                self.comments.push(Comment {
                    text: text.trim_end_matches('\r').to_string(),
                    span: span_of(&p),
                });
            }
        }
    }

    fn item(&mut self, p: Pair<'_, Rule>) -> Option<Item> {
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
            Rule::hosts_decl => Item::Hosts(HostsDecl {
                span: span_of(&p),
                hosts: inner(p).map(|s| self.string(s)).collect(),
            }),
            _ => return None,
        })
    }

    fn ident(&mut self, p: Pair<'_, Rule>) -> Ident {
        let span = span_of(&p);
        let name = p.as_str();
        if name.len() > self.limits.max_ident_len {
            self.diags.push(
                Diagnostic::error(
                    "name-too-long",
                    Span::new(span.start, span.start + 1),
                    format!(
                        "name is {} bytes long, more than the limit of {}",
                        name.len(),
                        self.limits.max_ident_len
                    ),
                )
                .with_help("use a shorter name, or raise `Limits::max_ident_len`"),
            );
        }
        Ident {
            name: name.to_string(),
            span,
        }
    }

    fn ident_list(&mut self, p: Pair<'_, Rule>) -> Vec<Ident> {
        inner(p).map(|i| self.ident(i)).collect()
    }

    fn role_decl(&mut self, p: Pair<'_, Rule>) -> RoleDecl {
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

    fn grant_decl(&mut self, p: Pair<'_, Rule>) -> GrantDecl {
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

    fn shape_decl(&mut self, p: Pair<'_, Rule>) -> ShapeDecl {
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

    fn attr_decl(&mut self, p: Pair<'_, Rule>) -> AttrDecl {
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

    fn type_expr(&mut self, p: Pair<'_, Rule>) -> Type {
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

    fn rule_decl(&mut self, p: Pair<'_, Rule>) -> Option<Rule_> {
        let span = span_of(&p);
        let mut effect = Effect::Deny;
        let mut actions = Vec::new();
        let mut on = Vec::new();
        let mut cond = None;
        let mut because = None;
        let mut missing = None;
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
            span,
        })
    }

    fn condition(&mut self, p: Pair<'_, Rule>) -> Option<Condition> {
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

    fn limit_decl(&mut self, p: Pair<'_, Rule>) -> Option<LimitDecl> {
        let span = span_of(&p);
        let mut name = None;
        let mut count = None;
        let mut per = None;
        let mut key = None;
        let mut strict = false;
        for c in inner(p) {
            match c.as_rule() {
                Rule::ident => name = Some(self.ident(c)),
                Rule::integer => count = self.integer(c),
                Rule::duration => per = self.duration(c),
                Rule::expr => key = self.expr(c),
                Rule::strict => strict = true,
                _ => {}
            }
        }
        Some(LimitDecl {
            name: name?,
            count: count?,
            per: per?,
            key: key?,
            strict,
            span,
        })
    }

    fn route_decl(&mut self, p: Pair<'_, Rule>) -> Option<RouteDecl> {
        let span = span_of(&p);
        let mut methods = Vec::new();
        let mut patterns = Vec::new();
        let mut body = Vec::new();
        let mut ok = true;
        for c in inner(p) {
            match c.as_rule() {
                Rule::method_list => methods = self.ident_list(c),
                Rule::route_pattern => patterns.push(RoutePattern {
                    text: c.as_str().to_string(),
                    span: span_of(&c),
                }),
                _ => match self.route_stmt(c) {
                    Some(s) => body.push(s),
                    None => ok = false,
                },
            }
        }
        ok.then_some(RouteDecl {
            methods,
            patterns,
            body,
            span,
        })
    }

    fn route_stmt(&mut self, p: Pair<'_, Rule>) -> Option<RouteStmt> {
        let span = span_of(&p);
        Some(match p.as_rule() {
            Rule::public_stmt => RouteStmt::Public(span),
            Rule::require_stmt => {
                let mut kind = None;
                let mut otherwise = None;
                for c in inner(p) {
                    match c.as_rule() {
                        Rule::req_auth => kind = Some(ReqKind::Auth),
                        Rule::req_role => {
                            let roles = inner(c).next().map(|l| self.ident_list(l));
                            kind = Some(ReqKind::Role(roles.unwrap_or_default()));
                        }
                        Rule::expr => kind = Some(ReqKind::Expr(self.expr(c)?)),
                        Rule::req_signature => {
                            kind = Some(ReqKind::Signature(self.signature(c)?));
                        }
                        Rule::req_first => {
                            let e = inner(c).find(|x| x.as_rule() == Rule::expr)?;
                            kind = Some(ReqKind::First(self.expr(e)?));
                        }
                        Rule::otherwise => otherwise = Some(self.otherwise(c)?),
                        _ => {}
                    }
                }
                RouteStmt::Require(Requirement {
                    kind: kind?,
                    otherwise,
                    span,
                })
            }
            Rule::limit_ref => {
                let only = inner(p.clone()).any(|c| c.as_rule() == Rule::limit_only);
                let names = inner(p).next().map(|l| self.ident_list(l));
                if only {
                    RouteStmt::LimitOnly(names.unwrap_or_default(), span)
                } else {
                    RouteStmt::Limit(names.unwrap_or_default(), span)
                }
            }
            Rule::header_set => {
                let mut it = inner(p);
                let name = it.next().map(|n| self.ident(n))?;
                let value = self.expr(it.next()?)?;
                // A lone string literal is a value fixed at load; anything else is
                // evaluated per request.
                match value.kind {
                    ExprKind::Str(text) => RouteStmt::HeaderSet {
                        name,
                        value: StrLit {
                            value: text,
                            span: value.span,
                        },
                        span,
                    },
                    _ => RouteStmt::HeaderSetExpr { name, value, span },
                }
            }
            Rule::header_drop => {
                let name = inner(p).next().map(|n| self.ident(n))?;
                RouteStmt::HeaderDrop { name, span }
            }
            _ => return None,
        })
    }

    fn cookies_decl(&mut self, p: Pair<'_, Rule>) -> Option<CookiesDecl> {
        let span = span_of(&p);
        let mut rules = Vec::new();
        for r in inner(p) {
            let rspan = span_of(&r);
            let mut it = inner(r);
            let name = self.ident(it.next()?);
            let mut attrs = Vec::new();
            for a in it {
                let aspan = span_of(&a);
                let a = inner(a).next()?;
                let kind = match a.as_rule() {
                    Rule::ca_http_only => CookieAttrKind::HttpOnly,
                    Rule::ca_secure => CookieAttrKind::Secure,
                    Rule::ca_same_site => {
                        CookieAttrKind::SameSite(match inner(a).next()?.as_str() {
                            "strict" => SameSite::Strict,
                            "lax" => SameSite::Lax,
                            _ => SameSite::None,
                        })
                    }
                    Rule::ca_path => CookieAttrKind::Path(self.string(inner(a).next()?)),
                    Rule::ca_max_age => CookieAttrKind::MaxAge(self.duration(inner(a).next()?)?),
                    _ => return None,
                };
                attrs.push(CookieAttr { kind, span: aspan });
            }
            rules.push(CookieRule {
                name,
                attrs,
                span: rspan,
            });
        }
        Some(CookiesDecl { rules, span })
    }

    fn signature(&mut self, p: Pair<'_, Rule>) -> Option<SignatureReq> {
        let mut it = inner(p);
        let scheme = self.ident(it.next()?);
        let header = self.ident(inner(it.next()?).next()?);
        let secret = self.primary(it.next()?)?;
        let tolerance = match it.next() {
            Some(d) => Some(self.duration(d)?),
            None => None,
        };
        Some(SignatureReq {
            scheme,
            header,
            secret,
            tolerance,
        })
    }

    fn otherwise(&mut self, p: Pair<'_, Rule>) -> Option<Otherwise> {
        let c = inner(p).next()?;
        let span = span_of(&c);
        match c.as_rule() {
            Rule::status => Some(Otherwise::Status(self.status(c)?, span)),
            Rule::redirect => {
                let mut status = None;
                let mut location = None;
                for r in inner(c) {
                    match r.as_rule() {
                        Rule::status => status = Some(self.status(r)?),
                        Rule::string => location = Some(self.string(r)),
                        _ => {}
                    }
                }
                Some(Otherwise::Redirect {
                    status,
                    location: location?,
                    span,
                })
            }
            _ => None,
        }
    }

    fn status(&mut self, p: Pair<'_, Rule>) -> Option<u16> {
        let v: u16 = p.as_str().parse().ok()?;
        if (100..=599).contains(&v) {
            Some(v)
        } else {
            self.diags.push(
                Diagnostic::error(
                    "invalid-status",
                    span_of(&p),
                    format!("`{v}` is not an HTTP status"),
                )
                .with_help("use a status between 100 and 599, e.g. `403`"),
            );
            None
        }
    }

    fn headers_decl(&mut self, p: Pair<'_, Rule>) -> Option<HeadersDecl> {
        let span = span_of(&p);
        let mut entries = Vec::new();
        for e in inner(p) {
            let espan = span_of(&e);
            let mut it = inner(e);
            let name = it.next().map(|n| self.ident(n))?;
            let value = it.next().map(|s| self.string(s))?;
            let cond = match it.next() {
                Some(c) => Some(self.expr(c)?),
                None => None,
            };
            entries.push(HeaderEntry {
                name,
                value,
                cond,
                span: espan,
            });
        }
        Some(HeadersDecl { entries, span })
    }

    fn cors_decl(&mut self, p: Pair<'_, Rule>) -> Option<CorsDecl> {
        let span = span_of(&p);
        let mut entries = Vec::new();
        for e in inner(p) {
            let espan = span_of(&e);
            let mut it = inner(e);
            let v = it.next()?;
            let value = match v.as_rule() {
                Rule::cors_origins => match inner(v.clone()).next() {
                    Some(split) if split.as_rule() == Rule::origins_split => {
                        let mut it = inner(split);
                        let setting = self.ident(inner(it.next()?).next()?);
                        let separator = self.string(it.next()?);
                        let fallback = it.map(|s| self.string(s)).collect();
                        CorsValue::OriginsFrom {
                            setting,
                            separator,
                            fallback,
                        }
                    }
                    _ => CorsValue::Origins(inner(v).map(|s| self.string(s)).collect()),
                },
                Rule::cors_methods => CorsValue::Methods(inner(v).map(|s| self.ident(s)).collect()),
                Rule::cors_headers => CorsValue::Headers(inner(v).map(|s| self.ident(s)).collect()),
                Rule::cors_expose => CorsValue::Expose(inner(v).map(|s| self.ident(s)).collect()),
                Rule::cors_credentials => {
                    CorsValue::Credentials(inner(v).next().is_some_and(|b| b.as_str() == "true"))
                }
                Rule::cors_max_age => CorsValue::MaxAge(self.duration(inner(v).next()?)?),
                Rule::cors_refuse_unlisted => {
                    CorsValue::RefuseUnlisted(inner(v).next().is_some_and(|b| b.as_str() == "true"))
                }
                _ => return None,
            };
            let cond = match it.next() {
                Some(c) => Some(self.expr(c)?),
                None => None,
            };
            entries.push(CorsEntry {
                value,
                cond,
                span: espan,
            });
        }
        Some(CorsDecl { entries, span })
    }

    fn startup_decl(&mut self, p: Pair<'_, Rule>) -> Option<StartupDecl> {
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

    fn auth_decl(&mut self, p: Pair<'_, Rule>) -> Option<AuthDecl> {
        let span = span_of(&p);
        let mut it = inner(p);
        let k = it.next()?;
        let kind = match k.as_str() {
            "jwt" => AuthKind::Jwt,
            "nextauth" => AuthKind::NextAuth,
            _ => AuthKind::ApiKey,
        };
        let kind_span = span_of(&k);
        let mut entries = Vec::new();
        for e in it {
            let espan = span_of(&e);
            let rule = e.as_rule();
            let mut parts = inner(e);
            let value = match rule {
                Rule::auth_from => {
                    let src = parts.next()?;
                    let is_cookie = src.as_rule() == Rule::from_cookie;
                    let name = self.ident(inner(src).next()?);
                    AuthValue::From(if is_cookie {
                        CredSource::Cookie(name)
                    } else {
                        CredSource::Header(name)
                    })
                }
                Rule::auth_algorithms => {
                    AuthValue::Algorithms(parts.map(|i| self.ident(i)).collect())
                }
                Rule::auth_keys => {
                    AuthValue::Keys(parts.map(|k| self.key_ref(k)).collect::<Option<_>>()?)
                }
                Rule::auth_issuer => {
                    AuthValue::Issuer(parts.map(|s| self.auth_text(s)).collect::<Option<_>>()?)
                }
                Rule::auth_audience => {
                    AuthValue::Audience(parts.map(|s| self.auth_text(s)).collect::<Option<_>>()?)
                }
                Rule::auth_leeway => AuthValue::Leeway(self.duration(parts.next()?)?),
                Rule::auth_claim => {
                    let attr = self.ident(parts.next()?);
                    let claims = parts.map(|c| self.claim_name(c)).collect::<Option<_>>()?;
                    AuthValue::Claim { attr, claims }
                }
                Rule::auth_key => {
                    let mut keys = Vec::new();
                    let mut principal = Vec::new();
                    let mut hashes = Vec::new();
                    for x in parts {
                        match x.as_rule() {
                            Rule::key_ref => keys.push(self.key_ref(x)?),
                            Rule::key_hash => {
                                let hspan = span_of(&x);
                                let hex = self.string(inner(x).next()?);
                                hashes.push(KeyHash { hex, span: hspan });
                            }
                            Rule::principal_field => {
                                let fspan = span_of(&x);
                                let mut f = inner(x);
                                let name = self.ident(f.next()?);
                                let value = self.expr(f.next()?)?;
                                principal.push(PrincipalField {
                                    name,
                                    value,
                                    span: fspan,
                                });
                            }
                            _ => {}
                        }
                    }
                    AuthValue::Key {
                        keys,
                        principal,
                        hashes,
                    }
                }
                Rule::auth_max_age => AuthValue::MaxAge(self.duration(parts.next()?)?),
                Rule::auth_require_claim => {
                    let claim = self.claim_name(parts.next()?)?;
                    let value = self.string(parts.next()?);
                    AuthValue::RequireClaim { claim, value }
                }
                Rule::auth_revoked => AuthValue::Revoked(parts.map(|s| self.string(s)).collect()),
                _ => return None,
            };
            entries.push(AuthEntry { value, span: espan });
        }
        Some(AuthDecl {
            kind,
            kind_span,
            entries,
            span,
        })
    }

    fn key_ref(&mut self, p: Pair<'_, Rule>) -> Option<KeyRef> {
        let span = span_of(&p);
        let mut it = inner(p);
        let kind = match it.next()?.as_str() {
            "secret" => KeyKind::Secret,
            "public_key" => KeyKind::PublicKey,
            _ => KeyKind::Jwks,
        };
        let name = self.ident(it.next()?);
        let optional = it.next().is_some();
        Some(KeyRef {
            kind,
            name,
            optional,
            span,
        })
    }

    /// `"text"` or `config(NAME)` in an auth line.
    fn auth_text(&mut self, p: Pair<'_, Rule>) -> Option<AuthText> {
        Some(match p.as_rule() {
            Rule::config => AuthText::Config(self.ident(inner(p).next()?)),
            _ => AuthText::Lit(self.string(p)),
        })
    }

    fn claim_name(&mut self, p: Pair<'_, Rule>) -> Option<ClaimName> {
        let c = inner(p).next()?;
        Some(if c.as_rule() == Rule::string {
            let s = self.string(c);
            ClaimName {
                name: s.value,
                quoted: true,
                span: s.span,
            }
        } else {
            ClaimName {
                name: c.as_str().to_string(),
                quoted: false,
                span: span_of(&c),
            }
        })
    }

    fn script_decl(&mut self, p: Pair<'_, Rule>) -> ScriptDecl {
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

    // ------------------------------------------------------------ literals

    fn string(&mut self, p: Pair<'_, Rule>) -> StrLit {
        let span = span_of(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        if raw.len() > self.limits.max_literal_len {
            self.diags
                .push(literal_too_long(span, raw.len(), self.limits));
        }
        let value = match unescape(raw) {
            Ok(v) => v,
            Err((offset, msg)) => {
                let at = span.start + 1 + offset as u32;
                self.diags.push(
                    Diagnostic::error("invalid-escape", Span::new(at, at + 2), msg).with_help(
                        "escapes are `\\\"`, `\\\\`, `\\n`, `\\r`, `\\t` and `\\u{XXXX}`",
                    ),
                );
                String::new()
            }
        };
        StrLit { value, span }
    }

    fn regex(&mut self, p: Pair<'_, Rule>) -> StrLit {
        let span = span_of(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        if raw.len() > self.limits.max_literal_len {
            self.diags
                .push(literal_too_long(span, raw.len(), self.limits));
        }
        StrLit {
            value: unescape_regex(raw),
            span,
        }
    }

    fn integer(&mut self, p: Pair<'_, Rule>) -> Option<u64> {
        match p.as_str().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.diags.push(number_too_large(span_of(&p)));
                None
            }
        }
    }

    fn duration(&mut self, p: Pair<'_, Rule>) -> Option<Duration> {
        let span = span_of(&p);
        let (value, unit) = split_duration(p.as_str());
        match value.parse() {
            Ok(value) => Some(Duration { value, unit, span }),
            Err(_) => {
                self.diags.push(number_too_large(span));
                None
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let count = p.clone().into_inner().flatten().count();
        if count > self.limits.max_expr_nodes {
            self.diags.push(
                Diagnostic::error(
                    "expression-too-large",
                    span_of(&p),
                    format!(
                        "expression has {count} parts, more than the limit of {}",
                        self.limits.max_expr_nodes
                    ),
                )
                .with_help("split it into several rules, or raise `Limits::max_expr_nodes`"),
            );
            return None;
        }
        // A run of prefix or postfix operators (`not not ...`, `.len.len ...`) nests the
        // tree like brackets do, and every later pass recurses on it.
        let mut run = 0usize;
        for c in p.clone().into_inner() {
            let unary = matches!(
                c.as_rule(),
                Rule::op_not
                    | Rule::op_len
                    | Rule::op_matches
                    | Rule::op_is
                    | Rule::op_is_int
                    | Rule::op_is_in
            );
            run = if unary { run + 1 } else { 0 };
            if run > self.limits.max_nesting {
                self.diags.push(
                    Diagnostic::error(
                        "nesting-too-deep",
                        span_of(&c),
                        format!(
                            "more than {} unary operators in a row",
                            self.limits.max_nesting
                        ),
                    )
                    .with_help("simplify the expression; two `not` cancel out"),
                );
                return None;
            }
        }
        match self.pratt(p.into_inner()) {
            Ok(e) => Some(e),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    fn pratt(&mut self, pairs: Pairs<'_, Rule>) -> Result<Expr, Diagnostic> {
        // The Pratt closures cannot share `&mut self`; they work on a copy of the limits
        // and return errors as values.
        let limits = self.limits.clone();
        let result = PRATT
            .map_primary(|p| {
                let mut sub = Lower::new(&limits);
                let e = sub.primary(p);
                match (e, sub.diags.into_iter().next()) {
                    (_, Some(d)) => Err(d),
                    (Some(e), None) => Ok(e),
                    (None, None) => Err(internal(Span::default())),
                }
            })
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = span_of(&op).to(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Not(Box::new(rhs)),
                    span,
                })
            })
            .map_postfix(|lhs, op| {
                let lhs = lhs?;
                let span = lhs.span.to(span_of(&op));
                let kind = match op.as_rule() {
                    Rule::op_len => ExprKind::Len(Box::new(lhs)),
                    Rule::op_is_int => ExprKind::IsInt(Box::new(lhs)),
                    Rule::op_is_in => {
                        let mut sub = Lower::new(&limits);
                        let mut it = inner(op);
                        let role = it.next().map(|r| sub.ident(r));
                        let org = it.next().and_then(|o| sub.primary(o));
                        if let Some(d) = sub.diags.into_iter().next() {
                            return Err(d);
                        }
                        ExprKind::IsIn {
                            expr: Box::new(lhs),
                            role: role.ok_or_else(|| internal(span))?,
                            org: Box::new(org.ok_or_else(|| internal(span))?),
                        }
                    }
                    Rule::op_matches => {
                        let mut sub = Lower::new(&limits);
                        let re = inner(op).next().map(|r| sub.regex(r));
                        if let Some(d) = sub.diags.into_iter().next() {
                            return Err(d);
                        }
                        ExprKind::Matches {
                            expr: Box::new(lhs),
                            regex: re.ok_or_else(|| internal(span))?,
                        }
                    }
                    _ => {
                        let mut sub = Lower::new(&limits);
                        let role = inner(op).next().map(|r| sub.ident(r));
                        if let Some(d) = sub.diags.into_iter().next() {
                            return Err(d);
                        }
                        ExprKind::Is {
                            expr: Box::new(lhs),
                            role: role.ok_or_else(|| internal(span))?,
                        }
                    }
                };
                Ok(Expr { kind, span })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_in => BinOp::In,
                    Rule::op_subset_of => BinOp::SubsetOf,
                    Rule::op_contains => BinOp::Contains,
                    Rule::op_starts_with => BinOp::StartsWith,
                    Rule::op_ends_with => BinOp::EndsWith,
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_sub => BinOp::Sub,
                    _ => BinOp::Concat,
                };
                let span = lhs.span.to(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                })
            })
            .parse(pairs.filter(|p| p.as_rule() != Rule::COMMENT));
        result
    }

    fn primary(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let span = span_of(&p);
        let kind = match p.as_rule() {
            Rule::paren => {
                let e = inner(p).next()?;
                return self.expr(e).map(|mut e| {
                    // Parentheses are not kept as nodes; the formatter re-adds what precedence needs.
                    e.span = span;
                    e
                });
            }
            Rule::list => {
                let mut items = Vec::new();
                for e in inner(p) {
                    items.push(self.expr(e)?);
                }
                ExprKind::List(items)
            }
            Rule::string => ExprKind::Str(self.string(p).value),
            Rule::size => {
                let text = p.as_str();
                let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let unit = match &text[digits.len()..] {
                    "KB" => SizeUnit::KB,
                    "MB" => SizeUnit::MB,
                    "GB" => SizeUnit::GB,
                    _ => SizeUnit::B,
                };
                match digits.parse() {
                    Ok(value) => ExprKind::Size { value, unit },
                    Err(_) => {
                        self.diags.push(number_too_large(span));
                        return None;
                    }
                }
            }
            Rule::duration => {
                let d = self.duration(p)?;
                ExprKind::Duration {
                    value: d.value,
                    unit: d.unit,
                }
            }
            Rule::number => match p.as_str().parse::<f64>() {
                Ok(v) if v.is_finite() && p.as_str().len() <= 24 => ExprKind::Num(v),
                _ => {
                    self.diags.push(number_too_large(span));
                    return None;
                }
            },
            Rule::boolean => ExprKind::Bool(p.as_str() == "true"),
            Rule::env => ExprKind::Env,
            Rule::ip => ExprKind::Ip,
            Rule::secret => {
                let mut it = inner(p);
                let name = self.ident(it.next()?);
                let optional = it
                    .next()
                    .is_some_and(|m| m.as_rule() == Rule::secret_optional);
                ExprKind::Secret { name, optional }
            }
            Rule::cookie_ref => ExprKind::Cookie(self.ident(inner(p).next()?)),
            Rule::config => ExprKind::Config(self.ident(inner(p).next()?)),
            Rule::header_ref => ExprKind::Header(self.ident(inner(p).next()?)),
            Rule::call => {
                let mut it = inner(p);
                let func = self.ident(it.next()?);
                let mut args = Vec::new();
                for a in it {
                    args.push(self.expr(a)?);
                }
                ExprKind::Call { func, args }
            }
            Rule::path => {
                let mut it = p.into_inner();
                let root = match it.next()?.as_str() {
                    "principal" => Root::Principal,
                    "resource" => Root::Resource,
                    "context" => Root::Context,
                    "input" => Root::Input,
                    _ => Root::Request,
                };
                let attrs = it.map(|a| self.ident(a)).collect();
                ExprKind::Path(Path { root, attrs })
            }
            Rule::role_name => ExprKind::RoleName(self.ident(p)),
            Rule::now => ExprKind::Now,
            Rule::if_expr => {
                let mut it = inner(p);
                let cond = self.expr(it.next()?)?;
                let then = self.expr(it.next()?)?;
                let otherwise = self.expr(it.next()?)?;
                ExprKind::IfElse {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                }
            }
            Rule::lower => ExprKind::Lower(Box::new(self.expr(inner(p).next()?)?)),
            Rule::header_safe => {
                let mut it = inner(p);
                let text = self.expr(it.next()?)?;
                let max = self.expr(it.next()?)?;
                ExprKind::HeaderSafe {
                    text: Box::new(text),
                    max: Box::new(max),
                }
            }
            _ => return None,
        };
        Some(Expr { kind, span })
    }
}

// `Rule` is pest's rule enum in this module; the syntax-tree rule gets an alias.
use crate::ast::Rule as Rule_;

fn action_list(p: Pair<'_, Rule>) -> Vec<ActionPat> {
    inner(p)
        .map(|a| {
            let text = a.as_str();
            let kind = if text == "*" {
                ActionKind::Any
            } else if let Some(ns) = text.strip_suffix(":*") {
                ActionKind::Namespace(ns.to_string())
            } else {
                ActionKind::Exact(text.to_string())
            };
            ActionPat {
                kind,
                span: span_of(&a),
            }
        })
        .collect()
}

fn split_duration(text: &str) -> (&str, DurationUnit) {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = match &text[digits.len()..] {
        "ms" => DurationUnit::Ms,
        "s" => DurationUnit::S,
        "m" => DurationUnit::M,
        "h" => DurationUnit::H,
        _ => DurationUnit::D,
    };
    (digits, unit)
}

fn missing_ident(span: Span) -> Ident {
    Ident {
        name: String::new(),
        span,
    }
}

fn internal(span: Span) -> Diagnostic {
    Diagnostic::error("internal", span, "internal error: malformed expression")
}

fn number_too_large(span: Span) -> Diagnostic {
    Diagnostic::error("number-too-large", span, "number is too large")
        .with_help("numbers must fit in 64 bits")
}

fn literal_too_long(span: Span, len: usize, limits: &Limits) -> Diagnostic {
    Diagnostic::error(
        "literal-too-long",
        Span::new(span.start, span.start + 1),
        format!(
            "literal is {len} bytes long, more than the limit of {}",
            limits.max_literal_len
        ),
    )
    .with_help("shorten it, or raise `Limits::max_literal_len`")
}

/// Resolve string escapes; on error, the byte offset of the bad escape and a message.
pub(crate) fn unescape(raw: &str) -> Result<String, (usize, String)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'u')) => {
                let rest = &raw[i + 2..];
                let body = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .map(|(hex, _)| hex);
                let ch = body
                    .filter(|h| !h.is_empty() && h.len() <= 6)
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                match (body, ch) {
                    (Some(hex), Some(ch)) => {
                        out.push(ch);
                        for _ in 0..hex.len() + 2 {
                            chars.next();
                        }
                    }
                    _ => return Err((i, "invalid unicode escape".to_string())),
                }
            }
            Some((_, other)) => return Err((i, format!("unknown escape `\\{other}`"))),
            None => return Err((i, "string ends with a lone `\\`".to_string())),
        }
    }
    Ok(out)
}

/// `\/` in a regex literal is a slash; every other escape is the regex's own.
fn unescape_regex(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('/') => out.push('/'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}
