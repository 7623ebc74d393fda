//! Expressions: the Pratt parser over operators, and primaries (literals, attribute
//! paths, calls, lists, `if ... then ... else`).

use super::grammar::{Rule, PRATT};
use super::lower::{inner, internal, number_too_large, span_of, Lower};
use crate::ast::*;
use crate::diag::Diagnostic;
use pest::iterators::{Pair, Pairs};

impl<'l> Lower<'l> {
    pub(super) fn expr(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
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

    pub(super) fn pratt(&mut self, pairs: Pairs<'_, Rule>) -> Result<Expr, Diagnostic> {
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
            .parse(pairs);
        result
    }

    pub(super) fn primary(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
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
