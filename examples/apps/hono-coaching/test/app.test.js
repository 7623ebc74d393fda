'use strict';
// The Coaching App (seed 004) as it runs: `node dist/server.js` on loopback, in
// production mode, one test per concern of the seed's security page.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { start } = require('../../support/run');

const ENV = {
  NODE_ENV: 'production',
  BETTER_AUTH_SECRET: 'example-better-auth-secret-0123456789abcdef',
  CLIENT_API_KEY: 'example-client-api-key-0123456789abcdef',
  DATABASE_URL: 'postgresql://coaching_app:pw@localhost:5432/coaching_app',
  MINIO_ACCESS_KEY: 'example-minio-access',
  MINIO_SECRET_KEY: 'example-minio-secret',
  BETTER_AUTH_URL: 'https://api.coaching.test',
  CORS_ORIGIN: 'https://app.coaching.test',
  SMTP_SECURE: 'true',
  SMTP_PORT: '465',
  // seed 004: "SMTP credentials are production credentials, not dev placeholders"
  SMTP_HOST: 'smtp.coaching.test',
  SMTP_PASS: 'example-smtp-pass-0123456789',
};

let app;
test.before(async () => {
  app = await start(path.join(__dirname, '..', 'dist', 'server.js'), ENV);
});
test.after(() => app.stop());

const get = (p, token, headers = {}) =>
  fetch(`${app.base}${p}`, { headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers });

// Better-auth's own sign-in limit (3 per 10 s per client, which the policy keeps)
// would refuse a fresh sign-in per test, so each user signs in once and the
// session is reused, as a browser would.
const sessions = new Map();
async function signIn(email, password) {
  if (!sessions.has(email)) sessions.set(email, freshSignIn(email, password));
  return sessions.get(email);
}

