'use strict';
// The Fetch-API adapter (fetch.js) around a plain `(request) => Response` handler,
// served over loopback: every answer it makes itself, and what it does to the app's.

const test = require('node:test');
const assert = require('node:assert/strict');
const warden = require('..');
const { withFetchServer, ADAPTERS, SECRETS, jwt, stripeSignature } = require('./support');

const engine = () => warden.Engine.fromFile(ADAPTERS, { secrets: SECRETS });
const USER = `Bearer ${jwt({ sub: 'u1', role: 'user', email: 'u1@example.com' })}`;
const ADMIN = `Bearer ${jwt({ sub: 'a1', role: 'admin' })}`;

// The app behind the guard: echoes what it was handed.
async function app(request, check) {
  const url = new URL(request.url);
  if (url.pathname === '/api/me') return Response.json({ principal: check.principal });
  if (url.pathname === '/api/hooks/stripe') return Response.json({ body: await request.text() });
  if (url.pathname === '/cookies') {
    const h = new Headers({ vary: 'Accept-Encoding', 'x-powered-by': 'Next.js' });
    h.append('set-cookie', 'session=abc; Path=/');
    h.append('set-cookie', 'theme=dark; Path=/');
    return new Response('ok', { headers: h });
  }
  if (url.pathname === '/immutable') return Response.redirect(new URL('/elsewhere', url), 307);
  return new Response(`app: ${url.pathname}`);
}

test('401, 403 and the verified principal handed to the app', async () => {
  await withFetchServer(warden.fetchGuard(engine()).handle(app), async (base) => {
    const anon = await fetch(`${base}/api/me`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await anon.json(), { error: 'missing_token' });

    const bad = await fetch(`${base}/api/me`, { headers: { authorization: `${USER}x` } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /invalid_token/);

    const me = await fetch(`${base}/api/me`, { headers: { authorization: USER } });
    assert.equal(me.status, 200);
    assert.deepEqual((await me.json()).principal, { id: 'u1', roles: ['user'], email: 'u1@example.com' });

    const forbidden = await fetch(`${base}/api/admin/users`, { headers: { authorization: USER } });
    assert.equal(forbidden.status, 403);
    const ok = await fetch(`${base}/api/admin/users`, { headers: { authorization: ADMIN } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'app: /api/admin/users');
  });
});

test('429 with RateLimit and Retry-After, keyed on the address the host gives', async () => {
  const guard = warden.fetchGuard(engine(), { ip: (request) => request.headers.get('x-test-peer') });
  await withFetchServer(guard.handle(app), async (base) => {
    const login = (peer) => fetch(`${base}/api/login`, { method: 'POST', headers: { 'x-test-peer': peer } });
    for (let i = 0; i < 3; i++) assert.equal((await login('203.0.113.1')).status, 200);
    const r = await login('203.0.113.1');
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.match(r.headers.get('ratelimit'), /"login";r=0;t=\d+/);
    assert.equal((await login('203.0.113.2')).status, 200);
  });
});

test('a redirect with callbackUrl, and CORS preflights allowed and refused', async () => {
  await withFetchServer(warden.fetchGuard(engine()).handle(app), async (base) => {
    const r = await fetch(`${base}/dashboard/stats?tab=1`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1');
    assert.equal(await r.text(), '');

    const preflight = (origin) =>
      fetch(`${base}/api/me`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const yes = await preflight('https://app.example.com');
    assert.equal(yes.status, 204);
    assert.equal(yes.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(yes.headers.get('access-control-allow-credentials'), 'true');
    assert.match(yes.headers.get('access-control-allow-methods'), /POST/);
    const no = await preflight('https://evil.example');
    assert.equal(no.headers.get('access-control-allow-origin'), null);
    assert.equal(no.headers.get('access-control-allow-methods'), null);
  });
});

test("the app's response: headers set and dropped, Vary merged, Set-Cookie rules", async () => {
  await withFetchServer(warden.fetchGuard(engine()).handle(app), async (base) => {
    const r = await fetch(`${base}/cookies`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-powered-by'), null);
    assert.equal(r.headers.get('vary'), 'Accept-Encoding, Origin');
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.deepEqual(r.headers.getSetCookie(), ['session=abc; Path=/; HttpOnly; Secure; SameSite=Lax', 'theme=dark; Path=/']);

    // A response whose headers cannot change (Response.redirect) is copied, not skipped.
    const imm = await fetch(`${base}/immutable`, { redirect: 'manual' });
    assert.equal(imm.status, 307);
    assert.equal(imm.headers.get('x-frame-options'), 'DENY');
  });
});

test('a signed route reads the body (the app still gets it); an unsigned one 400; over the cap 413', async () => {
  let called = 0;
  const counted = (request, check) => {
    called++;
    return app(request, check);
  };
  await withFetchServer(warden.fetchGuard(engine(), { maxBody: 64 }).handle(counted), async (base) => {
    const body = '{"type":"checkout.session.completed"}';
    const post = (headers, b = body) => fetch(`${base}/api/hooks/stripe`, { method: 'POST', headers, body: b });
    const good = await post({ 'stripe-signature': stripeSignature(body) });
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { body });
    assert.equal(called, 1);

    assert.equal((await post({ 'stripe-signature': stripeSignature('{}') })).status, 400);
    const big = 'x'.repeat(65);
    const r = await post({ 'stripe-signature': stripeSignature(big) }, big);
    assert.equal(r.status, 413);
    assert.deepEqual(await r.json(), { error: 'request body too large' });
    // A body far over the cap, in many chunks, is refused as soon as the cap is passed.
    const huge = 'x'.repeat(1 << 20);
    const refused = await fetch(`${base}/api/hooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': stripeSignature(huge) },
      body: huge,
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(refused.status, 413);
    assert.equal(called, 1);
  });
});

test('onDeny shapes refusals; check() answers the same as handle()', async () => {
  const guard = warden.fetchGuard(engine(), {
    onDeny: (d) => Response.json({ status: d.status, why: d.reason }, { status: d.status, headers: d.headers }),
  });
  await withFetchServer(guard.handle(app), async (base) => {
    const r = await fetch(`${base}/api/me`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await r.json(), { status: 401, why: 'missing_token' });
  });
  const c = await guard.check(new Request('http://localhost/api/me', { headers: { authorization: USER } }));
  assert.equal(c.allowed, true);
  assert.equal(c.response(), null);
  assert.equal(c.principal.id, 'u1');
  assert.ok(Object.isFrozen(c));
  assert.throws(() => warden.fetchGuard(engine(), { maxBody: -1 }), TypeError);
});

test('authenticate(): identity only, failures as a code without the token', () => {
  const e = engine();
  const ok = e.authenticate({ headers: { authorization: USER } });
  assert.equal(ok.outcome, 'principal');
  assert.deepEqual(ok.principal, { id: 'u1', roles: ['user'], email: 'u1@example.com' });
  assert.equal(ok.via, 'jwt:JWT_SECRET');
  const token = jwt({ sub: 'u1', role: 'user', exp: 1 });
  const expired = e.authenticate({ headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual({ ...expired }, { outcome: 'failed', code: 'token_expired' });
  assert.ok(!JSON.stringify(expired).includes(token.split('.')[1]));
  assert.deepEqual({ ...e.authenticate({}) }, { outcome: 'anonymous' });
  assert.throws(() => e.authenticate({ headers: 'x' }), warden.RequestError);
  assert.throws(() => e.authenticate(null), warden.RequestError);
});
