'use strict';
// The path rule (docs/ARCHITECTURE.md) against real routers: a corpus of spellings of a
// protected path goes over a real socket, byte for byte (`http.request`, not `fetch`,
// which would resolve dot segments), through the Warden middleware to an app whose admin
// handlers answer `x-handler: admin`. For every spelling, either the request was refused
// before any handler ran, or the handler the framework dispatched belongs to the route
// the engine matched; a non-admin principal never reaches an admin handler. Express 5
// (warden.express), Hono on @hono/node-server (warden.hono over fetch.js) and NestJS 11
// on Express (WardenModule); for Hono and Nest the handler echoes the route of the
// decision the adapter made (`x-route`), since their adapters hand the engine a path
// the server has already parsed (node-server resolves dot segments into `request.url`).

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
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

/** GET `rawPath` exactly as written; resolves to { status, handler, route }. */
function rawGet(base, rawPath) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, handler: res.headers['x-handler'] ?? null, route: res.headers['x-route'] ?? null }));
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

/**
 * `target` sent as the request line's target, exactly (`http.request` refuses some of
 * these: `*`, backslashes in absolute-form); resolves to { status, handler, route }.
 */
function rawTarget(base, target) {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1');
    const chunks = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const head = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n')[0].split('\r\n');
      const header = (name) => head.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? null;
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0])?.[1]), handler: header('x-handler'), route: header('x-route') });
    });
    s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

/** Targets of other forms than a path: absolute-form (spelled as the corpus), `*`, authority-form. */
function otherTargets() {
  const out = ['*', '127.0.0.1:80', 'api/admin', 'http:/api/admin', 'http:///api/admin', 'ftp://x/api/admin',
    'HTTP://127.0.0.1/api/admin', 'http://127.0.0.1\\api\\admin', 'http://127.0.0.1?/api/admin', 'http://127.0.0.1#/api/admin',
    'http://x@127.0.0.1/api/admin', 'http://127.0.0.1%2Fapi/admin', 'http://127.0.0.1;/api/admin'];
  for (const p of ['/api/admin', '/api/admin/x', '/API/admin', '/x/../api/admin', '/api/admin/..', '/api/%61dmin', '/api//admin']) {
    out.push(`http://127.0.0.1${p}`, `https://evil.example${p}`);
  }
  return out;
}

/**
 * Every spelling through `base`: no admin handler reached, and a served handler is the
 * one of the route the adapter decided on (`x-route`, echoed by the handlers).
 */
async function differential(base) {
  let refused = 0;
  let served = 0;
  const check = (what, r) => {
    assert.notEqual(r.handler, 'admin', `${what}: a non-admin reached an admin handler (${r.status})`);
    if (r.handler === null) {
      refused += 1;
      return;
    }
    served += 1;
    assert.equal(r.route, '/**', `${what}: Warden decided on ${r.route}, the framework ran the ${r.handler} handler`);
  };
  for (const p of corpus()) check(p, await rawGet(base, p));
  for (const t of otherTargets()) {
    const r = await rawTarget(base, t);
    // A malformed target is refused by the server or the adapter, never a 500.
    assert.ok(r.status < 500, `${t}: ${r.status}`);
    check(t, r);
  }
  assert.ok(refused > 100, `refused ${refused}`);
  assert.ok(served > 10, `served ${served}`);
}

test('Hono on @hono/node-server: no spelling reaches an admin handler the engine did not route to', async () => {
  const { Hono } = require('hono');
  const { createAdaptorServer } = require('@hono/node-server');
  const engine = warden.Engine.fromSource('d.warden', POLICY);
  const app = new Hono();
  app.use('*', warden.hono(engine, { principal: () => ({ id: 'u1', roles: [] }) }));
  const mark = (kind) => (c) => {
    c.header('x-handler', kind);
    c.header('x-route', c.get('warden').decision.route?.pattern ?? 'none');
    return c.text(kind);
  };
  app.get('/api/admin', mark('admin'));
  app.get('/api/admin/*', mark('admin'));
  app.get('/api/:x', mark('public'));
  app.get('/api/:x/*', mark('public'));
  app.get('*', mark('public'));
  await withServer(createAdaptorServer({ fetch: app.fetch }), differential);
});

test('NestJS 11 (Express platform): no spelling reaches an admin handler the engine did not route to', async () => {
  require('reflect-metadata');
  const { Controller, Get, Module, Req } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { WardenModule } = require('../nest');
  const engine = warden.Engine.fromSource('d.warden', POLICY);
  const handler = (kind) => (req) => {
    req.res.set('x-handler', kind);
    req.res.set('x-route', req.warden.decision.route?.pattern ?? 'none');
    return kind;
  };
  // Decorators applied by hand: this file is plain JavaScript.
  const controller = (prefix, routes) => {
    const C = class {};
    for (const [name, path, kind] of routes) {
      C.prototype[name] = handler(kind);
      Get(path)(C.prototype, name, Object.getOwnPropertyDescriptor(C.prototype, name));
      Req()(C.prototype, name, 0);
    }
    Controller(prefix)(C);
    return C;
  };
  const Admin = controller('api/admin', [['root', '', 'admin'], ['rest', '{*rest}', 'admin']]);
  const Api = controller('api', [['one', ':x', 'public'], ['more', ':x/{*rest}', 'public']]);
  const Rest = controller('', [['any', '{*rest}', 'public']]);
  class AppModule {}
  Module({ imports: [WardenModule.forRoot({ engine, principal: () => ({ id: 'u1', roles: [] }) })], controllers: [Admin, Api, Rest] })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    await differential(`http://127.0.0.1:${app.getHttpServer().address().port}`);
  } finally {
    await app.close();
  }
});
