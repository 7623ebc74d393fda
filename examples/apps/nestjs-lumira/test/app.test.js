'use strict';
// Lumira V2's API (seed 000) as it runs (`node dist/main.js`) over loopback: one test
// per concern of the seed. The policy's global limit (100 per 60 s per address) is
// shared by these tests: they stay under it.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { start } = require('../../support/run');

const ENV = { NODE_ENV: 'production', JWT_SECRET: 'example-jwt-secret-not-the-dev-one', NEXTAUTH_SECRET: 'example-nextauth-secret' };

let app;
test.before(async () => {
  app = await start(path.join(__dirname, '..', 'dist', 'main.js'), ENV);
});
test.after(() => app.stop());

function call(p, { method = 'GET', token, headers = {}, body } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  return fetch(`${app.base}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
}

const tokens = {};
async function login(email, password) {
  if (tokens[email]) return tokens[email];
  const r = await call('/auth/login', { method: 'POST', body: { email, password } });
  assert.equal(r.status, 200, await r.clone().text());
  tokens[email] = (await r.json()).accessToken;
  return tokens[email];
}

test('seed 000 JwtAuthGuard: 401 in Nest\'s error shape without a valid token', async () => {
  const r = await call('/admin/users');
  assert.equal(r.status, 401);
  assert.deepEqual(await r.json(), { statusCode: 401, message: 'missing_token', error: 'Unauthorized' });
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  const forged = await call('/admin/users', { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhMSIsInJvbGUiOiJBRE1JTiJ9.x' });
  assert.equal(forged.status, 401);
});

test('@Principal(): the handler reads the principal Warden verified', async () => {
  const token = await login('user@lumira.test', 'user-password');
  const me = await call('/me', { token });
  assert.equal(me.status, 200);
  assert.deepEqual(await me.json(), { user: { id: 'u1', roles: ['USER'], email: 'user@lumira.test' } });
});

test('seed 000 @Roles(Role.ADMIN) on admin/users: 403 for a USER, 200 for an ADMIN', async () => {
  const user = await login('user@lumira.test', 'user-password');
  const r = await call('/admin/users', { token: user });
  assert.equal(r.status, 403);
  assert.deepEqual(await r.json(), { statusCode: 403, message: 'requires role ADMIN', error: 'Forbidden' });
  const admin = await login('admin@lumira.test', 'admin-password');
  const ok = await call('/admin/users', { token: admin });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).length, 3);
});

test('WardenService in a service: users:list checked whatever the route', async () => {
  const anon = await call('/users');
  assert.equal(anon.status, 403);
  assert.equal((await anon.json()).error, 'Forbidden');
  assert.equal((await call('/users', { token: await login('user@lumira.test', 'user-password') })).status, 403);
  assert.equal((await call('/users', { token: await login('admin@lumira.test', 'admin-password') })).status, 200);
});

test('seed 000 LoginDto (whitelist, forbidNonWhitelisted, IsEmail, MinLength 8): 400', async () => {
  const post = (body) => call('/auth/login', { method: 'POST', body });
  assert.equal((await post({ email: 'user@lumira.test', password: 'user-password', admin: true })).status, 400);
  assert.equal((await post({ email: 'not-an-email', password: 'user-password' })).status, 400);
  const short = await post({ email: 'user@lumira.test', password: 'short' });
  assert.equal(short.status, 400);
  assert.equal((await short.json()).error, 'Bad Request');
});

test('seed 000 helmet: CSP, HSTS and the rest; no X-Powered-By', async () => {
  const r = await call('/health');
  assert.equal(r.status, 200);
  // helmet merges the seed's directives with its defaults (useDefaults since helmet 5).
  assert.equal(
    r.headers.get('content-security-policy'),
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data: https:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline';upgrade-insecure-requests",
  );
  assert.equal(r.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('x-powered-by'), null);
  // Also where no handler answers (guards would never run there).
  const missing = await call('/nowhere');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-frame-options'), 'SAMEORIGIN');
});

test('seed 000 enableCors: a preflight from sociopulse.fr is answered, from elsewhere refused', async () => {
  const pre = (origin) =>
    call('/admin/users', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  const ok = await pre('https://sociopulse.fr');
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://sociopulse.fr');
  assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
  const evil = await pre('https://evil.example');
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
});

// Last: it spends the login budget. Bodies the validation refuses count as well, as
// with @nestjs/throttler's guard (guards run before pipes).
test('seed 000 @Throttle(5, 60) on login: 429 with RateLimit and Retry-After', async () => {
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await call('/auth/login', { method: 'POST', body: { email: 'x' } })).status);
  assert.ok(statuses.includes(429), `statuses: ${statuses}`);
  const r = await call('/auth/login', { method: 'POST', body: { email: 'user@lumira.test', password: 'user-password' } });
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
  assert.match(r.headers.get('ratelimit'), /"login";r=0;t=\d+/);
  assert.equal((await r.json()).error, 'Too Many Requests');
});
