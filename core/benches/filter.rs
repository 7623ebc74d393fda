//! Data filtering: residual computation on the seed policies, and a list query of the
//! 1,000 allowed rows out of 100,000 (SQLite, bundled, in memory): filter in SQL vs.
//! load every row and `authorize` it, in the same run.
//!
//! Run: `cargo bench -p warden-policy --bench filter`. Prints the load-and-authorize / filter
//! ratio after criterion's groups.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "bench"
)]

use criterion::{black_box, Criterion};
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use std::time::{Duration, Instant};
use warden::filter::{ColumnMap, ColumnType, Dialect, SqlParam};
use warden::{Attrs, Engine, Options, Principal, Request, Resource, Value};

/// A seed policy, loaded with the env, secrets and settings of its `.test.toml`.
fn seed(name: &str) -> Engine {
    let dir = format!("{}/../policies", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(format!("{dir}/{name}.test.toml")).expect("test file");
    let mut opts = Options {
        secrets_from_env: false,
        ..Options::default()
    };
    let file: toml::Table = toml::from_str(&text).expect("the test file is TOML");
    let strings = |table: &str| -> Vec<(String, String)> {
        file.get(table)
            .and_then(toml::Value::as_table)
            .map(|t| {
                t.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (k, v) in strings("secrets") {
        opts = opts.secret(&k, v);
    }
    for (k, v) in strings("config") {
        opts = opts.config(&k, &v);
    }
    if let Some(env) = file.get("env").and_then(toml::Value::as_str) {
        opts = opts.env(env);
    }
    Engine::from_file(format!("{dir}/{name}.warden"), opts).expect("seed policy loads")
}

fn residuals(c: &mut Criterion) {
    let org_roles = Value::Map(Attrs::new().with("o1", vec!["manager"]));
    let cases: Vec<(&str, Engine, &str, &str, Principal)> = vec![
        (
            "coaching-app users:read (org + role ceiling)",
            seed("coaching-app"),
            "users:read",
            "user",
            Principal::new("u1")
                .role("manager")
                .attr("org", "o1")
                .attr("org_roles", org_roles),
        ),
        (
            "coaching-app files:attach (participants + org)",
            seed("coaching-app"),
            "files:attach",
            "mentorship",
            Principal::new("u1").role("manager").attr("org", "o1"),
        ),
        (
            "lumiere earnings:view (owner)",
            seed("lumiere"),
            "earnings:view",
            "earnings",
            Principal::new("u1").role("CONTRIBUTOR"),
        ),
        (
            "security-patterns posts:write (author)",
            seed("security-patterns"),
            "posts:write",
            "post",
            Principal::new("u1").role("editor"),
        ),
        (
            "nestflux users:read (self)",
            seed("nestflux"),
            "users:read",
            "user",
            Principal::new("u1").role("user"),
        ),
    ];
    let mut g = c.benchmark_group("residual");
    for (name, engine, action, ty, who) in &cases {
        let r = engine.residual(action, ty, Some(who), &Attrs::new());
        eprintln!(
            "{name}: {}",
            r.as_ref()
                .map_or_else(|e| e.to_string(), |r| r.to_json().to_string())
        );
        g.bench_function(*name, |b| {
            b.iter(|| {
                black_box(
                    engine
                        .residual(action, ty, Some(black_box(who)), &Attrs::new())
                        .is_ok(),
                )
            })
        });
    }
    g.finish();
}

const ROWS: usize = 100_000;
const AUTHORS: usize = 100;

/// 100,000 posts by 100 authors: 1,000 each.
fn posts(indexed: bool) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("CREATE TABLE posts (id TEXT PRIMARY KEY, author TEXT, title TEXT)")
        .unwrap();
    if indexed {
        db.execute_batch("CREATE INDEX posts_author ON posts (author)")
            .unwrap();
    }
    let tx = db.unchecked_transaction().unwrap();
    {
        let mut ins = tx.prepare("INSERT INTO posts VALUES (?, ?, ?)").unwrap();
        for i in 0..ROWS {
            ins.execute((format!("p{i}"), format!("u{}", i % AUTHORS), "hello"))
                .unwrap();
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

/// Residual + fragment + query: the list endpoint with the filter in SQL.
fn filter_in_sql(engine: &Engine, db: &Connection, who: &Principal, map: &ColumnMap) -> usize {
    let r = engine
        .residual("posts:write", "post", Some(who), &Attrs::new())
        .unwrap();
    let f = r.to_sql(map, Dialect::Sqlite, 1).unwrap();
    let mut st = db
        .prepare_cached(&format!(
            "SELECT id, author, title FROM posts WHERE {}",
            f.sql
        ))
        .unwrap();
    let rows = st
        .query_map(
            rusqlite::params_from_iter(f.params.iter().map(bind)),
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                ))
            },
        )
        .unwrap();
    rows.filter(Result::is_ok).count()
}

/// Load every row, build its resource, keep what `authorize` allows.
fn load_and_authorize(engine: &Engine, db: &Connection, who: &Principal) -> usize {
    let mut st = db
        .prepare_cached("SELECT id, author, title FROM posts")
        .unwrap();
    let mut req = Request::new("posts:write").principal(who.clone());
    let rows = st
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .unwrap();
    let mut n = 0;
    for row in rows {
        let (id, author, _title) = row.unwrap();
        let mut res = Resource::new("post", id);
        if let Some(a) = author {
            res = res.attr("author", a);
        }
        req.resource = Some(res);
        n += usize::from(engine.authorize(&req).allowed);
    }
    n
}

fn list_query(c: &mut Criterion) {
    let engine = seed("security-patterns");
    let who = Principal::new("u7").role("editor");
    let map = ColumnMap::new("posts").column("author", "author", ColumnType::String);
    let indexed = posts(true);
    let scan = posts(false);
    assert_eq!(filter_in_sql(&engine, &indexed, &who, &map), 1000);
    assert_eq!(filter_in_sql(&engine, &scan, &who, &map), 1000);
    assert_eq!(load_and_authorize(&engine, &scan, &who), 1000);

    let mut g = c.benchmark_group("list 1,000 of 100,000 posts (SQLite)");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("filter in SQL, author indexed", |b| {
        b.iter(|| black_box(filter_in_sql(&engine, &indexed, &who, &map)))
    });
    g.bench_function("filter in SQL, full scan", |b| {
        b.iter(|| black_box(filter_in_sql(&engine, &scan, &who, &map)))
    });
    g.bench_function("load all and authorize each", |b| {
        b.iter(|| black_box(load_and_authorize(&engine, &scan, &who)))
    });
    g.finish();

    // The same three, interleaved, for the ratio of one run.
    let time = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        for _ in 0..10 {
            black_box(f());
        }
        t.elapsed() / 10
    };
    let (mut a, mut s, mut l) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for _ in 0..3 {
        a += time(&|| filter_in_sql(&engine, &indexed, &who, &map));
        s += time(&|| filter_in_sql(&engine, &scan, &who, &map));
        l += time(&|| load_and_authorize(&engine, &scan, &who));
    }
    eprintln!(
        "list 1,000 of 100,000: filter (indexed) {:?}, filter (scan) {:?}, load+authorize {:?}; \
         load+authorize / filter = {:.1}x (indexed), {:.1}x (scan)",
        a / 3,
        s / 3,
        l / 3,
        l.as_secs_f64() / a.as_secs_f64(),
        l.as_secs_f64() / s.as_secs_f64(),
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    residuals(&mut c);
    list_query(&mut c);
    c.final_summary();
}
