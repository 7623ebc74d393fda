'use strict';
// Lumiere (seed 001) as it runs: `next build` output served by `node server.js` on
// loopback, proxy.ts in front of every route. One test per concern of the seed.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { start } = require('../../support/run');

const ENV = {
  NODE_ENV: 'production',
  AUTH_SECRET: 'example-auth-secret-0123456789abcdef0123',
  CRON_SECRET: 'example-cron-secret',
  STRIPE_WEBHOOK_SECRET: 'whsec_example',
  DATABASE_URL: 'postgresql://lumiere:pw@db:5432/lumiere?sslmode=require',
};

const b64url = (b) => Buffer.from(b).toString('base64url');

/** An Auth.js v5 session cookie (JWE, dir + A256GCM under the HKDF-derived key), as @auth/core writes it. */
function session(claims, name = 'authjs.session-token', secret = ENV.AUTH_SECRET) {
  const key = Buffer.from(crypto.hkdfSync('sha256', secret, name, `Auth.js Generated Encryption Key (${name})`, 32));
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'dir', enc: 'A256GCM' }));
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(header));
  const body = Buffer.concat([cipher.update(JSON.stringify({ iat: now, exp: now + 3600, jti: crypto.randomUUID(), ...claims })), cipher.final()]);
  return `${name}=${header}..${b64url(iv)}.${b64url(body)}.${b64url(cipher.getAuthTag())}`;
}

const ARTIST = session({ sub: 'u1', role: 'ARTIST' });
const CONTRIBUTOR = session({ sub: 'c1', role: 'CONTRIBUTOR' });
const ADMIN = session({ sub: 'a1', role: 'ADMIN' });

let app;
test.before(async () => {
  app = await start(path.join(__dirname, '..', 'server.js'), ENV);
});
test.after(() => app.stop());

// Where a redirect points, as a path (Next.js makes the Location absolute).
const where = (r) => {
  const u = new URL(r.headers.get('location'), app.base);
  assert.equal(u.origin, new URL(app.base).origin);
  return u.pathname + u.search;
};

const get = (p, cookie, headers = {}) => fetch(`${app.base}${p}`, { headers: cookie ? { cookie, ...headers } : headers, redirect: 'manual' });

test('seed 001 "Unauthenticated users → redirect to /login?callbackUrl=..."', async () => {
  const r = await get('/dashboard?tab=earnings');
  assert.equal(r.status, 307);
  assert.equal(where(r), '/login?callbackUrl=%2Fdashboard%3Ftab%3Dearnings');
  // A session cookie under another secret is no session.
  const forged = await get('/dashboard', session({ sub: 'u1', role: 'ADMIN' }, 'authjs.session-token', 'another-secret-0123456789abcdef01234'));
  assert.equal(forged.status, 307);
  const ok = await get('/dashboard', ARTIST);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { page: 'dashboard', user: 'u1' });
});

test('seed 001 "Admin routes: additional role check (redirects non-admin to /dashboard)"', async () => {
  const artist = await get('/admin', ARTIST);
  assert.equal(artist.status, 307);
  assert.equal(where(artist), '/dashboard');
  const anon = await get('/admin');
  assert.equal(where(anon), '/login?callbackUrl=%2Fadmin');
  const admin = await get('/admin', ADMIN);
  assert.equal(admin.status, 200);
  assert.deepEqual(await admin.json(), { page: 'admin', user: 'a1' });
});

test('route handlers read the principal proxy.ts verified; a forged header is replaced', async () => {
  const me = await get('/api/me', ARTIST);
  assert.deepEqual(await me.json(), { user: { id: 'u1', roles: ['ARTIST'] } });
  const spoof = await get('/api/me', undefined, { 'x-warden-principal': '{"id":"a1","roles":["ADMIN"]}' });
  assert.deepEqual(await spoof.json(), { user: null });
});

