//! Compiled regexes shared by the checker and the engine, once per process.
//!
//! The checker compiled every `matches` pattern to report its errors, and the engine
//! compiled the same pattern again to run it. Building a regex is the dearest single
//! step of loading a small policy (~0.36 M instructions for the tour's one
//! `^[A-Za-z0-9_\/-]{1,64}$`, a sixth of its load), so a load now builds none: the
//! checker asks [`validate`], which for most patterns proves the build would succeed
//! without running it (see [`surely_builds`]), and the engine builds a pattern on its
//! first match. Builds are kept here, keyed by pattern and size limit, for the engine
//! and for later loads of the same policy (reloads). Bounded: at most [`MAX_PATTERNS`]
//! patterns; when full, the cache starts over. A `Regex` clone shares the compiled
//! program and has its own search caches, so engines sharing a pattern do not contend.

use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Patterns kept at most.
const MAX_PATTERNS: usize = 256;

/// What is known of a pattern at a size limit.
#[derive(Clone)]
enum Known {
    /// [`surely_builds`] held: the build succeeds, and has not run.
    Builds,
    /// The build ran.
    Built(Result<Regex, regex::Error>),
}

/// Pattern -> (size limit, what is known of it at that limit).
type Cache = HashMap<Box<str>, (usize, Known)>;

fn cache() -> std::sync::MutexGuard<'static, Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    // A poisoned lock only means a panic elsewhere mid-insert: the map is still valid.
    CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn known(pattern: &str, size_limit: usize) -> Option<Known> {
    cache()
        .get(pattern)
        .filter(|(limit, _)| *limit == size_limit)
        .map(|(_, k)| k.clone())
}

fn remember(pattern: &str, size_limit: usize, k: Known) {
    let mut map = cache();
    if map.len() >= MAX_PATTERNS {
        map.clear();
    }
    map.insert(pattern.into(), (size_limit, k));
}

/// `RegexBuilder::new(pattern).size_limit(size_limit).build()`, from the cache when
/// this pattern was built with this limit before.
pub fn compile(pattern: &str, size_limit: usize) -> Result<Regex, regex::Error> {
    if let Some(Known::Built(built)) = known(pattern, size_limit) {
        return built;
    }
    let built = RegexBuilder::new(pattern).size_limit(size_limit).build();
    remember(pattern, size_limit, Known::Built(built.clone()));
    built
}

/// The outcome of [`compile`] without the regex: `Ok` exactly when it would build,
/// and its very error when not. Builds nothing when `surely_builds` proves the
/// pattern builds (an ASCII pattern of bounded size, most policies' patterns);
/// otherwise builds it through [`compile`], which keeps the build for the engine.
pub fn validate(pattern: &str, size_limit: usize) -> Result<(), regex::Error> {
    match known(pattern, size_limit) {
        Some(Known::Builds) => return Ok(()),
        Some(Known::Built(built)) => return built.map(|_| ()),
        None => {}
    }
    if surely_builds(pattern, size_limit) {
        remember(pattern, size_limit, Known::Builds);
        return Ok(());
    }
    compile(pattern, size_limit).map(|_| ())
}

/// Whether `RegexBuilder::new(pattern).size_limit(size_limit).build()` certainly
/// succeeds; `false` means only "not shown", and the caller then builds it.
///
/// A build fails for two reasons: the syntax (the pattern is parsed here by
/// `regex-syntax` with the configuration the `regex` crate parses a `Regex` with, its
/// defaults: Unicode on, UTF-8 only, nesting at most 250), or a Thompson NFA, forward
/// or reverse, outgrowing the size limit, which counts the NFA builder's states and
/// their transition lists. That size is bounded here from above over the parsed tree
/// (see [`Bound`]) for the patterns whose NFA has no UTF-8 automata: every class
/// ASCII only, and only the line and text anchors as looks. A case-insensitive letter,
/// `\w`, `\d`, `.` or a non-ASCII class, and `\b`, fall back to the build. The other
/// engines the build makes (one-pass DFA, lazy DFA, backtracker, prefilters) are
/// skipped when over their own limits, never an error. `regexes::tests` holds this to
/// the build on every pattern of the repository's policies, on generated patterns, and
/// at limits from 64 bytes up.
fn surely_builds(pattern: &str, size_limit: usize) -> bool {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return false;
    };
    let Some(b) = Bound::of(&hir) else {
        return false;
    };
    // The compiler's own states around the pattern: the unanchored prefix
    // `(?s-u:.)*?`, the whole match's capture, the match state, the start states.
    let fixed = Bound {
        states: 16,
        extra: 8 * TRANSITION_BYTES,
    };
    let bytes = b
        .plus(fixed)
        .states
        .saturating_mul(STATE_BYTES)
        .saturating_add(b.extra);
    // Twice the estimate must fit: the builder's accounting has slack this does not model.
    bytes.saturating_mul(2) <= size_limit as u64
}

