//! Data filtering against a real SQLite (bundled): on generated policies and principals,
//! the rows the residual's `WHERE` fragment selects out of 10,000 are exactly the rows
//! `authorize` allows, missing attributes and NULLs included. Also: the seed policies'
//! resource-level rules, and the rules no filter can express.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod filter_support;

use filter_support::{check, column_map, docs, principal, resource, Outcomes, PROJECTS, SELECT};
use proptest::test_runner::{Config, TestRunner};
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use std::collections::BTreeSet;
use warden::filter::{Dialect, Residual, SqlFilter, SqlParam};
use warden::{Attrs, Engine, Options, Principal};

fn database(rows: &[filter_support::Doc]) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE projects (id TEXT PRIMARY KEY, org TEXT);
         CREATE TABLE docs (id TEXT PRIMARY KEY, owner TEXT, level REAL, published INTEGER,
                            title TEXT, status TEXT, project TEXT);
         CREATE TABLE doc_tags (doc_id TEXT NOT NULL, tag TEXT);
         CREATE INDEX doc_tags_doc ON doc_tags (doc_id);",
    )
    .unwrap();
    let tx = db.unchecked_transaction().unwrap();
    for (id, org) in PROJECTS {
        tx.execute("INSERT INTO projects VALUES (?, ?)", (id, org))
            .unwrap();
    }
    {
        let mut ins = tx
            .prepare("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)")
            .unwrap();
        let mut tag = tx.prepare("INSERT INTO doc_tags VALUES (?, ?)").unwrap();
        for d in rows {
            ins.execute((
                &d.id,
                &d.owner,
                d.level,
                d.published,
                &d.title,
                &d.status,
                &d.project,
            ))
            .unwrap();
            for t in &d.tags {
                tag.execute((&d.id, t)).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    db
}

fn bind(p: &SqlParam) -> Sql {
    match p {
        SqlParam::Text(s) => Sql::Text(s.clone()),
        SqlParam::Number(n) => Sql::Real(*n),
        SqlParam::Bool(b) => Sql::Integer(i64::from(*b)),
        SqlParam::Integer(i) => Sql::Integer(*i),
    }
}

fn run(db: &Connection, f: &SqlFilter) -> BTreeSet<String> {
    let sql = format!("{SELECT}{}", f.sql);
    let mut st = db.prepare(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let ids = st
        .query_map(
            rusqlite::params_from_iter(f.params.iter().map(bind)),
            |row| row.get::<_, String>(0),
        )
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    ids.map(Result::unwrap).collect()
}

#[test]
fn generated_policies_filter_exactly_the_allowed_rows() {
    let rows = docs();
    let db = database(&rows);
    let resources: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, d)| resource(d, i))
        .collect();
    let outcomes = std::cell::RefCell::new(Outcomes::default());
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(filter_support::policy(), principal()), |(source, who)| {
            check(
                &source,
                who.as_ref(),
                &resources,
                Dialect::Sqlite,
                &mut |f| run(&db, f),
                &mut outcomes.borrow_mut(),
            )
        })
        .unwrap();
    // The generators reach every kind of residual, and filters that split the table.
    let outcomes = outcomes.into_inner();
    assert!(outcomes.always > 0, "{outcomes:?}");
    assert!(outcomes.never > 0, "{outcomes:?}");
    assert!(outcomes.partial > 50, "{outcomes:?}");
}

/// The coaching app's users: a role ceiling (`resource.role > principal`) and
/// organizations (`resource.org`) over every declared role and a few organizations.
#[test]
fn role_ceilings_and_org_roles_filter_by_enumeration() {
    let src = r#"
policy ceilings
role member
role coach > member
role manager > coach
role owner > manager
grant member: users:read
principal { id: string, roles: set<role>, org_roles: map<string, set<role>>? }
resource user { role: role, org: string }
deny users:read on user if resource.role > principal because "above your role"
allow teams:read on user if principal is manager in resource.org
deny teams:read on user if resource.org == "o3" missing skip
"#;
    let engine = Engine::from_source("c.warden", src, Options::default()).unwrap();
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("CREATE TABLE u (id TEXT PRIMARY KEY, role TEXT, org TEXT);")
        .unwrap();
    let roles = [
        None,
        Some("member"),
        Some("coach"),
        Some("manager"),
        Some("owner"),
        Some("nobody"),
        Some(""),
    ];
    let orgs = [None, Some("o1"), Some("o2"), Some("o3"), Some("o4")];
    let mut resources = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        for (j, o) in orgs.iter().enumerate() {
            let id = format!("u{i}-{j}");
            db.execute("INSERT INTO u VALUES (?, ?, ?)", (&id, r, o))
                .unwrap();
            let mut res = warden::Resource::new("user", id.as_str());
            if let Some(r) = r {
                res = res.attr("role", *r);
            }
            if let Some(o) = o {
                res = res.attr("org", *o);
            }
            resources.push(res);
        }
    }
    let map = warden::filter::ColumnMap::new("u")
        .column("role", "role", warden::filter::ColumnType::String)
        .column("org", "org", warden::filter::ColumnType::String);
    let org_roles = |pairs: &[(&str, &[&str])]| {
        warden::Value::Map(Attrs(
            pairs
                .iter()
                .map(|(o, rs)| ((*o).to_owned(), warden::Value::from(rs.to_vec())))
                .collect(),
        ))
    };
    let people = [
        Some(Principal::new("a").role("coach")),
        Some(Principal::new("b").role("manager").role("member")),
        Some(Principal::new("c")),
        None,
        Some(Principal::new("d").attr(
            "org_roles",
            org_roles(&[
                ("o1", &["manager"]),
                ("o2", &["member"]),
                ("o3", &["owner"]),
            ]),
        )),
        Some(Principal::new("e").attr("org_roles", org_roles(&[("o1", &["ghost"])]))),
    ];
    for action in ["users:read", "teams:read"] {
        for who in &people {
            let r = engine
                .residual(action, "user", who.as_ref(), &Attrs::new())
                .unwrap();
            let f = r.to_sql(&map, Dialect::Sqlite, 1).unwrap();
            let mut st = db
                .prepare(&format!("SELECT id FROM u WHERE {}", f.sql))
                .unwrap();
            let got: BTreeSet<String> = st
                .query_map(
                    rusqlite::params_from_iter(f.params.iter().map(bind)),
                    |row| row.get(0),
                )
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let want: BTreeSet<String> = resources
                .iter()
                .filter(|res| {
                    let mut req = warden::Request::new(action).resource((*res).clone());
                    req.principal = who.clone();
                    engine.authorize(&req).allowed
                })
                .map(|res| res.id.clone())
                .collect();
            assert_eq!(got, want, "{action} {who:?}: {}", r.to_json());
        }
    }
}

