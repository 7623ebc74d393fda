//! The generated 10,000-rule policy shared by the `parse` bench and the `load_policy`
//! example (which runs `load` under callgrind for instruction counts).
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "shared by a bench and an example"
)]

use std::fmt::Write as _;

/// Number of allow/deny rules in the generated policy.
pub const RULES: usize = 10_000;
const RESOURCES: usize = 20;
const ROLES: usize = 24;
const ROUTES: usize = 200;

/// A deterministic policy of `rules` rules; it must load without errors.
pub fn generate(rules: usize) -> String {
    let mut s = String::with_capacity(rules * 120);
    s.push_str("# Generated for lang/benches/parse.rs\npolicy bench\n\n");
    // Roles: three layers, each role inheriting from one or two of the layer below.
    for r in 0..ROLES {
        match r {
            0..=7 => writeln!(s, "role r{r}").unwrap(),
            8..=15 => writeln!(s, "role r{r} > r{}, r{}", r - 8, (r - 7) % 8).unwrap(),
            _ => writeln!(s, "role r{r} > r{}, r{}", r - 8, 8 + (r - 15) % 8).unwrap(),
        }
    }
    for r in 0..ROLES {
        writeln!(
            s,
            "grant r{r}: ns{r}:read, ns{r}:list, ns{}:*",
            (r + 1) % ROLES
        )
        .unwrap();
    }
    s.push_str(
        "\nprincipal { org: string, team: string?, level: number, tags: set<string>, rank: role }\n",
    );
    s.push_str("context { mfa: bool, risk: number }\n");
    for t in 0..RESOURCES {
        writeln!(
            s,
            "resource t{t} {{ owner: string, org: string, size: number, labels: set<string>, \
             title: string, min: role, team: string? }}"
        )
        .unwrap();
    }
    s.push('\n');
    for i in 0..rules {
        let t = i % RESOURCES;
        let u = (i * 7 + 3) % RESOURCES;
        let role = i % ROLES;
        let cond = match i % 8 {
            0 => format!("resource.owner != principal.id and not principal is r{role}"),
            1 => format!(
                "resource.org != principal.org or resource.size > {}MB",
                i % 500 + 1
            ),
            2 => format!(
                "\"l{i}\" in resource.labels and principal.level < {}",
                i % 10
            ),
            3 => {
                format!("resource.title starts_with \"draft-{i}\" or resource.title contains \"x\"")
            }
            4 => "resource.title matches /^[a-z]+-[0-9]{1,6}$/ and not context.mfa".to_string(),
            5 => "(resource.team ?? resource.org) != (principal.team ?? principal.org)".to_string(),
            6 => "resource.min > principal or principal.rank < r3".to_string(),
            _ => format!(
                "principal.tags contains \"t{i}\" or resource.labels.len > {}",
                i % 50
            ),
        };
        let (effect, kw) = if i % 3 == 0 {
            ("allow", "if")
        } else {
            ("deny", "unless")
        };
        let action = match i % 4 {
            0 => format!("ns{role}:read"),
            1 => format!("ns{role}:write, ns{role}:delete"),
            2 => format!("ns{role}:*"),
            _ => format!("ns{role}:op{i}"),
        };
        let on = if i % 5 == 0 && t != u {
            format!("t{t}, t{u}")
        } else {
            format!("t{t}")
        };
        write!(s, "{effect} {action} on {on} {kw} {cond}").unwrap();
        if effect == "deny" && i % 2 == 0 {
            write!(s, " because \"rule {i}\"").unwrap();
        }
        s.push('\n');
    }
    s.push_str("\nlimit login: 5 per 15m by ip\nlimit api: 600 per 1m by principal.id ?? ip\n\n");
    for r in 0..ROUTES {
        let body = match r % 4 {
            0 => "  require auth\n  limit api\n".to_string(),
            1 => format!("  require role r{}\n", r % ROLES),
            2 => "  require input.size <= 5MB else 413\n  header set Cache-Control: \"no-store\"\n"
                .to_string(),
            _ => "  public\n  limit login\n".to_string(),
        };
        let method = ["GET", "POST", "PUT", "DELETE"][r % 4];
        writeln!(
            s,
            "route {method} /api/v{r}/items/:id, /api/v{r}/items/:id/**, /api/v{r}/x {{\n{body}}}"
        )
        .unwrap();
    }
    s.push_str(
        "\nheaders {\n  X-Content-Type-Options: \"nosniff\"\n  X-Frame-Options: \"DENY\"\n}\n\
         cors {\n  origins: \"https://app.example.com\"\n  methods: GET, POST\n  credentials: true\n}\n",
    );
    s
}
