//! No input panics or hangs: truncated policies, binary garbage, and inputs past every
//! bound of [`Limits`], each rejected quickly with its own diagnostic code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use warden_lang::{diag, load, Diagnostic, Limits};

const TOUR: &str = include_str!("../../examples/00-tour.warden");

/// Generous for a debug build on a shared, loaded machine (pest runs ~10x slower
/// unoptimised): a hang or a quadratic blow-up on megabytes of input takes far longer.
const QUICK: Duration = Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 15 });

/// Load under `limits`, render whatever comes back, and return the diagnostics and time.
fn run(source: &str, limits: &Limits) -> (Result<(), Vec<Diagnostic>>, Duration) {
    let start = Instant::now();
    let result = load(source, limits).map(|_| ());
    let took = start.elapsed();
    if let Err(diags) = &result {
        for d in diags {
            assert!(d.span.start <= d.span.end, "{}: inverted span", d.code);
            assert!(
                d.span.end as usize <= source.len(),
                "{}: span {:?} past the end of a {}-byte source",
                d.code,
                d.span,
                source.len()
            );
            assert!(!d.message.is_empty(), "{}: empty message", d.code);
        }
        // Rendering must cope with any span, too.
        let text = diag::render("input.warden", source, diags, false);
        assert!(text.contains("error"), "rendered without an error: {text}");
    }
    (result, took)
}

/// The input fails with exactly one diagnostic of `code`, within [`QUICK`].
fn rejects(source: &str, limits: &Limits, code: &str) -> Diagnostic {
    let (result, took) = run(source, limits);
    assert!(took < QUICK, "`{code}` took {took:?}");
    let diags = result.expect_err("the input must be rejected");
    assert!(
        diags.iter().any(|d| d.code == code && d.is_error()),
        "expected `{code}`, got {:?}",
        diags.iter().map(|d| d.code).collect::<Vec<_>>()
    );
    diags.into_iter().find(|d| d.code == code).unwrap()
}

#[test]
fn tour_loads() {
    let (result, _) = run(TOUR, &Limits::default());
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn every_truncated_prefix_of_the_tour_fails_cleanly_or_loads() {
    let limits = Limits::default();
    let start = Instant::now();
    let mut rejected = 0;
    for len in 0..TOUR.len() {
        let prefix = &TOUR[..len];
        let (result, _) = run(prefix, &limits);
        if let Err(diags) = result {
            assert!(
                diags.iter().any(Diagnostic::is_error),
                "prefix of {len} bytes: diagnostics without an error"
            );
            rejected += 1;
        }
    }
    // Most cuts land inside a declaration; only a few fall between two of them.
    assert!(
        rejected > TOUR.len() / 2,
        "only {rejected} prefixes rejected"
    );
    assert!(start.elapsed() < QUICK * 6, "took {:?}", start.elapsed());
}

#[test]
fn binary_garbage_is_a_syntax_error() {
    // A fixed xorshift stream: the same garbage on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..200 {
        let len = (next() % 4096) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        let (result, took) = run(&text, &Limits::default());
        assert!(took < QUICK, "round {round} took {took:?}");
        let diags = result.expect_err("garbage must be rejected");
        assert!(diags.iter().any(|d| d.code == "syntax"), "round {round}");
    }
    // After a valid header, and with a NUL and a lone surrogate's replacement.
    let text = format!("policy t\nrole a\n\u{0}\u{FFFD}{}", "\u{7}".repeat(100));
    let d = rejects(&text, &Limits::default(), "syntax");
    assert_eq!(d.span.start as usize, "policy t\nrole a\n".len());
}

#[test]
fn ten_megabytes_of_open_parentheses() {
    let source = format!("policy t\ndeny * if {}", "(".repeat(10 << 20));
    let d = rejects(&source, &Limits::default(), "nesting-too-deep");
    // The 65th bracket is the first one too deep.
    assert_eq!(d.span.start as usize, "policy t\ndeny * if ".len() + 64);
}

#[test]
fn deep_lists_and_braces() {
    let lists = format!("policy t\ndeny * if a in {}", "[".repeat(1 << 20));
    rejects(&lists, &Limits::default(), "nesting-too-deep");
    let braces = format!("policy t\nscript {}", "{".repeat(1 << 20));
    rejects(&braces, &Limits::default(), "nesting-too-deep");
}

