//! Request-path canonicalisation, under the path rule (docs/ARCHITECTURE.md,
//! Architecture invariants): for every spelling of a path, either the route the engine
//! matches is the route the host's router dispatches, or the request is refused (400)
//! before any handler runs.
//!
//! Routers disagree on dot segments, empty segments, backslashes, encoded separators
//! and escapes (Express 5 and axum match the raw path and keep `..` as a segment,
//! Starlette matches the decoded path, proxies resolve `..`). Resolving such a spelling
//! here would give the engine its own picture of the request; so every spelling that
//! some router reads differently is refused instead, and only spellings all of them
//! read alike are matched. Case and the remaining escapes are settled by the router
//! (see [`NormPath::exact_check`]). The rules are listed in docs/LANGUAGE.md.

use std::borrow::Cow;
use std::fmt;

/// A canonical request target: decoded, no trailing slash; the query is kept apart, as
/// received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormPath<'r> {
    /// Starts with `/`; `/` alone for the root. Case as received. Borrowed from the
    /// request when it is already canonical (the common case).
    pub path: Cow<'r, str>,
    /// The path as received, without its trailing slash: what Express and axum match.
    pub raw: &'r str,
    /// The query without its `?`, undecoded; empty when absent.
    pub query: &'r str,
    /// Whether the path holds an ASCII upper-case letter or a percent-escape: then a
    /// case-sensitive router matching the raw path (axum) could dispatch another route
    /// than the engine's case-insensitive match on the decoded path (Express's case
    /// rule, Starlette's decoding), and the engine checks that both agree.
    pub exact_check: bool,
}

/// Why a path is refused (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// The target does not start with `/`.
    NotAbsolute,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8 (this includes overlong encodings).
    NotUtf8,
    /// A NUL or other control character, raw or decoded.
    ControlChar,
    /// `%2F` or `%5C`: an encoded separator means different paths to different servers.
    EncodedSeparator,
    /// A raw `\`: some servers take it for `/`, others for a character.
    Backslash,
    /// A `.` or `..` segment, raw or encoded: proxies resolve it, routers do not.
    DotSegment,
    /// An empty segment (`//`) other than one trailing slash: some servers merge it.
    EmptySegment,
    /// An escape of a character that never needs one (`%61`, `%2D`, `%7E`): routers
    /// that match the raw path and routers that match the decoded path disagree on it.
    NeedlessEscape,
    /// Case or percent-encoding that a case-sensitive or raw-path router would route
    /// to another route than the engine matched.
    Ambiguous,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl PathError {
    /// Why the path is refused, as the decision's reason says it.
    pub fn text(&self) -> &'static str {
        match self {
            PathError::NotAbsolute => "the request path must start with `/`",
            PathError::BadEscape => "the request path has an invalid percent-encoding",
            PathError::NotUtf8 => "the request path does not decode to UTF-8",
            PathError::ControlChar => "the request path contains a control character",
            PathError::EncodedSeparator => {
                "the request path contains an encoded `/` or `\\` (%2F, %5C)"
            }
            PathError::Backslash => "the request path contains a `\\`",
            PathError::DotSegment => "the request path contains a `.` or `..` segment",
            PathError::EmptySegment => "the request path contains an empty segment (`//`)",
            PathError::NeedlessEscape => {
                "the request path percent-encodes a character that needs no encoding"
            }
            PathError::Ambiguous => {
                "the request path's case or percent-encoding could route it elsewhere"
            }
        }
    }
}

