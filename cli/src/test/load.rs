//! Test files -> runnable suites. Requests are built and every rule of the format is
//! checked before any test runs, so a bad test file fails at its `file:line:col`.

use super::expect::Expect;
use super::schema::{self, RequestFields};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use warden::{HttpRequest, Request, Secret};
use warden_lang::ast::Span;
use warden_lang::Diagnostic;

/// The clock at the start of each test unless the file says `start`.
pub const DEFAULT_START: &str = "2026-01-01T00:00:00Z";

/// Most times one step may send its request: bounds a typo such as `repeat = 1e9`.
pub const MAX_REPEAT: i64 = 100_000;

/// A test file, ready to run.
#[derive(Debug)]
pub struct Suite {
    /// Where to read the policy: the file's `policy`, relative to the test file.
    pub policy_path: PathBuf,
    /// `policy` as written: decisions cite rules as `NAME:line` with it.
    pub policy_name: String,
    /// Where the test file names its policy, for "cannot read" errors.
    pub policy_span: Span,
    pub env: String,
    pub start_us: u64,
    pub secrets: Vec<(String, Secret)>,
    pub config: Vec<(String, String)>,
    pub tests: Vec<Case>,
    /// `[[startup]]` cases, each loaded on an engine of its own.
    pub startups: Vec<StartupCase>,
}

/// A `[[startup]]` case with the file's defaults filled in.
#[derive(Debug)]
pub struct StartupCase {
    pub name: String,
    pub env: String,
    pub secrets: Vec<(String, Secret)>,
    pub config: Vec<(String, String)>,
    pub expect: StartupExpect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupExpect {
    Load,
    /// Loading fails with an error whose message or code contains this text.
    Fail(String),
}

#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub enum Step {
    Send(Send),
    /// Move the clock forward, in microseconds.
    Advance(u64),
    /// Set the clock, in microseconds since the epoch.
    At(u64),
}

#[derive(Debug)]
pub struct Send {
    pub request: Req,
    /// Where an authorization request's `action` is written, for the vocabulary check.
    pub action_span: Option<Span>,
    pub expect: Expect,
    pub repeat: u32,
}

#[derive(Debug)]
pub enum Req {
    Authz(Box<Request>),
    Http(Box<HttpRequest>),
}

/// Parse and validate a test file; every problem found, as diagnostics into `text`.
pub fn parse(path: &Path, text: &str) -> Result<Suite, Vec<Diagnostic>> {
    let file: schema::File = toml::from_str(text).map_err(|e| {
        let span = e.span().map_or(Span::default(), span);
        // toml puts its "expected ..." on a second line; ours are one line.
        let message = e.message().trim_end().replace('\n', ": ");
        vec![Diagnostic::error("test-file", span, message)]
    })?;
    let mut errs = Errors {
        text,
        found: Vec::new(),
    };
    let start_us = match &file.start {
        None => warden::http::parse_time(DEFAULT_START).unwrap_or(0),
        Some(v) => errs.time(v).unwrap_or(0),
    };
    let mut tests = Vec::new();
    let mut names: HashMap<String, Range<usize>> = HashMap::new();
    for test in file.tests {
        let whole = errs.head(&test.span());
        let before = errs.found.len();
        let (name, fields, steps) = test.into_inner().into_parts();
        errs.unique_name(&mut names, &name);
        let request = errs.request(fields, whole.clone());
        let steps = match (request, steps) {
            (Some(_), Some(steps)) => {
                let at = steps.first().map_or(whole.clone(), Spanned::span);
                errs.at(
                    at,
                    "a test has a request with `expect`, or `steps`, not both",
                );
                Vec::new()
            }
            (Some(send), None) => vec![Step::Send(send)],
            (None, Some(steps)) if steps.is_empty() => {
                errs.at(whole, "`steps` is empty: give at least one request");
                Vec::new()
            }
            (None, Some(steps)) => steps.into_iter().filter_map(|s| errs.step(s)).collect(),
            (None, None) => {
                if errs.found.len() == before {
                    errs.missing_request(whole);
                }
                Vec::new()
            }
        };
        tests.push(Case {
            name: name.into_inner(),
            steps,
        });
    }
    let env = file.env.unwrap_or_else(|| "development".to_owned());
    let secrets: Vec<(String, Secret)> = file.secrets.into_iter().map(|(k, v)| (k, v.0)).collect();
    let config: Vec<(String, String)> = file.config.into_iter().collect();
    let mut startups = Vec::new();
    for st in file.startups {
        let whole = errs.head(&st.span());
        let st = st.into_inner();
        errs.unique_name(&mut names, &st.name);
        let expect = match (st.expect.get_ref().as_str(), st.because) {
            ("load", None) => Some(StartupExpect::Load),
            ("load", Some(b)) => {
                errs.at(b.span(), "`because` applies to `expect = \"fail\"` only");
                None
            }
            ("fail", Some(b)) if !b.get_ref().trim().is_empty() => {
                Some(StartupExpect::Fail(b.into_inner()))
            }
            ("fail", _) => {
                errs.found.push(
                    Diagnostic::error(
                        "test-file",
                        span(whole.clone()),
                        "`expect = \"fail\"` needs `because`: text the load error must contain",
                    )
                    .with_help("quote the startup check's `because`, e.g. `because = \"at least 32 characters\"`"),
                );
                None
            }
            _ => {
                errs.at(
                    st.expect.span(),
                    "`expect` of a `[[startup]]` is \"load\" or \"fail\"",
                );
                None
            }
        };
        let Some(expect) = expect else { continue };
        startups.push(StartupCase {
            name: st.name.into_inner(),
            env: st.env.unwrap_or_else(|| env.clone()),
            secrets: match st.secrets {
                Some(s) => s.into_iter().map(|(k, v)| (k, v.0)).collect(),
                None => secrets.clone(),
            },
            config: match st.config {
                Some(c) => c.into_iter().collect(),
                None => config.clone(),
            },
            expect,
        });
    }
    if tests.is_empty() && startups.is_empty() && errs.found.is_empty() {
        errs.at(0..0, "no `[[test]]` or `[[startup]]` in this file");
    }
    if !errs.found.is_empty() {
        return Err(errs.found);
    }
    let policy_span = span(file.policy.span());
    let policy_name = file.policy.into_inner();
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(Suite {
        policy_path: dir.join(&policy_name),
        policy_name,
        policy_span,
        env,
        start_us,
        secrets,
        config,
        tests,
        startups,
    })
}

