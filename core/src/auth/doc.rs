//! A token's claims read once, lean: the decoded payload parsed by `serde_json` into a
//! tree whose strings borrow from the payload bytes (only strings with escapes are
//! copied), instead of a `serde_json::Map` of owned strings that is dropped right after
//! a handful of claims are read. It was the largest share of a fresh token's cost after
//! the signature (a profile of `check_http` on fresh HS256 tokens, issue 23).
//!
//! Every value goes through the same `serde_json` parse as `serde_json::Value` (numbers,
//! escapes, UTF-8, nesting depth), so a payload is accepted exactly when it was; a
//! differential test below holds [`Doc::to_json`] to `serde_json::Value` on odd JSON.
//! Lookups answer as a `serde_json::Map` does: the last member of a name wins.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value as Json};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// One JSON value of a token's payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Doc<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Doc<'a>>),
    /// Boxed: an object holds its first members in place (nested objects are rare in
    /// claims, and the type would otherwise hold itself).
    Object(Box<Members<'a>>),
}

/// An object's members in document order, names possibly repeated (see
/// [`Members::get`]). The first eight sit in place: a token's claims are read without
/// allocating for them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Members<'a>(pub SmallVec<[(Cow<'a, str>, Doc<'a>); 8]>);

impl<'a> Members<'a> {
    /// The value of `name`: the last member of that name, as `serde_json::Map` keeps.
    pub(crate) fn get(&self, name: &str) -> Option<&Doc<'a>> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Whether some name is given to two members (the `hs.rs` path refuses that).
    pub(crate) fn repeats_a_name(&self) -> bool {
        let m = &self.0;
        if m.len() <= 16 {
            return m
                .iter()
                .enumerate()
                .any(|(i, (k, _))| m.iter().skip(i + 1).any(|(j, _)| j == k));
        }
        // Past a handful of claims, sorted: a signed payload of thousands of members
        // must not cost a quadratic scan.
        let mut names: Vec<&str> = m.iter().map(|(k, _)| &**k).collect();
        names.sort_unstable();
        names.windows(2).any(|w| w.first() == w.get(1))
    }

    /// The members of a `serde_json` map, borrowed (claims `jsonwebtoken` decoded).
    pub(crate) fn of_map(map: &'a serde_json::Map<String, Json>) -> Members<'a> {
        Members(
            map.iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Doc::of_json(v)))
                .collect(),
        )
    }

    /// As a `serde_json` map (the last member of a name wins, as when parsed into one).
    pub(crate) fn to_map(&self) -> serde_json::Map<String, Json> {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.0 {
            map.insert(k.to_string(), v.to_json());
        }
        map
    }
}

