'use strict';
// Seed 003's API as it runs (`node dist/server.js`, production) over loopback: one test
// per concern of the seed. Behind a TLS proxy: requests carry X-Forwarded-Proto: https,
// except the one that checks the HTTPS redirect. The policy's global limit (100 per 15
// minutes per address) is shared by all of these tests: they stay well under it.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { start } = require('../../support/run');

const ENV = {
  NODE_ENV: 'production',
  JWT_SECRET: 'example-jwt-secret-0123456789abcdef0123',
  JWT_REFRESH_SECRET: 'example-jwt-refresh-secret-0123456789',
};
const API_KEY = 'sk_test_client7_0123456789abcdef';
const REVOKED_KEY = 'sk_test_client3_0123456789abcdef';

let app;
test.before(async () => {
  app = await start(path.join(__dirname, '..', 'dist', 'server.js'), ENV);
});
test.after(() => app.stop());

function call(p, { method = 'GET', token, headers = {}, body } = {}) {
  const h = { 'x-forwarded-proto': 'https', ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  return fetch(`${app.base}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
}

const tokens = {};
async function login(email, password) {
  if (tokens[email]) return tokens[email];
  const r = await call('/api/auth/login', { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200);
  tokens[email] = { token: (await r.json()).accessToken, cookies: r.headers.getSetCookie() };
  return tokens[email];
}

// A GET with its own Host header (fetch() adds a second one, which Node refuses).
function getWithHost(p, host) {
  return new Promise((resolve, reject) => {
    const u = new URL(app.base);
    const req = http.get({ host: u.hostname, port: u.port, path: p, headers: { host, 'x-forwarded-proto': 'http' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
  });
}

test('seed 003 "Force HTTPS": plain http in production is redirected (301) to https://host + url', async () => {
  const r = await getWithHost('/pricing?plan=pro', 'myapp.com');
  assert.equal(r.statusCode, 301);
  assert.equal(r.headers.location, 'https://myapp.com/pricing?plan=pro');
  assert.equal(r.headers['x-powered-by'], undefined);
  // A Host the policy does not list is never echoed into a redirect.
  const evil = await getWithHost('/', 'evil.example');
  assert.ok(!String(evil.headers.location).includes('evil.example'));
});

test('seed 003 authenticate middleware: 401 without a token, the principal with one', async () => {
  const anon = await call('/api/posts/p1', { method: 'PUT', body: {} });
  assert.equal(anon.status, 401);
  const { token } = await login('editor@myapp.com', 'editor-password-1');
  const me = await call('/api/me', { token });
  assert.equal(me.status, 200);
  assert.deepEqual(await me.json(), { user: { id: 'u1', roles: ['editor'] } });
  assert.equal((await call('/api/posts/p1', { method: 'PUT', token: `${token}x`, body: {} })).status, 401);
});

test('seed 003 refresh cookie "httpOnly, secure, sameSite strict, path /api/auth/refresh, 7 days"', async () => {
  const { cookies } = await login('editor@myapp.com', 'editor-password-1');
  assert.equal(cookies.length, 1);
  const c = cookies[0];
  assert.match(c, /^refreshToken=[\w-]+\.[\w-]+\.[\w-]+;/);
  for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/api/auth/refresh', 'Max-Age=604800']) {
    assert.ok(c.split('; ').includes(attr), `${attr} in ${c}`);
  }
});

test('seed 003 requireRole("editor", "admin") and "Not authorized to edit this post"', async () => {
  const viewer = await login('viewer@myapp.com', 'viewer-password-1');
  const editor = await login('editor@myapp.com', 'editor-password-1');
  const admin = await login('admin@myapp.com', 'admin-password-01');
  assert.equal((await call('/api/posts/p1', { method: 'PUT', token: viewer.token, body: { title: 'x' } })).status, 403);
  const own = await call('/api/posts/p1', { method: 'PUT', token: editor.token, body: { title: 'edited' } });
  assert.equal(own.status, 200);
  assert.equal((await own.json()).title, 'edited');
  const other = await call('/api/posts/p2', { method: 'PUT', token: editor.token, body: { title: 'x' } });
  assert.equal(other.status, 403);
  assert.deepEqual(await other.json(), { error: 'Not authorized to edit this post' });
  assert.equal((await call('/api/posts/p2', { method: 'PUT', token: admin.token, body: { title: 'y' } })).status, 200);
});

test('list endpoint: GET /api/posts/editable pages through exactly the posts authorize lets the caller write', async () => {
  // The same policy and rows, decided one post at a time here: what the PUT's check
  // answers for each post. The app filters in SQLite instead.
  const { Engine } = require('warden-policy');
  const { seedPosts } = require('../dist/posts');
  const policy = path.join(__dirname, '..', '..', '..', '..', 'policies', 'security-patterns.warden');
  const engine = Engine.fromFile(policy, { env: 'production', secrets: { JWT_SECRET: ENV.JWT_SECRET, JWT_REFRESH_SECRET: ENV.JWT_REFRESH_SECRET } });
  assert.equal((await call('/api/posts/editable')).status, 401);
  const sizes = {};
  for (const [email, password] of [['viewer@myapp.com', 'viewer-password-1'], ['editor@myapp.com', 'editor-password-1'], ['admin@myapp.com', 'admin-password-01']]) {
    const { token } = await login(email, password);
    const principal = (await (await call('/api/me', { token })).json()).user;
    const want = seedPosts()
      .filter((p) => engine.authorize({ principal, action: 'posts:write', resource: { type: 'post', id: p.id, author: p.author } }).allowed)
      .map((p) => p.id)
      .sort();
    const got = [];
    for (let offset = 0; ; offset += 20) {
      const r = await call(`/api/posts/editable?limit=20&offset=${offset}`, { token });
      assert.equal(r.status, 200);
      const page = (await r.json()).posts;
      // Every page but the last is full: the filter runs before LIMIT/OFFSET.
      if (got.length + page.length < want.length) assert.equal(page.length, 20, `${email} at ${offset}`);
      got.push(...page.map((p) => p.id));
      if (page.length < 20) break;
    }
    assert.deepEqual(got, want, email);
    sizes[principal.id] = got.length;
  }
  // The viewer may edit nothing, the editor their own posts, the admin all 120.
  assert.deepEqual(sizes, { u2: 0, u1: seedPosts().filter((p) => p.author === 'u1').length, a1: 120 });
  assert.ok(sizes.u1 > 20);
});

test('seed 003 API keys: required on /api/v1, hashed lookup, revoked keys refused', async () => {
  assert.equal((await call('/api/v1/reports')).status, 401);
  const ok = await call('/api/v1/reports', { headers: { 'x-api-key': API_KEY } });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { client: 'client-7', reports: [] });
  assert.equal((await call('/api/v1/reports', { headers: { 'x-api-key': REVOKED_KEY } })).status, 401);
  assert.equal((await call('/api/v1/reports', { headers: { 'x-api-key': `${API_KEY}X` } })).status, 401);
});

test('seed 003 createUserSchema: 400 before the handler', async () => {
  const post = (body) => call('/api/users', { method: 'POST', body });
  assert.equal((await post({ email: 'not-an-email', name: 'A', password: 'long-enough-password' })).status, 400);
  assert.equal((await post({ email: 'a@b.co', name: 'A', password: 'short' })).status, 400);
  assert.equal((await post({ email: 'a@b.co', name: 'A', password: 'long-enough-password', age: 12 })).status, 400);
  // `name: z.string()`: a JSON list or number is no name, whatever its length.
  assert.equal((await post({ email: 'a@b.co', name: ['A'], password: 'long-enough-password' })).status, 400);
  assert.equal((await post({ email: 'a@b.co', name: 1, password: 'long-enough-password' })).status, 400);
  const ok = await post({ email: 'a@b.co', name: 'A', password: 'long-enough-password', age: 30 });
  assert.equal(ok.status, 201);
});

test('seed 003 helmet: security headers, no X-Powered-By', async () => {
  const r = await call('/health');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-powered-by'), null);
  assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN');
  assert.equal(r.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  assert.match(r.headers.get('content-security-policy'), /img-src 'self' data: https:\/\/cdn\.example\.com/);
  assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(r.headers.get('x-xss-protection'), '0');
});

test('seed 003 CORS: a preflight from myapp.com is answered, localhost is refused in production', async () => {
  const pre = (origin) =>
    call('/api/posts/p1', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT' } });
  const ok = await pre('https://myapp.com');
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://myapp.com');
  assert.equal(ok.headers.get('access-control-max-age'), '86400');
  assert.match(ok.headers.get('vary'), /Origin/);
  const local = await pre('http://localhost:3000');
  assert.equal(local.headers.get('access-control-allow-origin'), null);
  // `callback(new Error("Not allowed by CORS"))` reaches Express's error handler: 500,
  // for the preflight and for the request itself, which no route serves.
  assert.equal(local.status, 500);
  const post = await call('/api/posts/p1', { method: 'PUT', headers: { origin: 'https://evil.example' }, body: { title: 'x' } });
  assert.equal(post.status, 500);
  assert.equal(post.headers.get('access-control-allow-origin'), null);
});

// Last: it spends the login budget.
test('seed 003 loginLimiter "5 per 15 minutes": 429 with RateLimit and Retry-After', async () => {
  const attempt = () => call('/api/auth/login', { method: 'POST', body: { email: 'nobody@myapp.com', password: 'wrong-password' } });
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await attempt()).status);
  assert.ok(statuses.includes(429), `statuses: ${statuses}`);
  const r = await attempt();
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
  assert.match(r.headers.get('ratelimit'), /"login";r=0;t=\d+/);
});