fn span(r: Range<usize>) -> Span {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    Span::new(n(r.start), n(r.end))
}

/// Errors collected while validating, so one run reports all of them.
struct Errors<'t> {
    text: &'t str,
    found: Vec<Diagnostic>,
}

impl Errors<'_> {
    /// The first line of a table (its `[[test]]` header): where errors about the table's
    /// request point, rather than underlining the whole table.
    fn head(&self, table: &Range<usize>) -> Range<usize> {
        let rest = self.text.get(table.start..table.end).unwrap_or_default();
        table.start..table.start + rest.find('\n').unwrap_or(rest.len())
    }

    fn at(&mut self, at: Range<usize>, message: impl Into<String>) {
        self.found
            .push(Diagnostic::error("test-file", span(at), message));
    }

    /// Test and startup names are one namespace: `--filter` and reports name them alike.
    fn unique_name(&mut self, names: &mut HashMap<String, Range<usize>>, name: &Spanned<String>) {
        if name.get_ref().trim().is_empty() {
            self.at(name.span(), "a test's `name` must not be empty");
        } else if let Some(first) = names.get(name.get_ref()) {
            let line = self
                .text
                .get(..first.start)
                .map_or(0, |t| t.matches('\n').count())
                + 1;
            self.at(
                name.span(),
                format!(
                    "duplicate test name `{}` (first used on line {line})",
                    name.get_ref()
                ),
            );
        } else {
            names.insert(name.get_ref().clone(), name.span());
        }
    }

    fn missing_request(&mut self, at: Range<usize>) {
        self.found.push(
            Diagnostic::error("test-file", span(at), "this test sends no request")
                .with_help("give `action` (authorization) or `http`, with `expect`; or `steps`"),
        );
    }

    /// An RFC 3339 time, as a string or a TOML date-time.
    fn time(&mut self, v: &Spanned<toml::Value>) -> Option<u64> {
        let text = match v.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            _ => {
                self.at(v.span(), "expected a time such as \"2026-01-01T00:00:00Z\"");
                return None;
            }
        };
        match warden::http::parse_time(&text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.at(v.span(), e.message);
                None
            }
        }
    }

    fn step(&mut self, step: Spanned<schema::Step>) -> Option<Step> {
        let whole = self.head(&step.span());
        let before = self.found.len();
        let (fields, keys) = step.into_inner().into_parts();
        let request = self.request(fields, whole.clone());
        let clock = match (keys.advance, keys.at) {
            (Some(a), Some(_)) => {
                self.at(
                    a.span(),
                    "a step moves the clock by `advance` or to `at`, not both",
                );
                None
            }
            (Some(a), None) => match humantime::parse_duration(a.get_ref()) {
                Ok(d) => Some(Step::Advance(
                    u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
                )),
                Err(e) => {
                    self.at(
                        a.span(),
                        format!("`advance` must be a duration such as \"15m\": {e}"),
                    );
                    None
                }
            },
            (None, Some(at)) => self.time(&at).map(Step::At),
            (None, None) => None,
        };
        let repeat = match keys.repeat {
            None => 1,
            Some(r) if (1..=MAX_REPEAT).contains(r.get_ref()) => {
                u32::try_from(*r.get_ref()).unwrap_or(1)
            }
            Some(r) => {
                self.at(
                    r.span(),
                    format!("`repeat` must be between 1 and {MAX_REPEAT}"),
                );
                1
            }
        };
        match (request, clock) {
            (Some(_), Some(_)) => {
                self.at(whole, "a step is a request or a clock move, not both");
                None
            }
            (Some(mut send), None) => {
                send.repeat = repeat;
                Some(Step::Send(send))
            }
            (None, Some(clock)) => {
                if repeat != 1 {
                    self.at(whole, "`repeat` applies to a request, not a clock move");
                }
                Some(clock)
            }
            (None, None) => {
                // `request` has reported what was wrong if the step had request keys.
                if self.found.len() == before {
                    self.at(whole, "this step sends no request and moves no clock");
                }
                None
            }
        }
    }

    /// The request and its expectation; `None` (with an error if keys were given but
    /// wrong) when the fields hold no request.
    fn request(&mut self, f: RequestFields, whole: Range<usize>) -> Option<Send> {
        let before = self.found.len();
        let has_authz = f.action.is_some()
            || f.principal.is_some()
            || f.resource.is_some()
            || f.context.is_some();
        let request = match (&f.http, &f.action) {
            (Some(_), _) if has_authz => {
                self.found.push(
                    Diagnostic::error(
                        "test-file",
                        span(whole.clone()),
                        "a request is either an authorization request (`action` ...) or \
                         `http`, not both",
                    )
                    .with_help(
                        "an HTTP request's principal goes inside it: \
                         `http = { method = \"GET\", path = \"/\", principal = { id = \"u1\" } }`",
                    ),
                );
                None
            }
            (Some(http), _) => match HttpRequest::from_json(&to_json(http)) {
                Ok(r) => Some(Req::Http(Box::new(r))),
                Err(e) => {
                    self.at(whole.clone(), format!("bad `http` request: {}", e.message));
                    None
                }
            },
            (None, Some(action)) => {
                let mut json = serde_json::Map::new();
                json.insert("action".into(), to_json(action.get_ref()));
                for (key, v) in [
                    ("principal", &f.principal),
                    ("resource", &f.resource),
                    ("context", &f.context),
                ] {
                    if let Some(v) = v {
                        json.insert(key.into(), to_json(v));
                    }
                }
                match Request::from_json(&Json::Object(json)) {
                    Ok(r) => Some(Req::Authz(Box::new(r))),
                    Err(e) => {
                        self.at(action.span(), format!("bad request: {}", e.message));
                        None
                    }
                }
            }
            (None, None) => {
                if has_authz {
                    self.at(whole.clone(), "an authorization request needs an `action`");
                }
                None
            }
        };
        let has_keys = has_authz || f.http.is_some();
        let expect = self.expect(&f, whole, has_keys, request.as_ref());
        if self.found.len() > before {
            return None;
        }
        Some(Send {
            request: request?,
            action_span: f.action.as_ref().map(|a| span(a.span())),
            expect: expect?,
            repeat: 1,
        })
    }

    fn expect(
        &mut self,
        f: &RequestFields,
        whole: Range<usize>,
        has_keys: bool,
        request: Option<&Req>,
    ) -> Option<Expect> {
        let mut e = Expect::default();
        let mut given = false;
        if let Some(x) = &f.expect {
            given = true;
            match x {
                schema::Expect::Allowed(a) => e.allowed = Some(*a),
                schema::Expect::Table(t) => {
                    e.allowed = t.allowed;
                    e.status = t.status;
                    e.location.clone_from(&t.location);
                    e.because.clone_from(&t.because);
                    e.rule.clone_from(&t.rule);
                    let lower = |v: &Option<Vec<String>>| {
                        v.iter()
                            .flatten()
                            .map(|n| n.to_ascii_lowercase())
                            .collect::<Vec<_>>()
                    };
                    e.headers = t
                        .headers
                        .iter()
                        .flatten()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                        .collect();
                    e.absent = lower(&t.absent);
                    e.removed = lower(&t.removed);
                    e.set_cookie = t
                        .set_cookie
                        .iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                }
            }
        }
        for (key, short, slot) in [
            ("because", &f.because, &mut e.because),
            ("rule", &f.rule, &mut e.rule),
        ] {
            if let Some(s) = short {
                if slot.is_some() {
                    self.at(
                        s.span(),
                        format!("`{key}` is given twice: here and in `expect`"),
                    );
                }
                *slot = Some(s.get_ref().clone());
                given = true;
            }
        }
        let at = whole;
        if !given {
            if request.is_some() {
                self.found.push(
                    Diagnostic::error("test-file", span(at), "this request has no `expect`")
                        .with_help("add `expect = \"allow\"`, `expect = \"deny\"` or a table"),
                );
            }
            return None;
        }
        if !has_keys {
            self.at(
                at.clone(),
                "`expect`, `because` and `rule` need a request beside them (`action` or \
                 `http`); in a sequence, put them in the step",
            );
        }
        if e.is_empty() {
            self.at(
                at,
                "`expect` checks nothing: give `allow`, `deny` or a field",
            );
            return None;
        }
        if let Some(Req::Authz(_)) = request {
            let http_only = e.http_only_fields();
            if !http_only.is_empty() {
                self.at(
                    at,
                    format!(
                        "`{}` applies to `http` requests only",
                        http_only.join("`, `")
                    ),
                );
            }
        }
        Some(e)
    }
}

