//! What the limit benches share.

/// `n` client keys as IPv4 text (10.0.0.0 upwards), as the HTTP layer passes a
/// client address to a limit store.
pub fn clients(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let [a, b, c, d] = (i + 0x0A00_0000).to_be_bytes();
            format!("{a}.{b}.{c}.{d}").into_bytes()
        })
        .collect()
}
