//! Partial evaluation of one condition program: with the principal and context known
//! and the resource unknown, when is the condition *true* and when *false*? (Neither:
//! missing.) Both are [`Cond`] trees over resource attributes.
//!
//! Whatever does not read the resource is evaluated by `eval::eval` itself, on a request
//! that has the principal, context and resource type but no resource attributes. A
//! subtree whose only resource read goes through a role or organization lookup has
//! finitely many outcomes, so it is evaluated, again by `eval::eval`, once per declared
//! role name (or per organization of the principal), once for any other string and
//! once for a missing attribute. Only the comparisons and boolean connectives that
//! reach the resource are interpreted here, case by case after `eval.rs`; anything else
//! is a [`CannotFilter`](super::CannotFilter) reason, never a guess.

use super::residual::{CmpOp, Cond, Kind, Scalar};
use crate::cx::Cx;
use crate::eval;
use crate::program::{Hint, Node};
use crate::request::Request;
use crate::rolesets;
use crate::tables::Tables;
use crate::value::{List, V};
use warden_lang::ast::{BinOp, Root};

mod enumerate;

/// A condition or a constant; constants are folded away as trees are built.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum B {
    Const(bool),
    C(Cond),
}

const FALSE: B = B::Const(false);

impl B {
    pub fn not(self) -> B {
        match self {
            B::Const(b) => B::Const(!b),
            B::C(Cond::Not(c)) => B::C(*c),
            B::C(c) => B::C(Cond::Not(Box::new(c))),
        }
    }

    pub fn and(self, other: B) -> B {
        match (self, other) {
            (B::Const(false), _) | (_, B::Const(false)) => FALSE,
            (B::Const(true), x) | (x, B::Const(true)) => x,
            (B::C(a), B::C(b)) => B::C(Cond::And(flatten(a, b, true))),
        }
    }

    pub fn or(self, other: B) -> B {
        match (self, other) {
            (B::Const(true), _) | (_, B::Const(true)) => B::Const(true),
            (B::Const(false), x) | (x, B::Const(false)) => x,
            (B::C(a), B::C(b)) => B::C(Cond::Or(flatten(a, b, false))),
        }
    }
}

fn flatten(a: Cond, b: Cond, and: bool) -> Vec<Cond> {
    let mut out = Vec::new();
    for c in [a, b] {
        match c {
            Cond::And(cs) if and => out.extend(cs),
            Cond::Or(cs) if !and => out.extend(cs),
            c => out.push(c),
        }
    }
    out
}

/// (true, false) of a condition; neither: missing.
type TF = (B, B);
type R<T> = Result<T, String>;

/// A value in a comparison: known now, or a resource attribute (with the constant
/// `??` substitutes when it is missing).
enum Sym<'a> {
    Known(V<'a>),
    Attr {
        path: &'a [Box<str>],
        fallback: Option<V<'a>>,
    },
}

/// The partial evaluator of one residual request.
pub(super) struct Pe<'a> {
    pub t: &'a Tables,
    /// Evaluates everything that does not read the resource.
    pub cx: Cx<'a>,
    /// The request `cx` reads: principal, context, resource type; no attributes.
    pub base: &'a Request,
}

fn attr_name(path: &[Box<str>]) -> String {
    path.join(".")
}

fn atom(path: &[Box<str>], f: impl FnOnce(String) -> Cond) -> B {
    B::C(f(attr_name(path)))
}

fn present(path: &[Box<str>], kind: Option<Kind>) -> B {
    atom(path, |attr| Cond::Present { attr, kind })
}

/// Whether a node reads the resource (other than `resource.type`, which is known).
fn reads_resource(n: &Node) -> bool {
    match n {
        Node::Load {
            root: Root::Resource,
            path,
            ..
        } => path.first().is_none_or(|p| &**p != "type"),
        _ => n.children().any(reads_resource),
    }
}

