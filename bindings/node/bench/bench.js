'use strict';
// Node: Warden's `authorize` from plain objects next to casbin's `enforceSync` on the
// docs-app workload (core/benches/docs_app.rs). Both are first checked to agree with
// the hand-written rules on every request; then each is timed (best of 5 rounds).
// Run: scripts/bench-node.sh (needs the addon built in release, `npm run build`, and `npm ci`).
// Counting mode, for instruction counts under callgrind (timings on a shared machine
// are noise): `node bench/bench.js --count VARIANT N` decides the workload once, then
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

function count(variant, k) {
  const w = app.world();
  const engine = Engine.fromFile(app.POLICY, { secrets: { CRON_SECRET: 'bench-cron-secret' } });
  const reqs = w.cases.map((c) => app.request(w, c));
  const n = reqs.length;
  let sink = 0;
  for (let rep = 0; rep < 3; rep++) for (let i = 0; i < n; i++) sink += engine.authorize(reqs[i]).status;
  if (variant === 'warden') for (let i = 0; i < k; i++) sink += engine.authorize(reqs[i % n]).status;
  else if (variant === 'noop') for (let i = 0; i < k; i++) sink += noop(reqs[i % n]);
  else throw new Error(`unknown variant ${variant}`);
  if (sink === -1) console.log(sink);
}

async function main() {
  if (process.argv[2] === '--count') return count(process.argv[3], Number(process.argv[4]));
  const w = app.world();
  const want = w.cases.map((c) => app.hand(w, c));
  console.log(`docs-app workload: ${w.cases.length} requests, ${want.filter(Boolean).length} allowed`);
  const engine = Engine.fromFile(app.POLICY, { secrets: { CRON_SECRET: 'bench-cron-secret' } });
  const reqs = w.cases.map((c) => app.request(w, c));
  const n = reqs.length;
  const bad = reqs.findIndex((r, i) => engine.authorize(r).allowed !== want[i]);
  if (bad >= 0) throw new Error(`warden disagrees with the hand-written rules: ${JSON.stringify(reqs[bad])}`);
  const results = {};
  let sink = 0;
  results['warden authorize(object)'] = bestNs((k) => {
    for (let i = 0; i < k; i++) sink += engine.authorize(reqs[i % n]).status;
  }, 1_000_000);
  results['(the loop with a no-op function)'] = bestNs((k) => {
    for (let i = 0; i < k; i++) sink += noop(reqs[i % n]);
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
  const base = results['warden authorize(object)'];
  for (const [name, ns] of Object.entries(results)) {
    const ratio = name.startsWith('(') ? '' : `${(ns / base).toFixed(1).padStart(6)}x warden`;
    console.log(`${name.padEnd(34)} ${(ns / 1000).toFixed(3).padStart(8)} µs/call  ${ratio}`);
  }
  if (sink === -1) console.log(sink);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
