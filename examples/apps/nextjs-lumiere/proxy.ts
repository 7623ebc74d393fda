// Next.js 16 proxy (Node.js runtime): every request goes through Warden first. The
// policy answers what the seed's middleware did (redirects to /login?callbackUrl=...,
// the admin role check, the cron secret, the Stripe signature over the raw body); an
// admitted request goes on with the verified principal in a request header that only
// this proxy can set (a client's own copy is replaced).

import { NextResponse, type NextRequest } from 'next/server';
import { PRINCIPAL_HEADER, wardenGuard } from './lib/warden';

export async function proxy(request: NextRequest): Promise<Response> {
  const check = await wardenGuard().check(request);
  if (!check.allowed) {
    const res = check.response() as Response;
    // Next.js wants an absolute Location from a proxy; the policy's are paths.
    const location = res.headers.get('location');
    if (location !== null) res.headers.set('location', new URL(location, request.nextUrl.origin).href);
    return res;
  }
  const headers = new Headers(request.headers);
  headers.delete(PRINCIPAL_HEADER);
  if (check.principal) headers.set(PRINCIPAL_HEADER, JSON.stringify(check.principal));
  return check.apply(NextResponse.next({ request: { headers } }));
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
