//! A borrowed authorization request: [`RequestRef`] holds the host's own strings by
//! reference and up to four attributes per object inline, so that building one per
//! decision allocates nothing. [`crate::Engine::authorize_ref`] decides it exactly as
//! [`crate::Engine::authorize`] decides the owned [`Request`] with the same content.
//!
//! Strings are `Cow`: a host borrows (`&str`, `&String`); the request JSON read from text
//! ([`RequestRef::from_json_str`]) borrows too, except for strings with escapes, which it
//! must unescape into a copy.

use crate::request::{Attrs, Principal, Request, Resource, Value};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;
use std::mem::ManuallyDrop;

/// An attribute value borrowed from the host. `Null` and an absent attribute are both
/// *missing*, as with [`Value`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ValueRef<'a> {
    /// Absent, or JSON `null`: *missing* to every rule.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string, borrowed (or owned when it had to be unescaped from JSON text).
    Str(Cow<'a, str>),
    /// An owned value the host keeps (a list, a nested object), borrowed.
    Value(&'a Value),
    /// A JSON value: borrowed from the host, or owned for a nested list or object read
    /// from JSON text.
    Json(Cow<'a, Json>),
}

impl<'a> From<&'a str> for ValueRef<'a> {
    fn from(s: &'a str) -> Self {
        ValueRef::Str(Cow::Borrowed(s))
    }
}
impl<'a> From<&'a String> for ValueRef<'a> {
    fn from(s: &'a String) -> Self {
        ValueRef::Str(Cow::Borrowed(s))
    }
}
/// An owned string (one allocation the host made; borrow instead where it can).
impl From<String> for ValueRef<'_> {
    fn from(s: String) -> Self {
        ValueRef::Str(Cow::Owned(s))
    }
}
impl From<f64> for ValueRef<'_> {
    fn from(n: f64) -> Self {
        ValueRef::Number(n)
    }
}
impl From<i64> for ValueRef<'_> {
    fn from(n: i64) -> Self {
        ValueRef::Number(n as f64)
    }
}
impl From<bool> for ValueRef<'_> {
    fn from(b: bool) -> Self {
        ValueRef::Bool(b)
    }
}
impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        ValueRef::Value(v)
    }
}
impl<'a> From<&'a Json> for ValueRef<'a> {
    fn from(v: &'a Json) -> Self {
        ValueRef::Json(Cow::Borrowed(v))
    }
}

impl ValueRef<'_> {
    /// The owned [`Value`] with the same content (what the same attribute in a
    /// [`Request`] holds).
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(*b),
            ValueRef::Number(n) => Value::Number(*n),
            ValueRef::Str(s) => Value::String(s.clone().into_owned()),
            ValueRef::Value(v) => (*v).clone(),
            ValueRef::Json(j) => Value::from_json(j),
        }
    }
}

/// Attributes by name, up to four inline (more spill to the heap). Reads scan from the
/// last entry, so that of two entries with one name the later one counts, as in JSON
/// read by `serde_json` and as [`AttrsRef::set`] (which replaces) would leave it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttrsRef<'a>(Inline<(Cow<'a, str>, ValueRef<'a>)>);

impl<'a> AttrsRef<'a> {
    /// No attributes.
    #[inline(always)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Set an attribute, replacing an earlier value of the same name.
    #[inline(always)]
    pub fn set(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<ValueRef<'a>>) {
        let name = name.into();
        let value = value.into();
        match self.0.as_slice().iter().position(|(k, _)| *k == name) {
            Some(i) => self.0.replace(i, (name, value)),
            None => self.0.push((name, value)),
        }
    }

    /// Builder form of [`AttrsRef::set`].
    #[inline(always)]
    pub fn with(mut self, name: impl Into<Cow<'a, str>>, value: impl Into<ValueRef<'a>>) -> Self {
        self.set(name, value);
        self
    }

    /// Append without looking for an earlier entry (reads take the last one).
    #[inline(always)]
    pub(crate) fn push(&mut self, name: Cow<'a, str>, value: ValueRef<'a>) {
        self.0.push((name, value));
    }

    /// The value of an attribute; `None` when absent.
    #[inline(always)]
    pub fn get(&self, name: &str) -> Option<&ValueRef<'a>> {
        self.0
            .as_slice()
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v)
    }

    /// The entries in the order they were set (a name set twice appears once).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ValueRef<'a>)> {
        self.0.as_slice().iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.as_slice().len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.as_slice().is_empty()
    }

    /// The owned [`Attrs`] with the same content (later entries win).
    pub fn to_attrs(&self) -> Attrs {
        let mut out = Attrs::new();
        for (k, v) in self.0.as_slice() {
            out.set(k.as_ref(), v.to_value());
        }
        out
    }
}

