//! The route table: a segment trie over route patterns that returns every pattern
//! matching a normalised path, most specific first.
//!
//! Literal segments match ASCII-case-insensitively; `:name` matches one segment; `**`
//! (last segment only) matches zero or more segments. Specificity compares patterns
//! segment by segment from the left: a literal beats `:name`, which beats the end of a
//! pattern, which beats `**`. Ties (same shape) keep insertion order.

use crate::compile::FxMap;
use std::cmp::Ordering;

const LIT: u8 = 3;
const PARAM: u8 = 2;
const END: u8 = 1;
const GLOB: u8 = 0;

#[derive(Debug, Default)]
struct Node {
    lit: FxMap<usize>,
    param: Option<usize>,
    /// Patterns ending here with `**`.
    glob: Vec<u32>,
    /// Patterns ending exactly here.
    end: Vec<u32>,
}

/// A compiled set of patterns (`/api/**`, `/users/:id`, `/`), identified by their index.
#[derive(Debug, Default)]
pub struct Router {
    nodes: Vec<Node>,
    ranks: Vec<Box<[u8]>>,
}

impl Router {
    /// Build from patterns as the checker accepts them (leading `/`, no empty segments).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Router {
        let mut r = Router {
            nodes: vec![Node::default()],
            ranks: Vec::with_capacity(patterns.len()),
        };
        for (i, p) in patterns.iter().enumerate() {
            r.insert(i as u32, p.as_ref());
        }
        r
    }

    fn insert(&mut self, id: u32, pattern: &str) {
        let mut at = 0usize;
        let mut ranks = Vec::new();
        for seg in pattern.split('/').filter(|s| !s.is_empty()) {
            if seg == "**" {
                ranks.push(GLOB);
                if let Some(n) = self.nodes.get_mut(at) {
                    n.glob.push(id);
                }
                self.ranks.push(ranks.into());
                return;
            }
            let next = self.nodes.len();
            let Some(node) = self.nodes.get_mut(at) else {
                return;
            };
            let child = if seg.starts_with(':') {
                ranks.push(PARAM);
                *node.param.get_or_insert(next)
            } else {
                ranks.push(LIT);
                *node
                    .lit
                    .entry(seg.to_ascii_lowercase().into_boxed_str())
                    .or_insert(next)
            };
            if child == next {
                self.nodes.push(Node::default());
            }
            at = child;
        }
        if let Some(n) = self.nodes.get_mut(at) {
            n.end.push(id);
        }
        self.ranks.push(ranks.into());
    }

    /// Every pattern matching `path` (normalised: `/`-separated, no empty segments),
    /// most specific first.
    pub fn matching(&self, path: &str) -> Vec<u32> {
        let mut out = Vec::new();
        self.matching_into(path, &mut out);
        out
    }

    /// [`Router::matching`] into a reused buffer (cleared first).
    pub fn matching_into(&self, path: &str, out: &mut Vec<u32>) {
        out.clear();
        self.walk(0, path.trim_start_matches('/'), out);
        out.sort_by(|&a, &b| self.cmp(a, b));
    }

    fn walk(&self, at: usize, rest: &str, out: &mut Vec<u32>) {
        let Some(node) = self.nodes.get(at) else {
            return;
        };
        out.extend_from_slice(&node.glob);
        if rest.is_empty() {
            out.extend_from_slice(&node.end);
            return;
        }
        let (seg, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(&c) = lookup(&node.lit, seg) {
            self.walk(c, tail, out);
        }
        if let Some(c) = node.param {
            self.walk(c, tail, out);
        }
    }

    /// `Less` when `a` is more specific than `b`.
    fn cmp(&self, a: u32, b: u32) -> Ordering {
        let (ra, rb) = (self.rank(a), self.rank(b));
        let n = ra.len().max(rb.len());
        for i in 0..n {
            let x = ra.get(i).copied().unwrap_or(END);
            let y = rb.get(i).copied().unwrap_or(END);
            if x != y {
                return y.cmp(&x);
            }
        }
        a.cmp(&b)
    }

    fn rank(&self, id: u32) -> &[u8] {
        self.ranks.get(id as usize).map_or(&[], |r| r)
    }
}

/// Case-insensitive lookup without allocating for the common all-lower-case segment.
fn lookup<'m>(map: &'m FxMap<usize>, seg: &str) -> Option<&'m usize> {
    if seg.bytes().any(|b| b.is_ascii_uppercase()) {
        map.get(seg.to_ascii_lowercase().as_str())
    } else {
        map.get(seg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_first() {
        let r = Router::new(&["/api/**", "/api/admin/**", "/api/:id", "/api/users", "/**"]);
        assert_eq!(r.matching("/api/users"), vec![3, 2, 0, 4]);
        assert_eq!(r.matching("/api/admin"), vec![1, 2, 0, 4]);
        assert_eq!(r.matching("/API/Admin/x"), vec![1, 0, 4]);
        assert_eq!(r.matching("/"), vec![4]);
        assert_eq!(r.matching("/other"), vec![4]);
    }

    #[test]
    fn glob_matches_zero_segments_and_root_pattern_matches_root_only() {
        let r = Router::new(&["/", "/a/**"]);
        assert_eq!(r.matching("/"), vec![0]);
        assert_eq!(r.matching("/a"), vec![1]);
        assert_eq!(r.matching("/a/b/c"), vec![1]);
        assert!(r.matching("/b").is_empty());
    }
}
