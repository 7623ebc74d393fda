//! Routes, limits, headers and cors -> [`HttpTables`]: the route trie, requirements
//! lowered to programs, limit specs, and the header and CORS values folded at load.

use super::cors::Cors;
use super::headers::{HeaderOp, HeaderPlan};
use super::router::Router;
use crate::compile::Locs;
use crate::eval;
use crate::limit::LimitSpec;
use crate::lower;
use crate::options::Options;
use crate::program::{Konst, Node};
use crate::proxies::{ForwardHeader, TrustedProxies};
use crate::tables::Tables;
use warden_lang::ast::{self, CorsValue, Item, ReqKind, Root, RouteStmt};
use warden_lang::Diagnostic;

/// One method bit per method a route may name; other methods only match routes that
/// name none.
pub(crate) fn method_bit(m: &str) -> u8 {
    match m {
        "GET" => 1,
        "HEAD" => 2,
        "POST" => 4,
        "PUT" => 8,
        "PATCH" => 16,
        "DELETE" => 32,
        "OPTIONS" => 64,
        _ => 0,
    }
}

#[derive(Debug)]
pub(crate) enum ReqTest {
    Auth,
    /// One of these roles (by inheritance).
    Role(Box<[u32]>),
    Expr(Node),
    /// `require signature stripe(...)`.
    Signature(super::signature::StripeSig),
}

#[derive(Debug, Clone)]
pub(crate) enum Otherwise {
    Status(u16),
    Redirect { status: u16, location: Box<str> },
}

#[derive(Debug)]
pub(crate) struct CReq {
    pub test: ReqTest,
    pub otherwise: Otherwise,
    /// `file:line`.
    pub loc: Box<str>,
    /// The decision's reason when the requirement fails.
    pub reason: Box<str>,
    /// The expression reads the principal (so authentication must run first).
    pub needs_principal: bool,
    /// `report_only` (or a `report_only` policy): a failure is reported, never refuses.
    pub report_only: bool,
}

impl CReq {
    /// When the requirement is tested: 0 `auth`, 1 roles, 2 expressions and signatures.
    pub fn pass(&self) -> usize {
        match self.test {
            ReqTest::Auth => 0,
            ReqTest::Role(_) => 1,
            ReqTest::Expr(_) | ReqTest::Signature(_) => 2,
        }
    }
}

impl CRoute {
    /// The requirements tested in `pass` (see [`CReq::pass`]).
    pub fn pass_reqs(&self, pass: usize) -> &[CReq] {
        let [a, r] = self.pass_ends;
        let range = match pass {
            0 => 0..a,
            1 => a..r,
            _ => r..self.reqs.len(),
        };
        self.reqs.get(range).unwrap_or_default()
    }
}

#[derive(Debug)]
pub(crate) struct CRoute {
    pub loc: Box<str>,
    pub patterns: Box<[Box<str>]>,
    /// Method bits; 0 = every method.
    pub methods: u8,
    pub public: bool,
    /// Requirements in the order they are tested: `auth`, then roles, then the rest
    /// (source order within each); `reqs[..pass_ends[0]]` are `auth`,
    /// `reqs[pass_ends[0]..pass_ends[1]]` roles.
    pub reqs: Box<[CReq]>,
    pub pass_ends: [usize; 2],
    /// `require first` lines, in source order: tested before the CORS answer, rate
    /// limits and authentication, for every matching route (`public` cuts none).
    pub first: Box<[CReq]>,
    pub limits: Box<[u32]>,
    pub header_ops: Box<[HeaderOp]>,
    /// `header set NAME: EXPR` lines, evaluated per admitted request.
    pub dynamic: super::dynamic::RouteDyn,
    /// `limit ... only`: the limits of less specific routes do not apply.
    pub limits_only: bool,
    /// The `headers` block with `header_ops` applied; `None` without header changes.
    pub plan: Option<HeaderPlan>,
}

#[derive(Debug)]
pub(crate) struct CLimit {
    pub spec: LimitSpec,
    pub key: Node,
    pub loc: Box<str>,
    pub key_needs_principal: bool,
    /// `"name";q=COUNT;w=SECONDS` for `RateLimit-Policy`.
    pub policy_item: Box<str>,
    /// `report_only` (or a `report_only` policy): counts, never refuses, and sends no
    /// rate-limit headers (a client sees nothing of it).
    pub report_only: bool,
}

