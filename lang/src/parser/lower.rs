//! Lowering state ([`Lower`]) and what every phase of it shares: pest pairs without
//! noise, spans, identifiers, literals, and the diagnostics of bad literals.

use super::grammar::Rule;
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;
use pest::iterators::Pair;

/// The pair's span without the blanks and comments that pest's implicit whitespace
/// leaves at its end when an optional tail is tried and not found.
pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let text = pair.as_str();
    let mut end = text.len();
    loop {
        end = text[..end].trim_end().len();
        // A comment runs to the end of its line: none can end here unless the last
        // line holds a `#`, which spares the search for nearly every pair.
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        if !text[line_start..end].contains('#') {
            break;
        }
        match comment_ending_at(pair, line_start, end) {
            Some(start) => end = start,
            None => break,
        }
    }
    Span::new(s.start() as u32, (s.start() + end) as u32)
}

/// Start, in `pair`'s text, of the comment on the line from `line_start` that ends
/// exactly at `end` (a comment runs to its line break, trailing blanks included).
fn comment_ending_at(pair: &Pair<'_, Rule>, line_start: usize, end: usize) -> Option<usize> {
    let base = pair.as_span().start();
    let literals = literal_ranges(pair.clone());
    let line = &pair.as_str()[line_start..];
    comment_spans(line, base + line_start, &literals)
        .into_iter()
        .find(|&(_, e)| e == base + end)
        .map(|(s, _)| s - base)
}

/// Whether a token of this rule may hold a `#` that is not a comment: string, regex
/// and script literals. No other token's characters include `#` (see `grammar.pest`),
/// so a `#` outside these starts a comment.
fn hides_hash(rule: Rule) -> bool {
    matches!(rule, Rule::string | Rule::regex | Rule::script_block)
}

/// Source byte ranges of the literals that may hold a `#` in `pair` and its subtree, in
/// order (pairs come in source order, and these literals never nest).
pub(super) fn literal_ranges(pair: Pair<'_, Rule>) -> Vec<(usize, usize)> {
    std::iter::once(pair.clone())
        .chain(pair.into_inner().flatten())
        .filter(|p| hides_hash(p.as_rule()))
        .map(|p| (p.as_span().start(), p.as_span().end()))
        .collect()
}

/// Comments in `text`, which starts at source byte `base`, as source byte ranges from
/// the `#` to the line break (or the text's end): every `#` outside `literals` (sorted
/// source ranges) starts one. `WHITESPACE` skips comments with the blanks, so they are
/// not pairs; this finds the same text that rule matched.
pub(super) fn comment_spans(
    text: &str,
    base: usize,
    literals: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut literals = literals.iter().peekable();
    let mut from = 0;
    while let Some(i) = text[from..].find('#') {
        let at = from + i;
        while literals.next_if(|&&(_, e)| e <= base + at).is_some() {}
        if let Some(&&(s, e)) = literals.peek() {
            if s <= base + at {
                // Inside a literal: go on after it.
                from = (e - base).min(text.len());
                continue;
            }
        }
        let stop = text[at..].find('\n').map_or(text.len(), |n| at + n);
        out.push((base + at, base + stop));
        from = stop;
    }
    out
}

/// Keywords carry no content for the tree.
pub(super) fn is_noise(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_policy
            | Rule::kw_role
            | Rule::kw_grant
            | Rule::kw_principal
            | Rule::kw_resource
            | Rule::kw_context
            | Rule::kw_input
            | Rule::kw_set
            | Rule::kw_on
            | Rule::kw_because
            | Rule::kw_missing
            | Rule::kw_limit
            | Rule::kw_per
            | Rule::kw_by
            | Rule::kw_route
            | Rule::kw_require
            | Rule::kw_else
            | Rule::kw_redirect
            | Rule::kw_header
            | Rule::kw_drop
            | Rule::kw_headers
            | Rule::kw_cors
            | Rule::kw_startup
            | Rule::kw_script
            | Rule::kw_if
            | Rule::kw_matches
            | Rule::kw_is
            | Rule::kw_secret
            | Rule::kw_config
            | Rule::cookie_word
            | Rule::kw_auth
            | Rule::kw_cookie
            | Rule::kw_key
            | Rule::kw_as
            | Rule::kw_map
            | Rule::kw_then
            | Rule::kw_in
            | Rule::kw_header_safe
            | Rule::kw_lower
            | Rule::if_word
            | Rule::kw_hosts
            | Rule::kw_proxies
            | Rule::kw_signature
            | Rule::kw_tolerance
            | Rule::kw_cookies
            | Rule::kw_same_site
            | Rule::kw_cookie_path
            | Rule::kw_max_age
    )
}

pub(super) fn inner<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_noise(p.as_rule()))
}

/// Lowering state: the limits and the errors found so far.
pub(super) struct Lower<'l> {
    pub(super) limits: &'l Limits,
    pub(super) diags: Vec<Diagnostic>,
    pub(super) comments: Vec<Comment>,
}

