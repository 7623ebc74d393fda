// The engine, loaded once per server process from policies/lumiere.warden, and the Fetch
// guard proxy.ts runs every request through. Secrets come from the environment; a
// policy that does not load (AUTH_SECRET under 32 characters ...) fails the first
// request with the policy's diagnostics rather than letting it through.

import path from 'node:path';
import { Engine, fetchGuard, type FetchGuard, type Principal } from 'warden-policy';

const POLICY = process.env.WARDEN_POLICY ?? path.join(process.cwd(), '..', '..', '..', 'policies', 'lumiere.warden');

function secrets(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of ['AUTH_SECRET', 'CRON_SECRET', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_SECRET_KEY', 'DATABASE_URL']) {
    const v = process.env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

let engine: Engine | undefined;
let guard: FetchGuard | undefined;

export function wardenEngine(): Engine {
  engine ??= Engine.fromFile(POLICY, { env: process.env.NODE_ENV ?? 'development', secrets: secrets() });
  return engine;
}

export function wardenGuard(): FetchGuard {
  guard ??= fetchGuard(wardenEngine());
  return guard;
}

/** The header proxy.ts hands the verified principal to route handlers in. */
export const PRINCIPAL_HEADER = 'x-warden-principal';

/** The principal proxy.ts verified (the Auth.js session), or null. */
export function principalOf(request: Request): Principal | null {
  const h = request.headers.get(PRINCIPAL_HEADER);
  return h ? (JSON.parse(h) as Principal) : null;
}
