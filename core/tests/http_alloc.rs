//! Heap allocations per `check_http`, counted by a global allocator: a regression guard
//! for the request path (figures in docs/BENCHMARKS.md, HTTP).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::Arc;
use support::{CRON, POLICY};
use warden::{Engine, HttpRequest, ManualClock, Options, Principal};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn allocations(e: &Engine, req: &HttpRequest) -> usize {
    // Warm the store's key first: only the steady state is measured.
    assert!(e.check_http(req).status < 500);
    let region = Region::new(GLOBAL);
    let d = e.check_http(req);
    let n = region.change().allocations;
    drop(d);
    n
}

#[test]
fn check_http_allocations_stay_bounded() {
    // A manual clock: the system clock's first read starts its calibration on a thread
    // of its own, whose allocations the process-wide count would take in whenever that
    // thread happened to run.
    let options = Options::default()
        .secret("CRON_SECRET", CRON)
        .clock(Arc::new(ManualClock::new(1_800_000_000_000_000)));
    let e = Engine::from_source("app.warden", POLICY, options).unwrap();
    let limited = HttpRequest::new("GET", "/api/files/list")
        .header("origin", "https://app.example.com")
        .ip("203.0.113.7".parse().unwrap())
        .principal(Principal::new("u1").attr("api_client", "acme"));
    let unmatched = HttpRequest::new("GET", "/assets/app.js");
    let (a, b) = (allocations(&e, &limited), allocations(&e, &unmatched));
    eprintln!("allocations: limited route {a}, no route {b}");
    // Was 15 and 2 before the allocation work, then 9 and 2 (docs/BENCHMARKS.md, HTTP).
    // What is left is what the decision owns: its header list and the `RateLimit`
    // value (the echoed origin is borrowed from the policy's list).
    assert!(a <= 2, "limited route: {a} allocations");
    assert!(b <= 1, "no route: {b} allocations");
}
