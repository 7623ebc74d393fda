//! Canonical formatting (`warden fmt`): a [`Policy`] back to text that parses to the same
//! tree, with every comment kept, and that formatting again leaves unchanged.
//!
//! Comments are not tree nodes; they ride along by byte position. A comment before an
//! item (or a statement of a block) is printed above it; one on the same source line after
//! it stays there; one inside a one-line construct (a rule, an expression) moves above
//! it; the rest of a block or file stays at its end. Blank lines need the source text:
//! [`format_source`] keeps at most one where the author put one, [`format_policy`]
//! (tree only) uses the canonical layout.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;

/// Widest single-line rule; a longer one puts `if`/`unless`, `because` and `missing` on
/// lines of their own. The same bound decides whether a shape fits on one line.
pub const MAX_WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Print a policy canonically from its tree alone.
///
/// Comments are kept; without the source, blank lines come only from the canonical layout
/// and a comment after a statement is printed above the next one.
pub fn format_policy(policy: &Policy) -> String {
    Printer::new(policy, None).policy(policy)
}

/// Parse and print canonically, keeping the author's blank lines (at most one in a row)
/// and comments at the end of a line.
pub fn format_source(source: &str, limits: &Limits) -> Result<String, Vec<Diagnostic>> {
    let policy = crate::parser::parse(source, limits)?;
    Ok(Printer::new(&policy, Some(source)).policy(&policy))
}

struct Printer<'a> {
    out: String,
    /// Comments sorted by position; `next` is the first not yet printed.
    comments: Vec<&'a Comment>,
    next: usize,
    source: Option<&'a str>,
    /// Where the last printed thing ended in the source, for blank-line checks.
    last_end: u32,
}

impl<'a> Printer<'a> {
    fn new(policy: &'a Policy, source: Option<&'a str>) -> Self {
        let mut comments: Vec<&Comment> = policy.comments.iter().collect();
        comments.sort_by_key(|c| c.span.start);
        Self {
            out: String::new(),
            comments,
            next: 0,
            source,
            last_end: 0,
        }
    }

    fn policy(mut self, p: &Policy) -> String {
        self.leading(0, p.name.span, p.name.span.end, Blank::Never);
        self.out.push_str("policy ");
        self.out.push_str(&p.name.name);
        self.trailing(p.name.span.end);
        let mut prev_group = None;
        for item in &p.items {
            // Decided before printing: whether a shape fits depends on unprinted comments.
            let group = self.group(item);
            let blank = if group.is_some() && group == prev_group {
                Blank::Source
            } else {
                Blank::Always
            };
            self.item(item, blank);
            prev_group = group;
        }
        while let Some(c) = self.comments.get(self.next).copied() {
            if self.has_blank(self.last_end, c.span.start) {
                self.blank_line();
            }
            self.comment_line(0, c);
        }
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.out
    }

