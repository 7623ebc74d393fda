//! The route trie agrees with a naive matcher: try every pattern, keep the matching
//! ones, order them by the documented specificity (segment by segment: literal,
//! `:param`, end of pattern, `**`; ties by declaration order).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use proptest::prelude::*;
use std::cmp::Ordering;
use warden::http::Router;

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Lit(String),
    Param,
    Glob,
}

fn parse(p: &str) -> Vec<Seg> {
    p.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "**" => Seg::Glob,
            s if s.starts_with(':') => Seg::Param,
            s => Seg::Lit(s.to_ascii_lowercase()),
        })
        .collect()
}

fn matches(pat: &[Seg], path: &[String]) -> bool {
    match (pat.first(), path.first()) {
        (None, None) => true,
        (Some(Seg::Glob), _) => true,
        (Some(Seg::Lit(l)), Some(s)) => {
            *l == s.to_ascii_lowercase() && matches(&pat[1..], &path[1..])
        }
        (Some(Seg::Param), Some(_)) => matches(&pat[1..], &path[1..]),
        _ => false,
    }
}

fn rank(s: Option<&Seg>) -> u8 {
    match s {
        Some(Seg::Lit(_)) => 3,
        Some(Seg::Param) => 2,
        None => 1,
        Some(Seg::Glob) => 0,
    }
}

/// `Less`: `a` is more specific.
fn specificity(a: &[Seg], b: &[Seg]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (rank(a.get(i)), rank(b.get(i)));
        if x != y {
            return y.cmp(&x);
        }
    }
    Ordering::Equal
}

fn naive(patterns: &[String], path: &str) -> Vec<u32> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let parsed: Vec<Vec<Seg>> = patterns.iter().map(|p| parse(p)).collect();
    let mut out: Vec<u32> = (0..patterns.len() as u32)
        .filter(|&i| matches(&parsed[i as usize], &segs))
        .collect();
    out.sort_by(|&a, &b| specificity(&parsed[a as usize], &parsed[b as usize]).then(a.cmp(&b)));
    out
}

fn lit() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["api", "API", "admin", "Admin", "users", "docs", "x"])
        .prop_map(str::to_owned)
}

fn pattern() -> impl Strategy<Value = String> {
    let seg = prop_oneof![
        4 => lit(),
        1 => Just(":id".to_owned()),
    ];
    (prop::collection::vec(seg, 0..4), any::<bool>()).prop_map(|(segs, glob)| {
        let mut p = String::new();
        for s in segs {
            p.push('/');
            p.push_str(&s);
        }
        if glob {
            p.push_str("/**");
        }
        if p.is_empty() {
            p.push('/');
        }
        p
    })
}

fn path() -> impl Strategy<Value = String> {
    let seg = prop_oneof![4 => lit(), 1 => Just("42".to_owned())];
    prop::collection::vec(seg, 0..5).prop_map(|segs| {
        if segs.is_empty() {
            "/".to_owned()
        } else {
            segs.iter().map(|s| format!("/{s}")).collect()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn trie_agrees_with_naive_matcher(
        patterns in prop::collection::vec(pattern(), 1..12),
        paths in prop::collection::vec(path(), 1..8),
    ) {
        let router = Router::new(&patterns);
        for p in &paths {
            prop_assert_eq!(router.matching(p), naive(&patterns, p), "path {} patterns {:?}", p, patterns);
        }
    }
}

#[test]
fn naive_matcher_sanity() {
    let pats: Vec<String> = ["/api/**", "/api/admin/**", "/"]
        .map(str::to_owned)
        .to_vec();
    assert_eq!(naive(&pats, "/API/admin"), vec![1, 0]);
    assert_eq!(naive(&pats, "/"), vec![2]);
}
