//! Where each named symbol of a policy is declared and used: roles, limits, resource
//! types and script functions, read from the syntax tree's spans (and, for functions,
//! from the tokens of the `script` blocks that Rhai compiled). References, rename and
//! go to definition all read this one list.

use std::fmt;
use warden_lang::ast::{
    AuthValue, CorsEntry, Expr, ExprKind, HeaderEntry, Item, Policy, ProxiesEntry, ReqKind,
    RouteStmt, ScriptDecl, ShapeKind, Span,
};
use warden_lang::Limits;

/// A name with a declaration that other places refer to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Symbol {
    Role(String),
    Limit(String),
    Resource(String),
    Function(String),
}

impl Symbol {
    pub fn name(&self) -> &str {
        match self {
            Symbol::Role(n) | Symbol::Limit(n) | Symbol::Resource(n) | Symbol::Function(n) => n,
        }
    }

    /// The same kind of symbol under another name.
    pub fn renamed(&self, name: &str) -> Symbol {
        let name = name.to_owned();
        match self {
            Symbol::Role(_) => Symbol::Role(name),
            Symbol::Limit(_) => Symbol::Limit(name),
            Symbol::Resource(_) => Symbol::Resource(name),
            Symbol::Function(_) => Symbol::Function(name),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Symbol::Role(_) => "role",
            Symbol::Limit(_) => "limit",
            Symbol::Resource(_) => "resource type",
            Symbol::Function(_) => "script function",
        }
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind(), self.name())
    }
}

/// One place a symbol's name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub symbol: Symbol,
    /// Exactly the name.
    pub span: Span,
    /// The declaration (`role NAME`, `limit NAME:`, `resource NAME { }`, `fn NAME(`).
    pub declaration: bool,
}

/// Every occurrence of every symbol, in source order.
pub fn occurrences(policy: &Policy) -> Vec<Occurrence> {
    let mut out = Occurrences(Vec::new());
    for item in &policy.items {
        out.item(item);
    }
    let mut v = out.0;
    v.sort_by_key(|o| o.span);
    v.dedup();
    v
}

/// The occurrence under a byte offset (a cursor just after a name is still on it).
pub fn at(occurrences: &[Occurrence], offset: usize) -> Option<&Occurrence> {
    occurrences
        .iter()
        .find(|o| (o.span.start as usize..=o.span.end as usize).contains(&offset))
}

struct Occurrences(Vec<Occurrence>);

impl Occurrences {
    fn push(&mut self, symbol: Symbol, span: Span, declaration: bool) {
        self.0.push(Occurrence {
            symbol,
            span,
            declaration,
        });
    }

