//! The syntax tree of a policy file: plain owned data with byte spans, independent of pest.
//!
//! Every node that a diagnostic can point at carries a [`Span`]. Two trees that differ
//! only in spans compare equal after [`crate::strip_spans`].

use std::fmt;

/// Keywords that start a top-level item (after `policy NAME`), at the beginning of a
/// line: syntax-error recovery cuts a file at them, editors complete them.
pub const ITEM_KEYWORDS: &[&str] = &[
    "role",
    "grant",
    "principal",
    "resource",
    "context",
    "input",
    "allow",
    "deny",
    "limit",
    "route",
    "headers",
    "cors",
    "startup",
    "script",
    "auth",
    "hosts",
    "cookies",
];

/// A half-open byte range `start..end` into the policy source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset after the last byte.
    pub end: u32,
}

impl Span {
    /// A span over bytes `start..end` of the source.
    pub const fn new(start: u32, end: u32) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// As a byte range into the source.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A name as written: identifiers, role names, header names, HTTP methods.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it is in the source.
    pub span: Span,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A string literal, already unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrLit {
    /// The value, escapes resolved.
    pub value: String,
    /// Where it is in the source.
    pub span: Span,
}

/// A `#` comment, kept so that `warden fmt` can put it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The text after `#`, without the line break.
    pub text: String,
    /// Where it is in the source.
    pub span: Span,
}

/// One parsed policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The name from the `policy NAME` header.
    pub name: Ident,
    /// `policy NAME report_only`: where the word is. Nothing the policy decides is
    /// enforced; what it would have refused is reported instead.
    pub report_only: Option<Span>,
    /// Every item, in source order.
    pub items: Vec<Item>,
    /// Every comment, in source order (the formatter keeps them).
    pub comments: Vec<Comment>,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `role NAME > PARENTS`
    Role(RoleDecl),
    /// `grant ROLES: ACTIONS`
    Grant(GrantDecl),
    /// `principal { }`, `resource TYPE { }`, `context { }`, `input { }`
    Shape(ShapeDecl),
    /// `allow` / `deny` rules
    Rule(Rule),
    /// `limit NAME: COUNT per DURATION by KEY`
    Limit(LimitDecl),
    /// `route METHODS PATTERNS { }`
    Route(RouteDecl),
    /// `headers { }`: security headers
    Headers(HeadersDecl),
    /// `cors { }`
    Cors(CorsDecl),
    /// `startup { require ... }`
    Startup(StartupDecl),
    /// `script { }`: Rhai functions
    Script(ScriptDecl),
    /// `auth KIND { }`
    Auth(AuthDecl),
    /// `hosts: ...`
    Hosts(HostsDecl),
    /// `cookies { }`
    Cookies(CookiesDecl),
    /// `proxies { }`
    Proxies(ProxiesDecl),
}

impl Item {
    /// Where the item is in the source.
    pub fn span(&self) -> Span {
        match self {
            Item::Role(x) => x.span,
            Item::Grant(x) => x.span,
            Item::Shape(x) => x.span,
            Item::Rule(x) => x.span,
            Item::Limit(x) => x.span,
            Item::Route(x) => x.span,
            Item::Headers(x) => x.span,
            Item::Cors(x) => x.span,
            Item::Startup(x) => x.span,
            Item::Script(x) => x.span,
            Item::Auth(x) => x.span,
            Item::Hosts(x) => x.span,
            Item::Cookies(x) => x.span,
            Item::Proxies(x) => x.span,
        }
    }
}

/// `role editor > viewer, auditor`: editor inherits every grant of its parents and outranks them.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDecl {
    /// The role declared.
    pub name: Ident,
    /// The roles it inherits (`>`), each a declared role.
    pub parents: Vec<Ident>,
    /// Where it is in the source.
    pub span: Span,
}

/// `grant editor, admin: posts:write, users:*`
#[derive(Debug, Clone, PartialEq)]
pub struct GrantDecl {
    /// The roles granted to.
    pub roles: Vec<Ident>,
    /// The actions granted.
    pub actions: Vec<ActionPat>,
    /// Where it is in the source.
    pub span: Span,
}

/// An action pattern in a grant or rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionPat {
    /// What the pattern matches.
    pub kind: ActionKind,
    /// Where it is in the source.
    pub span: Span,
}

