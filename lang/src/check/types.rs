//! Expression checking: what each scope may read, attribute lookups, operator types, regexes.

use super::checker::{Checker, RegexError};
use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use std::fmt;

/// Where an expression sits decides what it may read.
pub(crate) enum Scope<'a> {
    /// A rule condition: principal, resource (of the `on` types), context.
    Rule { on: &'a [Ident], types_ok: bool },
    /// A route requirement: principal, input, headers, ip, request.
    Route,
    /// A `require first` requirement: like a route, but tested before authentication,
    /// so the principal is not available.
    RouteFirst,
    /// A limit key: like a route, it reads the HTTP request.
    LimitKey,
    /// Folded when the engine loads: env, secrets, literals (startup, cors, headers).
    Load,
}

/// The static type of an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Str,
    Num,
    Bool,
    Role,
    /// The principal itself: its role set, for `is` and role comparisons.
    Principal,
    Set(Box<Ty>),
    List(Box<Ty>),
    /// `map<string, T>`: read only by `principal is ROLE in ORG`.
    Map(Box<Ty>),
    /// Not known until a request arrives (undeclared input/context, script results).
    Any,
}

impl Ty {
    pub(super) fn from_decl(t: &Type) -> Ty {
        match t {
            Type::String => Ty::Str,
            Type::Number => Ty::Num,
            Type::Bool => Ty::Bool,
            Type::Role => Ty::Role,
            Type::Set(e) => Ty::Set(Box::new(Ty::from_decl(e))),
            Type::Map(e) => Ty::Map(Box::new(Ty::from_decl(e))),
        }
    }

    fn is_roleish(&self) -> bool {
        matches!(self, Ty::Role | Ty::Principal | Ty::Any)
    }

    fn element(&self) -> Option<&Ty> {
        match self {
            Ty::Set(e) | Ty::List(e) => Some(e),
            _ => None,
        }
    }

    /// Whether values of the two types can be compared for equality.
    pub(crate) fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Any, _) | (_, Ty::Any) => true,
            (Ty::Role, Ty::Str) | (Ty::Str, Ty::Role) => true,
            (Ty::Set(a) | Ty::List(a), Ty::Set(b) | Ty::List(b)) => a.comparable(b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Str => f.write_str("a string"),
            Ty::Num => f.write_str("a number"),
            Ty::Bool => f.write_str("a bool"),
            Ty::Role => f.write_str("a role"),
            Ty::Principal => f.write_str("the principal"),
            Ty::Set(_) => f.write_str("a set"),
            Ty::List(_) => f.write_str("a list"),
            Ty::Map(_) => f.write_str("a map"),
            Ty::Any => f.write_str("a value"),
        }
    }
}

