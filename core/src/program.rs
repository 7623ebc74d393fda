//! Lowered programs: what a condition, a requirement or a key becomes at load, and
//! the constants folded into it. Data only; `lower.rs` builds these, `eval.rs` runs them.

use crate::secret::Secret;
use regex::Regex;
use std::sync::OnceLock;
use warden_lang::ast::{BinOp, Root};

/// A constant of a lowered program.
#[derive(Debug, Clone)]
pub(crate) enum Konst {
    Missing,
    Bool(bool),
    Num(f64),
    Str(Box<str>),
    Secret(Secret),
    Role(u32),
    List(Box<[Konst]>),
}

/// How a loaded attribute is read: as its JSON value, or as a role (name -> id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    Plain,
    /// Declared `role`: a string naming a declared role, else missing.
    Role,
    /// Declared `set<role>`: a list of declared role names, else missing.
    RoleSet,
    /// A field of the `input { }` shape declared `string`, `number`, `bool` or
    /// `set<T>`: a value of another kind is missing. Input is what the client sent
    /// (a form or query `name[]=...` arrives as a list), so `input.title.len <= 64`
    /// must not count the elements of a one-element list holding a long string.
    Input(InputKind),
}

/// The kind a declared `input` field must hold to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    Str,
    Num,
    Bool,
    List,
}

