//! Borrowed requests (`RequestRef`, `Engine::authorize_ref`) and request JSON text
//! (`Engine::authorize_json_str` / `_bytes`) against the existing paths: the same
//! decisions as `authorize(&Request)` and `authorize_json(&Value)` on the docs-app
//! workload and on edge cases, and the same errors as `authorize_json` on the parsed
//! text for malformed requests (text that is not JSON is an error on both sides).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "../benches/docs_app.rs"]
mod docs_app;

use serde_json::{json, Value as Json};
use std::borrow::Cow;
use warden::{
    AttrsRef, Decision, Engine, Options, PrincipalRef, Request, RequestError, RequestRef,
    ResourceRef, Value, ValueRef,
};

fn docs_engine(cache: usize) -> Engine {
    Engine::from_source(
        "docs-app.warden",
        docs_app::POLICY,
        docs_app::options().cache_size(cache),
    )
    .unwrap()
}

/// The reference for JSON text: `serde_json` parses it into a `Value`, then
/// `authorize_json`. `Err(None)`: the text is not JSON.
fn reference<'e>(e: &'e Engine, text: &str) -> Result<Decision<'e>, Option<RequestError>> {
    match serde_json::from_str::<Json>(text) {
        Err(_) => Err(None),
        Ok(v) => e.authorize_json(&v).map_err(Some),
    }
}

/// The text path (both entry points) against the reference: the same decision, the same
/// error, or for text that is not JSON an "invalid JSON" error. Returns the decision.
fn same_text(e: &Engine, text: &str) -> Option<bool> {
    let ours = e.authorize_json_str(text);
    assert_eq!(ours, e.authorize_json_bytes(text.as_bytes()), "{text}");
    match (reference(e, text), ours) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{text}");
            // The request read from text converts to the owned request `from_json` gives.
            let v: Json = serde_json::from_str(text).unwrap();
            let q = RequestRef::from_json_str(text).unwrap();
            assert_eq!(
                sorted(q.to_request()),
                sorted(Request::from_json(&v).unwrap()),
                "{text}"
            );
            Some(a.allowed)
        }
        (Err(Some(a)), Err(b)) => {
            assert_eq!(a, b, "{text}");
            None
        }
        (Err(None), Err(b)) => {
            assert!(b.message.starts_with("invalid JSON: "), "{text}: {b}");
            None
        }
        (a, b) => panic!("{text}: reference {a:?}, from text {b:?}"),
    }
}

/// Attributes in name order: a parsed `Value`'s objects are sorted maps, text is read in
/// its own order, and the order never changes a decision.
fn sorted(mut q: Request) -> Request {
    let sort = |a: &mut warden::Attrs| a.0.sort_by(|x, y| x.0.cmp(&y.0));
    if let Some(p) = &mut q.principal {
        sort(&mut p.attrs);
    }
    if let Some(r) = &mut q.resource {
        sort(&mut r.attrs);
    }
    sort(&mut q.context);
    q
}

#[test]
fn borrowed_and_text_paths_decide_the_docs_app_workload_like_built_requests() {
    let world = docs_app::world(10_000);
    let rows = docs_app::cold_rows(20_000);
    for cache in [0, 1000] {
        let e = docs_engine(cache);
        let mut allowed = 0;
        for c in &world.cases {
            let built = e.authorize(&world.request(c));
            let r = world.request_ref(c);
            assert_eq!(e.authorize_ref(&r), built, "{c:?}");
            assert_eq!(r.to_request(), world.request(c), "{c:?}");
            assert_eq!(e.authorize_ref(&RequestRef::from(&world.request(c))), built);
            let text = world.json_text(c);
            assert_eq!(e.authorize_json_str(&text), Ok(built), "{text}");
            assert_eq!(e.authorize_json_bytes(text.as_bytes()), Ok(built), "{text}");
            assert_eq!(e.authorize_json(&world.json(c)), Ok(built), "{text}");
            allowed += usize::from(built.allowed);
        }
        assert!(allowed > 2_000 && allowed < 8_000, "{allowed}");
        for row in &rows {
            let built = e.authorize(&row.request());
            assert_eq!(e.authorize_ref(&row.request_ref()), built, "{row:?}");
            assert_eq!(built.allowed, row.hand(), "{row:?}");
            let text = docs_app::json_of(&row.request()).to_string();
            assert_eq!(e.authorize_json_str(&text), Ok(built), "{text}");
        }
    }
}

