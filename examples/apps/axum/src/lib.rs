//! Seed 003 ("Security Patterns") users/posts API on axum. `policies/security-patterns.warden`
//! does what the seed's Express middlewares do: [`warden_tower::WardenLayer`]
//! authenticates (bearer JWT, API keys), enforces roles, rate limits, CORS, security
//! headers, the HTTPS redirect in production and the cookie flags; the handlers load
//! data and ask for resource-level checks ([`warden_tower::Authorizer`]). Posts live in
//! a real SQLite database; `GET /api/posts/editable` lists the ones the caller may edit
//! with the policy's own rule as a parameterized `WHERE` fragment
//! ([`warden::Engine::residual`], [`warden::filter::Residual::to_sql`]), so each page is
//! a page of allowed rows.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use warden::filter::{ColumnMap, ColumnType, Dialect, SqlParam};
use warden::{Attrs, Engine, Resource, Value};
use warden_tower::{detail_body, Authenticated, Authorizer, MaybePrincipal, Refused, WardenLayer};

/// One user of the in-memory store.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    /// Compared in constant time; a real app stores an argon2 or bcrypt hash.
    pub password: String,
}

/// One post of the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Post {
    pub id: String,
    pub author: String,
    pub title: String,
    pub body: String,
}

/// The app's data and its JWT key.
#[derive(Debug)]
pub struct Store {
    users: Mutex<HashMap<String, User>>,
    /// The `posts` table (SQLite, in memory).
    posts: Mutex<Connection>,
    refresh: Mutex<HashMap<String, String>>,
    jwt_secret: String,
}

impl Store {
    /// The seed's users (an editor, a viewer, a second editor, an admin) and
    /// [`seed_posts`].
    pub fn seeded(jwt_secret: &str) -> Store {
        let user = |id: &str, email: &str, role: &str, password: &str| User {
            id: id.into(),
            email: email.into(),
            name: id.to_uppercase(),
            role: role.into(),
            password: password.into(),
        };
        Store {
            users: Mutex::new(
                [
                    user("u1", "ed@example.com", "editor", "correct horse battery"),
                    user("u2", "vi@example.com", "viewer", "viewer password 1"),
                    user("u3", "eve@example.com", "editor", "another editor pw"),
                    user("a1", "ad@example.com", "admin", "admin password 1"),
                ]
                .into_iter()
                .map(|u| (u.id.clone(), u))
                .collect(),
            ),
            posts: Mutex::new(posts_db()),
            refresh: Mutex::new(HashMap::new()),
            jwt_secret: jwt_secret.into(),
        }
    }
}

/// `p1` by u1 and `p2` by u3, then `p003`..`p102` by the four users and two others.
pub fn seed_posts() -> Vec<Post> {
    let post = |id: String, author: &str| Post {
        title: format!("post {id}"),
        id,
        author: author.into(),
        body: String::new(),
    };
    let authors = ["u1", "u2", "u3", "a1", "u1", "x9", "u3", "ghost"];
    let mut posts = vec![post("p1".into(), "u1"), post("p2".into(), "u3")];
    posts.extend((3..103).map(|i| post(format!("p{i:03}"), authors[(i * 5) % authors.len()])));
    posts
}

fn posts_db() -> Connection {
    // An in-memory database cannot fail to open short of memory exhaustion.
    #[allow(clippy::expect_used, reason = "startup, fixed SQL")]
    let db = Connection::open_in_memory().expect("SQLite in memory");
    #[allow(clippy::expect_used, reason = "startup, fixed SQL")]
    {
        db.execute_batch("CREATE TABLE posts (id TEXT PRIMARY KEY, author TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL)")
            .expect("create posts");
        let mut ins = db
            .prepare("INSERT INTO posts VALUES (?1, ?2, ?3, ?4)")
            .expect("insert");
        for p in seed_posts() {
            ins.execute((&p.id, &p.author, &p.title, &p.body))
                .expect("insert");
        }
    }
    db
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    role: &'a str,
    iat: u64,
    exp: u64,
}

