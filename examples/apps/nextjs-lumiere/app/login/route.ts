export function GET(request: Request): Response {
  return Response.json({ page: 'login', callbackUrl: new URL(request.url).searchParams.get('callbackUrl') });
}
