//! The request JSON read from text straight into a [`RequestRef`]: no `serde_json::Value`
//! is built. Strings borrow from the text (a copy only for a string with escapes); a
//! nested list or object in an attribute becomes an owned JSON value, as it would in a
//! parsed `Value`.
//!
//! It accepts exactly the requests [`JsonRequest::parse`](crate::JsonRequest::parse)
//! accepts from the same text parsed by `serde_json`, with the same errors: the fields
//! are collected in one pass (a repeated key counts once, the last one, as in a parsed
//! `Value`) and checked afterwards in the contract's order. Text that is not JSON is an
//! error naming the position, never a panic.
//!
//! The usual request text never reaches the visitors: `json_scan` reads it first, in
//! one pass of its own, and leaves here only what it cannot read exactly as this path
//! does (escapes, every error, odd numbers, deep nesting).

use crate::request::RequestError;
use crate::request_ref::Inline;
use crate::request_ref::{AttrsRef, PrincipalRef, RequestRef, ResourceRef, ValueRef};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value as Json};
use std::borrow::Cow;
use std::fmt;

impl<'a> RequestRef<'a> {
    /// Read the authorization request JSON (docs/JSON.md) from text, borrowing its
    /// strings: the request [`JsonRequest::parse`](crate::JsonRequest::parse) gives for
    /// the same text parsed into a `serde_json::Value`, with the same errors, without
    /// building the `Value`. Text that is not JSON is an error too.
    ///
    /// ```
    /// use warden::RequestRef;
    ///
    /// let text = r#"{"principal": {"id": "u1", "roles": ["editor"]}, "action": "posts:read"}"#;
    /// let req = RequestRef::from_json_str(text).map_err(|e| e.message)?;
    /// assert_eq!(req.action(), "posts:read");
    /// assert_eq!(req.get_principal().map(|p| p.id()), Some("u1"));
    ///
    /// let bad = RequestRef::from_json_str(r#"{"action": 42}"#);
    /// assert_eq!(bad.map(|_| ()).map_err(|e| e.message), Err("`action` must be a string".into()));
    /// # Ok::<(), String>(())
    /// ```
    pub fn from_json_str(text: &'a str) -> Result<RequestRef<'a>, RequestError> {
        let mut q = RequestRef::default();
        read_str(text, &mut q).map(|()| q)
    }

    /// [`RequestRef::from_json_str`] for bytes (strings must be UTF-8).
    pub fn from_json_bytes(bytes: &'a [u8]) -> Result<RequestRef<'a>, RequestError> {
        let mut q = RequestRef::default();
        read_bytes(bytes, &mut q).map(|()| q)
    }
}

/// [`RequestRef::from_json_str`] into an empty request the caller holds (a request is
/// ~1 KB: the engine's entry points keep it where it is rather than move it). The
/// request's own scanner (`json_scan`) reads the usual text; whatever it does not read
/// exactly as serde_json would (an escape, an error, an odd number) goes through serde
/// visitors below, which define the accepted texts and the errors.
pub(crate) fn read_str<'a>(text: &'a str, q: &mut RequestRef<'a>) -> Result<(), RequestError> {
    if crate::json_scan::read_str(text, q).is_some() {
        return Ok(());
    }
    *q = RequestRef::default();
    read(serde_json::Deserializer::from_str(text), q)
}

/// [`read_str`] for bytes.
pub(crate) fn read_bytes<'a>(bytes: &'a [u8], q: &mut RequestRef<'a>) -> Result<(), RequestError> {
    if crate::json_scan::read_bytes(bytes, q).is_some() {
        return Ok(());
    }
    *q = RequestRef::default();
    read(serde_json::Deserializer::from_slice(bytes), q)
}

/// [`read_str`] by serde visitors only (the reference the scanner is tested against).
#[cfg(test)]
pub(crate) fn read_str_serde<'a>(
    text: &'a str,
    q: &mut RequestRef<'a>,
) -> Result<(), RequestError> {
    read(serde_json::Deserializer::from_str(text), q)
}

/// [`read_bytes`] by serde visitors only.
#[cfg(test)]
pub(crate) fn read_bytes_serde<'a>(
    bytes: &'a [u8],
    q: &mut RequestRef<'a>,
) -> Result<(), RequestError> {
    read(serde_json::Deserializer::from_slice(bytes), q)
}

