//! `warden eval` with `report_only` policies and `--candidate FILE`: reported refusals
//! in the decision JSON, the decision log and the metrics; a candidate's
//! disagreements, and only those, in the log with its answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

const LIVE: &str = r#"policy shop
role member
role admin > member
grant member: orders:read
deny orders:read if principal.id == "banned" because "banned" report_only
route /admin/** {
  require role admin report_only
}
"#;

/// Refuses `/admin/**` to members, and lets them write orders.
const CANDIDATE: &str = r#"policy shop
role member
role admin > member
grant member: orders:read, orders:write
route /admin/** {
  require role admin
}
"#;

struct Dir(std::path::PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("warden-rollout-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn requests() -> String {
    [
        r#"{"principal": {"id": "banned", "roles": ["member"]}, "action": "orders:read"}"#,
        r#"{"principal": {"id": "u1", "roles": ["member"]}, "action": "orders:read"}"#,
        r#"{"principal": {"id": "u1", "roles": ["member"]}, "action": "orders:write"}"#,
        r#"{"method": "GET", "path": "/admin/users", "principal": {"id": "u1", "roles": ["member"]}}"#,
        r#"{"method": "GET", "path": "/admin/users", "principal": {"id": "a", "roles": ["admin"]}}"#,
    ]
    .join("\n")
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn report_only_refusals_are_reported_and_never_enforced() {
    let dir = Dir::new("report");
    let policy = dir.write("shop.warden", LIVE);
    let log = dir.0.join("decisions.jsonl");
    let (code, out, err) = support::eval_with(
        &[
            "--policy",
            &policy,
            "--decision-log",
            log.to_str().unwrap(),
            "--metrics",
        ],
        &requests(),
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    let decisions = json_lines(&out);
    let allowed: Vec<bool> = decisions.iter().map(|d| d["allowed"] == true).collect();
    assert_eq!(allowed, [true, true, false, true, true]);
    assert_eq!(
        decisions[0]["reported"],
        serde_json::json!([{ "rule": format!("{policy}:5"), "status": 403, "reason": "banned" }])
    );
    assert_eq!(decisions[3]["reported"][0]["rule"], format!("{policy}:7"));
    assert_eq!(decisions[3]["reported"][0]["status"], 403);
    for i in [1, 2, 4] {
        assert!(decisions[i].get("reported").is_none(), "{}", decisions[i]);
    }
    let logged = json_lines(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(logged.len(), 5);
    assert_eq!(logged[0]["reported"][0]["rule"], format!("{policy}:5"));
    assert_eq!(logged[3]["reported"][0]["rule"], format!("{policy}:7"));
    assert!(err.contains(&format!(
        "warden_report_only_total{{rule=\"{policy}:5\"}} 1"
    )));
    assert!(err.contains(&format!(
        "warden_report_only_total{{rule=\"{policy}:7\"}} 1"
    )));
}

#[test]
fn a_candidate_s_disagreements_are_logged_and_counted() {
    let dir = Dir::new("candidate");
    let policy = dir.write("shop.warden", LIVE);
    let candidate = dir.write("next.warden", CANDIDATE);
    let log = dir.0.join("decisions.jsonl");
    let (code, out, err) = support::eval_with(
        &[
            "--policy",
            &policy,
            "--candidate",
            &candidate,
            "--decision-log",
            log.to_str().unwrap(),
            "--metrics",
        ],
        &requests(),
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    // The live policy answers.
    let allowed: Vec<bool> = json_lines(&out)
        .iter()
        .map(|d| d["allowed"] == true)
        .collect();
    assert_eq!(allowed, [true, true, false, true, true]);
    let logged = json_lines(&std::fs::read_to_string(&log).unwrap());
    let disagreeing: Vec<usize> = (0..logged.len())
        .filter(|&i| logged[i].get("candidate").is_some())
        .collect();
    assert_eq!(disagreeing, [2, 3]);
    assert_eq!(logged[2]["candidate"]["outcome"], "allow");
    assert_eq!(logged[2]["candidate"]["rules"][0], format!("{candidate}:4"));
    assert_eq!(logged[3]["candidate"]["status"], 403);
    assert_eq!(logged[3]["candidate"]["rules"][0], format!("{candidate}:6"));
    assert!(
        err.contains("warden_candidate_disagreements_total 2"),
        "{err}"
    );

    // Without a log or metrics there is nowhere to report to.
    let (code, _, err) = support::eval_with(
        &["--policy", &policy, "--candidate", &candidate],
        &requests(),
        |_| {},
    );
    assert_eq!(code, 2);
    assert!(err.contains("needs a decision log or metrics"), "{err}");
    // A candidate that does not load is a policy error.
    let broken = dir.write("broken.warden", "policy shop\ngrant nobody: x\n");
    let (code, _, err) = support::eval_with(
        &["--policy", &policy, "--candidate", &broken, "--metrics"],
        &requests(),
        |_| {},
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("broken.warden"), "{err}");
}
