'use strict';
// `next start` on a chosen loopback port that prints the line the test harness waits for.

const http = require('node:http');
const path = require('node:path');
const next = require('next');

// The seed's policy, wherever the server is started from (lib/warden.ts reads this).
process.env.WARDEN_POLICY ??= path.join(__dirname, '..', '..', '..', 'policies', 'lumiere.warden');

const app = next({ dev: false, dir: __dirname, hostname: '127.0.0.1' });
app.prepare().then(() => {
  const handle = app.getRequestHandler();
  const server = http.createServer((req, res) => handle(req, res));
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
});
