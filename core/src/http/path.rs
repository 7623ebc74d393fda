//! Request-path normalisation: one canonical path per resource, so that no spelling of a
//! protected path (`/api/%61dmin`, `/api//admin`, `/x/../api/admin`, `/API/ADMIN`) can
//! match fewer routes than the plain one. The rules are listed in docs/LANGUAGE.md.

use std::fmt;

/// A normalised request target: decoded, dot-segments resolved, no empty segments, no
/// trailing slash; the query is kept apart, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormPath<'r> {
    /// Starts with `/`; `/` alone for the root. Case as received.
    pub path: String,
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
    let target = target.split('#').next().unwrap_or_default();
    let (raw, query) = target.split_once('?').unwrap_or((target, ""));
    if !raw.starts_with('/') && !raw.starts_with('\\') {
        return Err(PathError::NotAbsolute);
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
    Ok(NormPath { path, query })
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
        normalise(t).map(|n| (n.path, n.query.to_owned()))
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
    fn decoding_happens_once() {
        // `%252F` is a literal `%2F` after one decode, inside one segment.
        assert_eq!(path("/a%252Fb"), "/a%2Fb");
        assert_eq!(path("/caf%C3%A9"), "/café");
    }
}
