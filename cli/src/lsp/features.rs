//! What the server knows about a name under the cursor: hover text and definitions.
//! Both read the parsed policy, so they work while the checker still reports errors.

use super::symbols::{self, Symbol};
use std::collections::BTreeSet;
use warden_lang::ast::{ActionKind, ActionPat, Item, Policy, ShapeKind, Span};

/// A declaration a name can jump to.
pub fn definition(policy: &Policy, name: &str) -> Option<Span> {
    policy.items.iter().find_map(|item| match item {
        Item::Role(r) if r.name.name == name => Some(r.name.span),
        Item::Limit(l) if l.name.name == name => Some(l.name.span),
        Item::Shape(s) => match &s.kind {
            ShapeKind::Resource(t) if t.name == name => Some(t.span),
            _ => None,
        },
        _ => None,
    })
}

/// Markdown for the name under the cursor: a declared role, action, limit, resource
/// type or script function, else a keyword's documentation.
pub fn hover(policy: Option<&Policy>, source: &str, word: &str) -> Option<String> {
    if let Some(p) = policy {
        if let Some(h) = role(p, word)
            .or_else(|| limit(p, source, word))
            .or_else(|| resource(p, source, word))
            .or_else(|| action(p, source, word))
            .or_else(|| function(p, source, word))
        {
            return Some(h);
        }
    }
    keyword(word).map(|doc| format!("**{word}**: {doc}"))
}

fn role(p: &Policy, name: &str) -> Option<String> {
    p.items
        .iter()
        .any(|i| matches!(i, Item::Role(r) if r.name.name == name))
        .then_some(())?;
    let ancestors = ancestors(p, name);
    let mut holders: BTreeSet<&str> = ancestors.iter().map(String::as_str).collect();
    holders.insert(name);
    let mut grants = Vec::new();
    for item in &p.items {
        if let Item::Grant(g) = item {
            if g.roles.iter().any(|r| holders.contains(r.name.as_str())) {
                grants.extend(g.actions.iter().map(action_text));
            }
        }
    }
    grants.sort();
    grants.dedup();
    let mut s = format!("**role** `{name}`");
    if ancestors.is_empty() {
        s.push_str("\n\ninherits no role");
    } else {
        let list: Vec<String> = ancestors.iter().map(|a| format!("`{a}`")).collect();
        s.push_str(&format!("\n\ninherits: {}", list.join(", ")));
    }
    if grants.is_empty() {
        s.push_str("\n\ngranted: nothing");
    } else {
        let list: Vec<String> = grants.iter().map(|a| format!("`{a}`")).collect();
        s.push_str(&format!(
            "\n\ngranted (with inherited): {}",
            list.join(", ")
        ));
    }
    Some(s)
}

/// Every role `name` inherits from, nearest first, each once.
fn ancestors(p: &Policy, name: &str) -> Vec<String> {
    let parents = |n: &str| -> Vec<String> {
        p.items
            .iter()
            .find_map(|i| match i {
                Item::Role(r) if r.name.name == n => {
                    Some(r.parents.iter().map(|x| x.name.clone()).collect())
                }
                _ => None,
            })
            .unwrap_or_default()
    };
    let mut out: Vec<String> = Vec::new();
    let mut queue = parents(name);
    while let Some(next) = queue.first().cloned() {
        queue.remove(0);
        if next != name && !out.contains(&next) {
            queue.extend(parents(&next));
            out.push(next);
        }
    }
    out
}

fn action_text(a: &ActionPat) -> String {
    match &a.kind {
        ActionKind::Any => "*".to_owned(),
        ActionKind::Namespace(ns) => format!("{ns}:*"),
        ActionKind::Exact(x) => x.clone(),
    }
}

/// Whether pattern `a` covers the action (or pattern) `word`.
fn covers(a: &ActionPat, word: &str) -> bool {
    match &a.kind {
        ActionKind::Any => true,
        ActionKind::Namespace(ns) => {
            word.split_once(':').is_some_and(|(n, _)| n == ns) || word == format!("{ns}:*")
        }
        ActionKind::Exact(x) => x == word,
    }
}

fn action(p: &Policy, source: &str, word: &str) -> Option<String> {
    if !word.contains(':') && word != "*" {
        return None;
    }
    let mut roles = BTreeSet::new();
    let mut rules = Vec::new();
    for item in &p.items {
        match item {
            Item::Grant(g) if g.actions.iter().any(|a| covers(a, word)) => {
                roles.extend(g.roles.iter().map(|r| r.name.as_str()));
            }
            Item::Rule(r) if r.actions.iter().any(|a| covers(a, word)) => {
                rules.push(format!(
                    "- line {}: `{}`",
                    line_of(source, r.span),
                    first_line(source, r.span)
                ));
            }
            _ => {}
        }
    }
    if roles.is_empty() && rules.is_empty() {
        return None;
    }
    let mut s = format!("**action** `{word}`");
    if roles.is_empty() {
        s.push_str("\n\ngranted to no role");
    } else {
        let list: Vec<String> = roles.iter().map(|r| format!("`{r}`")).collect();
        s.push_str(&format!(
            "\n\ngranted to: {} (and the roles that inherit them)",
            list.join(", ")
        ));
    }
    if !rules.is_empty() {
        s.push_str("\n\nrules:\n");
        s.push_str(&rules.join("\n"));
    }
    Some(s)
}

