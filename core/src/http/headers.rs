//! Security headers: the `headers` block folded at load, and per-route `header set` /
//! `header drop` applied on top, least specific route first (the most specific wins).
//!
//! The usual chain has at most one route with header changes, so the result is known at
//! load: a [`HeaderPlan`] per such route (and one for the `headers` block alone), which a
//! request copies as borrowed values instead of applying each change again.

use std::borrow::Cow;

/// Removed from every response unless the policy sets it.
pub(crate) const POWERED_BY: &str = "x-powered-by";

/// The removals of a policy without `header drop`: borrowed, so that the usual request
/// allocates nothing for them.
const ONLY_POWERED_BY: &[&str] = &[POWERED_BY];

/// A route's change to the security headers. Names are lower-case.
#[derive(Debug, Clone)]
pub(crate) enum HeaderOp {
    Set(Box<str>, Box<str>),
    Drop(Box<str>),
}

/// Response headers decided at load: the `headers` block with one route's changes.
#[derive(Debug, Default)]
pub(crate) struct HeaderPlan {
    add: Box<[(Box<str>, Box<str>)]>,
    remove: Box<[Box<str>]>,
    /// [`name_bit`] of every name in `add` and `remove`.
    mask: u64,
}

impl HeaderPlan {
    /// The `headers` block, then `ops` in order.
    pub fn new(global: &[(Box<str>, Box<str>)], ops: &[HeaderOp]) -> HeaderPlan {
        let mut hs = HeaderSet::base(global, 0);
        ops.iter().for_each(|op| hs.apply(op));
        let add: Box<[(Box<str>, Box<str>)]> = hs
            .add
            .into_iter()
            .map(|(n, v)| (Box::from(&*n), Box::from(&*v)))
            .collect();
        let remove: Box<[Box<str>]> = hs.remove.iter().map(|n| Box::from(*n)).collect();
        let mask = add
            .iter()
            .map(|(n, _)| n)
            .chain(remove.iter())
            .fold(0, |m, n| m | name_bit(n));
        HeaderPlan { add, remove, mask }
    }
}

/// One of 64 buckets of header names (length and last byte): lets [`HeaderSet::set`]
/// skip the planned headers when none can have the name being set.
pub(crate) fn name_bit(name: &str) -> u64 {
    let last = name.as_bytes().last().copied().unwrap_or(0);
    1 << ((name.len() * 7 + usize::from(last)) % 64)
}

/// The headers of one response being built, with the names the host must remove.
#[derive(Debug)]
pub(crate) struct HeaderSet<'e> {
    pub add: Vec<(Cow<'e, str>, Cow<'e, str>)>,
    pub remove: Cow<'e, [&'e str]>,
    /// `add[..planned]` came from a plan whose names are summarised by `mask`; entries
    /// after it were set during the request, with names summarised by `added`.
    planned: usize,
    mask: u64,
    added: u64,
}

impl<'e> HeaderSet<'e> {
    /// Start from the policy's `headers` block, to apply route changes to.
    pub fn base(global: &'e [(Box<str>, Box<str>)], extra: usize) -> Self {
        let mut add = Vec::with_capacity(global.len() + extra);
        add.extend(
            global
                .iter()
                .map(|(n, v)| (Cow::Borrowed(&**n), Cow::Borrowed(&**v))),
        );
        // `X-Powered-By` names the app's framework to attackers (helmet removes it): it
        // goes unless the policy gives it a value of its own.
        let remove = Cow::Borrowed(if global.iter().any(|(n, _)| **n == *POWERED_BY) {
            &[][..]
        } else {
            ONLY_POWERED_BY
        });
        HeaderSet {
            add,
            remove,
            planned: 0,
            mask: u64::MAX,
            added: 0,
        }
    }

    /// Start from a plan, with room for `extra` more headers.
    pub fn planned(plan: &'e HeaderPlan, extra: usize) -> Self {
        let mut add = Vec::with_capacity(plan.add.len() + extra);
        add.extend(
            plan.add
                .iter()
                .map(|(n, v)| (Cow::Borrowed(&**n), Cow::Borrowed(&**v))),
        );
        HeaderSet {
            planned: add.len(),
            add,
            remove: match &*plan.remove {
                [] => Cow::Borrowed(&[][..]),
                [only] if **only == *POWERED_BY => Cow::Borrowed(ONLY_POWERED_BY),
                many => Cow::Owned(many.iter().map(|n| &**n).collect()),
            },
            mask: plan.mask,
            added: 0,
        }
    }

    /// Append headers that cannot be in the set yet: the set holds no name whose bit
    /// is in `mask`, the union of the entries' [`name_bit`]s. Returns `false`, having
    /// done nothing, when it might (then [`HeaderSet::set`] each).
    pub fn append_new(&mut self, entries: &'e [(Box<str>, Box<str>)], mask: u64) -> bool {
        if (self.mask | self.added) & mask != 0 {
            return false;
        }
        self.added |= mask;
        self.add.extend(
            entries
                .iter()
                .map(|(n, v)| (Cow::Borrowed(&**n), Cow::Borrowed(&**v))),
        );
        true
    }