    fn role(&mut self, name: &warden_lang::ast::Ident, declaration: bool) {
        self.push(Symbol::Role(name.name.clone()), name.span, declaration);
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Role(r) => {
                self.role(&r.name, true);
                r.parents.iter().for_each(|p| self.role(p, false));
            }
            Item::Grant(g) => g.roles.iter().for_each(|r| self.role(r, false)),
            Item::Shape(s) => {
                if let ShapeKind::Resource(t) = &s.kind {
                    self.push(Symbol::Resource(t.name.clone()), t.span, true);
                }
            }
            Item::Rule(r) => {
                for t in &r.on {
                    self.push(Symbol::Resource(t.name.clone()), t.span, false);
                }
                if let Some(c) = &r.cond {
                    self.expr(&c.expr);
                }
            }
            Item::Limit(l) => {
                self.push(Symbol::Limit(l.name.name.clone()), l.name.span, true);
                self.expr(&l.key);
            }
            Item::Route(r) => r.body.iter().for_each(|s| self.route_stmt(s)),
            Item::Headers(h) => h
                .entries
                .iter()
                .filter_map(|e: &HeaderEntry| e.cond.as_ref())
                .for_each(|e| self.expr(e)),
            Item::Cors(c) => c
                .entries
                .iter()
                .filter_map(|e: &CorsEntry| e.cond.as_ref())
                .for_each(|e| self.expr(e)),
            Item::Proxies(p) => p
                .entries
                .iter()
                .filter_map(|e: &ProxiesEntry| e.cond.as_ref())
                .for_each(|e| self.expr(e)),
            Item::Startup(s) => {
                for c in &s.checks {
                    self.expr(&c.expr);
                    if let Some(e) = &c.cond {
                        self.expr(e);
                    }
                }
            }
            Item::Auth(a) => {
                for e in &a.entries {
                    if let AuthValue::Key { principal, .. } = &e.value {
                        principal.iter().for_each(|f| self.expr(&f.value));
                    }
                }
            }
            Item::Script(s) => {
                for (name, span, declaration) in script_functions(s) {
                    self.push(Symbol::Function(name), span, declaration);
                }
            }
            Item::Hosts(_) | Item::Cookies(_) => {}
        }
    }

    fn route_stmt(&mut self, stmt: &RouteStmt) {
        match stmt {
            RouteStmt::Require(r) => match &r.kind {
                ReqKind::Role(roles) => roles.iter().for_each(|r| self.role(r, false)),
                ReqKind::Expr(e) | ReqKind::First(e) => self.expr(e),
                ReqKind::Signature(s) => self.expr(&s.secret),
                ReqKind::Auth => {}
            },
            RouteStmt::Limit(names, _) | RouteStmt::LimitOnly(names, _) => {
                for n in names {
                    self.push(Symbol::Limit(n.name.clone()), n.span, false);
                }
            }
            RouteStmt::HeaderSetExpr { value, .. } => self.expr(value),
            RouteStmt::Public(_) | RouteStmt::HeaderSet { .. } | RouteStmt::HeaderDrop { .. } => {}
        }
    }

    fn expr(&mut self, e: &Expr) {
        e.walk(&mut |e| match &e.kind {
            ExprKind::RoleName(r)
            | ExprKind::Is { role: r, .. }
            | ExprKind::IsIn { role: r, .. } => {
                self.role(r, false);
            }
            ExprKind::Call { func, .. } => {
                self.push(Symbol::Function(func.name.clone()), func.span, false);
            }
            _ => {}
        });
    }
}

/// The functions a `script` block defines (by Rhai's compiler) and where their names
/// are written in it: each `fn NAME` (a declaration) and each `NAME(` (a call from
/// another function). Nothing when the block does not compile.
fn script_functions(s: &ScriptDecl) -> Vec<(String, Span, bool)> {
    let Ok(ast) = warden_lang::script_sandbox(&Limits::default()).compile(&s.source) else {
        return Vec::new();
    };
    let defined: Vec<String> = ast.iter_functions().map(|f| f.name.to_owned()).collect();
    let tokens = rhai_tokens(&s.source);
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let Token::Ident(start, end) = *t else {
            continue;
        };
        let name = &s.source[start..end];
        if !defined.iter().any(|d| d == name) {
            continue;
        }
        let declaration =
            i > 0 && matches!(tokens[i - 1], Token::Ident(a, b) if &s.source[a..b] == "fn");
        let call = matches!(tokens.get(i + 1), Some(Token::Punct(b'(')));
        if declaration || call {
            let at = |o: usize| {
                s.source_span
                    .start
                    .saturating_add(u32::try_from(o).unwrap_or(u32::MAX))
            };
            out.push((name.to_owned(), Span::new(at(start), at(end)), declaration));
        }
    }
    out
}

/// A token of Rhai source, as far as finding function names needs: identifiers (byte
/// range) and single punctuation characters. Comments and string and character
/// literals are skipped; the code inside `${ }` of a back-quoted string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Ident(usize, usize),
    Punct(u8),
}

