'use strict';
// Start an example app as its own process (as it runs in production: `node dist/...`)
// on a free loopback port, and stop it after the tests. Shared by the apps' suites.

const { spawn } = require('node:child_process');

/**
 * Spawn `node script` with `env` added (PORT=0: the app picks a free port) and resolve
 * `{ base, stop }` once it prints `listening on http://127.0.0.1:PORT`.
 */
function start(script, env, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, script], {
      env: { ...process.env, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${script} did not start in 60 s:\n${out}\n${err}`));
    }, 60_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          base: m[1],
          output: () => out + err,
          stop: () => new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
}

module.exports = { start };
