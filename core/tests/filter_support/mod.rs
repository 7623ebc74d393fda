//! Shared by the data-filter differential tests (SQLite and PostgreSQL): a table of
//! 10,000 generated documents with missing attributes and NULLs, generated policies and
//! principals, and the check that the filter's rows are exactly the rows `authorize`
//! allows.

use proptest::prelude::*;
use std::collections::BTreeSet;
use warden::filter::{ColumnMap, ColumnType, Residual, SqlFilter};
use warden::{Attrs, Engine, Options, Principal, Request, Resource, Value};

pub const ROWS: usize = 10_000;

/// One document row; `None` is SQL NULL.
#[derive(Debug, Clone)]
pub struct Doc {
    pub id: String,
    pub owner: Option<String>,
    pub level: Option<f64>,
    pub published: Option<bool>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub project: Option<String>,
    pub tags: Vec<String>,
}

/// Projects and their organizations (`p5` has none; `p9`, which documents refer to,
/// does not exist: the LEFT JOIN gives NULL).
pub const PROJECTS: [(&str, Option<&str>); 5] = [
    ("p1", Some("o1")),
    ("p2", Some("o2")),
    ("p3", Some("o1")),
    ("p4", Some("o3")),
    ("p5", None),
];

/// A small deterministic generator (xorshift64*), so both databases get the same rows.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    /// `None` one time in `n`.
    fn maybe<T: Clone>(&mut self, n: u64, xs: &[T]) -> Option<T> {
        if self.next().is_multiple_of(n) {
            None
        } else {
            Some(self.pick(xs).clone())
        }
    }
}

pub fn docs() -> Vec<Doc> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let owners = s(&["u1", "u2", "u3", "u4"]);
    let titles = s(&[
        "alpha",
        "beta",
        "alphabet",
        "report-2024",
        "Report",
        "",
        "a",
        "draft-x",
        "élan",
    ]);
    let statuses = s(&["draft", "live", "archived"]);
    let projects = s(&["p1", "p2", "p3", "p4", "p5", "p9"]);
    let tags = s(&["t1", "t2", "u1", "u2"]);
    (0..ROWS)
        .map(|i| Doc {
            id: format!("d{i}"),
            owner: r.maybe(5, &owners),
            level: r.maybe(5, &[0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0, -1.0]),
            published: r.maybe(4, &[true, false]),
            title: r.maybe(5, &titles),
            status: r.maybe(4, &statuses),
            project: r.maybe(5, &projects),
            tags: (0..r.next() % 4).map(|_| r.pick(&tags).clone()).collect(),
        })
        .collect()
}

/// The resource `authorize` sees for a row: NULL columns are absent attributes on even
/// rows and explicit nulls on odd rows (both are missing); the list is always present.
pub fn resource(d: &Doc, index: usize) -> Resource {
    let mut attrs = Attrs::new();
    let mut put = |name: &str, v: Option<Value>| match v {
        Some(v) => {
            attrs.set(name, v);
        }
        None if index % 2 == 1 => {
            attrs.set(name, Value::Null);
        }
        None => {}
    };
    put("owner", d.owner.clone().map(Value::String));
    put("level", d.level.map(Value::Number));
    put("published", d.published.map(Value::Bool));
    put("title", d.title.clone().map(Value::String));
    put("status", d.status.clone().map(Value::String));
    let org = d.project.as_deref().and_then(|p| {
        PROJECTS
            .iter()
            .find(|(id, _)| *id == p)
            .and_then(|(_, o)| o.map(|o| Value::String(o.to_owned())))
    });
    put("org", org);
    attrs.set(
        "tags",
        Value::List(d.tags.iter().cloned().map(Value::String).collect()),
    );
    let mut r = Resource::new("doc", d.id.as_str());
    r.attrs = attrs;
    r
}

