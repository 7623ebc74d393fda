//! Canonical formatting (`warden fmt`): a [`Policy`] back to text that parses to the same
//! tree, with every comment kept, and that formatting again leaves unchanged.
//!
//! Comments are not tree nodes; they ride along by byte position. A comment before an
//! item (or a statement of a block) is printed above it; one on the same source line after
//! it stays there; one inside a one-line construct (a rule, an expression) moves above
//! it; the rest of a block or file stays at its end. Blank lines need the source text:
//! [`format_source`] keeps at most one where the author put one, [`format_policy`]
//! (tree only) uses the canonical layout.

mod expr;
mod items;
mod layout;

pub use expr::{expr, regex, string};
pub use layout::MAX_WIDTH;

use items::{
    attr, auth_entry, cookie_rule, cors_entry, grant, header_entry, idents, join, limit,
    proxies_entry, role, route_stmt, rule, startup_check,
};
use layout::{width, INDENT};

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;

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
        if p.report_only.is_some() {
            self.out.push_str(" report_only");
        }
        self.trailing(p.report_only.unwrap_or(p.name.span).end);
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
