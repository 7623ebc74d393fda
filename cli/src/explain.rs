//! `warden eval --explain` as text: each decision as a tree naming every grant, rule,
//! route, limit, requirement and header decision with its `file:line`.

use serde_json::Value;
use std::fmt::Write as _;
use warden::http::HttpTrace;
use warden::{Read, Trace};

/// A tree: a line, then its children with box-drawing prefixes.
struct Node {
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn new(text: impl Into<String>) -> Self {
        Node {
            text: text.into(),
            children: Vec::new(),
        }
    }
    fn child(mut self, n: Node) -> Self {
        self.children.push(n);
        self
    }
    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "{}", self.text);
        Self::render_children(&self.children, "", out);
    }
    fn render_children(children: &[Node], prefix: &str, out: &mut String) {
        for (i, c) in children.iter().enumerate() {
            let last = i + 1 == children.len();
            let (branch, next) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            let _ = writeln!(out, "{prefix}{branch}{}", c.text);
            Self::render_children(&c.children, &format!("{prefix}{next}"), out);
        }
    }
}

fn reads(n: Node, reads: &[Read]) -> Node {
    reads.iter().fold(n, |n, r| {
        n.child(Node::new(format!("{} = {}", r.attribute, r.value)))
    })
}

fn verdict(decision: &Value) -> String {
    let allowed = decision["allowed"].as_bool().unwrap_or(false);
    let word = if allowed { "ALLOW" } else { "DENY" };
    let mut s = word.to_string();
    if let Some(st) = decision.get("status").and_then(Value::as_u64) {
        let _ = write!(s, " {st}");
    }
    if let Some(r) = decision.get("reason").and_then(Value::as_str) {
        let _ = write!(s, ": {r}");
    }
    if let Some(rules) = decision.get("rules").and_then(Value::as_array) {
        let names: Vec<&str> = rules.iter().filter_map(Value::as_str).collect();
        if !names.is_empty() {
            let _ = write!(s, " [{}]", names.join(", "));
        }
    }
    s
}

/// Who asked, as a trace saw it: anonymous, no declared role, or the roles.
pub fn principal_roles(t: &Trace) -> String {
    match &t.roles {
        None => "principal: anonymous".to_owned(),
        Some(r) if r.is_empty() => "principal: no declared role".to_owned(),
        Some(r) => format!("principal roles: {}", r.join(", ")),
    }
}

/// What a rule did to the decision: its effect and whether its condition held.
pub fn rule_outcome(effect: &str, matched: bool) -> &'static str {
    match (effect, matched) {
        ("allow", true) => "permits",
        ("allow", false) => "does not permit",
        (_, true) => "denies",
        (_, false) => "does not deny",
    }
}

/// An authorization decision and its trace.
pub fn authz(decision: &Value, t: &Trace) -> String {
    let on = t
        .resource_type
        .as_deref()
        .map_or_else(String::new, |r| format!(" on {r}"));
    let mut root = Node::new(format!("{} — {}{on}", verdict(decision), t.action));
    root = root.child(Node::new(principal_roles(t)));
    root = root.child(Node::new(match &t.grant {
        Some(g) => format!("grant {g}: covers the action"),
        None => "grant: none covers the action for these roles".to_owned(),
    }));
    let mut rules = Node::new("rules");
    if t.rules.is_empty() {
        rules = rules.child(Node::new("none applies to this action and resource type"));
    }
    for r in &t.rules {
        let n = Node::new(format!(
            "{} {}: condition {}, {}",
            r.effect,
            r.rule,
            r.condition,
            rule_outcome(r.effect, r.matched)
        ));
        rules = rules.child(reads(n, &r.reads));
    }
    let mut out = String::new();
    root.child(rules).render(&mut out);
    out
}

/// An HTTP decision and its trace.
pub fn http(decision: &Value, t: &HttpTrace) -> String {
    let mut root = Node::new(format!("{} — path {}", verdict(decision), t.path));
    let mut routes = Node::new("routes (most specific first)");
    if t.routes.is_empty() {
        routes = routes.child(Node::new("none matches"));
    }
    for r in &t.routes {
        let public = if r.public { " public" } else { "" };
        let applies = if r.applies {
            "requirements apply"
        } else {
            "requirements cut by a public route"
        };
        routes = routes.child(Node::new(format!(
            "route {} {}{public}: {applies}",
            r.rule, r.pattern
        )));
    }
    root = root.child(routes);
    let preflight = if t.preflight { " (preflight)" } else { "" };
    // A request refused before CORS or authentication ran leaves these empty.
    let or_not_run = |s: &str| {
        if s.is_empty() {
            "not reached".to_owned()
        } else {
            s.to_owned()
        }
    };
    root = root.child(Node::new(format!(
        "cors: {}{preflight}",
        or_not_run(t.cors)
    )));
    let mut limits = Node::new("limits");
    if t.limits.is_empty() {
        limits = limits.child(Node::new("none counts this request"));
    }
    for l in &t.limits {
        let remaining = l
            .remaining
            .map_or_else(String::new, |r| format!(", {r} remaining"));
        limits = limits.child(Node::new(format!(
            "limit {} {} key {}: {}{remaining}",
            l.limit, l.rule, l.key, l.outcome
        )));
    }
    root = root.child(limits);
    root = root.child(Node::new(format!(
        "principal: {}",
        or_not_run(&t.principal)
    )));
    let mut reqs = Node::new("requirements");
    if t.requirements.is_empty() {
        reqs = reqs.child(Node::new("none tested"));
    }
    for r in &t.requirements {
        let n = Node::new(format!("require {} {}: {}", r.kind, r.rule, r.value));
        reqs = reqs.child(reads(n, &r.reads));
    }
    root = root.child(reqs);
    let mut headers = Node::new("headers");
    if let Some(hs) = decision.get("headers").and_then(Value::as_object) {
        for (k, v) in hs {
            headers = headers.child(Node::new(format!("set {k}: {}", v.as_str().unwrap_or(""))));
        }
    }
    if let Some(rm) = decision.get("remove").and_then(Value::as_array) {
        for k in rm.iter().filter_map(Value::as_str) {
            headers = headers.child(Node::new(format!("remove {k}")));
        }
    }
    if let Some(route) = decision.get("route") {
        if let Some(rule) = route.get("rule").and_then(Value::as_str) {
            headers = headers.child(Node::new(format!(
                "route changes from {rule} and its ancestors"
            )));
        }
    }
    let mut out = String::new();
    root.child(headers).render(&mut out);
    out
}
