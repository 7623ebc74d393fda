//! The policy's action vocabulary: which actions it declares, for "did you mean".
//!
//! An action exists for a policy when something can permit it: a grant, or an `allow`
//! rule. Both name actions as exact names (`pages:read`) or patterns (`pages:*`, `*`).
//! A `deny` rule, a test or a caller naming an action outside that vocabulary is almost
//! a typo when a declared name is one edit away (`pages:raed`), and a typo in a deny
//! rule is a silent hole: the rule never applies. The checker, `warden test` and the
//! language server ask this module.

use crate::ast::{ActionKind, Effect, Item, Policy};

/// The actions a policy declares: by its grants and `allow` rules.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Exact names, in source order, without repeats: the "did you mean" candidates.
    exact: Vec<String>,
    /// Namespaces declared whole (`ns:*`).
    namespaces: Vec<String>,
    /// Whether some grant or allow rule names `*`.
    any: bool,
}

impl Vocabulary {
    /// The vocabulary of a parsed policy: its grants' and `allow` rules' actions.
    pub fn of(policy: &Policy) -> Self {
        Self::collect(policy, true)
    }

    /// The actions its grants name, without the rules'.
    pub fn of_grants(policy: &Policy) -> Self {
        Self::collect(policy, false)
    }

    fn collect(policy: &Policy, with_allow_rules: bool) -> Self {
        let mut v = Vocabulary::default();
        for item in &policy.items {
            let actions = match item {
                Item::Grant(g) => &g.actions,
                Item::Rule(r) if with_allow_rules && r.effect == Effect::Allow => &r.actions,
                _ => continue,
            };
            for a in actions {
                match &a.kind {
                    ActionKind::Any => v.any = true,
                    ActionKind::Namespace(ns) => {
                        if !v.namespaces.contains(ns) {
                            v.namespaces.push(ns.clone());
                        }
                    }
                    ActionKind::Exact(name) => {
                        if !v.exact.contains(name) {
                            v.exact.push(name.clone());
                        }
                    }
                }
            }
        }
        v
    }

    /// Whether the policy permits nothing at all (no grant, no allow rule).
    pub fn is_empty(&self) -> bool {
        !self.any && self.exact.is_empty() && self.namespaces.is_empty()
    }

    /// Whether a grant or allow rule can permit this concrete action.
    pub fn declares(&self, action: &str) -> bool {
        self.any
            || self.exact.iter().any(|a| a == action)
            || self.namespaces.iter().any(|ns| in_namespace(ns, action))
    }

    /// Whether a pattern written in a `deny` rule can meet a permitted action.
    pub fn meets(&self, pattern: &ActionKind) -> bool {
        match pattern {
            ActionKind::Any => true,
            ActionKind::Exact(a) => self.declares(a),
            ActionKind::Namespace(ns) => {
                self.any
                    || self.exact.iter().any(|a| in_namespace(ns, a))
                    // `a:*` declared covers `a:b:*`; `a:b:*` declared meets a deny of `a:*`.
                    || self
                        .namespaces
                        .iter()
                        .any(|n| n == ns || in_namespace(ns, n) || in_namespace(n, ns))
            }
        }
    }

    /// The exact action names, in source order: completion items.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.exact.iter().map(String::as_str)
    }

    /// The declared action closest to `action`, within a typo's distance.
    pub fn suggest(&self, action: &str) -> Option<&str> {
        closest(action, self.names())
    }

    /// The declared namespace closest to `ns` (`pgaes` -> `pages`).
    pub fn suggest_namespace(&self, ns: &str) -> Option<&str> {
        let mut spaces: Vec<&str> = self.namespaces.iter().map(String::as_str).collect();
        for a in &self.exact {
            if let Some((n, _)) = a.rsplit_once(':') {
                if !spaces.contains(&n) {
                    spaces.push(n);
                }
            }
        }
        closest(ns, spaces)
    }

    /// Help for an undeclared action: "did you mean", else how to declare it.
    pub fn help(&self, action: &str) -> String {
        match self.suggest(action) {
            Some(c) => format!("did you mean `{c}`?"),
            None if self.exact.is_empty() && self.namespaces.is_empty() => {
                "the policy grants no action yet: add `grant ROLE: ACTION`".to_string()
            }
            None => {
                let mut known: Vec<String> = self.exact.iter().take(5).cloned().collect();
                known.extend(self.namespaces.iter().take(3).map(|n| format!("{n}:*")));
                format!(
                    "grant it to a role (`grant ROLE: {action}`) or allow it with a rule; the policy declares {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
    }
}

/// The candidate within a typo of `name`: one edit (a transposition counts as one) up
/// to 8 characters, two beyond. Tighter than the checker's general "did you mean":
/// names like `posts:update` and `posts:delete` are distinct actions, not typos, and a
/// suggestion here turns a deny rule into an error.
fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = if name.chars().count() <= 8 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Whether `name` lies in namespace `ns` (`pages` holds `pages:read` and `pages:x:y`).
fn in_namespace(ns: &str, name: &str) -> bool {
    name.strip_prefix(ns)
        .is_some_and(|rest| rest.starts_with(':'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vocab(src: &str) -> Vocabulary {
        Vocabulary::of(&crate::parse(src, &crate::Limits::default()).unwrap())
    }

    #[test]
    fn grants_and_allow_rules_declare_deny_rules_do_not() {
        let v = vocab(
            "policy p\nrole r\ngrant r: pages:read, comments:*\n\
             allow files:download\ndeny billing:export\n",
        );
        assert!(v.declares("pages:read"));
        assert!(v.declares("comments:delete"));
        assert!(v.declares("files:download"));
        assert!(!v.declares("billing:export"));
        assert!(!v.declares("pages:raed"));
        assert_eq!(v.suggest("pages:raed"), Some("pages:read"));
        assert_eq!(v.help("pages:raed"), "did you mean `pages:read`?");
        assert!(v.help("zzz:qqq").contains("`pages:read`"));
        // Distinct verbs of one namespace are not typos of each other.
        let v = vocab("policy p\nrole r\ngrant r: posts:delete, posts:read\n");
        assert_eq!(v.suggest("posts:update"), None);
        assert_eq!(v.suggest("posts:reda"), Some("posts:read"));
        assert_eq!(v.suggest("posts:dleete"), Some("posts:delete"));
    }

    #[test]
    fn a_star_grant_declares_everything() {
        let v = vocab("policy p\nrole r\ngrant r: *\n");
        assert!(v.declares("anything:at-all"));
        assert!(v.meets(&ActionKind::Namespace("x".into())));
    }

    #[test]
    fn deny_namespaces_meet_declared_actions() {
        let v = vocab("policy p\nrole r\ngrant r: pages:read, a:*\n");
        assert!(v.meets(&ActionKind::Namespace("pages".into())));
        assert!(v.meets(&ActionKind::Namespace("a:b".into())));
        assert!(!v.meets(&ActionKind::Namespace("pgaes".into())));
        assert_eq!(v.suggest_namespace("pgaes"), Some("pages"));
        assert!(v.meets(&ActionKind::Any));
    }
}
