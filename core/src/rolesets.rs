//! A request's roles as sets: the ids of a principal's or a value's roles, their mask,
//! and the inheritance order between two sets (`A >= B`, `is`). Below `eval`, which
//! compares and orders role values through these.

use crate::cx::Cx;
use crate::request::Value;
use crate::tables::Tables;
use crate::value::{Roles, V};
use serde_json::Value as Json;
use std::borrow::Cow;

/// The ids of a principal's or a value's roles (names no `role` declares are skipped).
pub(crate) fn role_ids<'a>(t: &'a Tables, rs: Roles<'a>) -> impl Iterator<Item = u32> + 'a {
    // One slice is the set, the others are empty: one chained iterator for every kind.
    let names: &[String] = if let Roles::Principal(n) = rs { n } else { &[] };
    let borrowed: &[Cow<'_, str>] = if let Roles::Names(n) = rs { n } else { &[] };
    let values: &[Value] = if let Roles::Values(v) = rs { v } else { &[] };
    let json: &[Json] = match rs {
        Roles::JsonPrincipal(j) | Roles::JsonValues(j) => j,
        _ => &[],
    };
    names
        .iter()
        .filter_map(|n| t.role_id(n))
        .chain(borrowed.iter().filter_map(|n| t.role_id(n)))
        .chain(values.iter().filter_map(|v| match v {
            Value::String(s) => t.role_id(s),
            _ => None,
        }))
        .chain(
            json.iter()
                .filter_map(|v| v.as_str().and_then(|s| t.role_id(s))),
        )
}

/// The principal's declared roles as a mask ([`Tables::role_mask`]).
pub(crate) fn role_mask(t: &Tables, rs: Roles<'_>) -> Option<u64> {
    match rs {
        Roles::Principal(names) => t.role_mask(names),
        Roles::Names(names) => t.role_mask(names),
        rs => {
            t.anc_mask.as_ref()?;
            Some(role_ids(t, rs).fold(0, |m, r| m | (1u64 << (r % 64))))
        }
    }
}

/// A value as a set of roles, for ordering and `is`.
#[derive(Clone, Copy)]
pub(crate) enum RoleSet<'a> {
    /// One role.
    One(u32),
    /// Role names or values, looked up as they are read.
    Many(Roles<'a>),
    /// The principal's roles, already resolved.
    Mask(u64),
}

/// A value as a role set, when it is a role, a role list or a declared role's name.
pub(crate) fn role_set<'a>(cx: &Cx<'a>, v: &V<'a>) -> Option<RoleSet<'a>> {
    let t = cx.t?;
    match v {
        V::Role(r) => Some(RoleSet::One(*r)),
        V::Roles(Roles::Principal(_) | Roles::Names(_) | Roles::JsonPrincipal(_))
            if cx.pmask.is_some() =>
        {
            cx.pmask.map(RoleSet::Mask)
        }
        V::Roles(rs) => Some(RoleSet::Many(*rs)),
        V::Str(s) | V::Secret(s) => t.role_id(s).map(RoleSet::One),
        _ => None,
    }
}

/// The role ids of a mask, lowest first.
#[inline]
pub(crate) fn mask_ids(mut m: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (m != 0).then(|| {
            let r = m.trailing_zeros();
            m &= m - 1;
            r
        })
    })
}

/// Whether some role of the set satisfies `f`.
pub(crate) fn set_any(t: &Tables, s: RoleSet<'_>, mut f: impl FnMut(u32) -> bool) -> bool {
    match s {
        RoleSet::One(r) => f(r),
        RoleSet::Many(rs) => role_ids(t, rs).any(f),
        RoleSet::Mask(m) => mask_ids(m).any(f),
    }
}

/// Whether every role of the set satisfies `f`.
pub(crate) fn set_all(t: &Tables, s: RoleSet<'_>, mut f: impl FnMut(u32) -> bool) -> bool {
    match s {
        RoleSet::One(r) => f(r),
        RoleSet::Many(rs) => role_ids(t, rs).all(f),
        RoleSet::Mask(m) => mask_ids(m).all(f),
    }
}

/// `A >= B`: every role of B is matched by a role of A that is or inherits it.
pub(crate) fn role_ge(t: &Tables, a: RoleSet<'_>, b: RoleSet<'_>) -> bool {
    set_all(t, b, |rb| set_any(t, a, |ra| t.inherits(ra, rb)))
}

/// A role or a role list (ordered by inheritance, not as numbers or strings).
#[inline]
pub(crate) fn is_roleish(v: &V<'_>) -> bool {
    matches!(v, V::Role(_) | V::Roles(_))
}
