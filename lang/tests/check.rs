//! Positive checker tests: well-formed policies that must load with no diagnostics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use warden_lang::ast::{Item, ShapeKind};
use warden_lang::{diag, load, Checked, Limits};

/// Load and require a clean result: no errors and no warnings.
fn clean(source: &str) -> Checked {
    match load(source, &Limits::default()) {
        Ok(checked) => {
            assert!(
                checked.warnings.is_empty(),
                "{}",
                diag::render("test.warden", source, &checked.warnings, false)
            );
            checked
        }
        Err(diags) => panic!("{}", diag::render("test.warden", source, &diags, false)),
    }
}

fn rules(c: &Checked) -> usize {
    c.policy
        .items
        .iter()
        .filter(|i| matches!(i, Item::Rule(_)))
        .count()
}

#[test]
fn tour_checks_clean() {
    let c = clean(include_str!("../../examples/00-tour.warden"));
    assert_eq!(c.policy.name.name, "docs_app");
    assert_eq!(rules(&c), 3);
}

#[test]
fn role_dag_with_a_diamond() {
    // base <- (reader, writer) <- owner: two paths to `base`, no cycle.
    let c = clean(
        "policy t
role base
role reader > base
role writer > base
role owner > reader, writer
role auditor > reader
grant base: docs:list
grant reader, auditor: docs:read
grant writer: docs:write
grant owner: docs:*
resource doc { level: role }
deny docs:write on doc if resource.level > principal
deny docs:* on doc unless principal is owner or principal is writer
",
    );
    let roles = c
        .policy
        .items
        .iter()
        .filter(|i| matches!(i, Item::Role(_)))
        .count();
    assert_eq!(roles, 5);
}

#[test]
fn optional_attributes_and_coalesce() {
    let c = clean(
        "policy t
principal { org: string, team: string?, quota: number? }
resource doc { org: string, team: string?, pages: number }
deny docs:* on doc if resource.team ?? resource.org != principal.team ?? principal.org
deny docs:print on doc if resource.pages > principal.quota ?? 100 missing skip
deny docs:share on doc if principal.team == \"guests\" missing deny
",
    );
    assert_eq!(rules(&c), 3);
}

