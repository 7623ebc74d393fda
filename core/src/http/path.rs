//! Request-path normalisation: one canonical path per resource, so that no spelling of a
//! protected path (`/api/%61dmin`, `/api//admin`, `/x/../api/admin`, `/API/ADMIN`) can
//! match fewer routes than the plain one. The rules are listed in docs/LANGUAGE.md.

use std::borrow::Cow;
use std::fmt;

/// A normalised request target: decoded, dot-segments resolved, no empty segments, no
/// trailing slash; the query is kept apart, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormPath<'r> {
    /// Starts with `/`; `/` alone for the root. Case as received. Borrowed from the
    /// request when it is already canonical (the common case).
    pub path: Cow<'r, str>,
    /// The query without its `?`, undecoded; empty when absent.
    pub query: &'r str,
}

/// Why a path is refused (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// The target does not start with `/`.
    NotAbsolute,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
    /// A NUL or other control character, raw or decoded.
    ControlChar,
    /// `%2F` or `%5C`: an encoded separator means different paths to different servers.
    EncodedSeparator,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::NotAbsolute => "the request path must start with `/`",
            PathError::BadEscape => "the request path has an invalid percent-encoding",
            PathError::NotUtf8 => "the request path does not decode to UTF-8",
            PathError::ControlChar => "the request path contains a control character",
            PathError::EncodedSeparator => {
                "the request path contains an encoded `/` or `\\` (%2F, %5C)"
            }
        })
    }
}

/// Normalise a request target (`/path?query`).
pub fn normalise(target: &str) -> Result<NormPath<'_>, PathError> {
    // One pass finds where the path ends and whether it is already canonical.
    let (end, canonical, non_ascii) = scan(target.as_bytes());
    // `?` and `#` are ASCII, so `end` and `end + 1` are char boundaries.
    let raw = target.get(..end).unwrap_or_default();
    // C1 controls (U+0080..U+009F) are only reachable through multi-byte characters.
    let canonical = canonical && !(non_ascii && raw.chars().any(char::is_control));
    let query = match target.as_bytes().get(end) {
        // A fragment never reaches a server; if a client sends one, it is not part of
        // the path, nor of the query.
        Some(b'?') => {
            let q = target.get(end + 1..).unwrap_or_default();
            match q.bytes().position(|b| b == b'#') {
                Some(i) => q.get(..i).unwrap_or_default(),
                None => q,
            }
        }
        _ => "",
    };
    if !raw.starts_with('/') && !raw.starts_with('\\') {
        return Err(PathError::NotAbsolute);
    }
    if canonical {
        return Ok(NormPath {
            path: Cow::Borrowed(raw),
            query,
        });
    }
    let decoded = decode(raw)?;
    let mut segments: Vec<&str> = Vec::new();
    // Backslashes separate segments: IIS and browsers (for http URLs) treat them as `/`.
    for seg in decoded.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut path = String::with_capacity(decoded.len().max(1));
    for s in &segments {
        path.push('/');
        path.push_str(s);
    }
    if path.is_empty() {
        path.push('/');
    }
    Ok(NormPath {
        path: Cow::Owned(path),
        query,
    })
}

/// How [`scan`] treats a byte of the target.
const PLAIN: u8 = 0;
const SLASH: u8 = 1;
/// `?` or `#`: the path ends.
const STOP: u8 = 2;
/// `%`, `\\` or a control character: the path needs the slow route (or is refused).
const SLOW: u8 = 3;
/// Part of a multi-byte character.
const HIGH: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'/' => SLASH,
            b'?' | b'#' => STOP,
            b'%' | b'\\' | 0x00..=0x1f | 0x7f => SLOW,
            0x80..=0xff => HIGH,
            _ => PLAIN,
        };
        i += 1;
    }
    t
};

