//! Requests decided in place from their JSON (`Engine::authorize_json`, `JsonRequest`)
//! get exactly the decisions and errors of `Request::from_json` followed by `authorize`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../benches/docs_app.rs"]
mod docs_app;

use serde_json::json;
use warden::{Engine, JsonRequest, Options, Request};

fn docs_engine(cache: usize) -> Engine {
    Engine::from_source(
        "docs-app.warden",
        docs_app::POLICY,
        docs_app::options().cache_size(cache),
    )
    .unwrap()
}

#[test]
fn json_path_decides_the_docs_app_mix_like_built_requests() {
    let world = docs_app::world(10_000);
    for cache in [0, 1000] {
        let engine = docs_engine(cache);
        let (mut allowed, mut denied_by_rule) = (0, 0);
        for c in &world.cases {
            let json = world.json(c);
            let built = engine.authorize(&world.request(c));
            let from_json = engine.authorize(&Request::from_json(&json).unwrap());
            let in_place = engine.authorize_json(&json).unwrap();
            let parsed = JsonRequest::parse(&json).unwrap();
            assert_eq!(in_place, built, "{c:?}");
            assert_eq!(from_json, built, "{c:?}");
            assert_eq!(engine.authorize_json_request(&parsed), built, "{c:?}");
            assert_eq!(in_place.allowed, world.hand(c), "{c:?}");
            allowed += usize::from(built.allowed);
            denied_by_rule += usize::from(!built.allowed && built.rule.is_some());
        }
        // Every kind of outcome is exercised.
        assert!(allowed > 2_000 && allowed < 8_000, "{allowed}");
        assert!(denied_by_rule > 500, "{denied_by_rule}");
    }
}

const POLICY: &str = r#"
policy p
role viewer
role editor > viewer
role admin > editor
grant viewer: doc:read
grant editor: doc:write
principal { id: string, org: string, level: number, tags: set<string>, deputy: role? }
resource doc { owner: string, readers: set<role>, level: number }
context { ip: string?, flags: set<string> }
deny doc:write on doc unless resource.owner == principal.id or principal is admin
  because "owner only"
deny doc:read on doc if resource.meta.org != principal.org because "other org"
deny doc:read on doc if resource.level > principal.level because "too secret"
deny doc:read on doc if "blocked" in context.flags because "blocked" missing skip
deny doc:read on doc if not principal >= resource.readers because "not a reader"
deny doc:write on doc if principal.deputy == "viewer" because "deputy" missing skip
deny doc:write on doc if "frozen" in principal.tags because "frozen" missing skip
"#;

/// Compiled without the checker (as the differential test does), so that rules may read
/// nested objects the shapes cannot declare.
fn engine_of(src: &str) -> Engine {
    let policy = warden_lang::parse(src, &Default::default()).unwrap();
    Engine::from_policy("p.warden", src, &policy, Options::default()).unwrap()
}

fn engine() -> Engine {
    engine_of(POLICY)
}

/// Both paths on one request: the same decision, or the same error.
fn same(engine: &Engine, j: &serde_json::Value) -> Option<bool> {
    match (Request::from_json(j), engine.authorize_json(j)) {
        (Ok(q), Ok(d)) => {
            assert_eq!(d, engine.authorize(&q), "{j}");
            Some(d.allowed)
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{j}");
            None
        }
        (a, b) => panic!("{j}: from_json {a:?}, in place {b:?}"),
    }
}

