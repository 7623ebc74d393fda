'use strict';
// authorize from plain objects: decisions, frozen shared results, explain, reads, reload.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Engine, PolicyError, RequestError, ConfigError, WardenError } = require('..');

const TOUR = path.join(__dirname, '..', '..', '..', 'examples', '00-tour.warden');
const tour = Engine.fromFile(TOUR, { secrets: { CRON_SECRET: 'test-cron-secret' } });
const EDITOR = { id: 'u1', roles: ['editor'], org: 'o1' };
const OWN = { type: 'post', id: 'p1', author: 'u1', org: 'o1' };
const OTHER = { type: 'post', id: 'p2', author: 'u2', org: 'o1' };

test('allow and deny with reason and rule', () => {
  const a = tour.authorize({ principal: EDITOR, action: 'posts:write', resource: OWN });
  assert.equal(a.allowed, true);
  assert.equal(a.status, 200);
  assert.equal(a.reason, null);
  assert.ok(a.rule.endsWith('00-tour.warden:13'));
  const d = tour.authorize({ principal: EDITOR, action: 'posts:write', resource: OTHER });
  assert.equal(d.allowed, false);
  assert.equal(d.status, 403);
  assert.equal(d.reason, 'only the author or an admin may change a post');
  assert.deepEqual(d.rules, [d.rule]);
});

test('anonymous callers and unknown actions are denied by default', () => {
  const d = tour.authorize({ principal: null, action: 'posts:read', resource: OWN });
  assert.equal(d.allowed, false);
  assert.equal(d.reason, 'no grant or allow rule applies');
  assert.equal(d.rule, null);
  assert.equal(tour.authorize({ principal: EDITOR, action: 'billing:refund' }).allowed, false);
});

test('single role spelling and numeric ids', () => {
  const d = tour.authorize({ principal: { id: 7, role: 'editor', org: 'o1' }, action: 'posts:write', resource: { ...OWN, author: '7' } });
  assert.equal(d.allowed, true);
});

test('results are frozen and shared', () => {
  const a = tour.authorize({ principal: EDITOR, action: 'posts:read', resource: OWN });
  const b = tour.authorize({ principal: EDITOR, action: 'posts:read', resource: OTHER });
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
  assert.throws(() => { 'use strict'; a.allowed = false; }, TypeError);
});

test('explain returns the trace', () => {
  const d = tour.authorize({ principal: EDITOR, action: 'posts:write', resource: OTHER }, { explain: true });
  assert.equal(d.allowed, false);
  assert.equal(d.trace.action, 'posts:write');
  const deny = d.trace.rules.filter((r) => r.effect === 'deny' && r.matched);
  assert.ok(deny[0].reads.some((x) => x.attribute === 'resource.author' && x.value === '"u2"'));
});

test('only read attributes are converted; buffers do not leak between calls', () => {
  assert.deepEqual(tour.reads, { principal: ['org'], resource: ['author', 'org', 'role'], context: [] });
  assert.equal(tour.authorize({ principal: { ...EDITOR, avatar: () => 1 }, action: 'posts:read', resource: OWN }).allowed, true);
  // The org attributes missing: `resource.org != principal.org` is missing, the deny applies.
  assert.equal(tour.authorize({ principal: { id: 'u1', roles: ['editor'] }, action: 'posts:read', resource: { type: 'post' } }).allowed, false);
  assert.equal(tour.authorize({ principal: EDITOR, action: 'posts:read', resource: OWN }).allowed, true);
});

test('context attributes', () => {
  const e = Engine.fromSource('ctx.warden', 'policy c\nrole r\ngrant r: a:b\ndeny a:b if context.country != "FR" because "FR only"\n');
  const p = { id: 'x', roles: ['r'] };
  assert.equal(e.authorize({ principal: p, action: 'a:b', context: { country: 'FR' } }).allowed, true);
  assert.equal(e.authorize({ principal: p, action: 'a:b', context: { country: 'DE' } }).allowed, false);
  assert.equal(e.authorize({ principal: p, action: 'a:b' }).allowed, false);
});

test('policy errors carry every diagnostic', () => {
  assert.throws(
    () => Engine.fromSource('p.warden', 'policy p\nrole a\ngrant b: x:y\ngrant c: x:y\n'),
    (e) => {
      assert.ok(e instanceof PolicyError && e instanceof WardenError && e instanceof Error);
      assert.deepEqual(e.diagnostics.map((d) => [d.file, d.line, d.column, d.code]), [
        ['p.warden', 3, 7, 'unknown-role'],
        ['p.warden', 4, 7, 'unknown-role'],
      ]);
      assert.match(e.message, /p\.warden:3:7/);
      return true;
    },
  );
  assert.throws(() => Engine.fromFile('/nonexistent/x.warden'), (e) => e instanceof PolicyError && e.diagnostics[0].code === 'io');
});