/// TOML -> the request JSON of docs/JSON.md; a TOML date-time becomes its RFC 3339 text.
pub fn to_json(v: &toml::Value) -> Json {
    match v {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Json::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Suite {
        match parse(Path::new("dir/t.test.toml"), text) {
            Ok(s) => s,
            Err(d) => unreachable!("{d:?}"),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        match parse(Path::new("t.test.toml"), text) {
            Ok(s) => unreachable!("{s:?}"),
            Err(d) => d.into_iter().map(|d| d.message).collect(),
        }
    }

    #[test]
    fn steps_become_clock_moves_and_repeated_requests() {
        let s = parse_ok(
            r#"
            policy = "p.warden"
            start = 2026-05-01T00:00:00Z
            [secrets]
            KEY = "test-value-never-printed"
            [[test]]
            name = "seq"
            [[test.steps]]
            http = { method = "post", path = "/login" }
            repeat = 3
            expect.status = 200
            [[test.steps]]
            advance = "15m"
            [[test.steps]]
            at = "2026-05-02T00:00:00Z"
            "#,
        );
        assert_eq!(s.policy_path, Path::new("dir/p.warden"));
        assert_eq!(s.env, "development");
        assert_eq!(s.start_us, 1_777_593_600_000_000);
        assert!(!format!("{s:?}").contains("test-value-never-printed"));
        let [Step::Send(send), Step::Advance(by), Step::At(at)] = &s.tests[0].steps[..] else {
            unreachable!("{:?}", s.tests[0].steps)
        };
        assert_eq!(send.repeat, 3);
        assert!(matches!(&send.request, Req::Http(r) if r.method == "POST"));
        assert_eq!(send.expect.status, Some(200));
        assert_eq!(*by, 900_000_000);
        assert_eq!(*at, s.start_us + 86_400_000_000);
    }

    #[test]
    fn shorthands_fill_the_expectation_once() {
        let s = parse_ok(
            r#"
            policy = "p.warden"
            [[test]]
            name = "t"
            action = "a:b"
            expect = "deny"
            because = "why"
            rule = "p.warden:3"
            "#,
        );
        let [Step::Send(send)] = &s.tests[0].steps[..] else {
            unreachable!()
        };
        assert_eq!(send.expect.allowed, Some(false));
        assert_eq!(send.expect.because.as_deref(), Some("why"));
        assert_eq!(send.expect.rule.as_deref(), Some("p.warden:3"));
        assert_eq!(
            errors(
                r#"
                policy = "p.warden"
                [[test]]
                name = "t"
                action = "a:b"
                expect = { because = "x" }
                because = "y"
                "#
            ),
            ["`because` is given twice: here and in `expect`"]
        );
    }

    #[test]
    fn a_file_must_test_something() {
        assert_eq!(
            errors("policy = \"p.warden\"\n[[test]]\nname = \"t\"\n"),
            ["this test sends no request"]
        );
        assert_eq!(
            errors("policy = \"p.warden\""),
            ["no `[[test]]` or `[[startup]]` in this file"]
        );
        assert_eq!(
            errors("policy = \"p.warden\"\n[[test]]\nname = \"t\"\naction = \"a\"\nexpect = {}\n"),
            ["`expect` checks nothing: give `allow`, `deny` or a field"]
        );
        assert_eq!(
            errors("policy = \"p.warden\"\n[[test]]\nname = \"t\"\nexpect = \"allow\"\n"),
            [
                "`expect`, `because` and `rule` need a request beside them (`action` or \
              `http`); in a sequence, put them in the step"
            ]
        );
        assert_eq!(
            errors("policy = \"p.warden\"\n[[test]]\nname = \"t\"\naction = \"a\"\nexpect = \"maybe\"\n")
                .len(),
            1
        );
    }
}