#[test]
fn nesting_just_under_the_limit_loads() {
    let limits = Limits::default();
    let depth = limits.max_nesting;
    let source = format!(
        "policy t\ndeny * if {}true{}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let (result, took) = run(&source, &limits);
    assert!(result.is_ok(), "{result:?}");
    assert!(took < QUICK);
}

/// The nesting bound is what keeps the parser's recursion, and every later pass's,
/// within a thread's stack (pest's own stack probe is off, `Cargo.toml`: it was ~18%
/// of a first compile's instructions, and it did not stop this overflow either): the
/// deepest policy the default limits accept, in each kind of bracket and with a run
/// of `not` at every level, loads on a thread of 1 MiB, half of Rust's default for
/// spawned threads. Measured: the list nesting needs 512 KiB–1 MiB in a debug build
/// (whose frames are the largest), 128–256 KiB optimised.
#[test]
fn the_deepest_accepted_nesting_fits_a_small_stack() {
    let limits = Limits::default();
    let depth = limits.max_nesting;
    let nots = "not ".repeat(depth);
    let sources = [
        format!(
            "policy t\ndeny * if {}true{}",
            format!("({nots}").repeat(depth),
            ")".repeat(depth)
        ),
        format!(
            "policy t\ndeny * if 1 in {}1{}",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        format!(
            "policy t\ndeny * if {}principal.id{} == \"a\"",
            format!("{nots}(").repeat(depth / 2),
            ")".repeat(depth / 2)
        ),
    ];
    for source in sources {
        let result = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || load(&source, &Limits::default()).map(|_| ()))
            .map(|t| t.join());
        assert!(
            matches!(result, Ok(Ok(_))),
            "the load failed or overflowed its thread's stack"
        );
    }
}

#[test]
fn long_operator_chains_do_not_overflow_the_stack() {
    // Prefix and postfix operators are not brackets: the expression-size bound stops them.
    let limits = Limits::default();
    // Sixteen times the default bound of 4,096 parts; pest needs seconds for megabytes
    // of dense expression even when optimised, which is why these stay under 1 MB.
    for source in [
        format!("policy t\ndeny * if {}true", "not ".repeat(1 << 16)),
        format!(
            "policy t\ndeny * if principal.id{} > 1",
            ".len".repeat(1 << 16)
        ),
        format!("policy t\ndeny * if {}true", "true and ".repeat(1 << 15)),
    ] {
        rejects(&source, &limits, "expression-too-large");
    }
    // A run of `not` recurses like brackets, and is bounded like them.
    let depth = limits.max_nesting;
    let source = format!("policy t\ndeny * if {}true", "not ".repeat(depth));
    let (result, took) = run(&source, &limits);
    assert!(result.is_ok(), "{result:?}");
    assert!(took < QUICK);
    let source = format!("policy t\ndeny * if {}true", "not ".repeat(depth + 1));
    let d = rejects(&source, &limits, "nesting-too-deep");
    assert_eq!(
        d.span.start as usize,
        "policy t\ndeny * if ".len() + 4 * depth
    );
}

/// A postfix chain would nest the tree once per operator; runs are bounded like brackets.
#[test]
fn postfix_chain_is_bounded() {
    let limits = Limits::default();
    let n = limits.max_expr_nodes - 10;
    let source = format!("policy t\ndeny * if principal.id{} > 1", ".len".repeat(n));
    let d = rejects(&source, &limits, "nesting-too-deep");
    assert!(d.message.contains("unary operators"), "{}", d.message);
}

#[test]
fn one_megabyte_identifier() {
    let source = format!("policy t\nrole {}\n", "a".repeat(1 << 20));
    let d = rejects(&source, &Limits::default(), "name-too-long");
    assert_eq!(d.span.start as usize, "policy t\nrole ".len());
    assert!(d.message.contains("1048576 bytes"), "{}", d.message);
}

#[test]
fn one_megabyte_string() {
    let source = format!("policy t\ndeny * because \"{}\"\n", "x".repeat(1 << 20));
    let d = rejects(&source, &Limits::default(), "literal-too-long");
    assert_eq!(d.span.start as usize, "policy t\ndeny * because ".len());
}

#[test]
fn one_megabyte_regex() {
    let source = format!(
        "policy t\nprincipal {{ org: string }}\ndeny * if principal.org matches /{}/\n",
        "a".repeat(1 << 20)
    );
    rejects(&source, &Limits::default(), "literal-too-long");
}

#[test]
fn source_past_the_size_limit() {
    let limits = Limits {
        max_source_bytes: 1 << 10,
        ..Limits::default()
    };
    let source = format!("policy t\n{}", "role r\n".repeat(1000));
    let d = rejects(&source, &limits, "source-too-large");
    assert_eq!(d.span.start, 0);
    // The same text under the default limits is only a duplicate role.
    rejects(&source, &Limits::default(), "duplicate");
}

#[test]
fn regex_past_the_compiled_size_limit() {
    let limits = Limits {
        max_regex_bytes: 10 << 10,
        ..Limits::default()
    };
    let source =
        "policy t\nprincipal { org: string }\ndeny * if principal.org matches /\\w{500}/\n";
    rejects(source, &limits, "regex-too-large");
}

#[test]
fn many_syntax_errors_stop_at_the_limit() {
    let limits = Limits::default();
    // `limit limit` lacks its `:`: every line is broken.
    let source = format!("policy t\n{}", "limit\n".repeat(10_000));
    let (result, took) = run(&source, &limits);
    assert!(took < QUICK, "took {took:?}");
    let diags = result.expect_err("every `limit` is incomplete");
    assert_eq!(diags.len(), limits.max_syntax_errors);
    assert!(diags.iter().all(|d| d.code == "syntax"));
}

#[test]
fn brackets_inside_strings_are_counted_as_nesting() {
    // Documents a trade-off: the nesting bound is checked on raw bytes before parsing,
    // so brackets inside a string or comment count too.
    let limits = Limits {
        max_nesting: 8,
        ..Limits::default()
    };
    let source = format!("policy t\ndeny * because \"{}\"\n", "(".repeat(9));
    rejects(&source, &limits, "nesting-too-deep");
}
