//! The authorization request a host passes in: owned JSON-like values, no schema step.
//!
//! Hosts build a [`Request`] once (from `serde_json` or field by field) and may reuse it;
//! the engine only reads it, so `authorize` never copies or allocates on its account.

use serde_json::Value as Json;
use std::fmt;

/// A JSON-like attribute value. `Null` and an absent attribute are both *missing*.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Absent, or JSON `null`: *missing* to every rule.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (JSON numbers are read as `f64`).
    Number(f64),
    /// A string.
    String(String),
    /// A list or set; sets compare by membership, ignoring order and repeats.
    List(Vec<Value>),
    /// A nested object, read by paths such as `resource.owner.id`.
    Map(Attrs),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl Value {
    /// Convert to JSON; whole numbers within ±2^53 become JSON integers.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 => {
                Json::from(*n as i64)
            }
            Value::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
            Value::String(s) => Json::String(s.clone()),
            Value::List(l) => Json::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                Json::Object(m.0.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Convert from JSON; objects become [`Value::Map`].
    pub fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::Map(Attrs(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            )),
        }
    }
}

/// Attributes by name. A small vector: requests carry a handful of attributes, and a
/// linear scan over them beats hashing (and needs no allocation to look up).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attrs(pub Vec<(String, Value)>);

impl Attrs {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set an attribute, replacing an earlier value of the same name.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
        self
    }

    /// Builder form of [`Attrs::set`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    /// The value of an attribute; `None` when absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Who asks. `roles` are role names; names the policy does not declare are ignored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Principal {
    /// The principal's id, read as `principal.id`.
    pub id: String,
    /// Role names, read as `principal.roles` and by `principal is ROLE`.
    pub roles: Vec<String>,
    /// Other attributes, read as `principal.NAME`.
    pub attrs: Attrs,
}

impl Principal {
    /// A principal with this id, no roles and no attributes.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }
    /// Add a role name.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }
    /// Set an attribute (replacing one of the same name).
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attrs.set(name, value);
        self
    }

    /// The principal as the request JSON writes it: `{"id": .., "roles": [..], ATTR: ..}`
    /// (what hosts hand their handlers after [`crate::Engine::authenticate`]).
    pub fn to_json(&self) -> Json {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.attrs.0 {
            m.insert(k.clone(), v.to_json());
        }
        m.insert("id".into(), Json::String(self.id.clone()));
        m.insert(
            "roles".into(),
            Json::Array(self.roles.iter().cloned().map(Json::String).collect()),
        );
        Json::Object(m)
    }
}

/// What is acted on: a resource type (`post`), an id and attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// The resource type, as rules name it in `on TYPE` (`resource.type`).
    pub ty: String,
    /// The resource's id (`resource.id`).
    pub id: String,
    /// Other attributes, read as `resource.NAME`.
    pub attrs: Attrs,
}

impl Resource {
    /// A resource of type `ty` with this id and no attributes.
    pub fn new(ty: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            ty: ty.into(),
            id: id.into(),
            attrs: Attrs::default(),
        }
    }
    /// Set an attribute (replacing one of the same name).
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attrs.set(name, value);
        self
    }
}

/// An authorization request: may `principal` do `action` on `resource` in `context`?
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// `None` for an anonymous caller.
    pub principal: Option<Principal>,
    /// The action asked for, e.g. `posts:write`.
    pub action: String,
    /// `None` for an action on no particular resource.
    pub resource: Option<Resource>,
    /// Facts about the request itself, read as `context.NAME` (`context.time`
    /// is also what `now` reads).
    pub context: Attrs,
}

impl Request {
    /// A request for `action`, anonymous, on no resource, with no context.
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            ..Self::default()
        }
    }
    /// Set who asks.
    pub fn principal(mut self, p: Principal) -> Self {
        self.principal = Some(p);
        self
    }
    /// Set what is acted on.
    pub fn resource(mut self, r: Resource) -> Self {
        self.resource = Some(r);
        self
    }
    /// Set a context attribute (replacing one of the same name).
    pub fn context(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.set(name, value);
        self
    }
}

pub(crate) type JsonObject = serde_json::Map<String, Json>;

pub(crate) fn attrs_from_json(obj: &JsonObject, skip: &[&str]) -> Attrs {
    Attrs(
        obj.iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect(),
    )
}

/// A request that cannot be read; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// What is wrong with the request, naming the field (never quoting a value).
    pub message: String,
}

impl RequestError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad request: {}", self.message)
    }
}

impl std::error::Error for RequestError {}