/// Bytes a builder state counts at most, beside its heap lists (`size_of` the
/// builder's state is 32 on 64-bit targets).
const STATE_BYTES: u64 = 64;
/// Bytes one sparse transition or one union alternate counts at most (8 and 4).
const TRANSITION_BYTES: u64 = 16;

/// An upper bound on the NFA builder's states and on the bytes of their heap lists
/// (sparse transitions, union alternates) for one tree, forward or reverse.
#[derive(Clone, Copy)]
struct Bound {
    states: u64,
    extra: u64,
}

impl Bound {
    fn plus(self, o: Bound) -> Bound {
        Bound {
            states: self.states.saturating_add(o.states),
            extra: self.extra.saturating_add(o.extra),
        }
    }

    fn times(self, n: u64) -> Bound {
        Bound {
            states: self.states.saturating_mul(n),
            extra: self.extra.saturating_mul(n),
        }
    }

    /// `n` states with one list entry each (unions joining `n` branches and the like).
    fn glue(n: u64) -> Bound {
        Bound {
            states: n,
            extra: n.saturating_mul(TRANSITION_BYTES),
        }
    }

    /// `None` for a tree outside what the bound models (see [`surely_builds`]).
    fn of(hir: &regex_syntax::hir::Hir) -> Option<Bound> {
        use regex_syntax::hir::{Class, HirKind, Look};
        Some(match hir.kind() {
            HirKind::Empty => Bound::glue(2),
            // One state per byte.
            HirKind::Literal(lit) => Bound::glue(lit.0.len() as u64 + 2),
            HirKind::Class(Class::Unicode(c)) if c.is_ascii() => {
                Bound::glue(2).plus(Bound::glue(c.ranges().len() as u64))
            }
            HirKind::Class(Class::Bytes(c)) if c.is_ascii() => {
                Bound::glue(2).plus(Bound::glue(c.ranges().len() as u64))
            }
            HirKind::Class(_) => return None,
            HirKind::Look(
                Look::Start
                | Look::End
                | Look::StartLF
                | Look::EndLF
                | Look::StartCRLF
                | Look::EndCRLF,
            ) => Bound::glue(2),
            HirKind::Look(_) => return None,
            // `min` copies of the body and `max - min` optional ones, each behind a
            // union (a loop when unbounded): at most `max(min, max) + 1` copies, each
            // with its glue.
            HirKind::Repetition(rep) => {
                let copies = u64::from(rep.max.unwrap_or(rep.min).max(rep.min)) + 1;
                Bound::of(&rep.sub)?
                    .plus(Bound::glue(3))
                    .times(copies)
                    .plus(Bound::glue(3))
            }
            HirKind::Capture(cap) => Bound::of(&cap.sub)?.plus(Bound::glue(3)),
            HirKind::Concat(subs) | HirKind::Alternation(subs) => {
                let mut b = Bound::glue(subs.len() as u64 + 3);
                for sub in subs {
                    b = b.plus(Bound::of(sub)?);
                }
                b
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_outcome_as_building_it() {
        for (pattern, limit) in [
            ("^[a-z]{1,64}$", 1 << 20),
            ("^[a-z]{1,64}$", 100),
            ("(unclosed", 1 << 20),
            ("^a+$", 1 << 20),
        ] {
            let direct = RegexBuilder::new(pattern).size_limit(limit).build();
            for _ in 0..2 {
                let cached = compile(pattern, limit);
                assert_eq!(direct.is_ok(), cached.is_ok(), "{pattern}, limit {limit}");
                if let (Ok(d), Ok(c)) = (&direct, &cached) {
                    assert_eq!(d.as_str(), c.as_str());
                    assert_eq!(d.is_match("abc"), c.is_match("abc"));
                }
                if let (Err(d), Err(c)) = (&direct, &cached) {
                    assert_eq!(d.to_string(), c.to_string());
                }
            }
        }
    }

    /// Every `matches` pattern of the repository's policies, crudely found (`matches /`
    /// up to the next unescaped `/`).
    fn repository_patterns() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let path = e.path();
                let name = e.file_name();
                if path.is_dir() && name != "target" && name != ".git" && name != "node_modules" {
                    walk(&path, out);
                } else if path.extension().is_some_and(|x| x == "warden") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for (at, _) in text.match_indices("matches /") {
                        let body = &text[at + "matches /".len()..];
                        let mut end = None;
                        let mut escaped = false;
                        for (i, c) in body.char_indices() {
                            match c {
                                '\\' if !escaped => escaped = true,
                                '/' if !escaped => {
                                    end = Some(i);
                                    break;
                                }
                                '\n' => break,
                                _ => escaped = false,
                            }
                        }
                        if let Some(end) = end {
                            // The lowering unescapes `\/` to `/`, as `Lower` does.
                            out.push(body[..end].replace("\\/", "/"));
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
            &mut out,
        );
        out
    }

    /// Patterns from pieces, by a fixed xorshift: syntax errors, Unicode classes,
    /// nested and large counted repetitions, all mixed.
    fn generated_patterns(n: usize) -> Vec<String> {
        const PIECES: &[&str] = &[
            "a",
            "b",
            "xyz",
            "[a-z]",
            "[A-Za-z0-9_\\/-]",
            "[^a]",
            "\\d",
            "\\w",
            ".",
            "é",
            "\\.",
            "\\-",
            "(?i)",
            "(?-u:[a-f])",
            "(",
            ")",
            "(?:",
            "(?P<n>",
            "|",
            "*",
            "+",
            "?",
            "*?",
            "{2}",
            "{1,64}",
            "{0,3}",
            "{3,}",
            "{100}",
            "{1000}",
            "{500,2000}",
            "^",
            "$",
            "\\A",
            "\\z",
            "(?m)^",
            "\\b",
            "[",
            "]",
            "{",
            "}",
            "\\",
            "\\p{L}",
            "[[:alpha:]]",
            "(?s).",
            "\\x41",
            "\\u{1F600}",
            "(?x) a",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|_| {
                let len = 1 + (next() % 8) as usize;
                (0..len)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    const LIMITS: &[usize] = &[64, 256, 1_000, 4_096, 10_000, 100_000, 1 << 20];

    #[test]
    fn validation_agrees_with_the_build() {
        let mut patterns = repository_patterns();
        assert!(
            patterns.iter().any(|p| p == "^[A-Za-z0-9_/-]{1,64}$"),
            "the tour's pattern is among the repository's: {patterns:?}"
        );
        let from_repository = patterns.len();
        patterns.extend(generated_patterns(6_000));
        let (mut shown, mut shown_repository) = (0, 0);
        for (i, p) in patterns.iter().enumerate() {
            for &limit in LIMITS {
                let built = RegexBuilder::new(p).size_limit(limit).build();
                if surely_builds(p, limit) {
                    assert!(
                        built.is_ok(),
                        "{p:?} at {limit}: shown to build, yet {built:?}"
                    );
                    shown += 1;
                    if i < from_repository && limit == 1 << 20 {
                        shown_repository += 1;
                    }
                }
                let validated = validate(p, limit);
                assert_eq!(
                    built.as_ref().map(|_| ()).map_err(ToString::to_string),
                    validated.map_err(|e| e.to_string()),
                    "{p:?} at {limit}"
                );
            }
        }
        // Not vacuous: the proof holds for most of the policies' patterns and for
        // thousands of generated ones.
        assert!(
            shown_repository * 2 > from_repository,
            "{shown_repository} of {from_repository}"
        );
        assert!(shown > 3_000, "{shown}");
    }

    #[test]
    fn the_tour_pattern_is_shown_without_a_build() {
        assert!(surely_builds("^[A-Za-z0-9_/-]{1,64}$", 1 << 20));
        // Near the limit the proof gives up and the build decides.
        assert!(!surely_builds("^[A-Za-z0-9_/-]{1,64}$", 1_000));
        assert!(validate("^[A-Za-z0-9_/-]{1,64}$", 1_000).is_err());
        assert!(!surely_builds("\\w+", 1 << 20));
        assert!(!surely_builds("(unclosed", 1 << 20));
    }
}
