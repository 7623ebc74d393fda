'use strict';
// The fast path of authorize (src/fast.rs): requests of strings, booleans and missing
// values go through string ids in a shared buffer; everything else through the packed
// string. Both must decide alike, and the bounded string table must stay right when it
// empties itself.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Engine, RequestError } = require('..');
const app = require('../bench/docs_app');

const TOUR = path.join(__dirname, '..', '..', '..', 'examples', '00-tour.warden');
const tour = Engine.fromFile(TOUR, { secrets: { CRON_SECRET: 'test-cron-secret' } });

const plain = (d) => ({ allowed: d.allowed, status: d.status, reason: d.reason, rule: d.rule });

test('fast and packed paths agree on the docs-app workload and the hand-written rules', () => {
  const w = app.world();
  let allowed = 0;
  for (const c of w.cases) {
    const req = app.request(w, c);
    const fast = tour.authorize(req);
    // `explain` always takes the packed path.
    const packed = tour.authorize(req, { explain: true });
    assert.deepEqual(plain(fast), plain(packed), JSON.stringify(req));
    assert.equal(fast.allowed, app.hand(w, c), JSON.stringify(req));
    if (fast.allowed) allowed++;
  }
  assert.equal(allowed, 1956);
});

test('values the fast path does not carry fall back to the packed path', () => {
  const P = { id: 'u1', roles: ['editor'], org: 'o1' };
  const OWN = { type: 'post', id: 'p1', author: 'u1', org: 'o1' };
  // Numbers, long strings, many roles, one role, null role: same decisions either way.
  const reqs = [
    { principal: { ...P, id: 7 }, action: 'posts:write', resource: { ...OWN, author: '7' } },
    { principal: { ...P, org: 'o'.repeat(5000) }, action: 'posts:read', resource: { ...OWN, org: 'o'.repeat(5000) } },
    { principal: { ...P, roles: Array.from({ length: 40 }, (_, i) => (i === 39 ? 'editor' : `r${i}`)) }, action: 'posts:write', resource: OWN },
    { principal: { id: 'u1', role: 'editor', org: 'o1' }, action: 'posts:write', resource: OWN },
    { principal: { id: 'u1', role: null, org: 'o1' }, action: 'posts:read', resource: OWN },
    { principal: { id: null, roles: null, org: 'o1' }, action: 'posts:read', resource: OWN },
    { principal: P, action: 'posts:read', resource: { ...OWN, id: undefined } },
    { principal: P, action: 'posts:read', resource: { ...OWN, org: true } },
    { principal: P, action: 'posts:read', resource: { ...OWN, org: null }, context: { any: 1 } },
  ];
  for (const req of reqs) {
    assert.deepEqual(plain(tour.authorize(req)), plain(tour.authorize(req, { explain: true })), JSON.stringify(req).slice(0, 200));
  }
  assert.equal(tour.authorize(reqs[0]).allowed, true);
  assert.equal(tour.authorize(reqs[2]).allowed, true);
  // Errors still come from the packed path, after fast requests.
  assert.throws(() => tour.authorize({ principal: { ...P, roles: ['a'], role: 'b' }, action: 'posts:read' }), RequestError);
  assert.throws(() => tour.authorize({ principal: P, action: 'posts:read', resource: { id: 'p' } }), /missing `resource.type`/);
});

test('booleans and missing context values', () => {
  const e = Engine.fromSource('b.warden', 'policy b\nrole r\ngrant r: a:b\ndeny a:b if context.blocked == true because "blocked"\n');
  const p = { id: 'x', roles: ['r'] };
  assert.equal(e.authorize({ principal: p, action: 'a:b', context: { blocked: false } }).allowed, true);
  assert.equal(e.authorize({ principal: p, action: 'a:b', context: { blocked: true } }).reason, 'blocked');
  for (const context of [{ blocked: false }, { blocked: true }, { blocked: 'true' }, { blocked: null }, {}, undefined, null]) {
    const req = { principal: p, action: 'a:b', context };
    assert.deepEqual(plain(e.authorize(req)), plain(e.authorize(req, { explain: true })), JSON.stringify(context));
  }
});

test('the string table empties itself when full and decisions stay right', () => {
  const e = Engine.fromFile(TOUR, { secrets: { CRON_SECRET: 'test-cron-secret' } });
  // 70,000 distinct owners: more strings than the table holds (65,536).
  for (let i = 0; i < 70000; i++) {
    const id = `user-${i}`;
    const mine = e.authorize({ principal: { id, roles: ['editor'], org: 'o1' }, action: 'posts:write', resource: { type: 'post', id: `p${i}`, author: id, org: 'o1' } });
    assert.equal(mine.allowed, true, id);
    if (i % 1000 === 0) {
      const other = e.authorize({ principal: { id, roles: ['editor'], org: 'o1' }, action: 'posts:write', resource: { type: 'post', id: 'p', author: `user-${i + 1}`, org: 'o1' } });
      assert.equal(other.allowed, false, id);
    }
  }
});

test('a reload takes the new policy on the fast path', () => {
  const e = Engine.fromSource('r.warden', 'policy p\nrole r\ngrant r: a:read\n');
  const P = { id: 'u', roles: ['r'] };
  assert.equal(e.authorize({ principal: P, action: 'a:write' }).allowed, false);
  e.reload({ source: 'policy p\nrole r\ngrant r: a:read, a:write\n' });
  assert.equal(e.authorize({ principal: P, action: 'a:write' }).allowed, true);
  assert.equal(e.authorize({ principal: P, action: 'a:read' }).allowed, true);
});

test('a getter that calls authorize again does not corrupt the outer request', () => {
  const other = { principal: { id: 'u9', roles: ['viewer'], org: 'o9' }, action: 'users:write', resource: { type: 'user', id: 'u8', org: 'o8', role: 'admin' } };
  let inner = null;
  const P = { id: 'u1', roles: ['editor'], get org() { inner = tour.authorize(other); return 'o1'; } };
  const req = { principal: P, action: 'posts:write', resource: { type: 'post', id: 'p1', author: 'u1', org: 'o1' } };
  const d = tour.authorize(req);
  assert.equal(inner.allowed, false);
  assert.equal(d.allowed, true);
  assert.deepEqual(plain(d), plain(tour.authorize(req, { explain: true })));
});
