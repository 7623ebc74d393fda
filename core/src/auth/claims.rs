//! Token claims -> a [`Principal`]: `principal.ATTR: claim ?? claim` lines, with the
//! defaults `id` from `sub` and `roles` from `roles` or `role` (a string or a list).

use super::doc::{Doc, Members};
use crate::Principal;

/// Where a claim sits: a top-level name, or a path into nested objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimPath(pub Box<[Box<str>]>);

impl ClaimPath {
    pub(crate) fn new(name: &str, quoted: bool) -> Self {
        if quoted {
            ClaimPath(Box::new([name.into()]))
        } else {
            ClaimPath(name.split('.').map(Into::into).collect())
        }
    }

    pub(crate) fn get<'c, 'a>(&self, claims: &'c Members<'a>) -> Option<&'c Doc<'a>> {
        let (first, rest) = self.0.split_first()?;
        let mut v = claims.get(first)?;
        for seg in rest {
            v = v.as_object()?.get(seg)?;
        }
        (*v != Doc::Null).then_some(v)
    }
}

/// The attribute mapping of one `jwt` block.
#[derive(Debug, Clone)]
pub(crate) struct ClaimMap {
    pub id: Vec<ClaimPath>,
    pub roles: Vec<ClaimPath>,
    pub attrs: Vec<(Box<str>, Vec<ClaimPath>)>,
}

impl Default for ClaimMap {
    fn default() -> Self {
        ClaimMap {
            id: vec![ClaimPath::new("sub", false)],
            roles: vec![
                ClaimPath::new("roles", false),
                ClaimPath::new("role", false),
            ],
            attrs: Vec::new(),
        }
    }
}

fn first<'c, 'a>(paths: &[ClaimPath], claims: &'c Members<'a>) -> Option<&'c Doc<'a>> {
    paths.iter().find_map(|p| p.get(claims))
}

impl ClaimMap {
    /// `None` when the token names no subject: a principal needs an id.
    pub(crate) fn principal(&self, claims: &Members<'_>) -> Option<Principal> {
        let id = match first(&self.id, claims)? {
            Doc::String(s) if !s.is_empty() => s.to_string(),
            Doc::Number(n) => n.to_string(),
            _ => return None,
        };
        let mut p = Principal::new(id);
        match first(&self.roles, claims) {
            Some(Doc::String(r)) => p.roles.push(r.to_string()),
            Some(Doc::Array(rs)) => p
                .roles
                .extend(rs.iter().filter_map(|r| r.as_str().map(str::to_owned))),
            _ => {}
        }
        for (attr, paths) in &self.attrs {
            if let Some(v) = first(paths, claims) {
                p.attrs.set(&**attr, v.to_value());
            }
        }
        Some(p)
    }
}
