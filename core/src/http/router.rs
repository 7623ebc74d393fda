//! The route table: a segment trie over route patterns that returns every pattern
//! matching a normalised path, most specific first.
//!
//! Literal segments match ASCII-case-insensitively; `:name` matches one segment; `**`
//! (last segment only) matches zero or more segments. Specificity compares patterns
//! segment by segment from the left: a literal beats `:name`, which beats the end of a
//! pattern, which beats `**`. Ties (same shape) keep insertion order.

use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Literal children past which a node looks a segment up by hash instead of comparing
/// it with each (a length check settles most comparisons, so a short list is cheaper).
const FEW: usize = 8;

/// A node's literal children, lower-case, compared ASCII-case-insensitively.
#[derive(Debug, Default)]
struct Lits {
    list: Vec<(Box<str>, usize)>,
    /// For a long list: the positions in `list` of the literals of each [`fold`] (more
    /// than one only on a 64-bit collision). Kept up to date while patterns are
    /// inserted, so that building a node of n literals costs O(n), and a segment that
    /// matches none costs one lookup, not a scan.
    table: Option<HashMap<u64, SmallVec<[u32; 1]>, BuildHasherDefault<Folded>>>,
}

impl Lits {
    #[inline]
    fn child(&self, seg: &[u8]) -> Option<usize> {
        // `l` is lower-case already: fold only the segment. A loop, not `==`: segments
        // are a few bytes, and a `memcmp` call costs more than comparing them.
        let same = |(l, c): &(Box<str>, usize)| {
            let l = l.as_bytes();
            (l.len() == seg.len() && l.iter().zip(seg).all(|(a, b)| *a == b.to_ascii_lowercase()))
                .then_some(*c)
        };
        match &self.table {
            Some(t) => t
                .get(&fold(seg))?
                .iter()
                .find_map(|&i| self.list.get(i as usize).and_then(same)),
            None => self.list.iter().find_map(same),
        }
    }

    fn insert(&mut self, seg: &str, next: usize) -> usize {
        if let Some(c) = self.child(seg.as_bytes()) {
            return c;
        }
        let at = self.list.len() as u32;
        self.list.push((seg.to_ascii_lowercase().into(), next));
        match &mut self.table {
            Some(t) => t.entry(fold(seg.as_bytes())).or_default().push(at),
            None if self.list.len() > FEW => {
                let mut t: HashMap<u64, SmallVec<[u32; 1]>, _> = HashMap::default();
                for (i, (l, _)) in self.list.iter().enumerate() {
                    t.entry(fold(l.as_bytes())).or_default().push(i as u32);
                }
                self.table = Some(t);
            }
            None => {}
        }
        next
    }
}

#[derive(Debug, Default)]
struct Node {
    lit: Lits,
    param: Option<usize>,
    /// Patterns ending here with `**`.
    glob: Vec<u32>,
    /// Patterns ending exactly here.
    end: Vec<u32>,
    /// The spellings of the literal segment that leads here, as the patterns write
    /// them (one, unless patterns differ in case): for [`Router::matching_exact`].
    spelled: Vec<Box<str>>,
}

/// A compiled set of patterns (`/api/**`, `/users/:id`, `/`), identified by their index.
#[derive(Debug, Default)]
pub struct Router {
    nodes: Vec<Node>,
}

impl Router {
    /// Build from patterns as the checker accepts them (leading `/`, no empty segments).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Router {
        let mut r = Router {
            nodes: vec![Node::default()],
        };
        for (i, p) in patterns.iter().enumerate() {
            r.insert(i as u32, p.as_ref());
        }
        r
    }

    fn insert(&mut self, id: u32, pattern: &str) {
        let mut at = 0usize;
        for seg in pattern.split('/').filter(|s| !s.is_empty()) {
            if seg == "**" {
                if let Some(n) = self.nodes.get_mut(at) {
                    n.glob.push(id);
                }
                return;
            }
            let next = self.nodes.len();
            let Some(node) = self.nodes.get_mut(at) else {
                return;
            };
            let literal = !seg.starts_with(':');
            let child = if literal {
                node.lit.insert(seg, next)
            } else {
                *node.param.get_or_insert(next)
            };
            if child == next {
                self.nodes.push(Node::default());
            }
            if let Some(n) = self.nodes.get_mut(child).filter(|_| literal) {
                if !n.spelled.iter().any(|s| **s == *seg) {
                    n.spelled.push(seg.into());
                }
            }
            at = child;
        }
        if let Some(n) = self.nodes.get_mut(at) {
            n.end.push(id);
        }
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
        self.walk(0, path.trim_start_matches('/').as_bytes(), out);
    }

    /// [`Router::matching`] into inline storage: no allocation for a few matches.
    pub(crate) fn matching_inline<A: smallvec::Array<Item = u32>>(
        &self,
        path: &str,
        out: &mut SmallVec<A>,
    ) {
        out.clear();
        self.walk(0, path.trim_start_matches('/').as_bytes(), out);
    }

    /// [`Router::matching`] as a router that compares literal segments case-sensitively
    /// and byte for byte would see `raw` (the path as received: a segment holding a
    /// percent-escape then matches no literal, since patterns hold none). The engine
    /// refuses a request when this and its own match disagree (the path rule).
    pub(crate) fn matching_exact<A: smallvec::Array<Item = u32>>(
        &self,
        raw: &str,
        out: &mut SmallVec<A>,
    ) {
        out.clear();
        self.walk_exact(0, raw.trim_start_matches('/').as_bytes(), out);
    }

    fn walk_exact(&self, at: usize, rest: &[u8], out: &mut impl Sink) {
        let Some(node) = self.nodes.get(at) else {
            return;
        };
        if rest.is_empty() {
            out.push_all(&node.end);
            out.push_all(&node.glob);
            return;
        }
        let (seg, tail) = split_segment(rest);
        let exact = node.lit.child(seg).filter(|&c| {
            self.nodes
                .get(c)
                .is_some_and(|n| n.spelled.iter().any(|s| s.as_bytes() == seg))
        });
        if let Some(c) = exact {
            self.walk_exact(c, tail, out);
        }
        if let Some(c) = node.param {
            self.walk_exact(c, tail, out);
        }
        out.push_all(&node.glob);
    }

    /// Depth first, in specificity order, so the result needs no sort: at one node a
    /// literal child beats the `:param` child, which beats a pattern ending here (only
    /// when the path ends here, where no child can match), which beats `**`. Two
    /// matching patterns agree rank for rank until the node where they part, so this
    /// order at every node is the documented order overall; patterns of one shape end
    /// in the same list, in insertion order.
    ///
    /// Bytes rather than `str`: segments are split at the ASCII `/` and compared byte
    /// for byte, so no slicing needs a char-boundary check.
    fn walk(&self, at: usize, rest: &[u8], out: &mut impl Sink) {
        let Some(node) = self.nodes.get(at) else {
            return;
        };
        if rest.is_empty() {
            out.push_all(&node.end);
            out.push_all(&node.glob);
            return;
        }
        let (seg, tail) = split_segment(rest);
        if !node.lit.list.is_empty() {
            if let Some(c) = node.lit.child(seg) {
                self.walk(c, tail, out);
            }
        }
        if let Some(c) = node.param {
            self.walk(c, tail, out);
        }
        out.push_all(&node.glob);
    }
}