fn read<'a, R: serde_json::de::Read<'a>>(
    mut de: serde_json::Deserializer<R>,
    q: &mut RequestRef<'a>,
) -> Result<(), RequestError> {
    let mut f = Fields {
        req: q,
        kind: None,
        action: None,
        principal: None,
        resource: None,
        context: None,
        method: false,
        unknown: None,
    };
    let object = TopSeed(&mut f)
        .deserialize(&mut de)
        .and_then(|o| de.end().map(|()| o));
    match object {
        Err(e) => Err(RequestError::new(format!("invalid JSON: {e}"))),
        Ok(false) => Err(RequestError::new("a request must be a JSON object")),
        Ok(true) => f.check(),
    }
}

/// A field's value: null, the expected kind, or another kind (consumed, for the error).
enum Slot<T> {
    Null,
    Good(T),
    Other,
}

/// What the last value of each top-level key was; the principal, resource and context
/// are read straight into `req` (a request is ~1 KB: moving it per field costs more than
/// parsing the text), their errors kept in the slots.
struct Fields<'f, 'a> {
    req: &'f mut RequestRef<'a>,
    kind: Option<Kind>,
    action: Option<Slot<()>>,
    principal: Option<Slot<Result<(), RequestError>>>,
    resource: Option<Slot<Result<(), RequestError>>>,
    context: Option<Slot<()>>,
    method: bool,
    /// The first unknown key in key order (a parsed `Value`'s object is a sorted map).
    unknown: Option<Cow<'a, str>>,
}

impl Fields<'_, '_> {
    /// The checks of `JsonRequest::parse`, in its order.
    fn check(self) -> Result<(), RequestError> {
        match self.kind {
            None | Some(Kind::Null) => {
                if self.method && self.action.is_none() {
                    return Err(RequestError::new(
                        "HTTP requests (`method`, `path`) are not supported by `authorize`; \
                         send an authorization request with an `action`",
                    ));
                }
            }
            Some(Kind::Authorization) => {}
            Some(Kind::Other(other)) => {
                return Err(RequestError::new(format!(
                    "unsupported request `kind` {other}; expected \"authorization\""
                )))
            }
        }
        let req = self.req;
        match self.action {
            Some(Slot::Good(())) => {}
            Some(_) => return Err(RequestError::new("`action` must be a string")),
            None => return Err(RequestError::new("missing `action`")),
        }
        match self.principal {
            None | Some(Slot::Null) => req.principal = None,
            Some(Slot::Good(p)) => p?,
            Some(Slot::Other) => {
                return Err(RequestError::new("`principal` must be an object or null"))
            }
        }
        match self.resource {
            None | Some(Slot::Null) => req.resource = None,
            Some(Slot::Good(r)) => r?,
            Some(Slot::Other) => {
                return Err(RequestError::new("`resource` must be an object or null"))
            }
        }
        match self.context {
            None | Some(Slot::Null) => req.context = AttrsRef::new(),
            Some(Slot::Good(())) => {}
            Some(Slot::Other) => return Err(RequestError::new("`context` must be an object")),
        }
        if let Some(key) = self.unknown {
            return Err(RequestError::new(format!(
                "unknown request field `{key}`; expected `principal`, `action`, `resource`, `context`"
            )));
        }
        Ok(())
    }
}

/// Consume any value: `Ok(None)` from every visit but the ones a caller overrides.
macro_rules! consume_others {
    ($out:ty, $other:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$out, E> {
            Ok($other)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$out, E> {
            Ok($other)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$out, E> {
            Ok($other)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$out, E> {
            Ok($other)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$out, E> {
            Ok($other)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$out, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($other)
        }
    };
}

/// Reads the top level into the fields in place (they are large: no moves); the value
/// says whether it was an object.
struct TopSeed<'f, 'g, 'de>(&'f mut Fields<'g, 'de>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_, 'de> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    consume_others!(bool, false);
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let f = self.0;
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "kind" => f.kind = Some(map.next_value()?),
                "action" => {
                    f.action = Some(match map.next_value::<Str>()?.0 {
                        Slot::Good(a) => {
                            f.req.action = a;
                            Slot::Good(())
                        }
                        Slot::Null => Slot::Null,
                        Slot::Other => Slot::Other,
                    })
                }
                "principal" => {
                    let p = f.req.principal.get_or_insert_with(Default::default);
                    f.principal = Some(map.next_value_seed(ObjSeed(p))?)
                }
                "resource" => {
                    let r = f.req.resource.get_or_insert_with(Default::default);
                    f.resource = Some(map.next_value_seed(ObjSeed(r))?)
                }
                "context" => {
                    f.context = Some(match map.next_value_seed(ObjSeed(&mut f.req.context))? {
                        Slot::Good(_) => Slot::Good(()),
                        Slot::Null => Slot::Null,
                        Slot::Other => Slot::Other,
                    })
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    f.method |= key == "method";
                    if f.unknown.as_ref().is_none_or(|u| key < *u) {
                        f.unknown = Some(key);
                    }
                }
            }
        }
        Ok(true)
    }
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A string value, or what else was there.
struct Str<'a>(Slot<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Other))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Other))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Other))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Other))
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Good(Cow::Borrowed(s))))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Good(Cow::Owned(s.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Good(Cow::Owned(s))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Str<'de>, E> {
                Ok(Str(Slot::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Str<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Str(Slot::Other))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Str<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Str(Slot::Other))
            }
        }
        d.deserialize_any(V)
    }
}

