//! Fuzz target `check`: parsing and checking (`warden_lang::load`) never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_lang::{load, Limits};

fuzz_target!(|text: &str| {
    let _ = load(text, &Limits::default());
});