/// What an action pattern matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `*`: every action.
    Any,
    /// `posts:*`: every verb of a namespace; holds the namespace (`posts`).
    Namespace(String),
    /// `posts:read` (or a bare `read`): exactly this action.
    Exact(String),
}

impl ActionKind {
    /// Whether the pattern covers the concrete action name.
    pub fn matches(&self, action: &str) -> bool {
        match self {
            ActionKind::Any => true,
            ActionKind::Namespace(ns) => action
                .strip_prefix(ns.as_str())
                .is_some_and(|rest| rest.starts_with(':')),
            ActionKind::Exact(a) => a == action,
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionKind::Any => f.write_str("*"),
            ActionKind::Namespace(ns) => write!(f, "{ns}:*"),
            ActionKind::Exact(a) => f.write_str(a),
        }
    }
}

/// Which entity a shape describes.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeKind {
    /// `principal { ... }`
    Principal,
    /// `resource post { ... }`
    Resource(Ident),
    /// `context { ... }`: attributes of an authorization request's context.
    Context,
    /// `input { ... }`: fields of an HTTP request's input.
    Input,
}

/// `principal { id: string, roles: set<role>, org: string, api_client: string? }`
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeDecl {
    /// Which shape: the principal, a resource type, the context or the inputs.
    pub kind: ShapeKind,
    /// The declared attributes.
    pub attrs: Vec<AttrDecl>,
    /// Where it is in the source.
    pub span: Span,
}

/// One attribute of a shape: `name: type` or `name: type?`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    /// The attribute name.
    pub name: Ident,
    /// Its type.
    pub ty: Type,
    /// Declared with a trailing `?`.
    pub optional: bool,
    /// Where it is in the source.
    pub span: Span,
}

/// The type of an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// A role name; compares by the inheritance order.
    Role,
    /// `set<T>`
    Set(Box<Type>),
    /// `map<string, T>`: string keys (such as organization ids) to values of `T`.
    Map(Box<Type>),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Role => f.write_str("role"),
            Type::Set(t) => write!(f, "set<{t}>"),
            Type::Map(t) => write!(f, "map<string, {t}>"),
        }
    }
}

/// Whether a rule permits or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `allow`: permits when it matches.
    Allow,
    /// `deny`: refuses when it matches, over any grant or allow.
    Deny,
}

/// What a deny rule does when its condition reads a missing attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnMissing {
    /// The deny matches (fail closed). The default.
    #[default]
    Deny,
    /// The deny does not match.
    Skip,
}

/// `allow|deny ACTIONS [on TYPES] [if|unless EXPR] [because "..."] [missing skip|deny]`
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `allow` or `deny`.
    pub effect: Effect,
    /// The actions it applies to.
    pub actions: Vec<ActionPat>,
    /// Resource types the rule applies to; empty means every type.
    pub on: Vec<Ident>,
    /// `if` / `unless` and its condition; `None`: always.
    pub cond: Option<Condition>,
    /// The `because` text, the reason of a denial.
    pub because: Option<StrLit>,
    /// `missing skip|deny` as written; `None` means the default.
    pub missing: Option<OnMissing>,
    /// `report_only` (a `deny` only): where the word is. The rule never denies; a
    /// request it would have denied is allowed and the rule reported.
    pub report_only: Option<Span>,
    /// Where it is in the source.
    pub span: Span,
}

/// How a rule's condition applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CondKind {
    /// `if COND`: applies when the condition is true.
    If,
    /// `unless COND`: applies when the condition is false.
    Unless,
}

/// A rule's `if` / `unless` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `if` or `unless`.
    pub kind: CondKind,
    /// The condition.
    pub expr: Expr,
}

/// `limit login: 5 per 15m by ip [strict]`
#[derive(Debug, Clone, PartialEq)]
pub struct LimitDecl {
    /// The limit's name, used by routes.
    pub name: Ident,
    /// Requests admitted per period.
    pub count: u64,
    /// The period.
    pub per: Duration,
    /// The key expression; `a ?? b` falls back when `a` is missing.
    pub key: Expr,
    /// `strict`: an exact sliding window instead of GCRA.
    pub strict: bool,
    /// `report_only`: where the word is. The limit counts but never refuses; a request
    /// it would have refused is admitted and the limit reported.
    pub report_only: Option<Span>,
    /// Where it is in the source.
    pub span: Span,
}