/// `kind`: only `"authorization"` (or null) is accepted; anything else is kept for the
/// error message, which shows it as JSON.
enum Kind {
    Null,
    Authorization,
    Other(Json),
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Any::deserialize(d)?.0 {
            ValueRef::Null => Kind::Null,
            ValueRef::Str(s) if s == "authorization" => Kind::Authorization,
            v => Kind::Other(json_of(v)),
        })
    }
}

/// The JSON a value read by [`Any`] came from (for the `kind` error only).
fn json_of(v: ValueRef<'_>) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Bool(b) => Json::Bool(b),
        ValueRef::Str(s) => Json::String(s.into_owned()),
        ValueRef::Json(j) => j.into_owned(),
        // `Any` reads numbers as `Json` (to keep integers whole): not reached.
        ValueRef::Number(n) => Number::from_f64(n).map_or(Json::Null, Json::Number),
        ValueRef::Value(v) => v.to_json(),
    }
}

/// An attribute value: scalars read in place, strings borrowed, lists and objects as
/// owned JSON (as `serde_json` builds them).
struct Attr<'a>(ValueRef<'a>);
/// Any value, numbers kept as JSON numbers (`kind` and ids show or format them).
struct Any<'a>(ValueRef<'a>);

impl<'de> Deserialize<'de> for Attr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor {
            numbers_as_json: false,
        })
        .map(Attr)
    }
}

impl<'de> Deserialize<'de> for Any<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor {
            numbers_as_json: true,
        })
        .map(Any)
    }
}

struct ValueVisitor {
    numbers_as_json: bool,
}

