//! Auth.js (NextAuth v5) session tokens: JWE compact serialisation with `alg: dir` and
//! `enc: A256CBC-HS512` (what `@auth/core` encodes) or `A256GCM` (which it also
//! decodes), under a key derived from the secret with HKDF-SHA256, salt = the cookie
//! name, info = `Auth.js Generated Encryption Key (<salt>)`.

use super::claims::ClaimMap;
use super::doc::Decoded;
use super::flat;
use super::lifetime::TokenRules;
use super::outcome::AuthFailure;
use super::token_cache::TokenCache;
use crate::Principal;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use std::fmt;
use std::sync::OnceLock;

/// Auth.js chunks cookies at 4 KiB; sixteen chunks is far beyond any real session.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The keys one secret yields for one cookie name (the HKDF salt).
pub(crate) struct JweKey {
    /// `nextauth:AUTH_SECRET`.
    pub label: Box<str>,
    /// The derived keys as keyed states: what each cookie would otherwise rebuild (two
    /// SHA-512 blocks of HMAC key padding, two AES key schedules), built once at load.
    ready: Box<Ready>,
}

/// The keyed states of a [`JweKey`]: A256CBC-HS512's MAC key (the first half of its
/// 64 derived bytes) and AES-256 key (the second), and A256GCM's key.
#[derive(Clone)]
struct Ready {
    mac: Hmac<Sha512>,
    aes: aes::Aes256,
    gcm: Aes256Gcm,
}

impl Ready {
    fn new(cbc_hs512: &[u8; 64], gcm: &[u8; 32]) -> Option<Ready> {
        let (mac_key, enc_key) = cbc_hs512.split_at(32);
        Some(Ready {
            mac: <Hmac<Sha512> as Mac>::new_from_slice(mac_key).ok()?,
            aes: <aes::Aes256 as KeyInit>::new_from_slice(enc_key).ok()?,
            gcm: Aes256Gcm::new_from_slice(gcm).ok()?,
        })
    }
}

// The derived keys decrypt every session: only the label is ever printed.
impl fmt::Debug for JweKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JweKey")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn hkdf(secret: &[u8], salt: &str, out: &mut [u8]) -> bool {
    let info = format!("Auth.js Generated Encryption Key ({salt})");
    Hkdf::<Sha256>::new(Some(salt.as_bytes()), secret)
        .expand(info.as_bytes(), out)
        .is_ok()
}

impl JweKey {
    /// Derive the keys of `secret` for the cookie `salt`, as `@auth/core` does.
    pub(crate) fn derive(label: &str, secret: &[u8], salt: &str) -> Option<JweKey> {
        let (mut cbc_hs512, mut gcm) = ([0; 64], [0; 32]);
        if !(hkdf(secret, salt, &mut cbc_hs512) && hkdf(secret, salt, &mut gcm)) {
            return None;
        }
        Some(JweKey {
            label: label.into(),
            ready: Box::new(Ready::new(&cbc_hs512, &gcm)?),
        })
    }
}

/// A compiled `auth nextauth { ... }` block for one cookie name.
#[derive(Debug)]
pub(crate) struct Jwe {
    pub keys: Vec<JweKey>,
    pub rules: TokenRules,
    pub claims: ClaimMap,
    /// Cookies decrypted before (`Options::token_cache_size`).
    pub cache: TokenCache,
    /// The protected header of the first cookie that decrypted, as sent, and its
    /// `enc`: a header's reading depends on its text alone, and every cookie one
    /// secret seals carries the same header (its `kid` is the key's), so a cookie with
    /// this text skips decoding and parsing it (~7% of a cookie's verification in a
    /// profile). Only an authenticated header is kept.
    pub known_header: OnceLock<KnownHeader>,
}

/// An authenticated protected header, as sent, with what it reads to and what each key
/// has made of it already.
#[derive(Clone)]
pub(crate) struct KnownHeader {
    text: Box<str>,
    enc: Enc,
    /// For each key of the block, A256CBC-HS512's MAC state after the header (the
    /// MAC input starts with it, RFC 7518 §5.2.2.1): every SHA-512 block the header
    /// fills is hashed once here instead of once per cookie. A 174-byte `@auth/core`
    /// header fills one of a cookie's four compressions (~0.2 µs, issue 23).
    macs: Box<[Hmac<Sha512>]>,
}

