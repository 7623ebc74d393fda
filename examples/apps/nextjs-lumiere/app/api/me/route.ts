import { principalOf } from '../../../lib/warden';

// The principal proxy.ts verified from the Auth.js session cookie.
export function GET(request: Request): Response {
  return Response.json({ user: principalOf(request) });
}
