//! Fuzz target `fmt_idempotent`: for every input that parses, formatting the formatted
//! text changes nothing, and the formatted text parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_lang::{format_source, Limits};

fuzz_target!(|text: &str| {
    let limits = Limits::default();
    let Ok(once) = format_source(text, &limits) else {
        return;
    };
    match format_source(&once, &limits) {
        Ok(twice) => assert_eq!(twice, once, "fmt is not idempotent on:\n{text}"),
        Err(d) => {
            panic!("formatted text does not parse: {d:?}\n--- input:\n{text}\n--- output:\n{once}")
        }
    }
});
