//! Evaluating lowered conditions against a request: values or *missing*, never a panic.
//!
//! Values borrow from the request and the program (`V<'a>`), so evaluation allocates
//! nothing except a run-time string concatenation.

use crate::cx::{has_request, principal, Cx, Read};
use crate::program::{Hint, InputKind, Konst, Node};
use crate::request::Value;
use crate::rolesets::{
    is_roleish, mask_ids, role_ge, role_ids, role_set, set_all, set_any, RoleSet,
};
use crate::secret::{ct_eq, Secret};
use crate::tables::CRule;
use crate::value::{json_value, str_of, value, List, Roles, V};
use serde_json::Value as Json;
use std::borrow::Cow;
use warden_lang::ast::{BinOp, CondKind, Effect, OnMissing, Root};

/// Evaluate a node with no request (constant folding at load).
pub(crate) fn eval_const(node: &Node) -> Option<Konst> {
    let cx = Cx {
        t: None,
        req: None,
        http: None,
        rec: None,
        pmask: None,
        clock: None,
    };
    to_konst(&cx, eval(&cx, node))
}

fn to_konst(cx: &Cx<'_>, v: V<'_>) -> Option<Konst> {
    Some(match v {
        V::Missing => Konst::Missing,
        V::Bool(b) => Konst::Bool(b),
        V::Num(n) => Konst::Num(n),
        V::Str(s) => Konst::Str(s.into()),
        V::Secret(s) => Konst::Secret(Secret::new(s.into_owned())),
        V::Role(r) => Konst::Role(r),
        V::List(List::Konsts(k)) => Konst::List(k.into()),
        V::List(List::Nodes(ns)) => Konst::List(
            ns.iter()
                .map(|n| to_konst(cx, eval(cx, n)))
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        V::List(List::Values(_) | List::Json(_)) | V::Roles(_) | V::Map(_) => return None,
    })
}

fn truth(v: &V<'_>) -> Option<bool> {
    match v {
        V::Bool(b) => Some(*b),
        _ => None,
    }
}

/// Whether a rule matches (allow: applies; deny: denies), and its condition's value.
pub(crate) fn rule_matches(cx: &Cx<'_>, rule: &CRule) -> (bool, Option<Option<bool>>) {
    let Some((kind, node)) = &rule.cond else {
        return (true, None);
    };
    let c = truth(&eval(cx, node));
    (matched(rule, *kind, c), Some(c))
}

/// Whether a rule with condition `kind` matches when its condition's value is `c`
/// (`None`: missing).
#[inline]
pub(crate) fn matched(rule: &CRule, kind: CondKind, c: Option<bool>) -> bool {
    let want = kind == CondKind::If;
    match (rule.effect, c) {
        (_, Some(b)) => b == want,
        (Effect::Allow, None) => false,
        (Effect::Deny, None) => rule.missing == OnMissing::Deny,
    }
}

pub(crate) fn eval<'a>(cx: &Cx<'a>, node: &'a Node) -> V<'a> {
    match node {
        Node::Const(k) => konst(k),
        Node::Load { root, path, hint } => {
            let v = load(cx, *root, path, *hint);
            if let Some(rec) = cx.rec {
                let attribute = std::iter::once(root.keyword())
                    .chain(path.iter().map(|s| &**s))
                    .collect::<Vec<_>>()
                    .join(".");
                let value = render(cx, &v);
                rec.borrow_mut().push(Read { attribute, value });
            }
            v
        }
        Node::Principal => match principal(cx) {
            Some(p) => V::Roles(p.roles()),
            None => V::Missing,
        },
        Node::Header(name) => {
            let v = cx
                .http
                .and_then(|h| h.req.header_value(name))
                .map_or(V::Missing, |v| V::Str(Cow::Borrowed(v)));
            // Header values often carry credentials: traces show presence only.
            record_presence(cx, "header", name, &v);
            v
        }
        Node::Cookie(name) => {
            let v = cx
                .http
                .and_then(|h| h.req.cookie_value(name))
                .map_or(V::Missing, |v| V::Str(Cow::Borrowed(v)));
            // Cookies are session credentials: traces show presence only.
            record_presence(cx, "cookie", name, &v);
            v
        }
        Node::Ip => {
            let v = cx
                .http
                .and_then(|h| h.ip.text())
                .map_or(V::Missing, |ip| V::Str(Cow::Borrowed(ip)));
            if let Some(rec) = cx.rec {
                let value = render(cx, &v);
                rec.borrow_mut().push(Read {
                    attribute: "ip".into(),
                    value,
                });
            }
            v
        }
        Node::List(items) => {
            // A list with a missing element is missing as a whole.
            if items.iter().any(|n| matches!(eval(cx, n), V::Missing)) {
                V::Missing
            } else {
                V::List(List::Nodes(items))
            }
        }
        Node::Not(a) => truth(&eval(cx, a)).map_or(V::Missing, |b| V::Bool(!b)),
        Node::And(a, b) => match truth(&eval(cx, a)) {
            Some(false) => V::Bool(false),
            Some(true) => truth(&eval(cx, b)).map_or(V::Missing, V::Bool),
            None => V::Missing,
        },
        Node::Or(a, b) => match truth(&eval(cx, a)) {
            Some(true) => V::Bool(true),
            Some(false) => truth(&eval(cx, b)).map_or(V::Missing, V::Bool),
            None => V::Missing,
        },
        Node::Coalesce(a, b) => match eval(cx, a) {
            V::Missing => eval(cx, b),
            v => v,
        },
        Node::Bin(op, a, b) => {
            let l = eval(cx, a);
            // `input.size <= 10MB` and its kin: a number against a constant needs no
            // second dispatch (the same answer as `order`).
            if let (V::Num(x), Node::Const(Konst::Num(y))) = (&l, &**b) {
                if let Some(o) = num_order(*op, *x, *y) {
                    return V::Bool(o);
                }
            }
            let r = eval(cx, b);
            if matches!(l, V::Missing) || matches!(r, V::Missing) {
                return V::Missing;
            }
            binary(cx, *op, l, r)
        }
        Node::Matches(a, re) => match (eval(cx, a), re.get()) {
            (V::Str(s) | V::Secret(s), Some(re)) => V::Bool(re.is_match(&s)),
            _ => V::Missing,
        },
        Node::Is(a, role) => {
            if let (Node::Principal, Some(is)) = (&**a, principal_is(cx, *role)) {
                return V::Bool(is);
            }
            let v = eval(cx, a);
            match (role_set(cx, &v), cx.t) {
                (Some(set), Some(t)) => V::Bool(set_any(t, set, |r| t.inherits(r, *role))),
                _ => V::Missing,
            }
        }
        Node::Len(a) => match eval(cx, a) {
            V::Str(s) | V::Secret(s) => V::Num(s.chars().count() as f64),
            V::List(l) => V::Num(list_len(l) as f64),
            V::Roles(rs) => match cx.t {
                Some(t) => V::Num(role_ids(t, rs).count() as f64),
                None => V::Missing,
            },
            _ => V::Missing,
        },
        Node::Call(name, args) => {
            let Some(scripts) = cx.t.and_then(|t| t.scripts.as_ref()) else {
                return V::Missing;
            };
            let mut dyns = Vec::with_capacity(args.len());
            for a in args.iter() {
                match to_dynamic(cx, &eval(cx, a)) {
                    Some(d) => dyns.push(d),
                    None => return V::Missing,
                }
            }
            scripts.call(name, dyns).unwrap_or(V::Missing)
        }
        Node::IsInt(a) => match eval(cx, a) {
            V::Num(n) => V::Bool(n.is_finite() && n.fract() == 0.0),
            _ => V::Missing,
        },
        Node::Now => {
            let v = crate::forms::now(cx);
            if let Some(rec) = cx.rec {
                let value = render(cx, &v);
                rec.borrow_mut().push(Read {
                    attribute: "now".into(),
                    value,
                });
            }
            v
        }
        Node::IfElse(c, a, b) => match truth(&eval(cx, c)) {
            Some(true) => eval(cx, a),
            Some(false) => eval(cx, b),
            None => V::Missing,
        },
        // A secret stays one (compared in constant time, never shown).
        Node::Lower(a) => match eval(cx, a) {
            V::Str(s) => V::Str(lower_ascii(s)),
            V::Secret(s) => V::Secret(lower_ascii(s)),
            _ => V::Missing,
        },
        Node::HeaderSafe(a, max) => match eval(cx, a) {
            // Secret-derived text never goes into a response.
            V::Str(s) => V::Str(Cow::Owned(crate::forms::header_safe(&s, *max))),
            _ => V::Missing,
        },
        Node::IsIn(role, org) => {
            let org = eval(cx, org);
            crate::forms::is_in(cx, *role, &org)
        }
    }
}

/// ASCII letters in lower case, borrowing when there is none to change. Only ASCII:
/// the values compared case-blind (MIME types, header tokens, schemes) are ASCII, and
/// Unicode case folding would let look-alikes (`K`, the Kelvin sign) compare equal.
fn lower_ascii(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

/// Record a read whose value must not be shown: only whether it was present.
fn record_presence(cx: &Cx<'_>, kind: &str, name: &str, v: &V<'_>) {
    if let Some(rec) = cx.rec {
        let value = if matches!(v, V::Missing) {
            "missing"
        } else {
            "<redacted>"
        };
        rec.borrow_mut().push(Read {
            attribute: format!("{kind} {name}"),
            value: value.into(),
        });
    }
}

/// A value as a script argument; `None` for missing (the call is then missing).
fn to_dynamic(cx: &Cx<'_>, v: &V<'_>) -> Option<rhai::Dynamic> {
    use rhai::Dynamic;
    let name = |r: u32| {
        cx.t.and_then(|t| t.role_names.get(r as usize))
            .map(|n| Dynamic::from(n.to_string()))
    };
    Some(match v {
        V::Missing => return None,
        V::Bool(b) => Dynamic::from(*b),
        V::Num(n) => Dynamic::from(*n),
        V::Str(s) => Dynamic::from(s.to_string()),
        // The checker refuses `secret(...)` in a call's arguments (`secret-to-script`);
        // should one arrive anyway, the call is missing rather than see it.
        V::Secret(_) => return None,
        V::Role(r) => name(*r)?,
        V::Roles(rs) => {
            let t = cx.t?;
            Dynamic::from_array(role_ids(t, *rs).filter_map(name).collect())
        }
        V::List(l) => {
            let mut items = Vec::new();
            let mut ok = true;
            list_any(cx, *l, |e| {
                match to_dynamic(cx, &e) {
                    Some(d) => items.push(d),
                    None => ok = false,
                }
                !ok
            });
            if !ok {
                return None;
            }
            Dynamic::from_array(items)
        }
        V::Map(m) => {
            let mut map = rhai::Map::new();
            m.for_each(|k, v| {
                if let Some(d) = to_dynamic(cx, &v) {
                    map.insert(k.into(), d);
                }
            });
            Dynamic::from_map(map)
        }
    })
}

pub(crate) fn konst(k: &Konst) -> V<'_> {
    match k {
        Konst::Missing => V::Missing,
        Konst::Bool(b) => V::Bool(*b),
        Konst::Num(n) => V::Num(*n),
        Konst::Str(s) => V::Str(Cow::Borrowed(s)),
        Konst::Secret(s) => V::Secret(Cow::Borrowed(s.expose())),
        Konst::Role(r) => V::Role(*r),
        Konst::List(items) => V::List(List::Konsts(items)),
    }
}

fn load<'a>(cx: &Cx<'a>, root: Root, path: &'a [Box<str>], hint: Hint) -> V<'a> {
    if !has_request(cx) {
        return V::Missing;
    }
    let Some((first, rest)) = path.split_first() else {
        return V::Missing;
    };
    let mut v = match root {
        Root::Principal => principal(cx).map_or(V::Missing, |p| p.get(first)),
        Root::Resource => cx.req.map_or(V::Missing, |r| r.resource(first)),
        Root::Context => cx.req.map_or(V::Missing, |r| r.context(first)),
        Root::Input => cx
            .http
            .map_or(V::Missing, |h| value(h.req.input.get(first))),
        Root::Request => match (cx.http, &**first) {
            (Some(h), "method") => V::Str(Cow::Borrowed(&h.req.method)),
            (Some(h), "path") => V::Str(Cow::Borrowed(h.path)),
            (Some(h), "query") => V::Str(Cow::Borrowed(h.query)),
            (Some(h), "ip") => {
                h.ip.text()
                    .map_or(V::Missing, |ip| V::Str(Cow::Borrowed(ip)))
            }
            _ => V::Missing,
        },
    };
    for name in rest {
        v = match v {
            V::Map(m) => m.get(name),
            _ => V::Missing,
        };
    }
    let Some(t) = cx.t else { return v };
    match (hint, v) {
        (Hint::Plain, v) => v,
        (Hint::Input(k), v) => match (k, v) {
            (InputKind::Str, v @ V::Str(_))
            | (InputKind::Num, v @ V::Num(_))
            | (InputKind::Bool, v @ V::Bool(_))
            | (InputKind::List, v @ V::List(_)) => v,
            _ => V::Missing,
        },
        (_, V::Roles(rs)) => V::Roles(rs),
        (Hint::Role, V::Str(s)) => t.role_id(&s).map_or(V::Missing, V::Role),
        (Hint::RoleSet, V::List(List::Values(vals))) => {
            if vals
                .iter()
                .all(|x| matches!(x, Value::String(s) if t.role_id(s).is_some()))
            {
                V::Roles(Roles::Values(vals))
            } else {
                V::Missing
            }
        }
        (Hint::RoleSet, V::List(List::Json(vals))) => {
            if vals
                .iter()
                .all(|x| matches!(x, Json::String(s) if t.role_id(s).is_some()))
            {
                V::Roles(Roles::JsonValues(vals))
            } else {
                V::Missing
            }
        }
        _ => V::Missing,
    }
}

fn list_len(l: List<'_>) -> usize {
    match l {
        List::Values(v) => v.len(),
        List::Nodes(v) => v.len(),
        List::Konsts(v) => v.len(),
        List::Json(v) => v.len(),
    }
}

/// Calls `f` on each element until it returns true; returns whether it did.
fn list_any<'a>(cx: &Cx<'a>, l: List<'a>, mut f: impl FnMut(V<'a>) -> bool) -> bool {
    match l {
        List::Values(v) => v.iter().any(|x| f(value(Some(x)))),
        List::Nodes(v) => v.iter().any(|n| f(eval(cx, n))),
        List::Konsts(v) => v.iter().any(|k| f(konst(k))),
        List::Json(v) => v.iter().any(|x| f(json_value(Some(x)))),
    }
}

