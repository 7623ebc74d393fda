'use strict';
// An npm registry for the consumer test (scripts/test-packages.sh): it serves the given
// tarballs as their packages (`warden-policy`, `warden-policy-linux-x64-gnu`: not
// published yet) and forwards every other request to UPSTREAM, so that the README's
// `npm install warden-policy express` runs as written. Prints its URL once listening.
//
// Usage: node registry.js UPSTREAM TARBALL...

const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const [upstream, ...tarballs] = process.argv.slice(2);
if (!upstream || tarballs.length === 0) {
  console.error('usage: node registry.js UPSTREAM TARBALL...');
  process.exit(2);
}

const packages = new Map(); // name -> { manifest, file, bytes }
for (const file of tarballs) {
  const bytes = fs.readFileSync(file);
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }));
  packages.set(manifest.name, { manifest, file: path.basename(file), bytes });
}

function packument(base, { manifest, file, bytes }) {
  const dist = {
    tarball: `${base}/-/${file}`,
    integrity: `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`,
    shasum: crypto.createHash('sha1').update(bytes).digest('hex'),
  };
  return {
    name: manifest.name,
    'dist-tags': { latest: manifest.version },
    versions: { [manifest.version]: { ...manifest, _id: `${manifest.name}@${manifest.version}`, dist } },
  };
}

const server = http.createServer(async (req, res) => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const name = decodeURIComponent(req.url.slice(1).split('?')[0]);
  const own = packages.get(name);
  if (own) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(packument(base, own)));
    return;
  }
  const tarball = [...packages.values()].find((p) => req.url === `/-/${p.file}`);
  if (tarball) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(tarball.bytes);
    return;
  }
  try {
    const r = await fetch(upstream.replace(/\/$/, '') + req.url, {
      headers: { accept: req.headers.accept ?? '*/*' },
    });
    const body = Buffer.from(await r.arrayBuffer());
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(body);
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`upstream: ${e.message}\n`);
  }
});

server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${server.address().port}/`);
});
