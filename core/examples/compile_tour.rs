//! Compiles the tour policy (`examples/00-tour.warden`) as a fresh process does: the
//! first `Engine::from_source` of the process pays every lazily built table the load
//! path touches, which criterion's `compile policy` (warm, many iterations) hides.
//! Issue 23's target is that first compile under 0.5 ms.
//!
//! `cargo build --release -p warden-policy --example compile_tour`, then run
//! `target/release/examples/compile_tour [N]` many times (each run prints the first
//! compile and, with N > 0, the best of N further compiles in the same process), or
//! `valgrind --tool=callgrind target/release/examples/compile_tour` for instructions.

use std::hint::black_box;
use std::time::Instant;
use warden::{Engine, Options};

const TOUR: &str = include_str!("../../examples/00-tour.warden");

fn compile() -> Engine {
    let mut options = Options::default().secret("CRON_SECRET", "bench-cron-secret");
    // `TOUR_MANUAL_CLOCK=1`: a manual clock, to tell the system clock's one-time setup
    // apart from compiling.
    if std::env::var_os("TOUR_MANUAL_CLOCK").is_some() {
        options = options.clock(std::sync::Arc::new(warden::ManualClock::new(0)));
    }
    match Engine::from_source("00-tour.warden", black_box(TOUR), options) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

/// Minor page faults of this process so far (`/proc/self/stat` field 10; 0 elsewhere):
/// a fresh process's first compile touches code and heap pages for the first time.
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            after.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let faults = minor_faults();
    let t = Instant::now();
    let first = compile();
    let first_us = t.elapsed().as_secs_f64() * 1e6;
    let faults = minor_faults() - faults;
    drop(black_box(first));
    let mut best = f64::INFINITY;
    for _ in 0..n {
        let t = Instant::now();
        let e = compile();
        best = best.min(t.elapsed().as_secs_f64() * 1e6);
        drop(black_box(e));
    }
    if n == 0 {
        println!("first compile: {first_us:.1} us ({faults} minor page faults)");
    } else {
        println!(
            "first compile: {first_us:.1} us ({faults} minor page faults); \
             best of {n} more: {best:.1} us"
        );
    }
}
