//! The docs-app workload shared by the benchmark and the allocation test: the tour
//! policy, 1,000 users in 10 orgs, 10,000 posts, a deterministic request mix.

#![allow(dead_code, reason = "each includer uses a different part")]

use warden::{Principal, Request, Resource};

pub const POLICY: &str = include_str!("../../examples/00-tour.warden");

/// Load options for the tour: its cron route reads `secret(CRON_SECRET)`.
pub fn options() -> warden::Options {
    warden::Options::default().secret("CRON_SECRET", "bench-cron-secret")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub org: String,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Post {
    pub author: String,
    pub org: String,
}

#[derive(Debug, Clone)]
pub enum Target {
    Post(usize),
    User(usize),
}

/// One request of the mix, in the host's own types.
#[derive(Debug, Clone)]
pub struct Case {
    pub user: usize,
    pub action: &'static str,
    pub target: Target,
}

#[derive(Debug)]
pub struct World {
    pub users: Vec<User>,
    pub posts: Vec<Post>,
    pub cases: Vec<Case>,
}

/// A small deterministic generator (SplitMix64), so every run sees the same mix.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn world(n_cases: usize) -> World {
    let mut rng = Rng(3);
    let users: Vec<User> = (0..1000)
        .map(|i| User {
            id: format!("u{i}"),
            org: format!("o{}", i % 10),
            role: match rng.below(20) {
                0 => Role::Admin,
                1..=5 => Role::Editor,
                _ => Role::Viewer,
            },
        })
        .collect();
    let posts: Vec<Post> = (0..10_000)
        .map(|j| {
            let author = (j * 7) % 1000;
            Post {
                author: users[author].id.clone(),
                org: users[author].org.clone(),
            }
        })
        .collect();
    let cases = (0..n_cases)
        .map(|_| {
            let action = match rng.below(20) {
                0..=9 => "posts:read",
                10..=14 => "posts:write",
                15 => "posts:delete",
                16 => "users:read",
                _ => "users:write",
            };
            // Mostly the caller's own org; posts of the caller's own often enough.
            let user = rng.below(users.len());
            // Post j is by user 7j mod 1000, in org 7j mod 10.
            let org = user % 10;
            let target = if action.starts_with("posts") {
                let p = match rng.below(4) {
                    0 => (143 * user) % 1000 + 1000 * rng.below(10),
                    1 | 2 => 10 * rng.below(1000) + (3 * org) % 10,
                    _ => rng.below(posts.len()),
                };
                Target::Post(p)
            } else {
                match rng.below(4) {
                    0 => Target::User(rng.below(users.len())),
                    _ => Target::User(10 * rng.below(100) + org),
                }
            };
            Case {
                user,
                action,
                target,
            }
        })
        .collect();
    World {
        users,
        posts,
        cases,
    }
}

impl World {
    /// The request the way a host builds it: owned values.
    pub fn request(&self, c: &Case) -> Request {
        let u = &self.users[c.user];
        let p = Principal::new(u.id.clone())
            .role(u.role.name())
            .attr("org", u.org.clone());
        let r = match c.target {
            Target::Post(i) => Resource::new("post", format!("p{i}"))
                .attr("author", self.posts[i].author.clone())
                .attr("org", self.posts[i].org.clone()),
            Target::User(i) => Resource::new("user", self.users[i].id.clone())
                .attr("org", self.users[i].org.clone())
                .attr("role", self.users[i].role.name()),
        };
        Request::new(c.action).principal(p).resource(r)
    }

    /// The request as JSON, as a host with dicts or a web framework has it.
    pub fn json(&self, c: &Case) -> serde_json::Value {
        let u = &self.users[c.user];
        let resource = match c.target {
            Target::Post(i) => serde_json::json!({"type": "post", "id": format!("p{i}"),
                "author": self.posts[i].author, "org": self.posts[i].org}),
            Target::User(i) => serde_json::json!({"type": "user", "id": self.users[i].id,
                "org": self.users[i].org, "role": self.users[i].role.name()}),
        };
        serde_json::json!({
            "principal": {"id": u.id, "roles": [u.role.name()], "org": u.org},
            "action": c.action,
            "resource": resource,
        })
    }

    /// The same rules written by hand in plain Rust: the baseline.
    pub fn hand(&self, c: &Case) -> bool {
        let u = &self.users[c.user];
        let granted = match c.action {
            "posts:read" | "users:read" => true,
            "posts:write" | "posts:delete" => u.role >= Role::Editor,
            a => a.starts_with("users:") && u.role == Role::Admin,
        };
        if !granted {
            return false;
        }
        let admin = u.role == Role::Admin;
        match c.target {
            Target::Post(i) => {
                let p = &self.posts[i];
                let writes = matches!(c.action, "posts:write" | "posts:delete");
                let owns = p.author == u.id || admin;
                (!writes || owns) && (p.org == u.org || admin)
            }
            Target::User(i) => {
                let t = &self.users[i];
                let ceiling = matches!(c.action, "users:write" | "users:delete") && t.role > u.role;
                (t.org == u.org || admin) && !ceiling
            }
        }
    }
}
