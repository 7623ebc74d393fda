'use strict';
// The Hono middleware (hono.js) in a real Hono app on @hono/node-server, over loopback.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Hono } = require('hono');
const { createAdaptorServer } = require('@hono/node-server');
const warden = require('..');
const { withServer, ADAPTERS, SECRETS, jwt } = require('./support');

const USER = `Bearer ${jwt({ sub: 'u1', role: 'user' })}`;
const ADMIN = `Bearer ${jwt({ sub: 'a1', role: 'admin' })}`;
const POSTS = { p1: { type: 'post', id: 'p1', author: 'u1' }, p2: { type: 'post', id: 'p2', author: 'someone' } };

function makeApp(options) {
  const engine = warden.Engine.fromFile(ADAPTERS, { secrets: SECRETS });
  const app = new Hono();
  app.use('*', warden.hono(engine, options));
  app.get('/api/me', (c) => c.json({ principal: c.get('warden').principal, by: c.get('warden').decision.authenticated_by }));
  // A resource-level check in the handler: the author or an admin.
  app.put('/api/posts/:id', (c) => {
    const post = POSTS[c.req.param('id')];
    if (!post) return c.json({ error: 'not found' }, 404);
    const d = engine.authorize({ action: 'posts:write', principal: c.get('warden').principal, resource: post });
    if (!d.allowed) return c.json({ error: d.reason }, 403);
    return c.json({ updated: post.id });
  });
  app.post('/api/login', (c) => {
    c.header('set-cookie', 'session=s1; Path=/', { append: true });
    c.header('x-powered-by', 'Hono');
    return c.json({ ok: true });
  });
  app.get('/public', (c) => {
    c.header('vary', 'Accept-Encoding');
    return c.text('hello');
  });
  return createAdaptorServer({ fetch: app.fetch });
}

test('hono: 401, the principal in c.get("warden"), a resource-level 403', async () => {
  await withServer(makeApp(), async (base) => {
    assert.equal((await fetch(`${base}/api/me`)).status, 401);
    const me = await fetch(`${base}/api/me`, { headers: { authorization: USER } });
    assert.deepEqual(await me.json(), { principal: { id: 'u1', roles: ['user'] }, by: 'jwt:JWT_SECRET' });
    const put = (id, auth) => fetch(`${base}/api/posts/${id}`, { method: 'PUT', headers: { authorization: auth } });
    assert.equal((await put('p1', USER)).status, 200);
    const other = await put('p2', USER);
    assert.equal(other.status, 403);
    assert.deepEqual(await other.json(), { error: 'only the author or an admin may change a post' });
    assert.equal((await put('p2', ADMIN)).status, 200);
    assert.equal((await fetch(`${base}/api/admin/x`, { headers: { authorization: USER } })).status, 403);
  });
});

test('hono: the peer address keys the login limit; cookies, headers, Vary', async () => {
  await withServer(makeApp(), async (base) => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${base}/api/login`, { method: 'POST' });
      assert.equal(r.status, 200);
      assert.deepEqual(r.headers.getSetCookie(), ['session=s1; Path=/; HttpOnly; Secure; SameSite=Lax']);
      assert.equal(r.headers.get('x-powered-by'), null);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
    }
    const limited = await fetch(`${base}/api/login`, { method: 'POST' });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // An X-Forwarded-For the policy does not trust changes nothing.
    const spoof = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'x-forwarded-for': '198.51.100.9' } });
    assert.equal(spoof.status, 429);

    const pub = await fetch(`${base}/public`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(await pub.text(), 'hello');
    assert.equal(pub.headers.get('vary'), 'Accept-Encoding, Origin');
    assert.equal(pub.headers.get('access-control-allow-origin'), 'https://app.example.com');
  });
});

test('hono: redirect and preflights', async () => {
  await withServer(makeApp(), async (base) => {
    const r = await fetch(`${base}/dashboard/a`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/login?callbackUrl=%2Fdashboard%2Fa');
    const pre = (origin) => fetch(`${base}/api/me`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    const ok = await pre('https://app.example.com');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal((await pre('https://evil.example')).headers.get('access-control-allow-origin'), null);
  });
});
