'use strict';
// Replay every test of examples/*.test.toml (and policies/*.test.toml) through the
// binding and through the Rust engine (`warden eval`): same decisions, and each test's
// expectation met. Authorization tests share one engine per file; each HTTP test (or
// sequence) gets a fresh engine and a fresh `warden eval`, its requests stamped with
// the test's clock (`start`, `advance`, `at`) as `time`, and decided by checkHttpAsync. WARDEN_BIN names the `warden` binary;
// WARDEN_REPLAY_DIRS (path-delimiter-separated) replaces the default directories.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { parse } = require('smol-toml');
const { Engine } = require('..');

const ROOT = path.join(__dirname, '..', '..', '..');
const DIRS = (process.env.WARDEN_REPLAY_DIRS || '').split(path.delimiter).filter(Boolean);
const dirs = DIRS.length ? DIRS : [path.join(ROOT, 'examples'), path.join(ROOT, 'policies')];
const files = dirs
  .filter((d) => fs.existsSync(d))
  .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.test.toml')).map((f) => path.join(d, f)))
  .sort();
const KEYS = ['principal', 'action', 'resource', 'context'];

// Every authorization request of a test file. `warden test` runs each test on an
// engine whose clock is the test's clock, which `now` reads when a request has no
// `context.time`; the engines here (the addon's and `warden eval`'s) run on the system
// clock, so a request without `context.time` is given the test's clock there.
function authCases(doc) {
  const out = [];
  const start = instant(doc.start ?? '2026-01-01T00:00:00Z').getTime();
  for (const t of doc.test ?? []) {
    let clock = start;
    for (const step of [t, ...(t.steps ?? [])]) {
      if ('advance' in step) clock += durationMs(step.advance);
      if ('at' in step) clock = instant(step.at).getTime();
      if ('action' in step) {
        const c = { name: t.name ?? '?', ...step };
        for (const k of ['because', 'rule']) if (k in t && !(k in c)) c[k] = t[k];
        const time = new Date(clock).toISOString().replace('.000Z', 'Z');
        c.context = { time, ...(c.context ?? {}) };
        out.push(c);
      }
    }
  }
  return out;
}

function instant(v) {
  return new Date(v instanceof Date ? v.getTime() : Date.parse(String(v)));
}

const UNITS = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
function durationMs(text) {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  assert.ok(m, `unsupported duration ${text}`);
  return Number(m[1]) * UNITS[m[2]];
}

// Per test with HTTP requests: { name, seq: [{ req (stamped with the clock), expect }] }.
function httpSequences(doc) {
  const out = [];
  const start = instant(doc.start ?? '2026-01-01T00:00:00Z').getTime();
  for (const t of doc.test ?? []) {
    let clock = start;
    const seq = [];
    for (const step of t.steps ?? [t]) {
      if ('advance' in step) clock += durationMs(step.advance);
      if ('at' in step) clock = instant(step.at).getTime();
      if ('http' in step) {
        const req = { time: new Date(clock).toISOString().replace('.000Z', 'Z'), ...step.http };
        let expect = step.expect ?? {};
        expect = typeof expect === 'string' ? { allowed: expect === 'allow' } : { ...expect };
        if (!t.steps) for (const k of ['because', 'rule']) if (k in t && !(k in expect)) expect[k] = t[k];
        for (let i = 0; i < (step.repeat ?? 1); i++) seq.push({ req, expect });
      }
    }
    if (seq.length) out.push({ name: t.name ?? '?', seq });
  }
  return out;
}

function checkHttpExpect(got, expect, where) {
  for (const k of ['allowed', 'status', 'location']) if (k in expect) assert.equal(got[k], expect[k], where);
  if ('because' in expect) assert.equal(got.reason, expect.because, where);
  if ('rule' in expect) assert.ok(got.rules.some((r) => r === expect.rule || r.endsWith(`/${expect.rule}`)), where);
  const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [k, v] of Object.entries(expect.headers ?? {})) assert.equal(headers[k.toLowerCase()], v, `${where}: ${k}`);
  for (const k of expect.absent ?? []) assert.ok(!(k.toLowerCase() in headers), `${where}: ${k} present`);
  const removed = got.remove.map((r) => r.toLowerCase());
  for (const k of expect.removed ?? []) assert.ok(removed.includes(k.toLowerCase()), `${where}: ${k} not removed`);
}

// A test file's `env`, `[secrets]` and `[config]`, as `Engine.fromFile` options.
function loadOptions(doc) {
  const strings = (m) => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
  return { env: doc.env ?? 'development', secrets: strings(doc.secrets), config: strings(doc.config) };
}