/// Up to four items inline, more on the heap. Not `SmallVec`: its item type is reached
/// through a trait (`Array::Item`), which makes it invariant, and a borrowed request must
/// shorten its lifetime where evaluation reads it.
///
/// A plain struct rather than an enum of inline and heap states: a push is one store at
/// a known index and a length increment, which lets the optimiser build a request
/// through the by-value builder chain in place (with an enum, each
/// `PrincipalRef::new(..).role(..).attr(..)` step and each `.principal(p)` copied the
/// whole request, ~2,900 bytes per request). Items that own nothing (borrowed strings,
/// numbers) need no drop, and a request a host builds from its own strings holds only
/// such items: `owns` stays false and dropping the list is then free. The slots past
/// `len` hold defaults (the crate forbids the `unsafe` of uninitialised slots).
pub(crate) struct Inline<T: Default> {
    /// Items in `items` (they have moved to `heap` once it is not empty).
    len: u8,
    /// Some item pushed owns a heap block ([`Owns`]): the inline items must be dropped.
    owns: bool,
    /// The items while there are at most four; the slots past `len` hold defaults
    /// (which own nothing).
    items: ManuallyDrop<[T; 4]>,
    /// Every item, once there were more than four; no allocation until then. Dropped
    /// by [`Inline::release`].
    heap: ManuallyDrop<Vec<T>>,
}

/// Whether a value holds a heap block of its own (then its list must drop it).
pub(crate) trait Owns {
    fn owns(&self) -> bool;
}

impl Owns for Cow<'_, str> {
    #[inline(always)]
    fn owns(&self) -> bool {
        matches!(self, Cow::Owned(_))
    }
}

impl Owns for ValueRef<'_> {
    #[inline(always)]
    fn owns(&self) -> bool {
        matches!(
            self,
            ValueRef::Str(Cow::Owned(_)) | ValueRef::Json(Cow::Owned(_))
        )
    }
}

impl<A: Owns, B: Owns> Owns for (A, B) {
    #[inline(always)]
    fn owns(&self) -> bool {
        self.0.owns() || self.1.owns()
    }
}

/// Equal contents, inline or not.
impl<T: PartialEq + Default> PartialEq for Inline<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: fmt::Debug + Default> fmt::Debug for Inline<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<T: Clone + Owns + Default> Clone for Inline<T> {
    fn clone(&self) -> Self {
        self.as_slice().iter().cloned().collect()
    }
}

impl<T: Default> Default for Inline<T> {
    #[inline(always)]
    fn default() -> Self {
        Inline {
            len: 0,
            owns: false,
            items: ManuallyDrop::new([T::default(), T::default(), T::default(), T::default()]),
            heap: ManuallyDrop::new(Vec::new()),
        }
    }
}

impl<T: Default> Drop for Inline<T> {
    /// Nothing to do for a list of borrowed items held inline (what a host's request
    /// is): one test of two fields, where the drop glue of four slots and a `Vec` was
    /// ~30 instructions per list.
    #[inline(always)]
    fn drop(&mut self) {
        if self.owns || self.heap.capacity() != 0 {
            self.release();
        }
    }
}

impl<T: Default> Inline<T> {
    /// Drop the items that may own heap blocks, and the heap list.
    #[cold]
    #[inline(never)]
    fn release(&mut self) {
        drop(std::mem::take(&mut *self.heap));
        if self.owns {
            drop(std::mem::take(&mut *self.items));
        }
    }
}

impl<T: Owns + Default> Inline<T> {
    pub(crate) fn one(item: T) -> Self {
        let mut out = Inline::default();
        out.push(item);
        out
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, item: T) {
        self.owns |= item.owns();
        match self.items.get_mut(usize::from(self.len)) {
            // `len` stays 4 once the inline items are full (or have moved to `heap`).
            Some(slot) => {
                // The slot holds a default, which owns nothing: no drop to run.
                std::mem::forget(std::mem::replace(slot, item));
                self.len += 1;
            }
            None => self.spill(item),
        }
    }

    /// The fifth item and later ones: every item moves to the heap.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, item: T) {
        if self.heap.is_empty() {
            let n = usize::from(self.len);
            self.heap.reserve(2 * n + 1);
            self.heap
                .extend(self.items.iter_mut().take(n).map(std::mem::take));
        }
        self.heap.push(item);
    }

    /// Replace item `i` (an index of [`Inline::as_slice`]), dropping the one it replaces.
    #[inline(always)]
    fn replace(&mut self, i: usize, item: T) {
        self.owns |= item.owns();
        if let Some(slot) = self.as_mut_slice().get_mut(i) {
            *slot = item;
        }
    }
}

