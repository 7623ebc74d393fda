//! One test per semantic rule of LANGUAGE.md, on small policies written for each rule.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use warden::{Engine, Options, Principal, Request, Resource, Value, NO_PERMIT};

fn engine(src: &str) -> Engine {
    Engine::from_source("t.warden", src, Options::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn user(roles: &[&str]) -> Principal {
    roles.iter().fold(Principal::new("u1"), |p, r| p.role(*r))
}

fn req(action: &str, p: Option<Principal>, r: Option<Resource>) -> Request {
    Request {
        principal: p,
        action: action.into(),
        resource: r,
        context: Default::default(),
    }
}

const TOUR: &str = include_str!("../../examples/00-tour.warden");

fn tour() -> Engine {
    let opts = Options::default().secret("CRON_SECRET", "test-cron-secret");
    Engine::from_source("t.warden", TOUR, opts).unwrap_or_else(|e| panic!("{e}"))
}

fn post(author: &str, org: &str) -> Resource {
    Resource::new("post", "p1")
        .attr("author", author)
        .attr("org", org)
}

#[test]
fn deny_by_default() {
    let e = tour();
    let d = e.authorize(&req("posts:read", None, Some(post("u1", "o1"))));
    assert!(!d.allowed);
    assert_eq!(d.status, 403);
    assert_eq!(d.reason, Some(NO_PERMIT));
    assert_eq!(d.rule, None);
    // A role the policy does not declare carries no grant.
    let d = e.authorize(&req("posts:read", Some(user(&["root"])), None));
    assert!(!d.allowed);
}

#[test]
fn grant_allows_and_names_the_grant() {
    let e = tour();
    let d = e.authorize(&req(
        "posts:read",
        Some(user(&["viewer"]).attr("org", "o1")),
        Some(post("u2", "o1")),
    ));
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.status, 200);
    assert_eq!(d.rule, Some("t.warden:12"));
    assert_eq!(d.reason, None);
}

#[test]
fn deny_overrides_grant_with_because_and_line() {
    let e = tour();
    let d = e.authorize(&req(
        "posts:write",
        Some(user(&["editor"]).attr("org", "o1")),
        Some(post("u2", "o1")),
    ));
    assert!(!d.allowed);
    assert_eq!(
        d.reason,
        Some("only the author or an admin may change a post")
    );
    assert_eq!(d.rule, Some("t.warden:23"));
    // The author may.
    let d = e.authorize(&req(
        "posts:write",
        Some(user(&["editor"]).attr("org", "o1")),
        Some(post("u1", "o1")),
    ));
    assert!(d.allowed, "{d:?}");
    // Another org: the tenancy deny wins even for the author.
    let d = e.authorize(&req(
        "posts:write",
        Some(user(&["editor"]).attr("org", "o2")),
        Some(post("u1", "o1")),
    ));
    assert!(!d.allowed);
    assert_eq!(d.rule, Some("t.warden:27"));
}

#[test]
fn inheritance_chain_and_principal_is() {
    let e = tour();
    // admin > editor > viewer: admin reads posts through viewer's grant and writes
    // anyone's post through `principal is admin`, in any org.
    let admin = || Some(user(&["admin"]).attr("org", "o9"));
    assert!(
        e.authorize(&req("posts:read", admin(), Some(post("u2", "o1"))))
            .allowed
    );
    assert!(
        e.authorize(&req("posts:delete", admin(), Some(post("u2", "o1"))))
            .allowed
    );
}

#[test]
fn diamond_inheritance() {
    let e = engine(
        "policy d\nrole base\nrole left > base\nrole right > base\nrole top > left, right\n\
         grant base: a:read\ngrant left: a:left\ngrant right: a:right\n\
         deny a:right if not principal is right\n",
    );
    let top = || Some(user(&["top"]));
    for a in ["a:read", "a:left", "a:right"] {
        assert!(e.authorize(&req(a, top(), None)).allowed, "top may {a}");
    }
    assert!(
        !e.authorize(&req("a:right", Some(user(&["left"])), None))
            .allowed
    );
    assert!(
        e.authorize(&req("a:read", Some(user(&["left"])), None))
            .allowed
    );
    assert!(
        !e.authorize(&req("a:left", Some(user(&["base"])), None))
            .allowed
    );
}

#[test]
fn wildcards_cover_unlisted_actions() {
    let e = tour();
    // `grant admin: users:*` covers a verb the policy never names.
    let d = e.authorize(&req("users:impersonate", Some(user(&["admin"])), None));
    assert!(d.allowed, "{d:?}");
    assert!(
        !e.authorize(&req("users:impersonate", Some(user(&["editor"])), None))
            .allowed
    );
    // `deny * on post, user` applies to an unlisted action too.
    let e = engine(
        "policy w\nrole r\ngrant r: *\ndeny x:* if context.block\nresource post { org: string }\n",
    );
    let mut q = req("x:anything", Some(user(&["r"])), None).context("block", false);
    assert!(e.authorize(&q).allowed);
    q.context.set("block", true);
    assert!(!e.authorize(&q).allowed);
    assert!(e.authorize(&req("xy:z", Some(user(&["r"])), None)).allowed);
}

#[test]
fn missing_attributes_fail_closed() {
    let e = tour();
    // No `org` on the principal: the tenancy deny's condition is missing -> it denies.
    let d = e.authorize(&req(
        "posts:read",
        Some(user(&["viewer"])),
        Some(post("u1", "o1")),
    ));
    assert!(!d.allowed);
    assert_eq!(d.rule, Some("t.warden:27"));
    // An allow rule whose condition reads a missing attribute does not permit.
    let e = engine("policy m\nallow a:read if context.ok == true\n");
    assert!(!e.authorize(&req("a:read", None, None)).allowed);
    let mut q = req("a:read", None, None);
    q.context.set("ok", true);
    assert!(e.authorize(&q).allowed);
    q.context.set("ok", Value::Null);
    assert!(!e.authorize(&q).allowed);
}

#[test]
fn missing_skip_and_coalesce() {
    let e = engine(
        "policy m\nrole r\ngrant r: a:read\n\
         deny a:read if context.level > 3 missing skip\n\
         deny a:read if (context.tier ?? \"free\") == \"banned\"\n",
    );
    let mut q = req("a:read", Some(user(&["r"])), None);
    assert!(e.authorize(&q).allowed, "missing level is skipped");
    q.context.set("level", 5);
    assert!(!e.authorize(&q).allowed);
    q.context.set("level", 1);
    q.context.set("tier", "banned");
    assert!(!e.authorize(&q).allowed);
    // A type mismatch is missing too: skipped here.
    q.context.set("tier", "pro");
    q.context.set("level", "high");
    assert!(e.authorize(&q).allowed);
}

#[test]
fn and_or_short_circuit_left_to_right() {
    // `false and M` is false (no deny); `M and false` is missing (deny, fail closed).
    let e = engine(
        "policy s\nrole r\ngrant r: a:x, a:y\n\
         deny a:x if context.f and context.m\n\
         deny a:y if context.m and context.f\n",
    );
    let q = |a| req(a, Some(user(&["r"])), None).context("f", false);
    assert!(e.authorize(&q("a:x")).allowed);
    assert!(!e.authorize(&q("a:y")).allowed);
}

#[test]
fn role_ceiling_follows_inheritance() {
    let e = tour();
    let target = |role: &str| {
        Resource::new("user", "u9")
            .attr("org", "o1")
            .attr("role", role)
    };
    let admin = Some(user(&["admin"]).attr("org", "o1"));
    assert!(
        e.authorize(&req("users:write", admin.clone(), Some(target("editor"))))
            .allowed
    );
    assert!(
        e.authorize(&req("users:write", admin, Some(target("admin"))))
            .allowed
    );
    // A role the policy does not declare is missing: the ceiling deny fails closed.
    let admin = Some(user(&["admin"]).attr("org", "o1"));
    assert!(
        !e.authorize(&req("users:write", admin, Some(target("god"))))
            .allowed
    );
    // With no roles at all, every declared role outranks the principal.
    let e = engine(
        "policy c\nrole v\nrole a > v\nallow u:w\nresource user { role: role }\n\
         deny u:w on user if resource.role > principal\n",
    );
    let d = e.authorize(&req("u:w", Some(user(&[])), Some(target("v"))));
    assert!(!d.allowed);
    assert!(
        e.authorize(&req("u:w", Some(user(&["a"])), Some(target("v"))))
            .allowed
    );
    assert!(
        !e.authorize(&req("u:w", Some(user(&["v"])), Some(target("a"))))
            .allowed
    );
}

#[test]
fn env_is_folded_at_load() {
    let src = "policy e\nallow a:debug if env != \"production\"\n";
    let dev = Engine::from_source("e.warden", src, Options::default().env("staging")).unwrap();
    let prod = Engine::from_source("e.warden", src, Options::default().env("production")).unwrap();
    assert!(dev.authorize(&req("a:debug", None, None)).allowed);
    assert!(!prod.authorize(&req("a:debug", None, None)).allowed);
}

#[test]
fn operators() {
    let e = engine(
        "policy o\n\
         allow t:in if context.x in [\"a\", \"b\"]\n\
         allow t:contains if context.tags contains \"x\" and context.s contains \"ell\"\n\
         allow t:affix if context.s starts_with \"he\" and context.s ends_with \"lo\"\n\
         allow t:re if context.s matches /^h.l+o$/\n\
         allow t:concat if context.s + \"!\" == \"hello!\"\n\
         allow t:len if context.s.len == 5 and context.tags.len == 2\n\
         allow t:size if context.size <= 1KB and context.ttl == 2m\n",
    );
    let q = |a: &str| {
        req(a, None, None)
            .context("x", "b")
            .context("s", "hello")
            .context("tags", vec!["x", "y"])
            .context("size", 1024)
            .context("ttl", 120)
    };
    for a in [
        "t:in",
        "t:contains",
        "t:affix",
        "t:re",
        "t:concat",
        "t:len",
        "t:size",
    ] {
        assert!(e.authorize(&q(a)).allowed, "{a}");
    }
    assert!(!e.authorize(&q("t:in").context("x", "c")).allowed);
    assert!(!e.authorize(&q("t:re").context("s", "help")).allowed);
    assert!(!e.authorize(&q("t:size").context("size", 1025)).allowed);
}

#[test]
fn action_ids_are_reusable() {
    let e = tour();
    let id = e.action_id("posts:read");
    let mut q = req(
        "ignored",
        Some(user(&["viewer"]).attr("org", "o1")),
        Some(post("u1", "o1")),
    );
    assert!(e.authorize_action(id, &q).allowed);
    // An id from another engine falls back to the request's action name.
    let other = tour();
    assert!(!other.authorize_action(id, &q).allowed);
    q.action = "posts:read".into();
    assert!(other.authorize_action(id, &q).allowed);
}
