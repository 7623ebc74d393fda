//! Subtrees with finitely many outcomes: when a subtree's only resource read goes
//! through a role or organization lookup, it is evaluated by `eval::eval` once per
//! declared role name (or organization of the principal), once for any other string and
//! once for a missing attribute, and the outcomes become `IN` lists.

use super::{atom, present, Pe, FALSE, R, TF};
use crate::cx::Cx;
use crate::eval;
use crate::filter::residual::{Cond, Kind, Scalar};
use crate::program::{Hint, Node};
use crate::request::{Request, Value};
use crate::subject::Subject;
use crate::value::V;
use warden_lang::ast::Root;

/// Every resource read of a node (not `resource.type`), with its hint.
fn resource_loads<'a>(n: &'a Node, out: &mut Vec<(&'a [Box<str>], Hint)>) {
    match n {
        Node::Load {
            root: Root::Resource,
            path,
            hint,
        } if path.first().is_some_and(|p| &**p != "type") => out.push((path, *hint)),
        _ => n.children().for_each(|c| resource_loads(c, out)),
    }
}

fn is_plain_resource_load(n: &Node) -> bool {
    matches!(n, Node::Load { root: Root::Resource, path, hint: Hint::Plain }
        if path.first().is_some_and(|p| &**p != "type"))
}

/// The finite set of strings that can change a subtree's value, when its only
/// resource read goes through a role or organization lookup.
pub(super) enum Domain {
    /// Declared role names: a `role`-typed attribute, or `resource.x is ROLE`.
    Roles,
    /// The organizations in the principal's `org_roles`: `principal is R in resource.x`.
    Orgs,
}

impl<'a> Pe<'a> {
    /// Whether the subtree's only resource read goes through a finite lookup.
    pub(super) fn enumerable(&self, n: &'a Node) -> Option<(&'a [Box<str>], Domain)> {
        let mut loads = Vec::new();
        resource_loads(n, &mut loads);
        let (first, _) = *loads.first()?;
        if loads.iter().any(|(p, _)| *p != first) {
            return None;
        }
        if loads.iter().all(|(_, h)| *h == Hint::Role) {
            return Some((first, Domain::Roles));
        }
        match n {
            Node::Is(a, _) if is_plain_resource_load(a) => Some((first, Domain::Roles)),
            Node::IsIn(_, org) if is_plain_resource_load(org) => Some((first, Domain::Orgs)),
            _ => None,
        }
    }

    /// Evaluate `n` for each string of the domain, any other string, and missing.
    pub(super) fn enumerate(&self, n: &'a Node, path: &'a [Box<str>], domain: Domain) -> R<TF> {
        let names: Vec<String> = match domain {
            Domain::Roles => self.t.role_names.iter().map(|r| r.to_string()).collect(),
            Domain::Orgs => self.org_keys(),
        };
        // A string outside the domain (names and organizations never hold `\u{0}`).
        let other = format!("\u{0}{}", names.iter().map(String::len).max().unwrap_or(0));
        let mut t_in = Vec::new();
        let mut f_in = Vec::new();
        // One copy of the request, its attribute overwritten per sample.
        let mut req = self.base.clone();
        for name in &names {
            match self.sample(&mut req, n, path, name)? {
                Some(true) => t_in.push(Scalar::String(name.clone())),
                Some(false) => f_in.push(Scalar::String(name.clone())),
                None => {}
            }
        }
        let other = self.sample(&mut req, n, path, &other)?;
        // Non-strings read as missing through every lookup enumerated here.
        let missing = match path {
            // `resource.id` is never missing.
            [id] if &**id == "id" => None,
            // The base request has no resource attributes.
            _ => self.truth_on(self.base, n),
        };
        let in_domain = |values: Vec<Scalar>| {
            if values.is_empty() {
                FALSE
            } else {
                atom(path, |attr| Cond::In { attr, values })
            }
        };
        let all: Vec<Scalar> = names.iter().cloned().map(Scalar::String).collect();
        let outside = present(path, Some(Kind::String)).and(in_domain(all).not());
        let non_string = present(path, Some(Kind::String)).not();
        let build = |want: bool, listed: Vec<Scalar>| {
            let mut c = in_domain(listed);
            if other == Some(want) {
                c = c.or(outside.clone());
            }
            if missing == Some(want) {
                c = c.or(non_string.clone());
            }
            c
        };
        Ok((build(true, t_in), build(false, f_in)))
    }

    /// The subtree's truth with `resource.<path>` of `req` set to `value`.
    fn sample(
        &self,
        req: &mut Request,
        n: &Node,
        path: &[Box<str>],
        value: &str,
    ) -> R<Option<bool>> {
        let Some(res) = req.resource.as_mut() else {
            return Err("has no resource type".into());
        };
        match path {
            [id] if &**id == "id" => res.id = value.to_owned(),
            [first, rest @ ..] => {
                let mut val = Value::String(value.to_owned());
                for seg in rest.iter().rev() {
                    val = Value::Map(crate::request::Attrs::new().with(&**seg, val));
                }
                res.attrs.set(&**first, val);
            }
            [] => return Err("reads an empty attribute path".into()),
        }
        Ok(self.truth_on(req, n))
    }

    /// The subtree's truth on `req`: `None` when it is missing or not a boolean.
    fn truth_on(&self, req: &Request, n: &Node) -> Option<bool> {
        let cx = Cx {
            t: self.cx.t,
            req: Some(Subject::Built(req)),
            http: None,
            rec: None,
            pmask: self.cx.pmask,
            clock: self.cx.clock,
        };
        match eval::eval(&cx, n) {
            V::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The organizations the principal holds roles in (`principal.org_roles`).
    fn org_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(V::Map(m)) = crate::cx::principal(&self.cx).map(|p| p.get("org_roles")) {
            m.for_each(|k, _| keys.push(k.to_owned()));
        }
        keys
    }
}