impl<T: Default> Inline<T> {
    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[T] {
        if self.heap.is_empty() {
            self.items.get(..usize::from(self.len)).unwrap_or_default()
        } else {
            &self.heap
        }
    }

    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [T] {
        if self.heap.is_empty() {
            self.items
                .get_mut(..usize::from(self.len))
                .unwrap_or_default()
        } else {
            &mut self.heap
        }
    }
}

impl<T: Owns + Default> FromIterator<T> for Inline<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut out = Inline::default();
        for item in iter {
            out.push(item);
        }
        out
    }
}

impl<'a> From<&'a Attrs> for AttrsRef<'a> {
    fn from(a: &'a Attrs) -> Self {
        AttrsRef(
            a.0.iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), ValueRef::Value(v)))
                .collect(),
        )
    }
}

/// Who asks, borrowed: an id, role names (up to four inline) and attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrincipalRef<'a> {
    pub(crate) id: Cow<'a, str>,
    pub(crate) roles: Inline<Cow<'a, str>>,
    pub(crate) attrs: AttrsRef<'a>,
}

impl<'a> PrincipalRef<'a> {
    /// A principal with this id, no roles and no attributes.
    #[inline(always)]
    pub fn new(id: impl Into<Cow<'a, str>>) -> Self {
        // Every field spelled out, not `..Self::default()`: built that way, the lists'
        // lengths are known constants through a builder chain and the optimiser builds
        // the request in place (with the functional update, each `.role()`, `.attr()`
        // and `.principal()` copied the 400-byte principal).
        Self {
            id: id.into(),
            roles: Inline::default(),
            attrs: AttrsRef::default(),
        }
    }
    /// Add a role name (names the policy does not declare are ignored).
    #[inline(always)]
    pub fn role(mut self, role: impl Into<Cow<'a, str>>) -> Self {
        self.roles.push(role.into());
        self
    }
    /// Add several role names, e.g. `.roles(user.roles.iter().map(String::as_str))`.
    #[inline(always)]
    pub fn roles<S: Into<Cow<'a, str>>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        for r in roles {
            self.roles.push(r.into());
        }
        self
    }
    /// Set an attribute (replacing one of the same name). The names `id` and `roles`
    /// are read from [`PrincipalRef::new`] and [`PrincipalRef::role`], never from here.
    #[inline(always)]
    pub fn attr(mut self, name: impl Into<Cow<'a, str>>, value: impl Into<ValueRef<'a>>) -> Self {
        self.attrs.set(name, value);
        self
    }
    /// The principal's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The role names, as given.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.as_slice().iter().map(|r| r.as_ref())
    }
    /// The attributes.
    pub fn attrs(&self) -> &AttrsRef<'a> {
        &self.attrs
    }
    /// The owned [`Principal`] with the same content.
    pub fn to_principal(&self) -> Principal {
        Principal {
            id: self.id.clone().into_owned(),
            roles: self
                .roles
                .as_slice()
                .iter()
                .map(|r| r.clone().into_owned())
                .collect(),
            attrs: self.attrs.to_attrs(),
        }
    }
}

impl<'a> From<&'a Principal> for PrincipalRef<'a> {
    fn from(p: &'a Principal) -> Self {
        PrincipalRef {
            id: Cow::Borrowed(&p.id),
            roles: p.roles.iter().map(|r| Cow::Borrowed(r.as_str())).collect(),
            attrs: AttrsRef::from(&p.attrs),
        }
    }
}

/// What is acted on, borrowed: a type, an id and attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceRef<'a> {
    pub(crate) ty: Cow<'a, str>,
    pub(crate) id: Cow<'a, str>,
    pub(crate) attrs: AttrsRef<'a>,
}

impl<'a> ResourceRef<'a> {
    /// A resource of type `ty` with this id and no attributes.
    #[inline(always)]
    pub fn new(ty: impl Into<Cow<'a, str>>, id: impl Into<Cow<'a, str>>) -> Self {
        Self {
            ty: ty.into(),
            id: id.into(),
            attrs: AttrsRef::default(),
        }
    }
    /// Set an attribute (replacing one of the same name). The names `type` and `id`
    /// are read from [`ResourceRef::new`], never from here.
    #[inline(always)]
    pub fn attr(mut self, name: impl Into<Cow<'a, str>>, value: impl Into<ValueRef<'a>>) -> Self {
        self.attrs.set(name, value);
        self
    }
    /// The resource type.
    pub fn ty(&self) -> &str {
        &self.ty
    }
    /// The resource's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The attributes.
    pub fn attrs(&self) -> &AttrsRef<'a> {
        &self.attrs
    }
    /// The owned [`Resource`] with the same content.
    pub fn to_resource(&self) -> Resource {
        Resource {
            ty: self.ty.clone().into_owned(),
            id: self.id.clone().into_owned(),
            attrs: self.attrs.to_attrs(),
        }
    }
}

