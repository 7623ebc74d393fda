//! Differential test: on generated policies and requests, the compiled engine and the
//! reference interpreter agree on every decision and on the deciding grant or rule; the
//! engine decides each request as JSON in place (`authorize_json`) the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod reference;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reference::Reference;
use std::sync::atomic::{AtomicUsize, Ordering};
use warden::{Attrs, Engine, ManualClock, Options, Principal, Request, Resource, Value};

/// Outcome counts over a run: the generators must reach every kind of decision.
static ALLOWED: AtomicUsize = AtomicUsize::new(0);
static DENIED_BY_RULE: AtomicUsize = AtomicUsize::new(0);
static DEFAULT_DENY: AtomicUsize = AtomicUsize::new(0);

const ACTIONS: &[&str] = &["*", "a:*", "b:*", "a:x", "a:y", "b:x", "c:z"];
const REQ_ACTIONS: &[&str] = &[
    "a:x", "a:y", "a:q", "b:x", "b:w", "c:z", "d:d", "a:x:1", "a",
];
const SECRET: &str = "k3y";
/// The engine clock of generated policies: `now` without `context.time`.
const CLOCK_US: u64 = 1_800_000_000_500_000;

/// A policy as text, built from small pools so that rules and requests meet often.
#[derive(Debug, Clone)]
struct Gen {
    roles: Vec<Vec<usize>>,
    grants: Vec<(Vec<usize>, Vec<usize>)>,
    rules: Vec<GenRule>,
}

#[derive(Debug, Clone)]
struct GenRule {
    allow: bool,
    actions: Vec<usize>,
    on: usize,
    cond: Option<(bool, String)>,
    missing: usize,
}

fn expr_leaf(n_roles: usize) -> BoxedStrategy<String> {
    let paths = prop::sample::select(vec![
        "principal.id",
        "principal.org",
        "principal.level",
        "principal.roles",
        "principal",
        "principal.boss",
        "resource.owner",
        "resource.level",
        "resource.rank",
        "resource.tags",
        "resource.ranks",
        "resource.id",
        "resource.meta.org",
        "context.x",
        "context.n",
        "context.flag",
        "context.list",
        "env",
        "header authorization",
        "secret(KEY)",
        "now",
        "context.time",
    ])
    .prop_map(str::to_string);
    let lits = prop::sample::select(vec![
        "\"a\"",
        "\"b\"",
        "\"u1\"",
        "\"o1\"",
        "\"r0\"",
        "\"r1\"",
        "\"prod\"",
        "\"k3y\"",
        "0",
        "1",
        "2",
        "-1",
        "1.5",
        "true",
        "false",
        "1KB",
        "2m",
        "[\"a\", \"b\"]",
        "[]",
    ])
    .prop_map(str::to_string);
    let roles = (0..n_roles).prop_map(|i| format!("r{i}"));
    prop_oneof![3 => paths, 2 => lits, 1 => roles].boxed()
}