/// Everything `check_http` reads, built once per policy.
#[derive(Debug, Default)]
pub(crate) struct HttpTables {
    pub routes: Vec<CRoute>,
    /// Pattern index -> (route, pattern) of the router.
    pub pattern_route: Vec<(u32, u32)>,
    pub router: Router,
    pub limits: Vec<CLimit>,
    pub headers: Vec<(Box<str>, Box<str>)>,
    /// `headers` alone, for chains where no route changes headers.
    pub plan: HeaderPlan,
    pub cors: Option<Cors>,
    /// The `proxies` block: whose forwarding header gives the client address.
    pub proxies: Option<TrustedProxies>,
    /// `hosts:` entries, lower-case: the `Host` values `{host}` may echo.
    pub hosts: Vec<Box<str>>,
    /// `cookies { }` rules, in source order.
    pub cookies: Vec<super::cookies::CookieRule>,
    /// Whether any route verifies a signature over the body: when none does,
    /// `Engine::needs_body` answers without normalising or matching the path (hosts ask
    /// it on every request).
    pub any_signature: bool,
}

/// Compile the HTTP declarations of a checked policy.
pub(crate) fn compile(
    locs: &Locs,
    source: &str,
    policy: &ast::Policy,
    tables: &Tables,
    options: &Options,
) -> Result<HttpTables, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let loc = |span: ast::Span| locs.at(span);
    let scope = lower::Scope {
        roles: &tables.roles,
        policy,
        scripts: tables.scripts.as_ref(),
        options,
    };
    let text = |span: ast::Span| source.get(span.range()).unwrap_or("").to_owned();
    let mut out = HttpTables::default();
    let whole_report = policy.report_only.is_some();

    for item in &policy.items {
        let Item::Limit(l) = item else { continue };
        let Some(key) = lower::lower(&scope, &[], &l.key, &mut diags) else {
            continue;
        };
        let period_us = l.per.millis().saturating_mul(1000).max(1);
        let window_s = period_us.div_ceil(1_000_000);
        out.limits.push(CLimit {
            spec: LimitSpec {
                id: out.limits.len() as u32,
                policy: policy.name.name.as_str().into(),
                name: l.name.name.as_str().into(),
                count: l.count.max(1),
                period_us,
                strict: l.strict,
            },
            key_needs_principal: reads_principal(&key),
            key,
            loc: loc(l.span),
            policy_item: format!("\"{}\";q={};w={}", l.name.name, l.count, window_s).into(),
            report_only: whole_report || l.report_only.is_some(),
        });
    }

    let mut patterns: Vec<String> = Vec::new();
    for item in &policy.items {
        let Item::Route(r) = item else { continue };
        let route_id = out.routes.len() as u32;
        let mut reqs = Vec::new();
        let mut first = Vec::new();
        let mut limits = Vec::new();
        let mut header_ops = Vec::new();
        let mut dynamic = Vec::new();
        let mut fixed_names: Vec<Box<str>> = Vec::new();
        let mut public = false;
        let mut limits_only = false;
        for st in &r.body {
            match st {
                RouteStmt::Public(_) => public = true,
                RouteStmt::Limit(names, _) | RouteStmt::LimitOnly(names, _) => {
                    limits_only |= matches!(st, RouteStmt::LimitOnly(..));
                    for n in names {
                        match out.limits.iter().position(|l| *l.spec.name == n.name) {
                            Some(i) if !limits.contains(&(i as u32)) => limits.push(i as u32),
                            Some(_) => {}
                            None => diags.push(Diagnostic::error(
                                "unknown-limit",
                                n.span,
                                format!("unknown limit `{}`", n.name),
                            )),
                        }
                    }
                }
                RouteStmt::HeaderSet { name, value, .. } => {
                    fixed_names.push(name.name.to_ascii_lowercase().into());
                    header_ops.push(HeaderOp::Set(
                        name.name.to_ascii_lowercase().into(),
                        value.value.as_str().into(),
                    ))
                }
                RouteStmt::HeaderDrop { name, .. } => {
                    fixed_names.push(name.name.to_ascii_lowercase().into());
                    header_ops.push(HeaderOp::Drop(name.name.to_ascii_lowercase().into()))
                }
                RouteStmt::HeaderSetExpr { name, value, .. } => {
                    match lower::lower(&scope, &[], value, &mut diags) {
                        // Folded to text at load (`"a" + env`): as static as a literal.
                        Some(Node::Const(Konst::Str(text))) => {
                            fixed_names.push(name.name.to_ascii_lowercase().into());
                            header_ops.push(HeaderOp::Set(
                                name.name.to_ascii_lowercase().into(),
                                super::dynamic::valid_value(&text).into(),
                            ))
                        }
                        Some(n) => {
                            dynamic.push(super::dynamic::DynHeader {
                                name: name.name.to_ascii_lowercase().into(),
                                needs_principal: reads_principal(&n),
                                value: n,
                            });
                        }
                        None => {}
                    }
                }
                RouteStmt::Require(req) => {
                    let l = loc(req.span);
                    let (test, default_status, reason) = match &req.kind {
                        ReqKind::Auth => (ReqTest::Auth, 401, "authentication required".into()),
                        ReqKind::Role(roles) => {
                            let ids: Vec<u32> = roles
                                .iter()
                                .filter_map(|r| tables.role_id(&r.name))
                                .collect();
                            if ids.len() != roles.len() {
                                diags.push(Diagnostic::error(
                                    "unknown-role",
                                    req.span,
                                    "a required role is not declared",
                                ));
                            }
                            let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
                            (
                                ReqTest::Role(ids.into()),
                                403,
                                format!("requires role {}", names.join(" or ")),
                            )
                        }
                        ReqKind::Signature(sig) => {
                            let secret = match lower::lower(&scope, &[], &sig.secret, &mut diags) {
                                Some(Node::Const(Konst::Secret(s))) => Some(s),
                                _ => None,
                            };
                            let tolerance_s = sig.tolerance.map_or(300, |d| d.millis() / 1000);
                            (
                                ReqTest::Signature(super::signature::StripeSig {
                                    header: sig.header.name.to_ascii_lowercase().into(),
                                    secret,
                                    tolerance_s,
                                }),
                                400,
                                format!(
                                    "webhook signature ({}, header `{}`) not verified",
                                    sig.scheme.name, sig.header.name
                                ),
                            )
                        }
                        ReqKind::Expr(e) | ReqKind::First(e) => {
                            match lower::lower(&scope, &[], e, &mut diags) {
                                Some(n) => (
                                    ReqTest::Expr(n),
                                    400,
                                    format!("requirement `{}` not met", text(e.span)),
                                ),
                                None => continue,
                            }
                        }
                    };
                    let otherwise = match &req.otherwise {
                        None => Otherwise::Status(default_status),
                        Some(ast::Otherwise::Status(s, _)) => Otherwise::Status(*s),
                        Some(ast::Otherwise::Redirect {
                            status, location, ..
                        }) => Otherwise::Redirect {
                            status: status.unwrap_or(302),
                            location: location.value.as_str().into(),
                        },
                    };
                    let needs_principal = match &test {
                        ReqTest::Auth | ReqTest::Role(_) => true,
                        ReqTest::Expr(n) => reads_principal(n),
                        ReqTest::Signature(_) => false,
                    };
                    let q = CReq {
                        test,
                        otherwise,
                        loc: l,
                        reason: reason.into(),
                        needs_principal,
                        report_only: whole_report || req.report_only.is_some(),
                    };
                    if matches!(req.kind, ReqKind::First(_)) {
                        // The checker refuses a principal read here; a program that
                        // still reads one must not authenticate before the CORS answer.
                        if q.needs_principal {
                            diags.push(Diagnostic::error(
                                "principal-before-auth",
                                req.span,
                                "`require first` cannot read the principal",
                            ));
                        }
                        first.push(q);
                    } else {
                        reqs.push(q);
                    }
                }
            }
        }
        let methods = r.methods.iter().fold(0u8, |m, x| m | method_bit(&x.name));
        // Stable: source order within each pass.
        reqs.sort_by_key(CReq::pass);
        let pass_ends = [
            reqs.iter().take_while(|q| q.pass() < 1).count(),
            reqs.iter().take_while(|q| q.pass() < 2).count(),
        ];
        for (pi, p) in r.patterns.iter().enumerate() {
            out.pattern_route.push((route_id, pi as u32));
            patterns.push(p.text.clone());
        }
        out.routes.push(CRoute {
            loc: loc(r.span),
            patterns: r.patterns.iter().map(|p| p.text.as_str().into()).collect(),
            methods,
            public,
            reqs: reqs.into(),
            pass_ends,
            first: first.into(),
            limits: limits.into(),
            header_ops: header_ops.into(),
            dynamic: super::dynamic::RouteDyn {
                headers: dynamic.into(),
                fixed_names: fixed_names.into(),
            },
            limits_only,
            plan: None,
        });
    }
    out.router = Router::new(&patterns);

    for item in &policy.items {
        match item {
            Item::Headers(h) => {
                for e in &h.entries {
                    if folds_true(&scope, e.cond.as_ref(), &mut diags) {
                        let name: Box<str> = e.name.name.to_ascii_lowercase().into();
                        out.headers.retain(|(n, _)| *n != name);
                        out.headers.push((name, e.value.value.as_str().into()));
                    }
                }
            }
            Item::Cors(c) => out.cors = Some(cors(&scope, c, &mut diags)),
            Item::Proxies(p) => out.proxies = Some(proxies(&scope, p, &mut diags)),
            Item::Cookies(c) => out
                .cookies
                .extend(c.rules.iter().map(super::cookies::CookieRule::from_ast)),
            Item::Hosts(hs) => out
                .hosts
                .extend(hs.hosts.iter().map(|s| s.value.to_ascii_lowercase().into())),
            _ => {}
        }
    }
    out.plan = HeaderPlan::new(&out.headers, &[]);
    for r in &mut out.routes {
        if !r.header_ops.is_empty() {
            r.plan = Some(HeaderPlan::new(&out.headers, &r.header_ops));
        }
    }
    out.any_signature = out.routes.iter().any(|r| {
        r.reqs
            .iter()
            .any(|q| matches!(q.test, ReqTest::Signature(_)))
    });
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(out)
}