impl Checker<'_> {
    /// Check a condition: it must be a bool.
    pub(crate) fn expect_bool(&mut self, e: &Expr, scope: &Scope<'_>) {
        if let Some(t) = self.expr(e, scope) {
            if !matches!(t, Ty::Bool | Ty::Any) {
                self.diags.push(
                    Diagnostic::error(
                        "type-mismatch",
                        e.span,
                        format!("a condition must be true or false, but this is {t}"),
                    )
                    .with_help("compare it with something, e.g. `== \"value\"`"),
                );
            }
        }
    }

    /// The type of an expression, or `None` after reporting an error in it.
    pub(crate) fn expr(&mut self, e: &Expr, scope: &Scope<'_>) -> Option<Ty> {
        match &e.kind {
            ExprKind::Str(_) => Some(Ty::Str),
            ExprKind::Num(_) | ExprKind::Size { .. } | ExprKind::Duration { .. } => Some(Ty::Num),
            ExprKind::Bool(_) => Some(Ty::Bool),
            ExprKind::List(items) => {
                let mut elem: Option<Ty> = None;
                let mut ok = true;
                for i in items {
                    match (self.expr(i, scope), &elem) {
                        (None, _) => ok = false,
                        (Some(t), None) => elem = Some(t),
                        (Some(t), Some(prev)) if !prev.comparable(&t) => {
                            ok = false;
                            self.diags.push(
                                Diagnostic::error(
                                    "type-mismatch",
                                    i.span,
                                    format!("list elements must have one type: {prev} and {t}"),
                                )
                                .with_help("make every element the same kind of value"),
                            );
                        }
                        _ => {}
                    }
                }
                ok.then(|| Ty::List(Box::new(elem.unwrap_or(Ty::Any))))
            }
            ExprKind::Path(p) => self.path(p, e.span, scope),
            ExprKind::Header(_) | ExprKind::Cookie(_) | ExprKind::Ip => {
                self.http_only(e, scope)?;
                Some(Ty::Str)
            }
            ExprKind::Env => Some(Ty::Str),
            ExprKind::Secret { name, .. } | ExprKind::Config(name) => {
                let (what, code, read) = if matches!(e.kind, ExprKind::Config(_)) {
                    ("config", "invalid-config-name", "settings are")
                } else {
                    ("secret", "invalid-secret-name", "secrets are")
                };
                let ok = !name.name.is_empty()
                    && name
                        .name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    && name.name.starts_with(|c: char| c.is_ascii_uppercase());
                if !ok {
                    self.diags.push(
                        Diagnostic::error(
                            code,
                            name.span,
                            format!("{what} name `{}` must be UPPER_SNAKE_CASE", name.name),
                        )
                        .with_help(format!(
                            "{read} read from environment variables; use `{}`",
                            name.name.to_ascii_uppercase()
                        )),
                    );
                    return None;
                }
                Some(Ty::Str)
            }
            ExprKind::RoleName(r) => {
                if matches!(scope, Scope::Load) {
                    self.diags.push(load_only(e.span, "a role"));
                    return None;
                }
                self.role_exists(r).then_some(Ty::Role)
            }
            ExprKind::Call { func, args } => self.call(func, args, scope),
            ExprKind::Not(inner) => {
                let t = self.expr(inner, scope)?;
                self.operand(inner, &t, &[Ty::Bool], "`not`")?;
                Some(Ty::Bool)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs, scope), self.expr(rhs, scope));
                self.binary(*op, lhs, l?, rhs, r?)
            }
            ExprKind::Matches { expr, regex } => {
                let t = self.expr(expr, scope);
                self.regex(regex);
                self.operand(expr, &t?, &[Ty::Str], "`matches`")?;
                Some(Ty::Bool)
            }
            ExprKind::Is { expr, role } => {
                let t = self.expr(expr, scope);
                let known = self.role_exists(role);
                let t = t?;
                if !t.is_roleish() {
                    self.diags.push(
                        Diagnostic::error(
                            "type-mismatch",
                            expr.span,
                            format!("`is` needs the principal or a role, but this is {t}"),
                        )
                        .with_help("write `principal is ROLE`"),
                    );
                    return None;
                }
                known.then_some(Ty::Bool)
            }
            ExprKind::IsInt(inner) => {
                let t = self.expr(inner, scope)?;
                self.operand(inner, &t, &[Ty::Num], "`.is_int`")?;
                Some(Ty::Bool)
            }
            ExprKind::Now => {
                if matches!(scope, Scope::Load) {
                    self.diags.push(load_only(e.span, "`now`"));
                    return None;
                }
                Some(Ty::Num)
            }
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => self.if_else(cond, then, otherwise, scope),
            ExprKind::HeaderSafe { text, max } => self.header_safe(text, max, scope),
            ExprKind::Lower(inner) => {
                let t = self.expr(inner, scope)?;
                self.operand(inner, &t, &[Ty::Str], "`lower`")?;
                Some(Ty::Str)
            }
            ExprKind::IsIn { expr, role, org } => self.is_in(expr, role, org, scope),
            ExprKind::Len(inner) => {
                let t = self.expr(inner, scope)?;
                match t {
                    Ty::Str | Ty::Set(_) | Ty::List(_) | Ty::Any => Some(Ty::Num),
                    other => {
                        self.diags.push(
                            Diagnostic::error(
                                "type-mismatch",
                                inner.span,
                                format!("`.len` needs a string, set or list, but this is {other}"),
                            )
                            .with_help("`.len` counts characters or elements"),
                        );
                        None
                    }
                }
            }
        }
    }

    fn http_only(&mut self, e: &Expr, scope: &Scope<'_>) -> Option<()> {
        match scope {
            Scope::Route | Scope::RouteFirst | Scope::LimitKey => Some(()),
            Scope::Rule { .. } => {
                self.diags.push(
                    Diagnostic::error(
                        "wrong-scope",
                        e.span,
                        "rules decide on principal, resource and context; the HTTP request is not available here",
                    )
                    .with_help("check headers, input and ip in a `route` with `require ... else STATUS`"),
                );
                None
            }
            Scope::Load => {
                self.diags.push(load_only(e.span, "the HTTP request"));
                None
            }
        }
    }

    fn call(&mut self, func: &Ident, args: &[Expr], scope: &Scope<'_>) -> Option<Ty> {
        // Built in at load: the origins the cors block allows in this environment.
        if func.name == "cors_origins" && args.is_empty() && matches!(scope, Scope::Load) {
            return Some(Ty::List(Box::new(Ty::Str)));
        }
        let mut ok = true;
        for a in args {
            ok &= self.expr(a, scope).is_some();
            // A script could compare a secret in variable time, or return it (or its
            // length, or a character of it) as plain text that reaches a header, a
            // redirect or a trace: no secret-derived value is ever passed to one.
            if let Some(span) = secret_in(a) {
                ok = false;
                self.diags.push(
                    Diagnostic::error(
                        "secret-to-script",
                        span,
                        format!(
                            "a secret cannot be passed to script function `{}`",
                            func.name
                        ),
                    )
                    .with_label("secret")
                    .with_help(
                        "build the value in the policy instead (`\"Bearer \" + secret(NAME)`): \
                         there it stays a secret, compared in constant time and never shown",
                    ),
                );
            }
        }
        match self.syms.functions.get(&func.name) {
            Some(arities) if arities.contains(&args.len()) => ok.then_some(Ty::Any),
            Some(arities) => {
                self.diags.push(
                    Diagnostic::error(
                        "wrong-arity",
                        func.span,
                        format!(
                            "script function `{}` takes {} argument(s), not {}",
                            func.name,
                            arities
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(" or "),
                            args.len()
                        ),
                    )
                    .with_help("match the function's parameters in the `script` block"),
                );
                None
            }
            None => {
                let help = did_you_mean(&func.name, self.syms.functions.keys().map(String::as_str))
                    .unwrap_or_else(|| {
                        format!("define `fn {}(...)` in a `script {{ }}` block", func.name)
                    });
                self.diags.push(
                    Diagnostic::error(
                        "unknown-function",
                        func.span,
                        format!("unknown function `{}`", func.name),
                    )
                    .with_label("not defined")
                    .with_help(help),
                );
                None
            }
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, l: Ty, rhs: &Expr, r: Ty) -> Option<Ty> {
        let sym = format!("`{}`", op.symbol());
        match op {
            BinOp::And | BinOp::Or => {
                self.operand(lhs, &l, &[Ty::Bool], &sym)?;
                self.operand(rhs, &r, &[Ty::Bool], &sym)?;
                Some(Ty::Bool)
            }
            BinOp::Eq | BinOp::Ne => {
                if l.comparable(&r) {
                    Some(Ty::Bool)
                } else {
                    self.mismatch(lhs.span.to(rhs.span), &sym, &l, &r);
                    None
                }
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ok = matches!((&l, &r), (Ty::Num | Ty::Any, Ty::Num | Ty::Any))
                    || (l.is_roleish() && r.is_roleish());
                if ok {
                    Some(Ty::Bool)
                } else if l.is_roleish() || r.is_roleish() {
                    self.diags.push(
                        Diagnostic::error(
                            "type-mismatch",
                            lhs.span.to(rhs.span),
                            format!(
                                "a role compared with {}",
                                if l.is_roleish() { &r } else { &l }
                            ),
                        )
                        .with_help("roles compare by rank only with roles or the principal"),
                    );
                    None
                } else {
                    self.mismatch(lhs.span.to(rhs.span), &sym, &l, &r);
                    None
                }
            }
            BinOp::In => match r.element() {
                Some(e) if e.comparable(&l) => Some(Ty::Bool),
                _ if r == Ty::Any => Some(Ty::Bool),
                Some(_) => {
                    self.mismatch(lhs.span.to(rhs.span), &sym, &l, &r);
                    None
                }
                None => {
                    self.diags.push(
                        Diagnostic::error(
                            "type-mismatch",
                            rhs.span,
                            format!("`in` needs a set or list on the right, but this is {r}"),
                        )
                        .with_help("for text, write `haystack contains needle`"),
                    );
                    None
                }
            },
            BinOp::SubsetOf => match (l.element(), r.element()) {
                (Some(x), Some(y)) if x.comparable(y) => Some(Ty::Bool),
                _ if l == Ty::Any || r == Ty::Any => Some(Ty::Bool),
                _ => {
                    self.diags.push(
                        Diagnostic::error(
                            "type-mismatch",
                            lhs.span.to(rhs.span),
                            format!("`subset_of` needs two sets or lists of one kind, but these are {l} and {r}"),
                        )
                        .with_help("write `input.fields subset_of [\"a\", \"b\"]`"),
                    );
                    None
                }
            },
            BinOp::Contains => match (&l, l.element()) {
                (_, Some(e)) if e.comparable(&r) => Some(Ty::Bool),
                (Ty::Str, _) if matches!(r, Ty::Str | Ty::Any) => Some(Ty::Bool),
                (Ty::Any, _) => Some(Ty::Bool),
                _ => {
                    self.mismatch(lhs.span.to(rhs.span), &sym, &l, &r);
                    None
                }
            },
            BinOp::Sub => {
                self.operand(lhs, &l, &[Ty::Num], &sym)?;
                self.operand(rhs, &r, &[Ty::Num], &sym)?;
                Some(Ty::Num)
            }
            BinOp::Concat
                if matches!((&l, &r), (Ty::Num, Ty::Num | Ty::Any) | (Ty::Any, Ty::Num)) =>
            {
                Some(Ty::Num)
            }
            BinOp::StartsWith | BinOp::EndsWith | BinOp::Concat => {
                self.operand(lhs, &l, &[Ty::Str], &sym)?;
                self.operand(rhs, &r, &[Ty::Str], &sym)?;
                Some(if op == BinOp::Concat {
                    // Strings, or two values known only at run time.
                    if l == Ty::Any && r == Ty::Any {
                        Ty::Any
                    } else {
                        Ty::Str
                    }
                } else {
                    Ty::Bool
                })
            }
            BinOp::Coalesce => {
                if l.comparable(&r) {
                    Some(if l == Ty::Any { r } else { l })
                } else {
                    self.mismatch(lhs.span.to(rhs.span), &sym, &l, &r);
                    None
                }
            }
        }
    }

    pub(crate) fn operand(&mut self, e: &Expr, t: &Ty, want: &[Ty], op: &str) -> Option<()> {
        if *t == Ty::Any || want.contains(t) {
            return Some(());
        }
        let wanted: Vec<String> = want.iter().map(ToString::to_string).collect();
        self.diags.push(
            Diagnostic::error(
                "type-mismatch",
                e.span,
                format!("{op} needs {}, but this is {t}", wanted.join(" or ")),
            )
            .with_label(format!("{t}")),
        );
        None
    }

    fn mismatch(&mut self, span: Span, op: &str, l: &Ty, r: &Ty) {
        self.diags.push(
            Diagnostic::error(
                "type-mismatch",
                span,
                format!("{l} compared with {r} by {op}"),
            )
            .with_help("both sides must be the same kind of value"),
        );
    }

    fn regex(&mut self, re: &StrLit) {
        let error = match self.regexes.get(&re.value) {
            Some(cached) => cached.clone(),
            None => {
                let error = compile_error(&re.value, self.limits.max_regex_bytes);
                self.regexes.insert(re.value.clone(), error.clone());
                error
            }
        };
        if let Some(e) = error {
            self.diags
                .push(Diagnostic::error(e.code, re.span, e.message).with_help(e.help));
        }
    }
}

