//! Data filtering against a real PostgreSQL server: the same 10,000 rows, generated
//! policies and principals as `filter_sqlite.rs`, in the PostgreSQL dialect.
//!
//! The server comes from `scripts/with-postgres.sh` (`WARDEN_PG_URL`). Without it the
//! test says SKIPPED on stderr and passes, unless `CI=true`, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod filter_support;

use filter_support::{check, docs, principal, resource, Outcomes, PROJECTS, SELECT};
use postgres::types::ToSql;
use postgres::{Client, NoTls};
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeSet;
use std::io::Write;
use warden::filter::{Dialect, SqlFilter, SqlParam};

fn pg_url() -> Option<String> {
    match std::env::var("WARDEN_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but WARDEN_PG_URL is unset: run under scripts/with-postgres.sh")
        }
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL filter tests need a server; set WARDEN_PG_URL \
                 (or run under scripts/with-postgres.sh)"
            );
            None
        }
    }
}

fn database(url: &str, rows: &[filter_support::Doc]) -> Client {
    let mut db = Client::connect(url, NoTls).unwrap();
    // A schema of its own, so that runs sharing a server do not collide.
    let schema = format!("warden_filter_{}", std::process::id());
    db.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema};
         CREATE TABLE projects (id TEXT PRIMARY KEY, org TEXT);
         CREATE TABLE docs (id TEXT PRIMARY KEY, owner TEXT, level DOUBLE PRECISION,
                            published BOOLEAN, title TEXT, status TEXT, project TEXT);
         CREATE TABLE doc_tags (doc_id TEXT NOT NULL, tag TEXT);
         CREATE INDEX doc_tags_doc ON doc_tags (doc_id);"
    ))
    .unwrap();
    let mut tx = db.transaction().unwrap();
    for (id, org) in PROJECTS {
        tx.execute("INSERT INTO projects VALUES ($1, $2)", &[&id, &org])
            .unwrap();
    }
    let ins = tx
        .prepare("INSERT INTO docs VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .unwrap();
    let tag = tx.prepare("INSERT INTO doc_tags VALUES ($1, $2)").unwrap();
    for d in rows {
        tx.execute(
            &ins,
            &[
                &d.id,
                &d.owner,
                &d.level,
                &d.published,
                &d.title,
                &d.status,
                &d.project,
            ],
        )
        .unwrap();
        for t in &d.tags {
            tx.execute(&tag, &[&d.id, t]).unwrap();
        }
    }
    tx.commit().unwrap();
    db.batch_execute("ANALYZE").unwrap();
    db
}

fn run(db: &mut Client, f: &SqlFilter) -> BTreeSet<String> {
    let sql = format!("{SELECT}{}", f.sql);
    let ints: Vec<i32> = f
        .params
        .iter()
        .map(|p| match p {
            SqlParam::Integer(i) => i32::try_from(*i).unwrap(),
            _ => 0,
        })
        .collect();
    let params: Vec<&(dyn ToSql + Sync)> = f
        .params
        .iter()
        .zip(&ints)
        .map(|(p, i)| -> &(dyn ToSql + Sync) {
            match p {
                SqlParam::Text(s) => s,
                SqlParam::Number(n) => n,
                SqlParam::Bool(b) => b,
                SqlParam::Integer(_) => i,
            }
        })
        .collect();
    db.query(&sql, &params)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}

#[test]
fn generated_policies_filter_exactly_the_allowed_rows_in_postgres() {
    let Some(url) = pg_url() else { return };
    let rows = docs();
    let db = database(&url, &rows);
    let resources: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, d)| resource(d, i))
        .collect();
    let outcomes = std::cell::RefCell::new(Outcomes::default());
    let db = std::cell::RefCell::new(db);
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(filter_support::policy(), principal()), |(source, who)| {
            check(
                &source,
                who.as_ref(),
                &resources,
                Dialect::Postgres,
                &mut |f| run(&mut db.borrow_mut(), f),
                &mut outcomes.borrow_mut(),
            )
        })
        .unwrap();
    let outcomes = outcomes.into_inner();
    let mut db = db.into_inner();
    assert!(outcomes.always > 0, "{outcomes:?}");
    assert!(outcomes.never > 0, "{outcomes:?}");
    assert!(outcomes.partial > 30, "{outcomes:?}");
    let schema = format!("warden_filter_{}", std::process::id());
    db.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
