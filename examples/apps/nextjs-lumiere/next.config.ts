import type { NextConfig } from 'next';

const config: NextConfig = {
  // The Warden engine is a native addon: required from node_modules at run time, never
  // bundled (proxy.ts runs on the Node.js runtime in Next.js 16); sql.js loads its
  // WebAssembly file from beside its own module.
  serverExternalPackages: ['warden-policy', 'sql.js'],
  // The monorepo has other lockfiles: this app's root is the workspace's.
  outputFileTracingRoot: require('node:path').join(__dirname, '..'),
  poweredByHeader: false,
};

export default config;
