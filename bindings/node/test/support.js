'use strict';
// Helpers shared by the test files (no tests of its own).

// Run `fn(baseUrl)` against `app` listening on a free local port, then close it.
async function withServer(app, fn) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    await fn(`http://127.0.0.1:${server.address().port}`);
  } finally {
    // Connections still open (an upload refused half-way, keep-alive) would hold close().
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
}

// Run `fn(baseUrl)` against a Fetch-API handler `(request) => Response` served by
// @hono/node-server on a free local port (the handler sees real sockets' requests).
async function withFetchServer(handler, fn) {
  const { createAdaptorServer } = require('@hono/node-server');
  return withServer(createAdaptorServer({ fetch: handler }), fn);
}

const crypto = require('node:crypto');
const path = require('node:path');

// The adapters' shared policy (test/adapters.warden) and its secrets.
const ADAPTERS = path.join(__dirname, 'adapters.warden');
const SECRETS = Object.freeze({ JWT_SECRET: 'test-jwt-secret-of-enough-length', STRIPE_SECRET: 'whsec_test' });

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// An HS256 JWT over `claims` (`exp` one hour ahead unless given).
function jwt(claims, secret = SECRETS.JWT_SECRET) {
  const body = { exp: Math.floor(Date.now() / 1000) + 3600, ...claims };
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(body)}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

// A Stripe-Signature header for `body` signed now.
function stripeSignature(body, secret = SECRETS.STRIPE_SECRET) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

module.exports = { withServer, withFetchServer, ADAPTERS, SECRETS, jwt, stripeSignature };
