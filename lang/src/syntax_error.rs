//! pest errors -> diagnostics with "expected ..." in words, and recovery so that one
//! run reports the syntax errors of every top-level item, not only the first.

use crate::ast::{Span, ITEM_KEYWORDS};
use crate::diag::Diagnostic;
use crate::limits::Limits;
use crate::parser::grammar::diag::Rule;
use crate::parser::grammar::{parse_diag, parse_fragment};
use pest::error::{Error, ErrorVariant, InputLocation};
use std::sync::{Mutex, PoisonError};

/// Diagnostics for a file that the lowered parser refused: the diagnostic parser's
/// error (see `parser/grammar.rs`), then one for every broken item.
pub(crate) fn diagnose(source: &str, limits: &Limits) -> Vec<Diagnostic> {
    match parse_diag(source) {
        Err(first) => recover(source, first, limits),
        // The two parsers accept the same text (`parser::tests` holds them to it); were
        // they ever to disagree, say so rather than accept a policy that was not lowered.
        Ok(()) => vec![Diagnostic::error(
            "syntax",
            Span::new(0, 0),
            "the policy parses with the diagnostic grammar but not with the one that is \
             lowered: a bug in Warden, please report it with the policy"
                .to_string(),
        )],
    }
}

/// Turn the first error of a whole-file parse into diagnostics for every broken item.
fn recover(source: &str, first: Error<Rule>, limits: &Limits) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let starts = item_starts(source);
    // Text before the first item keyword is the header.
    let mut bounds: Vec<(usize, bool)> = vec![(0, true)];
    bounds.extend(starts.iter().map(|&s| (s, false)));
    bounds.dedup_by_key(|b| b.0);
    for (i, &(start, header)) in bounds.iter().enumerate() {
        let end = bounds.get(i + 1).map_or(source.len(), |b| b.0);
        let text = &source[start..end];
        let header = header && !starts.contains(&start);
        if !header && text.trim().is_empty() {
            continue;
        }
        // Most items of a broken file are fine: check each at full speed, and parse
        // again with error detail only the broken ones.
        if parse_fragment(text, header).is_ok() {
            continue;
        }
        let detailed = {
            // Record the literal tokens (`:`, `)`, `}` ...) each failed attempt wanted,
            // so that "expected ..." can name them; only here, as it slows parsing 3x.
            let _detail = ErrorDetail::on();
            parse_fragment(text, header)
        };
        if let Err(e) = detailed {
            diags.push(to_diagnostic(source, &e, start, end));
            if diags.len() >= limits.max_syntax_errors {
                break;
            }
        }
    }
    // Segmenting can fail to reproduce an error that spans items (an unclosed brace
    // swallowing the rest of the file): then the whole-file error is the one to report.
    if diags.is_empty() {
        diags.push(to_diagnostic(source, &first, 0, source.len()));
    }
    diags
}

/// pest's error-detail switch is process-wide: it stays on while any thread recovers,
/// and goes off with the last one, so that valid policies parse at full speed.
struct ErrorDetail;

static RECOVERING: Mutex<usize> = Mutex::new(0);

impl ErrorDetail {
    fn on() -> Self {
        let mut n = RECOVERING.lock().unwrap_or_else(PoisonError::into_inner);
        *n += 1;
        pest::set_error_detail(true);
        ErrorDetail
    }
}

impl Drop for ErrorDetail {
    fn drop(&mut self) {
        let mut n = RECOVERING.lock().unwrap_or_else(PoisonError::into_inner);
        *n = n.saturating_sub(1);
        if *n == 0 {
            pest::set_error_detail(false);
        }
    }
}

/// Byte offsets of lines that begin (in column 1) with an item keyword.
fn item_starts(source: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let word_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(line.len());
        if ITEM_KEYWORDS.contains(&&line[..word_end]) {
            out.push(offset);
        }
        offset += line.len();
    }
    out
}

