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
    // A fragment never reaches a server; if a client sends one, it is not part of the path.
    // Byte searches: `#` and `?` are ASCII, so their positions are char boundaries.
    let target = match target.bytes().position(|b| b == b'#') {
        Some(i) => target.get(..i).unwrap_or_default(),
        None => target,
    };
    let (raw, query) = match target.bytes().position(|b| b == b'?') {
        Some(i) => (
            target.get(..i).unwrap_or_default(),
            target.get(i + 1..).unwrap_or_default(),
        ),
        None => (target, ""),
    };
    if !raw.starts_with('/') && !raw.starts_with('\\') {
        return Err(PathError::NotAbsolute);
    }
    if is_canonical(raw) {
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

/// Already what [`normalise`] would produce: nothing to decode, no separator other than
/// single `/`, no dot-segment, no trailing slash, no control character. One pass over
/// the bytes: this runs on every request.
fn is_canonical(raw: &str) -> bool {
    if raw == "/" {
        return true;
    }
    let b = raw.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    let mut non_ascii = false;
    let mut seg_start = 1;
    for i in 1..=b.len() {
        match b.get(i) {
            None | Some(b'/') => {
                if matches!(b.get(seg_start..i), Some(b"" | b"." | b"..") | None) {
                    return false;
                }
                seg_start = i + 1;
            }
            Some(b'%' | b'\\') => return false,
            Some(&c) if c < 0x20 || c == 0x7f => return false,
            Some(&c) => non_ascii |= c >= 0x80,
        }
    }
    // C1 controls (U+0080..U+009F) are only reachable through multi-byte characters.
    !non_ascii || !raw.chars().any(char::is_control)
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