/// The column map both databases use: documents `d`, projects `p` joined for `org`,
/// tags as rows of `doc_tags`.
pub fn column_map() -> ColumnMap {
    ColumnMap::new("d")
        .column("id", "id", ColumnType::String)
        .column("owner", "owner", ColumnType::String)
        .column("level", "level", ColumnType::Number)
        .column("published", "published", ColumnType::Boolean)
        .column("title", "title", ColumnType::String)
        .column("status", "status", ColumnType::String)
        .joined("org", "p", "org", ColumnType::String)
        .list(
            "tags",
            "doc_tags",
            "doc_id",
            "id",
            "tag",
            ColumnType::String,
        )
}

/// The query the filter completes.
pub const SELECT: &str =
    "SELECT d.id FROM docs AS d LEFT JOIN projects AS p ON p.id = d.project WHERE ";

/// Conditions over resource attributes, well- and ill-typed, with `??`, `if`, roles and
/// attributes a principal may lack.
const ATOMS: &[&str] = &[
    "resource.owner == principal.id",
    "resource.owner != principal.id",
    "resource.owner == \"u1\"",
    "resource.owner in [\"u1\", \"u2\"]",
    "resource.owner in principal.friends",
    "resource.level > 2",
    "resource.level <= principal.level",
    "resource.level >= 2.5",
    "principal.level < resource.level",
    "resource.level == 2",
    "resource.level in [1, 5]",
    "resource.published",
    "resource.published == true",
    "resource.published != false",
    "not resource.published",
    "resource.title starts_with \"alpha\"",
    "resource.title ends_with \"bet\"",
    "resource.title contains \"ph\"",
    "resource.title starts_with \"\"",
    "resource.title contains principal.team",
    "resource.title ends_with \"lan\"",
    "resource.status == \"live\"",
    "resource.status in [\"draft\", \"live\"]",
    "resource.status == principal.team",
    "resource.org == principal.org",
    "resource.org != \"o2\"",
    "principal.id in resource.tags",
    "resource.tags contains \"t1\"",
    "resource.tags contains principal.team",
    "principal is admin",
    "principal.level > 3",
    "(resource.owner ?? principal.id) == principal.id",
    "(resource.level ?? 0) < 3",
    "resource.id == \"d7\"",
    "resource.id starts_with \"d1\"",
    "(if resource.published then resource.level > 1 else resource.owner == principal.id)",
    "((resource.status == \"live\") ?? false)",
];

fn expr() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(ATOMS).prop_map(str::to_owned);
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("not ({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a} or {b})")),
        ]
    })
}

fn rule() -> impl Strategy<Value = String> {
    (any::<bool>(), any::<bool>(), 0..3u8, any::<bool>(), expr()).prop_map(
        |(allow, unless, missing, on, e)| {
            let effect = if allow { "allow" } else { "deny" };
            let kind = if unless { "unless" } else { "if" };
            let on = if on { " on doc" } else { " on doc, note" };
            let missing = match (allow, missing) {
                (false, 1) => " missing skip",
                (false, 2) => " missing deny",
                _ => "",
            };
            format!("{effect} docs:read{on} {kind} {e}{missing}")
        },
    )
}

/// Rules are type-checked against these; requests may still disagree (a principal's
/// `level` given as a string is missing at run time).
const SHAPES: &str = "principal { id: string, roles: set<role>, level: number?, org: string?, \
    team: string?, friends: set<string>? }
resource doc { owner: string?, level: number?, published: bool?, title: string?, \
    status: string?, org: string?, tags: set<string> }
resource note { owner: string?, level: number?, published: bool?, title: string?, \
    status: string?, org: string?, tags: set<string> }
";

/// A policy: three roles, a grant or not, one to four rules.
pub fn policy() -> impl Strategy<Value = String> {
    (
        0..3u8,
        proptest::collection::vec(rule(), 1..5),
    )
        .prop_map(|(grant, rules)| {
            let grant = match grant {
                0 => "grant admin: docs:read\n",
                1 => "grant viewer: docs:*\n",
                _ => "",
            };
            format!(
                "policy gen\nrole viewer\nrole editor > viewer\nrole admin > editor\n{SHAPES}{grant}{}\n",
                rules.join("\n")
            )
        })
}

