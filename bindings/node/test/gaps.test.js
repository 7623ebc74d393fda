'use strict';
// A signed Stripe webhook and the `cookies` rules through the Express middleware: the
// body is read (only) for the signed route and handed on as req.rawBody, and Set-Cookie
// headers are rewritten by the engine.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const expressApp = require('express');
const warden = require('..');
const { withServer } = require('./support');

const SECRET = 'whsec_test_0123456789';
const POLICY = `policy hooks
route POST /hooks/stripe {
  require signature stripe(header stripe-signature, secret(WH)) tolerance 5m else 400
}
cookies {
  session: http_only, secure, same_site lax
}
`;

function engine() {
  return warden.Engine.fromSource('hooks.warden', POLICY, { secrets: { WH: SECRET } });
}

// Stripe's documented scheme: HMAC-SHA256 over `${t}.${body}`, hex.
function stripeHeader(body, secret = SECRET, t = Math.floor(Date.now() / 1000)) {
  const sig = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${sig}`;
}

function app(options) {
  const a = expressApp();
  a.use(warden.express(engine(), options));
  a.post('/hooks/stripe', (req, res) => res.send(req.rawBody.toString()));
  a.post('/login', (req, res) => {
    res.cookie('session', 'abc');
    res.cookie('theme', 'dark');
    res.send('ok');
  });
  // Headers handed to writeHead directly, as an object and as Node's flat array.
  a.post('/login-raw', (req, res) => {
    res.writeHead(200, { 'Set-Cookie': ['session=raw', 'theme=light'], 'Content-Type': 'text/plain' });
    res.end('ok');
  });
  a.post('/login-flat', (req, res) => {
    res.writeHead(200, 'OK', ['Set-Cookie', 'session=flat', 'Set-Cookie', 'theme=flat', 'Content-Type', 'text/plain']);
    res.end('ok');
  });
  return a;
}

test('needsBody, enforceSetCookie and body_base64', () => {
  const e = engine();
  assert.equal(e.needsBody('POST', '/hooks/stripe'), true);
  assert.equal(e.needsBody('POST', '/login'), false);
  assert.equal(e.hasCookieRules, true);
  assert.equal(e.enforceSetCookie('session=1'), 'session=1; HttpOnly; Secure; SameSite=Lax');
  const body = '{"id":"evt_1"}';
  const d = e.checkHttp({ method: 'POST', path: '/hooks/stripe', headers: { 'stripe-signature': stripeHeader(body) }, body_base64: Buffer.from(body).toString('base64') });
  assert.equal(d.status, 200);
});

test('a signed webhook passes the middleware; tampered, wrong-secret, stale and unsigned ones do not', async () => {
  await withServer(app(), async (base) => {
    const body = '{"id":"evt_1","type":"invoice.paid"}';
    const post = (b, sig) => fetch(`${base}/hooks/stripe`, { method: 'POST', body: b, headers: sig ? { 'stripe-signature': sig } : {} });
    let r = await post(body, stripeHeader(body));
    assert.equal(r.status, 200);
    assert.equal(await r.text(), body);
    assert.equal((await post(`${body} `, stripeHeader(body))).status, 400);
    assert.equal((await post(body, stripeHeader(body, 'whsec_other'))).status, 400);
    assert.equal((await post(body, stripeHeader(body, SECRET, Math.floor(Date.now() / 1000) - 600))).status, 400);
    assert.equal((await post(body, null)).status, 400);
  });
});

test('a body over maxBody is 413', async () => {
  await withServer(app({ maxBody: 1024 }), async (base) => {
    const body = 'x'.repeat(2048);
    const r = await fetch(`${base}/hooks/stripe`, { method: 'POST', body, headers: { 'stripe-signature': stripeHeader(body) } });
    assert.equal(r.status, 413);
  });
});

test('Set-Cookie headers get the policy attributes', async () => {
  await withServer(app(), async (base) => {
    const r = await fetch(`${base}/login`, { method: 'POST' });
    assert.equal(r.status, 200);
    const cookies = r.headers.getSetCookie();
    assert.ok(cookies.includes('session=abc; Path=/; HttpOnly; Secure; SameSite=Lax'), cookies.join(' | '));
    assert.ok(cookies.includes('theme=dark; Path=/'), cookies.join(' | '));
  });
});

test('Set-Cookie handed to res.writeHead gets the policy attributes too', async () => {
  await withServer(app(), async (base) => {
    for (const [path, session, theme] of [
      ['/login-raw', 'session=raw', 'theme=light'],
      ['/login-flat', 'session=flat', 'theme=flat'],
    ]) {
      const r = await fetch(`${base}${path}`, { method: 'POST' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/plain');
      const cookies = r.headers.getSetCookie();
      assert.deepEqual(cookies, [`${session}; HttpOnly; Secure; SameSite=Lax`, theme], path);
    }
  });
});
