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
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
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

/// A number read by [`Scan::number`].
enum Num {
    /// An integer: its magnitude and whether it is negative (never `-0`).
    Int(u64, bool),
    /// A number with a fraction or an exponent.
    Float(f64),
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
                "action" => {
                    q.action = Cow::Borrowed(s.string_value()?);
                    action = true;
                }
                "principal" => {
                    principal = match s.peek()? {
                        b'{' => {
                            let p = q.principal.get_or_insert_with(Default::default);
                            *p = PrincipalRef::default();
                            s.principal(p)?;
                            Last::Object
                        }
                        _ => s.null().map(|()| Last::Null)?,
                    }
                }
                "resource" => {
                    resource = match s.peek()? {
                        b'{' => {
                            let r = q.resource.get_or_insert_with(Default::default);
                            *r = ResourceRef::default();
                            s.resource(r)?;
                            Last::Object
                        }
                        _ => s.null().map(|()| Last::Null)?,
                    }
                }
                "context" => {
                    context = match s.peek()? {
                        b'{' => {
                            q.context = AttrsRef::new();
                            s.open(b'{')?;
                            let c = &mut q.context;
                            s.object(|s, k| {
                                let v = s.attr()?;
                                c.push(Cow::Borrowed(k), v);
                                Some(())
                            })?;
                            Last::Object
                        }
                        _ => s.null().map(|()| Last::Null)?,
                    }
                }
                "kind" => {
                    if s.peek()? == b'"' {
                        (s.string_value()? == "authorization").then_some(())?
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
                "id" => p.id = s.id()?,
                "roles" if !role => {
                    roles = true;
                    p.roles = Inline::default();
                    match s.peek()? {
                        b'[' => s.names(&mut p.roles)?,
                        _ => s.null()?,
                    }
                }
                "role" if !roles => {
                    role = true;
                    p.roles = match s.peek()? {
                        b'"' => Inline::one(Cow::Borrowed(s.string_value()?)),
                        _ => s.null().map(|()| Inline::default())?,
                    }
                }
                // `role` beside `roles` is an error.
                "roles" | "role" => return None,
                _ => {
                    let v = s.attr()?;
                    p.attrs.push(Cow::Borrowed(key), v);
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
                "type" => {
                    r.ty = Cow::Borrowed(s.string_value()?);
                    ty = true;
                }
                "id" => r.id = s.id()?,
                _ => {
                    let v = s.attr()?;
                    r.attrs.push(Cow::Borrowed(key), v);
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
            b'"' => self.string_value().map(Cow::Borrowed),
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
            b'"' => ValueRef::Str(Cow::Borrowed(self.string_value()?)),
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
            b'"' => Json::String(self.string_value()?.to_owned()),
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
                    m.insert(k.to_owned(), v);
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
        let f = if exp >= 0 { m as f64 * pow } else { m as f64 / pow };
        Some(Num::Float(if neg { -f } else { f }))
    }

    /// A string value (the caller may or may not have peeked at it).
    fn string_value(&mut self) -> Option<&'a str> {
        self.open_string()?;
        self.string()
    }

    /// `"`, after whitespace.
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
    /// control character (serde_json unescapes the one and refuses the other).
    fn string(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let rest = self.src.get(start..)?;
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        match self.text {
            Some(text) => text.get(start..start + len),
            None => std::str::from_utf8(&rest[..len]).ok(),
        }
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
    fn object(&mut self, mut entry: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.ws();
        if self.src.get(self.pos) == Some(&b'}') {
            self.pos += 1;
        } else {
            loop {
                let key = self.string_value()?;
                self.ws();
                if self.src.get(self.pos) != Some(&b':') {
                    return None;
                }
                self.pos += 1;
                entry(self, key)?;
                self.ws();
                match self.src.get(self.pos)? {
                    b',' => self.pos += 1,
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
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.src.get(self.pos).copied()
    }

    /// JSON whitespace (what serde_json skips: space, tab, newline, carriage return).
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }
}