    fn item(&mut self, item: &Item, blank: Blank) {
        let span = item.span();
        match item {
            Item::Role(r) => self.simple(0, span, blank, &role(r)),
            Item::Grant(g) => self.simple(0, span, blank, &grant(g)),
            Item::Rule(r) => self.simple(0, span, blank, &rule(r)),
            Item::Limit(l) => self.simple(0, span, blank, &limit(l)),
            Item::Script(s) => self.simple(0, span, blank, &format!("script {{{}}}", s.source)),
            Item::Cookies(c) => {
                let open = after(span.start, "cookies");
                let rules: Vec<_> = c.rules.iter().map(|r| (r.span, cookie_rule(r))).collect();
                self.block(span, open, blank, "cookies", &rules);
            }
            Item::Hosts(h) => {
                let list = join(&h.hosts, |s| string(&s.value));
                self.simple(0, span, blank, &format!("hosts: {list}"));
            }
            Item::Shape(s) => self.shape(s, blank),
            Item::Route(r) => {
                let open = r.patterns.last().map_or(span.start, |p| p.span.end);
                let mut head = String::from("route ");
                if !r.methods.is_empty() {
                    head.push_str(&idents(&r.methods));
                    head.push(' ');
                }
                head.push_str(&join(&r.patterns, |p| p.text.clone()));
                let body: Vec<_> = r.body.iter().map(|s| (s.span(), route_stmt(s))).collect();
                self.block(span, open, blank, &head, &body);
            }
            Item::Headers(h) => {
                let open = after(span.start, "headers");
                let entries: Vec<_> = h
                    .entries
                    .iter()
                    .map(|e| (e.span, header_entry(e)))
                    .collect();
                self.block(span, open, blank, "headers", &entries);
            }
            Item::Proxies(p) => {
                let open = after(span.start, "proxies");
                let entries: Vec<_> = p
                    .entries
                    .iter()
                    .map(|e| (e.span, proxies_entry(e)))
                    .collect();
                self.block(span, open, blank, "proxies", &entries);
            }
            Item::Cors(c) => {
                let open = after(span.start, "cors");
                let entries: Vec<_> = c.entries.iter().map(|e| (e.span, cors_entry(e))).collect();
                self.block(span, open, blank, "cors", &entries);
            }
            Item::Startup(st) => {
                let open = after(span.start, "startup");
                let checks: Vec<_> = st
                    .checks
                    .iter()
                    .map(|c| (c.span, startup_check(c)))
                    .collect();
                self.block(span, open, blank, "startup", &checks);
            }
            Item::Auth(a) => {
                let head = format!("auth {}", a.kind.keyword());
                let entries: Vec<_> = a.entries.iter().map(|e| (e.span, auth_entry(e))).collect();
                self.block(span, a.kind_span.end, blank, &head, &entries);
            }
        }
    }

    /// One-line items of one kind stay together without blank lines.
    fn group(&self, item: &Item) -> Option<u8> {
        match item {
            Item::Role(_) => Some(0),
            Item::Grant(_) => Some(1),
            Item::Limit(_) => Some(2),
            Item::Shape(s) => self.one_line_shape(s).map(|_| 3),
            _ => None,
        }
    }

    /// The shape on one line, if it fits and has no comment inside.
    fn one_line_shape(&self, s: &ShapeDecl) -> Option<String> {
        let (head, open) = shape_head(s);
        let attrs: Vec<String> = s.attrs.iter().map(attr).collect();
        let one_line = if attrs.is_empty() {
            format!("{head} {{}}")
        } else {
            format!("{head} {{ {} }}", attrs.join(", "))
        };
        let inner_comment = self.comments[self.next..]
            .iter()
            .any(|c| c.span.start >= open && c.span.start < s.span.end);
        (!inner_comment && width(&one_line) <= MAX_WIDTH).then_some(one_line)
    }

    fn shape(&mut self, s: &ShapeDecl, blank: Blank) {
        if let Some(one_line) = self.one_line_shape(s) {
            self.simple(0, s.span, blank, &one_line);
            return;
        }
        // One attribute a line; every line ends with a comma so that adding one is a
        // one-line change.
        let (head, open) = shape_head(s);
        let attrs: Vec<_> = s
            .attrs
            .iter()
            .map(|a| (a.span, format!("{},", attr(a))))
            .collect();
        self.block(s.span, open, blank, &head, &attrs);
    }

    /// An entry printed on its own line(s), with no comment inside it.
    fn simple(&mut self, depth: usize, span: Span, blank: Blank, text: &str) {
        self.leading(depth, span, span.end, blank);
        self.indent(depth);
        self.out.push_str(text);
        self.trailing(span.end);
    }

