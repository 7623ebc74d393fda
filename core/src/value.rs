//! Run-time values: what evaluating a program gives, borrowed from the request and the
//! program (`V<'a>`), and the readers that turn request data into them.

use crate::json::field;
use crate::program::{Konst, Node};
use crate::request::{Attrs, JsonObject, Value};
use crate::request_ref::ValueRef;
use serde_json::Value as Json;
use std::borrow::Cow;

/// A run-time value; `Missing` covers absent, null, anonymous and type mismatches.
#[derive(Debug, Clone)]
pub(crate) enum V<'a> {
    Missing,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    /// A string derived from a secret: compared in constant time, printed redacted.
    Secret(Cow<'a, str>),
    Role(u32),
    Roles(Roles<'a>),
    List(List<'a>),
    Map(Map<'a>),
}

/// A set of roles: the principal's (undeclared names ignored) or a `set<role>` attribute
/// (every name checked to be declared when read).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Roles<'a> {
    Principal(&'a [String]),
    /// The principal's roles in a borrowed request.
    Names(&'a [Cow<'a, str>]),
    Values(&'a [Value]),
    /// The principal's roles in request JSON (checked to be strings when parsed).
    JsonPrincipal(&'a [Json]),
    /// A `set<role>` attribute in request JSON (every name checked when read).
    JsonValues(&'a [Json]),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum List<'a> {
    Values(&'a [Value]),
    Nodes(&'a [Node]),
    Konsts(&'a [Konst]),
    Json(&'a [Json]),
}

/// An object value, read by paths such as `resource.owner.id`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Map<'a> {
    Attrs(&'a Attrs),
    Json(&'a JsonObject),
}

impl<'a> Map<'a> {
    #[inline]
    pub fn get(self, name: &str) -> V<'a> {
        match self {
            Map::Attrs(m) => value(m.get(name)),
            Map::Json(m) => json_value(field(m, name)),
        }
    }

    /// Every entry in order, for script arguments.
    pub fn for_each(self, mut f: impl FnMut(&'a str, V<'a>)) {
        match self {
            Map::Attrs(m) => m.0.iter().for_each(|(k, v)| f(k, value(Some(v)))),
            Map::Json(m) => m.iter().for_each(|(k, v)| f(k, json_value(Some(v)))),
        }
    }
}

/// A JSON value as evaluation sees it, as [`crate::Value::from_json`] would convert it:
/// null is missing, so is a number that is not an `f64`.
pub(crate) fn json_value(v: Option<&Json>) -> V<'_> {
    match v {
        None | Some(Json::Null) => V::Missing,
        Some(Json::Bool(b)) => V::Bool(*b),
        Some(Json::Number(n)) => n.as_f64().map_or(V::Missing, V::Num),
        Some(Json::String(s)) => V::Str(Cow::Borrowed(s)),
        Some(Json::Array(a)) => V::List(List::Json(a)),
        Some(Json::Object(o)) => V::Map(Map::Json(o)),
    }
}

/// A borrowed request's attribute as evaluation sees it: the same value as the owned
/// [`Value`] it stands for ([`ValueRef::to_value`]) would give.
#[inline]
pub(crate) fn value_ref<'a>(v: Option<&'a ValueRef<'a>>) -> V<'a> {
    match v {
        None | Some(ValueRef::Null) => V::Missing,
        Some(ValueRef::Bool(b)) => V::Bool(*b),
        Some(ValueRef::Number(n)) => V::Num(*n),
        Some(ValueRef::Str(s)) => V::Str(Cow::Borrowed(s)),
        Some(ValueRef::Value(v)) => value(Some(v)),
        Some(ValueRef::Json(j)) => json_value(Some(j)),
    }
}

pub(crate) fn value(v: Option<&Value>) -> V<'_> {
    match v {
        None | Some(Value::Null) => V::Missing,
        Some(Value::Bool(b)) => V::Bool(*b),
        Some(Value::Number(n)) => V::Num(*n),
        Some(Value::String(s)) => V::Str(Cow::Borrowed(s)),
        Some(Value::List(l)) => V::List(List::Values(l)),
        Some(Value::Map(m)) => V::Map(Map::Attrs(m)),
    }
}

pub(crate) fn str_of<'v>(v: &'v V<'_>) -> Option<&'v str> {
    match v {
        V::Str(s) | V::Secret(s) => Some(s),
        _ => None,
    }
}