#[test]
fn lists_sets_and_in() {
    let c = clean(
        "policy t
role admin
principal { org: string, tags: set<string>, scores: set<number> }
resource doc { labels: set<string>, owners: set<string>, owner: string }
deny * on doc if principal.org in [\"acme\", \"globex\"] and not \"public\" in resource.labels
deny * on doc unless principal.id in resource.owners or resource.owner == principal.id
deny * on doc if principal.tags contains \"suspended\"
deny * on doc if 3 in principal.scores or principal.scores contains 7
deny * on doc if [1, 2, 3].len > principal.tags.len
deny * on doc if admin in principal.roles
",
    );
    assert_eq!(rules(&c), 6);
}

#[test]
fn every_operator_well_typed() {
    let c = clean(
        "policy t
role viewer
role editor > viewer
principal { org: string, age: number, active: bool, rank: role }
resource doc { title: string, size: number, owner: string, min: role }
context { mfa: bool, ip_risk: number }
deny * on doc if principal.age < 18 or principal.age <= 17 or principal.age > 120 or principal.age >= 121
deny * on doc if principal.org == \"x\" and principal.org != resource.owner
deny * on doc if not principal.active
deny * on doc if resource.title starts_with \"draft-\" or resource.title ends_with \".tmp\"
deny * on doc if resource.title contains \"secret\" and not context.mfa
deny * on doc if resource.title matches /^[A-Z][a-z]+(-[a-z]+)*$/
deny * on doc if resource.owner + \"@\" + principal.org == \"root@acme\"
deny * on doc if resource.size > 10MB or context.ip_risk >= 0.75 or resource.size < 1KB
deny * on doc if principal.rank < editor or resource.min > principal
deny * on doc unless principal is viewer
deny * on doc if resource.title.len > 200 or principal.roles.len == 0
deny * on doc if (principal.age ?? 0) == -1
",
    );
    assert_eq!(rules(&c), 12);
}

#[test]
fn script_functions_called_from_conditions_and_routes() {
    let c = clean(
        "policy t
principal { org: string }
resource doc { owner: string, org: string }
script {
  // Rhai: plain functions only.
  fn same_org(a, b) { a.to_lower() == b.to_lower() }
  fn is_owner(doc_owner, id) { doc_owner == id }
  fn is_owner(doc_owner) { false }
  fn tenant(host) {
    let parts = host.split(\".\");
    if parts.len() > 2 { parts[0] } else { \"\" }
  }
}
deny * on doc unless same_org(resource.org, principal.org)
deny docs:write on doc unless is_owner(resource.owner, principal.id) or is_owner(resource.owner)
route /t/** {
  require tenant(header host) != \"\" else 404
}
",
    );
    assert!(c
        .policy
        .items
        .iter()
        .any(|i| matches!(i, Item::Script(s) if s.source.contains("fn tenant"))));
}

#[test]
fn env_conditions_on_cors_and_headers() {
    let c = clean(
        "policy t
headers {
  Strict-Transport-Security: \"max-age=31536000\" if env == \"production\"
  Strict-Transport-Security: \"max-age=0\" if env != \"production\"
  X-Debug: \"on\" if env == \"dev\" or env == \"test\"
  X-Content-Type-Options: \"nosniff\"
}
cors {
  origins: \"https://app.example.com\"
  origins: \"http://localhost:3000\", \"http://127.0.0.1:8080\" if env != \"production\"
  methods: GET, POST
  headers: Content-Type
  expose: X-Request-Id
  credentials: true
  credentials: false if env == \"test\"
  max_age: 10m
}
",
    );
    assert_eq!(c.policy.items.len(), 2);
}

#[test]
fn startup_checks_on_secrets() {
    let c = clean(
        "policy t
startup {
  require secret(SESSION_KEY).len >= 32 because \"session keys need 256 bits\"
  require secret(CRON_SECRET) != \"\" if env == \"production\"
  require env in [\"dev\", \"test\", \"production\"]
}
",
    );
    let Item::Startup(s) = &c.policy.items[0] else {
        panic!("not a startup block")
    };
    assert_eq!(s.checks.len(), 3);
}

#[test]
fn routes_limits_and_requirements() {
    let c = clean(
        "policy t
role admin
input { size: number, name: string? }
limit login: 5 per 15m by ip strict
limit api: 100 per 1m by principal.id ?? header x-api-key ?? ip
limit upload: 10 per 1h by input.name ?? ip
route /api/** {
  require auth
  limit api
}
route GET, HEAD /api/docs/:id, /api/docs/:id/raw {
  public
}
route POST /api/docs/:id {
  require role admin else 404
  require input.size <= 5MB else 413
  require lower(header content-type) starts_with \"application/json\" else 415
  limit api, upload
  header set Cache-Control: \"no-store\"
  header drop Server
}
route DELETE /api/docs/:id {
  require request.method == \"DELETE\" and ip != \"0.0.0.0\"
}
route /login {
  require auth else redirect 303 \"/sso?next={path}\"
}
route /old/** {
  require auth else redirect \"https://new.example.com/\"
}
",
    );
    let routes = c
        .policy
        .items
        .iter()
        .filter(|i| matches!(i, Item::Route(_)))
        .count();
    assert_eq!(routes, 6);
}

#[test]
fn same_pattern_with_disjoint_methods_is_no_conflict() {
    clean(
        "policy t
route GET /users/:id {
  public
}
route PUT, DELETE /users/:uid {
  require auth
}
route /users/:id/avatar {
  require auth
}
",
    );
}

#[test]
fn context_and_input_are_open_without_shapes() {
    // No `context { }` / `input { }` shape: their fields are not checked.
    clean(
        "policy t
deny * if context.anything == \"x\" or context.n > 3
route /x {
  require input.whatever == 1 else 400
}
",
    );
}

#[test]
fn shapes_of_every_kind() {
    let c = clean(
        "policy t
principal { id: string, roles: set<role>, groups: set<set<string>>, ok: bool }
resource file { id: string, size: number }
context { now: number }
input { file: string }
",
    );
    let kinds: Vec<bool> = c
        .policy
        .items
        .iter()
        .map(|i| matches!(i, Item::Shape(s) if matches!(s.kind, ShapeKind::Resource(_))))
        .collect();
    assert_eq!(kinds, [false, true, false, false]);
}

#[test]
fn allow_rule_one_typo_from_a_granted_action_is_a_warning() {
    let policy = "policy t
role reader
grant reader: pages:read
resource page { public: bool }
allow pages:raed on page if resource.public == true
allow files:download
";
    let checked = load(policy, &Limits::default()).unwrap();
    let codes: Vec<_> = checked
        .warnings
        .iter()
        .map(|d| (d.code, d.help.clone()))
        .collect();
    // `pages:raed` is one typo from the granted `pages:read`; `files:download` is an
    // action only a rule permits, far from every granted one: no warning.
    assert_eq!(
        codes,
        [(
            "undeclared-action",
            Some(
                "did you mean `pages:read`? (an action only rules permit is fine; then name it apart from `pages:read`)"
                    .to_string()
            )
        )]
    );
}
