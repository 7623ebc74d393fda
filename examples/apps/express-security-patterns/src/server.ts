// Start the Security Patterns API: the seed's policy from policies/, secrets from the
// environment. A policy that does not load (a short JWT_SECRET ...) stops it here.

import path from 'node:path';
import { Engine } from 'warden-policy';
import { createApp } from './app';
import { openDatabase } from './posts';

const POLICY = process.env.WARDEN_POLICY ?? path.join(__dirname, '..', '..', '..', '..', 'policies', 'security-patterns.warden');

const secrets = {
  JWT_SECRET: process.env.JWT_SECRET ?? '',
  JWT_REFRESH_SECRET: process.env.JWT_REFRESH_SECRET ?? '',
};
const engine = Engine.fromFile(POLICY, { env: process.env.NODE_ENV ?? 'development', secrets });

void openDatabase().then((db) => {
  const server = createApp(engine, secrets, db).listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    const addr = server.address();
    console.log(`listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : ''}`);
  });
});