function rustDecisions(policy, opts, reqs) {
  const bin = process.env.WARDEN_BIN || path.join(ROOT, 'target', 'debug', 'warden');
  const args = ['eval', '--policy', policy, '--env', opts.env];
  for (const [k, v] of Object.entries(opts.secrets)) args.push('--secret', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.config)) args.push('--config', `${k}=${v}`);
  const out = execFileSync(bin, args, { input: reqs.map((r) => JSON.stringify(r)).join('\n'), encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// Only files that hold authorization (or HTTP) tests are replayed by each loop below.
const docs = files.map((file) => ({ file, doc: parse(fs.readFileSync(file, 'utf8')) }));
const authFiles = docs.filter(({ doc }) => authCases(doc).length);
const httpFiles = docs.filter(({ doc }) => httpSequences(doc).length);

test('replay finds test files', () => {
  assert.ok(files.length > 0, `no *.test.toml under ${dirs.join(', ')}`);
  assert.ok(authFiles.length && httpFiles.length, 'no authorization or no HTTP tests to replay');
});

for (const { file, doc } of authFiles) {
  test(`replay ${path.basename(file)}`, () => {
    const cases = authCases(doc);
    const policy = path.join(path.dirname(file), doc.policy);
    const opts = loadOptions(doc);
    const engine = Engine.fromFile(policy, opts);
    const reqs = cases.map((c) => Object.fromEntries(KEYS.filter((k) => k in c).map((k) => [k, c[k]])));
    const rust = rustDecisions(policy, opts, reqs);
    assert.equal(rust.length, cases.length);
    cases.forEach((c, i) => {
      const d = engine.authorize(reqs[i]);
      const got = { allowed: d.allowed, status: d.status, reason: d.reason, rules: [...d.rules] };
      const want = rust[i];
      assert.deepEqual(got, { allowed: want.allowed, status: want.status, reason: want.reason ?? null, rules: want.rules }, c.name);
      let expect = c.expect;
      if (typeof expect === 'string') expect = { allowed: expect === 'allow' };
      expect = { ...(expect ?? {}) };
      for (const k of ['because', 'rule']) if (k in c && !(k in expect)) expect[k] = c[k];
      if ('allowed' in expect) assert.equal(got.allowed, expect.allowed, c.name);
      if ('status' in expect) assert.equal(got.status, expect.status, c.name);
      if ('because' in expect) assert.equal(got.reason, expect.because, c.name);
      if ('rule' in expect) assert.ok(got.rules.some((r) => r === expect.rule || r.endsWith(`/${expect.rule}`)), c.name);
    });
  });
}

for (const { file, doc } of httpFiles) {
  test(`replay HTTP ${path.basename(file)}`, async () => {
    const sequences = httpSequences(doc);
    const policy = path.join(path.dirname(file), doc.policy);
    const opts = loadOptions(doc);
    for (const { name, seq } of sequences) {
      // Fresh on both sides: each test starts with no request counted.
      const engine = Engine.fromFile(policy, opts);
      const rust = rustDecisions(policy, opts, seq.map((s) => s.req));
      assert.equal(rust.length, seq.length, name);
      for (let i = 0; i < seq.length; i++) {
        const where = `${name} (request ${i + 1} of ${seq.length})`;
        const got = await engine.checkHttpAsync(seq[i].req);
        // `principal` is the Node API's own field (who the handlers are told it is): the
        // host's, or the one the policy's `auth` section verified, whether or not the
        // route needed it; `authenticated_by` then says how, where the engine alone
        // reports it only when a route or key read the principal.
        const { principal, authenticated_by: via, ...decision } = JSON.parse(JSON.stringify(got));
        const { authenticated_by: rustVia, ...rustDecision } = rust[i];
        assert.deepEqual(decision, rustDecision, where);
        if (rustVia !== null) assert.equal(via, rustVia, where);
        if (via !== null) assert.notEqual(principal, null, where);
        if (seq[i].req.principal != null) {
          assert.equal(principal?.id, String(seq[i].req.principal.id), where);
          assert.equal(via, null, where);
        } else if (rustVia !== null) {
          assert.notEqual(principal, null, where);
        }
        checkHttpExpect(got, seq[i].expect, where);
        for (const [app, sent] of Object.entries(seq[i].expect.set_cookie ?? {})) {
          assert.equal(engine.enforceSetCookie(app), sent, `${where}: ${app}`);
        }
      }
    }
  });
}