/// `route [METHODS] PATTERN, ... { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDecl {
    /// Upper-case HTTP methods; empty means every method.
    pub methods: Vec<Ident>,
    /// The path patterns (`/api/:id/**`).
    pub patterns: Vec<RoutePattern>,
    /// The statements of the block, in source order.
    pub body: Vec<RouteStmt>,
    /// Where it is in the source.
    pub span: Span,
}

/// A path pattern such as `/api/users/:id` or `/docs/**`, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoutePattern {
    /// The pattern as written.
    pub text: String,
    /// Where it is in the source.
    pub span: Span,
}

/// One statement of a route block.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteStmt {
    /// `public`: requirements of ancestor routes do not apply.
    Public(Span),
    /// `require ...`
    Require(Requirement),
    /// `limit login, api`
    Limit(Vec<Ident>, Span),
    /// `header set Name: "value"`
    HeaderSet {
        /// The name as written.
        name: Ident,
        /// The value.
        value: StrLit,
        /// Where the statement is in the source.
        span: Span,
    },
    /// `header drop Name`
    HeaderDrop {
        /// The name as written.
        name: Ident,
        /// Where the statement is in the source.
        span: Span,
    },
    /// `header set Name: EXPR` with a value other than a string literal: evaluated for
    /// each admitted request; a missing value sets nothing.
    HeaderSetExpr {
        /// The name as written.
        name: Ident,
        /// The value.
        value: Expr,
        /// Where the statement is in the source.
        span: Span,
    },
    /// `limit login only`: these limits, and none of the ancestor routes'.
    LimitOnly(Vec<Ident>, Span),
}

impl RouteStmt {
    /// Where the statement is in the source.
    pub fn span(&self) -> Span {
        match self {
            RouteStmt::Public(s) | RouteStmt::Limit(_, s) => *s,
            RouteStmt::Require(r) => r.span,
            RouteStmt::HeaderSet { span, .. }
            | RouteStmt::HeaderDrop { span, .. }
            | RouteStmt::HeaderSetExpr { span, .. } => *span,
            RouteStmt::LimitOnly(_, s) => *s,
        }
    }
}

/// `require auth|role R, ...|EXPR [else STATUS|else redirect [STATUS] "location"]`
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// What is required.
    pub kind: ReqKind,
    /// `else STATUS` or `else redirect ...`; `None`: the default status.
    pub otherwise: Option<Otherwise>,
    /// `report_only`: where the word is. A failure never refuses; it is reported and
    /// the request goes on.
    pub report_only: Option<Span>,
    /// Where it is in the source.
    pub span: Span,
}

/// What a `require` line requires.
#[derive(Debug, Clone, PartialEq)]
pub enum ReqKind {
    /// A principal is present (default failure 401).
    Auth,
    /// The principal is one of these roles, by inheritance (default failure 403).
    Role(Vec<Ident>),
    /// A condition over headers, input, principal, request (default failure 400).
    Expr(Expr),
    /// A webhook signature over the request body (default failure 400).
    Signature(SignatureReq),
    /// `require first EXPR`: a condition over the request tested before the CORS
    /// answer, rate limits and authentication (transport checks: scheme, host); it
    /// cannot read the principal (default failure 400).
    First(Expr),
}

/// `signature stripe(header stripe-signature, secret(NAME)) [tolerance 5m]`
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureReq {
    /// The signing scheme: `stripe`.
    pub scheme: Ident,
    /// The header carrying the signature.
    pub header: Ident,
    /// A `secret(NAME)` expression: the signing secret.
    pub secret: Expr,
    /// How far the signed timestamp may be from the request's time (default 5m).
    pub tolerance: Option<Duration>,
}

/// What a failed requirement answers instead of its default status.
#[derive(Debug, Clone, PartialEq)]
pub enum Otherwise {
    /// `else 415`
    Status(u16, Span),
    /// `else redirect "/login?callbackUrl={path}"` (302 unless a status is given).
    Redirect {
        /// The status, when given.
        status: Option<u16>,
        /// The target, with `{path}`, `{host}`, `{target}` placeholders.
        location: StrLit,
        /// Where it is in the source.
        span: Span,
    },
}

/// `headers { Name: "value" [if EXPR] ... }`: security headers on every response.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadersDecl {
    /// One line per header.
    pub entries: Vec<HeaderEntry>,
    /// Where it is in the source.
    pub span: Span,
}