#[test]
fn an_observed_engine_logs_borrowed_and_text_requests_like_built_ones() {
    let metrics = std::sync::Arc::new(warden::metrics::Metrics::new());
    let e = Engine::from_source(
        "docs-app.warden",
        docs_app::POLICY,
        docs_app::options().metrics(std::sync::Arc::clone(&metrics)),
    )
    .unwrap();
    let world = docs_app::world(200);
    let mut allowed = 0;
    for c in &world.cases {
        let built = e.authorize(&world.request(c));
        assert_eq!(e.authorize_ref(&world.request_ref(c)), built);
        assert_eq!(e.authorize_json_str(&world.json_text(c)), Ok(built));
        allowed += u64::from(built.allowed);
    }
    let m = metrics.snapshot();
    assert_eq!(m.decisions.get("authorize/allow"), Some(&(3 * allowed)));
    assert_eq!(
        m.decisions.get("authorize/deny"),
        Some(&(3 * (200 - allowed)))
    );
}

const POLICY: &str = r#"
policy p
role viewer
role editor > viewer
role admin > editor
grant viewer: doc:read
grant editor: doc:write
principal { id: string, org: string, level: number, tags: set<string>, deputy: role? }
resource doc { owner: string, readers: set<role>, level: number }
context { ip: string?, flags: set<string>, n: number?, on: bool?, meta: string? }
deny doc:write on doc unless resource.owner == principal.id or principal is admin
  because "owner only"
deny doc:read on doc if resource.meta.org != principal.org because "other org"
deny doc:read on doc if resource.level > principal.level because "too secret"
deny doc:read on doc if "blocked" in context.flags because "blocked" missing skip
deny doc:read on doc if not principal >= resource.readers because "not a reader"
deny doc:write on doc if principal.deputy == "viewer" because "deputy" missing skip
deny doc:write on doc if "frozen" in principal.tags because "frozen" missing skip
deny doc:read on doc if context.n > 10 because "n" missing skip
deny doc:read on doc if context.on because "on" missing skip
deny doc:read on doc if context.ip == "10.0.0.1" because "ip" missing skip
deny doc:read on doc if context.deep.x == 1 because "deep" missing skip
deny doc:read on doc if principal.id == "" because "no id" missing skip
deny doc:read on doc if resource.id == "bad" because "bad id" missing skip
"#;

/// Compiled without the checker, so that rules may read nested objects.
fn engine() -> Engine {
    let policy = warden_lang::parse(POLICY, &Default::default()).unwrap();
    Engine::from_policy("p.warden", POLICY, &policy, Options::default()).unwrap()
}

/// Requests of every shape the edge policy reads, as JSON.
fn edge_requests() -> Vec<Json> {
    let doc = json!({"type": "doc", "id": "d1", "owner": "u1", "meta": {"org": "o1"},
        "readers": ["viewer"], "level": 2});
    let me = json!({"id": "u1", "roles": ["viewer"], "org": "o1", "level": 3, "tags": []});
    let mut out = vec![
        json!({"principal": me, "action": "doc:read", "resource": doc}),
        // No principal, no resource, neither.
        json!({"action": "doc:read", "resource": doc}),
        json!({"principal": me, "action": "doc:read"}),
        json!({"action": "doc:read"}),
        json!({"principal": null, "action": "doc:read", "resource": null, "context": null}),
        // Roles: `role`, undeclared names, inheritance, none.
        json!({"principal": {"id": "u1", "role": "editor", "tags": []}, "action": "doc:write",
            "resource": doc}),
        json!({"principal": {"id": "u1", "roles": ["ghost", "admin"]}, "action": "doc:write",
            "resource": {"type": "doc", "owner": "u2"}}),
        json!({"principal": {"id": "u1", "roles": []}, "action": "doc:read", "resource": doc}),
        json!({"principal": {"id": "u1", "roles": null}, "action": "doc:read"}),
        // Numeric ids, a missing id, an id the rules refuse.
        json!({"principal": {"id": 7, "roles": ["editor"], "tags": []}, "action": "doc:write",
            "resource": {"type": "doc", "id": 8.5, "owner": "7"}}),
        json!({"principal": {"roles": ["viewer"]}, "action": "doc:read", "resource": doc}),
        json!({"principal": me, "action": "doc:read",
            "resource": {"type": "doc", "id": "bad", "meta": {"org": "o1"}, "readers": []}}),
        // Role-typed and set attributes.
        json!({"principal": {"id": "u1", "roles": ["editor"], "deputy": "viewer", "tags": []},
            "action": "doc:write", "resource": doc}),
        json!({"principal": {"id": "u1", "roles": ["editor"], "tags": ["frozen"]},
            "action": "doc:write", "resource": doc}),
        json!({"principal": me, "action": "doc:read",
            "resource": {"type": "doc", "meta": {"org": "o1"}, "readers": ["nobody"]}}),
        // Another resource type, an unknown action.
        json!({"principal": me, "action": "doc:read", "resource": {"type": "img", "id": "i"}}),
        json!({"kind": "authorization", "principal": me, "action": "x:y"}),
    ];
    // Context values of each type, read by the rules.
    for ctx in [
        json!({}),
        json!({"flags": ["blocked"]}),
        json!({"flags": ["x"], "ip": "::1"}),
        json!({"ip": "10.0.0.1"}),
        json!({"n": 11}),
        json!({"n": 10}),
        json!({"n": -1.5e3}),
        json!({"n": "11"}),
        json!({"on": true}),
        json!({"on": false}),
        json!({"on": null}),
        json!({"deep": {"x": 1}}),
        json!({"deep": {"x": 2, "y": [1, {"z": null}]}}),
        json!({"deep": [1]}),
    ] {
        out.push(
            json!({"principal": me, "action": "doc:read", "resource": doc,
            "context": ctx}),
        );
    }
    out
}