/// The first segment of `rest` and what follows its `/`.
#[inline]
fn split_segment(rest: &[u8]) -> (&[u8], &[u8]) {
    match rest.iter().position(|&b| b == b'/') {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i + 1..).unwrap_or_default(),
        ),
        None => (rest, &[][..]),
    }
}

/// Where the walk appends matches: a reused `Vec` or inline storage.
trait Sink {
    fn push_all(&mut self, ids: &[u32]);
}

impl Sink for Vec<u32> {
    fn push_all(&mut self, ids: &[u32]) {
        self.extend_from_slice(ids);
    }
}

impl<A: smallvec::Array<Item = u32>> Sink for SmallVec<A> {
    fn push_all(&mut self, ids: &[u32]) {
        // Most nodes end no pattern: `extend_from_slice` costs a reserve even then.
        for &id in ids {
            self.push(id);
        }
    }
}

/// FxHash of the ASCII-lower-cased bytes: a segment's table key whatever its case,
/// without lower-casing a copy. Not keyed: the tables are fixed at load, so no client
/// can grow a bucket.
fn fold(seg: &[u8]) -> u64 {
    seg.iter().fold(0, |h, &b| fold_step(h, b))
}

#[inline]
fn fold_step(h: u64, b: u8) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    (h.rotate_left(5) ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(K)
}

/// The table's hasher: its keys are [`fold`]s already.
#[derive(Debug, Default, Clone, Copy)]
struct Folded(u64);

impl Hasher for Folded {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, h: u64) {
        self.0 = h;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach this hasher; fold anything else rather than panic.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
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
    fn literals_match_in_any_case_in_short_and_long_lists() {
        let mut patterns: Vec<String> = (0..20).map(|i| format!("/api/r{i}/Items")).collect();
        patterns.push("/api/R7/admin".into());
        let r = Router::new(&patterns);
        assert_eq!(r.matching("/API/r7/ITEMS"), vec![7]);
        assert_eq!(r.matching("/api/r7/Admin"), vec![20]);
        assert_eq!(r.matching("/api/R19/items"), vec![19]);
        assert!(r.matching("/api/r77/items").is_empty());
        assert!(r.matching("/api/r7/item").is_empty());
    }

    #[test]
    fn glob_matches_zero_segments_and_root_pattern_matches_root_only() {
        let r = Router::new(&["/", "/a/**"]);
        assert_eq!(r.matching("/"), vec![0]);
        assert_eq!(r.matching("/a"), vec![1]);
        assert_eq!(r.matching("/a/b/c"), vec![1]);
        assert!(r.matching("/b").is_empty());
    }

    #[test]
    fn exact_matching_is_case_sensitive_and_takes_escaped_segments_for_parameters() {
        let r = Router::new(&["/api/admin/**", "/api/:id", "/API/Docs", "/**"]);
        let exact = |p: &str| {
            let mut out: SmallVec<[u32; 8]> = SmallVec::new();
            r.matching_exact(p, &mut out);
            out.into_vec()
        };
        assert_eq!(exact("/api/admin"), r.matching("/api/admin"));
        // `/API/Docs` makes `API` a spelling of the first segment's node.
        assert_eq!(exact("/Api/admin"), vec![3]);
        assert_eq!(exact("/API/admin"), vec![0, 1, 3]);
        assert_eq!(exact("/API/Docs"), vec![2, 1, 3]);
        assert_eq!(exact("/api/Docs"), vec![2, 1, 3]);
        assert_eq!(exact("/api/%61dmin"), vec![1, 3]);
    }

    #[test]
    fn long_lists_find_hits_in_any_case_and_misses() {
        let patterns: Vec<String> = (0..50_000).map(|i| format!("/r{i}/x")).collect();
        let r = Router::new(&patterns);
        assert_eq!(r.matching("/r49999/x"), vec![49_999]);
        assert_eq!(r.matching("/R123/X"), vec![123]);
        assert!(r.matching("/r50000/x").is_empty());
    }
}
