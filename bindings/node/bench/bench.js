'use strict';
// Node: Warden's `authorize` from plain objects next to casbin's `enforceSync` on the
// docs-app workload (core/benches/docs_app.rs). Both are first checked to agree with
// the hand-written rules on every request; then each is timed (best of 5 rounds).
// Warden and the no-op loop run on two sets: the 4,096 requests of the Rust bench (hot:
// they fit in the caches) and 100,000 distinct requests that each own their strings,
// shuffled (`docs_app.cold`, the Rust bench's `cold_rows`).
// Run: scripts/bench-node.sh (needs the addon built in release, `npm run build`, and `npm ci`).
// Counting mode, for instruction counts under callgrind (timings on a shared machine
// are noise): `node bench/bench.js --count VARIANT N [cold]` decides the set once, then
// makes N calls of VARIANT (`warden`, `noop`) and exits; (count(N) - count(0)) / N is
// the cost of one call.

const { Engine } = require('..');
const app = require('./docs_app');

// CPU time per call (user + system), best of `rounds`: on a shared machine wall time
// mostly measures the other processes.
function bestNs(fn, n, rounds = 5) {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = process.cpuUsage();
    fn(n);
    const d = process.cpuUsage(t);
    best = Math.min(best, ((d.user + d.system) * 1000) / n);
  }
  return best;
}

// A function the loop calls instead of authorize: the loop's own cost.
function noop(r) {
  return r.action.length;
}

const N_COLD = 100_000;

function count(variant, k, set) {
  const engine = Engine.fromFile(app.POLICY, { secrets: { CRON_SECRET: 'bench-cron-secret' } });
  let reqs;
  if (set === 'cold') reqs = app.cold(N_COLD).reqs;
  else if (set === undefined) {
    const w = app.world();
    reqs = w.cases.map((c) => app.request(w, c));
  } else throw new Error(`unknown set ${set}`);
  const n = reqs.length;
  let sink = 0;
  for (let rep = 0; rep < 3; rep++) for (let i = 0; i < n; i++) sink += engine.authorize(reqs[i]).status;
  if (variant === 'warden') for (let i = 0; i < k; i++) sink += engine.authorize(reqs[i % n]).status;
  else if (variant === 'noop') for (let i = 0; i < k; i++) sink += noop(reqs[i % n]);
  else throw new Error(`unknown variant ${variant}`);
  if (sink === -1) console.log(sink);
}

async function main() {
  if (process.argv[2] === '--count') return count(process.argv[3], Number(process.argv[4]), process.argv[5]);
  const w = app.world();
  const want = w.cases.map((c) => app.hand(w, c));
  console.log(`docs-app workload: ${w.cases.length} requests, ${want.filter(Boolean).length} allowed`);
  const engine = Engine.fromFile(app.POLICY, { secrets: { CRON_SECRET: 'bench-cron-secret' } });
  const reqs = w.cases.map((c) => app.request(w, c));
  const n = reqs.length;
  const bad = reqs.findIndex((r, i) => engine.authorize(r).allowed !== want[i]);
  if (bad >= 0) throw new Error(`warden disagrees with the hand-written rules: ${JSON.stringify(reqs[bad])}`);
  const cold = app.cold(N_COLD);
  const coldWant = cold.cases.map((c) => app.hand(cold.w, c));
  const coldBad = cold.reqs.findIndex((r, i) => engine.authorize(r).allowed !== coldWant[i]);
  if (coldBad >= 0) throw new Error(`warden disagrees with the hand-written rules: ${JSON.stringify(cold.reqs[coldBad])}`);
  console.log(`cold set: ${N_COLD} distinct requests, ${coldWant.filter(Boolean).length} allowed, each owning its strings`);
  const results = {};
  let sink = 0;
  // Each loop written out (not one closure made twice): V8 keeps type feedback per
  // function literal, and the floor of one set must not be the other set's.
  const hot = reqs;
  const coldReqs = cold.reqs;
  const m = coldReqs.length;
  results['warden authorize(object), 4,096 set'] = bestNs((k) => {
    for (let i = 0; i < k; i++) sink += engine.authorize(hot[i % n]).status;
  }, 1_000_000);
  results['(the loop with a no-op function), 4,096 set'] = bestNs((k) => {
    for (let i = 0; i < k; i++) sink += noop(hot[i % n]);
  }, 1_000_000);
  results['warden authorize(object), 100k cold'] = bestNs((k) => {
    for (let i = 0; i < k; i++) sink += engine.authorize(coldReqs[i % m]).status;
  }, 1_000_000);
  results['(the loop with a no-op function), 100k cold'] = bestNs((k) => {
    for (let i = 0; i < k; i++) sink += noop(coldReqs[i % m]);
  }, 1_000_000);

  let casbin;
  try {
    casbin = require('casbin');
  } catch (e) {
    console.log(`casbin: not installed (${e.message})`);
  }
  if (casbin) {
    const model = casbin.newModelFromString(app.CASBIN_MODEL);
    const enforcer = await casbin.newEnforcer(model);
    for (const [ptype, ...rule] of app.CASBIN_POLICY) {
      if (ptype === 'p') await enforcer.addPolicy(...rule);
      else await enforcer.addGroupingPolicy(...rule);
    }
    const cargs = w.cases.map((c) => app.casbinArgs(w, c));
    const cbad = cargs.findIndex((a, i) => enforcer.enforceSync(...a) !== want[i]);
    if (cbad >= 0) throw new Error(`casbin disagrees with the hand-written rules: ${JSON.stringify(cargs[cbad])}`);
    results['casbin enforceSync'] = bestNs((k) => {
      for (let i = 0; i < k; i++) sink += enforcer.enforceSync(...cargs[i % n]) ? 1 : 0;
    }, 50_000);
  }
  console.log('all engines agree with the hand-written rules on every request');
  const base = results['warden authorize(object), 4,096 set'];
  for (const [name, ns] of Object.entries(results)) {
    const ratio = name.startsWith('casbin') ? `${(ns / base).toFixed(1).padStart(6)}x warden (4,096 set)` : '';
    console.log(`${name.padEnd(46)} ${(ns / 1000).toFixed(3).padStart(8)} µs/call  ${ratio}`);
  }
  if (sink === -1) console.log(sink);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