#[test]
fn edge_cases_decide_alike_on_every_path() {
    let e = engine();
    let mut outcomes = [0usize; 2];
    for j in edge_requests() {
        let q = Request::from_json(&j).unwrap();
        let want = e.authorize(&q);
        assert_eq!(e.authorize_ref(&RequestRef::from(&q)), want, "{j}");
        let text = j.to_string();
        assert_eq!(same_text(&e, &text), Some(want.allowed), "{j}");
        let pretty = serde_json::to_string_pretty(&j).unwrap();
        assert_eq!(same_text(&e, &pretty), Some(want.allowed), "{j}");
        outcomes[usize::from(want.allowed)] += 1;
    }
    assert!(outcomes[0] > 10 && outcomes[1] > 5, "{outcomes:?}");
}

/// A `RequestRef` built by hand with every kind of `ValueRef`: the decision of its owned
/// copy.
#[test]
fn every_kind_of_borrowed_value_reads_as_its_owned_copy() {
    let e = engine();
    let flags = Value::from(vec!["blocked"]);
    let flags_json = json!(["blocked"]);
    let deep = Value::Map(warden::Attrs::new().with("x", 1i64));
    let deep_json = json!({"x": 1});
    let readers = Value::from(vec!["viewer"]);
    let meta = Value::Map(warden::Attrs::new().with("org", "o1"));
    let empty = Value::List(vec![]);
    let (id, org, owner) = (String::from("u1"), String::from("o1"), String::from("u1"));
    let base = || {
        RequestRef::new("doc:read")
            .principal(
                PrincipalRef::new(&id)
                    .roles(["ghost", "viewer"])
                    .attr("org", &org)
                    .attr("level", 3i64)
                    .attr("tags", &empty),
            )
            .resource(
                ResourceRef::new("doc", "d1")
                    .attr("owner", &owner)
                    .attr("meta", &meta)
                    .attr("readers", &readers)
                    .attr("level", 2.0),
            )
    };
    let contexts: Vec<(&str, ValueRef<'_>)> = vec![
        ("flags", ValueRef::Value(&flags)),
        ("flags", ValueRef::from(&flags_json)),
        ("flags", ValueRef::Json(Cow::Owned(json!(["x"])))),
        ("ip", ValueRef::from("10.0.0.1")),
        ("ip", ValueRef::from(String::from("10.0.0.2"))),
        ("n", ValueRef::from(11i64)),
        ("n", ValueRef::from(9.5)),
        ("n", ValueRef::from("11")),
        ("on", ValueRef::from(true)),
        ("on", ValueRef::from(false)),
        ("on", ValueRef::Null),
        ("deep", ValueRef::Value(&deep)),
        ("deep", ValueRef::from(&deep_json)),
        ("deep", ValueRef::Str(Cow::Borrowed("x"))),
    ];
    let mut denied = 0;
    let plain = e.authorize_ref(&base());
    assert!(plain.allowed, "{plain:?}");
    for (name, v) in contexts {
        let r = base().context(name, v.clone());
        let d = e.authorize_ref(&r);
        assert_eq!(d, e.authorize(&r.to_request()), "{name} = {v:?}");
        denied += usize::from(!d.allowed);
        // A value set twice: the later one counts, as `Attrs::set` replaces.
        let twice = base().context(name, ValueRef::from(true)).context(name, v);
        assert_eq!(e.authorize_ref(&twice), d, "{name} twice");
    }
    assert_eq!(denied, 7);
    // Anonymous, no resource; more roles and attributes than are held inline.
    let anon = RequestRef::new("doc:read").resource(ResourceRef::new("doc", "d"));
    assert_eq!(e.authorize_ref(&anon), e.authorize(&anon.to_request()));
    let none = RequestRef::new("doc:read");
    assert_eq!(e.authorize_ref(&none), e.authorize(&none.to_request()));
    let many = RequestRef::new("doc:write")
        .principal(
            PrincipalRef::new("u1")
                .roles(["a", "b", "c", "d", "e", "editor"])
                .attr("a", 1i64)
                .attr("b", 2i64)
                .attr("c", 3i64)
                .attr("d", 4i64)
                .attr("tags", &flags)
                .attr("org", "o1"),
        )
        .resource(ResourceRef::new("doc", "d").attr("owner", "u1"));
    let d = e.authorize_ref(&many);
    assert_eq!(d, e.authorize(&many.to_request()));
    assert!(d.allowed, "{d:?}");
    // Borrowed attributes read back.
    let attrs = AttrsRef::new()
        .with("a", "x")
        .with("b", 1i64)
        .with("a", "y");
    assert_eq!(attrs.len(), 2);
    assert_eq!(attrs.get("a"), Some(&ValueRef::from("y")));
    assert_eq!(
        attrs.to_attrs(),
        warden::Attrs::new().with("a", "y").with("b", 1i64)
    );
}

