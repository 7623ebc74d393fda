import { principalOf, wardenEngine } from '../../../../lib/warden';

// "Earnings are visible to their owner only" (or an ADMIN): a resource-level check.
export async function GET(request: Request, ctx: { params: Promise<{ userId: string }> }): Promise<Response> {
  const { userId } = await ctx.params;
  const principal = principalOf(request);
  if (!principal) return Response.json({ error: 'unauthorized' }, { status: 401 });
  const d = wardenEngine().authorize({
    action: 'earnings:view',
    principal,
    resource: { type: 'earnings', id: userId, owner: userId },
  });
  if (!d.allowed) return Response.json({ error: d.reason }, { status: 403 });
  return Response.json({ owner: userId, lumens: 42 });
}
