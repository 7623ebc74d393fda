'use strict';
// The fast path of authorize (src/fast.rs): requests of strings, booleans and missing
// values go through buffers shared with the addon (UTF-8 bytes and one word per value);
// everything else through the packed string. Both must decide alike.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Engine, RequestError } = require('..');
const app = require('../bench/docs_app');

const TOUR = path.join(__dirname, '..', '..', '..', 'examples', '00-tour.warden');
const tour = Engine.fromFile(TOUR, { secrets: { CRON_SECRET: 'test-cron-secret' } });

const plain = (d) => ({ allowed: d.allowed, status: d.status, reason: d.reason, rule: d.rule });
const { spawnSync } = require('node:child_process');

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

test('fast and packed paths agree on the 100,000 distinct requests of the cold set', () => {
  const { w, cases, reqs } = app.cold(100_000);
  let allowed = 0;
  for (let i = 0; i < reqs.length; i++) {
    const fast = tour.authorize(reqs[i]);
    assert.deepEqual(plain(fast), plain(tour.authorize(reqs[i], { explain: true })), JSON.stringify(reqs[i]));
    assert.equal(fast.allowed, app.hand(w, cases[i]), JSON.stringify(reqs[i]));
    if (fast.allowed) allowed++;
  }
  assert.equal(allowed, 44357);
});

test('strings of any characters and lengths decide alike on both paths', () => {
  const P = { id: 'u1', roles: ['editor'], org: 'o1' };
  const OWN = { type: 'post', id: 'p1', author: 'u1', org: 'o1' };
  // Non-ASCII (2-, 3- and 4-byte UTF-8), lone surrogates (U+FFFD on both paths), NULs,
  // strings around and over the byte buffer's 16 KiB, many strings adding up past it.
  const odd = ['é', 'ö-org', '日本', '😀', 'a\ud800', '\udc00b', 'x\u0000y', '', 'o'.repeat(5000), 'é'.repeat(8191), 'o'.repeat(16384), 'o'.repeat(20000)];
  const reqs = [];
  for (const v of odd) {
    reqs.push({ principal: { ...P, id: v, org: v }, action: 'posts:write', resource: { ...OWN, author: v, org: v } });
    reqs.push({ principal: { ...P, org: v }, action: 'posts:read', resource: { ...OWN, org: v } });
    reqs.push({ principal: { ...P, org: v }, action: 'posts:read', resource: { ...OWN, org: `${v}!` } });
    reqs.push({ principal: { ...P, roles: [v, 'editor'] }, action: 'posts:write', resource: { ...OWN, id: v } });
  }
  reqs.push({ principal: { ...P, org: 'o'.repeat(8000) }, action: 'posts:read', resource: { ...OWN, org: 'o'.repeat(8000), author: 'u'.repeat(8000) } });
  for (const req of reqs) {
    assert.deepEqual(plain(tour.authorize(req)), plain(tour.authorize(req, { explain: true })), JSON.stringify(req).slice(0, 200));
  }
  // The same string in both places matches across encodings: é is 2 bytes, 1 unit.
  assert.equal(tour.authorize({ principal: { ...P, id: 'ü', org: 'ö' }, action: 'posts:write', resource: { ...OWN, author: 'ü', org: 'ö' } }).allowed, true);
  assert.equal(tour.authorize({ principal: { ...P, id: 'ü', org: 'ö' }, action: 'posts:write', resource: { ...OWN, author: 'u', org: 'ö' } }).allowed, false);
});

test('without code generation from strings the slot readers are loops and decide alike', () => {
  const script = `
    const { Engine } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const app = require(${JSON.stringify(path.join(__dirname, '..', 'bench', 'docs_app'))});
    const e = Engine.fromFile(app.POLICY, { secrets: { CRON_SECRET: 'x' } });
    const w = app.world();
    let allowed = 0;
    for (const c of w.cases) {
      const d = e.authorize(app.request(w, c));
      if (d.allowed !== app.hand(w, c)) throw new Error('disagrees: ' + JSON.stringify(c));
      if (d.allowed) allowed++;
    }
    let generated = true;
    try { new Function('return 1'); } catch { generated = false; }
    console.log(allowed, generated);
  `;
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1956 false');
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

test('many distinct strings decide right', () => {
  const e = Engine.fromFile(TOUR, { secrets: { CRON_SECRET: 'test-cron-secret' } });
  // 70,000 distinct owners (the fast path once kept a table of 65,536 strings).
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

test('a getter that reloads the engine does not corrupt the outer request', () => {
  const src = (extra) => `policy p\nrole r\ngrant r: a:read${extra}\nprincipal { id: string, org: string }\nresource doc { org: string }\ndeny a:read on doc if resource.org != principal.org because "other org"\n`;
  const e = Engine.fromSource('g.warden', src(''));
  let reloaded = false;
  const P = { id: 'u', roles: ['r'], get org() { if (!reloaded) { reloaded = true; e.reload({ source: src(', a:write') }); } return 'o1'; } };
  const d = e.authorize({ principal: P, action: 'a:read', resource: { type: 'doc', id: 'd', org: 'o1' } });
  assert.equal(reloaded, true);
  assert.equal(d.allowed, true);
  assert.equal(e.authorize({ principal: { id: 'u', roles: ['r'], org: 'o1' }, action: 'a:write', resource: { type: 'doc', id: 'd', org: 'o2' } }).allowed, true);
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
