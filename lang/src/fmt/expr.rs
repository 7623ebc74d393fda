//! Expressions back to text: precedence-aware parentheses, string and regex literals
//! escaped so that they parse to the same value.

use crate::ast::*;

/// Binding strength of what an expression prints as; operands print in parentheses
/// when they bind less tightly than their context needs.
pub(super) fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Not(_) => NOT_PRECEDENCE,
        ExprKind::Matches { .. } | ExprKind::Is { .. } => MATCH_PRECEDENCE,
        ExprKind::Len(_) | ExprKind::IsInt(_) => LEN_PRECEDENCE,
        ExprKind::IsIn { .. } => MATCH_PRECEDENCE,
        // `else` takes everything after it: an `if` inside an operator needs parentheses.
        ExprKind::IfElse { .. } => 0,
        _ => ATOM_PRECEDENCE,
    }
}

/// `.len` binds tighter than every binary operator.
const LEN_PRECEDENCE: u8 = 7;
const ATOM_PRECEDENCE: u8 = 8;

/// Print an expression with the fewest parentheses that parse back to the same tree.
pub fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

pub(super) fn write_operand(out: &mut String, e: &Expr, parens: bool) {
    if parens {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

pub(super) fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Str(s) => out.push_str(&string(s)),
        ExprKind::Num(n) => out.push_str(&n.to_string()),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Size { value, unit } => out.push_str(&format!("{value}{}", unit.suffix())),
        ExprKind::Duration { value, unit } => {
            out.push_str(&format!("{value}{}", unit.suffix()));
        }
        ExprKind::List(items) => {
            out.push('[');
            write_list(out, items);
            out.push(']');
        }
        ExprKind::Path(p) => {
            out.push_str(p.root.keyword());
            for a in &p.attrs {
                out.push('.');
                out.push_str(&a.name);
            }
        }
        ExprKind::Header(h) => {
            out.push_str("header ");
            out.push_str(&h.name);
        }
        ExprKind::Ip => out.push_str("ip"),
        ExprKind::Env => out.push_str("env"),
        ExprKind::Cookie(name) => out.push_str(&format!("cookie {}", name.name)),
        ExprKind::Config(name) => out.push_str(&format!("config({})", name.name)),
        ExprKind::Secret { name, optional } => {
            out.push_str(&format!("secret({})", name.name));
            if *optional {
                out.push('?');
            }
        }
        ExprKind::RoleName(name) => out.push_str(&name.name),
        ExprKind::Call { func, args } => {
            out.push_str(&func.name);
            out.push('(');
            write_list(out, args);
            out.push(')');
        }
        ExprKind::Not(inner) => {
            out.push_str("not ");
            write_operand(out, inner, precedence(inner) < NOT_PRECEDENCE);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            // `x is r in y` reads as a role held in an organization: keep `(x is r) in y`.
            let is_lhs = *op == BinOp::In && matches!(lhs.kind, ExprKind::Is { .. });
            // Left-associative: an equal-precedence operand needs parentheses on the right only.
            write_operand(out, lhs, precedence(lhs) < p || is_lhs);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(out, rhs, precedence(rhs) <= p);
        }
        ExprKind::Matches { expr, regex: re } => {
            write_operand(out, expr, precedence(expr) < MATCH_PRECEDENCE);
            out.push_str(" matches /");
            out.push_str(&regex(&re.value));
            out.push('/');
        }
        ExprKind::Is { expr, role } => {
            write_operand(out, expr, precedence(expr) < MATCH_PRECEDENCE);
            out.push_str(" is ");
            out.push_str(&role.name);
        }
        ExprKind::Len(inner) => {
            write_operand(out, inner, precedence(inner) < LEN_PRECEDENCE);
            out.push_str(".len");
        }
        ExprKind::IsInt(inner) => {
            write_operand(out, inner, precedence(inner) < LEN_PRECEDENCE);
            out.push_str(".is_int");
        }
        ExprKind::Now => out.push_str("now"),
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("if ");
            write_expr(out, cond);
            out.push_str(" then ");
            write_expr(out, then);
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::Lower(inner) => {
            out.push_str("lower(");
            write_expr(out, inner);
            out.push(')');
        }
        ExprKind::HeaderSafe { text, max } => {
            out.push_str("header_safe(");
            write_expr(out, text);
            out.push_str(", ");
            write_expr(out, max);
            out.push(')');
        }
        ExprKind::IsIn { expr, role, org } => {
            write_operand(out, expr, precedence(expr) < MATCH_PRECEDENCE);
            out.push_str(" is ");
            out.push_str(&role.name);
            out.push_str(" in ");
            // The organization is a path, a string or a parenthesised expression.
            let bare = matches!(org.kind, ExprKind::Path(_) | ExprKind::Str(_));
            write_operand(out, org, !bare);
        }
    }
}

pub(super) fn write_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item);
    }
}

/// A string literal with the escapes the parser reads back.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text of a regex literal: a `/` becomes `\/`, and a `\` with the character after
/// it is copied as written, as the parser's `unescape_regex` reads it.
pub fn regex(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '/' => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out
}