/// One line of `headers { }`: `Name: "value" [if COND]`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderEntry {
    /// The header name.
    pub name: Ident,
    /// The header value.
    pub value: StrLit,
    /// `if COND`, evaluated at load; `None`: always.
    pub cond: Option<Expr>,
    /// Where it is in the source.
    pub span: Span,
}

/// `cors { origins: ...; methods: ...; ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct CorsDecl {
    /// One line per setting.
    pub entries: Vec<CorsEntry>,
    /// Where it is in the source.
    pub span: Span,
}

/// One line of `cors { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct CorsEntry {
    /// The setting and its value.
    pub value: CorsValue,
    /// `if env != "production"`: folded when the engine loads.
    pub cond: Option<Expr>,
    /// Where it is in the source.
    pub span: Span,
}

/// A `cors` setting and its value.
#[derive(Debug, Clone, PartialEq)]
pub enum CorsValue {
    /// `origins: "https://a", ...`
    Origins(Vec<StrLit>),
    /// `methods: GET, POST`
    Methods(Vec<Ident>),
    /// `headers: ...`: request headers allowed
    Headers(Vec<Ident>),
    /// `expose: ...`: response headers exposed
    Expose(Vec<Ident>),
    /// `credentials: true|false`
    Credentials(bool),
    /// `max_age: DURATION` of a preflight answer
    MaxAge(Duration),
    /// `refuse_unlisted: true` (403) or `refuse_unlisted: STATUS`: a request whose
    /// `Origin` is not listed is refused with that status; `false`: `None`.
    RefuseUnlisted(Option<u16>),
    /// `origins: split(config(NAME), ",") [?? "https://a", ...]`: the setting's elements,
    /// trimmed and checked at load; the fallback when the setting is absent.
    OriginsFrom {
        /// The setting (`config(NAME)`).
        setting: Ident,
        /// What separates the origins.
        separator: StrLit,
        /// The origins when the setting is absent.
        fallback: Vec<StrLit>,
    },
}

impl CorsValue {
    /// The setting's keyword.
    pub fn key(&self) -> &'static str {
        match self {
            CorsValue::Origins(_) => "origins",
            CorsValue::Methods(_) => "methods",
            CorsValue::Headers(_) => "headers",
            CorsValue::Expose(_) => "expose",
            CorsValue::Credentials(_) => "credentials",
            CorsValue::MaxAge(_) => "max_age",
            CorsValue::RefuseUnlisted(_) => "refuse_unlisted",
            CorsValue::OriginsFrom { .. } => "origins",
        }
    }
}

/// `hosts: "myapp.com", "admin.myapp.com"`: the only `Host` values a redirect's
/// `{host}` may carry; several lines add up.
#[derive(Debug, Clone, PartialEq)]
pub struct HostsDecl {
    /// `name` or `name:port`, as written.
    pub hosts: Vec<StrLit>,
    /// Where it is in the source.
    pub span: Span,
}

/// `cookies { NAME: ATTR, ... }`: attributes the hosts' middlewares add to every
/// outgoing `Set-Cookie` of a listed name.
#[derive(Debug, Clone, PartialEq)]
pub struct CookiesDecl {
    /// One rule per cookie name.
    pub rules: Vec<CookieRule>,
    /// Where it is in the source.
    pub span: Span,
}

/// `refreshToken: http_only, secure, same_site strict, path "/api/auth/refresh", max_age 7d`
#[derive(Debug, Clone, PartialEq)]
pub struct CookieRule {
    /// The cookie's name, case-sensitive.
    pub name: Ident,
    /// The attributes imposed.
    pub attrs: Vec<CookieAttr>,
    /// Where it is in the source.
    pub span: Span,
}

/// One attribute a cookie rule imposes.
#[derive(Debug, Clone, PartialEq)]
pub struct CookieAttr {
    /// Which attribute.
    pub kind: CookieAttrKind,
    /// Where it is in the source.
    pub span: Span,
}

/// The attributes a cookie rule may impose.
#[derive(Debug, Clone, PartialEq)]
pub enum CookieAttrKind {
    /// `http_only`
    HttpOnly,
    /// `secure`
    Secure,
    /// `same_site: strict|lax|none`
    SameSite(SameSite),
    /// `path: "/..."`
    Path(StrLit),
    /// The longest lifetime the cookie may be given.
    MaxAge(Duration),
}