impl<'a> From<&'a Resource> for ResourceRef<'a> {
    fn from(r: &'a Resource) -> Self {
        ResourceRef {
            ty: Cow::Borrowed(&r.ty),
            id: Cow::Borrowed(&r.id),
            attrs: AttrsRef::from(&r.attrs),
        }
    }
}

/// An authorization request borrowing the host's strings: what a Rust host builds per
/// decision from its own ids without allocating (up to four roles and four attributes
/// per object are held inline). Decide it with [`crate::Engine::authorize_ref`]; the
/// decision is the one [`crate::Engine::authorize`] gives for [`RequestRef::to_request`].
///
/// ```
/// use warden::{Engine, Options, PrincipalRef, RequestRef, ResourceRef};
///
/// let engine = Engine::from_source("docs.warden", r#"
/// policy docs
/// role editor
/// grant editor: posts:write
/// principal { id: string, org: string }
/// resource post { author: string }
/// deny posts:write on post unless resource.author == principal.id
///   because "only the author may change a post"
/// "#, Options::default()).map_err(|e| e.to_string())?;
///
/// // The host's own data; the request borrows it.
/// struct User { id: String, org: String }
/// struct Post { id: String, author: String }
/// let user = User { id: "u1".into(), org: "o1".into() };
/// let post = Post { id: "p9".into(), author: "u1".into() };
///
/// let req = RequestRef::new("posts:write")
///     .principal(PrincipalRef::new(&user.id).role("editor").attr("org", &user.org))
///     .resource(ResourceRef::new("post", &post.id).attr("author", &post.author));
/// assert!(engine.authorize_ref(&req).allowed);
/// assert_eq!(engine.authorize_ref(&req), engine.authorize(&req.to_request()));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestRef<'a> {
    pub(crate) action: Cow<'a, str>,
    pub(crate) principal: Option<PrincipalRef<'a>>,
    pub(crate) resource: Option<ResourceRef<'a>>,
    pub(crate) context: AttrsRef<'a>,
}

impl<'a> RequestRef<'a> {
    /// A request for `action`, anonymous, on no resource, with no context.
    #[inline(always)]
    pub fn new(action: impl Into<Cow<'a, str>>) -> Self {
        // Fields spelled out, as in `PrincipalRef::new`.
        Self {
            action: action.into(),
            principal: None,
            resource: None,
            context: AttrsRef::default(),
        }
    }
    /// Set who asks.
    #[inline(always)]
    pub fn principal(mut self, p: PrincipalRef<'a>) -> Self {
        self.principal = Some(p);
        self
    }
    /// Set what is acted on.
    #[inline(always)]
    pub fn resource(mut self, r: ResourceRef<'a>) -> Self {
        self.resource = Some(r);
        self
    }
    /// Set a context attribute (replacing one of the same name).
    #[inline(always)]
    pub fn context(
        mut self,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<ValueRef<'a>>,
    ) -> Self {
        self.context.set(name, value);
        self
    }
    /// The action asked for.
    pub fn action(&self) -> &str {
        &self.action
    }
    /// Who asks; `None` for an anonymous caller.
    pub fn get_principal(&self) -> Option<&PrincipalRef<'a>> {
        self.principal.as_ref()
    }
    /// What is acted on; `None` for no particular resource.
    pub fn get_resource(&self) -> Option<&ResourceRef<'a>> {
        self.resource.as_ref()
    }
    /// The context attributes.
    pub fn get_context(&self) -> &AttrsRef<'a> {
        &self.context
    }
    /// The owned [`Request`] with the same content (every string copied).
    pub fn to_request(&self) -> Request {
        Request {
            principal: self.principal.as_ref().map(PrincipalRef::to_principal),
            action: self.action.clone().into_owned(),
            resource: self.resource.as_ref().map(ResourceRef::to_resource),
            context: self.context.to_attrs(),
        }
    }
}

/// Borrow an owned request (no copy of its strings; attribute lists of more than four
/// entries allocate their list).
impl<'a> From<&'a Request> for RequestRef<'a> {
    fn from(r: &'a Request) -> Self {
        RequestRef {
            action: Cow::Borrowed(&r.action),
            principal: r.principal.as_ref().map(PrincipalRef::from),
            resource: r.resource.as_ref().map(ResourceRef::from),
            context: AttrsRef::from(&r.context),
        }
    }
}
