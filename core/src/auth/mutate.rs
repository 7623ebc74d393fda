//! Test texts mutated at random, for the differential tests of the claims readers
//! (`doc.rs`, `flat.rs`): deterministic (xorshift64 from a fixed seed), each mutation a
//! few bytes inserted, removed or replaced, so that the texts sit near the readers'
//! boundary between accepted and refused.

/// A deterministic source of mutated texts.
pub(super) struct Mutator(u64);

impl Mutator {
    /// `seed`: any non-zero value.
    pub(super) fn new(seed: u64) -> Mutator {
        Mutator(seed)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x % n.max(1) as u64) as usize
    }

    /// `text` with one to `max_edits` bytes of `alphabet` inserted, removed or replaced.
    pub(super) fn mutate(&mut self, text: &[u8], alphabet: &[u8], max_edits: usize) -> Vec<u8> {
        let mut t = text.to_vec();
        for _ in 0..=self.below(max_edits) {
            let at = self.below(t.len() + 1);
            let b = alphabet[self.below(alphabet.len())];
            match self.below(3) {
                0 => t.insert(at, b),
                1 if at < t.len() => {
                    t.remove(at);
                }
                _ if at < t.len() => t[at] = b,
                _ => t.push(b),
            }
        }
        t
    }
}