impl CookieAttrKind {
    /// The attribute's keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            CookieAttrKind::HttpOnly => "http_only",
            CookieAttrKind::Secure => "secure",
            CookieAttrKind::SameSite(_) => "same_site",
            CookieAttrKind::Path(_) => "path",
            CookieAttrKind::MaxAge(_) => "max_age",
        }
    }
}

/// A `same_site` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `strict`
    Strict,
    /// `lax`
    Lax,
    /// `none`
    None,
}

impl SameSite {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            SameSite::Strict => "strict",
            SameSite::Lax => "lax",
            SameSite::None => "none",
        }
    }
}

/// `startup { require EXPR [if EXPR] [because "..."] ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct StartupDecl {
    /// The checks, in source order.
    pub checks: Vec<StartupCheck>,
    /// Where it is in the source.
    pub span: Span,
}

/// One `require EXPR [if COND] [because "..."]` of a `startup` block.
#[derive(Debug, Clone, PartialEq)]
pub struct StartupCheck {
    /// What must hold.
    pub expr: Expr,
    /// `if COND`: checked only when it holds.
    pub cond: Option<Expr>,
    /// Why, shown when the check fails.
    pub because: Option<StrLit>,
    /// Where it is in the source.
    pub span: Span,
}

/// `script { fn name(args) { ... } }`: Rhai source, kept verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptDecl {
    /// The text between the braces.
    pub source: String,
    /// Where `source` starts in the policy file, for mapping Rhai positions.
    pub source_span: Span,
    /// Where it is in the source.
    pub span: Span,
}

/// `auth jwt { ... }` or `auth api_key { ... }`: one way the engine authenticates an
/// HTTP request whose host passed no principal. Several are tried in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthDecl {
    /// `jwt`, `api_key` or `nextauth`.
    pub kind: AuthKind,
    /// The `jwt` or `api_key` word.
    pub kind_span: Span,
    /// The settings, in source order.
    pub entries: Vec<AuthEntry>,
    /// Where it is in the source.
    pub span: Span,
}

/// The kind of an `auth` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    /// A bearer JSON Web Token.
    Jwt,
    /// A static API key compared in constant time.
    ApiKey,
    /// An Auth.js (NextAuth v5) session token: a JWE in a cookie, keyed from a secret.
    NextAuth,
}

impl AuthKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            AuthKind::Jwt => "jwt",
            AuthKind::ApiKey => "api_key",
            AuthKind::NextAuth => "nextauth",
        }
    }
}

/// One line of an auth block.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthEntry {
    /// The setting and its value.
    pub value: AuthValue,
    /// Where it is in the source.
    pub span: Span,
}

/// An `auth` setting and its value.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthValue {
    /// `from: header authorization` / `from: cookie session`
    From(CredSource),
    /// `algorithms: HS256, RS256` (jwt)
    Algorithms(Vec<Ident>),
    /// `keys: secret(A), secret(B)?` (jwt)
    Keys(Vec<KeyRef>),
    /// `issuer: "..."`: the `iss` claim must be one of these (jwt).
    Issuer(Vec<AuthText>),
    /// `audience: "..."`: the `aud` claim must contain one of these (jwt).
    Audience(Vec<AuthText>),
    /// `leeway: 30s`: clock skew allowed on `exp` and `nbf` (jwt).
    Leeway(Duration),
    /// `principal.ATTR: claim ?? claim` (jwt).
    Claim {
        /// The principal attribute set.
        attr: Ident,
        /// The claims read, first present wins.
        claims: Vec<ClaimName>,
    },
    /// `key secret(A), secret(B)? as { id: "svc", roles: [r] }` (api_key).
    Key {
        /// The keys.
        keys: Vec<KeyRef>,
        /// The principal the key stands for.
        principal: Vec<PrincipalField>,
        /// `sha256("...")` keys of the line: the policy holds only their hashes.
        hashes: Vec<KeyHash>,
    },
    /// `max_age: 1h`: the token must carry `iat`, live at most this long (`exp - iat`)
    /// and be at most this old (jwt).
    MaxAge(Duration),
    /// `require_claim typ == "access"`: the claim must be this string (jwt).
    RequireClaim {
        /// The claim.
        claim: ClaimName,
        /// The value it must hold.
        value: StrLit,
    },
    /// `revoked: "client-3"`: keys standing for these principal ids are refused (api_key).
    Revoked(Vec<StrLit>),
}