fn expr(n_roles: usize) -> BoxedStrategy<String> {
    expr_leaf(n_roles)
        .prop_recursive(4, 24, 2, move |inner| {
            let ops = prop::sample::select(vec![
                "==", "!=", "<", "<=", ">", ">=", "in", "contains", "starts_with", "ends_with",
                "??", "+", "-", "and", "or", "and", "or",
            ]);
            prop_oneof![
                4 => (inner.clone(), ops, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
                1 => inner.clone().prop_map(|a| format!("(not {a})")),
                1 => inner.clone().prop_map(|a| format!("({a}).len")),
                1 => (inner.clone(), prop::sample::select(vec!["/^a/", "/1$/", "/^[a-z]+$/"]))
                    .prop_map(|(a, re)| format!("({a}) matches {re}")),
                1 => (inner.clone(), 0..n_roles).prop_map(|(a, r)| format!("({a}) is r{r}")),
                1 => inner.clone().prop_map(|a| format!("({a}).is_int")),
                1 => (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(c, a, b)| format!("(if {c} then {a} else {b})")),
                // Secret-derived text is missing in `header_safe` (a property the
                // reference does not track), so the text comes from requests and literals.
                1 => (
                    prop::sample::select(vec!["principal.org", "resource.owner", "context.x", "\"a/b;c\"", "\"\\r\\n\u{e9}x\""]),
                    1..4u32,
                )
                    .prop_map(|(a, n)| format!("header_safe({a}, {n})")),
                1 => (
                    prop::sample::select(vec!["principal", "resource.owner"]),
                    0..n_roles,
                    prop::sample::select(vec!["principal.org", "resource.owner", "\"o1\"", "context.x"]),
                )
                    .prop_map(|(p, r, o)| format!("({p} is r{r} in {o})")),
                1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
                // A secret is never a script argument (`secret-to-script`, a load error).
                1 => inner.clone().prop_map(|a| format!("twice({})", no_secret(&a))),
                1 => (inner.clone(), inner)
                    .prop_map(|(a, b)| format!("same({}, {})", no_secret(&a), no_secret(&b))),
            ]
        })
        .boxed()
}

fn gen_policy() -> impl Strategy<Value = Gen> {
    (1usize..6).prop_flat_map(|n| {
        // Parents only among earlier roles: a DAG, with diamonds when two parents share one.
        let roles = (0..n)
            .map(|i| {
                prop::collection::vec(0..i.max(1), 0..=i.min(2))
                    .prop_map(move |ps| ps.into_iter().filter(|&p| p < i).collect::<Vec<_>>())
            })
            .collect::<Vec<_>>();
        let grants = prop::collection::vec(
            (
                prop::collection::vec(0..n, 1..3),
                prop::collection::vec(0..ACTIONS.len(), 1..3),
            ),
            0..5,
        );
        let rule = (
            any::<bool>(),
            prop::collection::vec(0..ACTIONS.len(), 1..3),
            0usize..4,
            prop::option::weighted(0.85, (any::<bool>(), expr(n))),
            0usize..3,
        )
            .prop_map(|(allow, actions, on, cond, missing)| GenRule {
                allow,
                actions,
                on,
                cond,
                missing,
            });
        (roles, grants, prop::collection::vec(rule, 1..7)).prop_map(|(roles, grants, rules)| Gen {
            roles,
            grants,
            rules,
        })
    })
}

impl Gen {
    fn text(&self) -> String {
        let mut s = String::from("policy gen\n");
        for (i, ps) in self.roles.iter().enumerate() {
            s.push_str(&format!("role r{i}"));
            let mut ps = ps.clone();
            ps.sort_unstable();
            ps.dedup();
            if !ps.is_empty() {
                let names: Vec<String> = ps.iter().map(|p| format!("r{p}")).collect();
                s.push_str(&format!(" > {}", names.join(", ")));
            }
            s.push('\n');
        }
        s.push_str("script {\n  fn twice(x) { x + x }\n  fn same(a, b) { a == b }\n}\n");
        s.push_str("principal { boss: role, org: string, org_roles: map<string, set<role>> }\n");
        s.push_str("resource doc { rank: role, ranks: set<role>, owner: string }\n");
        s.push_str("resource img { owner: string }\n");
        for (roles, acts) in &self.grants {
            let r: Vec<String> = roles.iter().map(|i| format!("r{i}")).collect();
            let a: Vec<&str> = acts.iter().map(|&i| ACTIONS[i]).collect();
            s.push_str(&format!("grant {}: {}\n", r.join(", "), a.join(", ")));
        }
        for r in &self.rules {
            let a: Vec<&str> = r.actions.iter().map(|&i| ACTIONS[i]).collect();
            s.push_str(if r.allow { "allow " } else { "deny " });
            s.push_str(&a.join(", "));
            s.push_str(["", " on doc", " on doc, img", " on img"][r.on]);
            if let Some((is_if, e)) = &r.cond {
                s.push_str(if *is_if { "\n  if " } else { "\n  unless " });
                s.push_str(e);
            }
            s.push_str(["", " missing skip", " missing deny"][r.missing]);
            s.push('\n');
        }
        s
    }
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        prop::sample::select(vec![
            "a", "b", "u1", "o1", "r0", "r1", "r2", "zz", "k3y", "ab1"
        ])
        .prop_map(Value::from),
        prop::sample::select(vec![
            0.0,
            1.0,
            2.0,
            -1.0,
            1024.0,
            120.0,
            1.5,
            1_800_000_000.0
        ])
        .prop_map(Value::Number),
        any::<bool>().prop_map(Value::Bool),
        prop::collection::vec(
            prop::sample::select(vec!["a", "b", "r0", "r1", "zz"]).prop_map(Value::from),
            0..3
        )
        .prop_map(Value::List),
    ]
}

fn attrs(names: &'static [&'static str]) -> impl Strategy<Value = Attrs> {
    prop::collection::vec((prop::sample::select(names), value()), 0..names.len() + 1).prop_map(
        |kv| {
            let mut a = Attrs::new();
            for (k, v) in kv {
                a.set(k, v);
            }
            a
        },
    )
}