fn compile_error(pattern: &str, max_bytes: usize) -> Option<RegexError> {
    // Through the process's cache; most patterns are shown to build without building
    // them (the engine builds a pattern on its first match).
    let e = super::regexes::validate(pattern, max_bytes).err()?;
    Some(match e {
        regex::Error::CompiledTooBig(n) => RegexError {
            code: "regex-too-large",
            message: format!("regular expression compiles to more than {n} bytes"),
            help: "simplify it, or raise `Limits::max_regex_bytes`",
        },
        other => {
            // The crate's message ends with a line `error: WHAT`; the lines above
            // it repeat the pattern, which the snippet already shows.
            let text = other.to_string();
            let last = text.lines().last().unwrap_or("").trim();
            let what = last.strip_prefix("error: ").unwrap_or(last);
            RegexError {
                code: "invalid-regex",
                message: format!("invalid regular expression: {what}"),
                help: "regexes use the syntax of the Rust `regex` crate \
                       (no look-around, no backreferences)",
            }
        }
    })
}

pub(super) fn load_only(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        "wrong-scope",
        span,
        format!("{what} is not known when the policy loads"),
    )
    .with_help("startup checks, and `if` on cors and header lines, may read only `env`, `secret(NAME)`, `config(NAME)` and literals")
}

/// The span of a `secret(NAME)` anywhere inside `e`: its value, or anything built from
/// it, would be secret.
pub(crate) fn secret_in(e: &Expr) -> Option<Span> {
    let mut found = None;
    e.walk(&mut |x| {
        if found.is_none() && matches!(x.kind, ExprKind::Secret { .. }) {
            found = Some(x.span);
        }
    });
    found
}