/// Canonicalise a request target (`/path?query`), or refuse it.
pub fn normalise(target: &str) -> Result<NormPath<'_>, PathError> {
    // One pass finds where the path ends and whether it is already canonical.
    let s = scan(target.as_bytes());
    // `?` and `#` are ASCII, so `end` and `end + 1` are char boundaries.
    let raw = target.get(..s.end).unwrap_or_default();
    let query = match target.as_bytes().get(s.end) {
        // A fragment never reaches a server; if a client sends one, it is not part of
        // the path, nor of the query.
        Some(b'?') => {
            let q = target.get(s.end + 1..).unwrap_or_default();
            match q.bytes().position(|b| b == b'#') {
                Some(i) => q.get(..i).unwrap_or_default(),
                None => q,
            }
        }
        _ => "",
    };
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    // C1 controls (U+0080..U+009F) are only reachable through multi-byte characters.
    let canonical = s.canonical && !(s.non_ascii && raw.chars().any(char::is_control));
    if canonical {
        return Ok(NormPath {
            path: Cow::Borrowed(raw),
            raw,
            query,
            exact_check: s.upper,
        });
    }
    // One trailing slash is dropped: Express routes `/a/` as `/a` (axum and Starlette
    // dispatch no handler for it, they answer 404 or redirect).
    let trimmed = match raw.strip_suffix('/') {
        Some(t) if !t.is_empty() && !t.ends_with('/') => t,
        _ => raw,
    };
    let mut path = String::with_capacity(trimmed.len());
    let mut escaped = false;
    if trimmed != "/" {
        for seg in trimmed.split('/').skip(1) {
            let d = decode_segment(seg)?;
            escaped |= d.escaped;
            // `..;x` is `..` to Tomcat and Jetty: refused with the plain dot segments.
            let head = d.text.split(';').next().unwrap_or_default();
            if head == "." || head == ".." {
                return Err(PathError::DotSegment);
            }
            if d.text.is_empty() {
                return Err(PathError::EmptySegment);
            }
            if d.needless {
                return Err(PathError::NeedlessEscape);
            }
            let decoded = d.text;
            path.push('/');
            path.push_str(&decoded);
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    Ok(NormPath {
        path: Cow::Owned(path),
        raw: trimmed,
        query,
        exact_check: s.upper || escaped,
    })
}

/// How [`scan`] treats a byte of the target.
const PLAIN: u8 = 0;
const SLASH: u8 = 1;
/// `?` or `#`: the path ends.
const STOP: u8 = 2;
/// `%`, `\\`, `;` or a control character: the path needs the slow route (or is
/// refused). `;` because `..;x` is a dot segment to some servers.
const SLOW: u8 = 3;
/// Part of a multi-byte character.
const HIGH: u8 = 4;
/// An ASCII upper-case letter: routers disagree on case.
const UPPER: u8 = 5;

static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'/' => SLASH,
            b'?' | b'#' => STOP,
            b'%' | b'\\' | b';' | 0x00..=0x1f | 0x7f => SLOW,
            b'A'..=b'Z' => UPPER,
            0x80..=0xff => HIGH,
            _ => PLAIN,
        };
        i += 1;
    }
    t
};

/// What [`scan`] found.
struct Scan {
    /// The length of the path part (up to `?` or `#`).
    end: usize,
    /// Whether that path is already what [`normalise`] would produce: nothing to
    /// decode, no `\`, no empty or dot segment, no trailing slash, no control character.
    canonical: bool,
    /// Whether there are bytes beyond ASCII (C1 controls are left to the caller).
    non_ascii: bool,
    /// Whether there is an ASCII upper-case letter.
    upper: bool,
}

/// One pass over the bytes with a table lookup each: this runs on every request.
fn scan(b: &[u8]) -> Scan {
    let mut canonical = b.first() == Some(&b'/');
    let mut non_ascii = false;
    let mut upper = false;
    let mut seg_start = 1;
    let mut i = 1;
    // Whether `b[seg_start..i]` is an empty or dot segment.
    let dot_or_empty =
        |seg_start: usize, i: usize| matches!(b.get(seg_start..i), Some(b"" | b"." | b".."));
    // One loop, one table lookup per byte: plain bytes fall through the first arm.
    while let Some(&c) = b.get(i) {
        match CLASS[usize::from(c)] {
            PLAIN => {}
            SLASH => {
                // Only a segment of at most two bytes can be empty or a dot segment.
                if i - seg_start <= 2 {
                    canonical &= !dot_or_empty(seg_start, i);
                }
                seg_start = i + 1;
            }
            STOP => break,
            HIGH => non_ascii = true,
            UPPER => upper = true,
            _ => canonical = false,
        }
        i += 1;
    }
    let end = i.min(b.len());
    // The root alone is canonical; any other path ending in an empty or dot segment is
    // not.
    if end > 1 {
        canonical &= !dot_or_empty(seg_start, end);
    }
    Scan {
        end,
        canonical,
        non_ascii,
        upper,
    }
}

/// A segment decoded once.
struct Decoded {
    text: String,
    /// Whether it held a percent-escape.
    escaped: bool,
    /// Whether one of them escaped an unreserved character (`%61`).
    needless: bool,
}

