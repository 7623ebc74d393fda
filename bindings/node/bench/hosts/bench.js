'use strict';
// Requests/s of Warden's adapters against the stacks the seed apps use today, on the
// same route with the same answers, measured with autocannon over loopback; each
// server runs in its own process. Before anything is timed, each pair is checked to
// answer alike: the same status for an admin (200), a user (403) and no token (401),
// and header for header the same response to the admin (the rate-limit headers aside:
// express-rate-limit, hono-rate-limiter and @nestjs/throttler write other drafts of
// them than Warden's RateLimit/RateLimit-Policy; both sides send one).
//
//   node bench.js [seconds per run (5)] [rounds (3)] [connections (10)] [frameworks...]

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');
const autocannon = require('autocannon');
const { SECRET, ORIGIN } = require('./policy');

const [seconds = 5, rounds = 3, connections = 10] = process.argv.slice(2, 5).map(Number);
const frameworks = process.argv.slice(5).length ? process.argv.slice(5) : ['express', 'hono', 'nest'];

const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(claims) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ exp: Math.floor(Date.now() / 1000) + 7200, ...claims })}`;
  return `${head}.${crypto.createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}
const ADMIN = { authorization: `Bearer ${token({ sub: 'a1', role: 'admin' })}`, origin: ORIGIN };
const USER = { authorization: `Bearer ${token({ sub: 'u1', role: 'user' })}`, origin: ORIGIN };
const PATH = '/api/admin/stats';

function start(variant) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'servers.js'), variant], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ base: m[1], stop: () => new Promise((r) => (child.once('exit', r), child.kill())) });
    });
    child.once('exit', (code) => reject(new Error(`${variant} exited (${code}): ${out}`)));
  });
}

const VOLATILE = new Set(['date', 'etag', 'connection', 'keep-alive', 'content-length']);
const isLimit = (name) => /^(x-)?ratelimit/.test(name);

async function answer(base, headers) {
  const r = await fetch(base + PATH, { headers });
  await r.arrayBuffer();
  const h = {};
  for (const [k, v] of r.headers) if (!VOLATILE.has(k) && !isLimit(k)) h[k] = v;
  const limit = [...r.headers.keys()].some(isLimit);
  return { status: r.status, headers: h, limit };
}

async function sameAnswers(fw, stack, warden) {
  for (const [who, headers, want] of [['admin', ADMIN, 200], ['user', USER, 403], ['anonymous', { origin: ORIGIN }, 401]]) {
    const a = await answer(stack.base, headers);
    const b = await answer(warden.base, headers);
    if (a.status !== want || b.status !== want) throw new Error(`${fw} ${who}: statuses ${a.status} (stack) and ${b.status} (warden), want ${want}`);
    if (who !== 'admin') continue;
    const diff = [...new Set([...Object.keys(a.headers), ...Object.keys(b.headers)])].filter((k) => a.headers[k] !== b.headers[k]);
    if (diff.length) {
      throw new Error(`${fw}: headers differ: ${diff.map((k) => `${k}: ${a.headers[k]} (stack) vs ${b.headers[k]} (warden)`).join('; ')}`);
    }
    if (!a.limit || !b.limit) throw new Error(`${fw}: a side sends no rate-limit headers`);
  }
}

function rps(base) {
  return new Promise((resolve, reject) => {
    autocannon({ url: base + PATH, headers: ADMIN, connections, duration: seconds }, (err, res) => {
      if (err) return reject(err);
      if (res.non2xx !== 0 || res.errors !== 0) return reject(new Error(`${res.non2xx} non-2xx, ${res.errors} errors`));
      resolve(res.requests.average);
    });
  });
}

async function main() {
  console.log(`autocannon: ${connections} connections, ${seconds} s per run, ${rounds} rounds (stack, warden alternating); node ${process.version}`);
  for (const fw of frameworks) {
    const stack = await start(`${fw}-stack`);
    const warden = await start(`${fw}-warden`);
    try {
      await sameAnswers(fw, stack, warden);
      // Warm-up (JIT) before the first timed run.
      await rps(stack.base);
      await rps(warden.base);
      const ratios = [];
      for (let r = 0; r < rounds; r++) {
        const s = await rps(stack.base);
        const w = await rps(warden.base);
        ratios.push(w / s);
        console.log(`${fw} round ${r + 1}: stack ${s.toFixed(0)} req/s, warden ${w.toFixed(0)} req/s, ratio ${(w / s).toFixed(2)}`);
      }
      ratios.sort((x, y) => x - y);
      console.log(`${fw}: median ratio warden/stack ${ratios[Math.floor(ratios.length / 2)].toFixed(2)} (same answers checked)`);
    } finally {
      await stack.stop();
      await warden.stop();
    }
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