/// An HS256 access token like the seed's `jwt.sign({ sub, role }, JWT_SECRET, { expiresIn: "15m" })`.
pub fn access_token(secret: &str, sub: &str, role: &str, lifetime_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = Claims {
        sub,
        role,
        iat: now,
        exp: now.saturating_add_signed(lifetime_secs),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// The `input` facts of `POST /api/users`: the password's length only, never the password.
fn user_facts(parts: &axum::http::request::Parts, body: &Bytes) -> Vec<(String, Value)> {
    if parts.uri.path() != "/api/users" {
        return Vec::new();
    }
    let Ok(Json_::Object(data)) = serde_json::from_slice::<Json_>(body) else {
        return Vec::new();
    };
    let mut facts: Vec<(String, Value)> = ["email", "name", "age"]
        .into_iter()
        .filter_map(|k| data.get(k).map(|v| (k.to_owned(), Value::from_json(v))))
        .collect();
    if let Some(Json_::String(p)) = data.get("password") {
        facts.push((
            "password_length".into(),
            Value::from(p.chars().count() as i64),
        ));
    }
    facts
}

/// The app: routes, the Warden layer (FastAPI-style `{"detail": ...}` refusals) and
/// the store.
pub fn app(engine: Engine, store: Arc<Store>) -> Router {
    let engine = Arc::new(engine);
    let filter_engine = Arc::clone(&engine);
    Router::new()
        .route("/health", get(health))
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/me", get(me))
        .route("/api/whoami", get(whoami))
        .route("/api/posts", get(list_posts))
        .route(
            "/api/posts/editable",
            get(
                move |State(store): AppState,
                      Authenticated(p): Authenticated,
                      Query(page): Query<Page>| {
                    editable_posts(Arc::clone(&filter_engine), store, p, page)
                },
            ),
        )
        .route(
            "/api/posts/{id}",
            put(update_post).get(get_post).delete(delete_post),
        )
        .route("/api/users", post(create_user))
        .route("/api/users/{id}", get(get_user).delete(delete_user))
        .route("/api/v1/reports", get(reports))
        .with_state(store)
        .layer(
            WardenLayer::new(engine)
                .deny_body(detail_body)
                .body_input(user_facts),
        )
}

type AppState = State<Arc<Store>>;

fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

async fn health() -> impl IntoResponse {
    // The policy drops it.
    ([("x-powered-by", "axum")], Json(json!({ "status": "ok" })))
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

async fn login(State(store): AppState, Json(form): Json<Login>) -> Response {
    let user = lock(&store.users)
        .values()
        .find(|u| u.email == form.email)
        .cloned();
    let Some(user) = user.filter(|u| constant_eq(&u.password, &form.password)) else {
        return detail(StatusCode::UNAUTHORIZED, "Invalid email or password");
    };
    let refresh = format!(
        "r-{}-{}",
        user.id,
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    lock(&store.refresh).insert(refresh.clone(), user.id.clone());
    let token = access_token(&store.jwt_secret, &user.id, &user.role, 15 * 60);
    // The flags are the policy's business: the layer adds HttpOnly, Secure, SameSite...
    (
        [(header::SET_COOKIE, format!("refreshToken={refresh}"))],
        Json(json!({ "accessToken": token })),
    )
        .into_response()
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn refresh(State(store): AppState, headers: HeaderMap) -> Response {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == "refreshToken")
        .map(|(_, v)| v.to_owned());
    let user_id = cookie.and_then(|c| lock(&store.refresh).get(&c).cloned());
    let user = user_id.and_then(|id| lock(&store.users).get(&id).cloned());
    match user {
        Some(u) => {
            Json(json!({ "accessToken": access_token(&store.jwt_secret, &u.id, &u.role, 15 * 60) }))
                .into_response()
        }
        None => detail(StatusCode::UNAUTHORIZED, "Invalid refresh token"),
    }
}

async fn me(Authenticated(p): Authenticated) -> Json<Json_> {
    Json(json!({ "id": p.id, "roles": p.roles }))
}

async fn whoami(MaybePrincipal(p): MaybePrincipal) -> Json<Json_> {
    Json(json!({ "id": p.map(|p| p.id) }))
}

async fn list_posts(
    State(store): AppState,
    authz: Authorizer,
) -> Result<Json<Vec<Post>>, Response> {
    authz
        .authorize_action("posts:read")
        .map_err(detail_refused)?;
    query_posts(
        &store,
        "SELECT id, author, title, body FROM posts ORDER BY id",
        &[],
    )
    .map(Json)
}

fn db_error(e: &rusqlite::Error) -> Response {
    // The error names SQL, never data: kept for the log, a plain 500 for the client.
    eprintln!("posts query failed: {e}");
    detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

fn query_posts(store: &Store, sql: &str, params: &[Sql]) -> Result<Vec<Post>, Response> {
    let db = lock(&store.posts);
    let mut st = db.prepare_cached(sql).map_err(|e| db_error(&e))?;
    let rows = st
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            Ok(Post {
                id: r.get(0)?,
                author: r.get(1)?,
                title: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .map_err(|e| db_error(&e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| db_error(&e))
}

#[derive(Deserialize)]
struct Page {
    #[serde(default = "twenty")]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn twenty() -> u32 {
    20
}

/// The list twin of `PUT /api/posts/{id}`'s check: the posts the caller may edit, with
/// the policy's "author or admin" rule run by SQLite as a parameterized `WHERE`
/// fragment, paged after it (never a copy of the rule in SQL).
async fn editable_posts(
    engine: Arc<Engine>,
    store: Arc<Store>,
    principal: warden::Principal,
    page: Page,
) -> Result<Json<Json_>, Response> {
    let limit = page.limit.clamp(1, 100);
    let residual = engine
        .residual("posts:write", "post", Some(&principal), &Attrs::new())
        .map_err(|e| {
            // A rule no SQL can express: never a wrong page.
            eprintln!("{e}");
            detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "this list cannot be filtered",
            )
        })?;
    let map = ColumnMap::new("posts")
        .column("id", "id", ColumnType::String)
        .column("author", "author", ColumnType::String);
    let f = residual.to_sql(&map, Dialect::Sqlite, 1).map_err(|e| {
        eprintln!("{e}");
        detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "this list cannot be filtered",
        )
    })?;
    let mut params: Vec<Sql> = f
        .params
        .iter()
        .map(|p| match p {
            SqlParam::Text(s) => Sql::Text(s.clone()),
            SqlParam::Number(n) => Sql::Real(*n),
            SqlParam::Bool(b) => Sql::Integer(i64::from(*b)),
            SqlParam::Integer(i) => Sql::Integer(*i),
        })
        .collect();
    params.push(Sql::Integer(i64::from(limit)));
    params.push(Sql::Integer(i64::from(page.offset)));
    let sql = format!(
        "SELECT id, author, title, body FROM posts WHERE {} ORDER BY id LIMIT ? OFFSET ?",
        f.sql
    );
    let posts = query_posts(&store, &sql, &params)?;
    Ok(Json(
        json!({ "posts": posts, "limit": limit, "offset": page.offset }),
    ))
}

fn post_resource(p: &Post) -> Resource {
    Resource::new("post", &*p.id).attr("author", &*p.author)
}

fn load_post(store: &Store, id: &str) -> Result<Post, Response> {
    query_posts(
        store,
        "SELECT id, author, title, body FROM posts WHERE id = ?1",
        &[Sql::Text(id.into())],
    )?
    .pop()
    .ok_or_else(|| detail(StatusCode::NOT_FOUND, "Not found"))
}

async fn get_post(
    State(store): AppState,
    authz: Authorizer,
    Path(id): Path<String>,
) -> Result<Json<Post>, Response> {
    let post = load_post(&store, &id)?;
    authz
        .authorize("posts:read", post_resource(&post))
        .map_err(detail_refused)?;
    Ok(Json(post))
}

#[derive(Deserialize)]
struct PostUpdate {
    title: Option<String>,
    body: Option<String>,
}

async fn update_post(
    State(store): AppState,
    authz: Authorizer,
    Path(id): Path<String>,
    Json(change): Json<PostUpdate>,
) -> Result<Json<Post>, Response> {
    let post = load_post(&store, &id)?;
    authz
        .authorize("posts:write", post_resource(&post))
        .map_err(detail_refused)?;
    let mut post = post;
    if let Some(t) = change.title {
        post.title = t;
    }
    if let Some(b) = change.body {
        post.body = b;
    }
    lock(&store.posts)
        .execute(
            "UPDATE posts SET title = ?1, body = ?2 WHERE id = ?3",
            (&post.title, &post.body, &post.id),
        )
        .map_err(|e| db_error(&e))?;
    Ok(Json(post))
}

async fn delete_post(
    State(store): AppState,
    authz: Authorizer,
    Path(id): Path<String>,
) -> Result<StatusCode, Response> {
    let post = load_post(&store, &id)?;
    authz
        .authorize("posts:delete", post_resource(&post))
        .map_err(detail_refused)?;
    lock(&store.posts)
        .execute("DELETE FROM posts WHERE id = ?1", [&id])
        .map_err(|e| db_error(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// This API answers `{"detail": ...}` everywhere, refusals of handlers included.
fn detail_refused(r: Refused) -> Response {
    let mut res = detail(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN),
        &r.reason,
    );
    if r.status == 401 {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    res
}

fn load_user(store: &Store, id: &str) -> Result<User, Response> {
    lock(&store.users)
        .get(id)
        .cloned()
        .ok_or_else(|| detail(StatusCode::NOT_FOUND, "Not found"))
}

async fn get_user(
    State(store): AppState,
    authz: Authorizer,
    Path(id): Path<String>,
) -> Result<Json<Json_>, Response> {
    let user = load_user(&store, &id)?;
    authz
        .authorize("users:read", Resource::new("user", &*user.id))
        .map_err(detail_refused)?;
    Ok(Json(
        json!({ "id": user.id, "email": user.email, "name": user.name, "role": user.role }),
    ))
}

async fn delete_user(
    State(store): AppState,
    authz: Authorizer,
    Path(id): Path<String>,
) -> Result<StatusCode, Response> {
    let user = load_user(&store, &id)?;
    authz
        .authorize("users:delete", Resource::new("user", &*user.id))
        .map_err(detail_refused)?;
    lock(&store.users).remove(&id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NewUser {
    email: String,
    name: String,
    password: String,
}

async fn create_user(
    State(store): AppState,
    authz: Authorizer,
    Json(new): Json<NewUser>,
) -> Result<Response, Response> {
    // The policy validated email, name, age and the password's length before this ran.
    authz
        .authorize_action("users:write")
        .map_err(detail_refused)?;
    let id = format!("u{}", lock(&store.users).len() + 1);
    let user = User {
        id: id.clone(),
        email: new.email.clone(),
        name: new.name.trim().to_owned(),
        role: "viewer".into(),
        password: new.password,
    };
    lock(&store.users).insert(id.clone(), user);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "email": new.email })),
    )
        .into_response())
}

async fn reports(Authenticated(p): Authenticated) -> Json<Json_> {
    let client = match p.attrs.get("api_client") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    Json(json!({ "client": client, "reports": [] }))
}