/// `principal is ROLE` from the role masks: false for an anonymous caller of a
/// request; `None` when the masks are not there (more than 64 roles, or no principal's
/// mask), and the role set is read instead.
#[inline]
pub(crate) fn principal_is(cx: &Cx<'_>, role: u32) -> Option<bool> {
    if has_request(cx) && principal(cx).is_none() {
        // An anonymous caller has no role: `principal is R` is plainly false.
        return Some(false);
    }
    let (m, anc) = (cx.pmask?, cx.t?.anc_mask.as_ref()?);
    // Some role of the principal is or inherits `role`: one AND per role held.
    let bit = 1u64 << (role % 64);
    Some(mask_ids(m).any(|r| anc.get(r as usize).is_some_and(|a| a & bit != 0)))
}

/// Equality; `None` when the kinds cannot be compared (a run-time type mismatch).
pub(crate) fn equal(cx: &Cx<'_>, a: &V<'_>, b: &V<'_>) -> Option<bool> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => Some(x == y),
        (V::Bool(x), V::Bool(y)) => Some(x == y),
        (V::Str(x), V::Str(y)) => Some(x == y),
        (V::Secret(x), V::Str(y) | V::Secret(y)) | (V::Str(x), V::Secret(y)) => Some(ct_eq(x, y)),
        (V::Role(x), V::Role(y)) => Some(x == y),
        (V::Role(r), V::Str(s) | V::Secret(s)) | (V::Str(s) | V::Secret(s), V::Role(r)) => {
            let t = cx.t?;
            Some(t.role_names.get(*r as usize).is_some_and(|n| **n == **s))
        }
        (V::Role(_) | V::Roles(_), V::Role(_) | V::Roles(_)) => {
            let t = cx.t?;
            let (x, y) = (role_set(cx, a)?, role_set(cx, b)?);
            let sub = |p: RoleSet<'_>, q: RoleSet<'_>| set_all(t, p, |r| set_any(t, q, |s| s == r));
            Some(sub(x, y) && sub(y, x))
        }
        (V::List(x), V::List(y)) => {
            let sub =
                |p: List<'_>, q: &V<'_>| !list_any(cx, p, |e| member(cx, q, &e) != Some(true));
            Some(sub(*x, b) && sub(*y, a))
        }
        _ => None,
    }
}