#[test]
fn every_kind_of_value_reads_alike() {
    let e = engine();
    let base = |p: serde_json::Value, r: serde_json::Value, ctx: serde_json::Value, a: &str| json!({"principal": p, "action": a, "resource": r, "context": ctx});
    let doc = json!({"type": "doc", "id": "d1", "owner": "u1", "meta": {"org": "o1"},
        "readers": ["viewer"], "level": 2});
    let me = json!({"id": "u1", "roles": ["viewer"], "org": "o1", "level": 3, "tags": []});
    let cases = [
        // Allowed: same org, level high enough, a reader.
        (
            base(me.clone(), doc.clone(), json!({}), "doc:read"),
            Some(true),
        ),
        // Nested object read: another org.
        (
            base(
                me.clone(),
                json!({"type": "doc", "meta": {"org": "o2"}, "readers": [], "level": 0}),
                json!(null),
                "doc:read",
            ),
            Some(false),
        ),
        // Numbers compared; a missing number denies (the deny's condition is missing).
        (
            base(
                json!({"id": "u1", "role": "viewer", "org": "o1", "level": 1}),
                doc.clone(),
                json!({}),
                "doc:read",
            ),
            Some(false),
        ),
        (
            base(
                json!({"id": "u1", "role": "viewer", "org": "o1"}),
                doc.clone(),
                json!({}),
                "doc:read",
            ),
            Some(false),
        ),
        // A context list.
        (
            base(
                me.clone(),
                doc.clone(),
                json!({"flags": ["blocked"]}),
                "doc:read",
            ),
            Some(false),
        ),
        (
            base(
                me.clone(),
                doc.clone(),
                json!({"flags": ["x"], "ip": "::1"}),
                "doc:read",
            ),
            Some(true),
        ),
        // set<role> attribute: an undeclared role name makes it missing (deny).
        (
            base(
                me.clone(),
                json!({"type": "doc", "meta": {"org": "o1"}, "readers": ["nobody"], "level": 0}),
                json!({}),
                "doc:read",
            ),
            Some(false),
        ),
        (
            base(
                me.clone(),
                json!({"type": "doc", "meta": {"org": "o1"}, "readers": ["admin"], "level": 0}),
                json!({}),
                "doc:read",
            ),
            Some(false),
        ),
        // Roles: undeclared names are ignored; inheritance; owner check on ids.
        (
            base(
                json!({"id": "u1", "roles": ["ghost", "editor"], "org": "o1", "tags": []}),
                doc.clone(),
                json!({}),
                "doc:write",
            ),
            Some(true),
        ),
        (
            base(
                json!({"id": "u2", "roles": ["editor"], "org": "o1", "tags": []}),
                doc.clone(),
                json!({}),
                "doc:write",
            ),
            Some(false),
        ),
        (
            base(
                json!({"id": "u2", "roles": ["admin"], "tags": []}),
                doc.clone(),
                json!({}),
                "doc:write",
            ),
            Some(true),
        ),
        // A numeric id reads as its decimal text.
        (
            base(
                json!({"id": 7, "roles": ["editor"], "tags": []}),
                json!({"type": "doc", "id": 8, "owner": "7"}),
                json!({}),
                "doc:write",
            ),
            Some(true),
        ),
        // A role-typed attribute and a string set.
        (
            base(
                json!({"id": "u1", "roles": ["editor"], "deputy": "viewer", "tags": []}),
                doc.clone(),
                json!({}),
                "doc:write",
            ),
            Some(false),
        ),
        (
            base(
                json!({"id": "u1", "roles": ["editor"], "tags": ["frozen"]}),
                doc.clone(),
                json!({}),
                "doc:write",
            ),
            Some(false),
        ),
        // Anonymous, no resource, unknown action.
        (
            json!({"action": "doc:read", "resource": doc.clone()}),
            Some(false),
        ),
        (
            json!({"principal": me.clone(), "action": "doc:read"}),
            Some(true),
        ),
        (
            json!({"kind": "authorization", "principal": me.clone(), "action": "x:y"}),
            Some(false),
        ),
    ];
    for (j, want) in cases {
        assert_eq!(same(&e, &j), want, "{j}");
    }
}

#[test]
fn bad_requests_give_the_same_errors() {
    let e = engine();
    let bad = [
        json!([1]),
        json!("doc:read"),
        json!({"principal": null}),
        json!({"action": 3}),
        json!({"action": "a", "resource": {"id": "x"}}),
        json!({"action": "a", "resource": {"type": 1}}),
        json!({"action": "a", "resource": {"type": "doc", "id": []}}),
        json!({"action": "a", "resource": 5}),
        json!({"action": "a", "principal": "u1"}),
        json!({"action": "a", "principal": {"id": {}}}),
        json!({"action": "a", "principal": {"roles": "admin"}}),
        json!({"action": "a", "principal": {"roles": ["admin", 3]}}),
        json!({"action": "a", "principal": {"role": 3}}),
        json!({"action": "a", "principal": {"role": "a", "roles": ["b"]}}),
        json!({"action": "a", "context": []}),
        json!({"action": "a", "actor": {}}),
        json!({"method": "GET", "path": "/"}),
        json!({"kind": "http", "action": "a"}),
        json!({"kind": 1, "action": "a"}),
    ];
    for j in bad {
        assert_eq!(same(&e, &j), None, "{j}");
        let err = JsonRequest::parse(&j).unwrap_err();
        assert_eq!(Err(err), Request::from_json(&j), "{j}");
    }
}

