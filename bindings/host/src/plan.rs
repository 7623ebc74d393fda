//! The conversion plan of one loaded engine.
//!
//! A binding converts only the attributes the policy's rules read ([`Slots`], from
//! `Engine::attribute_reads`): no other attribute can change a decision. It writes them
//! into a [`Scratch`] request kept by the plan and reused call after call, so that a
//! decision from a host dict or object copies a few short strings into buffers that
//! already exist, and allocates nothing. Decisions are interned: each distinct answer of
//! the engine gets a small index, so hosts can hand back one cached immutable object.

use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use warden::{ActionId, Attrs, Decision, Engine, Principal, Request, Resource, Trace, Value};
use warden_lang::ast::Root;

/// Attribute names the rules read, by root, without the fields every request has
/// (`principal.id`, `principal.roles`, `resource.type`, `resource.id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    pub principal: Box<[Box<str>]>,
    pub resource: Box<[Box<str>]>,
    pub context: Box<[Box<str>]>,
}

impl Slots {
    pub fn of(engine: &Engine) -> Slots {
        let reads = engine.attribute_reads();
        let names = |root: Root, skip: &[&str]| {
            reads
                .iter()
                .filter(|(r, n)| *r == root && !skip.contains(n))
                .map(|(_, n)| Box::from(*n))
                .collect()
        };
        Slots {
            // `role` is the request JSON's spelling of a one-role `roles`, never an attribute.
            principal: names(Root::Principal, &["id", "roles", "role"]),
            resource: names(Root::Resource, &["type", "id"]),
            context: names(Root::Context, &[]),
        }
    }

    fn attrs(names: &[Box<str>]) -> Attrs {
        Attrs(names.iter().map(|n| (n.to_string(), Value::Null)).collect())
    }
}

/// A request whose attribute vectors hold exactly the plan's slots, in slot order.
/// A binding writes every slot on every call (a value, or [`Value::Null`] when the host
/// object lacks it); buffers of the previous call are reused.
#[derive(Debug)]
pub struct Scratch {
    req: Request,
    spare_principal: Option<Principal>,
    spare_resource: Option<Resource>,
    slots: Slots,
}

impl Scratch {
    fn new(slots: &Slots) -> Scratch {
        Scratch {
            req: Request {
                principal: None,
                action: String::new(),
                resource: None,
                context: Slots::attrs(&slots.context),
            },
            spare_principal: None,
            spare_resource: None,
            slots: slots.clone(),
        }
    }

    pub fn request(&self) -> &Request {
        &self.req
    }

    pub fn set_action(&mut self, action: &str) {
        set_str(&mut self.req.action, action);
    }

    /// The action's buffer, for hosts that copy straight into it.
    pub fn action_mut(&mut self) -> &mut String {
        &mut self.req.action
    }

    /// An anonymous caller; the principal's buffers are kept for the next call.
    pub fn anonymous(&mut self) {
        if let Some(p) = self.req.principal.take() {
            self.spare_principal = Some(p);
        }
    }

    /// The principal to fill: `id`, `roles`, then `attrs.0[i].1` for slot `i`.
    pub fn principal(&mut self) -> &mut Principal {
        let (spare, names) = (&mut self.spare_principal, &self.slots.principal);
        self.req.principal.get_or_insert_with(|| {
            spare.take().unwrap_or_else(|| Principal {
                attrs: Slots::attrs(names),
                ..Principal::default()
            })
        })
    }

    /// No resource.
    pub fn no_resource(&mut self) {
        if let Some(r) = self.req.resource.take() {
            self.spare_resource = Some(r);
        }
    }

    /// The resource to fill: `ty`, `id`, then `attrs.0[i].1` for slot `i`.
    pub fn resource(&mut self) -> &mut Resource {
        let (spare, names) = (&mut self.spare_resource, &self.slots.resource);
        self.req.resource.get_or_insert_with(|| {
            spare.take().unwrap_or_else(|| Resource {
                attrs: Slots::attrs(names),
                ..Resource::default()
            })
        })
    }

    /// The context to fill: `0[i].1` for slot `i`.
    pub fn context(&mut self) -> &mut Attrs {
        &mut self.req.context
    }
}

