//! Static route relations: which patterns cover which, and so which routes are
//! ancestors of a route for every path it matches (LANGUAGE.md, Matching).

use warden_lang::ast::{RouteDecl, RoutePattern, RouteStmt};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg<'a> {
    Lit(&'a str),
    Param,
    Rest,
}

fn segments(pattern: &str) -> Vec<Seg<'_>> {
    pattern
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "**" => Seg::Rest,
            s if s.starts_with(':') => Seg::Param,
            s => Seg::Lit(s),
        })
        .collect()
}

/// Whether every path that `inner` matches is matched by `outer`.
pub(crate) fn pattern_covers(outer: &str, inner: &str) -> bool {
    covers(&segments(outer), &segments(inner))
}

fn covers(a: &[Seg<'_>], b: &[Seg<'_>]) -> bool {
    match (a.first(), b.first()) {
        (Some(Seg::Rest), _) => true,
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(_), Some(Seg::Rest)) => false,
        (Some(Seg::Param), Some(_)) => covers(&a[1..], &b[1..]),
        (Some(Seg::Lit(x)), Some(Seg::Lit(y))) => {
            x.eq_ignore_ascii_case(y) && covers(&a[1..], &b[1..])
        }
        (Some(Seg::Lit(_)), Some(Seg::Param)) => false,
    }
}

/// Whether every method `inner` matches is matched by `outer` (no methods: all; `GET`
/// also matches `HEAD`).
pub(crate) fn methods_cover(outer: &RouteDecl, inner: &RouteDecl) -> bool {
    if outer.methods.is_empty() {
        return true;
    }
    if inner.methods.is_empty() {
        return false;
    }
    inner.methods.iter().all(|m| {
        outer.methods.iter().any(|o| {
            o.name.eq_ignore_ascii_case(&m.name)
                || (m.name.eq_ignore_ascii_case("HEAD") && o.name.eq_ignore_ascii_case("GET"))
        })
    })
}

/// The routes (other than `route`) matching every request that `pattern` of `route`
/// matches: its ancestors on all of that pattern's paths.
pub(crate) fn ancestors<'a>(
    routes: &[&'a RouteDecl],
    route: &RouteDecl,
    pattern: &RoutePattern,
) -> Vec<&'a RouteDecl> {
    routes
        .iter()
        .copied()
        .filter(|r| !std::ptr::eq(*r, route))
        .filter(|r| methods_cover(r, route))
        .filter(|r| {
            r.patterns
                .iter()
                .any(|p| pattern_covers(&p.text, &pattern.text))
        })
        .collect()
}

/// The limit names that count requests of `route` on `pattern`'s paths: its own, and
/// its ancestors' unless it says `limit ... only`.
pub(crate) fn effective_limits<'a>(
    routes: &[&'a RouteDecl],
    route: &'a RouteDecl,
    pattern: &RoutePattern,
) -> Vec<&'a str> {
    let mut names = own_limits(route);
    let only = route
        .body
        .iter()
        .any(|s| matches!(s, RouteStmt::LimitOnly(..)));
    if !only {
        for a in ancestors(routes, route, pattern) {
            names.extend(own_limits(a));
        }
    }
    names
}

fn own_limits(route: &RouteDecl) -> Vec<&str> {
    route
        .body
        .iter()
        .flat_map(|s| match s {
            RouteStmt::Limit(names, _) | RouteStmt::LimitOnly(names, _) => names.as_slice(),
            _ => &[],
        })
        .map(|n| n.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pattern_covers;

    #[test]
    fn coverage() {
        assert!(pattern_covers("/**", "/"));
        assert!(pattern_covers("/api/**", "/api/auth/login"));
        assert!(pattern_covers("/api/**", "/api"));
        assert!(pattern_covers("/API/**", "/api/x"));
        assert!(pattern_covers("/api/:id", "/api/users"));
        assert!(pattern_covers("/api/:id/**", "/api/x/**"));
        assert!(!pattern_covers("/api/users", "/api/:id"));
        assert!(!pattern_covers("/api/x", "/api/x/**"));
        assert!(!pattern_covers("/api/**", "/**"));
        assert!(!pattern_covers("/", "/a"));
        assert!(!pattern_covers("/app/**", "/api/x"));
    }
}
