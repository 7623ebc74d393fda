'use strict';
// checkHttp from plain objects, and the Express middleware in a real app on loopback.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const expressApp = require('express');
const warden = require('..');
const { withServer } = require('./support');

const { Engine, RequestError } = warden;
const TOUR = path.join(__dirname, '..', '..', '..', 'examples', '00-tour.warden');
// The whole tour, limits included (counted in the engine's default memory store).
const engine = () => Engine.fromFile(TOUR, { secrets: { CRON_SECRET: 'test-cron-secret' } });
const ADMIN = { id: 'a1', roles: ['admin'], org: 'o1' };
const VIEWER = { id: 'v1', roles: ['viewer'], org: 'o1' };

test('redirects, requirements, headers', () => {
  const e = engine();
  const d = e.checkHttp({ method: 'GET', path: '/dashboard/stats?tab=1' });
  assert.equal(d.allowed, false);
  assert.equal(d.status, 302);
  assert.equal(d.location, '/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1');
  assert.equal(e.checkHttp({ method: 'GET', path: '/api/admin/users' }).status, 401);
  assert.equal(e.checkHttp({ method: 'GET', path: '/api/admin/users', principal: VIEWER }).status, 403);
  const ok = e.checkHttp({ method: 'GET', path: '/api/admin/users', principal: ADMIN });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-frame-options'], 'DENY');
  assert.ok(Object.isFrozen(ok));
});

test('cors', () => {
  const e = engine();
  assert.equal(e.checkHttp({ method: 'GET', path: '/', headers: { Origin: 'https://app.example.com' } }).headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(e.checkHttp({ method: 'GET', path: '/', headers: { origin: 'https://evil.example' } }).headers['access-control-allow-origin'], undefined);
});

test('a rate limit answers 429 with retry-after, sync and async alike', async () => {
  // The tour: `limit login: 5 per 15m by ip` on POST /api/auth/login.
  const e = engine();
  const login = { method: 'POST', path: '/api/auth/login', ip: '203.0.113.7' };
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push(e.checkHttp(login).status);
  for (let i = 0; i < 2; i++) statuses.push((await e.checkHttpAsync(login)).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
  const d = await e.checkHttpAsync(login);
  assert.equal(d.status, 429);
  assert.equal(d.allowed, false);
  assert.ok(Number(d.headers['retry-after']) > 0);
  assert.equal(e.checkHttp(login).status, 429);
  assert.equal((await e.checkHttpAsync({ ...login, ip: '203.0.113.8' })).status, 200);
  await assert.rejects(e.checkHttpAsync({ method: 'GET', path: 'x' }), (err) => err instanceof RequestError && /must start with/.test(err.message));
});

test('the express middleware relays 429 and retry-after', async () => {
  const app = expressApp();
  app.use(warden.express(engine()));
  app.post('/api/auth/login', (req, res) => res.send('logged in'));
  await withServer(app, async (base) => {
    for (let i = 0; i < 5; i++) {
      const ok = await fetch(`${base}/api/auth/login`, { method: 'POST' });
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'logged in');
    }
    const r = await fetch(`${base}/api/auth/login`, { method: 'POST' });
    assert.equal(r.status, 429);
    assert.ok('error' in (await r.json()));
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
  });
});

test('explain and bad requests', () => {
  const e = engine();
  const d = e.checkHttp({ method: 'GET', path: '/api/admin/users', principal: VIEWER }, { explain: true });
  assert.equal(d.status, 403);
  assert.ok(d.trace.routes.length > 0);
  const cases = [
    [{ path: '/' }, /missing `method`/],
    [{ method: 'GET' }, /missing `path`/],
    [{ method: 'G T', path: '/' }, /HTTP method name/],
    [{ method: 'GET', path: '/', ip: 'nope' }, /IPv4 or IPv6/],
    [{ method: 'GET', path: '/', headers: { a: 1 } }, /header `a`/],
    [{ method: 'GET', path: '/', input: { n: 10n } }, /BigInt|bigint/],
    [null, /must be an object/],
  ];
  for (const [req, re] of cases) assert.throws(() => e.checkHttp(req), (err) => err instanceof RequestError && re.test(err.message), String(re));
});

test('express middleware in a real app', async () => {
  const app = expressApp();
  app.use(warden.express(engine(), { principal: (req) => (req.get('x-test-user') ? JSON.parse(req.get('x-test-user')) : null) }));
  app.get('/', (req, res) => {
    res.set('x-frame-options', 'SAMEORIGIN').set('x-app', '1').send('home');
  });
  app.get('/raw', (req, res) => {
    res.writeHead(200, { 'X-Frame-Options': 'SAMEORIGIN', 'X-App': '2' });
    res.end('raw');
  });
  app.get('/api/admin/users', (req, res) => res.send('admin area'));
  app.post('/api/auth/login', (req, res) => res.send('logged in'));
  await withServer(app, async (base) => {
    let r = await fetch(`${base}/`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'home');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-app'), '1');
    // Headers handed to writeHead itself yield to the policy's as well.
    r = await fetch(`${base}/raw`);
    assert.equal(await r.text(), 'raw');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-app'), '2');
    r = await fetch(`${base}/api/admin/users`);
    assert.equal(r.status, 401);
    assert.ok('error' in (await r.json()));
    r = await fetch(`${base}/api/admin/users`, { headers: { 'x-test-user': JSON.stringify(VIEWER) } });
    assert.equal(r.status, 403);
    r = await fetch(`${base}/api/admin/users`, { headers: { 'x-test-user': JSON.stringify(ADMIN) } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'admin area');
    r = await fetch(`${base}/dashboard/stats?tab=1`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1');
    r = await fetch(`${base}/`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
  });
});