/// Malformed text: truncated, wrong types, repeated keys, numbers at and past the
/// limits, escapes; every one an error or a decision exactly as the reference.
#[test]
fn malformed_and_unusual_text_matches_the_parsed_value_path() {
    let e = engine();
    let mut corpus: Vec<String> = vec![
        "".into(),
        " ".into(),
        "null".into(),
        "[]".into(),
        "[1, {\"action\": \"doc:read\"}]".into(),
        "\"doc:read\"".into(),
        "3".into(),
        "{}".into(),
        "{\"action\": \"doc:read\"} x".into(),
        "{\"action\": \"doc:read\",}".into(),
        "{\"action\" \"doc:read\"}".into(),
        "{'action': 'doc:read'}".into(),
        "{\"action\": \"doc:read\"}{}".into(),
        "\u{feff}{\"action\": \"doc:read\"}".into(),
        // Repeated keys: the last one counts, whatever the earlier ones were.
        r#"{"action": 3, "action": "doc:read"}"#.into(),
        r#"{"action": "doc:read", "action": 3}"#.into(),
        r#"{"action": "doc:read", "principal": 3, "principal": {"id": "u1", "roles": ["viewer"]}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": "u1", "roles": ["viewer"]}, "principal": 3}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": "u1", "roles": [1], "roles": ["viewer"]}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": {}, "id": "u1", "role": "viewer"}}"#.into(),
        r#"{"action": "doc:read", "principal": {"role": "viewer", "role": null, "roles": ["viewer"]}}"#.into(),
        r#"{"action": "doc:read", "principal": {"roles": null, "role": "viewer"}}"#.into(),
        r#"{"action": "doc:read", "resource": {"type": 1, "type": "doc", "id": "a", "id": 5}}"#.into(),
        r#"{"action": "doc:read", "resource": {"type": "doc", "type": 1}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": "u1", "roles": ["viewer"], "org": "o2", "org": "o1", "level": 3}, "resource": {"type": "doc", "meta": {"org": "o1"}, "readers": [], "level": 0}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": "u1", "roles": ["viewer"], "org": "o1", "level": 3}, "resource": {"type": "doc", "meta": {"org": "o2", "org": "o1"}, "readers": [], "level": 0}}"#.into(),
        r#"{"action": "doc:read", "context": {"on": true, "on": false}, "principal": {"id": "u1", "roles": ["viewer"]}}"#.into(),
        r#"{"action": "doc:read", "context": 1, "context": {}}"#.into(),
        r#"{"action": "doc:read", "context": {}, "context": []}"#.into(),
        r#"{"kind": "http", "kind": "authorization", "action": "doc:read"}"#.into(),
        r#"{"kind": "authorization", "kind": 7, "action": "doc:read"}"#.into(),
        r#"{"kind": [1, {"a": 2.5}], "action": "doc:read"}"#.into(),
        r#"{"kind": null, "method": "GET"}"#.into(),
        r#"{"method": "GET", "path": "/", "zzz": 1}"#.into(),
        r#"{"zeta": 1, "alpha": 2, "action": "doc:read"}"#.into(),
        r#"{"action": "doc:read", "m\u0065thod": 1}"#.into(),
        // Numbers: huge, negative, fractional, out of range.
        r#"{"action": "doc:read", "context": {"n": 1e400}}"#.into(),
        r#"{"action": "doc:read", "context": {"n": 1e308}, "principal": {"id": "u1", "roles": ["viewer"]}, "resource": {"type": "doc", "meta": {}, "readers": []}}"#.into(),
        r#"{"action": "doc:read", "context": {"n": 18446744073709551616}}"#.into(),
        r#"{"action": "doc:read", "context": {"n": -9223372036854775809}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": 18446744073709551615}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": -1}, "resource": {"type": "doc", "id": 1e20}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": 0.1}, "resource": {"type": "doc", "id": -0}}"#.into(),
        r#"{"action": "doc:read", "context": {"n": 01}}"#.into(),
        r#"{"action": "doc:read", "context": {"n": 1.}}"#.into(),
        r#"{"action": "doc:read", "context": {"n": NaN}}"#.into(),
        // Escapes: in keys, values, roles, types; surrogate pairs; a lone surrogate.
        r#"{"\u0061ction": "doc:r\u0065ad", "principal": {"\u0069d": "u\u0031", "rol\u0065s": ["vi\u0065wer"], "org": "o1", "level": 3}, "resource": {"typ\u0065": "d\u006fc", "meta": {"org": "o\u0031"}, "readers": ["\u0076iewer"], "level": 1}}"#.into(),
        r#"{"action": "doc:read", "context": {"ip": "10.0.0.\u0031"}, "principal": {"id": "u1", "roles": ["viewer"], "org": "o1", "level": 3}, "resource": {"type": "doc", "meta": {"org": "o1"}, "readers": []}}"#.into(),
        r#"{"action": "doc:read", "context": {"ip": "\ud83d\ude00"}}"#.into(),
        r#"{"action": "doc:read", "context": {"ip": "\ud800"}}"#.into(),
        r#"{"action": "doc:read", "context": {"ip": "\x41"}}"#.into(),
        r#"{"action": "doc:read", "principal": {"id": "a\"b\\c\/d\n", "role": "viewer"}}"#.into(),
        "{\"action\": \"doc:read\", \"context\": {\"ip\": \"a\u{0001}b\"}}".into(),
        r#"{"action": "doc:read", "principal": {"role": "\u0000"}}"#.into(),
        // Deep nesting: past serde_json's recursion limit, and just under it.
        format!(
            r#"{{"action": "doc:read", "context": {{"deep": {}1{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        ),
        format!(
            r#"{{"action": "doc:read", "context": {{"deep": {}1{}}}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        ),
    ];
    // Every wrong type of json.rs's contract, as text.
    for j in [
        json!({"principal": null}),
        json!({"action": 3}),
        json!({"action": null}),
        json!({"action": "a", "resource": {"id": "x"}}),
        json!({"action": "a", "resource": {"type": null}}),
        json!({"action": "a", "resource": {"type": "doc", "id": []}}),
        json!({"action": "a", "resource": {"type": "doc", "id": true}}),
        json!({"action": "a", "resource": 5}),
        json!({"action": "a", "resource": []}),
        json!({"action": "a", "principal": "u1"}),
        json!({"action": "a", "principal": {"id": {}}}),
        json!({"action": "a", "principal": {"roles": "admin"}}),
        json!({"action": "a", "principal": {"roles": {"a": 1}}}),
        json!({"action": "a", "principal": {"roles": ["admin", 3]}}),
        json!({"action": "a", "principal": {"roles": ["admin", ["x"]]}}),
        json!({"action": "a", "principal": {"role": 3}}),
        json!({"action": "a", "principal": {"role": ["a"]}}),
        json!({"action": "a", "principal": {"role": "a", "roles": ["b"]}}),
        json!({"action": "a", "principal": {"role": null, "roles": null}}),
        json!({"action": "a", "principal": {"id": true, "roles": [1]}}),
        json!({"action": "a", "context": []}),
        json!({"action": "a", "context": "x"}),
        json!({"action": "a", "actor": {}}),
        json!({"method": "GET", "path": "/"}),
        json!({"kind": "http", "action": "a"}),
        json!({"kind": 1, "action": "a"}),
        json!({"kind": {"k": [null]}, "action": "a", "principal": 1}),
    ] {
        corpus.push(j.to_string());
    }
    // Every prefix of a few valid requests (truncated bodies), and one byte changed.
    for j in edge_requests().iter().take(6) {
        let text = j.to_string();
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                corpus.push(text[..cut].to_owned());
            }
        }
        for at in (0..text.len()).step_by(3) {
            let mut b = text.clone().into_bytes();
            b[at] = match b[at] {
                b'"' => b'x',
                b'{' => b'[',
                b':' => b',',
                _ => b'"',
            };
            if let Ok(s) = String::from_utf8(b) {
                corpus.push(s);
            }
        }
    }
    let (mut decided, mut errors) = (0, 0);
    for text in &corpus {
        match same_text(&e, text) {
            Some(_) => decided += 1,
            None => errors += 1,
        }
    }
    eprintln!("{decided} decided, {errors} errors");
    assert!(
        decided > 20 && errors > 500,
        "{decided} decided, {errors} errors"
    );
    // Bytes that are not UTF-8: an error, never a panic.
    for bytes in [
        &b"{\"action\": \"doc:\xff\"}"[..],
        b"{\"action\": \"doc:read\", \"context\": {\"\xc3\": 1}}",
        b"\xff",
    ] {
        let err = e.authorize_json_bytes(bytes).unwrap_err();
        assert!(err.message.starts_with("invalid JSON: "), "{err}");
    }
}

