import { CannotFilter } from 'warden-policy';
import { viewableStatements } from '../../../lib/earnings';
import { pageOf } from '../../../lib/page';
import { principalOf, wardenEngine } from '../../../lib/warden';

// The list twin of /api/earnings/[userId]: the statements the caller may view, filtered
// by SQLite with the policy's own "owner or ADMIN" rule, paged after it.
export async function GET(request: Request): Promise<Response> {
  const principal = principalOf(request);
  if (!principal) return Response.json({ error: 'unauthorized' }, { status: 401 });
  const { limit, offset } = pageOf(new URL(request.url));
  try {
    return Response.json({ earnings: await viewableStatements(wardenEngine(), principal, limit, offset), limit, offset });
  } catch (e) {
    // A policy rule no SQL can express: never a wrong page.
    if (e instanceof CannotFilter) return Response.json({ error: 'this list cannot be filtered' }, { status: 500 });
    throw e;
  }
}
