//! Completion: the policy's roles, actions, attributes, limits, resource types and
//! script functions, and the keywords, chosen by what the line says before the cursor
//! (`require role ` offers roles, `grant editor: ` actions, `principal.` the principal's
//! attributes, ...).
//!
//! A line being typed rarely parses, so the names come from the policy as it is, else
//! as it is without the cursor's line, else as it last parsed (the caller decides).

use lsp_types::{CompletionItem, CompletionItemKind, CompletionTextEdit, TextEdit};
use std::collections::BTreeMap;
use warden_lang::ast::{ActionKind, AttrDecl, Item, Policy, ShapeKind};

use super::document::Document;
use super::symbols::{self, Symbol};

/// Characters after which editors ask for completion unprompted.
pub const TRIGGERS: &[&str] = &[".", ":", " ", ","];

/// Keywords of a block's statements; with `policy` and the language's item keywords
/// (`warden_lang::ast::ITEM_KEYWORDS`), what a line can start with.
const BLOCK_KEYWORDS: &[&str] = &["require", "public", "header"];

/// Words of conditions and route requirements.
const EXPRESSION_KEYWORDS: &[&str] = &[
    "principal",
    "resource",
    "context",
    "input",
    "request",
    "and",
    "or",
    "not",
    "in",
    "is",
    "matches",
    "contains",
    "starts_with",
    "ends_with",
    "subset_of",
    "header",
    "cookie",
    "ip",
    "env",
    "now",
    "secret",
    "config",
    "lower",
    "header_safe",
    "if",
    "then",
    "else",
    "unless",
    "because",
    "true",
    "false",
    "auth",
    "role",
    "first",
    "signature",
    "on",
    "missing",
];

/// What the cursor is completing.
#[derive(Debug, PartialEq)]
enum Want {
    Roles,
    Actions,
    Limits,
    Resources,
    Attributes(&'static str, Vec<String>),
    Statement,
    Expression,
    Nothing,
}

/// The completion items at byte `offset` of `doc`, with names from `policy`.
pub fn complete(doc: &Document, policy: Option<&Policy>, offset: usize) -> Vec<CompletionItem> {
    let offset = offset.min(doc.text.len());
    let line_start = doc.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &doc.text[line_start..offset];
    // The declaration the cursor is in starts on the last line that is not indented.
    let item_start = doc.text[..offset]
        .rmatch_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| doc.text[i..].starts_with(|c: char| !c.is_whitespace()))
        .unwrap_or(0);
    let want = context(prefix, &doc.text[item_start..offset]);
    // The text the chosen item replaces: the word being typed (an action keeps its `:`).
    let word_chars = |c: char| {
        c.is_ascii_alphanumeric() || c == '_' || (want == Want::Actions && matches!(c, ':' | '*'))
    };
    let mut partial = prefix.len() - prefix.trim_end_matches(word_chars).len();
    if want == Want::Actions && prefix.trim_start().starts_with("grant") {
        // Not back over the colon of `grant ROLES:`.
        let colon = prefix.find(':').map_or(0, |i| i + 1);
        partial = partial.min(prefix.len() - colon);
    }
    if want == Want::Nothing || (partial == 0 && matches!(want, Want::Statement | Want::Expression))
    {
        // Typing a space or a comma in running text offers nothing.
        return Vec::new();
    }
    let start = doc.position(offset - partial);
    let range = lsp_types::Range::new(start, doc.position(offset));
    let candidates = match (&want, policy) {
        (Want::Statement, _) => {
            let items = warden_lang::ast::ITEM_KEYWORDS.iter();
            let words: Vec<&str> = std::iter::once(&"policy")
                .chain(items)
                .chain(BLOCK_KEYWORDS)
                .copied()
                .collect();
            keywords(&words)
        }
        (Want::Expression, p) => {
            let mut v = keywords(EXPRESSION_KEYWORDS);
            if let Some(p) = p {
                v.extend(roles(p));
                v.extend(functions(p));
            }
            v
        }
        (Want::Attributes(root, types), p) => attributes(p, root, types),
        (_, None) | (Want::Nothing, _) => Vec::new(),
        (Want::Roles, Some(p)) => roles(p),
        (Want::Actions, Some(p)) => actions(p),
        (Want::Limits, Some(p)) => limits(p),
        (Want::Resources, Some(p)) => resources(p),
    };
    let mut seen = std::collections::BTreeSet::new();
    candidates
        .into_iter()
        .filter(|c| seen.insert(c.0.clone()))
        .map(|(label, kind, detail)| CompletionItem {
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                range,
                label.clone(),
            ))),
            label,
            kind: Some(kind),
            detail: Some(detail),
            ..CompletionItem::default()
        })
        .collect()
}