/// A principal, or anonymous; attributes present, missing or of another kind.
pub fn principal() -> impl Strategy<Value = Option<Principal>> {
    let roles = proptest::sample::subsequence(vec!["viewer", "editor", "admin", "ghost"], 0..3);
    let level = prop_oneof![
        Just(None),
        (0..6u8).prop_map(|n| Some(Value::Number(f64::from(n)))),
        Just(Some(Value::String("3".into()))),
    ];
    let org = proptest::sample::select(vec![None, Some("o1"), Some("o2"), Some("o3")]);
    let team = proptest::sample::select(vec![None, Some("live"), Some("ph"), Some("t2"), Some("")]);
    let friends = proptest::sample::select(vec![None, Some(vec!["u2", "u3"]), Some(vec![])]);
    (
        0..10u8,
        proptest::sample::select(vec!["u1", "u2", "u3", "u4"]),
        roles,
        level,
        org,
        team,
        friends,
    )
        .prop_map(|(anon, id, roles, level, org, team, friends)| {
            if anon == 0 {
                return None;
            }
            let mut p = Principal::new(id);
            p.roles = roles.into_iter().map(str::to_owned).collect();
            if let Some(l) = level {
                p.attrs.set("level", l);
            }
            if let Some(o) = org {
                p.attrs.set("org", o);
            }
            if let Some(t) = team {
                p.attrs.set("team", t);
            }
            if let Some(f) = friends {
                p.attrs.set("friends", f);
            }
            Some(p)
        })
}

/// The ids `authorize` allows, one request per row.
pub fn allowed(
    engine: &Engine,
    principal: Option<&Principal>,
    rows: &[Resource],
) -> BTreeSet<String> {
    let mut req = Request::new("docs:read");
    req.principal = principal.cloned();
    let mut out = BTreeSet::new();
    for r in rows {
        req.resource = Some(r.clone());
        if engine.authorize(&req).allowed {
            out.insert(r.id.clone());
        }
    }
    out
}

/// How the residuals of a run came out: every kind must occur.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub always: usize,
    pub never: usize,
    /// Conditional, selecting some rows but not all.
    pub partial: usize,
    pub conditional: usize,
}

/// One case: the policy's residual for the principal, run as SQL by `query`, must
/// select exactly the rows `authorize` allows (and so must the residual in memory).
pub fn check(
    source: &str,
    principal: Option<&Principal>,
    rows: &[Resource],
    dialect: warden::filter::Dialect,
    query: &mut dyn FnMut(&SqlFilter) -> BTreeSet<String>,
    outcomes: &mut Outcomes,
) -> Result<(), TestCaseError> {
    let engine = match Engine::from_source("gen.warden", source, Options::default()) {
        Ok(e) => e,
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "policy does not load: {e}\n{source}"
            )))
        }
    };
    let residual = engine
        .residual("docs:read", "doc", principal, &Attrs::new())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{source}")))?;
    let want = allowed(&engine, principal, rows);
    let sql = residual
        .to_sql(&column_map(), dialect, 1)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let got = query(&sql);
    let in_memory: BTreeSet<String> = rows
        .iter()
        .filter(|r| residual.matches(r))
        .map(|r| r.id.clone())
        .collect();
    match &residual {
        Residual::Always => outcomes.always += 1,
        Residual::Never => outcomes.never += 1,
        Residual::Conditional { .. } => {
            outcomes.conditional += 1;
            if !want.is_empty() && want.len() < rows.len() {
                outcomes.partial += 1;
            }
        }
    }
    if got != want || in_memory != want {
        let only_sql: Vec<_> = got.difference(&want).take(5).collect();
        let only_authz: Vec<_> = want.difference(&got).take(5).collect();
        return Err(TestCaseError::fail(format!(
            "filter and authorize disagree\npolicy:\n{source}\nprincipal: {principal:?}\n\
             residual: {}\nsql: {}\nparams: {:?}\nselected but denied: {only_sql:?}\n\
             allowed but not selected: {only_authz:?}\nin memory agrees: {}",
            residual.to_json(),
            sql.sql,
            sql.params,
            in_memory == want,
        )));
    }
    Ok(())
}
