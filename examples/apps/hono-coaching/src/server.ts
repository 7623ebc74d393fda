// Start the Coaching App backend: the seed's policy from policies/, secrets and
// settings from the environment (as the seed's deployment checklist has them).

import path from 'node:path';
import { serve } from '@hono/node-server';
import { Engine } from 'warden-policy';
import { createApp, directoryUsers } from './app';
import { openDirectory } from './directory';
import { createMentorships } from './mentorships';

const POLICY = process.env.WARDEN_POLICY ?? path.join(__dirname, '..', '..', '..', '..', 'policies', 'coaching-app.warden');

const env = (names: string[]): Record<string, string> =>
  Object.fromEntries(names.flatMap((n) => (process.env[n] === undefined ? [] : [[n, process.env[n] as string]])));

// A policy that does not load stops the server here, with every diagnostic.
const engine = Engine.fromFile(POLICY, {
  env: process.env.NODE_ENV ?? 'development',
  secrets: env(['BETTER_AUTH_SECRET', 'CLIENT_API_KEY', 'DATABASE_URL', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY', 'SMTP_PASS']),
  config: env(['BETTER_AUTH_URL', 'CORS_ORIGIN', 'SMTP_SECURE', 'SMTP_PORT', 'SMTP_HOST']),
});

void openDirectory(directoryUsers()).then((directory) => {
  createMentorships(directory);
  serve({ fetch: createApp(engine, directory).fetch, port: Number(process.env.PORT ?? 3001), hostname: '127.0.0.1' }, (info) => {
    console.log(`listening on http://127.0.0.1:${info.port}`);
  });
});
