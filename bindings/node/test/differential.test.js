'use strict';
// The path rule (docs/ARCHITECTURE.md) against a real Express 5 router: a corpus of
// spellings of a protected path goes over a real socket, byte for byte (`http.request`,
// not `fetch`, which would resolve dot segments), through the Warden middleware to an
// app whose admin handlers answer `x-handler: admin`. For every spelling, either Warden
// refused it (400), or the handler Express dispatched belongs to the route the engine
// matched; a non-admin principal never reaches an admin handler.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const expressApp = require('express');
const warden = require('..');
const { withServer } = require('./support');

const POLICY = `
policy d
role admin
route /api/admin/** { require role admin }
route /** { public }
`;

/** Spellings of paths under and around `/api/admin` (issue 15's list, and more). */
function corpus() {
  const admin = ['admin', 'ADMIN', 'Admin', '%61dmin', 'adm%69n', '%41dmin', 'admin;x', 'admin%3Bx',
    'admin%2F', 'admin%2f', 'admin%5C', 'admin\\', 'admin%00', '%EF%BD%81dmin', 'admin%20', 'admin.', '.admin'];
  const tails = ['', '/', '//', '/x', '/x/', '/..', '/../', '/.', '/%2e%2e', '/%2E%2E', '/.%2E', '/%2e.',
    '/x/..', '/x/../..', '/x/%2e%2e/%2e%2e', '/..;', '/..;/x', '/%2e', '/x%2F..', '/%00', '/x?y=/..',
    '/\u00e9', '/%C0%AE%C0%AE', '//x'];
  const heads = ['/api/', '/API/', '/api//', '//api/', '/x/../api/', '/api/x/../', '/%61pi/', '/api\\'];
  const out = new Set();
  for (const h of heads) for (const a of admin) for (const t of tails) out.add(h + a + t);
  for (const t of tails) out.add('/api' + t);
  return [...out];
}

/** GET `rawPath` exactly as written; resolves to { status, handler }. */
function rawGet(base, rawPath) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, handler: res.headers['x-handler'] ?? null }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('Express 5: no spelling reaches an admin handler the engine did not route to', async () => {
  const engine = warden.Engine.fromSource('d.warden', POLICY);
  const app = expressApp();
  app.use(warden.express(engine, { principal: (req) => ({ id: req.headers['x-user'] ?? 'u1', roles: [] }) }));
  const mark = (kind) => (req, res) => res.set('x-handler', kind).send(kind);
  app.get('/api/admin', mark('admin'));
  app.get('/api/admin/:section', mark('admin'));
  app.get('/api/admin/:section/*rest', mark('admin'));
  app.get('/api/:x', mark('public'));
  app.get('/api/:x/*rest', mark('public'));
  app.get('/*rest', mark('public'));
  const spellings = corpus();
  let refused = 0;
  let served = 0;
  await withServer(app, async (base) => {
    for (const p of spellings) {
      const r = await rawGet(base, p);
      const d = engine.checkHttp({ method: 'GET', path: p, principal: { id: 'u1', roles: [] } });
      if (r.status === 400 && r.handler === null) {
        refused += 1;
        continue;
      }
      assert.notEqual(r.handler, 'admin', `${p}: a non-admin reached an admin handler (${r.status})`);
      // The engine's route agrees with what Express dispatched.
      if (r.handler !== null) {
        served += 1;
        assert.equal(d.route?.pattern, '/**', `${p}: engine matched ${d.route?.pattern}, Express ran ${r.handler}`);
      }
    }
  });
  // The corpus exercises both outcomes.
  assert.ok(refused > 100, `refused ${refused}`);
  assert.ok(served > 10, `served ${served}`);
});
