//! Matches one path against the HTTP bench's 200 route patterns N times: a small
//! deterministic binary to count the router's instructions with
//! `valgrind --tool=callgrind` (run at two values of N and subtract).
//!
//! `cargo build --release -p warden-policy --example router_calls`, then
//! `valgrind --tool=callgrind target/release/examples/router_calls N [PATH]`.
#![allow(clippy::unwrap_used, reason = "measurement tool")]

use std::hint::black_box;
use warden::http::Router;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let path = args.next().unwrap_or_else(|| "/api/r37/items/9f2c".into());
    let mut patterns = Vec::new();
    for f in 0..50 {
        patterns.push(format!("/api/r{f}/**"));
        patterns.push(format!("/api/r{f}/items/:id"));
        patterns.push(format!("/api/r{f}/admin/**"));
        patterns.push(format!("/api/r{f}/public/**"));
    }
    let router = Router::new(&patterns);
    let mut out = Vec::new();
    let mut total = 0;
    for _ in 0..n {
        router.matching_into(black_box(&path), &mut out);
        total += out.len();
    }
    println!("{} matches: {:?}", total, router.matching(&path));
}