/// Copy `s` into `buf`, reusing its allocation.
pub fn set_str(buf: &mut String, s: &str) {
    buf.clear();
    buf.push_str(s);
}

/// Make `v` the string `s`, reusing its buffer when it already holds a string.
pub fn set_value_str(v: &mut Value, s: &str) {
    match v {
        Value::String(buf) => set_str(buf, s),
        _ => *v = Value::String(s.to_owned()),
    }
}

/// A decision with owned texts, as hosts cache it per index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedDecision {
    pub allowed: bool,
    pub status: u16,
    pub reason: Option<String>,
    pub rule: Option<String>,
}

impl From<&Decision<'_>> for OwnedDecision {
    fn from(d: &Decision<'_>) -> Self {
        OwnedDecision {
            allowed: d.allowed,
            status: d.status,
            reason: d.reason.map(str::to_owned),
            rule: d.rule.map(str::to_owned),
        }
    }
}

/// The outcome of one call: the interned decision's index, and whether it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub index: u32,
    pub allowed: bool,
}

#[derive(Debug, Default)]
struct Interned {
    /// (allowed, address of the deciding rule's `file:line` in the engine, or 0): keys
    /// the engine makes, never the caller, so a fast non-keyed hash is safe.
    index: FxHashMap<(bool, usize), u32>,
    list: Vec<OwnedDecision>,
}

