// Reached only with a valid Stripe-Signature over this very body (proxy.ts read a copy).
export async function POST(request: Request): Promise<Response> {
  const event = JSON.parse(await request.text()) as { type?: string };
  return Response.json({ received: event.type ?? null });
}