/// Any text a small grammar writes (objects with repeated keys, escaped strings,
/// lists, numbers), decided or refused exactly as the reference.
#[test]
fn any_request_text_decides_alike() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// JSON with repeated keys and escapes, which `serde_json::Value` cannot hold.
    #[derive(Debug, Clone)]
    enum T {
        Leaf(Json),
        Str(String, bool),
        List(Vec<T>),
        Obj(Vec<(String, bool, T)>),
    }
    /// A JSON string, its first character written as a `\u` escape when `escape`.
    fn string(s: &str, escape: bool) -> String {
        let text = serde_json::to_string(s).unwrap();
        match s.chars().next() {
            Some(c) if escape && c.is_ascii_alphanumeric() => {
                format!("\"\\u{:04x}{}", c as u32, &text[2..])
            }
            _ => text,
        }
    }
    fn render(t: &T) -> String {
        match t {
            T::Leaf(j) => j.to_string(),
            T::Str(s, esc) => string(s, *esc),
            T::List(items) => format!(
                "[{}]",
                items.iter().map(render).collect::<Vec<_>>().join(",")
            ),
            T::Obj(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, esc, v)| format!("{}:{}", string(k, *esc), render(v)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
    let words = vec![
        "kind",
        "action",
        "principal",
        "resource",
        "context",
        "method",
        "id",
        "roles",
        "role",
        "type",
        "owner",
        "org",
        "meta",
        "readers",
        "level",
        "flags",
        "tags",
        "deputy",
        "ip",
        "doc",
        "doc:read",
        "doc:write",
        "u1",
        "o1",
        "viewer",
        "editor",
        "admin",
        "authorization",
        "blocked",
        "frozen",
        "n",
        "on",
        "deep",
        "x",
    ];
    let word = prop::sample::select(words);
    let leaf = prop_oneof![
        Just(T::Leaf(Json::Null)),
        any::<bool>().prop_map(|b| T::Leaf(Json::from(b))),
        prop::sample::select(vec![0.0, 1.0, 2.5, -3.0, 11.0, 1e300])
            .prop_map(|n| T::Leaf(Json::from(n))),
        prop::sample::select(vec![0u64, 7, u64::MAX]).prop_map(|n| T::Leaf(Json::from(n))),
        (word.clone(), any::<bool>()).prop_map(|(s, e)| T::Str(s.to_owned(), e)),
    ];
    let entry_key = (word.clone(), prop::bool::weighted(0.1));
    let tree = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(T::List),
            prop::collection::vec((entry_key.clone(), inner), 0..6).prop_map(|es| {
                T::Obj(
                    es.into_iter()
                        .map(|((k, e), v)| (k.to_owned(), e, v))
                        .collect(),
                )
            }),
        ]
    });
    let tree = tree.boxed();
    let tree2 = tree.clone();
    // Mostly entries of the right type (so that many requests are decided), some of any
    // type; a name may repeat.
    let str_of = |w: BoxedStrategy<&'static str>| w.prop_map(|s| T::Str(s.to_owned(), false));
    let good = {
        let w = word.clone().boxed();
        prop_oneof![
            (Just("id"), str_of(w.clone())),
            (
                Just("roles"),
                prop::collection::vec(str_of(w.clone()), 0..3).prop_map(T::List)
            ),
            (Just("role"), str_of(w.clone())),
            (Just("org"), str_of(w.clone())),
            (Just("owner"), str_of(w.clone())),
            (
                Just("level"),
                prop::sample::select(vec![0.0, 2.0, 5.0]).prop_map(|n| T::Leaf(Json::from(n)))
            ),
            (
                Just("readers"),
                prop::collection::vec(str_of(w.clone()), 0..2).prop_map(T::List)
            ),
            (
                Just("meta"),
                str_of(w).prop_map(|o| T::Obj(vec![("org".to_owned(), false, o)]))
            ),
        ]
        .prop_map(|(k, v)| (k.to_owned(), false, v))
    };
    let object = move |keys: Vec<&'static str>, first: Vec<(String, bool, T)>| {
        let any_entry = (
            prop::sample::select(keys),
            prop::bool::weighted(0.1),
            tree.clone(),
        )
            .prop_map(|(k, e, v)| (k.to_owned(), e, v));
        prop::collection::vec(prop_oneof![4 => good.clone(), 1 => any_entry], 0..6)
            .prop_map(move |es| T::Obj(first.iter().cloned().chain(es).collect()))
    };
    let fields = vec![
        "type", "id", "roles", "role", "org", "owner", "readers", "level", "meta",
    ];
    let doc = vec![("type".to_owned(), false, T::Str("doc".into(), false))];
    let request = (
        object(fields.clone(), vec![]),
        prop::sample::select(vec!["doc:read", "doc:write", "x:y"]),
        object(fields, doc),
        prop::option::weighted(0.3, object(vec!["n", "on", "ip", "flags", "deep"], vec![])),
        prop::option::weighted(0.1, (word, tree2.clone())),
    )
        .prop_map(|(p, a, r, ctx, extra)| {
            let mut top = vec![
                ("principal".to_owned(), false, p),
                ("action".to_owned(), false, T::Str(a.to_owned(), false)),
                ("resource".to_owned(), false, r),
            ];
            if let Some(c) = ctx {
                top.push(("context".to_owned(), false, c));
            }
            if let Some((k, v)) = extra {
                top.push((k.to_owned(), false, v));
            }
            render(&T::Obj(top))
        });
    let any = prop_oneof![1 => tree2.prop_map(|t| render(&t)), 4 => request];
    let e = engine();
    let decided = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 3_000,
        failure_persistence: None,
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..Config::default()
    });
    runner
        .run(&any, |text| {
            if same_text(&e, &text).is_some() {
                decided.set(decided.get() + 1);
            }
            Ok(())
        })
        .unwrap_or_else(|err| panic!("{err}"));
    eprintln!("{} of 3000 texts decided", decided.get());
    assert!(decided.get() > 300, "only {} texts decided", decided.get());
}