impl KnownHeader {
    fn new(text: &str, enc: Enc, keys: &[JweKey]) -> KnownHeader {
        KnownHeader {
            text: text.into(),
            enc,
            macs: keys
                .iter()
                .map(|k| {
                    let mut mac = k.ready.mac.clone();
                    mac.update(text.as_bytes());
                    mac
                })
                .collect(),
        }
    }
}

// The MAC states are keyed: only the header and its reading are printed.
impl fmt::Debug for KnownHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnownHeader")
            .field("text", &self.text)
            .field("enc", &self.enc)
            .finish_non_exhaustive()
    }
}

/// The protected header's algorithms: the only ones accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enc {
    A256CbcHs512,
    A256Gcm,
}

/// Ciphertexts up to this size (a session of a few claims: `@auth/core`'s default
/// cookie is ~450 bytes) are decoded and decrypted on the stack, larger ones on the
/// heap: the five parts' allocations were ~12% of a fresh cookie's `check_http`.
const ON_STACK: usize = 1024;

/// Where a cookie's parts are decoded: the base64 estimate of a 16-byte IV is 18
/// bytes and of a 32-byte tag 33, hence the rooms' sizes.
struct Rooms {
    iv: Decoded<24>,
    ciphertext: Decoded<ON_STACK>,
    tag: Decoded<48>,
}

/// The five parts of a compact JWE, decoded; `aad` is the header as sent.
struct Parts<'t, 'r> {
    aad: &'t [u8],
    enc: Enc,
    /// The MAC states after `aad`, one per key, when it is the known header.
    macs: Option<&'t [Hmac<Sha512>]>,
    iv: &'r [u8],
    ciphertext: &'r [u8],
    tag: &'r [u8],
}

fn b64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

fn parts<'t, 'r>(
    token: &'t str,
    known: Option<&'t KnownHeader>,
    rooms: &'r mut Rooms,
) -> Option<Parts<'t, 'r>> {
    let mut it = token.split('.');
    let (h, k, iv, ct, tag) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    // `dir` carries no encrypted key.
    if it.next().is_some() || !k.is_empty() {
        return None;
    }
    let (enc, macs) = match known {
        Some(k) if *k.text == *h => (k.enc, Some(&*k.macs)),
        _ => (header_enc(h)?, None),
    };
    Some(Parts {
        aad: h.as_bytes(),
        enc,
        macs,
        iv: rooms.iv.b64(iv)?,
        ciphertext: rooms.ciphertext.b64(ct)?,
        tag: rooms.tag.b64(tag)?,
    })
}

/// The `enc` of a protected header that Auth.js could have written: `alg: dir`, an
/// `enc` of this module's, no compression, no critical extension.
fn header_enc(h: &str) -> Option<Enc> {
    let bytes = b64(h)?;
    // Read as a `serde_json::Map` (the last member of a name wins), without its copies.
    let header = flat::members(&bytes)?;
    // Compression and critical extensions are not Auth.js's and are refused unread.
    if header.get("zip").is_some() || header.get("crit").is_some() {
        return None;
    }
    if header.get("alg")?.as_str()? != "dir" {
        return None;
    }
    match header.get("enc")?.as_str()? {
        "A256CBC-HS512" => Some(Enc::A256CbcHs512),
        "A256GCM" => Some(Enc::A256Gcm),
        _ => None,
    }
}

/// RFC 7518 §5.2.2.2: the tag is the first half of HMAC-SHA-512 over
/// AAD || IV || ciphertext || AL, checked (in constant time) before decrypting.
/// `i` is the key's index (its MAC state after a known header). The plaintext is
/// written to `out` (the ciphertext stays as it was, for the next key of a rotation).
fn cbc_hs512<'o>(
    key: &Ready,
    i: usize,
    p: &Parts<'_, '_>,
    out: &'o mut Decoded<ON_STACK>,
) -> Option<&'o [u8]> {
    if p.iv.len() != 16 || p.tag.len() != 32 {
        return None;
    }
    let mut mac = match p.macs.and_then(|m| m.get(i)) {
        Some(after_header) => after_header.clone(),
        None => {
            let mut mac = key.mac.clone();
            mac.update(p.aad);
            mac
        }
    };
    mac.update(p.iv);
    mac.update(p.ciphertext);
    let al = (p.aad.len() as u64).checked_mul(8)?;
    mac.update(&al.to_be_bytes());
    mac.verify_truncated_left(p.tag).ok()?;
    cbc_decrypt(&key.aes, p.iv, p.ciphertext, out.buffer(p.ciphertext.len()))
}