impl AuthValue {
    /// The setting's keyword.
    pub fn key(&self) -> &'static str {
        match self {
            AuthValue::From(_) => "from",
            AuthValue::Algorithms(_) => "algorithms",
            AuthValue::Keys(_) => "keys",
            AuthValue::Issuer(_) => "issuer",
            AuthValue::Audience(_) => "audience",
            AuthValue::Leeway(_) => "leeway",
            AuthValue::Claim { .. } => "principal",
            AuthValue::Key { .. } => "key",
            AuthValue::MaxAge(_) => "max_age",
            AuthValue::RequireClaim { .. } => "require_claim",
            AuthValue::Revoked(_) => "revoked",
        }
    }
}

/// A text value of an auth line: written in the policy, or a host setting read when
/// the policy loads (`issuer: config(OIDC_ISSUER)`).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthText {
    /// `"https://auth.example.com"`
    Lit(StrLit),
    /// `config(NAME)`: the setting's value (unset: a `missing-config` load error).
    Config(Ident),
}

/// Where a credential is read from.
#[derive(Debug, Clone, PartialEq)]
pub enum CredSource {
    /// A request header; an `authorization` header must use the `Bearer` scheme.
    Header(Ident),
    /// A cookie of the `Cookie` header.
    Cookie(Ident),
}

/// A key named by the host: `secret(NAME)`, `public_key(NAME)`, `jwks(NAME)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRef {
    /// `secret`, `public_key` or `jwks`.
    pub kind: KeyKind,
    /// The setting naming the key.
    pub name: Ident,
    /// `?`: the key may be absent (the other half of a rotation).
    pub optional: bool,
    /// Where it is in the source.
    pub span: Span,
}

/// Where key material comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A shared secret: HMAC (`HS*`) only.
    Secret,
    /// A PEM public key: RSA, EC or Ed25519.
    PublicKey,
    /// A JWKS document; the token's `kid` picks the key.
    Jwks,
}

impl KeyKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::PublicKey => "public_key",
            KeyKind::Jwks => "jwks",
        }
    }
}

/// `sha256("<64 hex digits>")`: an API key known by the SHA-256 of its value.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyHash {
    /// The hex digits as written (checked to be 64 hex digits).
    pub hex: StrLit,
    /// Where it is in the source.
    pub span: Span,
}

/// A claim of a token: `sub`, `realm_access.roles` (a nested path) or a quoted name
/// taken verbatim (`"https://example.com/org"`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimName {
    /// The claim name.
    pub name: String,
    /// Written as a string (`"https://example.com/roles"`).
    pub quoted: bool,
    /// Where it is in the source.
    pub span: Span,
}

/// `org: "o1"` in the principal an API key stands for; the value is a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalField {
    /// The principal attribute.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// Where it is in the source.
    pub span: Span,
}

/// A duration literal such as `15m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    /// The number as written.
    pub value: u64,
    /// Its unit.
    pub unit: DurationUnit,
    /// Where it is in the source.
    pub span: Span,
}

impl Duration {
    /// Milliseconds, saturating.
    pub fn millis(&self) -> u64 {
        self.value.saturating_mul(self.unit.millis())
    }
}

/// The unit of a duration literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    /// `ms`
    Ms,
    /// `s`
    S,
    /// `m` (minutes)
    M,
    /// `h`
    H,
    /// `d`
    D,
}

impl DurationUnit {
    /// Milliseconds in one unit.
    pub fn millis(self) -> u64 {
        match self {
            DurationUnit::Ms => 1,
            DurationUnit::S => 1_000,
            DurationUnit::M => 60_000,
            DurationUnit::H => 3_600_000,
            DurationUnit::D => 86_400_000,
        }
    }

    /// As written after the number.
    pub fn suffix(self) -> &'static str {
        match self {
            DurationUnit::Ms => "ms",
            DurationUnit::S => "s",
            DurationUnit::M => "m",
            DurationUnit::H => "h",
            DurationUnit::D => "d",
        }
    }
}

/// Size units; `KB`, `MB`, `GB` are 1024-based, as web frameworks' upload limits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizeUnit {
    /// `B`
    B,
    /// `KB` (1024 bytes)
    KB,
    /// `MB` (1024 KB)
    MB,
    /// `GB` (1024 MB)
    GB,
}

