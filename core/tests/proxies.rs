//! Issue 15, fault 5: per-IP limits behind a proxy. The client address `ip` is the
//! peer unless the policy's `proxies` block trusts it; then the right-most untrusted
//! address of the one forwarding header the block names is the client
//! (docs/LANGUAGE.md, Trusted proxies). At the engine: budgets per client behind a
//! trusted proxy, no fresh budget for a forged header, chains, IPv6, RFC 7239.

use warden::{Engine, HttpRequest, Options};

const LIMITED: &str = "
limit login: 2 per 15m by ip strict
route POST /login { limit login }
route GET /whoami { require ip == \"198.51.100.7\" else 403 }
route /** { public }
";

fn engine(proxies: &str) -> Engine {
    let src = format!("policy p\n{proxies}\n{LIMITED}");
    match Engine::from_source("p.warden", &src, Options::default()) {
        Ok(e) => e,
        Err(e) => unreachable!("{src}\n{e}"),
    }
}

fn login(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
    let mut r = HttpRequest::new("POST", "/login").ip(peer.parse().unwrap_or([0u8; 4].into()));
    for (n, v) in headers {
        r = r.header(*n, *v);
    }
    r
}

/// The statuses of `n` logins.
fn statuses(e: &Engine, n: usize, req: impl Fn(usize) -> HttpRequest) -> Vec<u16> {
    (0..n).map(|i| e.check_http(&req(i)).status).collect()
}

#[test]
fn seven_clients_behind_a_trusted_proxy_keep_seven_budgets() {
    for proxies in [
        "proxies { trusted: \"10.0.0.0/8\" }",
        "proxies { hops: 1 }",
        "proxies {\n  trusted: \"10.0.0.1\"\n  hops: 1\n}",
    ] {
        let e = engine(proxies);
        for c in 1..=7 {
            let xff = format!("198.51.100.{c}");
            let got = statuses(&e, 3, |_| login("10.0.0.1", &[("x-forwarded-for", &xff)]));
            assert_eq!(got, [200, 200, 429], "{proxies}: client {c}");
        }
        // The proxy's own address has not been spent by its clients.
        assert_eq!(
            e.check_http(&login("10.0.0.1", &[])).status,
            200,
            "{proxies}"
        );
    }
}

#[test]
fn without_a_proxies_block_forwarding_headers_earn_nothing() {
    let e = engine("");
    let forged = |i: usize| {
        let a = format!("198.51.100.{i}");
        let f = format!("for={a}");
        login(
            "203.0.113.9",
            &[("x-forwarded-for", a.as_str()), ("forwarded", f.as_str())],
        )
    };
    assert_eq!(statuses(&e, 4, forged), [200, 200, 429, 429]);
    // The peer decides, and another peer has its own budget.
    assert_eq!(e.check_http(&login("203.0.113.10", &[])).status, 200);
}

#[test]
fn an_untrusted_peer_cannot_forge_its_way_to_a_fresh_budget() {
    let e = engine("proxies { trusted: \"10.0.0.0/8\" }");
    // Straight to the application, around the proxy: the header is not read.
    let forged = |i: usize| {
        let a = format!("198.51.100.{i}");
        login("203.0.113.9", &[("x-forwarded-for", a.as_str())])
    };
    assert_eq!(statuses(&e, 3, forged), [200, 200, 429]);
    // Through the proxy: the client's own text is left of what the proxy appended.
    let through = |i: usize| {
        let a = format!("198.51.100.{i}, 203.0.113.20");
        login("10.0.0.1", &[("x-forwarded-for", a.as_str())])
    };
    assert_eq!(statuses(&e, 3, through), [200, 200, 429]);
    // A Forwarded header is not read when the block names X-Forwarded-For (the default).
    let other = |i: usize| {
        let a = format!("for=198.51.100.{i}");
        login(
            "10.0.0.1",
            &[
                ("forwarded", a.as_str()),
                ("x-forwarded-for", "203.0.113.21"),
            ],
        )
    };
    assert_eq!(statuses(&e, 3, other), [200, 200, 429]);
    // Unreadable chains count against the proxy, never against a fresh key.
    let garbled = |i: usize| {
        let a = format!("198.51.100.{i}, unknown");
        login("10.0.0.2", &[("x-forwarded-for", a.as_str())])
    };
    assert_eq!(statuses(&e, 3, garbled), [200, 200, 429]);
}

#[test]
fn chains_of_several_proxies() {
    let e = engine("proxies { trusted: \"10.0.0.0/8\", \"172.16.0.0/12\" }");
    // client -> CDN edge (172.16.x, trusted) -> load balancer (10.x) -> app.
    let chain = "6.6.6.6, 198.51.100.7, 172.16.5.5";
    let who = HttpRequest::new("GET", "/whoami")
        .ip([10, 0, 0, 1].into())
        .header("x-forwarded-for", chain);
    assert_eq!(
        e.check_http(&who).status,
        200,
        "ip is the right-most untrusted"
    );
    // hops caps the proxies skipped: with 1, the CDN edge is the client.
    let capped = engine("proxies {\n  trusted: \"10.0.0.0/8\", \"172.16.0.0/12\"\n  hops: 1\n}");
    assert_eq!(capped.check_http(&who).status, 403);
    let two = engine("proxies { hops: 2 }");
    assert_eq!(two.check_http(&who).status, 200);
}

#[test]
fn ipv6_clients_and_proxies() {
    let e = engine("proxies { trusted: \"fd00::/8\", \"10.0.0.0/8\" }");
    let v6 = |client: &'static str, peer: &'static str| {
        move |_| login(peer, &[("x-forwarded-for", client)])
    };
    assert_eq!(
        statuses(&e, 3, v6("2001:db8:1:1::7", "fd00::1")),
        [200, 200, 429]
    );
    // Another address in the same /64 is the same client (Options::ipv6_prefix) ...
    assert_eq!(statuses(&e, 1, v6("2001:db8:1:1::8", "fd00::2")), [429]);
    // ... another /64 is another client.
    assert_eq!(
        statuses(&e, 1, v6("[2001:db8:1:2::7]:443", "fd00::2")),
        [200]
    );
    // An IPv4 proxy seen through a dual-stack socket.
    assert_eq!(
        statuses(&e, 3, v6("198.51.100.50", "::ffff:10.0.0.1")),
        [200, 200, 429]
    );
    assert_eq!(
        statuses(&e, 1, v6("::ffff:198.51.100.50", "10.0.0.1")),
        [429]
    );
}

#[test]
fn forwarded_with_quoted_and_bracketed_addresses() {
    let e = engine("proxies {\n  trusted: \"10.0.0.0/8\"\n  header: Forwarded\n}");
    let fwd = |v: &'static str| move |_| login("10.0.0.1", &[("forwarded", v)]);
    assert_eq!(
        statuses(&e, 3, fwd(r#"for="[2001:db8:cafe::17]:4711";proto=https"#)),
        [200, 200, 429]
    );
    // The same /64, written without port or with another case of `for`.
    assert_eq!(statuses(&e, 1, fwd(r#"For="[2001:db8:cafe::18]""#)), [429]);
    assert_eq!(
        statuses(
            &e,
            3,
            fwd(r#"for=6.6.6.6, for="198.51.100.9:5000";by=10.0.0.1, for=10.0.0.2"#)
        ),
        [200, 200, 429]
    );
    // X-Forwarded-For is not read under `header: Forwarded`.
    let xff = |i: usize| {
        let a = format!("198.51.100.{}", 100 + i);
        login("10.0.0.3", &[("x-forwarded-for", a.as_str())])
    };
    assert_eq!(statuses(&e, 3, xff), [200, 200, 429]);
    let who = HttpRequest::new("GET", "/whoami")
        .ip([10, 0, 0, 1].into())
        .header("forwarded", "for=\"198.51.100.7:80\"");
    assert_eq!(e.check_http(&who).status, 200);
}

#[test]
fn proxies_blocks_that_do_not_load() {
    for (block, at, says) in [
        (
            "proxies { trusted: \"10.0.0.1/8\" }",
            "p.warden:2:20",
            "10.0.0.0/8",
        ),
        (
            "proxies { trusted: \"10.0.0.0/33\" }",
            "p.warden:2:20",
            "larger than 32",
        ),
        (
            "proxies { trusted: \"localhost\" }",
            "p.warden:2:20",
            "not an IPv4 or IPv6 address",
        ),
        ("proxies { hops: 0 }", "p.warden:2:17", "hops"),
        ("proxies { hops: 1.5 }", "p.warden:2:", "hops"),
        (
            "proxies { header: X-Real-IP }",
            "p.warden:2:19",
            "X-Real-IP",
        ),
        ("proxies { }", "p.warden:2:1", "trusted"),
        ("proxies {\n  hops: 1\n  hops: 2\n}", "p.warden:4:3", "hops"),
        (
            "proxies { hops: 1 }\nproxies { hops: 1 }",
            "p.warden:3:1",
            "proxies",
        ),
    ] {
        let src = format!("policy p\n{block}\n{LIMITED}");
        let err = Engine::from_source("p.warden", &src, Options::default()).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(at), "{block}: {text:?}");
        assert!(text.contains(says), "{block}: {text:?}");
    }
}