impl<'a> Doc<'a> {
    /// The payload's top-level object, `None` when it is not one JSON object (or when
    /// `serde_json` refuses it: the same refusals as a parse into a `serde_json::Map`).
    /// (Tokens' payloads are read through `flat::members`, which tries a flat text's
    /// reader first.)
    pub(crate) fn object(bytes: &'a [u8]) -> Option<Members<'a>> {
        serde_json::from_slice::<Members<'a>>(bytes).ok()
    }

    /// A `serde_json` value, borrowed.
    pub(crate) fn of_json(v: &'a Json) -> Doc<'a> {
        match v {
            Json::Null => Doc::Null,
            Json::Bool(b) => Doc::Bool(*b),
            Json::Number(n) => Doc::Number(n.clone()),
            Json::String(s) => Doc::String(Cow::Borrowed(s)),
            Json::Array(a) => Doc::Array(a.iter().map(Doc::of_json).collect()),
            Json::Object(o) => Doc::Object(Box::new(Members::of_map(o))),
        }
    }

    /// As the `serde_json::Value` the same text parses to.
    pub(crate) fn to_json(&self) -> Json {
        match self {
            Doc::Null => Json::Null,
            Doc::Bool(b) => Json::Bool(*b),
            Doc::Number(n) => Json::Number(n.clone()),
            Doc::String(s) => Json::String(s.to_string()),
            Doc::Array(a) => Json::Array(a.iter().map(Doc::to_json).collect()),
            Doc::Object(m) => Json::Object(m.to_map()),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Doc::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Doc::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub(crate) fn is_string(&self) -> bool {
        matches!(self, Doc::String(_))
    }

    pub(crate) fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            Doc::Object(m) => Some(&**m),
            _ => None,
        }
    }

    /// The principal attribute this value maps to: `crate::Value::from_json` of
    /// [`Doc::to_json`], without building the JSON for scalars.
    pub(crate) fn to_value(&self) -> crate::Value {
        use crate::Value;
        match self {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
            Doc::String(s) => Value::String(s.to_string()),
            Doc::Array(a) => Value::List(a.iter().map(Doc::to_value).collect()),
            // A map's member order is `serde_json::Map`'s: built the same way.
            Doc::Object(_) => Value::from_json(&self.to_json()),
        }
    }
}

impl<'de> Deserialize<'de> for Doc<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Doc<'de>, D::Error> {
        d.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

// The visits of `serde_json::Value`'s own visitor, strings borrowed where they can be.
impl<'de> Visitor<'de> for DocVisitor {
    type Value = Doc<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Doc<'de>, E> {
        Ok(Doc::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Doc<'de>, E> {
        Ok(Doc::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Doc<'de>, E> {
        Ok(Doc::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Doc<'de>, E> {
        Ok(Number::from_f64(n).map_or(Doc::Null, Doc::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Doc<'de>, E> {
        Ok(Doc::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Doc<'de>, E> {
        Ok(Doc::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Doc<'de>, E> {
        Ok(Doc::String(Cow::Owned(s)))
    }

    fn visit_none<E>(self) -> Result<Doc<'de>, E> {
        Ok(Doc::Null)
    }

    fn visit_unit<E>(self) -> Result<Doc<'de>, E> {
        Ok(Doc::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Doc<'de>, D::Error> {
        Doc::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Doc::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Doc<'de>, A::Error> {
        MembersVisitor
            .visit_map(map)
            .map(|m| Doc::Object(Box::new(m)))
    }
}

// A payload's top level: an object (anything else is refused, as by a parse into a
// `serde_json::Map`), read in place.
impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members<'de>, D::Error> {
        d.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        let mut members = SmallVec::new();
        while let Some(Name(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        Ok(Members(members))
    }
}

/// A member name, borrowed when it has no escape.
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Room for a segment of `N` bytes decoded on the stack: a real token's header or
/// claims (a few hundred bytes) fit, and the heap is only used beyond. (`N` is not
/// larger than that: the room is zeroed on each use.)
pub(crate) struct Decoded<const N: usize> {
    stack: [u8; N],
    heap: Vec<u8>,
}

impl<const N: usize> Decoded<N> {
    pub(crate) fn new() -> Decoded<N> {
        Decoded {
            stack: [0; N],
            heap: Vec::new(),
        }
    }

    /// `segment` decoded as unpadded base64url (the same canonical rules as
    /// `URL_SAFE_NO_PAD.decode`), in this room.
    pub(crate) fn b64(&mut self, segment: &str) -> Option<&[u8]> {
        if base64::decoded_len_estimate(segment.len()) <= self.stack.len() {
            let n = URL_SAFE_NO_PAD
                .decode_slice(segment, &mut self.stack)
                .ok()?;
            return self.stack.get(..n);
        }
        self.heap = URL_SAFE_NO_PAD.decode(segment).ok()?;
        Some(&self.heap)
    }

    /// `len` bytes of this room to write into (on the heap beyond `N`).
    pub(crate) fn buffer(&mut self, len: usize) -> &mut [u8] {
        if len <= N {
            if let Some(b) = self.stack.get_mut(..len) {
                return b;
            }
        }
        self.heap = vec![0; len];
        &mut self.heap
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    /// Texts `serde_json` accepts or refuses in odd ways: the lean parse must agree on
    /// every one, value for value.
    const ODD: &[&str] = &[
        r#"{"sub":"u1","exp":1800000000}"#,
        r#"{}"#,
        r#" { "a" : 1 } "#,
        r#"{"a":1}x"#,
        r#"{"a":1,}"#,
        r#"{"a"}"#,
        r#"["a"]"#,
        r#""a""#,
        "1",
        "null",
        "",
        r#"{"\u0073ub":"u\u0031","r\u00f4le":"\ud83d\ude00","x":"\n\t\\\/\""}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\x"}"#,
        "{\"a\":\"\u{1F600} caf\u{e9}\"}",
        "{\"a\":\"tab\there\"}",
        r#"{"a":1,"a":2}"#,
        r#"{"a":{"b":1,"b":{"c":[1,2,{"d":null}]}}}"#,
        r#"{"n":1.5,"m":-0.0,"e":1e3,"E":2E-3,"i":-9223372036854775808,"u":18446744073709551615}"#,
        r#"{"big":18446744073709551616,"neg":-9223372036854775809}"#,
        r#"{"huge":1e999}"#,
        r#"{"tiny":1e-999}"#,
        r#"{"lead":01}"#,
        r#"{"nan":NaN}"#,
        r#"{"t":true,"f":false,"z":null}"#,
        r#"{"deep":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}"#,
        r#"{"a":[1,"x",true,null,{"k":"v"}],"b":[]}"#,
    ];

    fn deep(n: usize) -> String {
        format!(r#"{{"a":{}1{}}}"#, "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn the_lean_parse_agrees_with_serde_json() {
        let mut texts: Vec<String> = ODD.iter().map(|s| (*s).to_owned()).collect();
        texts.extend([deep(126), deep(127), deep(200)]);
        texts.push("{\"a\":\"\u{0}\"}".into());
        let mut accepted = 0;
        for t in &texts {
            let want = serde_json::from_slice::<serde_json::Map<String, Json>>(t.as_bytes()).ok();
            let got = Doc::object(t.as_bytes()).map(|m| m.to_map());
            assert_eq!(got, want, "{t}");
            accepted += usize::from(want.is_some());
        }
        // Invalid UTF-8 inside a string and inside a name.
        for bytes in [&b"{\"a\":\"\xff\"}"[..], &b"{\"\xc3\":1}"[..]] {
            assert!(Doc::object(bytes).is_none());
            assert!(serde_json::from_slice::<Json>(bytes).is_err());
        }
        assert!(accepted >= 12, "{accepted}");
    }

    /// Texts near the odd ones: each of `ODD` mutated at random (a byte inserted,
    /// removed or replaced from JSON's alphabet), 20,000 times over, deterministic.
    /// The lean parse must accept exactly what `serde_json` accepts, value for value.
    #[test]
    fn mutated_texts_are_read_as_serde_json_reads_them() {
        const ALPHABET: &[u8] =
            b"{}[]\":,\\u0123456789abcdefABCDEF.eE+-tfnrl \t\n/\x00\xc3\xa9\xff";
        let mut texts = crate::auth::mutate::Mutator::new(0x9e37_79b9_7f4a_7c15);
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..20_000 {
            let t = texts.mutate(ODD[round % ODD.len()].as_bytes(), ALPHABET, 3);
            let want = serde_json::from_slice::<serde_json::Map<String, Json>>(&t).ok();
            let got = Doc::object(&t).map(|m| m.to_map());
            assert_eq!(got, want, "{}", String::from_utf8_lossy(&t));
            if want.is_some() {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        // Both answers occur often: the mutations are near valid JSON.
        assert!(
            accepted > 1_000 && refused > 1_000,
            "{accepted} / {refused}"
        );
    }

    #[test]
    fn lookups_take_the_last_member_and_borrow_plain_strings() {
        let text = br#"{"a":"x","b":"y\"","a":"z"}"#;
        let m = Doc::object(text).unwrap();
        assert_eq!(m.get("a").and_then(Doc::as_str), Some("z"));
        assert!(m.repeats_a_name());
        assert!(matches!(m.get("a"), Some(Doc::String(Cow::Borrowed(_)))));
        assert!(matches!(m.get("b"), Some(Doc::String(Cow::Owned(_)))));
        let many: String = (0..40).map(|i| format!(r#""k{i}":{i},"#)).collect();
        let unique = format!("{{{many}\"z\":0}}");
        assert!(!Doc::object(unique.as_bytes()).unwrap().repeats_a_name());
        let twice = format!("{{{many}\"k7\":0}}");
        assert!(Doc::object(twice.as_bytes()).unwrap().repeats_a_name());
        let escaped = br#"{"sub":1,"\u0073ub":2}"#;
        assert!(Doc::object(escaped).unwrap().repeats_a_name());
    }

    #[test]
    fn values_map_to_attributes_as_from_json_does() {
        for t in ODD {
            let Some(m) = Doc::object(t.as_bytes()) else {
                continue;
            };
            for (_, v) in &m.0 {
                assert_eq!(v.to_value(), crate::Value::from_json(&v.to_json()), "{t}");
            }
        }
    }

    #[test]
    fn segments_decode_as_the_engine_decodes_them() {
        let long = URL_SAFE_NO_PAD.encode(vec![7u8; 5000]);
        for s in [
            "",
            "e30",
            "e30=",
            "e3",
            "e31",
            "!!",
            "eyJhIjoxfQ",
            long.as_str(),
        ] {
            let mut room = Decoded::<1024>::new();
            assert_eq!(
                room.b64(s).map(<[u8]>::to_vec),
                URL_SAFE_NO_PAD.decode(s).ok(),
                "{s}"
            );
        }
    }
}