    /// `head { entries }`: the opening line ends at source position `open`; comments after
    /// it and before the closing brace belong to the entries, given as span and text.
    fn block(
        &mut self,
        span: Span,
        open: u32,
        blank: Blank,
        head: &str,
        entries: &[(Span, String)],
    ) {
        self.leading(0, span, open, blank);
        self.out.push_str(head);
        if entries.is_empty() && self.peek_before(span.end).is_none() {
            self.out.push_str(" {}");
            self.trailing(span.end);
            return;
        }
        self.out.push_str(" {");
        match self.peek_before(span.end) {
            Some(c) if self.same_line(open, c.span.start) => {
                self.push_comment(c);
                self.next += 1;
            }
            _ => {}
        }
        self.out.push('\n');
        self.last_end = open;
        for (i, (espan, text)) in entries.iter().enumerate() {
            let blank = if i == 0 { Blank::Never } else { Blank::Source };
            self.simple(1, *espan, blank, text);
        }
        let mut first = entries.is_empty();
        while let Some(c) = self.peek_before(span.end) {
            if !first && self.has_blank(self.last_end, c.span.start) {
                self.blank_line();
            }
            self.comment_line(1, c);
            first = false;
        }
        self.out.push('}');
        self.trailing(span.end);
    }

    /// Comments before an entry, then those inside its first `hoist_end - span.start`
    /// bytes (they have no place inside a one-line construct), then the blank line the
    /// entry gets; leaves the cursor at the entry's indentation point.
    fn leading(&mut self, depth: usize, span: Span, hoist_end: u32, blank: Blank) {
        let mut first = true;
        while let Some(c) = self.peek_before(span.start) {
            if self.wants_blank(first, blank, c.span.start) {
                self.blank_line();
            }
            self.comment_line(depth, c);
            first = false;
        }
        if self.wants_blank(first, blank, span.start) {
            self.blank_line();
        }
        while let Some(c) = self.peek_before(hoist_end) {
            self.comment_line(depth, c);
        }
        self.last_end = span.start;
    }

    fn wants_blank(&self, first: bool, blank: Blank, at: u32) -> bool {
        match (first, blank) {
            (true, Blank::Always) => true,
            (true, Blank::Never) => false,
            _ => self.has_blank(self.last_end, at),
        }
    }

    /// A comment on the same source line after `end` stays on this line; then the line ends.
    fn trailing(&mut self, end: u32) {
        self.last_end = self.last_end.max(end);
        if let Some(c) = self.comments.get(self.next).copied() {
            if c.span.start >= end && self.same_line(end, c.span.start) {
                self.push_comment(c);
                self.next += 1;
                self.last_end = c.span.end;
            }
        }
        self.out.push('\n');
    }

    fn peek_before(&self, pos: u32) -> Option<&'a Comment> {
        self.comments
            .get(self.next)
            .copied()
            .filter(|c| c.span.start < pos)
    }

    fn comment_line(&mut self, depth: usize, c: &Comment) {
        self.indent(depth);
        self.out.push('#');
        self.out.push_str(c.text.trim_end());
        self.out.push('\n');
        self.next += 1;
        self.last_end = c.span.end;
    }

    fn push_comment(&mut self, c: &Comment) {
        self.out.push_str(" #");
        self.out.push_str(c.text.trim_end());
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Whether the source between two positions holds an empty line. False without source.
    fn has_blank(&self, from: u32, to: u32) -> bool {
        let Some(gap) = self.gap(from, to) else {
            return false;
        };
        let lines: Vec<&str> = gap.split('\n').collect();
        lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    /// Whether two positions are on one source line. False without source.
    fn same_line(&self, from: u32, to: u32) -> bool {
        self.gap(from, to).is_some_and(|g| !g.contains('\n'))
    }

    fn gap(&self, from: u32, to: u32) -> Option<&'a str> {
        self.source?.get(from as usize..to as usize)
    }
}

/// How an entry is separated from the one before it.
#[derive(Clone, Copy)]
enum Blank {
    /// Always one blank line (items of different kinds).
    Always,
    /// Only where the source has one (grouped one-line items, block statements).
    Source,
    /// Never (the first statement of a block, the header).
    Never,
}

