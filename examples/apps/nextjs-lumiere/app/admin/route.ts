import { principalOf } from '../../lib/warden';

// Only reached by an ADMIN (others were redirected to /dashboard).
export function GET(request: Request): Response {
  return Response.json({ page: 'admin', user: principalOf(request)?.id ?? null });
}
