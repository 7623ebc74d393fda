'use strict';
// `next start` on a chosen loopback port that prints the line the test harness waits for.

const http = require('node:http');
const path = require('node:path');
const next = require('next');

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

// The seed's policy, wherever the server is started from (lib/warden.ts reads this).
process.env.WARDEN_POLICY ??= path.join(__dirname, '..', '..', '..', 'policies', 'lumiere.warden');

const app = next({ dev: false, dir: __dirname, hostname: '127.0.0.1' });
app.prepare().then(() => {
  const handle = app.getRequestHandler();
  const server = http.createServer((req, res) => {
    // Next.js's router throws on a target that is neither a path nor an absolute URL
    // (`GET *`, `OPTIONS *`: a 500 before proxy.ts runs, so the policy never decides):
    // refused here with the 400 the Express adapter answers.
    if (!req.url.startsWith('/') && !ABSOLUTE.test(req.url)) {
      const body = JSON.stringify({ error: 'bad request target' });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    handle(req, res);
  });
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
});
