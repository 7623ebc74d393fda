'use strict';
// engine.watch(): the policy file reloads when it changes; a broken version leaves the
// old policy serving (reported, counted); decisions made meanwhile, here and on a
// worker thread, are always one version's answer.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { Engine, PolicyError, ConfigError, Watch } = require('..');

// Two versions with different answers; each ends inside a block, so a torn write (the
// first part only) fails to load rather than being a smaller valid policy.
const A = 'policy p\nrole r\ngrant r: a:read\nresource doc {\n  org: string\n}\n';
const B = 'policy p\nrole r\ngrant r: a:write\ndeny a:write on doc if resource.org == "x"\nresource doc {\n  org: string\n}\n';
const BROKEN = [
  'policy p\nrole r\ngrant nobody: a:read\n',
  'policy p\nrole r\ngrant r a:read ((\n',
  'policy p\nrole r\ngrant r: a:read\nauth jwt {\n  algorithms: RS256\n  keys: public_key(AUTH_PUBLIC_KEY)\n}\n',
];
const SECRET = 'not-a-pem-hunter2';
const P = { id: 'u', roles: ['r'] };
const REQUESTS = [
  { principal: P, action: 'a:read' },
  { principal: P, action: 'a:write' },
  { principal: P, action: 'a:write', resource: { type: 'doc', id: 'd', org: 'x' } },
  // A number takes the packed path rather than the fast one.
  { principal: { ...P, n: 1 }, action: 'a:write', resource: { type: 'doc', id: 7, org: 'y' } },
];

function answers(engine) {
  return REQUESTS.map((r) => {
    const d = engine.authorize(r);
    return `${d.allowed} ${d.rule}`;
  });
}

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'warden-watch-'));
}

