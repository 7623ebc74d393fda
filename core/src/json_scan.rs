//! The request JSON read from text in one pass by a scanner made for it: keys matched as
//! bytes, strings borrowed from the text, numbers read in place. It reads only what it
//! can read exactly as `json_text`'s serde path would and gives up on everything else
//! (an escape, a control character, a number past 15 digits or 1e±22, deep nesting, a
//! value of an unexpected type, an unknown key, bad syntax), so that
//! [`RequestRef::from_json_str`] falls back to the serde path for those texts and keeps
//! its errors and edge semantics. Giving up is always correct; only a request it reads
//! to the end must be the very request the serde path reads, hence the rules below.
//!
//! Why a scanner of its own: serde_json's tokenizer was ~3,600 of the ~6,700
//! instructions per decision of `authorize_json_str` on the docs-app workload
//! (docs/BENCHMARKS.md, "Issue 23: JSON text, session 13").
//!
//! Rules that keep an accepted text's request equal to the serde path's:
//! - a repeated key: the last value counts (the serde path's `Fields` keep the last
//!   one); a principal, resource or context object is emptied before it is read again;
//! - every error of `JsonRequest::parse` is a give-up here (a wrong type, a missing
//!   `action` or `resource.type`, `role` beside `roles`, an unknown top-level key, a
//!   `kind` other than "authorization" or null), so errors always come from the serde
//!   path, with its messages;
//! - numbers: at most 15 digits and a decimal exponent within ±22, so that the
//!   significand is exact in an `f64` and one multiplication or division by an exact
//!   power of ten gives the correctly rounded value, which is what serde_json computes
//!   (with or without its `float_roundtrip` feature); integers become `u64` / `i64`
//!   JSON numbers and the rest `f64` ones, as serde_json makes them; `-0` gives up;
//! - nesting deeper than [`MAX_DEPTH`] gives up long before serde_json's limit (128);
//! - bytes: every string must be UTF-8 (`str::from_utf8` on its slice); any other byte
//!   of 0x80 or more is outside a string, hence a syntax error and a give-up.

use crate::request_ref::{AttrsRef, Inline, PrincipalRef, RequestRef, ResourceRef, ValueRef};
use serde_json::{Map, Number, Value as Json};
use std::borrow::Cow;

/// Deepest nesting of lists and objects read here (the request object counts as 1).
const MAX_DEPTH: u32 = 32;

/// Exact powers of ten in an `f64` (10^22 is the last one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Read `text` into the empty request `q`; `None`: gave up (`q` then holds a part of
/// the request and must be emptied before another reader uses it).
pub(crate) fn read_str<'a>(text: &'a str, q: &mut RequestRef<'a>) -> Option<()> {
    Scan::new(text.as_bytes(), Some(text)).request(q)
}

/// [`read_str`] for bytes: a string must be UTF-8.
pub(crate) fn read_bytes<'a>(bytes: &'a [u8], q: &mut RequestRef<'a>) -> Option<()> {
    Scan::new(bytes, None).request(q)
}

/// A byte that ends a string here: its closing quote, an escape, a control character.
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit set in each byte of `x` that [`is_special`], at least for the lowest
/// such byte and never below it (read as little-endian bytes: the lowest set bit is
/// the first special byte). `v - 1` per byte sets a zero byte's high bit, and a byte
/// below `n` gets its high bit from `v - n` while its own high bit is clear; a borrow
/// only runs upwards from a byte that matched.
fn special(x: u64) -> u64 {
    let quote = x ^ (ONES * u64::from(b'"'));
    let escape = x ^ (ONES * u64::from(b'\\'));
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    (zero(quote) | zero(escape) | (x.wrapping_sub(ONES * 0x20) & !x)) & (ONES << 7)
}

/// A number read by [`Scan::number`].
enum Num {
    /// An integer: its magnitude and whether it is negative (never `-0`).
    Int(u64, bool),
    /// A number with a fraction or an exponent.
    Float(f64),
}

/// An object's key: one of the names the request's objects give a meaning to, or
/// another (an attribute's).
#[derive(Clone, Copy)]
enum Key<'a> {
    Action,
    Principal,
    Resource,
    Context,
    Kind,
    Id,
    Roles,
    Role,
    Type,
    Name(&'a str),
}