/// The position just past a keyword written at `start`; saturating, since a tree built
/// by hand may carry any span.
fn after(start: u32, keyword: &str) -> u32 {
    start.saturating_add(keyword.len() as u32)
}

/// `principal`, `resource NAME`, ...: the text before `{`, and where it ends in the source.
fn shape_head(s: &ShapeDecl) -> (String, u32) {
    match &s.kind {
        ShapeKind::Principal => ("principal".to_string(), after(s.span.start, "principal")),
        ShapeKind::Resource(name) => (format!("resource {}", name.name), name.span.end),
        ShapeKind::Context => ("context".to_string(), after(s.span.start, "context")),
        ShapeKind::Input => ("input".to_string(), after(s.span.start, "input")),
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn join<T>(xs: &[T], f: impl Fn(&T) -> String) -> String {
    xs.iter().map(f).collect::<Vec<_>>().join(", ")
}

fn idents(xs: &[Ident]) -> String {
    join(xs, |i| i.name.clone())
}

fn actions(xs: &[ActionPat]) -> String {
    join(xs, |a| a.kind.to_string())
}

fn role(r: &RoleDecl) -> String {
    if r.parents.is_empty() {
        format!("role {}", r.name.name)
    } else {
        format!("role {} > {}", r.name.name, idents(&r.parents))
    }
}

fn grant(g: &GrantDecl) -> String {
    format!("grant {}: {}", idents(&g.roles), actions(&g.actions))
}

fn attr(a: &AttrDecl) -> String {
    let opt = if a.optional { "?" } else { "" };
    format!("{}: {}{opt}", a.name.name, a.ty)
}

fn rule(r: &Rule) -> String {
    let effect = match r.effect {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    };
    let mut head = format!("{effect} {}", actions(&r.actions));
    if !r.on.is_empty() {
        head.push_str(" on ");
        head.push_str(&idents(&r.on));
    }
    let mut clauses = Vec::new();
    if let Some(c) = &r.cond {
        let kw = match c.kind {
            CondKind::If => "if",
            CondKind::Unless => "unless",
        };
        clauses.push(format!("{kw} {}", expr(&c.expr)));
    }
    if let Some(b) = &r.because {
        clauses.push(format!("because {}", string(&b.value)));
    }
    if let Some(m) = r.missing {
        clauses.push(match m {
            OnMissing::Skip => "missing skip".to_string(),
            OnMissing::Deny => "missing deny".to_string(),
        });
    }
    let one_line = std::iter::once(head.clone())
        .chain(clauses.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if width(&one_line) <= MAX_WIDTH {
        return one_line;
    }
    for c in clauses {
        head.push('\n');
        head.push_str(INDENT);
        head.push_str(&c);
    }
    head
}

fn limit(l: &LimitDecl) -> String {
    let strict = if l.strict { " strict" } else { "" };
    format!(
        "limit {}: {} per {} by {}{strict}",
        l.name.name,
        l.count,
        duration(&l.per),
        expr(&l.key)
    )
}

fn duration(d: &Duration) -> String {
    format!("{}{}", d.value, d.unit.suffix())
}

fn route_stmt(s: &RouteStmt) -> String {
    match s {
        RouteStmt::Public(_) => "public".to_string(),
        RouteStmt::Limit(names, _) => format!("limit {}", idents(names)),
        RouteStmt::HeaderSet { name, value, .. } => {
            format!("header set {}: {}", name.name, string(&value.value))
        }
        RouteStmt::HeaderDrop { name, .. } => format!("header drop {}", name.name),
        RouteStmt::HeaderSetExpr { name, value, .. } => {
            format!("header set {}: {}", name.name, expr(value))
        }
        RouteStmt::LimitOnly(names, _) => format!("limit {} only", idents(names)),
        RouteStmt::Require(r) => {
            let mut s = String::from("require ");
            match &r.kind {
                ReqKind::Auth => s.push_str("auth"),
                ReqKind::Role(roles) => {
                    s.push_str("role ");
                    s.push_str(&idents(roles));
                }
                ReqKind::Signature(sig) => {
                    s.push_str(&format!(
                        "signature {}(header {}, {})",
                        sig.scheme.name,
                        sig.header.name,
                        expr(&sig.secret)
                    ));
                    if let Some(t) = &sig.tolerance {
                        s.push_str(&format!(" tolerance {}", duration(t)));
                    }
                }
                ReqKind::First(e) => {
                    s.push_str("first ");
                    s.push_str(&expr(e));
                }
                ReqKind::Expr(e) => {
                    let text = expr(e);
                    // `require auth ...`, `require role ...` and `require first ...` are
                    // the other forms: a condition that starts with such a bare name
                    // needs parentheses.
                    if ["auth", "role", "first"]
                        .iter()
                        .any(|w| starts_with_word(&text, w))
                    {
                        s.push_str(&format!("({text})"));
                    } else {
                        s.push_str(&text);
                    }
                }
            }
            match &r.otherwise {
                None => {}
                Some(Otherwise::Status(code, _)) => s.push_str(&format!(" else {code}")),
                Some(Otherwise::Redirect {
                    status, location, ..
                }) => {
                    s.push_str(" else redirect ");
                    if let Some(code) = status {
                        s.push_str(&format!("{code} "));
                    }
                    s.push_str(&string(&location.value));
                }
            }
            s
        }
    }
}

fn cookie_rule(r: &CookieRule) -> String {
    let attrs = join(&r.attrs, |a| match &a.kind {
        CookieAttrKind::SameSite(s) => format!("same_site {}", s.keyword()),
        CookieAttrKind::Path(p) => format!("path {}", string(&p.value)),
        CookieAttrKind::MaxAge(d) => format!("max_age {}", duration(d)),
        k => k.keyword().to_string(),
    });
    format!("{}: {attrs}", r.name.name)
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.strip_prefix(word).is_some_and(|rest| {
        !rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn header_entry(e: &HeaderEntry) -> String {
    let mut s = format!("{}: {}", e.name.name, string(&e.value.value));
    if let Some(c) = &e.cond {
        s.push_str(" if ");
        s.push_str(&expr(c));
    }
    s
}

/// Like a rule: one line when it fits (inside the block's indent), else `if` and
/// `because` on lines of their own.
fn startup_check(c: &StartupCheck) -> String {
    let mut head = format!("require {}", expr(&c.expr));
    let mut clauses = Vec::new();
    if let Some(cond) = &c.cond {
        clauses.push(format!("if {}", expr(cond)));
    }
    if let Some(b) = &c.because {
        clauses.push(format!("because {}", string(&b.value)));
    }
    let one_line = std::iter::once(head.clone())
        .chain(clauses.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if INDENT.len() + width(&one_line) <= MAX_WIDTH {
        return one_line;
    }
    for c in clauses {
        head.push('\n');
        head.push_str(INDENT);
        head.push_str(INDENT);
        head.push_str(&c);
    }
    head
}

fn auth_entry(e: &AuthEntry) -> String {
    let keys = |ks: &[KeyRef]| {
        join(ks, |k| {
            let q = if k.optional { "?" } else { "" };
            format!("{}({}){q}", k.kind.keyword(), k.name.name)
        })
    };
    match &e.value {
        AuthValue::From(CredSource::Header(n)) => format!("from: header {}", n.name),
        AuthValue::From(CredSource::Cookie(n)) => format!("from: cookie {}", n.name),
        AuthValue::Algorithms(xs) => format!("algorithms: {}", idents(xs)),
        AuthValue::Keys(ks) => format!("keys: {}", keys(ks)),
        AuthValue::Issuer(xs) => format!("issuer: {}", join(xs, auth_text)),
        AuthValue::Audience(xs) => format!("audience: {}", join(xs, auth_text)),
        AuthValue::Leeway(d) => format!("leeway: {}", duration(d)),
        AuthValue::Claim { attr, claims } => {
            let names: Vec<String> = claims.iter().map(claim_name).collect();
            format!("principal.{}: {}", attr.name, names.join(" ?? "))
        }
        AuthValue::Key {
            keys: ks,
            principal,
            hashes,
        } => {
            let fields = join(principal, |f| {
                format!("{}: {}", f.name.name, expr(&f.value))
            });
            let mut all: Vec<String> = hashes
                .iter()
                .map(|h| format!("sha256({})", string(&h.hex.value)))
                .collect();
            if !ks.is_empty() {
                all.push(keys(ks));
            }
            let all = all.join(", ");
            if fields.is_empty() {
                format!("key {all} as {{}}")
            } else {
                format!("key {all} as {{ {fields} }}")
            }
        }
        AuthValue::MaxAge(d) => format!("max_age: {}", duration(d)),
        AuthValue::RequireClaim { claim, value } => {
            format!(
                "require_claim {} == {}",
                claim_name(claim),
                string(&value.value)
            )
        }
        AuthValue::Revoked(xs) => format!("revoked: {}", join(xs, |s| string(&s.value))),
    }
}

fn auth_text(t: &AuthText) -> String {
    match t {
        AuthText::Lit(s) => string(&s.value),
        AuthText::Config(n) => format!("config({})", n.name),
    }
}

fn claim_name(c: &ClaimName) -> String {
    if c.quoted {
        string(&c.name)
    } else {
        c.name.clone()
    }
}

fn proxies_entry(e: &ProxiesEntry) -> String {
    let values = match &e.value {
        ProxiesValue::Trusted(xs) => join(xs, |s| string(&s.value)),
        ProxiesValue::Hops { value, .. } => value.to_string(),
        ProxiesValue::Header(h) => h.name.clone(),
    };
    let mut s = format!("{}: {values}", e.value.key());
    if let Some(c) = &e.cond {
        s.push_str(" if ");
        s.push_str(&expr(c));
    }
    s
}

fn cors_entry(e: &CorsEntry) -> String {
    let values = match &e.value {
        CorsValue::Origins(xs) => join(xs, |s| string(&s.value)),
        CorsValue::Methods(xs) | CorsValue::Headers(xs) | CorsValue::Expose(xs) => idents(xs),
        CorsValue::Credentials(b) | CorsValue::RefuseUnlisted(b) => b.to_string(),
        CorsValue::MaxAge(d) => duration(d),
        CorsValue::OriginsFrom {
            setting,
            separator,
            fallback,
        } => {
            let mut s = format!(
                "split(config({}), {})",
                setting.name,
                string(&separator.value)
            );
            if !fallback.is_empty() {
                s.push_str(" ?? ");
                s.push_str(&join(fallback, |f| string(&f.value)));
            }
            s
        }
    };
    let mut s = format!("{}: {values}", e.value.key());
    if let Some(c) = &e.cond {
        s.push_str(" if ");
        s.push_str(&expr(c));
    }
    s
}

// ---------------------------------------------------------------- expressions

/// Binding strength of what an expression prints as; operands print in parentheses
/// when they bind less tightly than their context needs.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Not(_) => NOT_PRECEDENCE,
        ExprKind::Matches { .. } | ExprKind::Is { .. } => MATCH_PRECEDENCE,
        ExprKind::Len(_) | ExprKind::IsInt(_) => LEN_PRECEDENCE,
        ExprKind::IsIn { .. } => MATCH_PRECEDENCE,
        // `else` takes everything after it: an `if` inside an operator needs parentheses.
        ExprKind::IfElse { .. } => 0,
        _ => ATOM_PRECEDENCE,
    }
}

/// `.len` binds tighter than every binary operator.
const LEN_PRECEDENCE: u8 = 7;
const ATOM_PRECEDENCE: u8 = 8;

/// Print an expression with the fewest parentheses that parse back to the same tree.
pub fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn write_operand(out: &mut String, e: &Expr, parens: bool) {
    if parens {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Str(s) => out.push_str(&string(s)),
        ExprKind::Num(n) => out.push_str(&n.to_string()),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Size { value, unit } => out.push_str(&format!("{value}{}", unit.suffix())),
        ExprKind::Duration { value, unit } => {
            out.push_str(&format!("{value}{}", unit.suffix()));
        }
        ExprKind::List(items) => {
            out.push('[');
            write_list(out, items);
            out.push(']');
        }
        ExprKind::Path(p) => {
            out.push_str(p.root.keyword());
            for a in &p.attrs {
                out.push('.');
                out.push_str(&a.name);
            }
        }
        ExprKind::Header(h) => {
            out.push_str("header ");
            out.push_str(&h.name);
        }
        ExprKind::Ip => out.push_str("ip"),
        ExprKind::Env => out.push_str("env"),
        ExprKind::Cookie(name) => out.push_str(&format!("cookie {}", name.name)),
        ExprKind::Config(name) => out.push_str(&format!("config({})", name.name)),
        ExprKind::Secret { name, optional } => {
            out.push_str(&format!("secret({})", name.name));
            if *optional {
                out.push('?');
            }
        }
        ExprKind::RoleName(name) => out.push_str(&name.name),
        ExprKind::Call { func, args } => {
            out.push_str(&func.name);
            out.push('(');
            write_list(out, args);
            out.push(')');
        }
        ExprKind::Not(inner) => {
            out.push_str("not ");
            write_operand(out, inner, precedence(inner) < NOT_PRECEDENCE);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            // `x is r in y` reads as a role held in an organization: keep `(x is r) in y`.
            let is_lhs = *op == BinOp::In && matches!(lhs.kind, ExprKind::Is { .. });
            // Left-associative: an equal-precedence operand needs parentheses on the right only.
            write_operand(out, lhs, precedence(lhs) < p || is_lhs);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(out, rhs, precedence(rhs) <= p);
        }
        ExprKind::Matches { expr, regex: re } => {
            write_operand(out, expr, precedence(expr) < MATCH_PRECEDENCE);
            out.push_str(" matches /");
            out.push_str(&regex(&re.value));
            out.push('/');
        }
        ExprKind::Is { expr, role } => {
            write_operand(out, expr, precedence(expr) < MATCH_PRECEDENCE);
            out.push_str(" is ");
            out.push_str(&role.name);
        }
        ExprKind::Len(inner) => {
            write_operand(out, inner, precedence(inner) < LEN_PRECEDENCE);
            out.push_str(".len");
        }
        ExprKind::IsInt(inner) => {
            write_operand(out, inner, precedence(inner) < LEN_PRECEDENCE);
            out.push_str(".is_int");
        }
        ExprKind::Now => out.push_str("now"),
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("if ");
            write_expr(out, cond);
            out.push_str(" then ");
            write_expr(out, then);
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::Lower(inner) => {
            out.push_str("lower(");
            write_expr(out, inner);
            out.push(')');
        }
        ExprKind::HeaderSafe { text, max } => {
            out.push_str("header_safe(");
            write_expr(out, text);
            out.push_str(", ");
            write_expr(out, max);
            out.push(')');
        }
        ExprKind::IsIn { expr, role, org } => {
            write_operand(out, expr, precedence(expr) < MATCH_PRECEDENCE);
            out.push_str(" is ");
            out.push_str(&role.name);
            out.push_str(" in ");
            // The organization is a path, a string or a parenthesised expression.
            let bare = matches!(org.kind, ExprKind::Path(_) | ExprKind::Str(_));
            write_operand(out, org, !bare);
        }
    }
}

fn write_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item);
    }
}

/// A string literal with the escapes the parser reads back.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text of a regex literal: a `/` becomes `\/`, and a `\` with the character after
/// it is copied as written, as the parser's `unescape_regex` reads it.
pub fn regex(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '/' => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out
}
