//! A candidate policy beside the live one: every decision of an engine with a
//! candidate is made again by the candidate, the live answer is returned, and each
//! disagreement (outcome or status) goes to the live engine's decision log and metrics.
//! `Warden` loads candidates and promotes them.
//!
//! The candidate decides through its unobserved paths: its own decision log, metrics
//! and candidate are never used, so a request is logged once, by the live engine. Its
//! rate limits count in its own store, which must not be the live one's (a request
//! would count twice against the live budgets).

use crate::decision_log::{CandidateRecord, Outcome};
use crate::engine::Engine;
use crate::http::{HttpDecision, HttpRequest};
use crate::json::JsonRequest;
use crate::request::Request;
use crate::request_ref::RequestRef;
use crate::{Decision, LoadError};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Why a candidate cannot run beside an engine.
#[derive(Debug)]
pub enum CandidateError {
    /// The engine has neither a decision log nor metrics: disagreements would go
    /// nowhere.
    NotObserved,
    /// The candidate counts rate limits in the live engine's store: each request would
    /// be counted twice against the live budgets.
    SharedStore,
    /// The candidate policy did not load.
    Load(LoadError),
    /// There is no candidate to promote.
    NoCandidate,
}

impl fmt::Display for CandidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CandidateError::NotObserved => f.write_str(
                "a candidate policy needs a decision log or metrics to report disagreements to",
            ),
            CandidateError::SharedStore => f.write_str(
                "the candidate policy counts rate limits in the live engine's store; give it \
                 its own (the default memory store) so requests are not counted twice",
            ),
            CandidateError::Load(e) => write!(f, "{e}"),
            CandidateError::NoCandidate => f.write_str("no candidate policy is running"),
        }
    }
}

impl std::error::Error for CandidateError {}

impl From<LoadError> for CandidateError {
    fn from(e: LoadError) -> Self {
        CandidateError::Load(e)
    }
}

fn outcome(allowed: bool) -> Outcome {
    if allowed {
        Outcome::Allow
    } else {
        Outcome::Deny
    }
}

impl Engine {
    /// Run `candidate` beside this engine (`None` stops it): every `authorize*`,
    /// `explain*` and `check_http*` call is also decided by the candidate, the answer is
    /// this engine's, and each disagreement (outcome or status) is logged with the
    /// candidate's answer (the record's `candidate` field) and counted
    /// (`warden_candidate_disagreements_total`). Agreeing decisions log nothing more.
    /// While it runs, every decision costs about two.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use warden::metrics::Metrics;
    /// use warden::{Engine, Options, Principal, Request};
    ///
    /// let metrics = Arc::new(Metrics::new());
    /// let live = Engine::from_source("app.warden", "policy app\nrole a\ngrant a: docs:read\n",
    ///     Options::default().metrics(Arc::clone(&metrics))).map_err(|e| e.to_string())?;
    /// let next = Engine::from_source("next.warden", "policy app\nrole a\n", Options::default())
    ///     .map_err(|e| e.to_string())?;
    /// live.set_candidate(Some(Arc::new(next))).map_err(|e| e.to_string())?;
    ///
    /// let read = Request::new("docs:read").principal(Principal::new("u1").role("a"));
    /// assert!(live.authorize(&read).allowed); // the live policy answers
    /// assert_eq!(metrics.snapshot().candidate_disagreements, 1);
    /// # Ok::<(), String>(())
    /// ```
    pub fn set_candidate(&self, candidate: Option<Arc<Engine>>) -> Result<(), CandidateError> {
        if let Some(c) = &candidate {
            if self.observer.is_none() {
                return Err(CandidateError::NotObserved);
            }
            if std::ptr::eq(
                Arc::as_ptr(&self.store).cast::<()>(),
                Arc::as_ptr(&c.store).cast::<()>(),
            ) {
                return Err(CandidateError::SharedStore);
            }
        }
        if let Some(c) = &candidate {
            // Hashed here, not on the first disagreement a decision records.
            c.revision.get();
        }
        let on = candidate.is_some();
        self.candidate.store(candidate);
        self.has_candidate.store(on, Ordering::Release);
        Ok(())
    }

    /// The candidate running beside this engine, if any.
    pub fn candidate(&self) -> Option<Arc<Engine>> {
        self.candidate.load_full()
    }

    /// Whether a candidate is set: one load, for the callers that skip the shadow
    /// call (and its result) when none is.
    #[inline(always)]
    pub(crate) fn candidate_set(&self) -> bool {
        self.has_candidate.load(Ordering::Acquire)
    }

    /// The candidate, when one is set (one relaxed load when none is).
    #[inline]
    fn shadow(&self) -> Option<Arc<Engine>> {
        if self.candidate_set() {
            self.candidate.load_full()
        } else {
            None
        }
    }

    /// The candidate's answer to `req` when it differs from `d`.
    #[inline]
    pub(crate) fn shadow_authorize(
        &self,
        req: &Request,
        d: &Decision<'_>,
    ) -> Option<CandidateRecord> {
        let c = self.shadow()?;
        let cd = c.authorize_unobserved(req);
        disagreement(&c, d.allowed, d.status, (cd.allowed, cd.status), cd.rules())
    }

    /// [`Engine::shadow_authorize`] for a request read in place.
    #[inline]
    pub(crate) fn shadow_json(
        &self,
        req: &JsonRequest<'_>,
        d: &Decision<'_>,
    ) -> Option<CandidateRecord> {
        let c = self.shadow()?;
        let cd = c.decide_json(req);
        disagreement(&c, d.allowed, d.status, (cd.allowed, cd.status), cd.rules())
    }

    /// [`Engine::shadow_authorize`] for a borrowed request.
    #[inline]
    pub(crate) fn shadow_ref(
        &self,
        req: &RequestRef<'_>,
        d: &Decision<'_>,
    ) -> Option<CandidateRecord> {
        let c = self.shadow()?;
        let cd = c.decide_ref(req);
        disagreement(&c, d.allowed, d.status, (cd.allowed, cd.status), cd.rules())
    }

    /// [`Engine::shadow_authorize`] for `check_http`.
    #[inline]
    pub(crate) fn shadow_http(
        &self,
        req: &HttpRequest,
        d: &HttpDecision<'_>,
    ) -> Option<CandidateRecord> {
        let c = self.shadow()?;
        let cd = c.pipeline().run(req, None);
        disagreement(
            &c,
            d.allowed,
            d.status,
            (cd.allowed, cd.status),
            cd.rules.iter().copied(),
        )
    }

    /// [`Engine::shadow_http`] for `check_http_async`: the candidate's store is asked
    /// asynchronously too.
    pub(crate) async fn shadow_http_async(
        &self,
        req: &HttpRequest,
        d: &HttpDecision<'_>,
    ) -> Option<CandidateRecord> {
        let c = self.shadow()?;
        let cd = c.pipeline().run_async(req).await;
        disagreement(
            &c,
            d.allowed,
            d.status,
            (cd.allowed, cd.status),
            cd.rules.iter().copied(),
        )
    }
}

fn disagreement<'a>(
    c: &Engine,
    allowed: bool,
    status: u16,
    (c_allowed, c_status): (bool, u16),
    rules: impl Iterator<Item = &'a str>,
) -> Option<CandidateRecord> {
    (allowed != c_allowed || status != c_status).then(|| CandidateRecord {
        revision: Arc::clone(c.revision.get()),
        outcome: outcome(c_allowed),
        status: c_status,
        rules: rules.map(Into::into).collect(),
    })
}
