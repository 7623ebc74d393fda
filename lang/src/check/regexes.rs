//! Compiled regexes shared by the checker and the engine, once per process.
//!
//! The checker compiles every `matches` pattern to report its errors, and the engine
//! compiled the same pattern again to run it. Building a regex is the dearest single
//! step of loading a small policy (~0.35 M instructions for the tour's one
//! `^[A-Za-z0-9_\/-]{1,64}$`, a tenth of its load), so the checker's result is kept
//! here, keyed by pattern and size limit, for the engine and for later loads of the
//! same policy (reloads). Bounded: at most [`MAX_PATTERNS`] patterns; when full, the
//! cache starts over. A `Regex` clone shares the compiled program and has its own
//! search caches, so engines sharing a pattern do not contend.

use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Patterns kept at most.
const MAX_PATTERNS: usize = 256;

/// Pattern -> (size limit it was built with, the outcome).
type Cache = HashMap<Box<str>, (usize, Result<Regex, regex::Error>)>;

/// `RegexBuilder::new(pattern).size_limit(size_limit).build()`, from the cache when
/// this pattern was built with this limit before.
pub fn compile(pattern: &str, size_limit: usize) -> Result<Regex, regex::Error> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    // A poisoned lock only means a panic elsewhere mid-insert: the map is still valid.
    let hit = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pattern)
        .filter(|(limit, _)| *limit == size_limit)
        .map(|(_, built)| built.clone());
    if let Some(built) = hit {
        return built;
    }
    let built = RegexBuilder::new(pattern).size_limit(size_limit).build();
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX_PATTERNS {
        map.clear();
    }
    map.insert(pattern.into(), (size_limit, built.clone()));
    built
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
}
