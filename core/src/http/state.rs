//! The state of one request between the two phases of `check_http` ([`Prepared`]),
//! filled in place by phase 1 (`prepare.rs`), the driver (`pipeline.rs`) and phase 2
//! (`conclude.rs`), and what expressions read of it ([`Facts`]).

use super::cors::Verdict;
use super::path::NormPath;
use crate::auth::Authn;
use crate::client_ip::ClientIp;
use crate::cx::HttpView;
use crate::http_request::HttpRequest;
use crate::limit::{Admission, StoreError};
use crate::proxies::TrustedProxies;
use crate::request::Principal;
use smallvec::SmallVec;
use std::borrow::Cow;

/// Key bytes: inline up to `i:` and an IPv4 address, a short IPv6 prefix or API key.
pub(crate) type KeyBytes = SmallVec<[u8; 32]>;

/// The routes matching one request, most specific first: inline for usual depths.
pub(super) type Chain = SmallVec<[u32; 8]>;

/// The store's answers, one per (limit, key) in order.
pub(crate) type Answers = SmallVec<[Result<Admission, StoreError>; 2]>;

/// One (limit, key) to count.
#[derive(Debug)]
pub(crate) struct LimitKey {
    pub limit: u32,
    pub key: KeyBytes,
}

/// A refusal phase 1 met under `report_only`, reported by phase 2 when the request is
/// admitted (phase 2 owns the decision).
#[derive(Debug, Clone, Copy)]
pub(super) enum Early {
    /// `routes[route].first[index]`, a `report_only` `require first`, failed.
    First { route: u32, index: u32 },
    /// A `report_only` policy's `cors` block would have refused the origin
    /// (`refuse_unlisted`) with this status.
    Unlisted(u16),
}

/// The authentication outcome, computed at most once per request.
#[derive(Debug, Default)]
pub(crate) struct Who {
    /// Boxed: most requests never authenticate here (the host passes the principal),
    /// and an inline `Authn` would make every [`Prepared`] larger to move.
    pub(super) authn: Option<Box<Authn>>,
}

/// What expressions read of the request besides the principal.
#[derive(Clone, Copy)]
pub(super) struct Facts<'a> {
    pub(super) norm: &'a NormPath<'a>,
    pub(super) ip: &'a ClientIp,
    pub now_us: u64,
}

impl<'a> Facts<'a> {
    /// The request as an expression reads it, with `principal`.
    pub(super) fn view(
        self,
        req: &'a HttpRequest,
        principal: Option<&'a Principal>,
    ) -> HttpView<'a> {
        HttpView {
            req,
            path: &self.norm.path,
            query: self.norm.query,
            ip: self.ip,
            principal,
        }
    }
}

/// The state of one request between the phases, filled in place by the driver's
/// `Prepared::new` and `Pipeline::prepare`: it is a few hundred bytes, and moving it
/// between the phases was a visible share of a request.
#[derive(Debug)]
pub(crate) struct Prepared<'r> {
    pub(super) norm: NormPath<'r>,
    pub(super) ip: ClientIp,
    /// Matching routes, most specific first.
    pub(super) chain: Chain,
    /// Which of the winning route's patterns matched.
    pub(super) pattern: u32,
    /// Routes `chain[..applies]` contribute requirements (a `public` route cuts).
    pub(super) applies: usize,
    pub(super) cors: Verdict<'r>,
    pub(super) who: Who,
    pub(super) now_us: u64,
    pub keys: SmallVec<[LimitKey; 2]>,
    /// Each key as traces show it (redacted when it came from a header or a secret);
    /// empty unless tracing.
    pub(super) shown: Vec<String>,
    /// The store's answers, one per `keys` entry, pushed by the driver.
    pub answers: Answers,
    /// Refusals phase 1 reported instead of answering (`report_only`); empty, with no
    /// allocation, for every other request.
    pub(super) early: Vec<Early>,
}

impl<'r> Prepared<'r> {
    /// Blank state for `req`; `Pipeline::prepare` fills it.
    // Inlined into both drivers (was so before `early` grew it past the heuristic):
    // out of line it costs ~50 instructions a request.
    #[inline(always)]
    pub(crate) fn new(req: &'r HttpRequest, proxies: Option<&TrustedProxies>) -> Prepared<'r> {
        // The peer, unless the policy's `proxies` block trusts it (docs/LANGUAGE.md).
        // An IPv4-mapped address (`::ffff:a.b.c.d`, what a dual-stack socket reports
        // for every IPv4 client) is the IPv4 address: expressions compare `ip` as
        // text, so `require ip != "203.0.113.66"` must not pass for the mapped
        // spelling of that client.
        let ip = match proxies {
            Some(p) => p.client(req.ip, &req.headers),
            None => req.ip,
        }
        .map(|ip| ip.to_canonical());
        Prepared {
            norm: NormPath {
                path: Cow::Borrowed("/"),
                raw: "/",
                query: "",
                exact_check: false,
            },
            ip: ClientIp::new(ip),
            chain: Chain::new(),
            pattern: 0,
            applies: 0,
            cors: Verdict::NoOrigin,
            who: Who::default(),
            now_us: 0,
            keys: SmallVec::new(),
            shown: Vec::new(),
            answers: Answers::new(),
            early: Vec::new(),
        }
    }

    pub(crate) fn now_us(&self) -> u64 {
        self.now_us
    }

    /// The state borrowed apart: what expressions read, the principal slot that
    /// authentication fills (mutably, at most once), and the matching routes.
    pub(super) fn parts(&mut self) -> (Facts<'_>, &mut Who, &[u32]) {
        let at = Facts {
            norm: &self.norm,
            ip: &self.ip,
            now_us: self.now_us,
        };
        (at, &mut self.who, &self.chain)
    }
}