impl SizeUnit {
    /// Bytes in one unit.
    pub fn bytes(self) -> u64 {
        match self {
            SizeUnit::B => 1,
            SizeUnit::KB => 1 << 10,
            SizeUnit::MB => 1 << 20,
            SizeUnit::GB => 1 << 30,
        }
    }

    /// As written after the number.
    pub fn suffix(self) -> &'static str {
        match self {
            SizeUnit::B => "B",
            SizeUnit::KB => "KB",
            SizeUnit::MB => "MB",
            SizeUnit::GB => "GB",
        }
    }
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is in the source.
    pub span: Span,
}

impl Expr {
    /// Call `f` on this expression and every expression inside it, outermost first.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Str(_)
            | ExprKind::Num(_)
            | ExprKind::Bool(_)
            | ExprKind::Size { .. }
            | ExprKind::Duration { .. }
            | ExprKind::Path(_)
            | ExprKind::Header(_)
            | ExprKind::Cookie(_)
            | ExprKind::Ip
            | ExprKind::Env
            | ExprKind::Secret { .. }
            | ExprKind::Config(_)
            | ExprKind::RoleName(_)
            | ExprKind::Now => {}
            ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
                items.iter().for_each(|e| e.walk(f));
            }
            ExprKind::Not(e)
            | ExprKind::Len(e)
            | ExprKind::IsInt(e)
            | ExprKind::Lower(e)
            | ExprKind::Matches { expr: e, .. }
            | ExprKind::Is { expr: e, .. } => e.walk(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => {
                cond.walk(f);
                then.walk(f);
                otherwise.walk(f);
            }
            ExprKind::HeaderSafe { text, max } => {
                text.walk(f);
                max.walk(f);
            }
            ExprKind::IsIn { expr, org, .. } => {
                expr.walk(f);
                org.walk(f);
            }
        }
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A string literal.
    Str(String),
    /// Numbers are f64, as in JSON.
    Num(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `500MB`: a number of bytes when evaluated.
    Size {
        /// The value.
        value: u64,
        /// Its unit.
        unit: SizeUnit,
    },
    /// `15m`: a number of seconds when evaluated.
    Duration {
        /// The value.
        value: u64,
        /// Its unit.
        unit: DurationUnit,
    },
    /// `[a, b]`
    List(Vec<Expr>),
    /// `principal`, `principal.org`, `resource.owner.id`, `context.x`, `input.size`, `request.method`.
    Path(Path),
    /// `header authorization`: a request header, case-insensitive.
    Header(Ident),
    /// `cookie NAME`: the first cookie of that name across the `Cookie` headers,
    /// unquoted; case-sensitive.
    Cookie(Ident),
    /// `ip`: the client address of an HTTP request.
    Ip,
    /// `env`: the deployment environment, fixed at load.
    Env,
    /// `secret(NAME)`: a host secret, fixed at load. `optional` (`secret(NAME)?`):
    /// missing when the host does not supply it, instead of a load error.
    Secret {
        /// The name as written.
        name: Ident,
        /// Marked optional (`?`).
        optional: bool,
    },
    /// `config(NAME)`: a non-secret host setting, fixed at load; shown in diagnostics.
    Config(Ident),
    /// A bare name in an expression is a role: `resource.role > editor`.
    RoleName(Ident),
    /// `name(args)`: a function of the policy's `script` block.
    Call {
        /// The function name.
        func: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `not e`
    Not(Box<Expr>),
    /// `a OP b`
    Binary {
        /// The operator.
        op: BinOp,
        /// The left operand.
        lhs: Box<Expr>,
        /// The right operand.
        rhs: Box<Expr>,
    },
    /// `expr matches /re/`
    Matches {
        /// The expression.
        expr: Box<Expr>,
        /// The regex literal.
        regex: StrLit,
    },
    /// `principal is admin`: the principal has the role or one that inherits it.
    Is {
        /// The expression.
        expr: Box<Expr>,
        /// The role.
        role: Ident,
    },
    /// `expr.len`: characters of a string, elements of a set or list.
    Len(Box<Expr>),
    /// `expr.is_int`: whether a number is whole; missing for anything else.
    IsInt(Box<Expr>),
    /// `now`: the request's time in seconds since the epoch.
    Now,
    /// `if cond then a else b`
    IfElse {
        /// `if COND`; `None`: always.
        cond: Box<Expr>,
        /// The value when the condition holds.
        then: Box<Expr>,
        /// The value when it does not.
        otherwise: Box<Expr>,
    },
    /// `header_safe(text, max)`: text with characters unsafe in a header value replaced
    /// by `_`, cut to `max` characters.
    HeaderSafe {
        /// The text.
        text: Box<Expr>,
        /// The longest result, in characters.
        max: Box<Expr>,
    },
    /// `lower(text)`: the text with ASCII letters in lower case.
    Lower(Box<Expr>),
    /// `principal is manager in resource.org`: a role held in one organization
    /// (`principal.org_roles`).
    IsIn {
        /// The expression.
        expr: Box<Expr>,
        /// The role.
        role: Ident,
        /// The organization.
        org: Box<Expr>,
    },
}

/// The entity a path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// `principal`
    Principal,
    /// `resource`
    Resource,
    /// `context`
    Context,
    /// `input` (HTTP requirements)
    Input,
    /// `request` (HTTP requirements)
    Request,
}