/// Percent-decode one segment once. Escapes of `/` and `\` are refused rather than
/// decoded: treating them as separators or as data would each disagree with some server
/// behind us; so is a raw `\`.
fn decode_segment(raw: &str) -> Result<Decoded, PathError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let (mut escaped, mut needless) = (false, false);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
            let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) else {
                return Err(PathError::BadEscape);
            };
            let d = (h * 16 + l) as u8;
            if d == b'/' || d == b'\\' {
                return Err(PathError::EncodedSeparator);
            }
            escaped = true;
            needless |= d.is_ascii_alphanumeric() || matches!(d, b'-' | b'.' | b'_' | b'~');
            out.push(d);
            i += 3;
        } else {
            if b == b'\\' {
                return Err(PathError::Backslash);
            }
            out.push(b);
            i += 1;
        }
    }
    let text = String::from_utf8(out).map_err(|_| PathError::NotUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(PathError::ControlChar);
    }
    Ok(Decoded {
        text,
        escaped,
        needless,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(t: &str) -> Result<(String, String), PathError> {
        normalise(t).map(|n| (n.path.into_owned(), n.query.to_owned()))
    }

    fn path(t: &str) -> String {
        norm(t)
            .map(|(p, _)| p)
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn spellings_every_router_reads_alike_are_matched() {
        for t in [
            "/api/admin",
            "/api/admin/",
            "/api/admin#frag",
            "/api/admin?x=1",
        ] {
            assert_eq!(path(t), "/api/admin", "{t}");
        }
        // Case is kept; the router folds it (and checks the fold changes nothing).
        assert_eq!(path("/API/ADMIN"), "/API/ADMIN");
        assert_eq!(path("/"), "/");
        // `;` is a character of the segment, as Express, Starlette and axum read it.
        assert_eq!(path("/api/admin;x=1"), "/api/admin;x=1");
        assert_eq!(path("/a/...;b"), "/a/...;b");
        // Escapes of characters that need one are decoded once.
        assert_eq!(path("/users/a%40b.com"), "/users/a@b.com");
        assert_eq!(path("/caf%C3%A9"), "/café");
        assert_eq!(path("/a%252Fb"), "/a%2Fb");
    }

    #[test]
    fn spellings_routers_read_differently_are_refused() {
        use PathError::*;
        for (t, want) in [
            ("/api/admin/..", DotSegment),
            ("/api/admin/x/../..", DotSegment),
            ("/api/admin/.", DotSegment),
            ("/api/./admin", DotSegment),
            ("/../etc/passwd", DotSegment),
            ("/api/admin/%2e%2e", DotSegment),
            ("/api/admin/%2E%2E", DotSegment),
            ("/api/admin/.%2E", DotSegment),
            ("/api/admin/%2e.", DotSegment),
            ("/api/admin/%2e", DotSegment),
            ("/api/admin/..;x", DotSegment),
            ("/api/admin/.;x", DotSegment),
            ("/..", DotSegment),
            ("/api//admin", EmptySegment),
            ("//api/admin", EmptySegment),
            ("//", EmptySegment),
            ("/api/admin//", EmptySegment),
            ("/api\\admin", Backslash),
            ("\\api\\admin", NotAbsolute),
            ("/api%2Fadmin", EncodedSeparator),
            ("/api%2fadmin", EncodedSeparator),
            ("/api%5cadmin", EncodedSeparator),
            ("/api/%61dmin", NeedlessEscape),
            ("/api/admi%6E", NeedlessEscape),
            ("/api/%7Eadmin", NeedlessEscape),
            ("/api/admin%00", ControlChar),
            ("/a%0d%0aSet-Cookie:x", ControlChar),
            ("/a\tb", ControlChar),
            ("/a\u{85}b", ControlChar),
            ("/a%C2%85b", ControlChar),
            ("/a%zz", BadEscape),
            ("/a%4", BadEscape),
            ("/a%ff", NotUtf8),
            // Overlong UTF-8 for `.` and `/`.
            ("/api/%C0%AE%C0%AE", NotUtf8),
            ("/api%C0%AFadmin", NotUtf8),
            ("api/admin", NotAbsolute),
        ] {
            assert_eq!(norm(t), Err(want), "{t}");
        }
    }

    #[test]
    fn exact_check_is_asked_for_case_and_escapes_only() {
        let check = |t: &str| normalise(t).map(|n| n.exact_check);
        assert_eq!(check("/api/admin"), Ok(false));
        assert_eq!(check("/api/admin;x"), Ok(false));
        assert_eq!(check("/api/Admin"), Ok(true));
        assert_eq!(check("/users/a%40b"), Ok(true));
        assert_eq!(normalise("/a/B/").map(|n| n.raw), Ok("/a/B"));
        assert_eq!(normalise("/a%40b/").map(|n| n.raw), Ok("/a%40b"));
    }

    #[test]
    fn query_is_kept_apart_and_undecoded() {
        assert_eq!(norm("/b?x=%2F&y=1"), Ok(("/b".into(), "x=%2F&y=1".into())));
        assert_eq!(norm("/b?x=/../.."), Ok(("/b".into(), "x=/../..".into())));
        assert_eq!(norm("/b?"), Ok(("/b".into(), String::new())));
        assert_eq!(norm("/b?x=1#f"), Ok(("/b".into(), "x=1".into())));
        assert_eq!(norm("/b#f?x=1"), Ok(("/b".into(), String::new())));
        assert_eq!(norm("/?x"), Ok(("/".into(), "x".into())));
        assert_eq!(norm("?/b"), Err(PathError::NotAbsolute));
        assert_eq!(norm("#/b"), Err(PathError::NotAbsolute));
        assert_eq!(norm(""), Err(PathError::NotAbsolute));
    }

    #[test]
    fn canonical_paths_are_borrowed() {
        assert!(matches!(
            normalise("/api/Admin?x").map(|n| n.path),
            Ok(Cow::Borrowed("/api/Admin"))
        ));
        assert!(matches!(
            normalise("/").map(|n| n.path),
            Ok(Cow::Borrowed("/"))
        ));
        for t in ["/a/", "/%40", "/a;b"] {
            assert!(
                matches!(normalise(t).map(|n| n.path), Ok(Cow::Owned(_))),
                "{t}"
            );
        }
    }
}
