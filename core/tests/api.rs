//! The host-facing API: loading errors, secrets never printed, explain, reload, cache, threads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::Arc;
use warden::{Engine, Options, Principal, Request, Resource, Secret, Warden};

const SECRET: &str = "s3cr3t-value-7f2a";

fn secret_policy() -> &'static str {
    "policy s\nrole r\ngrant r: cron:run\n\
     deny cron:run unless context.token == \"Bearer \" + secret(CRON_SECRET)\n\
     because \"bad token\"\n"
}

fn secret_engine() -> Engine {
    let opts = Options::default().secret("CRON_SECRET", SECRET);
    Engine::from_source("s.warden", secret_policy(), opts).unwrap()
}

#[test]
fn secret_compares_and_is_never_printed() {
    let e = secret_engine();
    let mut q = Request::new("cron:run").principal(Principal::new("c").role("r"));
    q.context.set("token", format!("Bearer {SECRET}"));
    assert!(e.authorize(&q).allowed);
    q.context.set("token", "Bearer nope");
    let (d, trace) = e.explain(&q);
    assert!(!d.allowed);
    assert_eq!(d.reason, Some("bad token"));
    let outputs = [
        format!("{e:?}"),
        format!("{d:?}"),
        format!("{trace:?}"),
        serde_json::to_string(&trace).unwrap(),
        d.to_json().to_string(),
        format!("{:?}", Options::default().secret("CRON_SECRET", SECRET)),
        format!("{:?} {}", Secret::new(SECRET), Secret::new(SECRET)),
    ];
    for out in outputs {
        assert!(!out.contains(SECRET), "secret leaked in: {out}");
    }
}

#[test]
fn missing_secret_is_a_load_error_naming_the_line() {
    let opts = Options {
        secrets_from_env: false,
        ..Options::default()
    };
    let err = Engine::from_source("s.warden", secret_policy(), opts).unwrap_err();
    assert_eq!(err.codes(), vec!["missing-secret"]);
    let text = err.to_string();
    assert!(text.starts_with("s.warden:4:"), "{text}");
    assert!(text.contains("secret `CRON_SECRET` is not set"), "{text}");
}

#[test]
fn secrets_outside_rules_are_required_at_load() {
    let src = "policy p\nroute POST /cron {\n  require header authorization == \"Bearer \" + secret(WARDEN_API_TEST_CRON) else 401\n}\n";
    let err = Engine::from_source("p.warden", src, Options::default()).unwrap_err();
    assert_eq!(err.codes(), vec!["missing-secret"]);
    assert!(err.to_string().starts_with("p.warden:3:"), "{err}");
    let opts = Options::default().secret("WARDEN_API_TEST_CRON", "x");
    assert!(Engine::from_source("p.warden", src, opts).is_ok());
}

