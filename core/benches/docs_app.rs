//! The docs-app workload shared by the benchmark and the allocation test: the tour
//! policy, 1,000 users in 10 orgs, 10,000 posts, a deterministic request mix; and
//! [`cold_rows`], the same mix as 100,000+ distinct requests that each own their data
//! (what a host loaded for one request), too many to stay in the CPU caches.

#![allow(dead_code, reason = "each includer uses a different part")]

use warden::{Principal, PrincipalRef, Request, RequestRef, Resource, ResourceRef};

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
    /// The host's own id for the post (`p{index}`).
    pub id: String,
    pub author: String,
    pub org: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
                id: format!("p{j}"),
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
            Target::Post(i) => Resource::new("post", self.posts[i].id.clone())
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

    /// The same request borrowed from the world's data: no string copied.
    pub fn request_ref(&self, c: &Case) -> RequestRef<'_> {
        let u = &self.users[c.user];
        let target = match c.target {
            Target::Post(i) => TargetRef::Post(&self.posts[i]),
            Target::User(i) => TargetRef::User(&self.users[i]),
        };
        borrowed(u, c.action, target)
    }

    /// The request as JSON text (what a sidecar or a binding receives).
    pub fn json_text(&self, c: &Case) -> String {
        self.json(c).to_string()
    }
}

/// A built request as its JSON (the shape of docs/JSON.md).
pub fn json_of(q: &Request) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("action".into(), q.action.clone().into());
    if let Some(p) = &q.principal {
        m.insert("principal".into(), p.to_json());
    }
    if let Some(r) = &q.resource {
        let mut o = serde_json::Map::new();
        for (k, v) in &r.attrs.0 {
            o.insert(k.clone(), v.to_json());
        }
        o.insert("type".into(), r.ty.clone().into());
        o.insert("id".into(), r.id.clone().into());
        m.insert("resource".into(), o.into());
    }
    if !q.context.0.is_empty() {
        let c: serde_json::Map<_, _> = q
            .context
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        m.insert("context".into(), c.into());
    }
    serde_json::Value::Object(m)
}

impl World {
    /// The same rules written by hand in plain Rust: the baseline.
    pub fn hand(&self, c: &Case) -> bool {
        let target = match c.target {
            Target::Post(i) => TargetRef::Post(&self.posts[i]),
            Target::User(i) => TargetRef::User(&self.users[i]),
        };
        hand(&self.users[c.user], c.action, target)
    }
}

/// What a request acts on, borrowed from the host's data.
#[derive(Debug, Clone, Copy)]
pub enum TargetRef<'a> {
    Post(&'a Post),
    User(&'a User),
}

/// The ordinary way a Rust host builds a borrowed request from its own data.
#[inline]
pub fn borrowed<'a>(u: &'a User, action: &'a str, target: TargetRef<'a>) -> RequestRef<'a> {
    let p = PrincipalRef::new(&u.id)
        .role(u.role.name())
        .attr("org", &u.org);
    let r = match target {
        TargetRef::Post(post) => ResourceRef::new("post", &post.id)
            .attr("author", &post.author)
            .attr("org", &post.org),
        TargetRef::User(t) => ResourceRef::new("user", &t.id)
            .attr("org", &t.org)
            .attr("role", t.role.name()),
    };
    RequestRef::new(action).principal(p).resource(r)
}

/// The ordinary way a Rust host builds an owned request from its own data.
pub fn owned(u: &User, action: &str, target: TargetRef<'_>) -> Request {
    let p = Principal::new(u.id.clone())
        .role(u.role.name())
        .attr("org", u.org.clone());
    let r = match target {
        TargetRef::Post(post) => Resource::new("post", post.id.clone())
            .attr("author", post.author.clone())
            .attr("org", post.org.clone()),
        TargetRef::User(t) => Resource::new("user", t.id.clone())
            .attr("org", t.org.clone())
            .attr("role", t.role.name()),
    };
    Request::new(action).principal(p).resource(r)
}

/// The rules of the tour written by hand in plain Rust over the host's data: the baseline.
#[inline]
pub fn hand(u: &User, action: &str, target: TargetRef<'_>) -> bool {
    let granted = match action {
        "posts:read" | "users:read" => true,
        "posts:write" | "posts:delete" => u.role >= Role::Editor,
        a => a.starts_with("users:") && u.role == Role::Admin,
    };
    if !granted {
        return false;
    }
    let admin = u.role == Role::Admin;
    match target {
        TargetRef::Post(p) => {
            let writes = matches!(action, "posts:write" | "posts:delete");
            let owns = p.author == u.id || admin;
            (!writes || owns) && (p.org == u.org || admin)
        }
        TargetRef::User(t) => {
            let ceiling = matches!(action, "users:write" | "users:delete") && t.role > u.role;
            (t.org == u.org || admin) && !ceiling
        }
    }
}

/// One request of the cold set: the rows a host loaded for it (its own copies of the
/// user and the target), as after a session lookup and a database read.
#[derive(Debug, Clone)]
pub struct Row {
    pub user: User,
    pub action: &'static str,
    pub target: RowTarget,
}

#[derive(Debug, Clone)]
pub enum RowTarget {
    Post(Post),
    User(User),
}

impl Row {
    pub fn target(&self) -> TargetRef<'_> {
        match &self.target {
            RowTarget::Post(p) => TargetRef::Post(p),
            RowTarget::User(u) => TargetRef::User(u),
        }
    }
    pub fn request(&self) -> Request {
        owned(&self.user, self.action, self.target())
    }
    pub fn request_ref(&self) -> RequestRef<'_> {
        borrowed(&self.user, self.action, self.target())
    }
    pub fn hand(&self) -> bool {
        hand(&self.user, self.action, self.target())
    }
}

/// `n` distinct requests of the docs-app mix (the generator's repeats dropped), each
/// owning its data, in a shuffled order: a request's strings are not next to the previous
/// request's, as in real traffic, so walking the set misses the caches.
pub fn cold_rows(n: usize) -> Vec<Row> {
    let w = world(n + n / 2);
    let mut seen = std::collections::HashSet::new();
    let mut rows: Vec<Row> = w
        .cases
        .iter()
        .filter(|c| seen.insert((c.user, c.action, c.target.clone())))
        .take(n)
        .map(|c| Row {
            user: w.users[c.user].clone(),
            action: c.action,
            target: match c.target {
                Target::Post(i) => RowTarget::Post(w.posts[i].clone()),
                Target::User(i) => RowTarget::User(w.users[i].clone()),
            },
        })
        .collect();
    assert_eq!(
        rows.len(),
        n,
        "the mix has fewer distinct requests than asked"
    );
    let mut rng = Rng(7);
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.below(i + 1));
    }
    rows
}
