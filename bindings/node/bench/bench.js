'use strict';
// Node: Warden's `authorize` from plain objects next to casbin's `enforceSync` on the
// docs-app workload (core/benches/docs_app.rs). Both are first checked to agree with
// the hand-written rules on every request; then each is timed (best of 5 rounds).
// Run: scripts/bench-node.sh (needs warden.node built in release and `npm ci`).

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

async function main() {
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
    console.log(`${name.padEnd(30)} ${(ns / 1000).toFixed(3).padStart(8)} µs/call  ${(ns / base).toFixed(1).padStart(6)}x warden`);
  }
  if (sink === -1) console.log(sink);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