/// `x in coll`: some element equals `x` (elements of another kind are unequal).
fn member(cx: &Cx<'_>, coll: &V<'_>, x: &V<'_>) -> Option<bool> {
    match coll {
        V::List(l) => Some(list_any(cx, *l, |e| equal(cx, &e, x) == Some(true))),
        V::Roles(rs) => {
            let t = cx.t?;
            Some(role_ids(t, *rs).any(|r| equal(cx, &V::Role(r), x) == Some(true)))
        }
        _ => None,
    }
}

/// `a subset_of b`: every element of `a` is in `b`; missing unless both are collections.
fn subset(cx: &Cx<'_>, a: &V<'_>, b: &V<'_>) -> Option<bool> {
    if !matches!(b, V::List(_) | V::Roles(_)) {
        return None;
    }
    match a {
        V::List(x) => Some(!list_any(cx, *x, |e| member(cx, b, &e) != Some(true))),
        V::Roles(rs) => {
            let t = cx.t?;
            Some(role_ids(t, *rs).all(|r| member(cx, b, &V::Role(r)) == Some(true)))
        }
        _ => None,
    }
}

pub(crate) fn binary<'a>(cx: &Cx<'a>, op: BinOp, l: V<'a>, r: V<'a>) -> V<'a> {
    let b = |o: Option<bool>| o.map_or(V::Missing, V::Bool);
    match op {
        BinOp::Eq => b(equal(cx, &l, &r)),
        BinOp::Ne => b(equal(cx, &l, &r).map(|e| !e)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => b(order(cx, op, &l, &r)),
        BinOp::In => b(member(cx, &r, &l)),
        BinOp::SubsetOf => b(subset(cx, &l, &r)),
        BinOp::Contains => match (&l, &r) {
            (V::List(_) | V::Roles(_), _) => b(member(cx, &l, &r)),
            _ => b(str_of(&l).zip(str_of(&r)).map(|(x, y)| x.contains(y))),
        },
        BinOp::StartsWith => b(str_of(&l).zip(str_of(&r)).map(|(x, y)| x.starts_with(y))),
        BinOp::EndsWith => b(str_of(&l).zip(str_of(&r)).map(|(x, y)| x.ends_with(y))),
        BinOp::Concat => match (&l, &r) {
            (V::Num(x), V::Num(y)) => V::Num(x + y),
            (V::Str(x), V::Str(y)) => V::Str(Cow::Owned(format!("{x}{y}"))),
            (V::Str(x) | V::Secret(x), V::Str(y) | V::Secret(y)) => {
                V::Secret(Cow::Owned(format!("{x}{y}")))
            }
            _ => V::Missing,
        },
        BinOp::Sub => match (&l, &r) {
            (V::Num(x), V::Num(y)) => V::Num(x - y),
            _ => V::Missing,
        },
        // Lowered to their own nodes; kept total rather than unreachable.
        BinOp::And | BinOp::Or | BinOp::Coalesce => V::Missing,
    }
}

