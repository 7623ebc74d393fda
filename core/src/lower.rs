//! Conditions -> [`Node`] programs: roles resolved to ids, attribute paths pre-split,
//! role-typed attributes marked from the shapes, `env` and secrets folded in, regexes
//! compiled, constant sub-expressions evaluated once.

use crate::eval;
use crate::options::Options;
use crate::program::{AttrPath, Hint, InputKind, Konst, LazyRegex, Node};
use crate::tables::FxMap;
use warden_lang::ast::{self, BinOp, ExprKind, Item, Root, ShapeKind, Type};
use warden_lang::Diagnostic;

/// What lowering needs from the compiler.
pub(crate) struct Scope<'a> {
    pub roles: &'a FxMap<u32>,
    pub policy: &'a ast::Policy,
    pub scripts: Option<&'a crate::script::Scripts>,
    pub options: &'a Options,
}

impl Scope<'_> {
    /// The declared type of `root.attr` for a rule on `on` (any resource type when empty).
    fn hint(&self, root: Root, attr: &str, on: &[ast::Ident]) -> Hint {
        let mut hint = Hint::Plain;
        for item in &self.policy.items {
            let Item::Shape(s) = item else { continue };
            let fits = match (&s.kind, root) {
                (ShapeKind::Principal, Root::Principal)
                | (ShapeKind::Context, Root::Context)
                | (ShapeKind::Input, Root::Input) => true,
                (ShapeKind::Resource(t), Root::Resource) => {
                    on.is_empty() || on.iter().any(|o| o.name == t.name)
                }
                _ => false,
            };
            if !fits {
                continue;
            }
            for a in s.attrs.iter().filter(|a| a.name.name == attr) {
                match &a.ty {
                    Type::Role => hint = Hint::Role,
                    Type::Set(t) if **t == Type::Role => hint = Hint::RoleSet,
                    // Only input: principal, resource and context come from the host.
                    _ if root != Root::Input => {}
                    Type::String => hint = Hint::Input(InputKind::Str),
                    Type::Number => hint = Hint::Input(InputKind::Num),
                    Type::Bool => hint = Hint::Input(InputKind::Bool),
                    Type::Set(_) => hint = Hint::Input(InputKind::List),
                    _ => {}
                }
            }
        }
        if root == Root::Principal && attr == "roles" {
            hint = Hint::RoleSet;
        }
        hint
    }
}

/// Lower one condition; `None` after pushing diagnostics.
pub(crate) fn lower(
    scope: &Scope<'_>,
    on: &[ast::Ident],
    expr: &ast::Expr,
    diags: &mut Vec<Diagnostic>,
) -> Option<Node> {
    let before = diags.len();
    let node = lower_expr(scope, on, expr, diags);
    (diags.len() == before).then_some(node)
}