fn rhai_tokens(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    // One entry per open back-quoted string whose `${` we are inside: the `{` depth at
    // which its code ends.
    let mut interpolations: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // Block comments nest in Rhai.
                let mut level = 0usize;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        level += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => i = skip_backquoted(b, i + 1, &mut interpolations, depth),
            b'{' => {
                depth += 1;
                out.push(Token::Punct(c));
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
                if interpolations.last() == Some(&depth) {
                    // The end of `${ ... }`: back inside the string.
                    interpolations.pop();
                    i = skip_backquoted(b, i, &mut interpolations, depth);
                } else {
                    out.push(Token::Punct(c));
                }
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Token::Ident(start, i));
            }
            _ if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.')
                {
                    i += 1;
                }
            }
            _ if c.is_ascii_whitespace() || !c.is_ascii() => i += 1,
            _ => {
                out.push(Token::Punct(c));
                i += 1;
            }
        }
    }
    out
}

/// Skip a back-quoted string from `i` (after the opening quote or a `}` closing an
/// interpolation) to after its closing quote, or to just after a `${` whose code the
/// caller then reads (recorded in `interpolations`).
fn skip_backquoted(b: &[u8], mut i: usize, interpolations: &mut Vec<usize>, depth: usize) -> usize {
    while i < b.len() {
        if b[i] == b'`' {
            return i + 1;
        }
        if b[i..].starts_with(b"${") {
            interpolations.push(depth);
            // The caller's `{` handling would count this brace: stand before it.
            return i + 1;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const P: &str = "policy p\n\
role viewer\n\
role editor > viewer\n\
grant viewer, editor: pages:read\n\
resource page { owner: string }\n\
allow pages:write on page if principal is editor and owns(principal.id, resource.owner)\n\
limit api: 10 per 1m by ip\n\
route /api/** { require role viewer limit api }\n\
script {\n\
  // owns(a) in a comment\n\
  fn owns(a, b) { let s = \"owns(\"; same(a, b) }\n\
  fn same(a, b) { let s = `${same2(a)}`; a == b }\n\
  fn same2(a) { a }\n\
}\n";

    fn texts(kind: fn(String) -> Symbol, name: &str) -> Vec<(String, bool)> {
        let p = warden_lang::parse(P, &Limits::default()).unwrap();
        occurrences(&p)
            .into_iter()
            .filter(|o| o.symbol == kind(name.to_owned()))
            .map(|o| {
                let line = P[..o.span.start as usize].matches('\n').count() + 1;
                assert_eq!(&P[o.span.range()], name);
                (format!("line {line}"), o.declaration)
            })
            .collect()
    }

    #[test]
    fn roles_limits_resources_and_functions() {
        let declared_then_used = |line: usize, uses: &[usize]| {
            let mut v = vec![(format!("line {line}"), true)];
            v.extend(uses.iter().map(|u| (format!("line {u}"), false)));
            v.sort();
            v
        };
        let sorted = |mut v: Vec<(String, bool)>| {
            v.sort();
            v
        };
        assert_eq!(
            sorted(texts(Symbol::Role, "viewer")),
            declared_then_used(2, &[3, 4, 8])
        );
        assert_eq!(
            sorted(texts(Symbol::Role, "editor")),
            declared_then_used(3, &[4, 6])
        );
        assert_eq!(texts(Symbol::Limit, "api"), declared_then_used(7, &[8]));
        assert_eq!(texts(Symbol::Resource, "page"), declared_then_used(5, &[6]));
        // The comment and the string are not uses; the call from a function is.
        assert_eq!(
            sorted(texts(Symbol::Function, "owns")),
            declared_then_used(11, &[6])
        );
        assert_eq!(
            sorted(texts(Symbol::Function, "same")),
            declared_then_used(12, &[11])
        );
        // A call inside a back-quoted string's `${ }`.
        assert_eq!(
            sorted(texts(Symbol::Function, "same2")),
            declared_then_used(13, &[12])
        );
    }

    #[test]
    fn the_occurrence_under_the_cursor() {
        let p = warden_lang::parse(P, &Limits::default()).unwrap();
        let all = occurrences(&p);
        let at_offset = |o: usize| at(&all, o).map(|o| o.symbol.clone());
        let editor = P.find("editor").unwrap();
        assert_eq!(at_offset(editor), Some(Symbol::Role("editor".into())));
        assert_eq!(at_offset(editor + 6), Some(Symbol::Role("editor".into())));
        assert_eq!(at_offset(0), None);
    }
}