/// The docs-app workload's own texts (compact and pretty-printed), cut at every byte,
/// each byte replaced by one of a few bytes, and randomly mutated: decided or refused
/// as the reference decides or refuses them. These are the texts the request scanner
/// (`json_scan`) reads; their cuts and mutations are mostly the ones it leaves to the
/// serde path, so both paths are held to `serde_json` + `authorize_json` here, from
/// `&str` and from bytes (`serde_json::from_slice` the reference for bytes).
#[test]
fn workload_texts_cut_and_mutated_decide_alike() {
    const SWAPS: &[u8] = b"\"\\{}[]:, 0-.e1n\x01\xff";
    let e = docs_engine(0);
    let world = docs_app::world(400);
    // Not JSON to `serde_json::from_slice`: refused. The message is "invalid JSON"
    // except for bytes that are not UTF-8 inside a value the serde path skips (under an
    // unknown key, or a list where an object belongs): serde_json skips a string
    // without checking its UTF-8, so the request's own error comes first (as before the
    // scanner, which leaves all such texts to the serde path).
    let same_bytes = |bytes: &[u8]| {
        let ours = e.authorize_json_bytes(bytes);
        match serde_json::from_slice::<Json>(bytes) {
            Err(_) => assert!(
                ours.as_ref()
                    .is_err_and(|e| e.message.starts_with("invalid JSON: ")
                        || std::str::from_utf8(bytes).is_err()),
                "{}: {ours:?}",
                String::from_utf8_lossy(bytes)
            ),
            Ok(v) => assert_eq!(e.authorize_json(&v), ours, "{bytes:?}"),
        }
    };
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut decided, mut refused) = (0, 0);
    let mut tally = |d: Option<bool>| match d {
        Some(_) => decided += 1,
        None => refused += 1,
    };
    for c in world.cases.iter().step_by(20) {
        let json = world.json(c);
        for text in [
            json.to_string(),
            serde_json::to_string_pretty(&json).unwrap(),
        ] {
            assert!(same_text(&e, &text).is_some(), "{text}");
            let b = text.as_bytes();
            for cut in 0..b.len() {
                same_bytes(&b[..cut]);
                if text.is_char_boundary(cut) {
                    tally(same_text(&e, &text[..cut]));
                }
            }
            for at in 0..b.len() {
                for &x in SWAPS {
                    let mut m = b.to_vec();
                    m[at] = x;
                    match String::from_utf8(m) {
                        Ok(s) => tally(same_text(&e, &s)),
                        Err(m) => same_bytes(m.as_bytes()),
                    }
                }
            }
            for _ in 0..100 {
                let mut m = b.to_vec();
                for _ in 0..1 + next() % 3 {
                    let at = (next() % m.len() as u64) as usize;
                    let x = SWAPS[(next() % SWAPS.len() as u64) as usize];
                    match next() % 3 {
                        0 => m[at] = x,
                        1 => m.insert(at, x),
                        _ => drop(m.remove(at)),
                    }
                }
                match String::from_utf8(m) {
                    Ok(s) => tally(same_text(&e, &s)),
                    Err(m) => same_bytes(m.as_bytes()),
                }
            }
        }
    }
    eprintln!("{decided} decided, {refused} refused");
    assert!(
        decided > 1_000 && refused > 10_000,
        "{decided} decided, {refused} refused"
    );
}