/// The length of the path part of `target` (up to `?` or `#`), and whether that path is
/// already what [`normalise`] would produce: nothing to decode, no separator other than
/// single `/`, no dot-segment, no trailing slash, no control character. One pass over
/// the bytes with a table lookup each: this runs on every request. C1 controls are left
/// to the caller, which is told whether there are bytes beyond ASCII at all.
fn scan(b: &[u8]) -> (usize, bool, bool) {
    let mut canonical = b.first() == Some(&b'/');
    let mut non_ascii = false;
    let mut seg_start = 1;
    let mut i = 1;
    // Whether `b[seg_start..i]` is an empty or dot segment.
    let dot_or_empty =
        |seg_start: usize, i: usize| matches!(b.get(seg_start..i), Some(b"" | b"." | b".."));
    loop {
        // Runs of plain bytes in a tight loop of their own; the `match` below (a jump
        // table) runs only for the few special bytes.
        let run = b.get(i..).map_or(0, |rest| {
            rest.iter()
                .position(|&c| CLASS[usize::from(c)] != PLAIN)
                .unwrap_or(rest.len())
        });
        i += run;
        let Some(&c) = b.get(i) else { break };
        match CLASS[usize::from(c)] {
            SLASH => {
                canonical &= !dot_or_empty(seg_start, i);
                seg_start = i + 1;
            }
            STOP => break,
            HIGH => non_ascii = true,
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
    (end, canonical, non_ascii)
}

/// Percent-decode once. Escapes of `/` and `\` are refused rather than decoded: treating
/// them as separators or as data would each disagree with some server behind us.
fn decode(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
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
            out.push(d);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let s = String::from_utf8(out).map_err(|_| PathError::NotUtf8)?;
    if s.chars().any(char::is_control) {
        return Err(PathError::ControlChar);
    }
    Ok(s)
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
    fn bypass_spellings_normalise_to_the_plain_path() {
        for t in [
            "/api/admin",
            "/api/%61dmin",
            "/api//admin",
            "/api/./admin",
            "/x/../api/admin",
            "/api/admin/",
            "/api/admin/.",
            "//api///admin//",
            "/api/%2e/admin",
            "/api/x/%2E%2E/admin",
            "\\api\\admin",
            "/api/admin#frag",
        ] {
            assert_eq!(path(t), "/api/admin", "{t}");
        }
        // Case is kept; the router folds it.
        assert_eq!(path("/API/ADMIN"), "/API/ADMIN");
    }

    #[test]
    fn dot_dot_never_climbs_above_the_root() {
        assert_eq!(path("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(path("/.."), "/");
        assert_eq!(path("/"), "/");
        assert_eq!(path("/a/b/../../.."), "/");
    }

    #[test]
    fn query_is_kept_apart_and_undecoded() {
        assert_eq!(
            norm("/a/../b?x=%2F&y=1"),
            Ok(("/b".into(), "x=%2F&y=1".into()))
        );
        assert_eq!(norm("/b?"), Ok(("/b".into(), String::new())));
        assert_eq!(norm("/b?x=1#f"), Ok(("/b".into(), "x=1".into())));
        assert_eq!(norm("/b#f?x=1"), Ok(("/b".into(), String::new())));
        assert_eq!(norm("/?x"), Ok(("/".into(), "x".into())));
        assert_eq!(norm("?/b"), Err(PathError::NotAbsolute));
        assert_eq!(norm("#/b"), Err(PathError::NotAbsolute));
        assert_eq!(norm(""), Err(PathError::NotAbsolute));
    }

    #[test]
    fn bad_paths_are_refused() {
        assert_eq!(norm("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(norm("/a%4"), Err(PathError::BadEscape));
        assert_eq!(norm("/a%00b"), Err(PathError::ControlChar));
        assert_eq!(norm("/a%0d%0aSet-Cookie:x"), Err(PathError::ControlChar));
        assert_eq!(norm("/a\tb"), Err(PathError::ControlChar));
        assert_eq!(norm("/a%ff"), Err(PathError::NotUtf8));
        assert_eq!(norm("/api%2Fadmin"), Err(PathError::EncodedSeparator));
        assert_eq!(norm("/api%5cadmin"), Err(PathError::EncodedSeparator));
        assert_eq!(norm("api/admin"), Err(PathError::NotAbsolute));
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
        for t in ["/a/", "/a//b", "/a/./b", "/a/..", "/%61", "/a\\b"] {
            assert!(
                matches!(normalise(t).map(|n| n.path), Ok(Cow::Owned(_)) | Err(_)),
                "{t}"
            );
        }
    }

    #[test]
    fn decoding_happens_once() {
        // `%252F` is a literal `%2F` after one decode, inside one segment.
        assert_eq!(path("/a%252Fb"), "/a%2Fb");
        assert_eq!(path("/caf%C3%A9"), "/café");
    }
}