test('bad requests throw RequestError', () => {
  const cases = [
    [{}, /missing `action`/],
    [{ action: 3 }, /`action` must be a string/],
    [{ action: 'a:b', principal: 'u1' }, /`principal` must be an object or null/],
    [{ action: 'a:b', principal: { id: ['x'] } }, /`principal.id` must be a string/],
    [{ action: 'a:b', principal: { id: true } }, /`principal.id` must be a string/],
    [{ action: 'a:b', principal: { roles: 'editor' } }, /`principal.roles` must be a list/],
    [{ action: 'a:b', principal: { roles: [1] } }, /role names must be strings/],
    [{ action: 'a:b', principal: { roles: [], role: 'x' } }, /not both/],
    [{ action: 'a:b', resource: { id: 'p' } }, /missing `resource.type`/],
    [{ action: 'a:b', resource: { type: 1 } }, /`resource.type` must be a string/],
    [{ action: 'a:b', resource: [] }, /`resource` must be an object or null/],
    [{ action: 'a:b', context: 5 }, /`context` must be an object or null/],
    [{ action: 'posts:read', principal: { ...EDITOR, org: () => 1 }, resource: OWN }, /`principal.org` has unsupported type `function`/],
    [{ action: 'posts:read', principal: { ...EDITOR, org: 10n }, resource: OWN }, /unsupported type `bigint`/],
    [{ action: 'posts:read', principal: { ...EDITOR, org: NaN }, resource: OWN }, /finite number/],
  ];
  for (const [req, re] of cases) {
    assert.throws(() => tour.authorize(req), (e) => e instanceof RequestError && re.test(e.message), JSON.stringify(req, (k, v) => typeof v === 'bigint' ? 'bigint' : v));
  }
  assert.throws(() => tour.authorize(null), RequestError);
});

test('huge and deep inputs are refused, and the engine still answers', () => {
  assert.throws(() => tour.authorize({ principal: { ...EDITOR, org: 'x'.repeat(2 << 20) }, action: 'posts:read', resource: OWN }), /longer than the limit/);
  let deep = 'leaf';
  for (let i = 0; i < 10000; i++) deep = [deep];
  assert.throws(() => tour.authorize({ principal: { ...EDITOR, org: deep }, action: 'posts:read', resource: OWN }), /deeper than 32/);
  let obj = {};
  for (let i = 0; i < 10000; i++) obj = { a: obj };
  assert.throws(() => tour.authorize({ principal: { ...EDITOR, org: obj }, action: 'posts:read', resource: OWN }), /deeper than 32/);
  const many = Array.from({ length: 200000 }, (_, i) => i);
  assert.throws(() => tour.authorize({ principal: { ...EDITOR, org: many }, action: 'posts:read', resource: OWN }), /more than 100000 values/);
  assert.throws(() => tour.authorize({ principal: EDITOR, action: 'x'.repeat(2 << 20) }), /longer than the limit/);
  assert.equal(tour.authorize({ principal: EDITOR, action: 'posts:read', resource: OWN }).allowed, true);
});

test('bad options throw ConfigError', () => {
  const src = 'policy p\nrole r\n';
  assert.throws(() => Engine.fromSource('p.warden', src, { onStoreError: 'sometimes' }), (e) => e instanceof ConfigError && /sometimes/.test(e.message));
  assert.throws(() => Engine.fromSource('p.warden', src, { secrets: { A: 1 } }), ConfigError);
  assert.throws(() => Engine.fromSource('p.warden', src, { bogus: 1 }), /unknown option `bogus`/);
  assert.throws(() => Engine.fromSource('p.warden', src, { redisUrl: 'nope://user:hunter2@host' }), (e) => e instanceof ConfigError && /invalid Redis URL/.test(e.message) && !e.message.includes('hunter2'));
  // A well-formed URL builds a store without connecting (Redis may start later).
  assert.equal(Engine.fromSource('p.warden', src, { redisUrl: 'redis://127.0.0.1:1', onStoreError: 'fail_open' }).name, 'p.warden');
  assert.throws(() => new Engine({}), ConfigError);
});

test('secret values never appear in errors', () => {
  const src = 'policy s\nrole r\ngrant r: c:run\ndeny c:run unless context.t == secret(NOPE_SECRET_X)\n';
  assert.throws(() => Engine.fromSource('s.warden', src, { secrets: { OTHER: 'hunter2-value' } }), (e) => /NOPE_SECRET_X/.test(e.message) && !/hunter2-value/.test(e.message));
});

test('reload swaps the policy; a broken one leaves the old in force', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-'));
  const f = path.join(dir, 'p.warden');
  const P = { id: 'u', roles: ['r'] };
  fs.writeFileSync(f, 'policy p\nrole r\ngrant r: a:read\n');
  const e = Engine.fromFile(f);
  assert.equal(e.authorize({ principal: P, action: 'a:write' }).allowed, false);
  fs.writeFileSync(f, 'policy p\nrole r\ngrant r: a:read, a:write\nresource doc { org: string }\ndeny a:write on doc if resource.org == "x"\n');
  e.reload();
  assert.deepEqual(e.reads.resource, ['org']);
  assert.equal(e.authorize({ principal: P, action: 'a:write', resource: { type: 'doc', org: 'y' } }).allowed, true);
  assert.equal(e.authorize({ principal: P, action: 'a:write', resource: { type: 'doc', org: 'x' } }).allowed, false);
  assert.throws(() => e.reload({ source: 'policy p\ngrant nobody: a:read\n' }), (err) => err instanceof PolicyError && err.diagnostics[0].line === 2);
  assert.equal(e.authorize({ principal: P, action: 'a:write', resource: { type: 'doc', org: 'y' } }).allowed, true);
  e.reload({ source: 'policy p\nrole r\ngrant r: a:read\n' });
  assert.equal(e.authorize({ principal: P, action: 'a:write' }).allowed, false);
  const s = Engine.fromSource('s.warden', 'policy p\nrole r\n');
  assert.throws(() => s.reload(), ConfigError);
});