/// `org_roles`: organizations `o1`, `u1`, `a` to role names (undeclared ones included).
fn org_roles() -> impl Strategy<Value = Value> {
    let names = prop::collection::vec(
        prop::sample::select(vec!["r0", "r1", "r2", "zz"]).prop_map(Value::from),
        0..3,
    );
    prop::collection::vec((prop::sample::select(vec!["o1", "u1", "a"]), names), 0..3).prop_map(
        |kv| {
            let mut m = Attrs::new();
            for (k, v) in kv {
                m.set(k, Value::List(v));
            }
            Value::Map(m)
        },
    )
}

fn request() -> impl Strategy<Value = Request> {
    let roles = prop::collection::vec(
        prop::sample::select(vec!["r0", "r1", "r2", "r3", "r4", "zz"]).prop_map(String::from),
        0..3,
    );
    let principal = prop::option::weighted(
        0.85,
        (
            prop::sample::select(vec!["u1", "u2"]),
            roles,
            attrs(&["org", "level", "boss"]),
            prop::option::of(org_roles()),
        )
            .prop_map(|(id, roles, mut attrs, org_roles)| {
                if let Some(m) = org_roles {
                    attrs.set("org_roles", m);
                }
                Principal {
                    id: id.into(),
                    roles,
                    attrs,
                }
            }),
    );
    let resource = prop::option::weighted(
        0.85,
        (
            prop::sample::select(vec!["doc", "img", "other"]),
            attrs(&["owner", "level", "rank", "tags", "ranks"]),
            prop::option::of(value()),
        )
            .prop_map(|(ty, mut attrs, meta)| {
                if let Some(m) = meta {
                    attrs.set("meta", Value::Map(Attrs::new().with("org", m)));
                }
                Resource {
                    ty: ty.into(),
                    id: "p1".into(),
                    attrs,
                }
            }),
    );
    (
        principal,
        prop::sample::select(REQ_ACTIONS),
        resource,
        attrs(&["x", "n", "flag", "list", "time"]),
    )
        .prop_map(|(principal, action, resource, context)| Request {
            principal,
            action: action.into(),
            resource,
            context,
        })
}

fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => (*n).into(),
        Value::String(s) => s.as_str().into(),
        Value::List(l) => l.iter().map(value_json).collect(),
        Value::Map(m) => attrs_json(m).into(),
    }
}

fn attrs_json(a: &Attrs) -> serde_json::Map<String, serde_json::Value> {
    a.0.iter()
        .map(|(k, v)| (k.clone(), value_json(v)))
        .collect()
}

/// The request JSON of docs/JSON.md for a generated request.
fn to_json(req: &Request) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("action".into(), req.action.as_str().into());
    if let Some(p) = &req.principal {
        let mut m = attrs_json(&p.attrs);
        m.insert("id".into(), p.id.as_str().into());
        m.insert("roles".into(), p.roles.clone().into());
        o.insert("principal".into(), m.into());
    }
    if let Some(r) = &req.resource {
        let mut m = attrs_json(&r.attrs);
        m.insert("type".into(), r.ty.as_str().into());
        m.insert("id".into(), r.id.as_str().into());
        o.insert("resource".into(), m.into());
    }
    o.insert("context".into(), attrs_json(&req.context).into());
    o.into()
}

fn check(g: &Gen, reqs: &[Request]) -> Result<(), TestCaseError> {
    let src = g.text();
    let opts = Options::default()
        .env("prod")
        .secret("KEY", SECRET)
        .clock(std::sync::Arc::new(ManualClock::new(CLOCK_US)));
    // Generated policies are not always well-typed: compile the parsed tree without the
    // checker, so that the evaluator is compared on ill-typed programs too.
    let policy = warden_lang::parse(&src, &Default::default())
        .map_err(|e| TestCaseError::fail(format!("{e:?}\n{src}")))?;
    let engine = Engine::from_policy("gen.warden", &src, &policy, opts)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
    let reference = Reference::new(&policy, "gen.warden", &src, "prod")
        .with_secret("KEY", SECRET)
        .with_clock_secs(CLOCK_US as f64 / 1_000_000.0);
    for req in reqs {
        let d = engine.authorize(req);
        let got = (d.allowed, d.rule.map(str::to_string));
        let want = reference.authorize(req);
        let counter = match &got {
            (true, _) => &ALLOWED,
            (false, Some(_)) => &DENIED_BY_RULE,
            (false, None) => &DEFAULT_DENY,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        prop_assert_eq!(&got, &want, "policy:\n{}\nrequest: {:?}", src, req);
        let (explained, _) = engine.explain(req);
        prop_assert_eq!(explained, d);
        // The same request as JSON, decided in place.
        let in_place = engine
            .authorize_json(&to_json(req))
            .map_err(|e| TestCaseError::fail(format!("{e}: {req:?}")))?;
        prop_assert_eq!(in_place, d, "policy:\n{}\nrequest: {:?}", src, req);
    }
    Ok(())
}

#[test]
fn engine_agrees_with_reference() {
    let cases = std::env::var("WARDEN_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        // ChaCha (the default) dominates the run time of an unoptimised test build.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..Config::default()
    });
    let strategy = (gen_policy(), prop::collection::vec(request(), 8));
    runner
        .run(&strategy, |(g, reqs)| check(&g, &reqs))
        .unwrap_or_else(|e| panic!("{e}"));
    let total = (cases as usize) * 8;
    for (name, c) in [
        ("allowed", &ALLOWED),
        ("denied by a rule", &DENIED_BY_RULE),
        ("denied by default", &DEFAULT_DENY),
    ] {
        let n = c.load(Ordering::Relaxed);
        assert!(
            n * 40 >= total,
            "only {n} of {total} decisions {name}: the generators miss a case"
        );
        eprintln!("{name}: {n} of {total}");
    }
}