/// One loaded engine with its slots, its reused request and its interned decisions.
/// Reloading makes a new plan: slots and indices belong to one engine.
#[derive(Debug)]
pub struct Plan {
    engine: Arc<Engine>,
    slots: Slots,
    scratch: Mutex<Scratch>,
    interned: Mutex<Interned>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere mid-update; the data is still valid.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Plan {
    pub fn new(engine: Arc<Engine>) -> Plan {
        let slots = Slots::of(&engine);
        Plan {
            scratch: Mutex::new(Scratch::new(&slots)),
            interned: Mutex::new(Interned::default()),
            engine,
            slots,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Run `f` on the reused request (or a fresh one when another thread holds it).
    pub fn with_scratch<R>(&self, f: impl FnOnce(&mut Scratch) -> R) -> R {
        match self.scratch.try_lock() {
            Ok(mut s) => f(&mut s),
            Err(TryLockError::Poisoned(e)) => f(&mut e.into_inner()),
            Err(TryLockError::WouldBlock) => f(&mut Scratch::new(&self.slots)),
        }
    }

    /// Fill the request with `fill`, then decide it.
    pub fn decide<E>(
        &self,
        fill: impl FnOnce(&mut Scratch) -> Result<(), E>,
    ) -> Result<Verdict, E> {
        self.with_scratch(|s| {
            fill(s)?;
            let d = self.engine.authorize(s.request());
            Ok(self.intern(&d))
        })
    }

    /// [`Plan::decide`] with the action already resolved by [`Engine::action_id`] (hosts
    /// cache ids per action string); `fill` must still set the action's name.
    pub fn decide_action<E>(
        &self,
        action: ActionId,
        fill: impl FnOnce(&mut Scratch) -> Result<(), E>,
    ) -> Result<Verdict, E> {
        self.with_scratch(|s| {
            fill(s)?;
            let d = self.engine.authorize_action(action, s.request());
            Ok(self.intern(&d))
        })
    }

    /// Fill the request with `fill`, then decide and explain it.
    pub fn explain<E>(
        &self,
        fill: impl FnOnce(&mut Scratch) -> Result<(), E>,
    ) -> Result<(Verdict, Trace), E> {
        self.with_scratch(|s| {
            fill(s)?;
            let (d, trace) = self.engine.explain(s.request());
            Ok((self.intern(&d), trace))
        })
    }

    /// Decide a request the host built in full (the HTTP path, tests).
    pub fn decide_request(&self, req: &Request) -> Verdict {
        self.intern(&self.engine.authorize(req))
    }

    fn intern(&self, d: &Decision<'_>) -> Verdict {
        let key = (d.allowed, d.rule.map_or(0, |r| r.as_ptr() as usize));
        let mut i = lock(&self.interned);
        let next = u32::try_from(i.list.len()).unwrap_or(u32::MAX);
        let index = *i.index.entry(key).or_insert(next);
        if index == next {
            i.list.push(OwnedDecision::from(d));
        }
        Verdict {
            index,
            allowed: d.allowed,
        }
    }

    /// The decision behind an index this plan returned.
    pub fn decision(&self, index: u32) -> Option<OwnedDecision> {
        lock(&self.interned).list.get(index as usize).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden::Options;

    const SRC: &str = "policy p\nrole viewer\nrole admin > viewer\ngrant viewer: doc:read\n\
        principal { id: string, org: string }\nresource doc { org: string, owner: string }\n\
        deny doc:read on doc if resource.org != principal.org and not principal is admin\n\
        because \"other org\"\n";

    fn plan() -> Plan {
        match Engine::from_source("p.warden", SRC, Options::default()) {
            Ok(e) => Plan::new(Arc::new(e)),
            Err(e) => unreachable!("{e}"),
        }
    }

    fn fill(s: &mut Scratch, org: &str, rorg: Option<&str>) -> Result<(), ()> {
        s.set_action("doc:read");
        let p = s.principal();
        set_str(&mut p.id, "u1");
        p.roles.clear();
        p.roles.push("viewer".into());
        for slot in p.attrs.0.iter_mut() {
            set_value_str(&mut slot.1, org);
        }
        let r = s.resource();
        set_str(&mut r.ty, "doc");
        for slot in r.attrs.0.iter_mut() {
            match rorg {
                Some(o) => set_value_str(&mut slot.1, o),
                None => slot.1 = Value::Null,
            }
        }
        Ok(())
    }

    #[test]
    fn slots_are_what_rules_read_minus_fixed_fields() {
        let p = plan();
        assert_eq!(&*p.slots().principal, &[Box::from("org")]);
        assert_eq!(&*p.slots().resource, &[Box::from("org")]);
        assert!(p.slots().context.is_empty());
    }

    #[test]
    fn reused_request_decides_like_a_fresh_one_and_decisions_intern() {
        let p = plan();
        let allow = p.decide(|s| fill(s, "o1", Some("o1")));
        let deny = p.decide(|s| fill(s, "o1", Some("o2")));
        let allow2 = p.decide(|s| fill(s, "o2", Some("o2")));
        let (Ok(a), Ok(d), Ok(a2)) = (allow, deny, allow2) else {
            unreachable!()
        };
        assert!(a.allowed && !d.allowed);
        assert_eq!(a, a2);
        assert_ne!(a.index, d.index);
        let dd = p.decision(d.index);
        assert_eq!(dd.and_then(|x| x.reason).as_deref(), Some("other org"));
        // The resource's org missing: the deny's condition is missing, which denies.
        let m = p.decide(|s| fill(s, "o1", None));
        assert!(m.is_ok_and(|v| !v.allowed));
        // Anonymous after a principal: no grant applies.
        let anon = p.decide(|s| -> Result<(), ()> {
            s.anonymous();
            Ok(())
        });
        assert!(anon.is_ok_and(|v| !v.allowed));
        let fresh = Request::new("doc:read")
            .principal(Principal::new("u1").role("viewer").attr("org", "o1"))
            .resource(Resource::new("doc", "").attr("org", "o1"));
        assert_eq!(p.decide_request(&fresh), a);
    }

    #[test]
    fn resolved_actions_decide_like_names() {
        let p = plan();
        for action in ["doc:read", "doc:write", "other"] {
            let id = p.engine().action_id(action);
            let fill_as = |s: &mut Scratch, org: &str| {
                fill(s, org, Some("o1"))?;
                s.set_action(action);
                Ok::<(), ()>(())
            };
            for org in ["o1", "o2"] {
                assert_eq!(
                    p.decide_action(id, |s| fill_as(s, org)),
                    p.decide(|s| fill_as(s, org))
                );
            }
        }
        // An id from another engine falls back to the request's name.
        let other = plan();
        let foreign = other.engine().action_id("doc:write");
        let read = p.decide_action(foreign, |s| fill(s, "o1", Some("o1")));
        assert!(read.is_ok_and(|v| v.allowed));
    }
}