type Candidate = (String, CompletionItemKind, String);

/// What the line before the cursor asks for (`item`: the declaration's text up to the
/// cursor, which may start on an earlier line).
fn context(prefix: &str, item: &str) -> Want {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let before = prefix.trim_end_matches(ident);
    // In a comment, a string, a path pattern or a header name: no names or keywords.
    if in_comment_or_string(prefix) || before.ends_with(['/', '-', '*']) {
        return Want::Nothing;
    }
    // `principal.`, `resource.` ...: the root's attributes (one level deep).
    if let Some(path) = before.strip_suffix('.') {
        let root = &path[path.trim_end_matches(ident).len()..];
        let root_start = path.len() - root.len();
        let nested = path[..root_start].ends_with('.');
        return match root {
            _ if nested => Want::Nothing,
            "principal" => Want::Attributes("principal", Vec::new()),
            "resource" => Want::Attributes("resource", rule_types(item)),
            "context" => Want::Attributes("context", Vec::new()),
            "input" => Want::Attributes("input", Vec::new()),
            "request" => Want::Attributes("request", Vec::new()),
            _ => Want::Nothing,
        };
    }
    let head: Vec<&str> = prefix.split_whitespace().collect();
    let first = head.first().copied().unwrap_or("");
    let indented = prefix.starts_with(char::is_whitespace) || prefix.contains('{');
    // The word that governs the list the cursor is in: skip `a, b, ` back to it.
    let action_char = |c: char| ident(c) || matches!(c, ':' | '*');
    let mut rest = prefix.trim_end_matches(action_char).trim_end();
    while let Some(r) = rest.strip_suffix(',') {
        rest = r.trim_end().trim_end_matches(action_char).trim_end();
    }
    let governing = rest.rsplit(char::is_whitespace).next().unwrap_or("");
    match (first, governing) {
        ("grant", _) if prefix.contains(':') => Want::Actions,
        ("grant", "grant") => Want::Roles,
        ("allow" | "deny", "allow" | "deny") => Want::Actions,
        (_, "on") => Want::Resources,
        ("role", ">") => Want::Roles,
        (_, "is") => Want::Roles,
        (_, "role")
            if rest
                .trim_end_matches("role")
                .trim_end()
                .ends_with("require") =>
        {
            Want::Roles
        }
        // `limit NAME:` at the top level declares one; in a route it names them.
        ("limit", "limit") if !indented => Want::Nothing,
        (_, "limit") if indented => Want::Limits,
        _ if rest.is_empty() || rest.ends_with('{') || rest.ends_with('}') => Want::Statement,
        ("role" | "limit" | "policy", _) if head.len() <= 2 => Want::Nothing,
        _ => Want::Expression,
    }
}

/// Whether the end of the line's text is inside a `#` comment or a string literal.
fn in_comment_or_string(prefix: &str) -> bool {
    let mut in_string = false;
    let mut chars = prefix.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '#' if !in_string => return true,
            _ => {}
        }
    }
    in_string
}