fn lower_expr(
    scope: &Scope<'_>,
    on: &[ast::Ident],
    expr: &ast::Expr,
    diags: &mut Vec<Diagnostic>,
) -> Node {
    let go = |e: &ast::Expr, diags: &mut Vec<Diagnostic>| Box::new(lower_expr(scope, on, e, diags));
    let node = match &expr.kind {
        ExprKind::Str(s) => Node::Const(Konst::Str(s.as_str().into())),
        ExprKind::Num(n) => Node::Const(Konst::Num(*n)),
        ExprKind::Bool(b) => Node::Const(Konst::Bool(*b)),
        ExprKind::Size { value, unit } => {
            Node::Const(Konst::Num(value.saturating_mul(unit.bytes()) as f64))
        }
        ExprKind::Duration { value, unit } => Node::Const(Konst::Num(
            value.saturating_mul(unit.millis()) as f64 / 1000.0,
        )),
        ExprKind::List(items) => Node::List(
            items
                .iter()
                .map(|e| lower_expr(scope, on, e, diags))
                .collect(),
        ),
        ExprKind::Path(p) => match p.attrs.first() {
            None if p.root == Root::Principal => Node::Principal,
            None => Node::Const(Konst::Missing),
            Some(first) => Node::Load {
                root: p.root,
                path: p.attrs.iter().map(|a| a.name.as_str().into()).collect(),
                hint: if p.attrs.len() == 1 {
                    scope.hint(p.root, &first.name, on)
                } else {
                    Hint::Plain
                },
            },
        },
        // HTTP-only inputs: an authorization request has none, so they read as missing.
        ExprKind::Header(name) => Node::Header(name.name.to_ascii_lowercase().into()),
        ExprKind::Cookie(name) => Node::Cookie(name.name.as_str().into()),
        ExprKind::Ip => Node::Ip,
        ExprKind::Env => Node::Const(Konst::Str(scope.options.env.as_str().into())),
        ExprKind::Secret { name, optional } => match scope.options.secret_value(&name.name) {
            Some(s) => Node::Const(Konst::Secret(s)),
            None if *optional => Node::Const(Konst::Missing),
            None => {
                diags.push(missing_secret(name));
                Node::Const(Konst::Missing)
            }
        },
        ExprKind::Config(name) => match scope.options.config_value(&name.name) {
            Some(v) => Node::Const(Konst::Str(v.into())),
            None => {
                diags.push(missing_config(name));
                Node::Const(Konst::Missing)
            }
        },
        ExprKind::RoleName(id) => match scope.roles.get(id.name.as_str()) {
            Some(&r) => Node::Const(Konst::Role(r)),
            None => {
                diags.push(unknown_role(id));
                Node::Const(Konst::Missing)
            }
        },
        ExprKind::Call { func, args } => {
            let args: Box<[Node]> = args
                .iter()
                .map(|a| lower_expr(scope, on, a, diags))
                .collect();
            if scope.scripts.is_some_and(|s| s.has(&func.name, args.len())) {
                Node::Call(func.name.as_str().into(), args)
            } else {
                diags.push(
                    Diagnostic::error(
                        "unknown-function",
                        func.span,
                        format!(
                            "no script function `{}` with {} parameter(s)",
                            func.name,
                            args.len()
                        ),
                    )
                    .with_help(format!(
                        "define `fn {}(...)` in a `script {{ }}` block",
                        func.name
                    )),
                );
                Node::Const(Konst::Missing)
            }
        }
        ExprKind::Not(e) => Node::Not(go(e, diags)),
        ExprKind::Binary { op, lhs, rhs } => {
            let (l, r) = (go(lhs, diags), go(rhs, diags));
            match op {
                BinOp::And => Node::And(l, r),
                BinOp::Or => Node::Or(l, r),
                BinOp::Coalesce => Node::Coalesce(l, r),
                _ => Node::Bin(*op, l, r),
            }
        }
        ExprKind::Matches { expr: e, regex } => {
            let inner = go(e, diags);
            // Checked, not built: the first match builds it (`LazyRegex`). After the
            // checker this is a cache hit.
            let limit = scope.options.limits.max_regex_bytes;
            match warden_lang::validate_regex(&regex.value, limit) {
                Ok(()) => Node::Matches(inner, Box::new(LazyRegex::new(&regex.value, limit))),
                Err(err) => {
                    diags.push(Diagnostic::error(
                        "invalid-regex",
                        regex.span,
                        format!("invalid regular expression: {err}"),
                    ));
                    Node::Const(Konst::Missing)
                }
            }
        }
        ExprKind::Is { expr: e, role } => {
            let inner = go(e, diags);
            match scope.roles.get(role.name.as_str()) {
                Some(&r) => Node::Is(inner, r),
                None => {
                    diags.push(unknown_role(role));
                    Node::Const(Konst::Missing)
                }
            }
        }
        ExprKind::Len(e) => Node::Len(go(e, diags)),
        ExprKind::IsInt(e) => Node::IsInt(go(e, diags)),
        ExprKind::Now => Node::Now,
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => Node::IfElse(go(cond, diags), go(then, diags), go(otherwise, diags)),
        ExprKind::Lower(e) => Node::Lower(go(e, diags)),
        ExprKind::HeaderSafe { text, max } => {
            let limit = match max.kind {
                // The checker allows 1..=8192; a tree compiled unchecked is clamped.
                ExprKind::Num(n) if n.is_finite() => n.clamp(0.0, 8192.0) as usize,
                _ => 0,
            };
            Node::HeaderSafe(go(text, diags), limit)
        }
        ExprKind::IsIn { expr: e, role, org } => {
            match (&e.kind, scope.roles.get(role.name.as_str())) {
                (ExprKind::Path(p), Some(&r))
                    if p.root == Root::Principal && p.attrs.is_empty() =>
                {
                    Node::IsIn(r, go(org, diags))
                }
                (_, None) => {
                    diags.push(unknown_role(role));
                    Node::Const(Konst::Missing)
                }
                // Only the principal holds roles per organization.
                _ => Node::Const(Konst::Missing),
            }
        }
    };
    fold(node)
}

