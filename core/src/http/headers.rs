//! Security headers: the `headers` block folded at load, and per-route `header set` /
//! `header drop` applied on top, least specific route first (the most specific wins).

use std::borrow::Cow;

/// A route's change to the security headers. Names are lower-case.
#[derive(Debug, Clone)]
pub(crate) enum HeaderOp {
    Set(Box<str>, Box<str>),
    Drop(Box<str>),
}

/// The headers of one response being built, with the names the host must remove.
#[derive(Debug, Default)]
pub(crate) struct HeaderSet<'e> {
    pub add: Vec<(Cow<'e, str>, Cow<'e, str>)>,
    pub remove: Vec<&'e str>,
}

impl<'e> HeaderSet<'e> {
    /// Start from the policy's `headers` block.
    pub fn base(global: &'e [(Box<str>, Box<str>)], extra: usize) -> Self {
        let mut add = Vec::with_capacity(global.len() + extra);
        add.extend(
            global
                .iter()
                .map(|(n, v)| (Cow::Borrowed(&**n), Cow::Borrowed(&**v))),
        );
        HeaderSet {
            add,
            remove: Vec::new(),
        }
    }

    /// Add or replace a header.
    pub fn set(&mut self, name: Cow<'e, str>, value: Cow<'e, str>) {
        self.remove.retain(|r| **r != *name);
        match self.add.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.add.push((name, value)),
        }
    }

    pub fn apply(&mut self, op: &'e HeaderOp) {
        match op {
            HeaderOp::Set(n, v) => self.set(Cow::Borrowed(n), Cow::Borrowed(v)),
            HeaderOp::Drop(n) => {
                self.add.retain(|(x, _)| **x != **n);
                if !self.remove.contains(&&**n) {
                    self.remove.push(n);
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
        assert_eq!(h.remove, vec!["x-frame-options"]);
    }
}