fn cors(scope: &lower::Scope<'_>, c: &ast::CorsDecl, diags: &mut Vec<Diagnostic>) -> Cors {
    let mut out = Cors::default();
    let join = |xs: &[ast::Ident]| -> Box<str> {
        xs.iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
            .into()
    };
    let extend = |slot: &mut Option<Box<str>>, more: Box<str>| {
        *slot = Some(match slot.take() {
            Some(s) => format!("{s}, {more}").into(),
            None => more,
        });
    };
    for e in &c.entries {
        if !folds_true(scope, e.cond.as_ref(), diags) {
            continue;
        }
        match &e.value {
            CorsValue::Origins(list) => {
                for o in list {
                    if o.value == "*" {
                        out.any = true;
                    } else {
                        out.origins.push(o.value.to_ascii_lowercase().into());
                    }
                }
            }
            CorsValue::Methods(ms) => extend(&mut out.methods, join(ms)),
            CorsValue::Headers(hs) => extend(&mut out.headers, join(hs)),
            CorsValue::Expose(hs) => extend(&mut out.expose, join(hs)),
            CorsValue::Credentials(b) => out.credentials = *b,
            CorsValue::MaxAge(d) => out.max_age = Some((d.millis() / 1000).to_string().into()),
            CorsValue::RefuseUnlisted(s) => out.refuse_unlisted = *s,
            CorsValue::OriginsFrom {
                setting,
                separator,
                fallback,
            } => match super::origins::from_setting(scope.options, setting, separator, fallback) {
                Ok(list) => {
                    for o in list {
                        if o == "*" {
                            out.any = true;
                        } else {
                            out.origins.push(o.to_ascii_lowercase().into());
                        }
                    }
                }
                Err(d) => diags.push(d),
            },
        }
    }
    out.seal();
    out
}