pub(crate) fn missing_secret(name: &ast::Ident) -> Diagnostic {
    Diagnostic::error(
        "missing-secret",
        name.span,
        format!("secret `{}` is not set", name.name),
    )
    .with_help(format!(
        "pass it to the engine (`--secret {0}=...`) or set the environment variable `{0}`",
        name.name
    ))
}

pub(crate) fn missing_config(name: &ast::Ident) -> Diagnostic {
    Diagnostic::error(
        "missing-config",
        name.span,
        format!("setting `{}` is not set", name.name),
    )
    .with_help(format!(
        "pass it to the engine (`--config {0}=...`) or set the environment variable `{0}`",
        name.name
    ))
}

fn unknown_role(id: &ast::Ident) -> Diagnostic {
    Diagnostic::error(
        "unknown-role",
        id.span,
        format!("role `{}` is not declared", id.name),
    )
    .with_help("declare it with `role NAME`")
}

/// Replace a node whose children are all constants by its value: this is where `env`
/// comparisons disappear. Nodes reading the request are left alone.
fn fold(node: Node) -> Node {
    // Role constants stay unfolded: their meaning needs the role tables, which the
    // constant evaluator does not have.
    let is_const = |n: &Node| matches!(n, Node::Const(k) if !matches!(k, Konst::Role(_)));
    let foldable = match &node {
        Node::Not(a) | Node::Len(a) | Node::Matches(a, _) => is_const(a),
        Node::IsInt(a) | Node::HeaderSafe(a, _) | Node::Lower(a) => is_const(a),
        Node::IfElse(a, b, c) => is_const(a) && is_const(b) && is_const(c),
        Node::Is(..) | Node::IsIn(..) | Node::Now => false,
        Node::And(a, b) | Node::Or(a, b) | Node::Coalesce(a, b) | Node::Bin(_, a, b) => {
            is_const(a) && is_const(b)
        }
        Node::List(items) => items.iter().all(is_const),
        Node::Const(_)
        | Node::Load { .. }
        | Node::Principal
        | Node::Header(_)
        | Node::Cookie(_)
        | Node::Ip
        | Node::Call(..) => false,
    };
    if !foldable {
        return node;
    }
    match eval::eval_const(&node) {
        Some(k) => Node::Const(k),
        None => node,
    }
}

/// Collect the attribute paths a node reads (bare `principal` reads `principal.roles`).
pub(crate) fn reads(node: &Node, out: &mut Vec<AttrPath>) {
    match node {
        Node::Const(_) | Node::Header(_) | Node::Cookie(_) | Node::Ip => {}
        Node::Load { root, path, .. } => out.push((*root, path.clone())),
        Node::Principal => out.push((Root::Principal, Box::new(["roles".into()]))),
        Node::List(items) | Node::Call(_, items) => items.iter().for_each(|n| reads(n, out)),
        Node::Not(a) | Node::Len(a) | Node::Matches(a, _) | Node::Is(a, _) => reads(a, out),
        Node::IsInt(a) | Node::HeaderSafe(a, _) | Node::Lower(a) => reads(a, out),
        Node::IfElse(a, b, c) => {
            reads(a, out);
            reads(b, out);
            reads(c, out);
        }
        // `context.time` is the one attribute `now` reads (hosts that convert only the
        // attributes a policy reads must pass it); the clock is none, and `reads_now`
        // keeps such decisions out of the cache.
        Node::Now => out.push((Root::Context, Box::new(["time".into()]))),
        Node::IsIn(_, org) => {
            out.push((Root::Principal, Box::new(["org_roles".into()])));
            reads(org, out);
        }
        Node::And(a, b) | Node::Or(a, b) | Node::Coalesce(a, b) | Node::Bin(_, a, b) => {
            reads(a, out);
            reads(b, out);
        }
    }
}

/// Whether a node reads `now`: its value changes with the clock, so a decision that
/// depends on it is never cached.
pub(crate) fn reads_now(node: &Node) -> bool {
    matches!(node, Node::Now) || node.children().any(reads_now)
}