/// AES-256-CBC decryption of `ciphertext` into `out` (as long), PKCS #7 padding
/// removed: what `cbc::Decryptor` does, from the key schedule by reference (the
/// decryptor takes the cipher by value: a ~0.5 KB copy of both schedules per cookie)
/// and with the blocks decrypted together (AES-NI pipelines them) before the chaining
/// XOR. The tag was verified first (encrypt-then-MAC), so the padding check reveals
/// nothing to a forger.
fn cbc_decrypt<'o>(
    aes: &aes::Aes256,
    iv: &[u8],
    ciphertext: &[u8],
    out: &'o mut [u8],
) -> Option<&'o [u8]> {
    use aes::cipher::{inout::InOutBuf, BlockDecrypt};
    const B: usize = 16;
    let n = ciphertext.len();
    if n == 0 || !n.is_multiple_of(B) || iv.len() != B {
        return None;
    }
    let (blocks, rest) = InOutBuf::new(ciphertext, out).ok()?.into_chunks();
    if !rest.is_empty() {
        return None;
    }
    aes.decrypt_blocks_inout(blocks);
    // P_i = D(C_i) ^ C_{i-1}, with C_{-1} the IV: a block at a time (byte by byte,
    // this loop was ~4% of a fresh cookie's `check_http`).
    let block = |b: &[u8]| <[u8; B]>::try_from(b).map(u128::from_ne_bytes);
    let prevs = std::iter::once(iv).chain(ciphertext.chunks_exact(B));
    for (o, prev) in out.chunks_exact_mut(B).zip(prevs) {
        let x = block(o).ok()? ^ block(prev).ok()?;
        o.copy_from_slice(&x.to_ne_bytes());
    }
    let pad = usize::from(*out.last()?);
    if pad == 0 || pad > B || out.get(n - pad..)?.iter().any(|&b| usize::from(b) != pad) {
        return None;
    }
    out.get(..n - pad)
}

fn a256gcm(key: &Ready, p: &Parts<'_, '_>) -> Option<Vec<u8>> {
    if p.iv.len() != 12 || p.tag.len() != 16 {
        return None;
    }
    let mut msg = p.ciphertext.to_vec();
    msg.extend_from_slice(p.tag);
    key.gcm
        .decrypt(
            Nonce::from_slice(p.iv),
            Payload {
                msg: &msg,
                aad: p.aad,
            },
        )
        .ok()
}