impl<'a> Pe<'a> {
    fn known(&self, n: &'a Node) -> V<'a> {
        eval::eval(&self.cx, n)
    }

    /// When a condition is true and when it is false.
    pub fn boolean(&self, n: &'a Node) -> R<TF> {
        if !reads_resource(n) {
            return Ok(truth(&self.known(n)));
        }
        if let Some((path, domain)) = self.enumerable(n) {
            return self.enumerate(n, path, domain);
        }
        match n {
            Node::Not(a) => {
                let (t, f) = self.boolean(a)?;
                Ok((f, t))
            }
            Node::And(a, b) => {
                let (ta, fa) = self.boolean(a)?;
                let (tb, fb) = self.boolean(b)?;
                // `eval`: false if `a` is false, else `b` if `a` is true, else missing.
                Ok((ta.clone().and(tb), fa.or(ta.and(fb))))
            }
            Node::Or(a, b) => {
                let (ta, fa) = self.boolean(a)?;
                let (tb, fb) = self.boolean(b)?;
                Ok((ta.or(fa.clone().and(tb)), fa.and(fb)))
            }
            Node::IfElse(c, a, b) => {
                let (tc, fc) = self.boolean(c)?;
                let (ta, fa) = self.boolean(a)?;
                let (tb, fb) = self.boolean(b)?;
                Ok((
                    tc.clone().and(ta).or(fc.clone().and(tb)),
                    tc.and(fa).or(fc.and(fb)),
                ))
            }
            Node::Coalesce(a, b) if is_boolean(a) => {
                // A comparison is true, false or missing: `b` stands in for missing.
                let (ta, fa) = self.boolean(a)?;
                let (tb, fb) = self.boolean(b)?;
                let missing = ta.clone().or(fa.clone()).not();
                Ok((ta.or(missing.clone().and(tb)), fa.or(missing.and(fb))))
            }
            Node::Bin(op, a, b) => {
                let (l, r) = (self.value(a)?, self.value(b)?);
                self.bin(*op, l, r)
            }
            Node::Load { .. } | Node::Coalesce(..) => {
                // A resource attribute used as a condition: true when it is `true`.
                let v = self.value(n)?;
                self.bin(BinOp::Eq, v, Sym::Known(V::Bool(true)))
            }
            Node::Matches(..) => Err(
                "matches a regular expression against a resource attribute; SQL engines do not \
                 share Warden's regex dialect"
                    .into(),
            ),
            Node::Call(name, _) => Err(format!(
                "passes a resource attribute to the script function `{name}`"
            )),
            Node::Is(..) | Node::IsIn(..) => {
                Err("tests roles of a resource attribute that is not a plain role name".into())
            }
            _ => Err(
                "computes a value from resource attributes (len, is_int, arithmetic, lists)".into(),
            ),
        }
    }

    /// A value operand: known, or a resource attribute.
    fn value(&self, n: &'a Node) -> R<Sym<'a>> {
        if !reads_resource(n) {
            return Ok(Sym::Known(self.known(n)));
        }
        match n {
            Node::Load {
                root: Root::Resource,
                path,
                hint: Hint::Plain,
            } => Ok(Sym::Attr {
                path,
                fallback: None,
            }),
            Node::Load { .. } => Err("compares a role-typed resource attribute with a value \
                                      that depends on the resource"
                .into()),
            Node::Coalesce(a, b) => {
                if !reads_resource(a) {
                    // `principal.x ?? resource.y`: decided now.
                    return match self.known(a) {
                        V::Missing => self.value(b),
                        v => Ok(Sym::Known(v)),
                    };
                }
                match (self.value(a)?, reads_resource(b)) {
                    (
                        Sym::Attr {
                            path,
                            fallback: None,
                        },
                        false,
                    ) => Ok(Sym::Attr {
                        path,
                        fallback: Some(self.known(b)),
                    }),
                    _ => Err("chains `??` over several resource attributes".into()),
                }
            }
            _ => Err(
                "computes a value from resource attributes (len, is_int, arithmetic, \
                      `if`, lists, scripts)"
                    .into(),
            ),
        }
    }

    /// `l op r` where at least one side is a resource attribute.
    fn bin(&self, op: BinOp, l: Sym<'a>, r: Sym<'a>) -> R<TF> {
        match (l, r) {
            (Sym::Known(a), Sym::Known(b)) => Ok(truth(&eval::binary(&self.cx, op, a, b))),
            (
                Sym::Attr {
                    path,
                    fallback: Some(fb),
                },
                other,
            ) => {
                // Present: the attribute's own value; missing: the substitute.
                let present_case = self.bin(
                    op,
                    Sym::Attr {
                        path,
                        fallback: None,
                    },
                    other.dup(),
                )?;
                let missing_case = self.bin(op, Sym::Known(fb), other)?;
                Ok(split(path, present_case, missing_case))
            }
            (
                other,
                Sym::Attr {
                    path,
                    fallback: Some(fb),
                },
            ) => {
                let present_case = self.bin(
                    op,
                    other.dup(),
                    Sym::Attr {
                        path,
                        fallback: None,
                    },
                )?;
                let missing_case = self.bin(op, other, Sym::Known(fb))?;
                Ok(split(path, present_case, missing_case))
            }
            (Sym::Attr { .. }, Sym::Attr { .. }) => {
                Err("compares two resource attributes with each other".into())
            }
            (Sym::Attr { path, .. }, Sym::Known(k)) => self.attr_op(op, path, k),
            (Sym::Known(k), Sym::Attr { path, .. }) => self.known_op(op, k, path),
        }
    }

    /// `resource.x op k`.
    fn attr_op(&self, op: BinOp, path: &'a [Box<str>], k: V<'a>) -> R<TF> {
        if matches!(k, V::Missing) {
            return Ok((FALSE, FALSE));
        }
        match op {
            BinOp::Eq | BinOp::Ne => {
                let s = match k {
                    V::List(_) | V::Roles(_) | V::Map(_) => {
                        return Err("compares a resource attribute with a list".into())
                    }
                    k => self.scalar(&k)?,
                };
                let Some(s) = s else {
                    return Ok((FALSE, FALSE));
                };
                let kind = s.kind();
                let eq = atom(path, |attr| Cond::Cmp {
                    attr,
                    op: CmpOp::Eq,
                    value: s,
                });
                let ne = present(path, Some(kind)).and(eq.clone().not());
                Ok(if op == BinOp::Eq { (eq, ne) } else { (ne, eq) })
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => match k {
                V::Num(n) => {
                    let cmp = atom(path, |attr| Cond::Cmp {
                        attr,
                        op: cmp_op(op),
                        value: Scalar::Number(n),
                    });
                    let not = present(path, Some(Kind::Number)).and(cmp.clone().not());
                    Ok((cmp, not))
                }
                V::Role(_) | V::Roles(_) => {
                    Err("orders a resource attribute that is not declared `role` by roles".into())
                }
                // `order`: anything but two numbers or roles is missing.
                _ => Ok((FALSE, FALSE)),
            },
            BinOp::In => self.member_of_known(path, k),
            BinOp::Contains => {
                // A list attribute: membership; a string attribute: substring.
                let mut t = FALSE;
                let mut f = FALSE;
                if let Some(s) = self.scalar(&k)? {
                    let has = atom(path, |attr| Cond::Has { attr, value: s });
                    f = present(path, Some(Kind::List)).and(has.clone().not());
                    t = has;
                }
                if let Some(text) = crate::value::str_of(&k) {
                    if matches!(k, V::Secret(_)) {
                        return Err(secret_reason());
                    }
                    let c = atom(path, |attr| Cond::Contains {
                        attr,
                        value: text.to_owned(),
                    });
                    let c = if text.is_empty() {
                        present(path, Some(Kind::String))
                    } else {
                        c
                    };
                    f = f.or(present(path, Some(Kind::String)).and(c.clone().not()));
                    t = t.or(c);
                }
                Ok((t, f))
            }
            BinOp::StartsWith | BinOp::EndsWith => {
                let Some(text) = crate::value::str_of(&k) else {
                    return Ok((FALSE, FALSE));
                };
                if matches!(k, V::Secret(_)) {
                    return Err(secret_reason());
                }
                let value = text.to_owned();
                let c = if value.is_empty() {
                    present(path, Some(Kind::String))
                } else if op == BinOp::StartsWith {
                    atom(path, |attr| Cond::StartsWith { attr, value })
                } else {
                    atom(path, |attr| Cond::EndsWith { attr, value })
                };
                let f = present(path, Some(Kind::String)).and(c.clone().not());
                Ok((c, f))
            }
            BinOp::SubsetOf => Err("uses subset_of on a resource attribute".into()),
            // Arithmetic and concatenation are never true or false.
            BinOp::Concat | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Coalesce => {
                Ok((FALSE, FALSE))
            }
        }
    }

    /// `k op resource.x`.
    fn known_op(&self, op: BinOp, k: V<'a>, path: &'a [Box<str>]) -> R<TF> {
        if matches!(k, V::Missing) {
            return Ok((FALSE, FALSE));
        }
        match op {
            BinOp::Eq | BinOp::Ne | BinOp::StartsWith | BinOp::EndsWith => match op {
                BinOp::Eq | BinOp::Ne => self.attr_op(op, path, k),
                _ if crate::value::str_of(&k).is_some() => {
                    Err("tests a text against a resource attribute as its prefix or suffix".into())
                }
                _ => Ok((FALSE, FALSE)),
            },
            BinOp::Lt => self.attr_op(BinOp::Gt, path, k),
            BinOp::Le => self.attr_op(BinOp::Ge, path, k),
            BinOp::Gt => self.attr_op(BinOp::Lt, path, k),
            BinOp::Ge => self.attr_op(BinOp::Le, path, k),
            BinOp::In => {
                // `k in resource.x`: a list attribute with an element equal to `k`.
                let Some(s) = self.scalar(&k)? else {
                    return Err("tests a list or map for membership in a resource attribute".into());
                };
                let has = atom(path, |attr| Cond::Has { attr, value: s });
                let f = present(path, Some(Kind::List)).and(has.clone().not());
                Ok((has, f))
            }
            BinOp::Contains => match k {
                V::List(_) | V::Roles(_) => self.member_of_known(path, k),
                V::Str(_) | V::Secret(_) => {
                    Err("tests whether a text contains a resource attribute".into())
                }
                _ => Ok((FALSE, FALSE)),
            },
            BinOp::SubsetOf => Err("uses subset_of on a resource attribute".into()),
            BinOp::Concat | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Coalesce => {
                Ok((FALSE, FALSE))
            }
        }
    }

    /// `resource.x in k` (or `k contains resource.x`): `eval::member`.
    fn member_of_known(&self, path: &'a [Box<str>], k: V<'a>) -> R<TF> {
        let mut items: Vec<Scalar> = Vec::new();
        let mut push = |v: V<'_>| -> R<()> {
            match v {
                // A missing element equals nothing.
                V::Missing => Ok(()),
                V::List(_) | V::Roles(_) | V::Map(_) => {
                    Err("tests membership in a list of lists or maps".into())
                }
                v => {
                    if let Some(s) = self.scalar(&v)? {
                        items.push(s);
                    }
                    Ok(())
                }
            }
        };
        match k {
            V::List(l) => match l {
                List::Values(vs) => vs
                    .iter()
                    .try_for_each(|x| push(crate::value::value(Some(x))))?,
                List::Konsts(ks) => ks.iter().try_for_each(|x| push(eval::konst(x)))?,
                List::Nodes(ns) => ns.iter().try_for_each(|n| push(eval::eval(&self.cx, n)))?,
                List::Json(js) => js
                    .iter()
                    .try_for_each(|x| push(crate::value::json_value(Some(x))))?,
            },
            V::Roles(rs) => {
                for r in rolesets::role_ids(self.t, rs) {
                    push(V::Role(r))?;
                }
            }
            // Not a collection: `member` is missing.
            _ => return Ok((FALSE, FALSE)),
        }
        let mut t = FALSE;
        for kind in [Kind::String, Kind::Number, Kind::Bool] {
            let values: Vec<Scalar> = items.iter().filter(|s| s.kind() == kind).cloned().collect();
            if !values.is_empty() {
                t = t.or(atom(path, |attr| Cond::In { attr, values }));
            }
        }
        let f = present(path, None).and(t.clone().not());
        Ok((t, f))
    }

    /// A known value as a filter constant; `None` for a value no attribute equals
    /// (then the comparison is missing). Secrets never go into a filter.
    fn scalar(&self, v: &V<'_>) -> R<Option<Scalar>> {
        Ok(match v {
            V::Str(s) => Some(Scalar::String(s.to_string())),
            V::Num(n) => Some(Scalar::Number(*n)),
            V::Bool(b) => Some(Scalar::Bool(*b)),
            // A role equals its name (`eval::equal`).
            V::Role(r) => self
                .t
                .role_names
                .get(*r as usize)
                .map(|n| Scalar::String(n.to_string())),
            V::Secret(_) => return Err(secret_reason()),
            V::Missing | V::List(_) | V::Roles(_) | V::Map(_) => None,
        })
    }
}

impl Sym<'_> {
    fn dup(&self) -> Self {
        match self {
            Sym::Known(v) => Sym::Known(v.clone()),
            Sym::Attr { path, fallback } => Sym::Attr {
                path,
                fallback: fallback.clone(),
            },
        }
    }
}

/// Present: `p`; missing: `m` (its constants already known).
fn split(path: &[Box<str>], p: TF, m: TF) -> TF {
    let is = present(path, None);
    let isnt = is.clone().not();
    (
        is.clone().and(p.0).or(isnt.clone().and(m.0)),
        is.and(p.1).or(isnt.and(m.1)),
    )
}

fn truth(v: &V<'_>) -> TF {
    match v {
        V::Bool(b) => (B::Const(*b), B::Const(!*b)),
        _ => (FALSE, FALSE),
    }
}

/// Nodes whose value is a boolean or missing, never another kind.
fn is_boolean(n: &Node) -> bool {
    match n {
        Node::Not(_)
        | Node::And(..)
        | Node::Or(..)
        | Node::Matches(..)
        | Node::Is(..)
        | Node::IsInt(_)
        | Node::IsIn(..) => true,
        Node::Bin(op, ..) => !matches!(op, BinOp::Concat | BinOp::Sub | BinOp::Coalesce),
        _ => false,
    }
}

fn cmp_op(op: BinOp) -> CmpOp {
    match op {
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        BinOp::Ge => CmpOp::Ge,
        _ => CmpOp::Eq,
    }
}

fn secret_reason() -> String {
    "compares a resource attribute with a secret; secrets never go into a filter".into()
}