impl<'a> Key<'a> {
    /// The key as text.
    fn name(self) -> &'a str {
        match self {
            Key::Action => "action",
            Key::Principal => "principal",
            Key::Resource => "resource",
            Key::Context => "context",
            Key::Kind => "kind",
            Key::Id => "id",
            Key::Roles => "roles",
            Key::Role => "role",
            Key::Type => "type",
            Key::Name(name) => name,
        }
    }
}

/// What the last value of a top-level `principal`, `resource` or `context` key was.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    Absent,
    Null,
    Object,
}

struct Scan<'a> {
    src: &'a [u8],
    /// The same bytes as `str` when they came as one: a string slice between two
    /// quotes is then UTF-8 already.
    text: Option<&'a str>,
    pos: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    fn new(src: &'a [u8], text: Option<&'a str>) -> Self {
        Scan {
            src,
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// The top-level object into `q`, then nothing but whitespace.
    fn request(&mut self, q: &mut RequestRef<'a>) -> Option<()> {
        let (mut action, mut principal, mut resource, mut context) =
            (false, Last::Absent, Last::Absent, Last::Absent);
        self.open(b'{')?;
        self.object(|s, key| {
            match key {
                Key::Action => {
                    q.action = Cow::Borrowed(s.string_value()?);
                    action = true;
                }
                Key::Principal => {
                    principal = match s.peek()? {
                        b'{' => {
                            let p = q.principal.get_or_insert_with(Default::default);
                            if principal != Last::Absent {
                                *p = PrincipalRef::default();
                            }
                            s.principal(p)?;
                            Last::Object
                        }
                        _ => s.null().map(|()| Last::Null)?,
                    }
                }
                Key::Resource => {
                    resource = match s.peek()? {
                        b'{' => {
                            let r = q.resource.get_or_insert_with(Default::default);
                            if resource != Last::Absent {
                                *r = ResourceRef::default();
                            }
                            s.resource(r)?;
                            Last::Object
                        }
                        _ => s.null().map(|()| Last::Null)?,
                    }
                }
                Key::Context => {
                    context = match s.peek()? {
                        b'{' => {
                            if context != Last::Absent {
                                q.context = AttrsRef::new();
                            }
                            s.open(b'{')?;
                            let c = &mut q.context;
                            s.object(|s, k| {
                                let v = s.attr()?;
                                c.push(Cow::Borrowed(k.name()), v);
                                Some(())
                            })?;
                            Last::Object
                        }
                        _ => s.null().map(|()| Last::Null)?,
                    }
                }
                Key::Kind => {
                    if s.peek()? == b'"' {
                        (s.quoted()? == "authorization").then_some(())?
                    } else {
                        s.null()?
                    }
                }
                _ => return None,
            }
            Some(())
        })?;
        self.ws();
        if self.pos != self.src.len() || !action {
            return None;
        }
        if principal == Last::Null {
            q.principal = None;
        }
        if resource == Last::Null {
            q.resource = None;
        }
        if context == Last::Null {
            q.context = AttrsRef::new();
        }
        Some(())
    }

    /// The principal object's entries (its `{` next).
    fn principal(&mut self, p: &mut PrincipalRef<'a>) -> Option<()> {
        let (mut roles, mut role) = (false, false);
        self.open(b'{')?;
        self.object(|s, key| {
            match key {
                Key::Id => p.id = s.id()?,
                Key::Roles if !role => {
                    roles = true;
                    p.roles = Inline::default();
                    match s.peek()? {
                        b'[' => s.names(&mut p.roles)?,
                        _ => s.null()?,
                    }
                }
                Key::Role if !roles => {
                    role = true;
                    p.roles = match s.peek()? {
                        b'"' => Inline::one(Cow::Borrowed(s.quoted()?)),
                        _ => s.null().map(|()| Inline::default())?,
                    }
                }
                // `role` beside `roles` is an error.
                Key::Roles | Key::Role => return None,
                _ => {
                    let v = s.attr()?;
                    p.attrs.push(Cow::Borrowed(key.name()), v);
                }
            }
            Some(())
        })
    }

    /// The resource object's entries (its `{` next); `type` must be there.
    fn resource(&mut self, r: &mut ResourceRef<'a>) -> Option<()> {
        let mut ty = false;
        self.open(b'{')?;
        self.object(|s, key| {
            match key {
                Key::Type => {
                    r.ty = Cow::Borrowed(s.string_value()?);
                    ty = true;
                }
                Key::Id => r.id = s.id()?,
                _ => {
                    let v = s.attr()?;
                    r.attrs.push(Cow::Borrowed(key.name()), v);
                }
            }
            Some(())
        })?;
        ty.then_some(())
    }

    /// An id: a string or null (empty). A number gives up (rare; the serde path
    /// formats it).
    fn id(&mut self) -> Option<Cow<'a, str>> {
        match self.peek()? {
            b'"' => self.quoted().map(Cow::Borrowed),
            _ => self.null().map(|()| Cow::Borrowed("")),
        }
    }

    /// A list of role names (its `[` next), every element a string.
    fn names(&mut self, out: &mut Inline<Cow<'a, str>>) -> Option<()> {
        self.open(b'[')?;
        if self.list_empty() {
            return Some(());
        }
        loop {
            out.push(Cow::Borrowed(self.string_value()?));
            if self.list_end()? {
                return Some(());
            }
        }
    }

    /// An attribute value: scalars in place, strings borrowed, a list or an object as
    /// an owned JSON value.
    fn attr(&mut self) -> Option<ValueRef<'a>> {
        Some(match self.peek()? {
            b'"' => ValueRef::Str(Cow::Borrowed(self.quoted()?)),
            b'-' | b'0'..=b'9' => ValueRef::Number(match self.number()? {
                Num::Int(m, neg) => {
                    let f = m as f64;
                    if neg {
                        -f
                    } else {
                        f
                    }
                }
                Num::Float(f) => f,
            }),
            b'[' | b'{' => ValueRef::Json(Cow::Owned(self.json()?)),
            _ => match self.literal()? {
                Json::Bool(b) => ValueRef::Bool(b),
                _ => ValueRef::Null,
            },
        })
    }

    /// Any value as an owned JSON value, as serde_json builds it.
    fn json(&mut self) -> Option<Json> {
        Some(match self.peek()? {
            b'"' => Json::String(self.quoted()?.to_owned()),
            b'-' | b'0'..=b'9' => Json::Number(match self.number()? {
                Num::Int(m, false) => Number::from(m),
                // Below 10^15: `m as i64` is exact.
                Num::Int(m, true) => Number::from(-(m as i64)),
                Num::Float(f) => Number::from_f64(f)?,
            }),
            b'{' => {
                self.open(b'{')?;
                let mut m = Map::new();
                self.object(|s, k| {
                    let v = s.json()?;
                    m.insert(k.name().to_owned(), v);
                    Some(())
                })?;
                Json::Object(m)
            }
            b'[' => {
                self.open(b'[')?;
                let mut items = Vec::new();
                if !self.list_empty() {
                    loop {
                        items.push(self.json()?);
                        if self.list_end()? {
                            break;
                        }
                    }
                }
                Json::Array(items)
            }
            _ => self.literal()?,
        })
    }

    /// `true`, `false` or `null`.
    fn literal(&mut self) -> Option<Json> {
        let rest = self.src.get(self.pos..)?;
        let (v, n) = if rest.starts_with(b"true") {
            (Json::Bool(true), 4)
        } else if rest.starts_with(b"false") {
            (Json::Bool(false), 5)
        } else if rest.starts_with(b"null") {
            (Json::Null, 4)
        } else {
            return None;
        };
        self.pos += n;
        Some(v)
    }

    /// `null` (the caller peeked at the value).
    fn null(&mut self) -> Option<()> {
        if self.src.get(self.pos..)?.starts_with(b"null") {
            self.pos += 4;
            Some(())
        } else {
            None
        }
    }

    /// A number in the range of the module's rules (the caller peeked at it).
    fn number(&mut self) -> Option<Num> {
        let b = self.src;
        let mut i = self.pos;
        let neg = b.get(i) == Some(&b'-');
        i += usize::from(neg);
        let (mut m, mut digits) = (0u64, 0u32);
        let mut digit = |i: usize, m: &mut u64| match b.get(i) {
            Some(c @ b'0'..=b'9') => {
                *m = *m * 10 + u64::from(c - b'0');
                digits += 1;
                Some(digits <= 15)
            }
            _ => None,
        };
        match b.get(i)? {
            // One leading zero, never followed by a digit.
            b'0' => {
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                while let Some(ok) = digit(i, &mut m) {
                    ok.then_some(())?;
                    i += 1;
                }
            }
            _ => return None,
        }
        let (mut exp, mut float) = (0i32, false);
        if b.get(i) == Some(&b'.') {
            float = true;
            i += 1;
            let start = i;
            while let Some(ok) = digit(i, &mut m) {
                ok.then_some(())?;
                i += 1;
                exp -= 1;
            }
            if i == start {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            float = true;
            i += 1;
            let eneg = b.get(i) == Some(&b'-');
            i += usize::from(matches!(b.get(i), Some(b'-' | b'+')));
            let (start, mut e) = (i, 0i32);
            while let Some(c @ b'0'..=b'9') = b.get(i) {
                e = e * 10 + i32::from(c - b'0');
                i += 1;
                if i - start > 3 {
                    return None;
                }
            }
            if i == start {
                return None;
            }
            exp += if eneg { -e } else { e };
        }
        self.pos = i;
        if !float {
            return (!neg || m != 0).then_some(Num::Int(m, neg));
        }
        let pow = *POW10.get(exp.unsigned_abs() as usize)?;
        let f = if exp >= 0 {
            m as f64 * pow
        } else {
            m as f64 / pow
        };
        Some(Num::Float(if neg { -f } else { f }))
    }

    /// A string value (the caller may or may not have peeked at it).
    #[inline(always)]
    fn string_value(&mut self) -> Option<&'a str> {
        self.open_string()?;
        self.string()
    }

    /// A string whose `"` is next (the caller peeked at it).
    #[inline(always)]
    fn quoted(&mut self) -> Option<&'a str> {
        self.pos += 1;
        self.string()
    }

    /// `"`, after whitespace.
    #[inline(always)]
    fn open_string(&mut self) -> Option<()> {
        self.ws();
        if self.src.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// The rest of a string (its `"` read), borrowed: gives up on an escape or a
    /// control character (serde_json unescapes the one and refuses the other). Eight
    /// bytes at a time while eight remain (most strings of a request end in the first
    /// eight), then byte by byte.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        let (src, start) = (self.src, self.pos);
        let mut i = start;
        let end = loop {
            match src.get(i..i + 8) {
                Some(chunk) => {
                    let found = special(u64::from_le_bytes(chunk.try_into().ok()?));
                    if found != 0 {
                        break i + (found.trailing_zeros() / 8) as usize;
                    }
                    i += 8;
                }
                None => {
                    let rest = src.get(i..)?;
                    break i + rest.iter().position(|&c| is_special(c))?;
                }
            }
        };
        if src.get(end) != Some(&b'"') {
            return None;
        }
        self.pos = end + 1;
        match self.text {
            Some(text) => text.get(start..end),
            None => std::str::from_utf8(src.get(start..end)?).ok(),
        }
    }

    /// A key (its `"` read): one of the request's own names, matched with its closing
    /// quote as bytes (so that neither a longer key nor an escaped one matches), or any
    /// other name (read as a string).
    #[inline(always)]
    fn key(&mut self) -> Option<Key<'a>> {
        let known = match self.src.get(self.pos)? {
            b'a' => self.word(b"action\"", Key::Action),
            b'p' => self.word(b"principal\"", Key::Principal),
            b'r' => self
                .word(b"resource\"", Key::Resource)
                .or_else(|| self.word(b"roles\"", Key::Roles))
                .or_else(|| self.word(b"role\"", Key::Role)),
            b'c' => self.word(b"context\"", Key::Context),
            b'k' => self.word(b"kind\"", Key::Kind),
            b'i' => self.word(b"id\"", Key::Id),
            b't' => self.word(b"type\"", Key::Type),
            _ => None,
        };
        match known {
            Some(k) => Some(k),
            None => self.string().map(Key::Name),
        }
    }

    /// `key` if the next bytes are `word` (read), else nothing read.
    #[inline(always)]
    fn word<const N: usize>(&mut self, word: &[u8; N], key: Key<'a>) -> Option<Key<'a>> {
        let next = self.src.get(self.pos..self.pos + N)?;
        (next == word).then(|| {
            self.pos += N;
            key
        })
    }

    /// `{` or `[` (the caller peeked at it), one level deeper.
    fn open(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.src.get(self.pos) != Some(&c) || self.depth == MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.depth += 1;
        Some(())
    }

    /// An object's entries (its `{` read by [`Scan::open`]) through `entry` (key, then
    /// the value next), and its `}`.
    fn object(&mut self, mut entry: impl FnMut(&mut Self, Key<'a>) -> Option<()>) -> Option<()> {
        self.ws();
        if self.src.get(self.pos) == Some(&b'}') {
            self.pos += 1;
        } else {
            loop {
                // At the key's `"` (after `{` and whitespace, or after `,` and
                // whitespace, below).
                if self.src.get(self.pos) != Some(&b'"') {
                    return None;
                }
                self.pos += 1;
                let key = self.key()?;
                self.ws();
                if self.src.get(self.pos) != Some(&b':') {
                    return None;
                }
                self.pos += 1;
                entry(self, key)?;
                self.ws();
                match self.src.get(self.pos)? {
                    b',' => {
                        self.pos += 1;
                        self.ws();
                    }
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// At a list's start (its `[` read): `true` and the `]` read (one level up) if it
    /// is empty.
    fn list_empty(&mut self) -> bool {
        self.ws();
        let empty = self.src.get(self.pos) == Some(&b']');
        if empty {
            self.pos += 1;
            self.depth -= 1;
        }
        empty
    }

    /// After a list element: `true` at its `]` (read; one level up), `false` at `,`.
    fn list_end(&mut self) -> Option<bool> {
        self.ws();
        let end = match self.src.get(self.pos)? {
            b',' => false,
            b']' => true,
            _ => return None,
        };
        self.pos += 1;
        self.depth -= u32::from(end);
        Some(end)
    }

    /// The first byte of the next value, after whitespace (not consumed).
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.src.get(self.pos).copied()
    }

    /// JSON whitespace (what serde_json skips: space, tab, newline, carriage return).
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }
}

/// The scanner against the serde path: every text it reads must be read by the serde
/// path too, into the same request (compared by value and by `Debug`, which tells
/// `-0.0` from `0.0` and every float apart), from `&str` and from bytes alike.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
mod tests {
    use super::*;
    use crate::json_text::{read_bytes_serde, read_str_serde};

    /// Whether the scanner read `bytes`; when it did, the serde path agrees.
    fn check_bytes(bytes: &[u8]) -> bool {
        let mut fast = RequestRef::default();
        let read = read_bytes(bytes, &mut fast).is_some();
        if let Ok(text) = std::str::from_utf8(bytes) {
            let mut fast_str = RequestRef::default();
            let read_str = read_str(text, &mut fast_str).is_some();
            assert_eq!(read, read_str, "{text}");
            if read {
                assert_eq!(fast, fast_str, "{text}");
                let mut slow = RequestRef::default();
                assert_eq!(read_str_serde(text, &mut slow), Ok(()), "{text}");
                assert_eq!(fast, slow, "{text}");
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{text}");
            }
        }
        if read {
            let mut slow = RequestRef::default();
            let text = String::from_utf8_lossy(bytes);
            assert_eq!(read_bytes_serde(bytes, &mut slow), Ok(()), "{text}");
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{text}");
        }
        read
    }

    /// Texts the scanner reads: every branch that ends in a request.
    fn read_here() -> Vec<String> {
        let mut texts: Vec<String> = [
            r#"{"action":"doc:read"}"#,
            r#"{"action":"posts:read","context":{"ip":"10.0.0.1","on":true},"principal":{"id":"u1","org":"o1","roles":["editor","viewer"]},"resource":{"id":"p1","meta":{"org":"o1","tags":["a",1,-2,2.5,true,false,null,[],{}]},"readers":[],"type":"post"}}"#,
            " \t\r\n{ \"kind\" : \"authorization\" , \"action\" :\n\"a\" , \"principal\" : { } , \"resource\" : { \"type\" : \"t\" } , \"context\" : { } } \n",
            r#"{"kind":null,"action":"a","principal":null,"resource":null,"context":null}"#,
            r#"{"action":"x","action":"a"}"#,
            r#"{"action":"a","principal":null,"principal":{"id":"u2","role":"viewer"}}"#,
            r#"{"action":"a","principal":{"id":"u2","x":1},"principal":null}"#,
            r#"{"action":"a","principal":{"id":"u1","a":1},"principal":{"b":2}}"#,
            r#"{"action":"a","resource":{"type":"t","a":1},"resource":{"type":"u","id":null}}"#,
            r#"{"action":"a","resource":{"type":"t"},"resource":null}"#,
            r#"{"action":"a","context":{"a":1},"context":{"b":2}}"#,
            r#"{"action":"a","context":{"a":1},"context":null}"#,
            r#"{"action":"a","principal":{"roles":["a"],"roles":["b","c","d","e","f"]}}"#,
            r#"{"action":"a","principal":{"roles":null,"roles":[]}}"#,
            r#"{"action":"a","principal":{"role":"a","role":null}}"#,
            r#"{"action":"a","principal":{"role":null,"role":"b"}}"#,
            r#"{"action":"a","principal":{"id":"u1","id":null,"a":1,"a":2,"b":3,"c":4,"d":5,"e":6}}"#,
            r#"{"action":"a","kind":"authorization","kind":null}"#,
            "{\"action\":\"é\",\"principal\":{\"id\":\"ünï\",\"cödé\":\"日本語\",\"x\":\"\u{7f}\"}}",
            r#"{"action":"a","context":{"n":[0,1,-1,123456789012345,-123456789012345,0.5,-0.0,0.0,1e22,1E-22,1e+5,1.5e-7,12.34e2,1e007,100e-2]}}"#,
            r#"{"action":"a","context":{"a":0,"b":-7,"c":123456789012345,"d":0.1,"e":-0.0,"f":1e22,"g":1e-22,"h":2.5E+3,"i":999999999999999}}"#,
            r#"{"action":"a","context":{"o":{"k":1,"k":[2],"j":{"x":null}},"l":[[[]],[{}]]}}"#,
            r#"{"action":"a","principal":{"id":"u1","roles":[]},"resource":{"type":"t","id":"r","readers":["u1"],"level":3,"frozen":false}}"#,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Nesting: the request object, `context`, then lists up to the limit.
        let deep = (MAX_DEPTH - 2) as usize;
        texts.push(format!(
            r#"{{"action":"a","context":{{"d":{}1{}}}}}"#,
            "[".repeat(deep),
            "]".repeat(deep)
        ));
        texts
    }

    /// Texts the scanner leaves to the serde path: every give-up.
    fn left_to_serde() -> Vec<String> {
        let mut texts: Vec<String> = [
            "",
            "null",
            "[]",
            "\u{feff}{\"action\":\"a\"}",
            r#"{"action":"a"} x"#,
            r#"{"action":"a"}{}"#,
            r#"{"action":"a",}"#,
            r#"{"action" "a"}"#,
            r#"{"action":"a" "b":1}"#,
            r#"{}"#,
            r#"{"action":3}"#,
            r#"{"action":3,"action":"a"}"#,
            r#"{"action":"a","zzz":1}"#,
            r#"{"action":"a","method":"GET"}"#,
            r#"{"action":"a","kind":"http"}"#,
            r#"{"action":"a","kind":1}"#,
            r#"{"action":"a","principal":3}"#,
            r#"{"action":"a","principal":nul}"#,
            r#"{"action":"a","resource":[]}"#,
            r#"{"action":"a","resource":{"id":"x"}}"#,
            r#"{"action":"a","resource":{"type":null}}"#,
            r#"{"action":"a","context":[]}"#,
            r#"{"action":"a","principal":{"id":1}}"#,
            r#"{"action":"a","principal":{"id":true}}"#,
            r#"{"action":"a","principal":{"role":"a","roles":["b"]}}"#,
            r#"{"action":"a","principal":{"roles":null,"role":null}}"#,
            r#"{"action":"a","principal":{"roles":"a"}}"#,
            r#"{"action":"a","principal":{"roles":["a",1]}}"#,
            r#"{"action":"a","principal":{"role":3}}"#,
            r#"{"action":"a\u0062"}"#,
            r#"{"act\"ion":"a"}"#,
            "{\"action\":\"a\u{1}b\"}",
            r#"{"action":"a","context":{"n":1234567890123456}}"#,
            r#"{"action":"a","context":{"n":0.1234567890123456}}"#,
            r#"{"action":"a","context":{"n":1e23}}"#,
            r#"{"action":"a","context":{"n":1e-23}}"#,
            r#"{"action":"a","context":{"n":1e0001}}"#,
            r#"{"action":"a","context":{"n":-0}}"#,
            r#"{"action":"a","context":{"n":[-0]}}"#,
            r#"{"action":"a","context":{"n":01}}"#,
            r#"{"action":"a","context":{"n":1.}}"#,
            r#"{"action":"a","context":{"n":.5}}"#,
            r#"{"action":"a","context":{"n":1e}}"#,
            r#"{"action":"a","context":{"n":-}}"#,
            r#"{"action":"a","context":{"n":+1}}"#,
            r#"{"action":"a","context":{"n":tru}}"#,
            r#"{"action":"a","context":{"n":[1,]}}"#,
            r#"{"action":"a","context":{"n":[1 2]}}"#,
            r#"{"action":"a","context":{"n":{"a":1,}}}"#,
            r#"{"action":"a","context":{"n":{"a" 1}}}"#,
            r#"{"action":"a","context":{"n":{1:1}}}"#,
            r#"{"action":"a","context":{"n":x}}"#,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let deep = (MAX_DEPTH - 1) as usize;
        texts.push(format!(
            r#"{{"action":"a","context":{{"d":{}1{}}}}}"#,
            "[".repeat(deep),
            "]".repeat(deep)
        ));
        texts
    }

    /// Eight bytes at a time finds the first special byte wherever it is, whatever
    /// the bytes around it (above it: anything, special or not).
    #[test]
    fn eight_bytes_at_a_time_find_the_first_special_byte() {
        let mut seed = 0x1234_5678_9abc_def1_u64;
        for at in 0..8 {
            for c in 0..=255u8 {
                for _ in 0..16 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let mut b = seed.to_le_bytes();
                    for x in &mut b[..at] {
                        if is_special(*x) {
                            *x |= 0x40;
                        }
                    }
                    b[at] = c;
                    let first = b.iter().position(|&x| is_special(x));
                    let found = special(u64::from_le_bytes(b));
                    let got = (found != 0).then(|| (found.trailing_zeros() / 8) as usize);
                    assert_eq!(got, first, "{b:?}");
                }
            }
        }
    }

    #[test]
    fn the_scanner_reads_what_it_should_and_leaves_the_rest() {
        for text in read_here() {
            assert!(check_bytes(text.as_bytes()), "not read: {text}");
        }
        for text in left_to_serde() {
            assert!(!check_bytes(text.as_bytes()), "read: {text}");
        }
        for bytes in [
            &b"{\"action\":\"a\xff\"}"[..],
            b"{\"action\":\"a\",\"context\":{\"\xc3\":1}}",
            b"{\"action\":\"a\"}\xff",
        ] {
            assert!(!check_bytes(bytes));
        }
    }

    /// Every prefix, every byte replaced by each of a few bytes or deleted, and random
    /// multi-byte mutations of the texts above: whatever the scanner reads, the serde
    /// path reads alike (both outcomes frequent).
    #[test]
    fn truncated_and_mutated_texts_read_alike() {
        const SWAPS: &[u8] = b"\"\\{}[]:, 0-.eEn1t\x01\x7f\xff\xc3";
        let (mut read, mut left) = (0u32, 0u32);
        let mut count = |r: bool| if r { read += 1 } else { left += 1 };
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for text in read_here().into_iter().chain(left_to_serde()) {
            let b = text.as_bytes();
            for cut in 0..b.len() {
                count(check_bytes(&b[..cut]));
                let mut m = b.to_vec();
                m.remove(cut);
                count(check_bytes(&m));
                for &c in SWAPS {
                    let mut m = b.to_vec();
                    m[cut] = c;
                    count(check_bytes(&m));
                }
            }
            for _ in 0..400 {
                let mut m = b.to_vec();
                for _ in 0..1 + next() % 3 {
                    if m.is_empty() {
                        break;
                    }
                    let at = (next() % m.len() as u64) as usize;
                    let c = SWAPS[(next() % SWAPS.len() as u64) as usize];
                    match next() % 3 {
                        0 => m[at] = c,
                        1 => m.insert(at, c),
                        _ => drop(m.remove(at)),
                    }
                }
                count(check_bytes(&m));
            }
        }
        eprintln!("{read} read by the scanner, {left} left to serde");
        assert!(read > 2_000 && left > 20_000, "{read} read, {left} left");
    }
}