async function freshSignIn(email, password) {
  const r = await fetch(`${app.base}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(r.status, 200);
  return { token: (await r.json()).token, cookies: r.headers.getSetCookie() };
}

test('seed 004 "All /api/* routes require a valid bearer token": 401 without one', async () => {
  assert.equal((await get('/api/me')).status, 401);
  assert.equal((await get('/api/me', 'not-a-session')).status, 401);
  const health = await get('/api/health');
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
});

test('the principal reaches the handler; "Secure, HttpOnly, SameSite=Lax on session cookies"', async () => {
  const { token, cookies } = await signIn('member@coaching.test', 'member-pw');
  assert.deepEqual(cookies, [`better-auth.session_token=${token}; Path=/; HttpOnly; Secure; SameSite=Lax`]);
  const me = await get('/api/me', token);
  assert.equal(me.status, 200);
  assert.deepEqual(await me.json(), { user: { id: 'm1', roles: ['member'], email_verified: true, org: 'o1', org_roles: { o1: ['member'] } } });
});

test('seed 004 "Only platform_admin can list all organizations": 403 for others', async () => {
  const member = await signIn('member@coaching.test', 'member-pw');
  const orgAdmin = await signIn('orgadmin@coaching.test', 'org-admin-pw');
  const admin = await signIn('admin@coaching.test', 'platform-admin-pw');
  assert.equal((await get('/api/organizations', member.token)).status, 403);
  assert.equal((await get('/api/organizations', orgAdmin.token)).status, 403);
  const ok = await get('/api/organizations', admin.token);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { organizations: ['o1', 'o2'] });
});

test('seed 004 org scope and ceiling: a resource-level check in the handler', async () => {
  const orgAdmin = await signIn('orgadmin@coaching.test', 'org-admin-pw');
  assert.equal((await get('/api/users/m1', orgAdmin.token)).status, 200);
  const foreign = await get('/api/users/m2', orgAdmin.token);
  assert.equal(foreign.status, 403);
  assert.deepEqual(await foreign.json(), { error: 'the requesting user must belong to the target organization' });
  const member = await signIn('member@coaching.test', 'member-pw');
  const up = await get('/api/users/oa1', member.token);
  assert.equal(up.status, 403);
});

/** The app's policy and settings, loaded here to decide row by row what the app filters. */
function policyEngine() {
  const { Engine } = require('warden-policy');
  const policy = path.join(__dirname, '..', '..', '..', '..', 'policies', 'coaching-app.warden');
  const secrets = Object.fromEntries(['BETTER_AUTH_SECRET', 'CLIENT_API_KEY', 'DATABASE_URL', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY', 'SMTP_PASS'].map((k) => [k, ENV[k]]));
  const config = Object.fromEntries(['BETTER_AUTH_URL', 'CORS_ORIGIN', 'SMTP_SECURE', 'SMTP_PORT', 'SMTP_HOST'].map((k) => [k, ENV[k]]));
  return Engine.fromFile(policy, { env: 'production', secrets, config });
}

/** Every row of a list endpoint, `size` at a time; asserts every page but the last is
 * full (the filter runs before LIMIT/OFFSET). */
async function pageThrough(endpoint, key, token, size, want) {
  const got = [];
  for (let offset = 0; ; offset += size) {
    const r = await get(`${endpoint}?limit=${size}&offset=${offset}`, token);
    assert.equal(r.status, 200);
    const page = (await r.json())[key];
    if (got.length + page.length < want) assert.equal(page.length, size, `${endpoint} at ${offset}`);
    got.push(...page);
    if (page.length < size) return got;
  }
}

test('list endpoint: GET /api/users pages through exactly the users authorize lets the caller read', async () => {
  // The same policy and directory, decided one user at a time here (what GET
  // /api/users/:id answers); the app filters in SQLite through Drizzle instead.
  const { seedDirectory } = require('../dist/directory');
  const { directoryUsers } = require('../dist/app');
  const engine = policyEngine();
  const directory = seedDirectory(directoryUsers());
  assert.equal((await get('/api/users')).status, 401);
  const sizes = {};
  for (const [email, password] of [
    ['admin@coaching.test', 'platform-admin-pw'],
    ['orgadmin@coaching.test', 'org-admin-pw'],
    ['member@coaching.test', 'member-pw'],
  ]) {
    const { token } = await signIn(email, password);
    const principal = (await (await get('/api/me', token)).json()).user;
    const want = directory
      .filter((u) => {
        const resource = { type: 'user', id: u.id, role: u.role };
        if (u.org !== null) resource.org = u.org;
        return engine.authorize({ principal, action: 'users:read', resource }).allowed;
      })
      .map((u) => u.id)
      .sort();
    const got = (await pageThrough('/api/users', 'users', token, 15, want.length)).map((u) => u.id);
    assert.deepEqual(got, want, email);
    sizes[principal.id] = got.length;
  }
  // The platform admin reads everyone; the org admin their organization's users up to
  // org_admin (no platform admin, no one from o2, o3 or without an organization); a
  // member has no users:read at all.
  assert.equal(sizes.pa1, directory.length);
  const o1 = directory.filter((u) => u.org === 'o1' && u.role !== 'platform_admin');
  assert.equal(sizes.oa1, o1.length);
  assert.ok(sizes.oa1 > 15 && sizes.oa1 < directory.length);
  assert.equal(sizes.m1, 0);
});

test('list endpoint: GET /api/mentorships/attachable pages through exactly the mentorships authorize lets the caller attach to', async () => {
  // The seed's File Upload ACL ("a direct participant of the mentorship or an
  // OrgAdmin/Manager of the mentorship's organization"), decided row by row here; the
  // app asks SQLite, participants in a join table.
  const { seedMentorships } = require('../dist/mentorships');
  const engine = policyEngine();
  const all = seedMentorships();
  assert.equal((await get('/api/mentorships/attachable')).status, 401);
  const got = {};
  for (const [email, password] of [
    ['admin@coaching.test', 'platform-admin-pw'],
    ['orgadmin@coaching.test', 'org-admin-pw'],
    ['member@coaching.test', 'member-pw'],
  ]) {
    const { token } = await signIn(email, password);
    const principal = (await (await get('/api/me', token)).json()).user;
    const want = all
      .filter((m) => engine.authorize({ principal, action: 'files:attach', resource: { type: 'mentorship', ...m } }).allowed)
      .sort((a, b) => a.id.localeCompare(b.id));
    const rows = await pageThrough('/api/mentorships/attachable', 'mentorships', token, 10, want.length);
    assert.deepEqual(rows, want, email);
    got[principal.id] = rows;
  }
  // A member: only the mentorships they take part in. The org admin (a manager of o1):
  // every o1 mentorship and, elsewhere, those they take part in. The platform admin has
  // no organization: only their own.
  const takesPart = (id) => all.filter((m) => m.participants.includes(id));
  assert.deepEqual(got.m1, takesPart('m1'));
  assert.ok(got.m1.length > 10);
  const oa1 = all.filter((m) => m.org === 'o1' || m.participants.includes('oa1'));
  assert.deepEqual(got.oa1, oa1);
  assert.ok(oa1.some((m) => m.org !== 'o1') && oa1.some((m) => m.org === 'o1' && !m.participants.includes('oa1')));
  assert.deepEqual(got.pa1, takesPart('pa1'));
});

test('seed 004 createOrgSchema: name and slug validated before the handler (400)', async () => {
  const { token } = await signIn('member@coaching.test', 'member-pw');
  const post = (body) =>
    fetch(`${app.base}/api/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  assert.equal((await post({ name: 'Acme', slug: 'Not A Slug' })).status, 400);
  assert.equal((await post({ name: '', slug: 'acme' })).status, 400);
  const ok = await post({ name: 'Acme', slug: 'acme' });
  assert.equal(ok.status, 201);
  assert.deepEqual(await ok.json(), { created: 'acme' });
});

