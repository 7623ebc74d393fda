//! Fuzz target `parse`: no input makes the parser panic, whatever bytes it is given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_lang::{parse, Limits};

fuzz_target!(|data: &[u8]| {
    // Invalid UTF-8 is the CLI's concern (`source::read`); the parser takes `&str`, so
    // feed it the valid prefix rather than discard the input.
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
    };
    let _ = parse(text, &Limits::default());
});
