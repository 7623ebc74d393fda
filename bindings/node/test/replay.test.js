'use strict';
// Replay every authorization test of examples/*.test.toml (and policies/*.test.toml)
// through the binding and through the Rust engine (`warden eval`): same decisions, and
// each test's expectation met. WARDEN_BIN names the `warden` binary;
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

function authCases(doc) {
  const out = [];
  for (const t of doc.test ?? []) {
    for (const step of [t, ...(t.steps ?? [])]) {
      if ('action' in step) {
        const c = { name: t.name ?? '?', ...step };
        for (const k of ['because', 'rule']) if (k in t && !(k in c)) c[k] = t[k];
        out.push(c);
      }
    }
  }
  return out;
}

function rustDecisions(policy, env, secrets, reqs) {
  const bin = process.env.WARDEN_BIN || path.join(ROOT, 'target', 'debug', 'warden');
  const args = ['eval', '--policy', policy, '--env', env];
  for (const [k, v] of Object.entries(secrets)) args.push('--secret', `${k}=${v}`);
  const out = execFileSync(bin, args, { input: reqs.map((r) => JSON.stringify(r)).join('\n'), encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

test('replay finds test files', () => {
  assert.ok(files.length > 0, `no *.test.toml under ${dirs.join(', ')}`);
});

for (const file of files) {
  test(`replay ${path.basename(file)}`, (t) => {
    const doc = parse(fs.readFileSync(file, 'utf8'));
    const cases = authCases(doc);
    if (!cases.length) return t.skip('no authorization tests in this file');
    const policy = path.join(path.dirname(file), doc.policy);
    const env = doc.env ?? 'development';
    const secrets = Object.fromEntries(Object.entries(doc.secrets ?? {}).map(([k, v]) => [k, String(v)]));
    const engine = Engine.fromFile(policy, { env, secrets });
    const reqs = cases.map((c) => Object.fromEntries(KEYS.filter((k) => k in c).map((k) => [k, c[k]])));
    const rust = rustDecisions(policy, env, secrets, reqs);
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