impl Jwe {
    /// Decrypt `token` with each key in turn (rotation); then the claims as `auth jwt`.
    pub(crate) fn verify(
        &self,
        token: &str,
        now_us: u64,
    ) -> Result<(Principal, &str), AuthFailure> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthFailure::InvalidToken);
        }
        if let Some(known) = self.cache.reuse(&self.rules, token, now_us) {
            return known.map(|(p, i)| (p, self.keys.get(i).map_or("", |k| &*k.label)));
        }
        let mut rooms = Rooms {
            iv: Decoded::new(),
            ciphertext: Decoded::new(),
            tag: Decoded::new(),
        };
        let p =
            parts(token, self.known_header.get(), &mut rooms).ok_or(AuthFailure::InvalidToken)?;
        let (mut out, mut gcm_plain) = (Decoded::new(), None);
        for (i, k) in self.keys.iter().enumerate() {
            let plain = match p.enc {
                Enc::A256CbcHs512 => cbc_hs512(&k.ready, i, &p, &mut out),
                Enc::A256Gcm => a256gcm(&k.ready, &p).map(|v| &**gcm_plain.insert(v)),
            };
            // Authenticated encryption: another key of the rotation may have sealed it.
            let Some(plain) = plain else { continue };
            // The header is authenticated now (it is the AAD).
            if self.known_header.get().is_none() {
                if let Ok(h) = std::str::from_utf8(p.aad) {
                    let _ = self
                        .known_header
                        .set(KnownHeader::new(h, p.enc, &self.keys));
                }
            }
            // Read as a `serde_json::Map` reads it: a name given twice keeps its last value.
            let claims = flat::members(plain).ok_or(AuthFailure::InvalidToken)?;
            let principal =
                self.cache
                    .admit(&self.rules, &self.claims, token, &claims, now_us, i)?;
            return Ok((principal, &k.label));
        }
        Err(AuthFailure::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::block_padding::Pkcs7;

    const SECRET: &str = "test-auth-secret-0123456789abcdef0123456789";
    const SALT: &str = "authjs.session-token";
    /// `@auth/core` 0.41.3 `encode({ token: { name: "Ada", email: "ada@lumiere.test",
    /// sub: "u-admin", role: "ADMIN" }, secret: SECRET, salt: SALT })` with the clock at
    /// 1767225600 (iat; exp = iat + 30 days).
    const REAL: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiWGlJTFVmY2x1RjNYVHJYM1BidUhScHhvaGtNYXY2YXkxXzJ2MzJiV1BjcVoxamZhSnlpTVZOUmFTaVYxVUlUWnFfcE4zZXdCQmFjWS00UUhUMzJ0NGcifQ..sbeMIaPVCn-l01TLeL8fUA.VK4SAzoaY_VWr8V6LzoiJVz0GkHrTeGE1g3yiFh9XQzlK6KUivUTqOajD0JWRy06uRTQTAe_yrlcHqz0nvCxqKHwex4Z_qWQsCCL8VE6AfjufRagDxkMnw6fh3eubGy-rjYLahAm2XVhQ4ybX_7qoxRwfyIYYu15hM-tekyIkL-jxeX6sinVAURpwITl9qk1tyKvI8pplGIBZrkT6Bin7A.MUzm0zg4tOdkiXRIcC8HUY7eR8fU0vyPJSfITa_-AnE";
    const IAT: u64 = 1_767_225_600;

    fn jwe(secrets: &[&str], salt: &str) -> Jwe {
        Jwe {
            keys: secrets
                .iter()
                .filter_map(|s| JweKey::derive("nextauth:AUTH_SECRET", s.as_bytes(), salt))
                .collect(),
            rules: TokenRules {
                leeway_s: 15.0,
                max_age_s: Some(30.0 * 86_400.0),
                required: Vec::new(),
            },
            claims: ClaimMap::default(),
            // On, so that every test below also reads its tokens back from the cache.
            cache: TokenCache::new(16),
            known_header: OnceLock::new(),
        }
    }

    fn at(s: u64) -> u64 {
        s * 1_000_000
    }

    #[test]
    fn a_token_of_the_real_library_decrypts() {
        let j = jwe(&["another-secret-of-a-rotation-0123456789", SECRET], SALT);
        let got = j
            .verify(REAL, at(IAT + 60))
            .map(|(p, via)| (p.id, p.roles, via.to_owned()));
        assert_eq!(
            got,
            Ok((
                "u-admin".into(),
                vec!["ADMIN".into()],
                "nextauth:AUTH_SECRET".into()
            ))
        );
    }

    /// `jose` `EncryptJWT({ sub: "u-gcm", role: "VIEWER" })` with `enc: A256GCM` under the
    /// 32-byte key of the same derivation (`@auth/core`'s `decode` accepts it);
    /// iat = IAT, exp = IAT + 1h.
    const GCM: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..y9DBTEfBz76gXTGW.ITSTZkVSJcr6cfxF_k-Sl2DEk6pNC_slPWMlQI7WSw6inADbU0DUPf-HG2wgZUCG6NkXJS3BeWlEqx4wD4dwlVg.4sAmsMAGVfqx-uruRIKRLA";

    #[test]
    fn an_a256gcm_token_decrypts_too() {
        let j = jwe(&[SECRET], SALT);
        let got = j.verify(GCM, at(IAT + 60)).map(|(p, _)| (p.id, p.roles));
        assert_eq!(got, Ok(("u-gcm".into(), vec!["VIEWER".into()])));
        let other = jwe(&["another-secret-of-a-rotation-0123456789"], SALT);
        assert_eq!(
            other.verify(GCM, at(IAT)).err(),
            Some(AuthFailure::InvalidToken)
        );
        // The header is authenticated: claiming CBC for a GCM body fails.
        let cbc_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"dir","enc":"A256CBC-HS512"}"#);
        let swapped = format!("{cbc_header}{}", &GCM[GCM.find('.').unwrap_or(0)..]);
        assert_eq!(
            j.verify(&swapped, at(IAT)).err(),
            Some(AuthFailure::InvalidToken)
        );
    }

    #[test]
    fn only_dir_without_zip_or_crit_is_read() {
        let j = jwe(&[SECRET], SALT);
        let body = &GCM[GCM.find('.').unwrap_or(0)..];
        for header in [
            r#"{"alg":"A256KW","enc":"A256GCM"}"#,
            r#"{"alg":"dir","enc":"A128GCM"}"#,
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
            r#"{"alg":"dir","enc":"A256GCM","crit":["exp"]}"#,
        ] {
            let t = format!("{}{body}", URL_SAFE_NO_PAD.encode(header));
            assert_eq!(
                j.verify(&t, at(IAT)).err(),
                Some(AuthFailure::InvalidToken),
                "{header}"
            );
        }
    }

    #[test]
    fn wrong_secret_salt_or_time_is_refused() {
        let other = jwe(&["another-secret-of-a-rotation-0123456789"], SALT);
        assert_eq!(
            other.verify(REAL, at(IAT)).err(),
            Some(AuthFailure::InvalidToken)
        );
        let secure = jwe(&[SECRET], "__Secure-authjs.session-token");
        assert_eq!(
            secure.verify(REAL, at(IAT)).err(),
            Some(AuthFailure::InvalidToken)
        );
        let j = jwe(&[SECRET], SALT);
        let after = IAT + 30 * 86_400 + 15;
        assert_eq!(
            j.verify(REAL, at(after)).err(),
            Some(AuthFailure::TokenExpired)
        );
        assert!(j.verify(REAL, at(after - 1)).is_ok());
    }

    #[test]
    fn tampering_anywhere_is_refused() {
        let j = jwe(&[SECRET], SALT);
        let segs: Vec<&str> = REAL.split('.').collect();
        for i in [0usize, 2, 3, 4] {
            let mut s: Vec<String> = segs.iter().map(|x| (*x).to_owned()).collect();
            let seg = &mut s[i];
            // Flip one base64 character in the middle of the segment.
            let mid = seg.len() / 2;
            let c = if &seg[mid..=mid] == "A" { "B" } else { "A" };
            seg.replace_range(mid..=mid, c);
            assert_eq!(
                j.verify(&s.join("."), at(IAT)).err(),
                Some(AuthFailure::InvalidToken),
                "segment {i}"
            );
        }
        for bad in ["", "a.b.c", "....", &format!("{REAL}.x"), "not a token"] {
            assert_eq!(
                j.verify(bad, at(IAT)).err(),
                Some(AuthFailure::InvalidToken)
            );
        }
    }

    #[test]
    fn the_key_derivation_matches_auth_js() {
        // `hkdf("sha256", SECRET, SALT, "Auth.js Generated Encryption Key (" + SALT + ")", 64)`
        // from `@panva/hkdf`, as `@auth/core` calls it, printed in hex.
        // `JweKey::derive` keys its states with these bytes.
        let mut k = [0u8; 64];
        assert!(hkdf(SECRET.as_bytes(), SALT, &mut k));
        let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, DERIVED_HEX);
        assert!(!format!(
            "{:?}",
            JweKey::derive("nextauth:AUTH_SECRET", SECRET.as_bytes(), SALT)
        )
        .contains("cbc"));
    }

    /// A256CBC-HS512 cookies (what `@auth/core` seals) of every size around the stack
    /// room's, sealed with the second key of a rotation (so the first key's tag check
    /// fails first and the ciphertext must be left intact for the second), and one
    /// whose tag is right but whose padding is not.
    #[test]
    fn cbc_cookies_of_any_size_decrypt_under_either_key() {
        use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
        let j = jwe(&["another-secret-of-a-rotation-0123456789", SECRET], SALT);
        let mut k = [0u8; 64];
        assert!(hkdf(SECRET.as_bytes(), SALT, &mut k));
        let (mac_key, enc_key) = k.split_at(32);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"dir","enc":"A256CBC-HS512"}"#);
        let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
        let seal = |ct: Vec<u8>, iv: [u8; 16]| {
            let mut mac =
                <Hmac<Sha512> as Mac>::new_from_slice(mac_key).unwrap_or_else(|_| unreachable!());
            mac.update(header.as_bytes());
            mac.update(&iv);
            mac.update(&ct);
            mac.update(&(header.len() as u64 * 8).to_be_bytes());
            let tag = mac.finalize().into_bytes();
            format!("{header}..{}.{}.{}", b(&iv), b(&ct), b(&tag[..32]))
        };
        let encrypt = |plain: &[u8], iv: [u8; 16]| {
            cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, &iv)
                .map(|e| e.encrypt_padded_vec_mut::<Pkcs7>(plain))
                .unwrap_or_default()
        };
        let t = format!(r#""iat":{IAT},"exp":{}"#, IAT + 3600);
        for pad in [
            0, 1, 15, 16, 17, 500, 940, 960, 975, 976, 977, 990, 1000, 1010, 1100, 3000,
        ] {
            let claims = format!(r#"{{"sub":"u{pad}",{t},"pad":"{}"}}"#, "x".repeat(pad));
            let iv = [u8::try_from(pad % 256).unwrap_or(0); 16];
            let got = j
                .verify(&seal(encrypt(claims.as_bytes(), iv), iv), at(IAT + 60))
                .map(|(p, via)| (p.id, via.to_owned()));
            assert_eq!(
                got,
                Ok((format!("u{pad}"), "nextauth:AUTH_SECRET".to_owned())),
                "{} bytes of claims",
                claims.len()
            );
        }
        // Authenticated, but the last block's padding byte is 0: refused, as before.
        let mut plain = format!(r#"{{"sub":"u1",{t}}}"#).into_bytes();
        plain.resize(plain.len().next_multiple_of(16), 0);
        let iv = [3u8; 16];
        let ct = cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, &iv)
            .map(|e| e.encrypt_padded_vec_mut::<NoPadding>(&plain))
            .unwrap_or_default();
        assert_eq!(
            j.verify(&seal(ct, iv), at(IAT + 60)).err(),
            Some(AuthFailure::InvalidToken)
        );
    }

    /// A256GCM cookies of these exact claims texts under `j`'s first key: the lean
    /// parse of `doc.rs` against the `serde_json::Map` this module read the claims into
    /// before (a name given twice keeps its last value here; `hs.rs` refuses it).
    #[test]
    fn odd_claims_decrypt_to_what_a_serde_json_map_says() {
        let j = jwe(&[SECRET], SALT);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"dir","enc":"A256GCM"}"#);
        let seal = |claims: &str| {
            let iv = [7u8; 12];
            let sealed = j.keys[0]
                .ready
                .gcm
                .encrypt(
                    Nonce::from_slice(&iv),
                    Payload {
                        msg: claims.as_bytes(),
                        aad: header.as_bytes(),
                    },
                )
                .unwrap_or_default();
            let (ct, tag) = sealed.split_at(sealed.len() - 16);
            let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
            format!("{header}..{}.{}.{}", b(&iv), b(ct), b(tag))
        };
        let before = |claims: &str, now: u64| {
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(claims.as_bytes()).map_err(|_| AuthFailure::InvalidToken)?;
            j.rules.check(&map, now)?;
            let members = super::super::doc::Members::of_map(&map);
            j.claims
                .principal(&members)
                .ok_or(AuthFailure::InvalidToken)
        };
        let t = format!(r#""iat":{IAT},"exp":{}"#, IAT + 3600);
        let mut accepted = 0;
        for c in [
            format!(r#"{{"sub":"u1",{t},"role":"ADMIN"}}"#),
            format!(r#"{{"sub":"u1","sub":"u2",{t}}}"#),
            format!(r#"{{"\u0073ub":"u\u00e9\n",{t},"roles":["a","\ud83d\ude00",1]}}"#),
            format!(r#"{{"sub":"u1",{t},"role":"x","role":"y","exp":1}}"#),
            format!(r#"{{"sub":18446744073709551616,{t}}}"#),
            format!(r#"{{"sub":1.5,{t},"x":{{"a":[{{}},[]],"a":1e300}}}}"#),
            format!(r#"{{"sub":"u1",{t},"x":"\ud800"}}"#),
            format!(r#"{{"sub":"u1",{t},"x":1e999}}"#),
            format!(r#"{{"sub":"",{t}}}"#),
            format!("{{\"sub\":\"café 😀\",{t}}}"),
            format!(r#"{{"sub":"u1",{t}}} x"#),
            format!(r#"["u1",{IAT}]"#),
        ] {
            let now = at(IAT + 60);
            let got = j.verify(&seal(&c), now).map(|(p, _)| p);
            assert_eq!(got, before(&c, now), "{c}");
            accepted += usize::from(got.is_ok());
        }
        assert!(accepted >= 5, "{accepted}");
    }

    #[test]
    #[allow(clippy::expect_used, reason = "tests")]
    fn the_authenticated_header_is_remembered_as_its_reading() {
        // Cache off: every verification below decrypts.
        let j = Jwe {
            cache: TokenCache::new(0),
            ..jwe(&[SECRET], SALT)
        };
        let other = jwe(&["another-secret-of-a-rotation-0123456789"], SALT);
        assert!(other.verify(REAL, at(IAT + 60)).is_err());
        assert!(other.known_header.get().is_none(), "not authenticated");
        let first = j.verify(REAL, at(IAT + 60)).map(|(p, _)| p);
        assert!(first.is_ok());
        let known = j.known_header.get().expect("remembered");
        assert_eq!(Some(&*known.text), REAL.split('.').next());
        assert_eq!(header_enc(&known.text), Some(known.enc));
        assert_eq!(known.macs.len(), j.keys.len());
        assert!(!format!("{known:?}").contains("mac"));
        // Read again through the remembered header: the same answer.
        assert_eq!(j.verify(REAL, at(IAT + 60)).map(|(p, _)| p), first);
        // The remembered header on a tampered body still fails its tag.
        let mut segs: Vec<String> = REAL.split('.').map(str::to_owned).collect();
        let ct = &mut segs[3];
        let c = if ct.starts_with('A') { "B" } else { "A" };
        ct.replace_range(0..1, c);
        assert_eq!(
            j.verify(&segs.join("."), at(IAT + 60)).err(),
            Some(AuthFailure::InvalidToken)
        );
        // A GCM cookie's header is another text: parsed, and it decrypts.
        assert!(j.verify(GCM, at(IAT + 60)).is_ok());
    }

    /// The by-reference CBC decryption against `cbc::Decryptor` on every length up to
    /// ten blocks, with valid padding and with each kind of broken padding (a zero
    /// byte, a byte above 16, a run that disagrees): the same plaintext or the same
    /// refusal.
    #[test]
    fn cbc_decryption_matches_the_cbc_crate() {
        use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
        let key = [0x42u8; 32];
        let aes = <aes::Aes256 as KeyInit>::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
        let reference = |iv: &[u8; 16], ct: &[u8]| {
            cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, iv)
                .ok()?
                .decrypt_padded_vec_mut::<Pkcs7>(ct)
                .ok()
        };
        let mut x: u32 = 0x2545_f491;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        };
        let (mut accepted, mut refused) = (0, 0);
        for len in 0..=160usize {
            let iv: [u8; 16] = std::array::from_fn(|_| next());
            let plain: Vec<u8> = (0..len).map(|_| next()).collect();
            let enc = || cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv);
            let mut cts = Vec::new();
            if let Ok(e) = enc() {
                cts.push(e.encrypt_padded_vec_mut::<Pkcs7>(&plain));
            }
            // Raw blocks whose last byte is set to break the padding in each way.
            let mut raw = plain.clone();
            raw.resize(len.next_multiple_of(16).max(16), 0);
            for last in [0u8, 17, 255, 1, 2, 16] {
                let mut r = raw.clone();
                if let Some(b) = r.last_mut() {
                    *b = last;
                }
                if let Ok(e) = enc() {
                    cts.push(e.encrypt_padded_vec_mut::<NoPadding>(&r));
                }
            }
            // Not a whole number of blocks, and empty.
            cts.push(vec![1; len % 16 + 1]);
            cts.push(Vec::new());
            for ct in &cts {
                let mut out = vec![0u8; ct.len()];
                let got = cbc_decrypt(&aes, &iv, ct, &mut out).map(<[u8]>::to_vec);
                assert_eq!(got, reference(&iv, ct), "{len} bytes, {} sealed", ct.len());
                if got.is_some() {
                    accepted += 1;
                } else {
                    refused += 1;
                }
            }
            assert!(cbc_decrypt(&aes, &iv[..15], &cts[0], &mut vec![0; cts[0].len()]).is_none());
        }
        assert!(accepted > 160 && refused > 320, "{accepted} / {refused}");
    }

    const DERIVED_HEX: &str = "3820437f0f69bf680eac20ee25c86422e4f61b5312cca38dd011526105a9c67b90e93d1b42d5287865b1d90b9650cff2df1a0773b799b5df9bb4163f850bd321";
}