#[test]
fn reference_agrees_on_the_tour() {
    let src = include_str!("../../examples/00-tour.warden");
    let engine = Engine::from_source(
        "t.warden",
        src,
        Options::default().secret("CRON_SECRET", "x"),
    )
    .unwrap();
    let policy = warden_lang::parse(src, &Default::default()).unwrap();
    let reference = Reference::new(&policy, "t.warden", src, "development");
    let mut runner = TestRunner::new(Config {
        cases: 2_000,
        failure_persistence: None,
        // ChaCha (the default) dominates the run time of an unoptimised test build.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..Config::default()
    });
    let actions = prop::sample::select(vec![
        "posts:read",
        "posts:write",
        "posts:delete",
        "users:read",
        "users:write",
        "users:delete",
        "users:x",
    ]);
    let roles = prop::collection::vec(
        prop::sample::select(vec!["viewer", "editor", "admin", "x"]),
        0..3,
    );
    let strategy = (
        actions,
        roles,
        prop::sample::select(vec!["post", "user"]),
        0..3usize,
        0..3usize,
        prop::sample::select(vec!["viewer", "editor", "admin", "x"]),
    );
    runner
        .run(&strategy, |(action, roles, ty, org, author, role)| {
            let p = roles
                .iter()
                .fold(Principal::new("u0").attr("org", "o0"), |p, r| p.role(*r));
            let r = Resource::new(ty, "x")
                .attr("org", format!("o{org}"))
                .attr("author", format!("u{author}"))
                .attr("role", role);
            let q = Request::new(action).principal(p).resource(r);
            let d = engine.authorize(&q);
            prop_assert_eq!(
                (d.allowed, d.rule.map(str::to_string)),
                reference.authorize(&q)
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// `e` with every `secret(KEY)` replaced by a string: script arguments may hold none.
fn no_secret(e: &str) -> String {
    e.replace("secret(KEY)", "\"k\"")
}

/// What the general evaluator decided, from an explain trace (the trace's rules are
/// evaluated by `eval`, never by the fast form that decisions take): allowed when a
/// grant covers the action and no enforced deny matched; refused by the first deny
/// that did when a grant covers it (without one, no rule is the reason). For policies
/// of grants and `deny` rules only.
fn general_answer(tr: &warden::Trace) -> (bool, Option<String>) {
    let deny = tr
        .rules
        .iter()
        .find(|r| r.effect == "deny" && r.matched && !r.report_only);
    match (&tr.grant, deny) {
        (None, _) => (false, None),
        (Some(_), None) => (true, None),
        (Some(_), Some(r)) => (false, Some(r.rule.clone())),
    }
}

/// The fast form of conditions (`==`, `!=`, `principal is R`, `and`, `or`, `not` over
/// one-name reads, compiled at load) against the general evaluator, whose answer the
/// explain trace records ([`general_answer`]): every shape it takes, every field it reads (`resource.type` and `.id`,
/// `principal.id`, attributes, context) over values of every kind, missing, an
/// anonymous caller and no resource; on built, JSON and borrowed requests.
#[test]
fn fast_conditions_decide_as_the_general_evaluator() {
    let src = r#"
policy fast
role r0
role r1 > r0
grant r0: a:*
deny a:a if resource.owner == principal.id or principal is r1
deny a:b if resource.org != principal.org and not principal is r1
deny a:c unless resource.type == context.t and resource.id != principal.org
deny a:d if principal.level == resource.level
deny a:e if not (context.flag == principal.flag)
deny a:f if principal.id != context.t or resource.owner == resource.org
"#;
    let policy = warden_lang::parse(src, &Default::default()).unwrap();
    let engine = Engine::from_policy("fast.warden", src, &policy, Options::default()).unwrap();
    let values = || {
        [
            None,
            Some(Value::from("u1")),
            Some(Value::from("o1")),
            Some(Value::from("doc")),
            Some(Value::from(1i64)),
            Some(Value::from(1.0)),
            Some(Value::from(true)),
            Some(Value::from(vec!["u1"])),
            Some(Value::Null),
        ]
    };
    let with = |a: Attrs, name: &str, v: &Option<Value>| match v {
        Some(v) => a.with(name, v.clone()),
        None => a,
    };
    let mut requests = Vec::new();
    for action in ["a:a", "a:b", "a:c", "a:d", "a:e", "a:f"] {
        for (i, v) in values().iter().enumerate() {
            for (j, w) in values().iter().enumerate() {
                let mut p = Principal::new("u1").role(if i % 3 == 0 { "r1" } else { "r0" });
                p.attrs = with(with(Attrs::new(), "org", v), "level", w);
                p.attrs = with(p.attrs, "flag", v);
                let mut r = Resource::new(if j % 2 == 0 { "doc" } else { "post" }, "o1");
                r.attrs = with(with(Attrs::new(), "owner", w), "org", v);
                r.attrs = with(r.attrs, "level", v);
                let mut q = Request::new(action)
                    .principal(p.clone())
                    .resource(r.clone());
                q.context = with(with(Attrs::new(), "t", w), "flag", v);
                requests.push(q.clone());
                let mut anon = q.clone();
                anon.principal = None;
                requests.push(anon);
                let mut bare = q;
                bare.resource = None;
                requests.push(bare);
            }
        }
    }
    let mut outcomes = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for req in &requests {
        let d = engine.authorize(req);
        let (explained, trace) = engine.explain(req);
        assert_eq!(d, explained, "{req:?}");
        let (allowed, deny) = general_answer(&trace);
        assert_eq!(d.allowed, allowed, "{req:?}: {d:?} against {trace:?}");
        if deny.is_some() {
            assert_eq!(d.rule.map(str::to_owned), deny, "{req:?}");
        }
        let json = engine.authorize_json(&to_json(req)).unwrap();
        assert_eq!(json, d, "{req:?}");
        let borrowed = engine.authorize_ref(&warden::RequestRef::from(req));
        assert_eq!(borrowed, d, "{req:?}");
        let o = outcomes.entry(d.rule.unwrap_or("none")).or_default();
        if d.allowed {
            o.0 += 1;
        } else {
            o.1 += 1;
        }
    }
    // Every deny rule denies some request, and the grant allows others.
    for line in 6..=11 {
        let rule = format!("fast.warden:{line}");
        let denied = outcomes.get(rule.as_str()).map_or(0, |o| o.1);
        assert!(denied > 0, "{rule} never denies: {outcomes:?}");
    }
    let allowed: usize = outcomes.values().map(|o| o.0).sum();
    assert!(allowed > 100, "{outcomes:?}");
}

/// `principal is R` in its fast form past 64 roles, where the role masks are not built
/// and the fast form must leave the condition to the general evaluator rather than
/// read it as missing: the general evaluator's decisions, and the role decides.
#[test]
fn fast_role_tests_past_the_masks_decide_as_the_general_evaluator() {
    let mut src = String::from("policy many\n");
    for i in 0..70 {
        src.push_str(&format!("role r{i}\n"));
    }
    src.push_str("role top > r69\ngrant r0, r69, top: a:*\ndeny a:a if principal is r69\n");
    let policy = warden_lang::parse(&src, &Default::default()).unwrap();
    let engine = Engine::from_policy("many.warden", &src, &policy, Options::default()).unwrap();
    let mut denied = 0;
    for role in ["r0", "r69", "top"] {
        let req = Request::new("a:a")
            .principal(Principal::new("u1").role(role))
            .resource(Resource::new("doc", "d1"));
        let d = engine.authorize(&req);
        let (explained, trace) = engine.explain(&req);
        assert_eq!(d, explained, "{role}");
        assert_eq!(d.allowed, general_answer(&trace).0, "{role}: {trace:?}");
        assert_eq!(
            engine.authorize_ref(&warden::RequestRef::from(&req)),
            d,
            "{role}"
        );
        denied += usize::from(!d.allowed);
        assert_eq!(d.allowed, role == "r0", "{role}: {d:?}");
    }
    assert_eq!(denied, 2);
}
