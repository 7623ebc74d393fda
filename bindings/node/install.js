'use strict';
// npm `install` script: nothing to do when the addon loads (the prebuilt optional
// dependency `warden-policy-<platform>`, or a `warden.<platform>.node` already built).
// Otherwise, in a source checkout (`npm install ./bindings/node`) with cargo on PATH, it
// builds the addon in release, as `napi build --platform --release` does, and puts it
// next to index.js. Without Rust or sources it only warns: `require('warden-policy')`
// then throws the loader's message, which says what to do.
//
// Compiling takes several minutes; npm hides a script's output unless run with
// `--foreground-scripts`, which shows cargo's progress.

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { load, platformTriple, BINARY } = require('./binding');

function loads() {
  try {
    load();
    return null;
  } catch (e) {
    return e;
  }
}

function hasCargo() {
  try {
    execFileSync('cargo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// cargo's JSON messages name the built library; its file name differs per OS
// (libwarden_node.so, libwarden_node.dylib, warden_node.dll).
function builtLibrary(stdout) {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === 'warden_node') {
      const lib = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
      if (lib) return lib;
    }
  }
  return null;
}

function buildFromSource(manifest) {
  console.error('warden-policy: compiling the native addon with cargo (release, several minutes)...');
  const r = spawnSync(
    'cargo',
    ['build', '--release', '--manifest-path', manifest, '-p', 'warden-node', '--message-format=json-render-diagnostics'],
    { cwd: __dirname, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`cargo build failed (exit ${r.status ?? r.signal})`);
  const lib = builtLibrary(r.stdout);
  if (!lib) throw new Error('cargo did not report the addon it built');
  const dest = path.join(__dirname, `${BINARY}.${platformTriple()}.node`);
  fs.copyFileSync(lib, dest);
  console.error(`warden-policy: built ${dest}`);
}

function main() {
  const missing = loads();
  if (!missing) return 0;
  const manifest = path.join(__dirname, '..', 'Cargo.toml');
  if (fs.existsSync(path.join(__dirname, 'Cargo.toml')) && fs.existsSync(manifest) && hasCargo()) {
    buildFromSource(manifest);
    const still = loads();
    if (still) throw still;
    return 0;
  }
  console.warn(`warning: ${missing.message}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`warden-policy: ${e.message}`);
  process.exitCode = 1;
}
