//! Running one suite's tests on its engine: a fresh clock and fresh rate-limit state
//! per test; the steps of a test share both.

use super::coverage::Recorder;
use super::load::{Case, Req, Send, Step};
use super::trace;
use serde_json::Value as Json;
use warden::{Engine, ManualClock};

/// A failed test: where in its steps, every mismatch, and what the engine saw.
#[derive(Debug)]
pub struct Failure {
    /// `step 2, request 6 of 6` in a sequence; `None` for a single request.
    pub at: Option<String>,
    pub mismatches: Vec<String>,
    /// The decision JSON of the request that failed.
    pub decision: Json,
    /// Its explain trace, as JSON and as text.
    pub trace: Json,
    pub trace_text: String,
}

/// Run one test from the clock at `start_us` and no rate-limit state; `None` when it
/// passed. An HTTP request without `time` is sent at the test's clock: the engine reads
/// `clock` for it.
pub fn case(
    engine: &Engine,
    clock: &ManualClock,
    start_us: u64,
    case: &Case,
    mut cov: Option<&mut Recorder<'_>>,
) -> Option<Failure> {
    engine.reset_limits();
    let mut now = start_us;
    let sequence = case.steps.len() > 1;
    for (i, step) in case.steps.iter().enumerate() {
        match step {
            Step::Advance(by) => now = now.saturating_add(*by),
            Step::At(t) => now = *t,
            Step::Send(send) => {
                for k in 1..=send.repeat {
                    clock.set(now);
                    if let Some(mut f) = request(engine, send, cov.as_deref_mut()) {
                        let mut at = Vec::new();
                        if sequence {
                            at.push(format!("step {}", i + 1));
                        }
                        if send.repeat > 1 {
                            at.push(format!("request {k} of {}", send.repeat));
                        }
                        f.at = (!at.is_empty()).then(|| at.join(", "));
                        return Some(f);
                    }
                }
            }
        }
    }
    None
}

/// Send one request; explain it only when it fails (explaining costs allocations).
fn request(engine: &Engine, send: &Send, cov: Option<&mut Recorder<'_>>) -> Option<Failure> {
    match &send.request {
        Req::Authz(req) => {
            let decision = engine.authorize(req).to_json();
            if let Some(cov) = cov {
                // Authorization is stateless: explaining again decides the same.
                cov.authz(&engine.explain(req).1);
            }
            let mismatches = send.expect.mismatches(&decision);
            if mismatches.is_empty() {
                return None;
            }
            let (_, t) = engine.explain(req);
            Some(Failure {
                at: None,
                mismatches,
                decision,
                trace: serde_json::to_value(&t).unwrap_or_default(),
                trace_text: trace::authz(&t),
            })
        }
        Req::Http(req) => {
            // Explained every time: a second run to explain a failure would count
            // against the rate limits again and could answer differently.
            let (d, t) = engine.explain_http(req);
            let decision = d.to_json();
            if let Some(cov) = cov {
                cov.http(&t, &decision);
            }
            let mut mismatches = send.expect.mismatches(&decision);
            mismatches.extend(send.expect.cookie_mismatches(engine));
            if mismatches.is_empty() {
                return None;
            }
            Some(Failure {
                at: None,
                mismatches,
                decision,
                trace: serde_json::to_value(&t).unwrap_or_default(),
                trace_text: trace::http(&t),
            })
        }
    }
}
