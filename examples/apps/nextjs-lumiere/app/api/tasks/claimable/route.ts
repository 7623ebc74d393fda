import { CannotFilter } from 'warden-policy';
import { pageOf } from '../../../../lib/page';
import { claimableTasks } from '../../../../lib/tasks';
import { principalOf, wardenEngine } from '../../../../lib/warden';

// The task board: the open tasks the caller may claim, filtered by SQLite with the
// policy's own role and category rules, paged after them.
export async function GET(request: Request): Promise<Response> {
  const principal = principalOf(request);
  if (!principal) return Response.json({ error: 'unauthorized' }, { status: 401 });
  const { limit, offset } = pageOf(new URL(request.url));
  try {
    return Response.json({ tasks: await claimableTasks(wardenEngine(), principal, limit, offset), limit, offset });
  } catch (e) {
    // A policy rule no SQL can express: never a wrong page.
    if (e instanceof CannotFilter) return Response.json({ error: 'this list cannot be filtered' }, { status: 500 });
    throw e;
  }
}
