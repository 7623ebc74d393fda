//! Issue 15, fault 3: a secret laundered through a script function. With
//! `fn bearer(t) { "Bearer " + t }`, `header set X-Build: "ok-" + bearer(secret(X))` would
//! put the secret in a response header, and `header authorization == bearer(secret(X))`
//! would compare it in variable time. Passing a secret to a script is a load error
//! (`secret-to-script`) whose message names the function, never the value; the policy
//! that builds the value itself loads and compares in constant time.

use warden::{Engine, HttpRequest, Options};

const SECRET: &str = "s3cr3t-cron-value-0123456789";
const SCRIPT: &str = "policy p\nscript {\n  fn bearer(t) { \"Bearer \" + t }\n}\n";

fn load(route: &str) -> Result<Engine, String> {
    let opts = Options::default().secret("CRON_SECRET", SECRET);
    Engine::from_source("p.warden", &format!("{SCRIPT}{route}\n"), opts).map_err(|e| e.to_string())
}

#[test]
fn a_secret_passed_to_a_script_never_loads_and_never_leaks() {
    for route in [
        "route /cron { header set X-Build: \"ok-\" + bearer(secret(CRON_SECRET)) }",
        "route /cron { require header authorization == bearer(secret(CRON_SECRET)) }",
    ] {
        let loaded = load(route);
        if let Ok(engine) = &loaded {
            // What the fault did: the secret in a response header.
            let d = engine.check_http(&HttpRequest::new("GET", "/cron"));
            let leaked = d.headers.iter().any(|(_, v)| v.contains(SECRET));
            assert!(!leaked, "{route}: the secret reached a response header");
        }
        let e = loaded.err().unwrap_or_default();
        assert!(
            e.contains("a secret cannot be passed to script function `bearer`"),
            "{route}: loaded, or another error: {e:?}"
        );
        assert!(!e.contains(SECRET), "{route}: the error shows the secret");
    }
}

#[test]
fn the_value_built_in_the_policy_loads_and_compares() {
    let engine =
        load("route /cron { require header authorization == \"Bearer \" + secret(CRON_SECRET) }");
    assert!(engine.is_ok(), "{:?}", engine.err());
    if let Ok(e) = engine {
        let good =
            HttpRequest::new("GET", "/cron").header("authorization", format!("Bearer {SECRET}"));
        assert!(e.check_http(&good).allowed);
        let bad = HttpRequest::new("GET", "/cron").header("authorization", "Bearer guess");
        assert!(!e.check_http(&bad).allowed);
    }
}
