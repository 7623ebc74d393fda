'use strict';
// decisionLog and metrics: decisions reach the callback (or a file) as JSON lines with
// no credential, without ever waiting for it; the metrics count them.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Engine, ConfigError, PolicyError } = require('..');

const POLICY = `policy app
role staff
grant staff: docs:read
route /admin/** {
  require auth
}
route /cron {
  require header authorization == "Bearer " + secret(CRON_SECRET)
}
`;
const CRON = 'cron-secret-value-7f3a';
const TOKEN = 'bearer-token-value-91c2';

function decide(engine) {
  assert.equal(engine.authorize({ principal: { id: 'u1', roles: ['staff'] }, action: 'docs:read' }).allowed, true);
  assert.equal(engine.authorize({ principal: { id: 'u2' }, action: 'docs:read' }).allowed, false);
  assert.equal(engine.checkHttp({ method: 'GET', path: '/admin/users', headers: { authorization: `Bearer ${TOKEN}` } }).status, 401);
  assert.equal(engine.checkHttp({ method: 'GET', path: '/cron', headers: { authorization: `Bearer ${CRON}` } }).allowed, true);
}

test('decisions reach the callback without credentials', async () => {
  const lines = [];
  const engine = Engine.fromSource('app.warden', POLICY, { secrets: { CRON_SECRET: CRON }, decisionLog: (l) => lines.push(l) });
  decide(engine);
  // The callback runs on the event loop: nothing has arrived while deciding.
  assert.equal(lines.length, 0);
  await engine.flushDecisionLog();
  assert.equal(lines.length, 4, lines.join('\n'));
  for (const l of lines) assert.ok(!l.includes(CRON) && !l.includes(TOKEN), l);
  const r = lines.map((l) => JSON.parse(l));
  assert.deepEqual(r.map((x) => x.kind), ['authorize', 'authorize', 'http', 'http']);
  assert.equal(r[0].outcome, 'allow');
  assert.equal(r[0].principal_id, 'u1');
  assert.equal(r[1].outcome, 'deny');
  assert.equal(r[2].route, '/admin/**');
  assert.equal(r[2].status, 401);
  assert.deepEqual(r[2].rules, ['app.warden:5']);
  assert.equal(r[3].route, '/cron');
  assert.deepEqual(engine.decisionLogStats(), { written: 4, dropped: 0, sampledOut: 0, writeErrors: 0 });
});

test('deciding never waits for the callback: what the queues cannot take is dropped and counted', async () => {
  let received = 0;
  const engine = Engine.fromSource('app.warden', POLICY, { secrets: { CRON_SECRET: CRON }, decisionLog: () => received++ });
  // More decisions than both queues (the core's and the event loop's, 8192 each) hold,
  // while the event loop, the only thread that runs the callback, is busy deciding.
  const n = 40000;
  for (let i = 0; i < n; i++) engine.authorize({ principal: { id: 'u1', roles: ['staff'] }, action: 'docs:read' });
  assert.equal(received, 0);
  await engine.flushDecisionLog();
  const s = engine.decisionLogStats();
  assert.ok(s.dropped > 0, JSON.stringify(s));
  assert.equal(received + s.dropped, n, JSON.stringify({ received, ...s }));
});

test('a throwing callback loses its line, warns, and deciding goes on', async () => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const engine = Engine.fromSource('app.warden', POLICY, { secrets: { CRON_SECRET: CRON }, decisionLog: () => { throw new Error('sink down'); } });
    decide(engine);
    await engine.flushDecisionLog();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(warnings.length, 4);
  assert.match(warnings[0].message, /sink down/);
});

test('decisions go to a file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-log-'));
  const file = path.join(dir, 'decisions.jsonl');
  const engine = Engine.fromSource('app.warden', POLICY, { secrets: { CRON_SECRET: CRON }, decisionLog: file, decisionLogSampleRate: 0 });
  decide(engine);
  await engine.flushDecisionLog();
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  // Sampled to nothing but denials.
  assert.deepEqual(lines.map((l) => JSON.parse(l).outcome), ['deny', 'deny']);
  assert.ok(!lines.join('').includes(TOKEN));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('metrics count decisions and reloads', () => {
  const engine = Engine.fromSource('app.warden', POLICY, { secrets: { CRON_SECRET: CRON }, metrics: true });
  decide(engine);
  decide(engine);
  let m = engine.metrics();
  assert.deepEqual(m.decisions, { 'authorize/allow': 2, 'authorize/deny': 2, 'http/allow': 2, 'http/deny': 2 });
  assert.equal(m.byStatus['401'], 2);
  assert.equal(m.byStatus['200'], 4);
  assert.deepEqual(m.byRoute, { '/admin/**': 2, '/cron': 2 });
  assert.equal(m.byRule['app.warden:5'], 2);
  assert.equal(m.latencyBuckets.reduce((a, b) => a + b, 0), 8);
  engine.reload({ source: POLICY.replace('docs:read', 'docs:write') });
  assert.throws(() => engine.reload({ source: 'policy app\ngrant nobody: x\n' }), PolicyError);
  m = engine.metrics();
  assert.equal(m.reloads, 1);
  assert.equal(m.reloadFailures, 1);
  const text = engine.prometheus();
  assert.ok(text.includes('warden_decisions_total{kind="authorize",outcome="allow"} 2\n'), text);
  assert.ok(!text.includes(CRON) && !text.includes(TOKEN));
});

test('bad options are ConfigErrors', () => {
  const plain = Engine.fromSource('app.warden', 'policy app\n');
  assert.throws(() => plain.metrics(), /metrics: true/);
  assert.throws(() => plain.prometheus(), ConfigError);
  assert.equal(plain.decisionLogStats(), null);
  assert.throws(() => Engine.fromSource('app.warden', 'policy app\n', { decisionLog: 42 }), ConfigError);
  assert.throws(() => Engine.fromSource('app.warden', 'policy app\n', { decisionLog: () => {}, decisionLogSampleRate: 2 }), /sample rate/);
  assert.throws(() => Engine.fromSource('app.warden', 'policy app\n', { decisionLogSampleRate: 0.5 }), /needs a `decisionLog`/);
  assert.throws(() => Engine.fromSource('app.warden', 'policy app\n', { metrics: 'yes' }), ConfigError);
});