#[test]
fn a_parsed_request_converts_to_the_owned_request() {
    let j = json!({
        "principal": {"id": "u1", "role": "editor", "org": "o1"},
        "action": "doc:write",
        "resource": {"type": "doc", "id": "d1", "owner": "u1", "meta": {"org": "o1"}},
        "context": {"flags": ["a"]}
    });
    let q = JsonRequest::parse(&j).unwrap();
    assert_eq!(q.action(), "doc:write");
    let owned = q.to_request();
    assert_eq!(Request::from_json(&j).unwrap(), owned);
    let p = owned.principal.unwrap();
    assert_eq!(p.roles, vec!["editor"]);
    // `role` is the JSON's spelling of `roles`, not an attribute.
    assert_eq!(p.attrs.get("role"), None);
    assert_eq!(p.attrs.get("org"), Some(&"o1".into()));
}

#[test]
fn principal_role_is_not_an_attribute_on_either_path() {
    let src = "policy p\nrole r\ngrant r: a:b\n\
               deny a:b if principal.role == \"r\" because \"read role\"\n";
    let e = engine_of(src);
    let j = json!({"principal": {"id": "u", "role": "r"}, "action": "a:b"});
    // The deny reads a missing attribute: missing denies, on both paths alike.
    let d = e.authorize_json(&j).unwrap();
    assert_eq!(d.reason, Some("read role"));
    assert_eq!(d, e.authorize(&Request::from_json(&j).unwrap()));
}

#[test]
fn errors_follow_the_contract_order_whatever_the_key_order() {
    for (j, msg) in [
        (json!({"aaa": 1, "action": 3}), "`action` must be a string"),
        (
            json!({"aaa": 1, "action": "a", "principal": 3}),
            "`principal` must be an object or null",
        ),
        (
            json!({"action": "a", "method": "GET"}),
            "unknown request field `method`",
        ),
        (
            json!({"kind": "x", "method": "GET"}),
            "unsupported request `kind`",
        ),
        (
            json!({"action": "a", "principal": {"id": 1.5, "roles": [1]}}),
            "role names must be strings",
        ),
        (
            json!({"action": "a", "principal": {"id": true, "roles": [1]}}),
            "`principal.id` must be a string",
        ),
        (
            json!({"action": "a", "resource": {"type": "t", "id": true}, "context": 1}),
            "`resource.id` must be a string",
        ),
    ] {
        let err = JsonRequest::parse(&j).unwrap_err();
        assert!(err.message.contains(msg), "{j}: {err}");
    }
}

/// Any JSON value: both paths give the same decision or the same error, and neither
/// panics.
#[test]
fn any_json_decides_alike_on_both_paths() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let keys = prop::sample::select(vec![
        "kind",
        "action",
        "principal",
        "resource",
        "context",
        "method",
        "id",
        "roles",
        "role",
        "type",
        "owner",
        "org",
        "meta",
        "readers",
        "level",
        "flags",
        "tags",
        "deputy",
        "ip",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        prop::sample::select(vec![0.0, 1.0, 2.5, -3.0, 1e300]).prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "doc",
            "doc:read",
            "doc:write",
            "u1",
            "o1",
            "viewer",
            "editor",
            "admin",
            "authorization",
            "blocked",
            "frozen",
            "GET",
        ])
        .prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    });
    // Mostly requests with an action and no stray fields, so that many are decided.
    let obj = |v: BoxedStrategy<serde_json::Value>| {
        prop::collection::btree_map(
            prop::sample::select(vec![
                "type", "id", "roles", "role", "org", "owner", "readers",
            ]),
            v,
            0..5,
        )
        .prop_map(|m| {
            serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        })
    };
    let value = value.boxed();
    let request = (
        prop::option::weighted(0.8, obj(value.clone())),
        prop::sample::select(vec!["doc:read", "doc:write", "x:y"]),
        prop::option::weighted(0.8, obj(value.clone())),
        prop::option::weighted(0.1, value.clone()),
    )
        .prop_map(|(p, a, mut r, extra)| {
            if let Some(serde_json::Value::Object(m)) = &mut r {
                m.entry("type").or_insert_with(|| "doc".into());
            }
            let mut j = json!({ "action": a, "principal": p, "resource": r });
            if let Some(x) = extra {
                j["context"] = x;
            }
            j
        });
    let any = prop_oneof![1 => value, 4 => request];
    let e = engine();
    let decided = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 3_000,
        failure_persistence: None,
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..Config::default()
    });
    runner
        .run(&any, |j| {
            if same(&e, &j).is_some() {
                decided.set(decided.get() + 1);
            }
            Ok(())
        })
        .unwrap_or_else(|err| panic!("{err}"));
    eprintln!("{} of 3000 requests decided", decided.get());
    assert!(
        decided.get() > 500,
        "only {} requests decided",
        decided.get()
    );
}
