'use strict';
// The policy each Warden variant runs: the same answers as the stack it replaces. Its
// `headers` block is taken from what that stack's header middleware actually sets
// (helmet for Express and NestJS, hono/secure-headers for Hono), so the two can be
// compared header for header before anything is timed.

const SECRET = 'bench-jwt-secret-0123456789abcdef0123';
const ORIGIN = 'https://app.example.com';
// Never reached during a run: the limiter's bookkeeping is measured, not its refusals.
const LIMIT = 100_000_000;

async function baselineHeaders(framework) {
  const out = {};
  if (framework === 'hono') {
    const { Hono } = require('hono');
    const { secureHeaders } = require('hono/secure-headers');
    const app = new Hono();
    app.use('*', secureHeaders());
    app.get('/', (c) => c.text('x'));
    const res = await app.request('/');
    for (const [k, v] of res.headers) if (k !== 'content-type') out[k] = v;
    return out;
  }
  const helmet = require('helmet')();
  const res = {
    setHeader: (k, v) => (out[k.toLowerCase()] = String(v)),
    removeHeader: () => {},
  };
  await new Promise((resolve) => helmet({}, res, resolve));
  return out;
}

async function policyFor(framework) {
  const headers = await baselineHeaders(framework);
  const lines = Object.entries(headers).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return `policy bench_hosts

role user
role admin > user

principal { id: string, roles: set<role> }

auth jwt {
  from: header authorization
  algorithms: HS256
  keys: secret(JWT_SECRET)
  principal.id: sub
  principal.roles: role
}

limit global: ${LIMIT} per 60s by ip

route /** {
  limit global
  header drop X-Powered-By
}

route /api/** {
  require auth
}

route /api/admin/** {
  require role admin
}

headers {
${lines.join('\n')}
}

cors {
  origins: "${ORIGIN}"
  methods: GET, HEAD, PUT, PATCH, POST, DELETE
  credentials: true
}
`;
}

module.exports = { policyFor, baselineHeaders, SECRET, ORIGIN, LIMIT };