/// `x op y` for the ordering operators; `None` for any other operator.
pub(crate) fn num_order(op: BinOp, x: f64, y: f64) -> Option<bool> {
    Some(match op {
        BinOp::Lt => x < y,
        BinOp::Le => x <= y,
        BinOp::Gt => x > y,
        BinOp::Ge => x >= y,
        _ => return None,
    })
}

fn order(cx: &Cx<'_>, op: BinOp, l: &V<'_>, r: &V<'_>) -> Option<bool> {
    if let (V::Num(x), V::Num(y)) = (l, r) {
        return num_order(op, *x, *y);
    }
    if !is_roleish(l) && !is_roleish(r) {
        return None;
    }
    let t = cx.t?;
    let (a, b) = (role_set(cx, l)?, role_set(cx, r)?);
    let ge = |x, y| role_ge(t, x, y);
    Some(match op {
        BinOp::Ge => ge(a, b),
        BinOp::Gt => ge(a, b) && !ge(b, a),
        BinOp::Le => ge(b, a),
        _ => ge(b, a) && !ge(a, b),
    })
}

/// A value for explain traces; secrets are never shown.
pub(crate) fn render(cx: &Cx<'_>, v: &V<'_>) -> String {
    let name = |r: u32| {
        cx.t.and_then(|t| t.role_names.get(r as usize))
            .map_or_else(|| format!("role#{r}"), |n| n.to_string())
    };
    match v {
        V::Missing => "missing".into(),
        V::Bool(b) => b.to_string(),
        V::Num(n) => n.to_string(),
        V::Str(s) => format!("{s:?}"),
        V::Secret(_) => "<redacted>".into(),
        V::Role(r) => format!("role {}", name(*r)),
        V::Roles(rs) => {
            let names: Vec<String> = match (cx.t, rs) {
                (Some(t), rs) => role_ids(t, *rs).map(name).collect(),
                (None, _) => Vec::new(),
            };
            format!("roles [{}]", names.join(", "))
        }
        V::List(l) => {
            let mut parts = Vec::new();
            list_any(cx, *l, |e| {
                parts.push(render(cx, &e));
                false
            });
            format!("[{}]", parts.join(", "))
        }
        V::Map(_) => "{...}".into(),
    }
}
