'use strict';
// The Express middleware's additions, in a real Express 5 app over loopback:
// req.warden (the verified principal and the decision), onDeny, Vary merged.

const test = require('node:test');
const assert = require('node:assert/strict');
const expressApp = require('express');
const warden = require('..');
const net = require('node:net');
const { withServer, ADAPTERS, SECRETS, jwt } = require('./support');

const USER = `Bearer ${jwt({ sub: 'u1', role: 'user', email: 'u1@example.com' })}`;

function makeApp(options) {
  const engine = warden.Engine.fromFile(ADAPTERS, { secrets: SECRETS });
  const app = expressApp();
  app.use(warden.express(engine, options));
  app.get('/api/me', (req, res) => res.json({ principal: req.warden.principal, by: req.warden.decision.authenticated_by }));
  app.get('/public', (req, res) => {
    res.setHeader('vary', 'Accept-Encoding');
    res.json({ principal: req.warden.principal });
  });
  return app;
}

test('express: req.warden carries the principal the policy verified', async () => {
  await withServer(makeApp(), async (base) => {
    const r = await fetch(`${base}/api/me`, { headers: { authorization: USER } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { principal: { id: 'u1', roles: ['user'], email: 'u1@example.com' }, by: 'jwt:JWT_SECRET' });
    const anon = await fetch(`${base}/public`);
    assert.deepEqual(await anon.json(), { principal: null });
    // A refusal answered by the middleware drops X-Powered-By as an admitted response does.
    const refused = await fetch(`${base}/api/me`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('x-powered-by'), null);
    assert.equal(anon.headers.get('x-powered-by'), null);
  });
});

test('express: Vary is merged with the app\'s, not replaced', async () => {
  await withServer(makeApp(), async (base) => {
    const r = await fetch(`${base}/public`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(r.headers.get('vary'), 'Accept-Encoding, Origin');
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
  });
});

test('express: onDeny shapes refusals, after the decision\'s status and headers', async () => {
  const seen = [];
  const onDeny = (d, req, res) => {
    seen.push(req.path);
    res.json({ statusCode: d.status, message: d.reason });
  };
  await withServer(makeApp({ onDeny }), async (base) => {
    const r = await fetch(`${base}/api/me`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.deepEqual(await r.json(), { statusCode: 401, message: 'missing_token' });
    const redirect = await fetch(`${base}/dashboard/x`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/login?callbackUrl=%2Fdashboard%2Fx');
    assert.deepEqual(seen, ['/api/me', '/dashboard/x']);
  });
  // An onDeny that throws goes to Express's error handler, not a hung request.
  const app = makeApp({
    onDeny: () => {
      throw new Error('boom');
    },
  });
  app.use((err, req, res, _next) => res.status(500).json({ handled: err.message }));
  await withServer(app, async (base) => {
    const r = await fetch(`${base}/api/me`);
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { handled: 'boom' });
  });
  assert.throws(() => warden.express(warden.Engine.fromFile(ADAPTERS, { secrets: SECRETS }), { onDeny: 'x' }), TypeError);
});

/** One raw HTTP/1.1 request with `target` as sent (fetch would rewrite it): status, body. */
function rawRequest(base, target, headers = {}) {
  const { hostname, port } = new URL(base);
  const lines = [`GET ${target} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close'];
  for (const [n, v] of Object.entries(headers)) lines.push(`${n}: ${v}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    let text = '';
    socket.on('data', (b) => { text += b; });
    socket.on('end', () => {
      const [head, ...body] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: body.join('\r\n\r\n') });
    });
    socket.on('error', reject);
  });
}

test('express: an absolute-form target is decided for the path Express routes it to', async () => {
  await withServer(makeApp(), async (base) => {
    // Express routes `GET http://other.example/api/me` to /api/me: the policy's
    // requirement for /api/me applies (it was a 500, the engine refusing the path).
    const anon = await rawRequest(base, 'http://other.example/api/me');
    assert.equal(anon.status, 401);
    const user = await rawRequest(base, 'http://other.example/api/me?x=1', { authorization: USER });
    assert.equal(user.status, 200);
    assert.match(user.body, /"id":"u1"/);
    // Unnormalised, as Express's router matches it: the engine refuses the dot segment.
    const dots = await rawRequest(base, 'http://h/public/../api/me');
    assert.equal(dots.status, 400);
    assert.doesNotMatch(dots.body, /principal/);
    // No path to route by: refused here, no handler runs.
    for (const target of ['*', 'http:/api/me', 'other.example:80']) {
      const r = await rawRequest(base, target, { authorization: USER });
      assert.equal(r.status, 400, target);
      assert.doesNotMatch(r.body, /"id":"u1"/, target);
    }
  });
});
