// Reached only with `Authorization: Bearer <CRON_SECRET>` (the policy's route).
export function POST(): Response {
  return Response.json({ cleaned: true });
}