function renamed(file, text) {
  const tmp = `${file}.${process.pid}.${Math.random()}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

async function waitFor(what, ok, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Rewrites the file from a worker thread (in place, torn in two writes, renamed over,
// broken), so that the main thread can decide all the while.
const WRITER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { file, A, B, BROKEN } = workerData;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
let seed = 22;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed >>> 16) % n; };
for (let i = 0; i < 40; i++) {
  const pick = rnd(6);
  const text = pick < 2 ? A : pick < 4 ? B : pick === 4 ? BROKEN[rnd(3)] : '';
  if (text === '') {
    const whole = i % 2 ? A : B;
    const cut = whole.indexOf('org: str') + 'org: str'.length;
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, whole.slice(0, cut));
    fs.fsyncSync(fd);
    sleep(rnd(80));
    fs.writeSync(fd, whole.slice(cut));
    fs.closeSync(fd);
  } else if (rnd(3) === 0) {
    fs.writeFileSync(file, text);
  } else {
    const tmp = file + '.' + i + '.tmp';
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  sleep(rnd(80));
}
`;

// Decides on its own engine and watch until told to stop; posts how many decision
// sets of each version it saw, or the first one of neither.
const DECIDER = `
const { workerData, parentPort } = require('node:worker_threads');
const { Engine } = require(workerData.pkg);
const { file, REQUESTS, wantA, wantB } = workerData;
const engine = Engine.fromFile(file, { secrets: { AUTH_PUBLIC_KEY: workerData.SECRET } });
const watch = engine.watch({ debounce: 30, onError() {} });
parentPort.postMessage({ ready: true });
let stop = false;
parentPort.on('message', () => { stop = true; });
const seen = [0, 0];
const loop = () => {
  for (let k = 0; k < 200; k++) {
    const got = REQUESTS.map((r) => { const d = engine.authorize(r); return d.allowed + ' ' + d.rule; });
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== wantA[i] && got[i] !== wantB[i]) {
        parentPort.postMessage({ bad: got });
        watch.close();
        return;
      }
    }
    seen[got.join('|') === wantA.join('|') ? 0 : 1]++;
  }
  if (stop) { watch.close(); parentPort.postMessage({ seen }); } else setImmediate(loop);
};
loop();
`;

test('decisions stay whole while the file is rewritten, broken versions included', async (t) => {
  const dir = tmpdir();
  const file = path.join(dir, 'p.warden');
  const wantA = answers(Engine.fromSource(file, A));
  const wantB = answers(Engine.fromSource(file, B));
  assert.notDeepEqual(wantA, wantB);
  fs.writeFileSync(file, A);
  const engine = Engine.fromFile(file, { secrets: { AUTH_PUBLIC_KEY: SECRET }, metrics: true });
  const errors = [];
  let reloads = 0;
  const watch = engine.watch({ debounce: 30, onReload: () => reloads++, onError: (e) => errors.push(e) });
  assert.ok(watch instanceof Watch && !watch.closed);

  const decider = new Worker(DECIDER, {
    eval: true,
    workerData: { pkg: path.join(__dirname, '..'), file, REQUESTS, wantA, wantB, SECRET },
  });
  // Loaded and watching before the first rewrite; then its result.
  const next = () => new Promise((resolve, reject) => {
    decider.once('message', resolve);
    decider.once('error', reject);
  });
  assert.deepEqual(await next(), { ready: true });
  const deciderDone = next();
  const writer = new Worker(WRITER, { eval: true, workerData: { file, A, B, BROKEN } });
  let writing = true;
  const written = new Promise((resolve, reject) => {
    writer.on('exit', () => { writing = false; resolve(); });
    writer.on('error', reject);
  });
  let decided = 0;
  while (writing) {
    for (let k = 0; k < 200; k++) {
      const got = answers(engine);
      got.forEach((g, i) => assert.ok(g === wantA[i] || g === wantB[i], `neither version: ${got}`));
      decided++;
    }
    // Let the event loop run: the watch's reports arrive through it.
    await new Promise((r) => setImmediate(r));
  }
  await written;

  // A broken version: refused and counted, the previous policy still serving.
  renamed(file, A);
  await waitFor('A in force', () => answers(engine).join() === wantA.join());
  const refused = engine.metrics().reloadFailures;
  renamed(file, BROKEN[2]);
  await waitFor('the refused reload', () => engine.metrics().reloadFailures > refused);
  assert.deepEqual(answers(engine), wantA);
  renamed(file, B);
  await waitFor('B in force', () => answers(engine).join() === wantB.join());

  decider.postMessage('stop');
  const result = await deciderDone;
  await decider.terminate();
  assert.equal(result.bad, undefined, `the worker saw neither version: ${result.bad}`);
  assert.ok(result.seen[0] + result.seen[1] > 0);
  watch.close();
  assert.ok(watch.closed);

  const m = engine.metrics();
  t.diagnostic(`main thread: ${decided * REQUESTS.length} decisions; worker: ${result.seen[0]} A and ${result.seen[1]} B answer sets; reloads ${m.reloads} ok, ${m.reloadFailures} refused`);
  assert.ok(decided > 0);
  assert.ok(m.reloads >= 3 && m.reloadFailures >= 1, JSON.stringify(m));
  assert.equal(errors.length, m.reloadFailures);
  assert.equal(reloads, m.reloads);
  for (const e of errors) {
    assert.ok(e instanceof PolicyError);
    assert.equal(e.diagnostics[0].file, file);
    assert.ok(e.diagnostics[0].line >= 1);
    assert.ok(!e.message.includes('hunter2') && !JSON.stringify(e.diagnostics).includes('hunter2'));
  }
  assert.ok(errors.some((e) => e.message.includes('AUTH_PUBLIC_KEY')));
  const text = engine.prometheus();
  assert.ok(text.includes(`warden_reloads_total ${m.reloads}\n`));
  assert.ok(text.includes(`warden_reload_failures_total ${m.reloadFailures}\n`));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('closing a watch stops reloading', async () => {
  const dir = tmpdir();
  const file = path.join(dir, 'p.warden');
  fs.writeFileSync(file, A);
  const engine = Engine.fromFile(file);
  const wantB = answers(Engine.fromSource(file, B));
  const w = engine.watch({ debounce: 20 });
  renamed(file, B);
  await waitFor('B in force', () => answers(engine).join() === wantB.join());
  w.close();
  w.close();
  renamed(file, A);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(answers(engine), wantB);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('without onError a refused reload is written to console.error', async () => {
  const dir = tmpdir();
  const file = path.join(dir, 'p.warden');
  fs.writeFileSync(file, A);
  const engine = Engine.fromFile(file);
  const logged = [];
  const original = console.error;
  console.error = (m) => logged.push(String(m));
  try {
    const w = engine.watch({ debounce: 20 });
    renamed(file, BROKEN[0]);
    await waitFor('the message', () => logged.length > 0);
    w.close();
  } finally {
    console.error = original;
  }
  assert.match(logged[0], /reload refused/);
  assert.ok(logged[0].includes(`${file}:3:`), logged[0]);
  assert.deepEqual(answers(engine), answers(Engine.fromSource(file, A)));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('only a file in a directory that exists can be watched; options are checked', () => {
  assert.throws(() => Engine.fromSource('p.warden', A).watch(), (e) => e instanceof ConfigError && /source text/.test(e.message));
  const dir = tmpdir();
  const file = path.join(dir, 'sub', 'p.warden');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, A);
  const engine = Engine.fromFile(file);
  assert.throws(() => engine.watch({ debounce: -1 }), ConfigError);
  assert.throws(() => engine.watch({ onReload: 1 }), ConfigError);
  assert.throws(() => engine.watch({ bogus: 1 }), ConfigError);
  fs.rmSync(path.dirname(file), { recursive: true });
  assert.throws(() => engine.watch(), (e) => e instanceof ConfigError && /cannot watch/.test(e.message));
  fs.rmSync(dir, { recursive: true, force: true });
});
