//! Zero heap allocations per decision on the built-request, in-place JSON, borrowed-request
//! (building included) and JSON-text paths, counted by a global
//! allocator; and the docs-app workload decided exactly as the hand-written rules do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../benches/docs_app.rs"]
mod docs_app;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard};
use warden::{Engine, ManualClock};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The counts are process-wide: tests take turns, so that one's setup does not show up
/// in another's region.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The docs-app engine, on a manual clock: the system clock's first read starts its
/// calibration on a thread of its own, and a process-wide count would take in that
/// thread's allocations whenever it happened to run (it did, once, under load).
fn engine() -> Engine {
    let options = docs_app::options().clock(Arc::new(ManualClock::new(0)));
    Engine::from_source("docs-app.warden", docs_app::POLICY, options).unwrap()
}

#[test]
fn authorize_allocates_nothing_and_matches_hand_written_rules() {
    let _turn = serial();
    let world = docs_app::world(10_000);
    let engine = engine();
    let requests: Vec<_> = world.cases.iter().map(|c| world.request(c)).collect();
    let ids: Vec<_> = world
        .cases
        .iter()
        .map(|c| engine.action_id(c.action))
        .collect();

    let region = Region::new(GLOBAL);
    let mut allowed = 0usize;
    for (q, id) in requests.iter().zip(&ids) {
        allowed += usize::from(engine.authorize(q).allowed);
        allowed += usize::from(engine.authorize_action(*id, q).allowed);
    }
    let stats = region.change();
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");

    let mut expected = 0;
    for (c, q) in world.cases.iter().zip(&requests) {
        let want = world.hand(c);
        assert_eq!(engine.authorize(q).allowed, want, "{c:?}");
        expected += 2 * usize::from(want);
    }
    assert_eq!(allowed, expected);
    // The mix is a real mix.
    assert!(expected > 2_000 && expected < 18_000, "{expected}");
}

#[test]
fn authorize_json_allocates_nothing_and_decides_like_built_requests() {
    let _turn = serial();
    let world = docs_app::world(10_000);
    let engine = engine();
    let jsons: Vec<_> = world.cases.iter().map(|c| world.json(c)).collect();
    let mut decisions = Vec::with_capacity(jsons.len());

    let region = Region::new(GLOBAL);
    for j in &jsons {
        decisions.push(engine.authorize_json(j));
    }
    let stats = region.change();
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");

    for (c, d) in world.cases.iter().zip(decisions) {
        assert_eq!(d.unwrap(), engine.authorize(&world.request(c)), "{c:?}");
    }
}

/// The ordinary way a Rust host builds a borrowed request (`RequestRef` from its own
/// strings) and decides it: nothing allocated, building included. The request JSON as
/// text (`authorize_json_str`, no escapes): nothing either.
#[test]
fn building_a_borrowed_request_and_deciding_it_allocates_nothing() {
    let _turn = serial();
    let world = docs_app::world(10_000);
    let engine = engine();
    let texts: Vec<String> = world.cases.iter().map(|c| world.json_text(c)).collect();
    let mut borrowed = Vec::with_capacity(world.cases.len());
    let mut from_text = Vec::with_capacity(2 * world.cases.len());

    let region = Region::new(GLOBAL);
    for c in &world.cases {
        borrowed.push(engine.authorize_ref(&world.request_ref(c)));
    }
    for t in &texts {
        from_text.push(engine.authorize_json_str(t));
        from_text.push(engine.authorize_json_bytes(t.as_bytes()));
    }
    let stats = region.change();
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");

    for (i, c) in world.cases.iter().enumerate() {
        let want = engine.authorize(&world.request(c));
        assert_eq!(borrowed[i], want, "{c:?}");
        assert_eq!(from_text[2 * i], Ok(want), "{c:?}");
        assert_eq!(from_text[2 * i + 1], Ok(want), "{c:?}");
    }
}

/// A borrowed request whose lists hold only borrowed items is not dropped item by item;
/// one that owns a string or a JSON value (the host's `String`, text with escapes) must
/// still free it. Every shape of list (inline, the first owning item after borrowed
/// ones, a borrowed value replaced by an owned one, spilled to the heap past four
/// items): what was allocated is freed.
#[test]
fn an_owning_borrowed_request_frees_what_it_owns() {
    use std::borrow::Cow;
    use warden::{PrincipalRef, RequestRef, ResourceRef, ValueRef};
    let _turn = serial();
    let engine = engine();
    let owned = |s: &str| Cow::<str>::Owned(s.to_owned());
    // The counts are process-wide, and libtest's main thread may free a finished
    // test's report while this region is open (CI once saw one 24-byte free too many):
    // a round whose counts balance is the answer. A leak is the same in every round.
    let mut stats = None;
    for _ in 0..3 {
        let region = Region::new(GLOBAL);
        for n in 0..6usize {
            let mut p = PrincipalRef::new(owned("u1"));
            for i in 0..n {
                p = p
                    .role(if i % 2 == 0 {
                        owned("viewer")
                    } else {
                        "editor".into()
                    })
                    .attr(format!("a{i}"), "x");
            }
            p = p.attr("org", "o1").attr("org", String::from("o1"));
            let mut r = ResourceRef::new("post", "p1").attr("org", "o1");
            for i in 0..n {
                r = r.attr(
                    owned(&format!("k{i}")),
                    ValueRef::Json(Cow::Owned(serde_json::json!([i]))),
                );
            }
            let q = RequestRef::new(owned("posts:read"))
                .principal(p)
                .resource(r.attr("author", String::from("u1")))
                .context("c", String::from("v"));
            assert_eq!(engine.authorize_ref(&q), engine.authorize(&q.to_request()));
        }
        let round = region.change();
        let balanced = round.bytes_allocated == round.bytes_deallocated;
        stats = Some(round);
        if balanced {
            break;
        }
    }
    let stats = stats.unwrap();
    assert!(stats.allocations > 0, "{stats:?}");
    assert_eq!(stats.bytes_allocated, stats.bytes_deallocated, "{stats:?}");
}