/// The `proxies` block with its `if` lines folded. A block that has `trusted` lines
/// trusts only the ranges kept (none, when every such line's `if` is false), never
/// "any address"; the checker has parsed every range.
fn proxies(
    scope: &lower::Scope<'_>,
    p: &ast::ProxiesDecl,
    diags: &mut Vec<Diagnostic>,
) -> TrustedProxies {
    let mut out = TrustedProxies::default();
    for e in &p.entries {
        if matches!(e.value, ast::ProxiesValue::Trusted(_)) && out.nets.is_none() {
            out.nets = Some(Vec::new());
        }
        if !folds_true(scope, e.cond.as_ref(), diags) {
            continue;
        }
        match &e.value {
            ast::ProxiesValue::Trusted(list) => out.nets.get_or_insert_with(Vec::new).extend(
                list.iter()
                    .filter_map(|r| warden_lang::cidr::Cidr::parse(&r.value).ok()),
            ),
            ast::ProxiesValue::Hops { value, .. } => out.hops = u32::try_from(*value).ok(),
            ast::ProxiesValue::Header(h) => {
                out.header = if h.name.eq_ignore_ascii_case("forwarded") {
                    ForwardHeader::Forwarded
                } else {
                    ForwardHeader::XForwardedFor
                }
            }
        }
    }
    out
}

/// Fold an `if` condition of a headers or cors line at load; no condition is true.
fn folds_true(
    scope: &lower::Scope<'_>,
    cond: Option<&ast::Expr>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let Some(c) = cond else { return true };
    let Some(node) = lower::lower(scope, &[], c, diags) else {
        return false;
    };
    match eval::eval_const(&node) {
        Some(Konst::Bool(b)) => b,
        _ => {
            diags.push(
                Diagnostic::error(
                    "invalid-condition",
                    c.span,
                    "this condition cannot be decided when the policy loads",
                )
                .with_help(
                    "conditions on header and cors lines read only `env`, secrets and literals",
                ),
            );
            false
        }
    }
}

/// Whether a program reads the principal (so it needs authentication to have run).
pub(crate) fn reads_principal(node: &Node) -> bool {
    let mut reads = Vec::new();
    lower::reads(node, &mut reads);
    reads.iter().any(|(root, _)| *root == Root::Principal)
}