#[test]
fn load_errors_are_typed_and_rendered() {
    let err = Engine::from_source(
        "bad.warden",
        "policy p\nrole a\ngrant b: x:y\n",
        Options::default(),
    )
    .unwrap_err();
    assert!(err.codes().contains(&"unknown-role"), "{err:?}");
    assert!(err.to_string().contains("bad.warden:3:"), "{err}");
    let err = Engine::from_source(
        "bad.warden",
        "policy p\nallow x if context.s matches /(/\n",
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(err.codes(), vec!["invalid-regex"]);
    let err = Engine::from_file("/nonexistent/p.warden", Options::default()).unwrap_err();
    assert_eq!(err.codes(), vec!["io"]);
}

#[test]
fn script_functions_run_sandboxed() {
    let src = "policy p\nscript {\n  fn owner(a, b) { a == b }\n  fn spin(x) { loop { x += 1; } }\n  fn shout(s) { print(s); s + \"!\" }\n}\n\
               allow a:own if owner(context.a, context.b)\n\
               allow a:spin if spin(context.n) == 1\n\
               allow a:shout if shout(context.a) == \"x!\"\n";
    let e = Engine::from_source("p.warden", src, Options::default()).unwrap();
    let q = |act: &str| {
        Request::new(act)
            .context("a", "x")
            .context("b", "x")
            .context("n", 1)
    };
    assert!(e.authorize(&q("a:own")).allowed);
    assert!(!e.authorize(&q("a:own").context("b", "y")).allowed);
    // A missing argument makes the call missing: the allow does not apply.
    let mut no_b = q("a:own");
    no_b.context = warden::Attrs::new().with("a", "x");
    assert!(!e.authorize(&no_b).allowed);
    // An endless loop hits the operation budget and is missing, not a hang.
    assert!(!e.authorize(&q("a:spin")).allowed);
    assert!(e.authorize(&q("a:shout")).allowed);
}

#[test]
fn unknown_script_function_is_a_load_error() {
    let src = "policy p\nscript { fn ok(x) { x } }\nallow a:b if ok(context.x, 1)\n";
    let err = Engine::from_source("p.warden", src, Options::default()).unwrap_err();
    assert!(
        err.codes()
            .iter()
            .any(|c| *c == "unknown-function" || *c == "wrong-arity"),
        "{err}"
    );
    assert!(err.to_string().contains("p.warden:3:"), "{err}");
}

#[test]
fn explain_shows_grant_rules_and_values_read() {
    let e = Engine::from_source(
        "tour.warden",
        include_str!("../../examples/00-tour.warden"),
        Options::default().secret("CRON_SECRET", "x"),
    )
    .unwrap();
    let q = Request::new("posts:write")
        .principal(Principal::new("u1").role("editor").attr("org", "o1"))
        .resource(
            Resource::new("post", "p1")
                .attr("author", "u2")
                .attr("org", "o1"),
        );
    let (d, t) = e.explain(&q);
    assert_eq!(d, e.authorize(&q));
    assert_eq!(t.grant.as_deref(), Some("tour.warden:13"));
    assert_eq!(t.roles, Some(vec!["editor".to_string()]));
    let first = &t.rules[0];
    assert_eq!(first.rule, "tour.warden:23");
    assert_eq!(first.condition, "false");
    assert!(first.matched);
    assert!(first
        .reads
        .iter()
        .any(|r| r.attribute == "resource.author" && r.value == "\"u2\""));
    assert_eq!(t.rules[1].condition, "false");
    assert!(!t.rules[1].matched);
}

#[test]
fn reload_keeps_the_old_policy_on_error() {
    let w = Warden::from_source(
        "a.warden",
        "policy a\nrole r\ngrant r: x:y\n",
        Options::default(),
    )
    .unwrap();
    let q = Request::new("x:y").principal(Principal::new("u").role("r"));
    assert!(w.engine().authorize(&q).allowed);
    assert!(w
        .reload_source("a.warden", "policy a\nrole r\ngrant q: x:y\n")
        .is_err());
    assert!(w.engine().authorize(&q).allowed, "old policy still serves");
    w.reload_source("a.warden", "policy a\nrole r\n").unwrap();
    assert!(!w.engine().authorize(&q).allowed, "new policy serves");
}

#[test]
fn cache_hits_give_the_same_decisions() {
    let src = include_str!("../../examples/00-tour.warden");
    let opts = || Options::default().secret("CRON_SECRET", "x");
    let plain = Engine::from_source("t.warden", src, opts()).unwrap();
    let cached = Engine::from_source("t.warden", src, opts().cache_size(16)).unwrap();
    let reqs: Vec<Request> = (0..40)
        .map(|i| {
            Request::new(["posts:read", "posts:write"][i % 2])
                .principal(
                    Principal::new(format!("u{}", i % 3))
                        .role("editor")
                        .attr("org", "o1"),
                )
                .resource(
                    Resource::new("post", "p")
                        .attr("author", format!("u{}", i % 5))
                        .attr("org", "o1"),
                )
        })
        .collect();
    for q in &reqs {
        assert_eq!(plain.authorize(q), cached.authorize(q));
    }
    let s = cached.cache_stats();
    assert_eq!(s.hits + s.misses, 40);
    assert!(s.hits > 0 && s.misses > 0, "{s:?}");
    assert_eq!(plain.cache_stats().hits, 0);
}

#[test]
fn engine_is_shared_by_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<Warden>();
    let e = Arc::new(secret_engine());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let e = Arc::clone(&e);
            std::thread::spawn(move || {
                let q = Request::new("cron:run").principal(Principal::new("c").role("r"));
                (0..100).filter(|_| e.authorize(&q).allowed).count()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 0);
    }
}

#[test]
fn request_from_json_follows_the_contract() {
    let j = serde_json::json!({
        "principal": { "id": "u1", "role": "editor", "org": "o1" },
        "action": "posts:write",
        "resource": { "type": "post", "id": "p9", "author": "u1", "org": "o1" },
        "context": { "ip": "1.2.3.4" }
    });
    let q = Request::from_json(&j).unwrap();
    let p = q.principal.as_ref().unwrap();
    assert_eq!(p.roles, vec!["editor"]);
    assert_eq!(p.attrs.get("org"), Some(&"o1".into()));
    assert_eq!(q.resource.as_ref().unwrap().ty, "post");
    for (bad, msg) in [
        (serde_json::json!([1]), "must be a JSON object"),
        (serde_json::json!({"principal": null}), "missing `action`"),
        (
            serde_json::json!({"action": 3}),
            "`action` must be a string",
        ),
        (
            serde_json::json!({"action": "a", "resource": {"id": "x"}}),
            "missing `resource.type`",
        ),
        (
            serde_json::json!({"action": "a", "actor": {}}),
            "unknown request field `actor`",
        ),
        (
            serde_json::json!({"method": "GET", "path": "/"}),
            "HTTP requests",
        ),
        (
            serde_json::json!({"kind": "http", "action": "a"}),
            "unsupported request `kind`",
        ),
    ] {
        let err = Request::from_json(&bad).unwrap_err();
        assert!(err.to_string().contains(msg), "{bad}: {err}");
    }
}

#[test]
fn attribute_reads_lists_each_first_segment_once() {
    use warden_lang::ast::Root;
    let src = "policy p\nrole r\ngrant r: a:b\n\
               principal { id: string, org: string }\n\
               resource doc { owner: string, org: string }\n\
               deny a:b on doc if resource.owner != principal.id\n\
               deny a:b on doc if resource.org != principal.org or context.req.tz == \"x\"\n\
               deny a:b on doc if resource.owner == \"z\" and context.req.n == 1 and principal is r\n";
    let e = Engine::from_source("p.warden", src, Options::default()).unwrap();
    assert_eq!(
        e.attribute_reads(),
        vec![
            (Root::Resource, "owner"),
            (Root::Principal, "id"),
            (Root::Resource, "org"),
            (Root::Principal, "org"),
            (Root::Context, "req"),
            (Root::Principal, "roles"),
        ]
    );
}
