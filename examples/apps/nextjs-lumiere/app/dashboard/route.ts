import { principalOf } from '../../lib/warden';

// Only reached with a session (else proxy.ts redirected to /login?callbackUrl=...).
export function GET(request: Request): Response {
  return Response.json({ page: 'dashboard', user: principalOf(request)?.id ?? null });
}
