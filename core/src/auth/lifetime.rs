//! The claim checks every token mechanism shares once its signature or encryption is
//! verified: `exp` (required), `nbf`, the lifetime bound of `max_age` on `iat`, and
//! `require_claim` equalities. Times come from the request, never the system clock.

use super::claims::ClaimPath;
use super::doc::{Doc, Members};
use super::outcome::AuthFailure;

type Claims<'a> = Members<'a>;

/// The time and claim rules of one `auth` block.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenRules {
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway_s: f64,
    /// `max_age`, in seconds.
    pub max_age_s: Option<f64>,
    /// `require_claim NAME == "value"` lines.
    pub required: Vec<(ClaimPath, Box<str>)>,
}

fn number(claims: &Claims<'_>, name: &str) -> Option<f64> {
    claims.get(name).and_then(Doc::as_f64)
}

/// The claims the time rules read, taken out of a token's claims once: all that a
/// verified token's later uses need (the `require_claim` equalities do not depend on
/// the time, so a token that passed them passes them again).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Times {
    /// `exp` when it is a number.
    exp: Option<f64>,
    nbf: TimeClaim,
    iat: Option<f64>,
}

/// A time claim that may be absent, a number, or something else (refused).
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeClaim {
    Absent,
    Number(f64),
    NotNumber,
}

impl Times {
    /// The time claims of `claims`.
    pub(crate) fn of(claims: &Claims<'_>) -> Times {
        Times {
            exp: number(claims, "exp"),
            nbf: match claims.get("nbf") {
                None => TimeClaim::Absent,
                Some(n) => n.as_f64().map_or(TimeClaim::NotNumber, TimeClaim::Number),
            },
            iat: number(claims, "iat"),
        }
    }
}

impl TokenRules {
    /// [`TokenRules::check_with`] on claims as a `serde_json` map, the time claims
    /// taken out of them (tests: the map is what the code before `doc.rs` held).
    #[cfg(test)]
    pub(crate) fn check(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        now_us: u64,
    ) -> Result<(), AuthFailure> {
        let claims = Members::of_map(claims);
        self.check_with(&claims, &Times::of(&claims), now_us)
    }

    /// Every rule on a verified token's claims; `times` are [`Times::of`] them (the
    /// cache keeps them, so they are taken out once). `exp` is required; expiry is its
    /// own failure so that clients know to refresh. Every other refusal is
    /// `invalid_token`.
    pub(crate) fn check_with(
        &self,
        claims: &Claims<'_>,
        times: &Times,
        now_us: u64,
    ) -> Result<(), AuthFailure> {
        self.check_times(times, now_us)?;
        for (path, want) in &self.required {
            match path.get(claims) {
                Some(Doc::String(s)) if **s == **want => {}
                _ => return Err(AuthFailure::InvalidToken),
            }
        }
        Ok(())
    }

    /// The rules that depend on the time, in [`TokenRules::check`]'s order: all a
    /// token that passed `check` once needs at a later time.
    pub(crate) fn check_times(&self, t: &Times, now_us: u64) -> Result<(), AuthFailure> {
        let now = now_us as f64 / 1e6;
        let exp = t.exp.ok_or(AuthFailure::InvalidToken)?;
        if now >= exp + self.leeway_s {
            return Err(AuthFailure::TokenExpired);
        }
        match t.nbf {
            TimeClaim::Absent => {}
            TimeClaim::Number(nbf) if now + self.leeway_s >= nbf => {}
            _ => return Err(AuthFailure::InvalidToken),
        }
        if let Some(max) = self.max_age_s {
            self.lifetime(t.iat, now, exp, max)?;
        }
        Ok(())
    }