fn limit(p: &Policy, source: &str, name: &str) -> Option<String> {
    p.items.iter().find_map(|i| match i {
        Item::Limit(l) if l.name.name == name => {
            let strict = if l.strict {
                "\n\n`strict`: never more than the count in any window of the period"
            } else {
                ""
            };
            Some(format!(
                "**limit** `{name}`: {} requests per period, counted per key\n\n```warden\n{}\n```{strict}",
                l.count,
                first_line(source, l.span)
            ))
        }
        _ => None,
    })
}

fn resource(p: &Policy, source: &str, name: &str) -> Option<String> {
    p.items.iter().find_map(|i| match i {
        Item::Shape(s) => match &s.kind {
            ShapeKind::Resource(t) if t.name == name => Some(format!(
                "**resource type** `{name}`\n\n```warden\n{}\n```",
                source.get(s.span.start as usize..s.span.end as usize)?
            )),
            _ => None,
        },
        _ => None,
    })
}

/// A script function: the line that defines it.
fn function(p: &Policy, source: &str, name: &str) -> Option<String> {
    let sym = Symbol::Function(name.to_owned());
    let decl = symbols::occurrences(p)
        .into_iter()
        .find(|o| o.declaration && o.symbol == sym)?;
    let start = decl.span.start as usize;
    let line_start = source.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    let line = source.get(line_start..)?.lines().next()?.trim();
    Some(format!(
        "**script function** `{name}` (Rhai)\n\n```rhai\n{line}\n```"
    ))
}

fn first_line(source: &str, span: Span) -> &str {
    source
        .get(span.start as usize..span.end as usize)
        .and_then(|s| s.lines().next())
        .unwrap_or("")
        .trim()
}

fn line_of(source: &str, span: Span) -> usize {
    source
        .get(..span.start as usize)
        .map_or(0, |s| s.matches('\n').count())
        + 1
}

/// One line of documentation per keyword (docs/LANGUAGE.md has the rest).
fn keyword(word: &str) -> Option<&'static str> {
    Some(match word {
        "policy" => "names the policy; the first line of every file",
        "role" => "declares a role; `role admin > editor` inherits `editor`'s grants",
        "grant" => "gives roles actions: `grant editor: pages:read, pages:*`",
        "allow" => "a rule that permits an action on a resource type when its condition holds",
        "deny" => "a rule that refuses an action; a matching deny wins over every grant and allow",
        "unless" => "the rule applies when the condition is false",
        "because" => "the reason a denial reports",
        "resource" => "declares a resource type's attributes: `resource post { author: string }`",
        "principal" => "the caller: its attributes' shape, or `principal.*` in an expression",
        "context" => "attributes of the request's context (time, ip, ...)",
        "input" => "the shape of an HTTP request's input (body and query)",
        "route" => "HTTP requirements for paths: `route GET /api/** { require auth }`",
        "require" => "a route requirement; `else STATUS` or `else redirect \"...\"` when it fails",
        "public" => "the route needs no authentication, even under a protected prefix",
        "limit" => "a rate limit: `limit api: 100 per 1m by principal.id ?? ip [strict]`",
        "strict" => "a sliding window: never more than the count in any period",
        "report_only" => "never enforced: what this deny rule, requirement, limit or policy would refuse is reported (decision, log, metrics)",
        "headers" => "response headers set on every answer",
        "cors" => "cross-origin resource sharing: origins, methods, headers, credentials",
        "startup" => "checks run when the policy loads; a failed one refuses to load",
        "auth" => "how the principal is authenticated (JWT, API keys, sessions)",
        "cookies" => "attributes every `Set-Cookie` must carry",
        "hosts" => "the `Host` values the app answers",
        "script" => "Rhai functions callable from conditions",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use warden_lang::Limits;

    const P: &str = "policy p\nrole viewer\nrole editor > viewer\nrole admin > editor\n\
                     grant viewer: pages:read\ngrant editor: pages:*\n\
                     deny pages:delete unless principal.id == \"x\"\n";

    #[test]
    fn role_hover_lists_ancestors_and_inherited_grants() {
        let p = warden_lang::parse(P, &Limits::default()).unwrap();
        let h = hover(Some(&p), P, "admin").unwrap();
        assert!(h.contains("inherits: `editor`, `viewer`"), "{h}");
        assert!(h.contains("`pages:*`, `pages:read`"), "{h}");
        let h = hover(Some(&p), P, "pages:delete").unwrap();
        assert!(h.contains("granted to: `editor`"), "{h}");
        assert!(h.contains("line 7: `deny pages:delete"), "{h}");
        assert_eq!(hover(Some(&p), P, "nothing"), None);
        assert!(hover(None, P, "grant").unwrap().starts_with("**grant**"));
        let f = "policy p\nscript {\n  fn owns(a, b) { a == b }\n}\n";
        let p = warden_lang::parse(f, &Limits::default()).unwrap();
        assert_eq!(
            hover(Some(&p), f, "owns").unwrap(),
            "**script function** `owns` (Rhai)\n\n```rhai\nfn owns(a, b) { a == b }\n```"
        );
    }

    #[test]
    fn definitions_of_roles() {
        let p = warden_lang::parse(P, &Limits::default()).unwrap();
        let s = definition(&p, "editor").unwrap();
        assert_eq!(&P[s.start as usize..s.end as usize], "editor");
        assert_eq!(s.start as usize, P.find("role editor").unwrap() + 5);
        assert_eq!(definition(&p, "pages:read"), None);
    }
}