    /// Add or replace a header.
    #[inline]
    pub fn set(&mut self, name: Cow<'e, str>, value: Cow<'e, str>) {
        let bit = name_bit(&name);
        if (self.mask | self.added) & bit == 0 {
            // Neither planned (so not removed either) nor set before: a new header.
            self.added |= bit;
            self.add.push((name, value));
        } else {
            self.replace(bit, name, value);
        }
    }

    /// [`HeaderSet::set`] for a name that may be present already.
    #[cold]
    fn replace(&mut self, bit: u64, name: Cow<'e, str>, value: Cow<'e, str>) {
        self.added |= bit;
        let from = if self.mask & bit == 0 {
            self.planned
        } else {
            if self.remove.contains(&&*name) {
                self.remove.to_mut().retain(|r| **r != *name);
            }
            0
        };
        match self
            .add
            .get_mut(from..)
            .and_then(|added| added.iter_mut().find(|(n, _)| *n == name))
        {
            Some(slot) => slot.1 = value,
            None => self.add.push((name, value)),
        }
    }

    /// Add `token` to a comma-separated list header such as `Vary`, keeping the tokens
    /// already there (a route's own `header set Vary: "Cookie"` and CORS's `Origin`
    /// both hold: replacing either would let a cache serve one user's answer to
    /// another).
    pub fn merge(&mut self, name: &'e str, token: &'e str) {
        let bit = name_bit(name);
        if (self.mask | self.added) & bit == 0 {
            // Neither planned nor set before (as in `set`): nothing to merge with. This
            // is every response without a `Vary` of its own, and the scan below was a
            // tenth of a request without a route.
            self.added |= bit;
            self.add.push((Cow::Borrowed(name), Cow::Borrowed(token)));
            return;
        }
        self.merge_present(name, token);
    }

    /// [`HeaderSet::merge`] for a name that may be present already.
    fn merge_present(&mut self, name: &'e str, token: &'e str) {
        let slot = self.add.iter_mut().find(|(n, _)| *n == name);
        match slot {
            Some((_, v)) => {
                if !v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)) {
                    *v = Cow::Owned(format!("{v}, {token}"));
                }
            }
            None => self.set(Cow::Borrowed(name), Cow::Borrowed(token)),
        }
    }

    pub fn apply(&mut self, op: &'e HeaderOp) {
        // Changes after a plan would make its summary stale.
        self.planned = 0;
        self.mask = u64::MAX;
        match op {
            HeaderOp::Set(n, v) if &**n == "vary" => {
                for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    self.merge("vary", t);
                }
            }
            HeaderOp::Set(n, v) => self.set(Cow::Borrowed(n), Cow::Borrowed(v)),
            HeaderOp::Drop(n) => {
                self.add.retain(|(x, _)| **x != **n);
                if !self.remove.contains(&&**n) {
                    self.remove.to_mut().push(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_drop_removes_and_is_reported() {
        let global: Vec<(Box<str>, Box<str>)> = vec![
            ("x-frame-options".into(), "DENY".into()),
            (
                "content-security-policy".into(),
                "default-src 'self'".into(),
            ),
        ];
        let ops = [
            HeaderOp::Set("content-security-policy".into(), "relaxed".into()),
            HeaderOp::Drop("x-frame-options".into()),
            HeaderOp::Set("x-new".into(), "1".into()),
        ];
        let mut h = HeaderSet::base(&global, 0);
        ops.iter().for_each(|o| h.apply(o));
        assert_eq!(
            h.add,
            vec![
                (
                    Cow::Borrowed("content-security-policy"),
                    Cow::Borrowed("relaxed")
                ),
                (Cow::Borrowed("x-new"), Cow::Borrowed("1")),
            ]
        );
        assert_eq!(h.remove, vec![POWERED_BY, "x-frame-options"]);
        // The plan of the same changes gives the same headers, and later sets replace,
        // append, and take a name off the removed list as on the general path.
        let plan = HeaderPlan::new(&global, &ops);
        let mut p = HeaderSet::planned(&plan, 2);
        assert_eq!((&p.add, &p.remove), (&h.add, &h.remove));
        for hs in [&mut h, &mut p] {
            hs.set(Cow::Borrowed("x-new"), Cow::Borrowed("2"));
            hs.set(Cow::Borrowed("vary"), Cow::Borrowed("Origin"));
            hs.set(Cow::Borrowed("vary"), Cow::Borrowed("Cookie"));
            hs.set(
                Cow::Borrowed("x-frame-options"),
                Cow::Borrowed("SAMEORIGIN"),
            );
        }
        assert_eq!((&p.add, &p.remove), (&h.add, &h.remove));
        assert_eq!(p.add.len(), 4);
        assert_eq!(p.remove, vec![POWERED_BY]);
    }
}
