//! The memory store's key identity: 128 bits of `(policy, limit, key)` in one pass.
//!
//! Each 64-bit half is exactly aHash's portable ("fallback") hasher, keyed by its own
//! random seeds, fed the three parts as three `write` calls: the same function the
//! store computed before with two `ahash::RandomState` hashers (the test below checks
//! the equality on builds where aHash uses that hasher). Computing both halves in one
//! loop shares the reads and the length branches and skips the `Hasher` call overhead:
//! the two hashers were ~190 of the ~425 instructions of a known-key check.
//!
//! `write` mixes each part's length into the state before its bytes, so the three parts
//! need no separator for the stream to be unambiguous.

use ahash::RandomState;

/// aHash's multiplier (a PCG constant).
const MULTIPLE: u64 = 6_364_136_223_846_793_005;
/// aHash's rotation after each block.
const ROT: u32 = 23;

/// One half's keys, named as in aHash's `AHasher`.
#[derive(Clone, Copy)]
struct Lane {
    buffer: u64,
    pad: u64,
    extra_keys: [u64; 2],
}

/// Two independently keyed lanes: the identity's low and high 64 bits.
#[derive(Clone, Copy)]
pub(super) struct Seeds([Lane; 2]);

#[inline(always)]
fn folded_multiply(s: u64, by: u64) -> u64 {
    let r = u128::from(s).wrapping_mul(u128::from(by));
    (r as u64) ^ ((r >> 64) as u64)
}

/// The first and last 8 bytes of `d` (8 to 16 bytes) as little-endian words.
#[inline(always)]
fn ends8(d: &[u8]) -> [u64; 2] {
    match (d.first_chunk::<8>(), d.last_chunk::<8>()) {
        (Some(a), Some(b)) => [u64::from_le_bytes(*a), u64::from_le_bytes(*b)],
        _ => [0, 0],
    }
}

/// The first and last 16 bytes of `d` (at least 16 bytes) as two little-endian words.
#[inline(always)]
fn first16(d: &[u8]) -> [u64; 2] {
    match d.first_chunk::<16>() {
        Some(c) => ends8(c),
        None => [0, 0],
    }
}

/// aHash's `read_small`: up to 8 bytes as two words.
#[inline(always)]
fn read_small(d: &[u8]) -> [u64; 2] {
    if d.len() >= 4 {
        match (d.first_chunk::<4>(), d.last_chunk::<4>()) {
            (Some(a), Some(b)) => [
                u64::from(u32::from_le_bytes(*a)),
                u64::from(u32::from_le_bytes(*b)),
            ],
            _ => [0, 0],
        }
    } else if d.len() >= 2 {
        match (d.first_chunk::<2>(), d.last()) {
            (Some(a), Some(&b)) => [u64::from(u16::from_le_bytes(*a)), u64::from(b)],
            _ => [0, 0],
        }
    } else {
        match d.first() {
            Some(&a) => [u64::from(a), u64::from(a)],
            None => [0, 0],
        }
    }
}

impl Lane {
    /// aHash's `large_update`: one 128-bit block, both halves masked by the keys.
    #[inline(always)]
    fn block(&self, state: u64, [lo, hi]: [u64; 2]) -> u64 {
        let combined = folded_multiply(lo ^ self.extra_keys[0], hi ^ self.extra_keys[1]);
        (state.wrapping_add(self.pad) ^ combined).rotate_left(ROT)
    }

    #[inline(always)]
    fn finish(&self, state: u64) -> u64 {
        folded_multiply(state, self.pad).rotate_left((state & 63) as u32)
    }
}

impl Seeds {
    /// Fresh random seeds (aHash's runtime randomness), never shown by any `Debug`.
    pub(super) fn random() -> Seeds {
        let r = RandomState::new();
        let k = |i: u64| r.hash_one(i);
        Seeds([
            Lane {
                buffer: k(0),
                pad: k(1),
                extra_keys: [k(2), k(3)],
            },
            Lane {
                buffer: k(4),
                pad: k(5),
                extra_keys: [k(6), k(7)],
            },
        ])
    }