impl Root {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Root::Principal => "principal",
            Root::Resource => "resource",
            Root::Context => "context",
            Root::Input => "input",
            Root::Request => "request",
        }
    }
}

/// An attribute path: a root and at least one name.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The root.
    pub root: Root,
    /// The attribute names after it (at least one).
    pub attrs: Vec<Ident>,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `a subset_of b`: every element of `a` is in `b`.
    SubsetOf,
    /// `contains`
    Contains,
    /// `starts_with`
    StartsWith,
    /// `ends_with`
    EndsWith,
    /// `??`
    Coalesce,
    /// `+`: concatenation of strings, addition of numbers.
    Concat,
    /// `-` on numbers.
    Sub,
}

impl BinOp {
    /// As written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::SubsetOf => "subset_of",
            BinOp::Contains => "contains",
            BinOp::StartsWith => "starts_with",
            BinOp::EndsWith => "ends_with",
            BinOp::Coalesce => "??",
            BinOp::Concat => "+",
            BinOp::Sub => "-",
        }
    }

    /// Binding strength; higher binds tighter. All binary operators are left-associative.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge
            | BinOp::In
            | BinOp::SubsetOf
            | BinOp::Contains
            | BinOp::StartsWith
            | BinOp::EndsWith => 4,
            BinOp::Coalesce => 5,
            BinOp::Concat | BinOp::Sub => 6,
        }
    }
}

/// Precedence of `not` (prefix): between `and` and the comparisons, so that
/// `not a == b` reads `not (a == b)`.
pub const NOT_PRECEDENCE: u8 = 3;
/// Precedence of `matches` and `is`, which sit with the comparisons.
pub const MATCH_PRECEDENCE: u8 = 4;

/// `proxies { trusted: "10.0.0.0/8" hops: 1 header: X-Forwarded-For }`: the reverse
/// proxies whose forwarding header gives the client address `ip` (without the block,
/// `ip` is the socket peer and forwarding headers are ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxiesDecl {
    /// The lines, in source order.
    pub entries: Vec<ProxiesEntry>,
    /// The whole block.
    pub span: Span,
}

/// One line of a `proxies` block, with its optional `if` (folded at load).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxiesEntry {
    /// What the line sets.
    pub value: ProxiesValue,
    /// `if EXPR`: the line counts only when this holds at load.
    pub cond: Option<Expr>,
    /// The whole line.
    pub span: Span,
}

/// What one line of a `proxies` block sets.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxiesValue {
    /// `trusted: "10.0.0.0/8", "fd00::/8", "203.0.113.7"`: ranges of trusted proxies.
    Trusted(Vec<StrLit>),
    /// `hops: N`: at most N addresses (the peer included) are skipped as proxies.
    Hops {
        /// N as written.
        value: u64,
        /// Where N is.
        span: Span,
    },
    /// `header: X-Forwarded-For` or `header: Forwarded`: the header the proxies write.
    Header(Ident),
}

impl ProxiesValue {
    /// The key as written (`trusted`, `hops`, `header`).
    pub fn key(&self) -> &'static str {
        match self {
            ProxiesValue::Trusted(_) => "trusted",
            ProxiesValue::Hops { .. } => "hops",
            ProxiesValue::Header(_) => "header",
        }
    }
}