/// The docs-app workload with the host's strings owned (`String`s moved into the
/// request) at every position in turn, and with every attribute set twice (borrowed,
/// then owned): the lists that switch from borrowed to owning items, and from inline to
/// the heap, decide as the owned request does.
#[test]
fn owned_strings_anywhere_decide_like_borrowed_ones() {
    let world = docs_app::world(2_000);
    let e = docs_engine(0);
    fn pick(s: &str, owned: bool) -> Cow<'_, str> {
        if owned {
            Cow::Owned(s.to_owned())
        } else {
            Cow::Borrowed(s)
        }
    }
    for (k, c) in world.cases.iter().enumerate() {
        let want = e.authorize(&world.request(c));
        let q = world.request_ref(c);
        let p = q.get_principal().unwrap();
        let r = q.get_resource().unwrap();
        let own = |i: usize| k % 7 == i;
        let mut pb = PrincipalRef::new(pick(p.id(), own(0)));
        for role in p.role_names() {
            pb = pb.role(pick(role, own(1)));
        }
        for (name, v) in p.attrs().iter() {
            let ValueRef::Str(s) = v else { panic!("{v:?}") };
            pb = pb
                .attr(pick(name, own(2)), "stale")
                .attr(name, ValueRef::Str(pick(s, own(3))));
        }
        let mut rb = ResourceRef::new(pick(r.ty(), own(4)), pick(r.id(), own(5)));
        for (name, v) in r.attrs().iter() {
            let ValueRef::Str(s) = v else { panic!("{v:?}") };
            rb = rb
                .attr(name, "stale")
                .attr(pick(name, own(6)), ValueRef::Str(pick(s, own(6))));
        }
        // Past four attributes: the list moves to the heap.
        if k % 3 == 0 {
            for i in 0..4 {
                let name = ["x0", "x1", "x2", "x3"][i];
                rb = rb.attr(pick(name, k % 2 == 0), i as i64);
            }
        }
        let built = RequestRef::new(pick(q.action(), k % 5 == 0))
            .principal(pb)
            .resource(rb);
        assert_eq!(e.authorize_ref(&built), want, "{c:?}");
        assert_eq!(e.authorize(&built.to_request()), want, "{c:?}");
    }
}

