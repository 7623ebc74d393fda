//! The request JSON read in place: [`JsonRequest`] validates it once and borrows every
//! string, so deciding a request a host holds as JSON copies and allocates nothing.
//!
//! It is the one reader of the authorization request JSON: [`Request::from_json`] is
//! `JsonRequest::parse` followed by [`JsonRequest::to_request`], so both paths accept the
//! same requests and give the same errors.

use crate::request::{attrs_from_json, JsonObject, Principal, Request, RequestError, Resource};
use serde_json::Value as Json;
use std::borrow::Cow;

/// An authorization request borrowed from its JSON (the shape of docs/JSON.md), checked
/// as [`Request::from_json`] checks it. Decide it with [`crate::Engine::authorize_json_request`],
/// or in one step from the JSON with [`crate::Engine::authorize_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRequest<'a> {
    pub(crate) action: &'a str,
    pub(crate) principal: Option<JsonPrincipal<'a>>,
    pub(crate) resource: Option<JsonResource<'a>>,
    pub(crate) context: Option<&'a JsonObject>,
}

/// The principal object; `roles` holds only strings (checked by `parse`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPrincipal<'a> {
    pub obj: &'a JsonObject,
    /// Borrowed, except for a numeric id (its decimal text, as `from_json` makes it).
    pub id: Cow<'a, str>,
    /// `roles`, or the single `role` as a one-element slice.
    pub roles: &'a [Json],
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonResource<'a> {
    pub obj: &'a JsonObject,
    pub ty: &'a str,
    pub id: Cow<'a, str>,
}

/// Principal keys that are not attributes.
pub(crate) const PRINCIPAL_FIELDS: &[&str] = &["id", "roles", "role"];
/// Resource keys that are not attributes.
pub(crate) const RESOURCE_FIELDS: &[&str] = &["type", "id"];

impl<'a> JsonRequest<'a> {
    /// Check the request JSON and borrow from it. Errors (and their order) are those of
    /// [`Request::from_json`].
    pub fn parse(json: &'a Json) -> Result<JsonRequest<'a>, RequestError> {
        let obj = json
            .as_object()
            .ok_or_else(|| RequestError::new("a request must be a JSON object"))?;
        // One pass over the keys (not a lookup per field): this is most of the cost of
        // deciding a request from JSON. The checks below then run in the order of the
        // contract, so the first error reported does not depend on key order.
        let mut kind = None;
        let mut action = None;
        let mut principal = None;
        let mut resource = None;
        let mut context = None;
        let mut method = false;
        let mut unknown = None;
        for (key, v) in obj {
            match key.as_str() {
                "kind" => kind = Some(v),
                "action" => action = Some(v),
                "principal" => principal = Some(v),
                "resource" => resource = Some(v),
                "context" => context = Some(v),
                other => {
                    method |= other == "method";
                    unknown = unknown.or(Some(other));
                }
            }
        }
        match kind {
            None | Some(Json::Null) => {
                if method && action.is_none() {
                    return Err(RequestError::new(
                        "HTTP requests (`method`, `path`) are not supported by `authorize`; \
                         send an authorization request with an `action`",
                    ));
                }
            }
            Some(Json::String(k)) if k == "authorization" => {}
            Some(other) => {
                return Err(RequestError::new(format!(
                    "unsupported request `kind` {other}; expected \"authorization\""
                )))
            }
        }
        let action = match action {
            Some(Json::String(a)) => a.as_str(),
            Some(_) => return Err(RequestError::new("`action` must be a string")),
            None => return Err(RequestError::new("missing `action`")),
        };
        let principal = match principal {
            None | Some(Json::Null) => None,
            Some(Json::Object(p)) => Some(JsonPrincipal::parse(p)?),
            Some(_) => return Err(RequestError::new("`principal` must be an object or null")),
        };
        let resource = match resource {
            None | Some(Json::Null) => None,
            Some(Json::Object(r)) => Some(JsonResource::parse(r)?),
            Some(_) => return Err(RequestError::new("`resource` must be an object or null")),
        };
        let context = match context {
            None | Some(Json::Null) => None,
            Some(Json::Object(c)) => Some(c),
            Some(_) => return Err(RequestError::new("`context` must be an object")),
        };
        if let Some(key) = unknown {
            return Err(RequestError::new(format!(
                "unknown request field `{key}`; expected `principal`, `action`, `resource`, `context`"
            )));
        }
        Ok(JsonRequest {
            action,
            principal,
            resource,
            context,
        })
    }

    /// The action name.
    pub fn action(&self) -> &'a str {
        self.action
    }

