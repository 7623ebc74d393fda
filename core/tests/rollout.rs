//! Report-only rollout and candidate policies, end to end: a `report_only` deny rule,
//! requirement, limit or whole policy never changes an answer, and what it would have
//! refused is on the decision, in the decision log (rule named as `file:line`) and in
//! the metrics; the same policy without `report_only` refuses those very requests. A
//! candidate policy decides beside the live one, the live one answers, and exactly the
//! requests on which they disagree are logged with the candidate's answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

use serde_json::{json, Value as Json};
use std::sync::{Arc, Mutex, PoisonError};
use warden::decision_log::{DecisionLog, LogConfig, Sink};
use warden::filter::Residual;
use warden::limit::MemoryStore;
use warden::metrics::Metrics;
use warden::{
    Attrs, CandidateError, Engine, HttpRequest, Options, Principal, Reported, Request, Resource,
    Warden, NO_PERMIT,
};

/// Line numbers matter: decisions and the log name `shop.warden:LINE`.
const POLICY: &str = r#"policy shop
role member
role admin > member
principal { id: string, roles: set<role> }
resource order { owner: string, frozen: bool }
grant member: orders:read, orders:write
deny orders:write on order if resource.frozen == true because "frozen order"
deny orders:write on order if resource.owner != principal.id because "not the owner" report_only

limit api: 2 per 1m by ip report_only
limit login: 1 per 1m by ip