test('seed 004 Content-Disposition: attachment for non-media, sanitized filename', async () => {
  const { token } = await signIn('member@coaching.test', 'member-pw');
  const png = await get('/api/files/f1/stream', token);
  assert.equal(png.headers.get('content-disposition'), 'inline; filename="logo.png"');
  const html = await get('/api/files/f2/stream', token);
  assert.equal(html.status, 200);
  assert.equal(html.headers.get('content-disposition'), 'attachment; filename="evil___Set-Cookie: x=1.html"');
});

test('seed 004 hono/secure-headers: the table of headers on every response', async () => {
  const r = await get('/api/health');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('x-xss-protection'), '1; mode=block');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('strict-transport-security'), 'max-age=15552000; includeSubDomains');
});

test('seed 004 CORS_ORIGIN: a preflight from it is answered, from elsewhere refused', async () => {
  const pre = (origin) =>
    fetch(`${app.base}/api/me`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
  const ok = await pre('https://app.coaching.test');
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.coaching.test');
  assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
  assert.match(ok.headers.get('access-control-allow-headers'), /Authorization/);
  const evil = await pre('https://evil.example');
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
  assert.notEqual(evil.status, 200);
});

// Last: it spends the loopback address's auth budget.
test('seed 004 "10 requests per IP per 60-second window" on auth endpoints: 429', async () => {
  const attempt = () =>
    fetch(`${app.base}/api/auth/sign-in/email`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const statuses = [];
  // The sign-ins of the tests above count too: at most 10 pass in the window.
  for (let i = 0; i < 11; i++) statuses.push((await attempt()).status);
  assert.ok(statuses.includes(429), `statuses: ${statuses}`);
  const r = await attempt();
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
  assert.match(r.headers.get('ratelimit'), /"auth";r=0;t=\d+/);
  assert.match(r.headers.get('ratelimit-policy'), /"auth";q=10;w=60/);
});