test('seed 001 "earnings are visible to their owner only": a resource-level check', async () => {
  const own = await get('/api/earnings/c1', CONTRIBUTOR);
  assert.equal(own.status, 200);
  assert.deepEqual(await own.json(), { owner: 'c1', lumens: 42 });
  const other = await get('/api/earnings/u2', CONTRIBUTOR);
  assert.equal(other.status, 403);
  assert.deepEqual(await other.json(), { error: 'earnings are visible to their owner only' });
  assert.equal((await get('/api/earnings/u2', ADMIN)).status, 200);
});

test('list endpoint: GET /api/earnings pages through exactly the statements authorize lets the caller view', async () => {
  // The statements are the app's (lib/earnings.ts, seeded the same way here); the same
  // policy decides each one here, as /api/earnings/[userId] does. The app filters in SQLite.
  const { Engine } = require('warden-policy');
  const OWNERS = ['c1', 'c2', 'u1', 'c1', 'a1', 'c3', 'c1'];
  const statements = Array.from({ length: 90 }, (_, i) => ({ id: `e${String(i + 1).padStart(3, '0')}`, owner: OWNERS[(i * 3) % OWNERS.length] }));
  const engine = Engine.fromFile(path.join(__dirname, '..', '..', '..', '..', 'policies', 'lumiere.warden'), {
    env: 'production',
    secrets: { AUTH_SECRET: ENV.AUTH_SECRET, CRON_SECRET: ENV.CRON_SECRET, STRIPE_WEBHOOK_SECRET: ENV.STRIPE_WEBHOOK_SECRET, DATABASE_URL: ENV.DATABASE_URL },
  });
  const sizes = {};
  for (const [who, cookie, principal] of [
    ['c1', CONTRIBUTOR, { id: 'c1', roles: ['CONTRIBUTOR'] }],
    ['u1', ARTIST, { id: 'u1', roles: ['ARTIST'] }],
    ['a1', ADMIN, { id: 'a1', roles: ['ADMIN'] }],
  ]) {
    // The principal the proxy hands the handler is the session's: checked, not assumed.
    const want = statements
      .filter((s) => engine.authorize({ principal, action: 'earnings:view', resource: { type: 'earnings', id: s.id, owner: s.owner } }).allowed)
      .map((s) => s.id)
      .sort();
    const got = [];
    for (let offset = 0; ; offset += 12) {
      const r = await get(`/api/earnings?limit=12&offset=${offset}`, cookie);
      assert.equal(r.status, 200);
      const page = (await r.json()).earnings;
      // Every page but the last is full: the filter runs before LIMIT/OFFSET.
      if (got.length + page.length < want.length) assert.equal(page.length, 12, `${who} at ${offset}`);
      got.push(...page.map((s) => s.id));
      if (page.length < 12) break;
    }
    assert.deepEqual(got, want, who);
    sizes[who] = got.length;
  }
  // The contributor sees their own, an artist (no earnings:view) none, the admin all.
  assert.deepEqual(sizes, { c1: statements.filter((s) => s.owner === 'c1').length, u1: 0, a1: 90 });
  assert.ok(sizes.c1 > 12);
  assert.equal((await get('/api/earnings')).status, 401);
});