route /api/** {
  require auth
  limit api
}
route /api/admin/** {
  require role admin else 404 report_only
}
route POST /login {
  public
  limit login
}
"#;

const OWNER_RULE: &str = "shop.warden:8";
const FROZEN_RULE: &str = "shop.warden:7";
const API_LIMIT: &str = "shop.warden:10";
const ADMIN_REQ: &str = "shop.warden:18";

/// The policy with every `report_only` taken out: what enforcing it would answer.
fn enforced() -> String {
    POLICY.replace(" report_only", "")
}

/// Every line logged, through a callback sink.
fn collecting(sample_rate: f64) -> (Arc<DecisionLog>, Lines) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&lines);
    let sink = Sink::Callback(Arc::new(move |line: &str| {
        l.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.to_owned());
    }));
    let config = LogConfig {
        sample_rate,
        ..LogConfig::new(sink)
    };
    (Arc::new(DecisionLog::open(config).unwrap()), lines)
}

fn records(log: &DecisionLog, lines: &Mutex<Vec<String>>) -> Vec<Json> {
    log.flush();
    lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The lines a callback sink received.
type Lines = Arc<Mutex<Vec<String>>>;

/// An engine with a decision log (sampled at `sample_rate`) and metrics.
fn observed(src: &str, sample_rate: f64) -> (Engine, Arc<DecisionLog>, Lines, Arc<Metrics>) {
    let (log, lines) = collecting(sample_rate);
    let metrics = Arc::new(Metrics::new());
    let engine = Engine::from_source(
        "shop.warden",
        src,
        Options::default()
            .decision_log(Arc::clone(&log))
            .metrics(Arc::clone(&metrics)),
    )
    .unwrap();
    (engine, log, lines, metrics)
}

fn member(id: &str) -> Principal {
    Principal::new(id).role("member")
}

fn write_order(who: &str, owner: &str, frozen: bool) -> Request {
    Request::new("orders:write")
        .principal(member(who))
        .resource(
            Resource::new("order", "o1")
                .attr("owner", owner)
                .attr("frozen", frozen),
        )
}

fn get(path: &str) -> HttpRequest {
    HttpRequest::new("GET", path).ip([192, 0, 2, 9].into())
}

#[test]
fn a_report_only_deny_rule_never_denies_and_is_reported_logged_and_counted() {
    let (engine, log, lines, metrics) = observed(POLICY, 1.0);

    // Someone else's order: the report-only rule matches, the request is allowed.
    let d = engine.authorize(&write_order("u1", "u2", false));
    assert_eq!((d.allowed, d.status), (true, 200));
    assert_eq!(d.rule, Some("shop.warden:6"));
    assert_eq!(
        d.reported,
        Some(Reported {
            rule: OWNER_RULE,
            status: 403,
            reason: Some("not the owner"),
        })
    );
    assert_eq!(
        d.to_json()["reported"],
        json!([{ "rule": OWNER_RULE, "status": 403, "reason": "not the owner" }])
    );
    // One's own order: nothing to report, and the JSON is what it always was.
    let own = engine.authorize(&write_order("u1", "u1", false));
    assert!(own.allowed && own.reported.is_none());
    assert!(own.to_json().get("reported").is_none());
    // Refused anyway (frozen): the enforced deny decides, nothing is reported.
    let frozen = engine.authorize(&write_order("u1", "u2", true));
    assert_eq!((frozen.allowed, frozen.rule), (false, Some(FROZEN_RULE)));
    assert!(frozen.reported.is_none());
    // The JSON request path decides the same.
    let j = engine
        .authorize_json(&json!({
            "principal": { "id": "u1", "roles": ["member"] },
            "action": "orders:write",
            "resource": { "type": "order", "id": "o1", "owner": "u2", "frozen": false },
        }))
        .unwrap();
    assert_eq!(j.reported.map(|r| r.rule), Some(OWNER_RULE));
    // Explain names the rule as report-only and agrees with authorize.
    let (e, trace) = engine.explain(&write_order("u1", "u2", false));
    assert_eq!(e, d);
    let owner = trace.rules.iter().find(|r| r.rule == OWNER_RULE).unwrap();
    assert!(owner.report_only && owner.matched);
    assert!(
        !trace
            .rules
            .iter()
            .find(|r| r.rule == FROZEN_RULE)
            .unwrap()
            .report_only
    );

    let recs = records(&log, &lines);
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[0]["outcome"], "allow");
    assert_eq!(
        recs[0]["reported"],
        json!([{ "rule": OWNER_RULE, "status": 403, "reason": "not the owner" }])
    );
    for r in [&recs[1], &recs[2]] {
        assert!(r.get("reported").is_none(), "{r}");
    }
    assert_eq!(recs[3]["reported"][0]["rule"], OWNER_RULE);
    assert_eq!(recs[4]["reported"][0]["rule"], OWNER_RULE);
    assert_eq!(
        metrics.snapshot().by_reported.get(OWNER_RULE).copied(),
        Some(3)
    );
    assert!(metrics.prometheus().contains(&format!(
        "warden_report_only_total{{rule=\"{OWNER_RULE}\"}} 3"
    )));
}

#[test]
fn reported_decisions_are_logged_whatever_the_sample_rate() {
    let (engine, log, lines, _) = observed(POLICY, 0.0);
    for _ in 0..20 {
        assert!(engine.authorize(&write_order("u1", "u1", false)).allowed);
    }
    assert!(engine.authorize(&write_order("u1", "u2", false)).allowed);
    let recs = records(&log, &lines);
    assert_eq!(recs.len(), 1, "only the reported decision is kept");
    assert_eq!(recs[0]["reported"][0]["rule"], OWNER_RULE);
}

#[test]
fn a_report_only_requirement_never_refuses_and_is_reported() {
    let (engine, log, lines, metrics) = observed(POLICY, 1.0);
    let as_member = get("/api/admin/users").principal(member("u1"));
    let d = engine.check_http(&as_member);
    assert_eq!((d.allowed, d.status), (true, 200));
    assert_eq!(
        d.reported,
        [Reported {
            rule: ADMIN_REQ,
            status: 404,
            reason: Some("requires role admin"),
        }]
    );
    assert_eq!(d.to_json()["reported"][0]["status"], 404);
    let admin =
        engine.check_http(&get("/api/admin/users").principal(Principal::new("a").role("admin")));
    assert!(admin.allowed && admin.reported.is_empty());
    assert!(admin.to_json().get("reported").is_none());
    // Refused by the enforced `require auth`: nothing reported.
    let anon = engine.check_http(&get("/api/admin/users"));
    assert_eq!((anon.allowed, anon.status), (false, 401));
    assert!(anon.reported.is_empty());
    // The trace marks it.
    let (_, trace) = engine.explain_http(&as_member);
    let req = trace
        .requirements
        .iter()
        .find(|r| r.rule == ADMIN_REQ)
        .unwrap();
    assert!(req.report_only);
    assert_eq!(req.value, "false");

    let recs = records(&log, &lines);
    assert_eq!(recs[0]["route"], "/api/admin/**");
    assert_eq!(
        recs[0]["reported"],
        json!([{ "rule": ADMIN_REQ, "status": 404, "reason": "requires role admin" }])
    );
    assert!(recs[1].get("reported").is_none());
    assert!(recs[2].get("reported").is_none());
    assert_eq!(metrics.snapshot().by_reported.get(ADMIN_REQ), Some(&2));
}

#[test]
fn a_report_only_limit_counts_but_never_refuses_nor_shows_in_headers() {
    let (engine, log, lines, metrics) = observed(POLICY, 1.0);
    let req = get("/api/orders").principal(member("u1"));
    let mut statuses = Vec::new();
    let mut reported = Vec::new();
    for _ in 0..5 {
        let d = engine.check_http(&req);
        statuses.push(d.status);
        assert!(d.header("ratelimit").is_none() && d.header("ratelimit-policy").is_none());
        assert!(d.header("retry-after").is_none());
        reported.push(
            d.reported
                .iter()
                .map(|r| (r.rule, r.status))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(statuses, [200; 5]);
    assert_eq!(
        reported,
        [
            vec![],
            vec![],
            vec![(API_LIMIT, 429)],
            vec![(API_LIMIT, 429)],
            vec![(API_LIMIT, 429)],
        ]
    );
    let (_, trace) = engine.explain_http(&req);
    assert_eq!(trace.limits[0].outcome, "refused (report only)");
    assert!(trace.limits[0].report_only);
    let recs = records(&log, &lines);
    assert_eq!(recs[2]["reported"][0]["reason"], "rate limit exceeded");
    assert!(
        recs[2].get("limit").is_none(),
        "no limit refused the request"
    );
    let snap = metrics.snapshot();
    assert_eq!(snap.by_reported.get(API_LIMIT), Some(&4));
    assert!(snap.by_limit.is_empty(), "no refusal is counted");
    // An enforced limit beside it is unchanged.
    let login = HttpRequest::new("POST", "/login").ip([192, 0, 2, 9].into());
    assert_eq!(engine.check_http(&login).status, 200);
    assert_eq!(engine.check_http(&login).status, 429);
}

#[test]
fn without_report_only_the_same_requests_are_refused() {
    let src = enforced();
    let engine = Engine::from_source("shop.warden", &src, Options::default()).unwrap();
    let d = engine.authorize(&write_order("u1", "u2", false));
    assert_eq!(
        (d.allowed, d.rule, d.reason),
        (false, Some(OWNER_RULE), Some("not the owner"))
    );
    assert!(d.reported.is_none());
    let d = engine.check_http(&get("/api/admin/users").principal(member("u1")));
    assert_eq!(
        (d.allowed, d.status, d.rules.as_slice()),
        (false, 404, &[ADMIN_REQ][..])
    );
    // Another client than the one above, whose request counted against `api` too.
    let req = HttpRequest::new("GET", "/api/orders")
        .ip([192, 0, 2, 77].into())
        .principal(member("u1"));
    let statuses: Vec<u16> = (0..3).map(|_| engine.check_http(&req).status).collect();
    assert_eq!(statuses, [200, 200, 429]);
    // The report-only engine answers exactly what the enforced one allows, elsewhere.
    let ro = Engine::from_source("shop.warden", POLICY, Options::default()).unwrap();
    for (who, owner, frozen) in [("u1", "u1", false), ("u1", "u1", true), ("u1", "u2", true)] {
        let a = ro.authorize(&write_order(who, owner, frozen));
        let b = engine.authorize(&write_order(who, owner, frozen));
        assert_eq!((a.allowed, a.rule, a.reason), (b.allowed, b.rule, b.reason));
    }
}

#[test]
fn a_report_only_policy_allows_everything_and_reports_each_refusal() {
    let src = enforced().replacen("policy shop", "policy shop report_only", 1);
    let (engine, log, lines, metrics) = observed(&src, 1.0);
    // A default deny: reported against the policy line.
    let d = engine.authorize(&Request::new("orders:delete").principal(member("u1")));
    assert_eq!((d.allowed, d.status, d.reason), (true, 200, None));
    assert_eq!(
        d.reported,
        Some(Reported {
            rule: "shop.warden:1",
            status: 403,
            reason: Some(NO_PERMIT),
        })
    );
    // A deny rule: reported as that rule.
    let d = engine.authorize(&write_order("u1", "u2", true));
    assert!(d.allowed);
    assert_eq!(
        d.reported.map(|r| (r.rule, r.reason)),
        Some((FROZEN_RULE, Some("frozen order")))
    );
    // HTTP: authentication, a role, a limit, and the path rule.
    let anon = engine.check_http(&get("/api/orders"));
    assert_eq!((anon.allowed, anon.status), (true, 200));
    assert_eq!(anon.reported[0].rule, "shop.warden:14");
    assert_eq!(anon.reported[0].status, 401);
    let path = engine.check_http(&get("/api/../admin"));
    assert_eq!((path.allowed, path.status), (true, 200));
    assert_eq!(
        path.reported,
        [Reported {
            rule: "shop.warden:1",
            status: 400,
            reason: Some("the request path contains a `.` or `..` segment"),
        }]
    );
    let login = HttpRequest::new("POST", "/login").ip([192, 0, 2, 1].into());
    assert!(engine.check_http(&login).reported.is_empty());
    let second = engine.check_http(&login);
    assert_eq!((second.allowed, second.status), (true, 200));
    assert_eq!(second.reported[0].status, 429);
    // Data filtering follows authorize: everything.
    let r = engine
        .residual("orders:delete", "order", Some(&member("u1")), &Attrs::new())
        .unwrap();
    assert_eq!(r, Residual::Always);

    let recs = records(&log, &lines);
    assert_eq!(recs.len(), 6);
    assert!(recs.iter().all(|r| r["outcome"] == "allow"));
    assert_eq!(recs[0]["reported"][0]["rule"], "shop.warden:1");
    assert!(recs[4].get("reported").is_none());
    let snap = metrics.snapshot();
    assert_eq!(snap.by_reported.get("shop.warden:1"), Some(&2));
    assert_eq!(snap.by_reported.get("shop.warden:11"), Some(&1));
    assert_eq!(snap.decisions.get("http/deny"), Some(&0));
}

/// The live policy and a candidate that lets members delete their own orders and
/// refuses writes to frozen ones for admins too.
const CANDIDATE: &str = r#"policy shop
role member
role admin > member
principal { id: string, roles: set<role> }
resource order { owner: string, frozen: bool }
grant member: orders:read, orders:write
allow orders:delete on order if resource.owner == principal.id
deny orders:write on order if resource.frozen == true because "frozen order"

limit login: 1 per 1m by ip

route POST /login {
  public
  limit login
}
"#;

#[test]
fn a_candidate_logs_exactly_the_disagreements_and_the_live_policy_answers() {
    let live_src = enforced();
    let (engine, log, lines, metrics) = observed(&live_src, 1.0);
    let candidate = Engine::from_source("next.warden", CANDIDATE, Options::default()).unwrap();
    engine.set_candidate(Some(Arc::new(candidate))).unwrap();

    let delete_own = Request::new("orders:delete")
        .principal(member("u1"))
        .resource(
            Resource::new("order", "o1")
                .attr("owner", "u1")
                .attr("frozen", false),
        );
    // 1: agree (allowed by both). 2: disagree (live denies, candidate allows).
    // 3: agree (denied by both, different rules). 4: disagree (live 404, candidate 200).
    // 5, 6: the login limit: agree (200 then 429 in both, each counting in its store).
    assert!(engine.authorize(&write_order("u1", "u1", false)).allowed);
    let d = engine.authorize(&delete_own);
    assert_eq!(
        (d.allowed, d.status),
        (false, 403),
        "the live policy answers"
    );
    assert!(!engine.authorize(&write_order("u1", "u2", true)).allowed);
    let d = engine.check_http(&get("/api/admin/users").principal(member("u1")));
    assert_eq!(d.status, 404);
    let login = HttpRequest::new("POST", "/login").ip([192, 0, 2, 1].into());
    assert_eq!(engine.check_http(&login).status, 200);
    assert_eq!(engine.check_http(&login).status, 429);

    let recs = records(&log, &lines);
    assert_eq!(recs.len(), 6);
    let with: Vec<usize> = (0..6)
        .filter(|&i| recs[i].get("candidate").is_some())
        .collect();
    assert_eq!(
        with,
        [1, 3],
        "exactly the disagreements carry the candidate's answer"
    );
    let revision = recs[1]["candidate"]["revision"].as_str().unwrap();
    assert_eq!(revision.len(), 12);
    assert_ne!(revision, recs[1]["revision"]);
    assert_eq!(
        recs[1]["candidate"],
        json!({ "revision": revision, "outcome": "allow", "status": 200, "rules": ["next.warden:7"] })
    );
    assert_eq!(
        (&recs[1]["outcome"], &recs[1]["status"]),
        (&json!("deny"), &json!(403))
    );
    assert_eq!(
        recs[3]["candidate"],
        json!({ "revision": revision, "outcome": "allow", "status": 200, "rules": [] })
    );
    assert_eq!(recs[3]["rules"], json!([ADMIN_REQ]));
    assert_eq!(metrics.snapshot().candidate_disagreements, 2);
    assert!(metrics
        .prometheus()
        .contains("warden_candidate_disagreements_total 2"));

    // Stopped: decisions are made once again.
    engine.set_candidate(None).unwrap();
    assert!(!engine.authorize(&delete_own).allowed);
    assert_eq!(metrics.snapshot().candidate_disagreements, 2);
    assert!(records(&log, &lines)[6].get("candidate").is_none());
}

#[test]
fn a_candidate_on_check_http_async_is_asked_asynchronously_too() {
    let (engine, log, lines, metrics) = observed(&enforced(), 1.0);
    let candidate = Engine::from_source("next.warden", CANDIDATE, Options::default()).unwrap();
    engine.set_candidate(Some(Arc::new(candidate))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let req = get("/api/admin/users").principal(member("u1"));
    let d = rt.block_on(engine.check_http_async(&req));
    assert_eq!(d.status, 404);
    assert_eq!(records(&log, &lines)[0]["candidate"]["status"], 200);
    assert_eq!(metrics.snapshot().candidate_disagreements, 1);
}

#[test]
fn a_candidate_needs_somewhere_to_report_and_a_store_of_its_own() {
    let plain = Engine::from_source("shop.warden", POLICY, Options::default()).unwrap();
    let c = Arc::new(Engine::from_source("next.warden", CANDIDATE, Options::default()).unwrap());
    assert!(matches!(
        plain.set_candidate(Some(Arc::clone(&c))),
        Err(CandidateError::NotObserved)
    ));
    let store = Arc::new(MemoryStore::new(1000));
    let metrics = Arc::new(Metrics::new());
    let shared = Options::default().store(store);
    let live = Engine::from_source(
        "shop.warden",
        POLICY,
        shared.clone().metrics(Arc::clone(&metrics)),
    )
    .unwrap();
    let same_store = Arc::new(Engine::from_source("next.warden", CANDIDATE, shared).unwrap());
    assert!(matches!(
        live.set_candidate(Some(same_store)),
        Err(CandidateError::SharedStore)
    ));
    assert!(live.candidate().is_none());
    live.set_candidate(Some(c)).unwrap();
    assert!(live.candidate().is_some());
}

#[test]
fn warden_runs_a_candidate_across_reloads_and_promotes_it() {
    let metrics = Arc::new(Metrics::new());
    let warden = Warden::from_source(
        "shop.warden",
        &enforced(),
        Options::default().metrics(Arc::clone(&metrics)),
    )
    .unwrap();
    let delete_own = Request::new("orders:delete")
        .principal(member("u1"))
        .resource(
            Resource::new("order", "o1")
                .attr("owner", "u1")
                .attr("frozen", false),
        );
    assert!(matches!(
        warden.promote_candidate(),
        Err(CandidateError::NoCandidate)
    ));
    // A candidate that does not load is an error; nothing changes.
    assert!(matches!(
        warden.set_candidate_source("next.warden", "policy shop\ngrant nobody: x\n"),
        Err(CandidateError::Load(_))
    ));
    warden
        .set_candidate_source("next.warden", CANDIDATE)
        .unwrap();
    assert!(!warden.engine().authorize(&delete_own).allowed);
    assert_eq!(metrics.snapshot().candidate_disagreements, 1);
    // A reload of the live policy keeps the candidate beside it.
    warden.reload_source("shop.warden", &enforced()).unwrap();
    assert!(!warden.engine().authorize(&delete_own).allowed);
    assert_eq!(metrics.snapshot().candidate_disagreements, 2);
    // Promoted: the candidate answers, with the live options, and nothing runs beside.
    warden.promote_candidate().unwrap();
    let engine = warden.engine();
    assert!(engine.candidate().is_none());
    let d = engine.authorize(&delete_own);
    assert_eq!((d.allowed, d.rule), (true, Some("next.warden:7")));
    assert_eq!(metrics.snapshot().candidate_disagreements, 2);
    assert_eq!(metrics.snapshot().reloads, 2);
    assert_eq!(
        metrics.snapshot().decisions.get("authorize/allow"),
        Some(&1)
    );
    // Cleared: nothing runs beside.
    warden
        .set_candidate_source("next.warden", &enforced())
        .unwrap();
    warden.clear_candidate();
    assert!(warden.engine().candidate().is_none());
}

#[test]
fn report_only_transport_checks_cors_and_a_failed_store_are_reported() {
    let src = r#"policy edge
limit api: 5 per 1m by ip report_only
cors {
  origins: "https://app.example"
  refuse_unlisted: true
}
route /api/** {
  require first header x-forwarded-proto == "https" else 421 report_only
  limit api
}
"#;
    let (log, lines) = collecting(1.0);
    let engine = Engine::from_source(
        "edge.warden",
        src,
        Options::default()
            .store(Arc::new(support::DownStore))
            .decision_log(Arc::clone(&log)),
    )
    .unwrap();
    // Plain http, and the store down (fail closed): both reported, the request admitted.
    let d = engine.check_http(&get("/api/x"));
    assert_eq!((d.allowed, d.status), (true, 200));
    let got: Vec<(&str, u16)> = d.reported.iter().map(|r| (r.rule, r.status)).collect();
    assert_eq!(got, [("edge.warden:8", 421), ("edge.warden:2", 503)]);
    assert!(d.note.is_some(), "the store failure is noted");
    let (_, trace) = engine.explain_http(&get("/api/x"));
    assert_eq!(trace.requirements[0].kind, "first");
    assert!(trace.requirements[0].report_only);
    // An unlisted origin is still refused: only the `require first` line is report-only.
    let other = get("/api/x")
        .header("x-forwarded-proto", "https")
        .header("origin", "https://evil.example");
    assert_eq!(engine.check_http(&other).status, 403);
    assert_eq!(records(&log, &lines)[0]["reported"][1]["status"], 503);

    // The whole policy report-only: the unlisted origin and a refused preflight are
    // reported against the `policy` line; the preflight goes to the application.
    let whole = src
        .replacen("policy edge", "policy edge report_only", 1)
        .replace(" report_only\n  limit", "\n  limit")
        .replace("by ip report_only", "by ip");
    let engine = Engine::from_source("edge.warden", &whole, Options::default()).unwrap();
    let d = engine.check_http(&other);
    assert_eq!((d.allowed, d.status), (true, 200));
    assert_eq!(d.reported[0].rule, "edge.warden:1");
    assert_eq!(d.reported[0].status, 403);
    assert!(d.header("access-control-allow-origin").is_none());
    let preflight = HttpRequest::new("OPTIONS", "/api/x")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "DELETE")
        .header("x-forwarded-proto", "https");
    let d = engine.check_http(&preflight);
    assert_eq!((d.allowed, d.status), (true, 200));
    assert_eq!(
        d.reported,
        [Reported {
            rule: "edge.warden:1",
            status: 403,
            reason: Some("CORS preflight from an origin the policy does not allow"),
        }]
    );
}

#[test]
fn a_report_only_require_auth_reports_the_credential_s_failure_code() {
    let src = r#"policy keys
role svc
principal { id: string, roles: set<role> }
auth api_key {
  from: header x-api-key
  key secret(K) as { id: "svc", roles: [svc] }
}
route /api/** {
  require auth report_only
}
"#;
    const KEY: &str = "k3y-of-at-least-24-characters";
    let engine =
        Engine::from_source("keys.warden", src, Options::default().secret("K", KEY)).unwrap();
    let wrong = engine.check_http(&get("/api/x").header("x-api-key", "guess"));
    assert_eq!((wrong.allowed, wrong.status), (true, 200));
    assert!(wrong.header("www-authenticate").is_none());
    assert_eq!(
        wrong.reported,
        [Reported {
            rule: "keys.warden:9",
            status: 401,
            reason: Some("invalid_api_key"),
        }]
    );
    let none = engine.check_http(&get("/api/x"));
    assert_eq!(none.reported[0].reason, Some("missing_token"));
    assert_eq!(none.reported[0].status, 401);
    let good = engine.check_http(&get("/api/x").header("x-api-key", KEY));
    assert!(good.reported.is_empty());
    assert_eq!(good.principal.map(|p| p.id), Some("svc".to_string()));
}

#[test]
fn the_decision_cache_keeps_what_is_reported() {
    let engine =
        Engine::from_source("shop.warden", POLICY, Options::default().cache_size(64)).unwrap();
    let other = write_order("u1", "u2", false);
    let own = write_order("u1", "u1", false);
    for _ in 0..3 {
        assert_eq!(
            engine.authorize(&other).reported.map(|r| r.rule),
            Some(OWNER_RULE)
        );
        // The rule's read (`resource.owner`) is part of the key: no stale report.
        assert!(engine.authorize(&own).reported.is_none());
    }
    let stats = engine.cache_stats();
    assert_eq!((stats.hits, stats.misses), (4, 2));
}
