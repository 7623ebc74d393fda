'use strict';
// Trusted proxies over real sockets: clients (distinct loopback source addresses,
// 127.0.0.2 to 127.0.0.8) -> a reverse proxy on 127.0.0.1 that appends the address it
// saw to X-Forwarded-For (or writes RFC 7239 Forwarded), as nginx does -> a real Express
// 5 app behind the Warden middleware. The middleware passes the socket's peer (never
// Express's `req.ip`, which `trust proxy` derives from the headers); the policy's
// `proxies` block decides which forwarding headers count.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const expressApp = require('express');
const warden = require('..');

const LIMITED = `
limit login: 2 per 15m by ip strict
route POST /login { limit login }
route /** { public }
`;
const BEHIND_PROXY = `policy p\nproxies { trusted: "127.0.0.1" }\n${LIMITED}`;
const NO_PROXIES = `policy p\n${LIMITED}`;
const FORWARDED = `policy p\nproxies {\n  trusted: "127.0.0.1"\n  header: Forwarded\n}\n${LIMITED}`;

function listen(server, host) {
  return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
}

function close(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(resolve));
}

/** The app: Express 5 with `trust proxy` on (so `req.ip` would believe any header). */
function app(policy) {
  const engine = warden.Engine.fromSource('p.warden', policy);
  const a = expressApp();
  a.set('trust proxy', true);
  a.use(warden.express(engine));
  a.post('/login', (req, res) => res.json({ expressIp: req.ip }));
  return a;
}

/** A reverse proxy to `port` that reports each client's socket address. */
function reverseProxy(port, style) {
  return http.createServer((req, res) => {
    const headers = { ...req.headers };
    const peer = req.socket.remoteAddress;
    if (style === 'forwarded') {
      // RFC 7239: IPv6 quoted and bracketed, with the client's port.
      const node = peer.includes(':') ? `"[${peer}]:${req.socket.remotePort}"` : `"${peer}:${req.socket.remotePort}"`;
      headers.forwarded = (headers.forwarded ? `${headers.forwarded}, ` : '') + `for=${node};proto=http`;
    } else {
      headers['x-forwarded-for'] = (headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ` : '') + peer;
    }
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
}

/** POST /login from `localAddress` to `port`; the status (and the body in `last`). */
const last = { body: '' };
function login(port, localAddress, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, localAddress, path: '/login', method: 'POST', headers: { ...headers, connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        last.body = body;
        resolve(res.statusCode);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The app behind the proxy; `fn(proxyPort, appPort)`. The app listens dual-stack on
 * `::` where it can, so the proxy's address reaches it as `::ffff:127.0.0.1`. */
async function stack(policy, style, fn) {
  const appServer = http.createServer(app(policy));
  let appPort;
  try {
    appPort = await listen(appServer, '::');
  } catch {
    appPort = await listen(appServer, '127.0.0.1');
  }
  const proxy = reverseProxy(appPort, style);
  const proxyPort = await listen(proxy, '127.0.0.1');
  try {
    await fn(proxyPort, appPort);
  } finally {
    await close(proxy);
    await close(appServer);
  }
}

const CLIENTS = [2, 3, 4, 5, 6, 7, 8].map((n) => `127.0.0.${n}`);

for (const [style, policy] of [['x-forwarded-for', BEHIND_PROXY], ['forwarded', FORWARDED]]) {
  test(`express behind a trusted proxy (${style}): 7 clients keep 7 budgets`, async () => {
    await stack(policy, style, async (proxyPort) => {
      for (const c of CLIENTS) {
        assert.equal(await login(proxyPort, c), 200, c);
        assert.equal(await login(proxyPort, c), 200, c);
      }
      // Each client's own budget is spent, and only its own.
      for (const c of CLIENTS) assert.equal(await login(proxyPort, c), 429, c);
    });
  });
}

test('express behind a trusted proxy: a forged X-Forwarded-For earns no fresh budget', async () => {
  await stack(BEHIND_PROXY, 'x-forwarded-for', async (proxyPort, appPort) => {
    const spoof = (i) => ({ 'x-forwarded-for': `198.51.100.${i}` });
    // Through the proxy: it appends the real address right of the forged one.
    assert.equal(await login(proxyPort, '127.0.0.2', spoof(1)), 200);
    assert.equal(await login(proxyPort, '127.0.0.2', spoof(2)), 200);
    assert.equal(await login(proxyPort, '127.0.0.2', spoof(3)), 429);
    assert.equal(await login(proxyPort, '127.0.0.2', { forwarded: 'for=198.51.100.4' }), 429);
    // Around the proxy, straight to the app: the peer is not a trusted proxy.
    assert.equal(await login(appPort, '127.0.0.3', spoof(5)), 200);
    assert.equal(await login(appPort, '127.0.0.3', spoof(6)), 200);
    assert.equal(await login(appPort, '127.0.0.3', spoof(7)), 429);
  });
});

test('express without a proxies block: forwarding headers are ignored', async () => {
  const server = http.createServer(app(NO_PROXIES));
  const port = await listen(server, '127.0.0.1');
  try {
    const headers = (i) => ({ 'x-forwarded-for': `198.51.100.${i}`, forwarded: `for=203.0.113.${i}` });
    assert.equal(await login(port, '127.0.0.4', headers(1)), 200);
    assert.equal(JSON.parse(last.body).expressIp, '198.51.100.1');
    assert.equal(await login(port, '127.0.0.4', headers(2)), 200);
    // Express's req.ip believed the header; the budget did not.
    assert.equal(await login(port, '127.0.0.4', headers(3)), 429);
    // Another client still has its own.
    assert.equal(await login(port, '127.0.0.5', headers(3)), 200);
  } finally {
    await close(server);
  }
});