impl ValueVisitor {
    fn number<'a>(&self, n: Number) -> ValueRef<'a> {
        match (self.numbers_as_json, n.as_f64()) {
            (false, Some(f)) => ValueRef::Number(f),
            _ => ValueRef::Json(Cow::Owned(Json::Number(n))),
        }
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = ValueRef<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<ValueRef<'de>, E> {
        Ok(ValueRef::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<ValueRef<'de>, E> {
        Ok(self.number(Number::from(n)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<ValueRef<'de>, E> {
        Ok(self.number(Number::from(n)))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<ValueRef<'de>, E> {
        Ok(Number::from_f64(n).map_or(ValueRef::Null, |n| self.number(n)))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<ValueRef<'de>, E> {
        Ok(ValueRef::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<ValueRef<'de>, E> {
        Ok(ValueRef::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<ValueRef<'de>, E> {
        Ok(ValueRef::Str(Cow::Owned(s)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ValueRef<'de>, E> {
        Ok(ValueRef::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValueRef<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Json>()? {
            items.push(v);
        }
        Ok(ValueRef::Json(Cow::Owned(Json::Array(items))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueRef<'de>, A::Error> {
        let mut m = Map::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            m.insert(k, v);
        }
        Ok(ValueRef::Json(Cow::Owned(Json::Object(m))))
    }
}

/// Reads an object into `T` in place (emptied first: of two values of one key, the
/// last counts), or says what else was there. `T::Check` is what the object's own
/// checks found (the principal's and resource's errors).
struct ObjSeed<'f, T>(&'f mut T);

/// How one kind of object (principal, resource, context) is read from its entries.
trait FromEntries<'de>: Default {
    type Check;
    fn read<A: MapAccess<'de>>(&mut self, map: A) -> Result<Self::Check, A::Error>;
}

impl<'de, T: FromEntries<'de>> DeserializeSeed<'de> for ObjSeed<'_, T> {
    type Value = Slot<T::Check>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: FromEntries<'de>> Visitor<'de> for ObjSeed<'_, T> {
    type Value = Slot<T::Check>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    consume_others!(Slot<T::Check>, Slot::Other);
    fn visit_unit<E: de::Error>(self) -> Result<Slot<T::Check>, E> {
        Ok(Slot::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot<T::Check>, A::Error> {
        *self.0 = T::default();
        self.0.read(map).map(Slot::Good)
    }
}

impl<'de> FromEntries<'de> for AttrsRef<'de> {
    type Check = ();
    fn read<A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(k)) = map.next_key()? {
            let v = map.next_value::<Attr>()?.0;
            self.push(k, v);
        }
        Ok(())
    }
}

/// `principal.id` / `resource.id`: a string, a number (its decimal text, as
/// `serde_json` writes it), or missing.
fn id_of<'a>(v: Option<ValueRef<'a>>, what: &str) -> Result<Cow<'a, str>, RequestError> {
    match v {
        None | Some(ValueRef::Null) => Ok(Cow::Borrowed("")),
        Some(ValueRef::Str(s)) => Ok(s),
        Some(ValueRef::Json(j)) if j.is_number() => Ok(Cow::Owned(j.to_string())),
        Some(_) => Err(RequestError::new(format!("`{what}.id` must be a string"))),
    }
}

impl<'de> FromEntries<'de> for PrincipalRef<'de> {
    type Check = Result<(), RequestError>;
    fn read<A: MapAccess<'de>>(&mut self, mut map: A) -> Result<Self::Check, A::Error> {
        let (mut id, mut roles, mut role) = (None, None, None);
        while let Some(Key(k)) = map.next_key()? {
            match &*k {
                "id" => id = Some(map.next_value::<Any>()?.0),
                "roles" => roles = Some(map.next_value::<Names>()?.0),
                "role" => role = Some(map.next_value::<Str>()?.0),
                _ => {
                    let v = map.next_value::<Attr>()?.0;
                    self.attrs.push(k, v);
                }
            }
        }
        Ok((|| {
            self.id = id_of(id, "principal")?;
            self.roles = match (roles, role) {
                (Some(_), Some(_)) => {
                    return Err(RequestError::new(
                        "give either `roles` or `role` for the principal, not both",
                    ))
                }
                (Some(Slot::Good(Some(rs))), None) => rs,
                (Some(Slot::Good(None)), None) | (None, Some(Slot::Other)) => {
                    return Err(RequestError::new("role names must be strings"))
                }
                (Some(Slot::Null), None) | (None, Some(Slot::Null)) | (None, None) => {
                    Inline::default()
                }
                (Some(Slot::Other), None) => {
                    return Err(RequestError::new("`principal.roles` must be a list"))
                }
                (None, Some(Slot::Good(r))) => Inline::one(r),
            };
            Ok(())
        })())
    }
}

/// `roles`: a list of strings (`Good(Some)`), a list with another element
/// (`Good(None)`), null, or another value.
struct Names<'a>(Slot<Option<Inline<Cow<'a, str>>>>);

impl<'de> Deserialize<'de> for Names<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Names<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Names<'de>, E> {
                Ok(Names(Slot::Other))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Names<'de>, E> {
                Ok(Names(Slot::Other))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Names<'de>, E> {
                Ok(Names(Slot::Other))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Names<'de>, E> {
                Ok(Names(Slot::Other))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Names<'de>, E> {
                Ok(Names(Slot::Other))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Names<'de>, E> {
                Ok(Names(Slot::Null))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Names(Slot::Other))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names<'de>, A::Error> {
                let mut names = Some(Inline::default());
                while let Some(Str(s)) = seq.next_element()? {
                    match (s, &mut names) {
                        (Slot::Good(s), Some(ns)) => ns.push(s),
                        _ => names = None,
                    }
                }
                Ok(Names(Slot::Good(names)))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> FromEntries<'de> for ResourceRef<'de> {
    type Check = Result<(), RequestError>;
    fn read<A: MapAccess<'de>>(&mut self, mut map: A) -> Result<Self::Check, A::Error> {
        let (mut ty, mut id) = (None, None);
        while let Some(Key(k)) = map.next_key()? {
            match &*k {
                "type" => ty = Some(map.next_value::<Str>()?.0),
                "id" => id = Some(map.next_value::<Any>()?.0),
                _ => {
                    let v = map.next_value::<Attr>()?.0;
                    self.attrs.push(k, v);
                }
            }
        }
        Ok((|| {
            self.ty = match ty {
                Some(Slot::Good(t)) => t,
                Some(_) => return Err(RequestError::new("`resource.type` must be a string")),
                None => return Err(RequestError::new("missing `resource.type`")),
            };
            self.id = id_of(id, "resource")?;
            Ok(())
        })())
    }
}