#[test]
fn rules_no_filter_can_express_name_the_rule() {
    let src = r#"
policy p
role member
grant member: docs:read
deny docs:read on doc unless resource.slug matches /^[a-z]+$/
allow files:read on file if resource.size - 10 > 3
resource doc { slug: string }
resource file { size: number }
"#;
    let engine = Engine::from_source("p.warden", src, Options::default()).unwrap();
    let me = Principal::new("u1").role("member");
    let err = engine
        .residual("docs:read", "doc", Some(&me), &Attrs::new())
        .unwrap_err();
    assert_eq!(err.rule, "p.warden:5");
    assert!(err.to_string().contains("regular expression"), "{err}");
    let err = engine
        .residual("files:read", "file", Some(&me), &Attrs::new())
        .unwrap_err();
    assert_eq!(err.rule, "p.warden:6");
    // A rule that cannot filter does not matter where another settles the answer:
    // no permit at all for the anonymous caller.
    assert_eq!(
        engine.residual("docs:read", "doc", None, &Attrs::new()),
        Ok(Residual::Never)
    );
}

#[test]
fn secrets_never_go_into_a_filter() {
    let src = r#"
policy p
role member
grant member: docs:read
deny docs:read on doc unless resource.token == secret(TOKEN)
resource doc { token: string }
"#;
    let engine = Engine::from_source(
        "p.warden",
        src,
        Options::default().secret("TOKEN", "s3cr3t-value-long-enough"),
    )
    .unwrap();
    let me = Principal::new("u1").role("member");
    let err = engine
        .residual("docs:read", "doc", Some(&me), &Attrs::new())
        .unwrap_err();
    assert!(err.to_string().contains("secret"), "{err}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
}

#[test]
fn unmapped_attributes_are_an_error_not_a_filter() {
    let src = "policy p\nrole m\ngrant m: a\nresource doc { owner: string }\ndeny a on doc unless resource.owner == principal.id\n";
    let engine = Engine::from_source("p.warden", src, Options::default()).unwrap();
    let me = Principal::new("u1").role("m");
    let r = engine
        .residual("a", "doc", Some(&me), &Attrs::new())
        .unwrap();
    let err = r
        .to_sql(&warden::filter::ColumnMap::new("docs"), Dialect::Sqlite, 1)
        .unwrap_err();
    assert!(err.to_string().contains("resource.owner"), "{err}");
    // The fragment quotes identifiers and carries the value as a parameter.
    let f = r.to_sql(&column_map(), Dialect::Postgres, 3).unwrap();
    assert_eq!(
        f.sql,
        "(\"d\".\"owner\" IS NOT NULL AND \"d\".\"owner\" = $3)"
    );
    assert_eq!(f.params, vec![SqlParam::Text("u1".into())]);
}

#[test]
fn the_json_entry_point_reads_requests_as_authorize_does() {
    use serde_json::json;
    use warden::filter::{residual_json, FilterError};
    let src = "policy p\nrole m\ngrant m: a\nresource doc { owner: string }\n\
               deny a on doc unless resource.owner == principal.id\n";
    let engine = Engine::from_source("p.warden", src, Options::default()).unwrap();
    let out = residual_json(
        &engine,
        &json!({
            "action": "a", "resource_type": "doc",
            "principal": {"id": "u1", "roles": ["m"]},
            "sql": {"dialect": "sqlite", "columns": {"table": "docs", "columns": {
                "owner": {"column": "owner_id", "type": "string"}}}}
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "residual": {"kind": "conditional",
                         "condition": {"cmp": {"attr": "owner", "op": "eq", "value": "u1"}}},
            "sql": "(\"docs\".\"owner_id\" IS NOT NULL AND \"docs\".\"owner_id\" = ?)",
            "params": ["u1"]
        })
    );
    // Anonymous: no grant, nothing allowed.
    let out = residual_json(&engine, &json!({"action": "a", "resource_type": "doc"})).unwrap();
    assert_eq!(out, json!({"residual": {"kind": "never"}}));
    for bad in [
        json!([]),
        json!({"action": "a"}),
        json!({"action": "a", "resource_type": "doc", "principal": {"roles": "m"}}),
        json!({"action": "a", "resource_type": "doc", "extra": 1}),
        json!({"action": "a", "resource_type": "doc", "sql": {"dialect": "oracle", "columns": {"table": "t", "columns": {}}}}),
    ] {
        assert!(
            matches!(residual_json(&engine, &bad), Err(FilterError::Request(_))),
            "{bad}"
        );
    }
}