impl<'l> Lower<'l> {
    pub(super) fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            diags: Vec::new(),
            comments: Vec::new(),
        }
    }

    pub(super) fn ident(&mut self, p: Pair<'_, Rule>) -> Ident {
        let span = span_of(&p);
        let name = p.as_str();
        if name.len() > self.limits.max_ident_len {
            self.diags.push(
                Diagnostic::error(
                    "name-too-long",
                    Span::new(span.start, span.start + 1),
                    format!(
                        "name is {} bytes long, more than the limit of {}",
                        name.len(),
                        self.limits.max_ident_len
                    ),
                )
                .with_help("use a shorter name, or raise `Limits::max_ident_len`"),
            );
        }
        Ident {
            name: name.to_string(),
            span,
        }
    }

    pub(super) fn ident_list(&mut self, p: Pair<'_, Rule>) -> Vec<Ident> {
        inner(p).map(|i| self.ident(i)).collect()
    }

    // ------------------------------------------------------------ literals

    pub(super) fn string(&mut self, p: Pair<'_, Rule>) -> StrLit {
        let span = span_of(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        if raw.len() > self.limits.max_literal_len {
            self.diags
                .push(literal_too_long(span, raw.len(), self.limits));
        }
        let value = match unescape(raw) {
            Ok(v) => v,
            Err((offset, msg)) => {
                let at = span.start + 1 + offset as u32;
                self.diags.push(
                    Diagnostic::error("invalid-escape", Span::new(at, at + 2), msg).with_help(
                        "escapes are `\\\"`, `\\\\`, `\\n`, `\\r`, `\\t` and `\\u{XXXX}`",
                    ),
                );
                String::new()
            }
        };
        StrLit { value, span }
    }

    pub(super) fn regex(&mut self, p: Pair<'_, Rule>) -> StrLit {
        let span = span_of(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        if raw.len() > self.limits.max_literal_len {
            self.diags
                .push(literal_too_long(span, raw.len(), self.limits));
        }
        StrLit {
            value: unescape_regex(raw),
            span,
        }
    }

    pub(super) fn integer(&mut self, p: Pair<'_, Rule>) -> Option<u64> {
        match p.as_str().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.diags.push(number_too_large(span_of(&p)));
                None
            }
        }
    }

    pub(super) fn duration(&mut self, p: Pair<'_, Rule>) -> Option<Duration> {
        let span = span_of(&p);
        let (value, unit) = split_duration(p.as_str());
        match value.parse() {
            Ok(value) => Some(Duration { value, unit, span }),
            Err(_) => {
                self.diags.push(number_too_large(span));
                None
            }
        }
    }

    // ------------------------------------------------------------ expressions
}

pub(super) fn action_list(p: Pair<'_, Rule>) -> Vec<ActionPat> {
    inner(p)
        .map(|a| {
            let text = a.as_str();
            let kind = if text == "*" {
                ActionKind::Any
            } else if let Some(ns) = text.strip_suffix(":*") {
                ActionKind::Namespace(ns.to_string())
            } else {
                ActionKind::Exact(text.to_string())
            };
            ActionPat {
                kind,
                span: span_of(&a),
            }
        })
        .collect()
}

pub(super) fn split_duration(text: &str) -> (&str, DurationUnit) {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = match &text[digits.len()..] {
        "ms" => DurationUnit::Ms,
        "s" => DurationUnit::S,
        "m" => DurationUnit::M,
        "h" => DurationUnit::H,
        _ => DurationUnit::D,
    };
    (digits, unit)
}

pub(super) fn missing_ident(span: Span) -> Ident {
    Ident {
        name: String::new(),
        span,
    }
}

pub(super) fn internal(span: Span) -> Diagnostic {
    Diagnostic::error("internal", span, "internal error: malformed expression")
}

pub(super) fn number_too_large(span: Span) -> Diagnostic {
    Diagnostic::error("number-too-large", span, "number is too large")
        .with_help("numbers must fit in 64 bits")
}

pub(super) fn literal_too_long(span: Span, len: usize, limits: &Limits) -> Diagnostic {
    Diagnostic::error(
        "literal-too-long",
        Span::new(span.start, span.start + 1),
        format!(
            "literal is {len} bytes long, more than the limit of {}",
            limits.max_literal_len
        ),
    )
    .with_help("shorten it, or raise `Limits::max_literal_len`")
}

/// `\/` in a regex literal is a slash; every other escape is the regex's own.
pub(super) fn unescape_regex(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('/') => out.push('/'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Resolve string escapes; on error, the byte offset of the bad escape and a message.
pub(crate) fn unescape(raw: &str) -> Result<String, (usize, String)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'u')) => {
                let rest = &raw[i + 2..];
                let body = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .map(|(hex, _)| hex);
                let ch = body
                    .filter(|h| !h.is_empty() && h.len() <= 6)
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                match (body, ch) {
                    (Some(hex), Some(ch)) => {
                        out.push(ch);
                        for _ in 0..hex.len() + 2 {
                            chars.next();
                        }
                    }
                    _ => return Err((i, "invalid unicode escape".to_string())),
                }
            }
            Some((_, other)) => return Err((i, format!("unknown escape `\\{other}`"))),
            None => return Err((i, "string ends with a lone `\\`".to_string())),
        }
    }
    Ok(out)
}
