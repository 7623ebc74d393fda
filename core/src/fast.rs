//! Deciding a rule condition in its fast form ([`Fast`], compiled at load): direct
//! reads of the request's fields and a few compares, the value `eval::eval` gives the
//! condition's node, or `None` where the fast form cannot tell (then the rule is
//! evaluated by `eval` as before).
//!
//! The docs-app's deny conditions (`resource.author == principal.id or principal is
//! admin`, `resource.org != principal.org and not principal is admin`) were ~400 of the
//! ~870 instructions of deciding a borrowed request through the general evaluator.

use crate::cx::{principal, Cx};
use crate::eval::{self, equal};
use crate::program::{Fast, Field};
use crate::tables::CRule;
use crate::value::V;
use std::borrow::Cow;

/// Whether a rule matches (allow: applies; deny: denies), as `eval::rule_matches`
/// says, through the rule's fast form when it has one. For deciding only: an explain
/// trace calls `eval::rule_matches`, which records what it reads.
#[inline]
pub(crate) fn rule_matches(cx: &Cx<'_>, rule: &CRule) -> bool {
    if let (Some(f), Some((kind, _)), None) = (&rule.fast, &rule.cond, cx.rec) {
        if let Some(c) = eval(cx, f) {
            return eval::matched(rule, *kind, c);
        }
    }
    eval::rule_matches(cx, rule).0
}

/// The condition's truth (`Some(None)`: missing, or a value that is not a boolean), or
/// `None` when the fast form cannot decide it. Reads nothing an explain trace would
/// record differently: the caller uses it only when no trace is being recorded.
pub(crate) fn eval(cx: &Cx<'_>, f: &Fast) -> Option<Option<bool>> {
    Some(match f {
        Fast::Cmp { eq, a, b } => {
            let (l, r) = (read(cx, a), read(cx, b));
            if matches!(l, V::Missing) || matches!(r, V::Missing) {
                return Some(None);
            }
            let same = match (&l, &r) {
                (V::Str(x), V::Str(y)) => x == y,
                // Numbers, booleans, lists: what `eval` decides for `==`.
                _ => match equal(cx, &l, &r) {
                    Some(same) => same,
                    None => return Some(None),
                },
            };
            Some(same == *eq)
        }
        // Without the masks the fast form cannot tell: the general evaluator reads the
        // role set.
        Fast::Is(role) => Some(eval::principal_is(cx, *role)?),
        Fast::Not(a) => eval(cx, a)?.map(|b| !b),
        Fast::And(a, b) => match eval(cx, a)? {
            Some(false) => Some(false),
            Some(true) => eval(cx, b)?,
            None => None,
        },
        Fast::Or(a, b) => match eval(cx, a)? {
            Some(true) => Some(true),
            Some(false) => eval(cx, b)?,
            None => None,
        },
    })
}

/// One field of the request, as `eval::eval` loads it (missing without a request, a
/// principal or a resource; the principal of an HTTP request is read as there).
#[inline]
fn read<'a>(cx: &Cx<'a>, f: &'a Field) -> V<'a> {
    let str = |s: &'a str| V::Str(Cow::Borrowed(s));
    match f {
        Field::PrincipalId => principal(cx).map_or(V::Missing, |p| str(p.id())),
        Field::Principal(name) => principal(cx).map_or(V::Missing, |p| p.attr(name)),
        Field::ResourceId => cx.req.map_or(V::Missing, |s| s.resource_id()),
        Field::ResourceType => cx
            .req
            .and_then(|s| s.resource_type())
            .map_or(V::Missing, str),
        Field::Resource(name) => cx.req.map_or(V::Missing, |s| s.resource_attr(name)),
        Field::Context(name) => cx.req.map_or(V::Missing, |s| s.context(name)),
    }
}
