'use strict';
// `redisUrl` builds a Redis rate-limit store: each `onStoreError` choice while Redis is
// down, and, with a live Redis (WARDEN_REDIS_URL, set by scripts/with-redis.sh), limits
// counted across engines through checkHttp and checkHttpAsync alike.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const crypto = require('node:crypto');
const { Engine } = require('..');

const REDIS_URL = process.env.WARDEN_REDIS_URL;
const LOGIN = { method: 'POST', path: '/login', ip: '203.0.113.7' };

if (!REDIS_URL) {
  // Loud, because a skipped test passes silently otherwise.
  console.error('SKIPPED: the live-Redis tests of redis.test.js (WARDEN_REDIS_URL is unset; run under scripts/with-redis.sh)');
}

// A fresh policy name per engine pair: Redis keys are per policy, so runs never share counts.
function policy() {
  const name = `t${crypto.randomBytes(6).toString('hex')}`;
  return [`${name}.warden`, `policy ${name}\nlimit login: 2 per 15m by ip strict\nroute POST /login {\n  public\n  limit login\n}\n`];
}

async function listening(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

async function closedPort() {
  const s = net.createServer();
  const port = await listening(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test('redis down: fail_closed answers 503, fail_open 200, fallback counts in memory', async () => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const [name, text] = policy();
  const closed = Engine.fromSource(name, text, { redisUrl: url, onStoreError: 'fail_closed' });
  const d = await closed.checkHttpAsync(LOGIN);
  assert.equal(d.status, 503);
  // The client learns only that the service is unavailable; what failed is in `note`.
  assert.equal(d.reason, 'service temporarily unavailable');
  assert.match(d.note, /rate-limit store/);
  assert.ok(!d.reason.includes('203.0.113.7') && !d.note.includes('203.0.113.7'));
  assert.equal(closed.checkHttp(LOGIN).status, 503);
  const open = Engine.fromSource(name, text, { redisUrl: url, onStoreError: 'fail_open' });
  assert.equal((await open.checkHttpAsync(LOGIN)).status, 200);
  const fallback = Engine.fromSource(name, text, { redisUrl: url, onStoreError: 'fallback' });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push(fallback.checkHttp(LOGIN).status);
  assert.deepEqual(statuses, [200, 200, 429]);
});

test('checkHttpAsync does not block the event loop while Redis hangs', async () => {
  // Accepts connections and never answers: the check waits for the store's timeouts.
  const sockets = [];
  const hung = net.createServer((s) => sockets.push(s));
  const port = await listening(hung);
  try {
    const [name, text] = policy();
    const e = Engine.fromSource(name, text, { redisUrl: `redis://127.0.0.1:${port}` });
    let ticks = 0;
    const timer = setInterval(() => { ticks += 1; }, 10);
    const d = await e.checkHttpAsync(LOGIN);
    clearInterval(timer);
    assert.equal(d.status, 503); // fail_closed by default
    assert.ok(ticks >= 10, `event loop ticked ${ticks} times`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => hung.close(resolve));
  }
});

test('a live Redis counts across engines, sync and async alike', { skip: !REDIS_URL && process.env.CI !== 'true' ? 'SKIPPED: WARDEN_REDIS_URL is unset' : false }, async () => {
  assert.ok(REDIS_URL, 'WARDEN_REDIS_URL is unset under CI=true: run under scripts/with-redis.sh');
  const [name, text] = policy();
  const a = Engine.fromSource(name, text, { redisUrl: REDIS_URL });
  const b = Engine.fromSource(name, text, { redisUrl: REDIS_URL });
  assert.equal(a.checkHttp(LOGIN).status, 200);
  assert.equal((await b.checkHttpAsync(LOGIN)).status, 200);
  const third = await a.checkHttpAsync(LOGIN);
  assert.equal(third.status, 429);
  assert.ok(Number(third.headers['retry-after']) > 0);
  assert.equal(b.checkHttp({ ...LOGIN, ip: '203.0.113.8' }).status, 200);
});

const CLUSTER_URLS = process.env.WARDEN_REDIS_CLUSTER_URLS;
const TLS_URL = process.env.WARDEN_REDIS_TLS_URL;
const CI = process.env.CI === 'true';

test('a Redis Cluster counts across engines, sync and async alike', { skip: !CLUSTER_URLS && !CI ? 'SKIPPED: WARDEN_REDIS_CLUSTER_URLS is unset' : false }, async () => {
  assert.ok(CLUSTER_URLS, 'WARDEN_REDIS_CLUSTER_URLS is unset under CI=true: run under scripts/with-redis-cluster.sh');
  const seeds = CLUSTER_URLS.split(',');
  const [name, text] = policy();
  const a = Engine.fromSource(name, text, { redisCluster: seeds });
  const b = Engine.fromSource(name, text, { redisCluster: seeds.slice(1) });
  assert.equal(a.checkHttp(LOGIN).status, 200);
  assert.equal((await b.checkHttpAsync(LOGIN)).status, 200);
  assert.equal((await a.checkHttpAsync(LOGIN)).status, 429);
});

test('rediss:// with a CA file counts across engines; another CA fails closed', { skip: !TLS_URL && !CI ? 'SKIPPED: WARDEN_REDIS_TLS_URL is unset' : false }, async () => {
  assert.ok(TLS_URL, 'WARDEN_REDIS_TLS_URL is unset under CI=true: run under scripts/with-redis-tls.sh');
  const [name, text] = policy();
  const opts = { redisUrl: TLS_URL, redisCaFile: process.env.WARDEN_REDIS_TLS_CA };
  const a = Engine.fromSource(name, text, opts);
  const b = Engine.fromSource(name, text, opts);
  assert.deepEqual([a.checkHttp(LOGIN).status, (await b.checkHttpAsync(LOGIN)).status, a.checkHttp(LOGIN).status], [200, 200, 429]);
  const wrong = Engine.fromSource(name, text, { redisUrl: TLS_URL, redisCaFile: process.env.WARDEN_REDIS_TLS_WRONG_CA });
  const d = await wrong.checkHttpAsync(LOGIN);
  assert.equal(d.status, 503);
  assert.match(d.note, /certificate/);
});

test('Redis options that cannot be honoured are ConfigErrors', () => {
  const { ConfigError } = require('..');
  const [name, text] = policy();
  assert.throws(() => Engine.fromSource(name, text, { redisUrl: 'redis://127.0.0.1:6379', redisCluster: ['redis://127.0.0.1:7000'] }), (e) => e instanceof ConfigError && /not both/.test(e.message));
  assert.throws(() => Engine.fromSource(name, text, { redisCluster: ['redis://:hunter2@127.0.0.1:7000/3'] }), (e) => e instanceof ConfigError && /database 0/.test(e.message) && !e.message.includes('hunter2'));
  assert.throws(() => Engine.fromSource(name, text, { redisUrl: 'rediss://127.0.0.1:6380/#insecure' }), (e) => e instanceof ConfigError && /verification/.test(e.message));
  assert.throws(() => Engine.fromSource(name, text, { redisCluster: 'redis://127.0.0.1:7000' }), (e) => e instanceof ConfigError && /array of seed URLs/.test(e.message));
});