    /// One `write` of `d` into both lanes' states (aHash's `write`).
    #[inline(always)]
    fn write(&self, [a, b]: [u64; 2], d: &[u8]) -> [u64; 2] {
        let [l0, l1] = &self.0;
        let len = d.len() as u64;
        let mut a = a.wrapping_add(len).wrapping_mul(MULTIPLE);
        let mut b = b.wrapping_add(len).wrapping_mul(MULTIPLE);
        if d.len() > 16 {
            // The last 16 bytes first, then every full 16 bytes from the start while
            // more than 16 remain (aHash's order).
            let tail = match d.last_chunk::<16>() {
                Some(c) => ends8(c),
                None => [0, 0],
            };
            a = l0.block(a, tail);
            b = l1.block(b, tail);
            let mut rest = d;
            while rest.len() > 16 {
                let w = first16(rest);
                a = l0.block(a, w);
                b = l1.block(b, w);
                rest = &rest[16..];
            }
        } else {
            let w = if d.len() > 8 { ends8(d) } else { read_small(d) };
            a = l0.block(a, w);
            b = l1.block(b, w);
        }
        [a, b]
    }

    /// The 128-bit identity of `parts` (written in order, each as one `write`).
    #[inline]
    pub(super) fn identity(&self, [p0, p1, p2]: [&[u8]; 3]) -> u128 {
        let [l0, l1] = &self.0;
        let s = self.write([l0.buffer, l1.buffer], p0);
        let s = self.write(s, p1);
        let [a, b] = self.write(s, p2);
        u128::from(l0.finish(a)) | (u128::from(l1.finish(b)) << 64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn seeds(k: [u64; 8]) -> Seeds {
        Seeds([
            Lane {
                buffer: k[0],
                pad: k[1],
                extra_keys: [k[2], k[3]],
            },
            Lane {
                buffer: k[4],
                pad: k[5],
                extra_keys: [k[6], k[7]],
            },
        ])
    }

    /// Byte strings of every length class: empty, 1, 2-3, 4-8, 9-16, over 16 (one
    /// block past the tail, several, an exact multiple of 16).
    fn samples() -> Vec<Vec<u8>> {
        [0usize, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 100]
            .iter()
            .map(|&n| (0..n).map(|i| (i * 37 + n) as u8).collect())
            .collect()
    }

    /// The fused lanes compute aHash's portable hasher exactly, where aHash uses it
    /// with the 128-bit folded multiply: 64-bit x86 and ARM without the `aes` target
    /// feature (with it, aHash switches to an AES-based hasher).
    #[cfg(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(target_feature = "aes")
    ))]
    #[test]
    fn each_lane_is_ahash() {
        use std::hash::Hasher;
        let k = [
            0x243f_6a88_85a3_08d3,
            0x1319_8a2e_0370_7344,
            0xa409_3822_299f_31d0,
            0x082e_fa98_ec4e_6c89,
            0x4528_21e6_38d0_1377,
            0xbe54_66cf_34e9_0c6c,
            0xc0ac_29b7_c97c_50dd,
            0x3f84_d5b5_b547_0917,
        ];
        let s = seeds(k);
        // `RandomState::with_seeds` XORs its arguments with these (aHash's `PI2`).
        let pi2: [u64; 4] = [
            0x4528_21e6_38d0_1377,
            0xbe54_66cf_34e9_0c6c,
            0xc0ac_29b7_c97c_50dd,
            0x3f84_d5b5_b547_0917,
        ];
        let one = |p: &[&[u8]; 3], k0: u64, k1: u64, k2: u64, k3: u64| {
            let mut h = RandomState::with_seeds(k0 ^ pi2[0], k1 ^ pi2[1], k2 ^ pi2[2], k3 ^ pi2[3])
                .build_hasher();
            for d in p {
                h.write(d);
            }
            h.finish()
        };
        let all = samples();
        for x in &all {
            for y in &all {
                let p: [&[u8]; 3] = [b"app", x, y];
                let id = s.identity(p);
                // aHash's hasher from keys (k0, k1, k2, k3): pad = k0, buffer = k1.
                assert_eq!(id as u64, one(&p, k[1], k[0], k[2], k[3]));
                assert_eq!((id >> 64) as u64, one(&p, k[5], k[4], k[6], k[7]));
            }
        }
    }

    #[test]
    fn parts_are_not_concatenated() {
        let s = Seeds::random();
        // The same bytes split differently are different identities.
        let a = s.identity([b"ab", b"c", b"key"]);
        let b = s.identity([b"a", b"bc", b"key"]);
        let c = s.identity([b"abc", b"", b"key"]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
        // Deterministic for one set of seeds, different across stores.
        assert_eq!(a, s.identity([b"ab", b"c", b"key"]));
        assert_ne!(a, Seeds::random().identity([b"ab", b"c", b"key"]));
    }

    #[test]
    fn no_collision_among_many_keys() {
        let s = Seeds::random();
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            let key = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
            assert!(seen.insert(s.identity([b"app", b"api", key.as_bytes()])));
        }
        for x in samples() {
            assert!(seen.insert(s.identity([b"app", b"login", &x])));
        }
    }
}