/// The inline lists of a borrowed request: owned and borrowed items mixed, replaced
/// (an owned value by a borrowed one and back), past the four held inline, cloned:
/// every read matches the owned copy, and the owned request decides alike.
#[test]
fn inline_lists_hold_owned_and_borrowed_items_past_four() {
    let e = engine();
    let names = ["a", "b", "c", "d", "e", "f"];
    for spill in 0..=names.len() {
        let mut attrs = AttrsRef::new();
        let mut owned = warden::Attrs::new();
        for (i, n) in names.iter().take(spill).enumerate() {
            let v = format!("v{i}");
            owned.set(*n, v.as_str());
            if i % 2 == 0 {
                attrs.set(*n, v);
            } else {
                attrs.set(String::from(*n), "x");
                attrs.set(*n, v);
            }
        }
        if spill > 0 {
            attrs.set("a", "last");
            owned.set("a", "last");
        }
        let copy = attrs.clone();
        assert_eq!(copy, attrs);
        assert_eq!(attrs.len(), spill);
        assert_eq!(attrs.to_attrs(), owned, "{spill} entries");
        let mut p = PrincipalRef::new("u1");
        for r in names.iter().take(spill) {
            p = p.role(String::from(*r));
        }
        let p = p.role("editor").attr("org", "o1");
        assert_eq!(p.role_names().count(), spill + 1);
        let q = RequestRef::new("doc:write")
            .principal(p)
            .resource(ResourceRef::new("doc", "d").attr("owner", "u1"));
        assert_eq!(e.authorize_ref(&q), e.authorize(&q.to_request()), "{spill}");
        assert_eq!(q.clone(), q);
    }
}
