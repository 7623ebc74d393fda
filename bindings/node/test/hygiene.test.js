'use strict';
// Issue 15, the Express middleware's response hygiene in a real app on loopback: `Vary`
// merged with the app's own (never replaced), the policy's cookie rules on every
// `Set-Cookie` whatever the middleware order (express-session registered before and
// after Warden), `X-Powered-By` removed, and a 503 that says nothing of the store.

const test = require('node:test');
const assert = require('node:assert/strict');
const expressApp = require('express');
const session = require('express-session');
const warden = require('..');
const { withServer } = require('./support');

const POLICY = `
policy p
cors {
  origins: "https://app.example"
  credentials: true
}
cookies {
  connect.sid: http_only, secure, same_site strict
}
route /me {
  public
  header set Vary: "Cookie"
}
route /** { public }
`;

const engine = () => warden.Engine.fromSource('p.warden', POLICY);

test('Vary: the app\'s values, the route\'s and CORS\'s are merged', async () => {
  const app = expressApp();
  app.use(warden.express(engine()));
  app.get('/me', (req, res) => {
    res.set('cache-control', 'private');
    res.vary('Accept-Language');
    res.send('me');
  });
  app.get('/plain', (req, res) => res.send('plain'));
  app.get('/late', (req, res) => {
    res.writeHead(200, { Vary: 'Accept-Encoding', 'content-type': 'text/plain' });
    res.end('late');
  });
  await withServer(app, async (base) => {
    const tokens = (r) => r.headers.get('vary').split(',').map((t) => t.trim().toLowerCase()).sort();
    const opts = { headers: { origin: 'https://app.example' } };
    assert.deepEqual(tokens(await fetch(`${base}/me`, opts)), ['accept-language', 'cookie', 'origin']);
    assert.deepEqual(tokens(await fetch(`${base}/plain`, opts)), ['origin']);
    assert.deepEqual(tokens(await fetch(`${base}/late`, opts)), ['accept-encoding', 'origin']);
  });
});

test('X-Powered-By is removed (Express sets it by default)', async () => {
  const app = expressApp();
  app.use(warden.express(engine()));
  app.get('/x', (req, res) => res.send('x'));
  await withServer(app, async (base) => {
    const r = await fetch(`${base}/x`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-powered-by'), null);
    const refused = await fetch(`${base}/a%2Fb`);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('x-powered-by'), null);
  });
});

for (const order of ['session before warden', 'session after warden']) {
  test(`cookie rules reach express-session's cookie: ${order}`, async () => {
    const app = expressApp();
    const s = session({ secret: 'test-session-secret', resave: false, saveUninitialized: true });
    const w = warden.express(engine());
    if (order === 'session before warden') app.use(s, w);
    else app.use(w, s);
    app.get('/login', (req, res) => {
      req.session.user = 'u1';
      res.send('ok');
    });
    await withServer(app, async (base) => {
      const r = await fetch(`${base}/login`);
      assert.equal(r.status, 200);
      const cookies = r.headers.getSetCookie();
      const sid = cookies.find((c) => c.startsWith('connect.sid='));
      assert.ok(sid, JSON.stringify(cookies));
      assert.match(sid, /;\s*Secure/i);
      assert.match(sid, /;\s*SameSite=Strict/i);
      assert.match(sid, /;\s*HttpOnly/i);
    });
  });
}

test('a 503 from a failed store does not say what failed', async () => {
  const e = warden.Engine.fromSource(
    'p.warden',
    'policy p\nlimit api: 5 per 1m by ip\nroute /** {\n  public\n  limit api\n}\n',
    { redisUrl: 'redis://127.0.0.1:1/' },
  );
  const app = expressApp();
  app.use(warden.express(e));
  app.get('/x', (req, res) => res.send('x'));
  await withServer(app, async (base) => {
    const r = await fetch(`${base}/x`);
    assert.equal(r.status, 503);
    const body = await r.text();
    assert.deepEqual(JSON.parse(body), { error: 'service temporarily unavailable' });
    assert.doesNotMatch(body, /redis|store|127\.0\.0\.1|refused/i);
  });
});