    /// The owned [`Request`] with the same content (what [`Request::from_json`] returns).
    pub fn to_request(&self) -> Request {
        Request {
            principal: self.principal.as_ref().map(JsonPrincipal::to_principal),
            action: self.action.to_owned(),
            resource: self.resource.as_ref().map(|r| Resource {
                ty: r.ty.to_owned(),
                id: r.id.clone().into_owned(),
                attrs: attrs_from_json(r.obj, RESOURCE_FIELDS),
            }),
            context: self
                .context
                .map(|c| attrs_from_json(c, &[]))
                .unwrap_or_default(),
        }
    }
}

fn id_from_json<'a>(id: Option<&'a Json>, what: &str) -> Result<Cow<'a, str>, RequestError> {
    match id {
        None | Some(Json::Null) => Ok(Cow::Borrowed("")),
        Some(Json::String(s)) => Ok(Cow::Borrowed(s)),
        Some(Json::Number(n)) => Ok(Cow::Owned(n.to_string())),
        Some(_) => Err(RequestError::new(format!("`{what}.id` must be a string"))),
    }
}

/// A key of a small object, by a scan that compares lengths before bytes; objects of
/// requests hold a handful of keys, where this beats the tree search's string ordering.
pub(crate) fn field<'a>(obj: &'a JsonObject, name: &str) -> Option<&'a Json> {
    if obj.len() > 8 {
        return obj.get(name);
    }
    obj.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
}

impl<'a> JsonPrincipal<'a> {
    pub(crate) fn parse(p: &'a JsonObject) -> Result<JsonPrincipal<'a>, RequestError> {
        let (mut id, mut roles, mut role) = (None, None, None);
        for (key, v) in p {
            match key.as_str() {
                "id" => id = Some(v),
                "roles" => roles = Some(v),
                "role" => role = Some(v),
                _ => {}
            }
        }
        let id = id_from_json(id, "principal")?;
        let names = |rs: &'a [Json]| {
            if rs.iter().all(Json::is_string) {
                Ok(rs)
            } else {
                Err(RequestError::new("role names must be strings"))
            }
        };
        let roles = match (roles, role) {
            (Some(_), Some(_)) => {
                return Err(RequestError::new(
                    "give either `roles` or `role` for the principal, not both",
                ))
            }
            (Some(Json::Array(rs)), None) => names(rs)?,
            (Some(Json::Null), None) | (None, Some(Json::Null)) | (None, None) => &[],
            (Some(_), None) => return Err(RequestError::new("`principal.roles` must be a list")),
            (None, Some(r)) => names(std::slice::from_ref(r))?,
        };
        Ok(JsonPrincipal { obj: p, id, roles })
    }

    pub(crate) fn to_principal(&self) -> Principal {
        Principal {
            id: self.id.clone().into_owned(),
            roles: self
                .roles
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect(),
            attrs: attrs_from_json(self.obj, PRINCIPAL_FIELDS),
        }
    }
}

impl<'a> JsonResource<'a> {
    fn parse(r: &'a JsonObject) -> Result<JsonResource<'a>, RequestError> {
        let (mut ty, mut id) = (None, None);
        for (key, v) in r {
            match key.as_str() {
                "type" => ty = Some(v),
                "id" => id = Some(v),
                _ => {}
            }
        }
        let ty = match ty {
            Some(Json::String(t)) => t.as_str(),
            Some(_) => return Err(RequestError::new("`resource.type` must be a string")),
            None => return Err(RequestError::new("missing `resource.type`")),
        };
        Ok(JsonResource {
            obj: r,
            ty,
            id: id_from_json(id, "resource")?,
        })
    }
}

impl Request {
    /// Build from the authorization request JSON (as `warden eval` and the bindings take
    /// it: `principal`, `action`, `resource`, `context`). `kind` may be omitted or be
    /// `"authorization"`; HTTP requests are answered by a different entry point.
    /// Copies every string; [`crate::Engine::authorize_json`] decides the same JSON in
    /// place, without copying.
    pub fn from_json(json: &Json) -> Result<Request, RequestError> {
        JsonRequest::parse(json).map(|q| q.to_request())
    }
}

pub(crate) fn principal_from_json(p: &JsonObject) -> Result<Principal, RequestError> {
    JsonPrincipal::parse(p).map(|p| p.to_principal())
}
