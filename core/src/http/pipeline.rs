//! `check_http`'s drivers: [`Pipeline`] is what a request reads of an engine (decision
//! and HTTP tables, authenticators, stores, clock), and its two drivers, blocking and
//! async, share every step but the store calls: phase 1 ([`Pipeline::prepare`], in
//! `prepare.rs`), one store call per (limit, key), phase 2 ([`Pipeline::conclude`], in
//! `conclude.rs`), over one [`Prepared`] state the driver owns.

use super::compile::HttpTables;
use super::decision::{HttpDecision, HttpTrace};
use super::state::{LimitKey, Prepared, Who};
use crate::auth::{Auth, Authn};
use crate::clock::Clock;
use crate::http_request::HttpRequest;
use crate::limit::{LimitSpec, LimitStore, OnStoreError, StoreError};
use crate::request::Principal;
use crate::tables::Tables;

/// What `check_http` reads of an engine, borrowed: a copy of a few references, made
/// per request by the `Engine` facade.
#[derive(Clone, Copy)]
pub(crate) struct Pipeline<'e> {
    /// The decision tables (roles, for `require role` and expressions).
    pub tables: &'e Tables,
    pub http: &'e HttpTables,
    pub auth: &'e Auth,
    pub clock: &'e dyn Clock,
    /// `Options::store`, else the engine's private memory store.
    pub store: &'e dyn LimitStore,
    /// The private store of [`OnStoreError::Fallback`].
    pub fallback: Option<&'e dyn LimitStore>,
    pub on_store_error: OnStoreError,
    pub ipv6_prefix: u8,
}

impl<'e> Pipeline<'e> {
    /// The blocking driver: `LimitStore::check` once per (limit, key) between the phases.
    // Inlined into `check_http` so the `Pipeline` view of the engine is not built in memory.
    #[inline(always)]
    pub(crate) fn run(
        &self,
        req: &HttpRequest,
        mut tr: Option<&mut HttpTrace>,
    ) -> HttpDecision<'e> {
        let mut p = Prepared::new(req, self.http.proxies.as_ref());
        if let Some(d) = self.prepare(req, tr.as_deref_mut(), &mut p) {
            return d;
        }
        for k in &p.keys {
            p.answers.push(match self.limit_target(k) {
                Ok((store, spec)) => store.check(spec, &k.key, p.now_us),
                Err(e) => Err(e),
            });
        }
        self.conclude(req, &mut p, tr)
    }

    /// The async driver: the same steps, with `LimitStore::check_async` awaited.
    pub(crate) async fn run_async(&self, req: &HttpRequest) -> HttpDecision<'e> {
        let mut p = Prepared::new(req, self.http.proxies.as_ref());
        if let Some(d) = self.prepare(req, None, &mut p) {
            return d;
        }
        for i in 0..p.keys.len() {
            let answer = match p.keys.get(i).map(|k| (k, self.limit_target(k))) {
                Some((k, Ok((store, spec)))) => store.check_async(spec, &k.key, p.now_us()).await,
                Some((_, Err(e))) => Err(e),
                None => continue,
            };
            p.answers.push(answer);
        }
        self.conclude(req, &mut p, None)
    }

    /// The store and spec that count one key.
    pub(super) fn limit_target(
        &self,
        k: &LimitKey,
    ) -> Result<(&'e dyn LimitStore, &'e LimitSpec), StoreError> {
        let spec = self
            .http
            .limits
            .get(k.limit as usize)
            .map(|l| &l.spec)
            .ok_or_else(|| StoreError::Unavailable("unknown limit".into()))?;
        Ok((self.store, spec))
    }
}

impl<'e> Pipeline<'e> {
    pub(super) fn now_us(&self, req: &HttpRequest) -> u64 {
        req.time_us.unwrap_or_else(|| self.clock.now_micros())
    }

    pub(super) fn principal_of<'a>(
        &self,
        req: &'a HttpRequest,
        who: &'a mut Who,
        now_us: u64,
    ) -> Option<&'a Principal> {
        if req.principal.is_some() {
            return req.principal.as_ref();
        }
        let authn = who
            .authn
            .get_or_insert_with(|| Box::new(self.auth.authenticate(req, now_us)));
        match &**authn {
            Authn::Principal { principal, .. } => Some(principal),
            Authn::Anonymous | Authn::Failed(_) => None,
        }
    }

    /// The principal an expression reads: the host's, or, when it `needs` one and the
    /// host gave none, the one the policy's `auth` section produces (authenticating at
    /// most once per request).
    #[inline]
    pub(super) fn principal_if<'a>(
        &self,
        needs: bool,
        req: &'a HttpRequest,
        who: &'a mut Who,
        now_us: u64,
    ) -> Option<&'a Principal> {
        if needs {
            self.principal_of(req, who, now_us)
        } else {
            req.principal.as_ref()
        }
    }
}