/// The resource types a rule's `on` names before the cursor.
fn rule_types(prefix: &str) -> Vec<String> {
    let mut words = prefix.split(|c: char| c.is_whitespace() || c == ',');
    if !words.any(|w| w == "on") {
        return Vec::new();
    }
    words
        .take_while(|w| !matches!(*w, "if" | "unless" | "because" | "missing"))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn keywords(words: &[&str]) -> Vec<Candidate> {
    words
        .iter()
        .map(|w| {
            (
                w.to_string(),
                CompletionItemKind::KEYWORD,
                "keyword".to_owned(),
            )
        })
        .collect()
}

/// Declared roles (by the occurrences' declarations), in source order.
fn roles(p: &Policy) -> Vec<Candidate> {
    p.items
        .iter()
        .filter_map(|i| match i {
            Item::Role(r) => {
                let detail = if r.parents.is_empty() {
                    "role".to_owned()
                } else {
                    let parents: Vec<&str> = r.parents.iter().map(|x| x.name.as_str()).collect();
                    format!("role > {}", parents.join(", "))
                };
                Some((r.name.name.clone(), CompletionItemKind::CLASS, detail))
            }
            _ => None,
        })
        .collect()
}

/// The actions grants and rules name: each concrete `ns:verb`, then each `ns:*`.
fn actions(p: &Policy) -> Vec<Candidate> {
    let mut exact = std::collections::BTreeSet::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for item in &p.items {
        let pats = match item {
            Item::Grant(g) => &g.actions,
            Item::Rule(r) => &r.actions,
            _ => continue,
        };
        for a in pats {
            match &a.kind {
                ActionKind::Exact(x) => {
                    if let Some((ns, _)) = x.split_once(':') {
                        namespaces.insert(ns.to_owned());
                    }
                    exact.insert(x.clone());
                }
                ActionKind::Namespace(ns) => {
                    namespaces.insert(ns.clone());
                }
                ActionKind::Any => {}
            }
        }
    }
    let exact = exact
        .into_iter()
        .map(|a| (a, CompletionItemKind::VALUE, "action".to_owned()));
    let ns = namespaces.into_iter().map(|n| {
        let detail = format!("every action of `{n}`");
        (format!("{n}:*"), CompletionItemKind::VALUE, detail)
    });
    exact.chain(ns).collect()
}

fn limits(p: &Policy) -> Vec<Candidate> {
    p.items
        .iter()
        .filter_map(|i| match i {
            Item::Limit(l) => Some((
                l.name.name.clone(),
                CompletionItemKind::CONSTANT,
                format!(
                    "limit: {} per {}{}{}",
                    l.count,
                    l.per.value,
                    l.per.unit.suffix(),
                    if l.strict { " strict" } else { "" }
                ),
            )),
            _ => None,
        })
        .collect()
}

fn resources(p: &Policy) -> Vec<Candidate> {
    p.items
        .iter()
        .filter_map(|i| match i {
            Item::Shape(s) => match &s.kind {
                ShapeKind::Resource(t) => Some((
                    t.name.clone(),
                    CompletionItemKind::STRUCT,
                    "resource type".to_owned(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn functions(p: &Policy) -> Vec<Candidate> {
    symbols::occurrences(p)
        .into_iter()
        .filter(|o| o.declaration)
        .filter_map(|o| match o.symbol {
            Symbol::Function(f) => Some((
                f,
                CompletionItemKind::FUNCTION,
                "script function".to_owned(),
            )),
            _ => None,
        })
        .collect()
}

/// The attributes of a root: its declared shape (a resource's: of the rule's types, or
/// of every type), and the attributes every principal and resource has.
fn attributes(p: Option<&Policy>, root: &str, types: &[String]) -> Vec<Candidate> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |a: &AttrDecl, owner: &str| {
        let opt = if a.optional { "?" } else { "" };
        out.entry(a.name.name.clone())
            .or_insert_with(|| format!("{owner}: {}{opt}", a.ty));
    };
    for item in p.map(|p| p.items.as_slice()).unwrap_or_default() {
        let Item::Shape(s) = item else { continue };
        match (&s.kind, root) {
            (ShapeKind::Principal, "principal")
            | (ShapeKind::Context, "context")
            | (ShapeKind::Input, "input") => s.attrs.iter().for_each(|a| add(a, root)),
            (ShapeKind::Resource(t), "resource") if types.is_empty() || types.contains(&t.name) => {
                s.attrs
                    .iter()
                    .for_each(|a| add(a, &format!("resource {}", t.name)));
            }
            _ => {}
        }
    }
    let builtin: &[(&str, &str)] = match root {
        "principal" => &[
            ("id", "principal: string"),
            ("roles", "principal: set<role>"),
        ],
        "resource" => &[("id", "resource: string")],
        "request" => &[
            ("method", "request: string"),
            ("path", "request: string"),
            ("query", "request: string"),
            ("ip", "request: string"),
        ],
        _ => &[],
    };
    for (name, detail) in builtin {
        out.entry((*name).to_owned())
            .or_insert_with(|| (*detail).to_owned());
    }
    out.into_iter()
        .map(|(name, detail)| (name, CompletionItemKind::FIELD, detail))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use warden_lang::Limits;

    const P: &str = "policy p\nrole viewer\nrole editor > viewer\n\
                     principal { org: string, team: string? }\n\
                     resource page { owner: string }\nresource file { size: number }\n\
                     grant editor: pages:read, files:*\n\
                     allow pages:write on page if resource.owner == principal.id\n\
                     limit api: 10 per 1m by ip strict\n";

    /// Labels offered at the end of `line` typed after the policy.
    fn labels(line: &str) -> Vec<String> {
        let text = format!("{P}{line}");
        let doc = Document::new(text.clone());
        let p = warden_lang::parse(P, &Limits::default()).unwrap();
        complete(&doc, Some(&p), text.len())
            .into_iter()
            .map(|c| c.label)
            .collect()
    }

    #[test]
    fn names_by_context() {
        assert_eq!(labels("route /x { require role "), ["viewer", "editor"]);
        assert_eq!(
            labels("route /x {\n  require role viewer, ed"),
            ["viewer", "editor"]
        );
        assert_eq!(labels("grant "), ["viewer", "editor"]);
        assert_eq!(labels("role admin > "), ["viewer", "editor"]);
        assert_eq!(
            labels("grant viewer: pa"),
            ["pages:read", "pages:write", "files:*", "pages:*"]
        );
        // Right after the grant's colon, and after a listed action.
        assert_eq!(labels("grant viewer:"), labels("grant viewer: pa"));
        assert_eq!(
            labels("grant viewer: pages:read, "),
            labels("grant viewer: pa")
        );
        assert_eq!(labels("deny "), labels("grant viewer: "));
        assert_eq!(labels("route /x {\n  limit "), ["api"]);
        assert_eq!(labels("route /x { limit api only "), Vec::<String>::new());
        assert!(labels("limit ").is_empty(), "a new limit's name");
        assert_eq!(labels("allow pages:read on "), ["page", "file"]);
    }

    #[test]
    fn attributes_from_shapes() {
        assert_eq!(
            labels("deny x:y if principal."),
            ["id", "org", "roles", "team"]
        );
        assert_eq!(labels("deny x:y on file if resource.s"), ["id", "size"]);
        assert_eq!(labels("deny x:y on file\n  if resource.s"), ["id", "size"]);
        assert_eq!(
            labels("deny x:y on page, file\n  if resource."),
            ["id", "owner", "size"]
        );
        assert_eq!(labels("deny x:y if resource."), ["id", "owner", "size"]);
        assert_eq!(
            labels("deny x:y if request.m"),
            ["ip", "method", "path", "query"]
        );
        assert!(labels("deny x:y if resource.owner.").is_empty());
    }

    #[test]
    fn nothing_in_comments_strings_paths_and_header_names() {
        assert!(labels("# a comment about ro").is_empty());
        assert!(labels("deny x:y if principal.org == \"ro").is_empty());
        assert!(labels("deny x:y if principal.org == \"a\\\"ro").is_empty());
        assert!(labels("route /api/ro").is_empty());
        assert!(labels("route /x { require header x-ro").is_empty());
        // After a closed string, completion is back.
        assert!(!labels("deny x:y if principal.org == \"a#\" an").is_empty());
    }

    #[test]
    fn keywords_where_nothing_more_specific_fits() {
        let top = labels("ro");
        assert!(top.contains(&"route".to_owned()) && top.contains(&"role".to_owned()));
        assert!(!top.contains(&"viewer".to_owned()));
        let expr = labels("deny x:y if principal.org == \"a\" an");
        assert!(expr.contains(&"and".to_owned()) && expr.contains(&"viewer".to_owned()));
        assert!(labels("deny x:y if principal.org == ").is_empty());
    }

    #[test]
    fn the_edit_replaces_the_word_typed() {
        let text = format!("{P}grant viewer: pages:re");
        let doc = Document::new(text.clone());
        let p = warden_lang::parse(P, &Limits::default()).unwrap();
        let items = complete(&doc, Some(&p), text.len());
        let read = items.iter().find(|c| c.label == "pages:read").unwrap();
        let Some(CompletionTextEdit::Edit(e)) = &read.text_edit else {
            panic!("{read:?}")
        };
        let line = u32::try_from(P.lines().count()).unwrap();
        assert_eq!(e.range.start, lsp_types::Position::new(line, 14));
        assert_eq!(e.range.end, lsp_types::Position::new(line, 22));
    }
}
