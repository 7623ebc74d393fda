//! What evaluation reads of a request, whether the host built it ([`Request`]), borrowed
//! it ([`RequestRef`], also what JSON text is read into) or it is read in place from its
//! JSON ([`JsonRequest`]): one small enum per level (request, principal, nested object),
//! each read giving a borrowed [`V`].

use crate::json::{field, JsonPrincipal, JsonRequest};
use crate::request::{Principal, Request};
use crate::request_ref::{PrincipalRef, RequestRef};
use crate::value::{json_value, value, value_ref, Roles, V};
use std::borrow::Cow;

/// The authorization request being decided.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    Built(&'a Request),
    Json(&'a JsonRequest<'a>),
    Ref(&'a RequestRef<'a>),
}

/// The principal of a request (authorization or HTTP).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Who<'a> {
    Built(&'a Principal),
    Json(&'a JsonPrincipal<'a>),
    Ref(&'a PrincipalRef<'a>),
}

impl<'a> Subject<'a> {
    pub fn action(self) -> &'a str {
        match self {
            Subject::Built(r) => &r.action,
            Subject::Json(r) => r.action,
            Subject::Ref(r) => &r.action,
        }
    }

    #[inline]
    pub fn principal(self) -> Option<Who<'a>> {
        match self {
            Subject::Built(r) => r.principal.as_ref().map(Who::Built),
            Subject::Json(r) => r.principal.as_ref().map(Who::Json),
            Subject::Ref(r) => r.principal.as_ref().map(Who::Ref),
        }
    }

    /// `None`: no resource.
    pub fn resource_type(self) -> Option<&'a str> {
        match self {
            Subject::Built(r) => r.resource.as_ref().map(|r| r.ty.as_str()),
            Subject::Json(r) => r.resource.as_ref().map(|r| r.ty),
            Subject::Ref(r) => r.resource.as_ref().map(|r| &*r.ty),
        }
    }

    /// `resource.NAME`: `id`, `type` or an attribute; missing without a resource.
    #[inline]
    pub fn resource(self, name: &str) -> V<'a> {
        match name {
            "id" => self.resource_id(),
            "type" => self
                .resource_type()
                .map_or(V::Missing, |t| V::Str(Cow::Borrowed(t))),
            name => self.resource_attr(name),
        }
    }

    /// `resource.id`; missing without a resource.
    #[inline]
    pub fn resource_id(self) -> V<'a> {
        let id = match self {
            Subject::Built(r) => r.resource.as_ref().map(|r| r.id.as_str()),
            Subject::Json(r) => r.resource.as_ref().map(|r| &*r.id),
            Subject::Ref(r) => r.resource.as_ref().map(|r| &*r.id),
        };
        id.map_or(V::Missing, |s| V::Str(Cow::Borrowed(s)))
    }

    /// `resource.NAME` for a name that is neither `id` nor `type`: an attribute.
    #[inline]
    pub fn resource_attr(self, name: &str) -> V<'a> {
        match self {
            Subject::Built(r) => r
                .resource
                .as_ref()
                .map_or(V::Missing, |r| value(r.attrs.get(name))),
            Subject::Json(r) => r
                .resource
                .as_ref()
                .map_or(V::Missing, |r| json_value(field(r.obj, name))),
            Subject::Ref(r) => r
                .resource
                .as_ref()
                .map_or(V::Missing, |r| value_ref(r.attrs.get(name))),
        }
    }

    /// `context.NAME`.
    #[inline]
    pub fn context(self, name: &str) -> V<'a> {
        match self {
            Subject::Built(r) => value(r.context.get(name)),
            Subject::Json(r) => r.context.map_or(V::Missing, |c| json_value(field(c, name))),
            Subject::Ref(r) => value_ref(r.context.get(name)),
        }
    }
}

impl<'a> Who<'a> {
    /// The role names given (undeclared ones are ignored by every reader).
    #[inline]
    pub fn roles(self) -> Roles<'a> {
        match self {
            Who::Built(p) => Roles::Principal(&p.roles),
            Who::Json(p) => Roles::JsonPrincipal(p.roles),
            Who::Ref(p) => Roles::Names(p.roles.as_slice()),
        }
    }

    /// `principal.id`.
    #[inline]
    pub fn id(self) -> &'a str {
        match self {
            Who::Built(p) => p.id.as_str(),
            Who::Json(p) => &p.id,
            Who::Ref(p) => &p.id,
        }
    }

    /// `principal.NAME` for a name that is none of `id`, `roles` and `role`: an
    /// attribute ([`Who::get`] for those names).
    #[inline]
    pub fn attr(self, name: &str) -> V<'a> {
        match self {
            Who::Built(p) => value(p.attrs.get(name)),
            Who::Json(p) => json_value(field(p.obj, name)),
            Who::Ref(p) => value_ref(p.attrs.get(name)),
        }
    }

    /// `principal.NAME`: `id`, `roles` or an attribute.
    #[inline]
    pub fn get(self, name: &str) -> V<'a> {
        match (self, name) {
            (w, "id") => V::Str(Cow::Borrowed(w.id())),
            (w, "roles") => V::Roles(w.roles()),
            // `role` is the JSON's spelling of a one-role `roles`, never an attribute.
            // (A built or borrowed principal reads every other name as an attribute:
            // JSON text leaves `role` out of the attributes when it reads it.)
            (Who::Json(_), "role") => V::Missing,
            (w, name) => w.attr(name),
        }
    }
}