test('list endpoint: GET /api/tasks/claimable pages through exactly the tasks authorize lets the caller claim', async () => {
  // The task board is the app's (lib/tasks.ts, compiled by next build into its own
  // bundle; the same seed is rebuilt here); the policy decides each task here, the app
  // filters in SQLite. Two allow rules (ARTIST's and STUNT_PERFORMER's categories) and
  // grants (CONTRIBUTOR, ADMIN) meet in one WHERE.
  const { Engine } = require('warden-policy');
  const CATEGORIES = ['creative', 'stunt', 'writing', 'vfx', 'motion_capture', 'music', 'marketing', 'design', 'casting'];
  const tasks = Array.from({ length: 75 }, (_, i) => {
    const category = CATEGORIES[(i * 4) % CATEGORIES.length];
    return { id: `t${String(i + 1).padStart(3, '0')}`, category, title: `${category} task ${i + 1}` };
  });
  const engine = Engine.fromFile(path.join(__dirname, '..', '..', '..', '..', 'policies', 'lumiere.warden'), {
    env: 'production',
    secrets: { AUTH_SECRET: ENV.AUTH_SECRET, CRON_SECRET: ENV.CRON_SECRET, STRIPE_WEBHOOK_SECRET: ENV.STRIPE_WEBHOOK_SECRET, DATABASE_URL: ENV.DATABASE_URL },
  });
  const got = {};
  for (const [id, role] of [['u1', 'ARTIST'], ['s1', 'STUNT_PERFORMER'], ['c1', 'CONTRIBUTOR'], ['a1', 'ADMIN'], ['v1', 'VIEWER']]) {
    const cookie = session({ sub: id, role });
    const principal = { id, roles: [role] };
    const want = tasks.filter((t) => engine.authorize({ principal, action: 'tasks:claim', resource: { type: 'task', id: t.id, category: t.category } }).allowed);
    const rows = [];
    for (let offset = 0; ; offset += 10) {
      const r = await get(`/api/tasks/claimable?limit=10&offset=${offset}`, cookie);
      assert.equal(r.status, 200);
      const page = (await r.json()).tasks;
      // Every page but the last is full: the filter runs before LIMIT/OFFSET.
      if (rows.length + page.length < want.length) assert.equal(page.length, 10, `${role} at ${offset}`);
      rows.push(...page);
      if (page.length < 10) break;
    }
    assert.deepEqual(rows, want, role);
    got[role] = new Set(rows.map((t) => t.category));
  }
  assert.deepEqual([...got.ARTIST].sort(), ['creative', 'design', 'music', 'vfx']);
  assert.deepEqual([...got.STUNT_PERFORMER].sort(), ['motion_capture', 'stunt']);
  assert.equal(got.CONTRIBUTOR.size, CATEGORIES.length);
  assert.equal(got.ADMIN.size, CATEGORIES.length);
  assert.equal(got.VIEWER.size, 0);
  assert.equal((await get('/api/tasks/claimable')).status, 401);
});

test('seed 001 cron: "Authorization: Bearer ${CRON_SECRET}" or 401', async () => {
  const post = (auth) => fetch(`${app.base}/api/cron/cleanup`, { method: 'POST', headers: auth ? { authorization: auth } : {} });
  assert.equal((await post()).status, 401);
  assert.equal((await post('Bearer wrong')).status, 401);
  const ok = await post(`Bearer ${ENV.CRON_SECRET}`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { cleaned: true });
});

test('seed 001 "Stripe webhooks verified with STRIPE_WEBHOOK_SECRET signature" (the body still reaches the handler)', async () => {
  const body = JSON.stringify({ type: 'checkout.session.completed' });
  const sign = (b) => {
    const t = Math.floor(Date.now() / 1000);
    return `t=${t},v1=${crypto.createHmac('sha256', ENV.STRIPE_WEBHOOK_SECRET).update(`${t}.${b}`).digest('hex')}`;
  };
  const post = (b, sig) =>
    fetch(`${app.base}/api/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': sig, 'content-type': 'application/json' },
      body: b,
      signal: AbortSignal.timeout(20_000),
    });
  const ok = await post(body, sign(body));
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { received: 'checkout.session.completed' });
  assert.equal((await post(body, sign('{"type":"other"}'))).status, 400);
  const big = JSON.stringify({ type: 'x', pad: 'x'.repeat(1 << 20) });
  assert.equal((await post(big, sign(big))).status, 413);
});

/** The status line and body of `target` sent as is over a socket (fetch cannot send `*`). */
function rawTarget(method, target) {
  const { port } = new URL(app.base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1');
    const chunks = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    s.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

test('a target that is neither a path nor an absolute URL is a 400, not a 500 before proxy.ts', async () => {
  for (const [method, target] of [['GET', '*'], ['OPTIONS', '*'], ['GET', '*/admin']]) {
    const r = await rawTarget(method, target);
    assert.equal(r.status, 400, `${method} ${target}`);
    assert.deepEqual(JSON.parse(r.body), { error: 'bad request target' });
  }
  // The forms Next.js routes itself still reach it (and the policy).
  assert.equal((await rawTarget('GET', '/admin')).status, 307);
  assert.equal((await rawTarget('GET', 'http://127.0.0.1/admin')).status, 308);
});