    /// A token issued for longer than `max`, or longer ago, is refused even though its
    /// `exp` is ahead: a 7-day refresh token is not a 1-hour access token. An `iat` in
    /// the future would let a long-lived token pass both bounds, so it is refused too.
    fn lifetime(&self, iat: Option<f64>, now: f64, exp: f64, max: f64) -> Result<(), AuthFailure> {
        let iat = iat.ok_or(AuthFailure::InvalidToken)?;
        let too_long = exp - iat > max;
        // Implied by `exp` when the lifetime holds; kept so the bound never rests on it.
        let too_old = now - iat > max + self.leeway_s;
        let from_future = iat > now + self.leeway_s;
        if too_long || too_old || from_future {
            return Err(AuthFailure::InvalidToken);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as Json};

    type Claims = serde_json::Map<String, Json>;

    fn number(claims: &Claims, name: &str) -> Option<f64> {
        claims.get(name).and_then(Json::as_f64)
    }

    const NOW: u64 = 1_800_000_000;

    fn claims(v: Json) -> Claims {
        match v {
            Json::Object(m) => m,
            _ => Claims::new(),
        }
    }

    fn at(s: u64) -> u64 {
        s * 1_000_000
    }

    fn hour() -> TokenRules {
        TokenRules {
            leeway_s: 30.0,
            max_age_s: Some(3600.0),
            required: vec![(ClaimPath::new("typ", false), "access".into())],
        }
    }

    #[test]
    fn a_token_within_its_lifetime_passes() {
        let c = claims(json!({ "iat": NOW, "exp": NOW + 3600, "typ": "access" }));
        assert_eq!(hour().check(&c, at(NOW + 10)), Ok(()));
        // Issued just under the leeway ahead of the engine's clock.
        assert_eq!(hour().check(&c, at(NOW - 29)), Ok(()));
    }

    #[test]
    fn max_age_bounds_lifetime_and_age_and_needs_iat() {
        let r = hour();
        let week = claims(json!({ "iat": NOW, "exp": NOW + 7 * 86400, "typ": "access" }));
        assert_eq!(r.check(&week, at(NOW)), Err(AuthFailure::InvalidToken));
        let no_iat = claims(json!({ "exp": NOW + 600, "typ": "access" }));
        assert_eq!(r.check(&no_iat, at(NOW)), Err(AuthFailure::InvalidToken));
        let text_iat = claims(json!({ "iat": "yesterday", "exp": NOW + 600, "typ": "access" }));
        assert_eq!(r.check(&text_iat, at(NOW)), Err(AuthFailure::InvalidToken));
        // As old as allowed, and `exp - iat` exactly the bound.
        let old = claims(json!({ "iat": NOW - 3590, "exp": NOW + 10, "typ": "access" }));
        assert_eq!(r.check(&old, at(NOW)), Ok(()));
        let long = claims(json!({ "iat": NOW - 3590, "exp": NOW + 11, "typ": "access" }));
        assert_eq!(r.check(&long, at(NOW)), Err(AuthFailure::InvalidToken));
        let future = claims(json!({ "iat": NOW + 600, "exp": NOW + 3600, "typ": "access" }));
        assert_eq!(r.check(&future, at(NOW)), Err(AuthFailure::InvalidToken));
    }

    /// `check` as it was before [`Times`], on the whole claims map: the reference the
    /// test below holds `check_times` to.
    fn reference_check(r: &TokenRules, claims: &Claims, now_us: u64) -> Result<(), AuthFailure> {
        let now = now_us as f64 / 1e6;
        let exp = number(claims, "exp").ok_or(AuthFailure::InvalidToken)?;
        if now >= exp + r.leeway_s {
            return Err(AuthFailure::TokenExpired);
        }
        if let Some(n) = claims.get("nbf") {
            match n.as_f64() {
                Some(nbf) if now + r.leeway_s >= nbf => {}
                _ => return Err(AuthFailure::InvalidToken),
            }
        }
        if let Some(max) = r.max_age_s {
            let iat = number(claims, "iat").ok_or(AuthFailure::InvalidToken)?;
            if exp - iat > max || now - iat > max + r.leeway_s || iat > now + r.leeway_s {
                return Err(AuthFailure::InvalidToken);
            }
        }
        Ok(())
    }

    /// The token cache keeps only [`Times`]: the time rules on them must answer as the
    /// rules on the whole claims did, for every mix of present, absent and malformed
    /// time claims, at every time around them.
    #[test]
    fn the_time_claims_alone_decide_as_the_claims_did() {
        let values = [
            json!(null),
            json!(NOW - 7200),
            json!(NOW - 30),
            json!(NOW),
            json!(NOW + 29),
            json!(NOW + 600),
            json!(NOW + 7200),
            json!("soon"),
        ];
        let rules = [
            TokenRules::default(),
            TokenRules {
                leeway_s: 30.0,
                max_age_s: Some(3600.0),
                required: Vec::new(),
            },
        ];
        let mut compared = 0;
        for exp in &values {
            for nbf in &values {
                for iat in &values {
                    let mut c = Claims::new();
                    for (name, v) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
                        if !v.is_null() {
                            c.insert(name.into(), v.clone());
                        }
                    }
                    let times = Times::of(&Members::of_map(&c));
                    for r in &rules {
                        for now in [NOW - 3600, NOW - 31, NOW, NOW + 30, NOW + 3600, NOW + 9000] {
                            let want = reference_check(r, &c, at(now));
                            assert_eq!(r.check_times(&times, at(now)), want, "{c:?} at {now}");
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 8 * 8 * 8 * 2 * 6);
    }

    #[test]
    fn expiry_is_reported_before_the_lifetime() {
        let c = claims(json!({ "iat": NOW - 7200, "exp": NOW - 3600, "typ": "access" }));
        assert_eq!(hour().check(&c, at(NOW)), Err(AuthFailure::TokenExpired));
    }

    #[test]
    fn required_claims_must_be_that_string() {
        let r = hour();
        for typ in [
            json!("refresh"),
            json!(null),
            json!(["access"]),
            json!("Access"),
        ] {
            let c = claims(json!({ "iat": NOW, "exp": NOW + 60, "typ": typ }));
            assert_eq!(
                r.check(&c, at(NOW)),
                Err(AuthFailure::InvalidToken),
                "{typ}"
            );
        }
        let none = claims(json!({ "iat": NOW, "exp": NOW + 60 }));
        assert_eq!(r.check(&none, at(NOW)), Err(AuthFailure::InvalidToken));
    }

    #[test]
    fn without_max_age_iat_is_not_needed() {
        let r = TokenRules::default();
        let c = claims(json!({ "exp": NOW + 60 }));
        assert_eq!(r.check(&c, at(NOW)), Ok(()));
        assert_eq!(
            r.check(&claims(json!({})), at(NOW)),
            Err(AuthFailure::InvalidToken)
        );
    }
}
