'use strict';
// Finds the native addon for this platform, in napi-rs's layout: `warden.<platform>.node`
// next to this file (a build from source: `npm run build`, `npm install ./bindings/node`),
// else the prebuilt one of the optional dependency `warden-policy-<platform>` (one npm
// package per platform, see `optionalDependencies` and `npm/`). When neither loads, the
// error says what was tried and what to do; it never falls back to another platform's file.

const fs = require('node:fs');
const path = require('node:path');

const PACKAGE = 'warden-policy';
const BINARY = 'warden';

// Whether this Linux runs on musl libc (Alpine): no glibc version in Node's own report.
function isMusl() {
  try {
    const report = process.report.getReport();
    const header = typeof report === 'string' ? JSON.parse(report).header : report.header;
    return !header.glibcVersionRuntime;
  } catch {
    return fs.existsSync('/etc/alpine-release');
  }
}

/** The platform part of the file and package names, as napi-rs spells it: `linux-x64-gnu`. */
function platformTriple(platform = process.platform, arch = process.arch, musl = isMusl) {
  switch (platform) {
    case 'linux':
      return `linux-${arch}-${musl() ? 'musl' : 'gnu'}`;
    case 'win32':
      return `win32-${arch}-msvc`;
    default:
      return `${platform}-${arch}`;
  }
}

// The platforms npm/ has a package for (package.json `napi.targets`).
const PREBUILT = [
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
];

function describe(error) {
  return error.code === 'MODULE_NOT_FOUND' ? 'not installed' : error.message.split('\n')[0];
}

/** Loads the addon, or throws an Error that lists what was tried and how to get one. */
function load() {
  const tried = [];
  const override = process.env.WARDEN_NODE_ADDON;
  if (override) {
    // An explicit path (tests of another build) is the only candidate: no silent fallback.
    return require(path.resolve(override));
  }
  const triple = platformTriple();
  const local = path.join(__dirname, `${BINARY}.${triple}.node`);
  if (fs.existsSync(local)) {
    try {
      return require(local);
    } catch (e) {
      tried.push(`${local}: ${describe(e)}`);
    }
  } else {
    tried.push(`${local}: not built`);
  }
  const prebuilt = `${PACKAGE}-${triple}`;
  try {
    return require(prebuilt);
  } catch (e) {
    tried.push(`${prebuilt}: ${describe(e)}`);
  }
  const fix = PREBUILT.includes(triple)
    ? `Reinstall ${PACKAGE} with optional dependencies (not --omit=optional / --no-optional), ` +
      `so that npm installs ${prebuilt}; or build it from source:`
    : `No prebuilt binary is published for ${triple}; build it from source:`;
  throw new Error(
    `${PACKAGE}: no native addon for ${triple} (Node ${process.version}).\n` +
      `Tried:\n  ${tried.join('\n  ')}\n${fix} install Rust 1.88+ (https://rustup.rs), clone the ` +
      'Warden repository, and from your project run `npm install --foreground-scripts ' +
      "<clone>/bindings/node` (it compiles the addon for several minutes; the flag shows cargo's progress).",
  );
}

module.exports = { load, platformTriple, PACKAGE, BINARY };