/// `e` is an error in the fragment `source[base..end]`.
fn to_diagnostic(source: &str, e: &Error<Rule>, base: usize, end: usize) -> Diagnostic {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut pos = base + pos;
    // Past the end of the fragment's text, what is missing belongs after its last
    // token: point there, not at the next declaration or a blank line.
    // A fragment holding only comments (a missing header) keeps pointing at the next token.
    let has_code = source.get(base..pos).is_some_and(|b| {
        b.lines()
            .any(|l| !l.split('#').next().unwrap_or("").trim().is_empty())
    });
    let at_end = has_code
        && source
            .get(pos..end)
            .is_none_or(|rest| rest.trim().is_empty());
    let found = if at_end {
        pos = source
            .get(..pos)
            .map_or(pos, |before| before.trim_end().len());
        None
    } else {
        // Point past blanks at the next token, as a person reads the line.
        if let Some(rest) = source.get(pos..) {
            pos += rest.len() - rest.trim_start().len();
        }
        found_at(source, pos)
    };
    let at = pos as u32;
    let len = found.as_ref().map_or(0, |f| f.len() as u32).max(1);
    let message = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut expected: Vec<&str> = positives
                .iter()
                // `report_only` may end almost any rule, limit or requirement: naming
                // it in every such error would bury what is actually expected.
                .filter(|r| !matches!(r, Rule::WHITESPACE | Rule::COMMENT | Rule::report_only))
                .map(|r| phrase(*r))
                .map(|p| match p {
                    // Recovery parses one item at a time: the end of its input is where
                    // the next declaration may start.
                    "end of file" => "a declaration",
                    p => p,
                })
                .collect();
            let tokens = literal_tokens(e);
            expected.extend(tokens.iter().map(String::as_str));
            expected.sort_unstable();
            expected.dedup();
            if expected.contains(&"a route statement") || expected.contains(&"a declaration") {
                expected.retain(|e| *e != "`limit`");
            }
            if expected.contains(&"an expression") {
                // One phrase for everything that can start an operand.
                expected.retain(|e| !STARTS_EXPRESSION.contains(e));
            }
            if expected.contains(&"an operator") {
                expected.retain(|e| !OPERATOR_TOKENS.contains(e));
            }
            let found = match (&found, at_end) {
                (Some(f), _) => format!("`{f}`"),
                (None, true) if end < source.len() => "the next declaration".to_string(),
                (None, _) => "end of file".to_string(),
            };
            if found == "`\"`" && expected.contains(&"a string") {
                "string is not closed: it needs a `\"` before the end of the line".to_string()
            } else if expected.is_empty() {
                format!("unexpected {found}")
            } else {
                format!("expected {}, found {found}", one_of(&expected))
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let (code, help) = if message.contains("call limit") {
        (
            "parser-call-limit",
            "the policy is too complex to parse; simplify it or raise `Limits::max_parser_calls`",
        )
    } else {
        (
            "syntax",
            "see docs/LANGUAGE.md for the syntax of each construct",
        )
    };
    // Never past the end: an error at the end of input underlines nothing.
    let end_at = (at + len).min(source.len() as u32);
    Diagnostic::error(code, Span::new(at, end_at.max(at)), message)
        .with_label("here")
        .with_help(help)
}

/// Phrases of rules and tokens that can start an operand; "an expression" says them all.
const STARTS_EXPRESSION: &[&str] = &[
    "`not`",
    "`true` or `false`",
    "a duration such as `15m`",
    "a size such as `10MB`",
    "a number",
    "a string",
    "a name",
    "`header`",
    "`(`",
    "`[`",
    "`-`",
];

/// Operator tokens; "an operator" says them all.
const OPERATOR_TOKENS: &[&str] = &[
    "`==`", "`!=`", "`<=`", "`>=`", "`<`", "`>`", "`??`", "`+`", "`.`",
];

/// The punctuation a failed parse wanted at its furthest position (`:`, `,`, `)` ...),
/// which pest keeps apart from rule names. Words are left out: the rules name them.
fn literal_tokens(e: &Error<Rule>) -> Vec<String> {
    let Some(attempts) = e.parse_attempts() else {
        return Vec::new();
    };
    attempts
        .expected_tokens()
        .into_iter()
        // pest does not name the token type; its text is enough, and ranges and
        // built-in rules (`a..z`, `BUILTIN_RULE`) hold letters, so the filter drops them.
        .map(|t| t.to_string())
        .filter(|t| {
            !t.is_empty()
                && !t.chars().any(|c| c.is_alphanumeric() || c.is_whitespace() || c == '#')
                // Openers of tokens that rules already name: strings, regexes and
                // paths, names, negative numbers, the byte-order mark.
                && !matches!(t.as_str(), "\"" | "/" | "_" | "-" | "'" | "\u{FEFF}")
        })
        .map(|t| format!("`{t}`"))
        .collect()
}

/// The token at `pos`, for "found `...`"; `None` at the end of input.
fn found_at(text: &str, pos: usize) -> Option<String> {
    let rest = text.get(pos..)?;
    let mut chars = rest.chars();
    let first = chars.next()?;
    let tok: String = if first.is_alphanumeric() || first == '_' {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .take(40)
            .collect()
    } else {
        first.to_string()
    };
    if tok.chars().any(char::is_control) {
        Some(format!("{:?}", first).trim_matches('\'').to_string())
    } else {
        Some(tok)
    }
}

fn one_of(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Grammar rules named as a person would.
fn phrase(rule: Rule) -> &'static str {
    use Rule::*;
    match rule {
        EOI => "end of file",
        file | header | header_only | kw_policy => "`policy NAME`",
        item_only | role_decl | grant_decl | shape_decl | rule_decl | limit_decl | route_decl
        | headers_decl | cors_decl | startup_decl | script_decl | kw_role | kw_grant
        | kw_principal | kw_resource | kw_context | kw_input | effect | kw_route | kw_headers
        | kw_cors | kw_startup | kw_script | auth_decl | kw_auth => "a declaration",
        auth_kind => "`jwt`, `api_key` or `nextauth`",
        auth_from | auth_algorithms | auth_keys | auth_issuer | auth_audience | auth_leeway
        | auth_claim | auth_key | kw_key | auth_max_age | auth_require_claim | auth_revoked => {
            "an auth setting (`from`, `algorithms`, `keys`, `issuer`, `audience`, `leeway`, `max_age`, `require_claim`, `principal.ATTR`, `key`, `revoked`)"
        }
        key_hash => "`sha256(\"HEX\")`",
        from_header | from_cookie | kw_cookie => "`header NAME` or `cookie NAME`",
        key_ref | key_kind => "`secret(NAME)`, `public_key(NAME)` or `jwks(NAME)`",
        claim_name | claim_path => "a claim name such as `sub`",
        kw_as => "`as`",
        principal_field => "an attribute such as `id: \"svc\"`",
        kw_header => "`header`",
        ident | ident_list | role_name => "a name",
        action_list | action => "an action such as `posts:read`",
        attr_decl => "an attribute such as `org: string`",
        type_expr | set_type | kw_set | map_type | kw_map => "a type",
        optional_mark => "`?`",
        condition | cond_kind | kw_if => "`if` or `unless`",
        because | kw_because => "`because`",
        missing | kw_missing => "`missing`",
        missing_mode => "`skip` or `deny`",
        strict => "`strict`",
        limit_only => "`only`",
        report_only => "`report_only`",
        hosts_decl | kw_hosts => "a declaration",
        req_signature | kw_signature => "`signature`",
        kw_tolerance => "`tolerance`",
        cookies_decl | kw_cookies | proxies_decl | kw_proxies => "a declaration",
        cookie_rule => "a cookie rule such as `session: http_only, secure`",
        cookie_attr | ca_http_only | ca_secure | ca_same_site | ca_path | ca_max_age
        | kw_same_site | kw_cookie_path | kw_max_age => {
            "a cookie attribute (`http_only`, `secure`, `same_site`, `path`, `max_age`)"
        }
        same_site_value => "`strict`, `lax` or `none`",
        kw_on => "`on`",
        kw_per => "`per`",
        kw_limit => "`limit`",
        kw_by => "`by`",
        method_list | method => "an HTTP method",
        route_pattern => "a path such as `/api/**`",
        public_stmt | require_stmt | limit_ref | header_set | header_drop | kw_require => {
            "a route statement"
        }
        req_auth => "`auth`",
        req_role => "`role`",
        req_first | kw_first => "`first`",
        otherwise | kw_else => "`else`",
        redirect | kw_redirect => "`redirect`",
        status => "a status such as `403`",
        kw_drop => "`drop`",
        header_name => "a header name",
        cookie_name => "a cookie name",
        header_entry => "a header such as `X-Frame-Options: \"DENY\"`",
        cors_entry | cors_origins | cors_methods | cors_headers | cors_expose
        | cors_credentials | cors_max_age | cors_refuse_unlisted => {
            "a cors setting (`origins`, `methods`, `headers`, `expose`, `credentials`, `max_age`, `refuse_unlisted`)"
        }
        proxies_entry | proxies_trusted | proxies_hops | proxies_header => {
            "a proxies setting (`trusted`, `hops`, `header`)"
        }
        startup_check => "`require`",
        script_block => "`{`",
        expr | paren | list | env | ip | secret | config | header_ref | cookie_ref | call | path | root
        | kw_secret | kw_config | cookie_word => "an expression",
        if_expr | if_word | now | header_safe | kw_header_safe | lower | kw_lower => {
            "an expression"
        }
        kw_then => "`then`",
        origins_split => "`split(config(NAME), \",\")`",
        secret_optional => "`?`",
        op_not => "`not`",
        op_len | op_matches | op_is | op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt
        | op_gt | op_in | op_subset_of | op_contains | op_starts_with | op_ends_with | op_coalesce | op_concat
        | kw_matches | kw_is => "an operator",
        op_is_int | op_sub | op_is_in | kw_in => "an operator",
        string | string_inner => "a string",
        regex | regex_inner => "a regular expression such as `/^[a-z]+$/`",
        size => "a size such as `10MB`",
        duration => "a duration such as `15m`",
        number => "a number",
        integer => "a whole number",
        boolean => "`true` or `false`",
        reserved => "a name",
        WHITESPACE | COMMENT => "a space",
        // Silent rules never appear in errors.
        _ => "a token",
    }
}