/// A lowered condition. Children are boxed; evaluation recurses on the Rust stack and
/// never allocates except for run-time string concatenation.
#[derive(Debug)]
pub(crate) enum Node {
    Const(Konst),
    /// `root.a.b`: read from the request. `path` is never empty.
    Load {
        root: Root,
        path: Box<[Box<str>]>,
        hint: Hint,
    },
    /// Bare `principal`: the principal's role set (missing when anonymous).
    Principal,
    /// `header NAME` (name lower-case): missing outside HTTP requests.
    Header(Box<str>),
    /// `cookie NAME` (name as written: cookie names are case-sensitive).
    Cookie(Box<str>),
    /// `ip`: the client address as text; missing outside HTTP requests.
    Ip,
    List(Box<[Node]>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Coalesce(Box<Node>, Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Matches(Box<Node>, Box<LazyRegex>),
    Is(Box<Node>, u32),
    Len(Box<Node>),
    /// `name(args)`: a script function, checked to exist at load.
    Call(Box<str>, Box<[Node]>),
    /// `x.is_int`
    IsInt(Box<Node>),
    /// `now`: the request's time in seconds (see `forms::now`).
    Now,
    /// `if c then a else b`
    IfElse(Box<Node>, Box<Node>, Box<Node>),
    /// `header_safe(text, max)`; `max` checked to be 1..=8192 at load.
    HeaderSafe(Box<Node>, usize),
    /// `lower(text)`
    Lower(Box<Node>),
    /// `principal is ROLE in ORG`: role id and the organization.
    IsIn(u32, Box<Node>),
}

impl Node {
    /// The node's operands, in order. The one place that knows every variant's
    /// shape, so a walker over programs (what a rule reads, whether it reads `now`,
    /// what the data filter sees) cannot miss a node added later.
    pub(crate) fn children(&self) -> impl Iterator<Item = &Node> {
        let none: [Option<&Node>; 3] = [None; 3];
        let (items, operands): (&[Node], [Option<&Node>; 3]) = match self {
            Node::Const(_)
            | Node::Load { .. }
            | Node::Principal
            | Node::Header(_)
            | Node::Cookie(_)
            | Node::Ip
            | Node::Now => (&[], none),
            Node::List(items) | Node::Call(_, items) => (items, none),
            Node::Not(a)
            | Node::Len(a)
            | Node::Matches(a, _)
            | Node::Is(a, _)
            | Node::IsInt(a)
            | Node::HeaderSafe(a, _)
            | Node::Lower(a)
            | Node::IsIn(_, a) => (&[], [Some(a), None, None]),
            Node::And(a, b) | Node::Or(a, b) | Node::Coalesce(a, b) | Node::Bin(_, a, b) => {
                (&[], [Some(a), Some(b), None])
            }
            Node::IfElse(a, b, c) => (&[], [Some(a), Some(b), Some(c)]),
        };
        items.iter().chain(operands.into_iter().flatten())
    }
}

/// An attribute path as a rule reads it: `resource.owner.id` is `(Resource, [owner, id])`.
pub(crate) type AttrPath = (Root, Box<[Box<str>]>);

/// A `matches` pattern, built on its first match rather than at load: a fresh
/// process's load of a small policy spent a sixth of its work building its regexes,
/// which a host that never checks the requests using them never needs. The load
/// still refuses a pattern that would not build (`warden_lang::validate_regex`, whose
/// proof that a pattern builds is held to the build by its tests).
#[derive(Debug)]
pub(crate) struct LazyRegex {
    pattern: Box<str>,
    size_limit: usize,
    built: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// `pattern`, shown by `warden_lang::validate_regex` to build at `size_limit`.
    pub fn new(pattern: &str, size_limit: usize) -> LazyRegex {
        LazyRegex {
            pattern: pattern.into(),
            size_limit,
            built: OnceLock::new(),
        }
    }

    /// The compiled pattern (built by the first caller, from the process's cache
    /// when another load built it already). `None` only if the build failed after
    /// validation said it would not, which its tests rule out; a match then reads
    /// as missing, as on a value that is not a string, never as a panic.
    pub fn get(&self) -> Option<&Regex> {
        self.built
            .get_or_init(|| warden_lang::compile_regex(&self.pattern, self.size_limit).ok())
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::LazyRegex;

    #[test]
    fn built_on_first_use_as_the_build_would_be() {
        let lazy = LazyRegex::new("^[A-Za-z0-9_/-]{1,64}$", 1 << 20);
        assert!(lazy.built.get().is_none(), "nothing built at construction");
        let re = lazy.get().map(|r| r.as_str().to_owned());
        assert_eq!(re.as_deref(), Some("^[A-Za-z0-9_/-]{1,64}$"));
        assert!(lazy.get().is_some_and(|r| r.is_match("docs/a_b-1")));
        assert!(lazy.get().is_some_and(|r| !r.is_match("docs/../x")));
    }

    #[test]
    fn a_pattern_that_does_not_build_reads_as_none() {
        // Validation refuses these at load; were one to get here, it must not panic.
        assert!(LazyRegex::new("(unclosed", 1 << 20).get().is_none());
        assert!(LazyRegex::new("^[a-z]{1,64}$", 100).get().is_none());
    }
}

/// A rule condition of the shape most policies write (attributes compared for
/// equality, `principal is ROLE`, joined by `and`, `or`, `not`), compiled at load to
/// direct reads: `fast::eval` decides it without the general evaluator's dispatch and
/// without matching attribute names against `id` and `type` per request. It gives the
/// value `eval::eval` gives the rule's [`Node`], or says it cannot (`principal is`
/// without the role masks), and the rule is evaluated as before.
#[derive(Debug)]
pub(crate) enum Fast {
    /// `a == b` (`eq`) or `a != b`.
    Cmp {
        eq: bool,
        a: Field,
        b: Field,
    },
    /// `principal is ROLE`.
    Is(u32),
    Not(Box<Fast>),
    And(Box<Fast>, Box<Fast>),
    Or(Box<Fast>, Box<Fast>),
}

/// A one-name read of the request, its name resolved at load.
#[derive(Debug)]
pub(crate) enum Field {
    PrincipalId,
    /// A principal attribute (never `id`, `roles` or `role`, which are not attributes).
    Principal(Box<str>),
    ResourceId,
    ResourceType,
    /// A resource attribute (never `id` or `type`).
    Resource(Box<str>),
    Context(Box<str>),
}

impl Fast {
    /// The fast form of a condition, when every part of it has one.
    pub(crate) fn of(node: &Node) -> Option<Fast> {
        Some(match node {
            Node::Bin(op @ (BinOp::Eq | BinOp::Ne), a, b) => Fast::Cmp {
                eq: *op == BinOp::Eq,
                a: Field::of(a)?,
                b: Field::of(b)?,
            },
            Node::Is(a, role) if matches!(**a, Node::Principal) => Fast::Is(*role),
            Node::Not(a) => Fast::Not(Box::new(Fast::of(a)?)),
            Node::And(a, b) => Fast::And(Box::new(Fast::of(a)?), Box::new(Fast::of(b)?)),
            Node::Or(a, b) => Fast::Or(Box::new(Fast::of(a)?), Box::new(Fast::of(b)?)),
            _ => return None,
        })
    }
}

impl Field {
    /// A plain read of one name under `principal`, `resource` or `context`.
    fn of(node: &Node) -> Option<Field> {
        let Node::Load {
            root,
            path,
            hint: Hint::Plain,
        } = node
        else {
            return None;
        };
        let [name] = &**path else { return None };
        Some(match (root, &**name) {
            (Root::Principal, "id") => Field::PrincipalId,
            // Roles are a role set, and `role` is the JSON spelling of one: not strings.
            (Root::Principal, "roles" | "role") => return None,
            (Root::Principal, n) => Field::Principal(n.into()),
            (Root::Resource, "id") => Field::ResourceId,
            (Root::Resource, "type") => Field::ResourceType,
            (Root::Resource, n) => Field::Resource(n.into()),
            (Root::Context, n) => Field::Context(n.into()),
            _ => return None,
        })
    }
}
