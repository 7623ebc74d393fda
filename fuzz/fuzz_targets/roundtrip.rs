//! Fuzz target `roundtrip`: for every input that parses, parse -> print -> parse gives the
//! same tree (spans and comments aside), and the comments are all still there.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_lang::{format_policy, format_source, parse, stripped, Limits};

fuzz_target!(|text: &str| {
    let limits = Limits::default();
    let Ok(original) = parse(text, &limits) else {
        return;
    };
    for printed in [format_source(text, &limits), Ok(format_policy(&original))] {
        let printed = match printed {
            Ok(p) => p,
            Err(d) => panic!("format_source failed on parsed input: {d:?}"),
        };
        match parse(&printed, &limits) {
            Ok(back) => {
                assert_eq!(
                    stripped(&back),
                    stripped(&original),
                    "tree changed:\n{text}\n---\n{printed}"
                );
                assert_eq!(
                    back.comments.len(),
                    original.comments.len(),
                    "comments lost:\n{printed}"
                );
            }
            Err(d) => panic!(
                "printed text does not parse: {d:?}\n--- input:\n{text}\n--- output:\n{printed}"
            ),
        }
    }
});
