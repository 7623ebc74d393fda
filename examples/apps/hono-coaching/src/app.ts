// The Coaching App's backend (seed 004) on Hono, with Warden in front of every route:
// requireAuth, requireRole('platform_admin'), Better-auth's auth rate limit,
// secureHeaders, cors and the session cookie flags all come from
// policies/coaching-app.warden. The handlers keep only what needs the app's data: the
// org-scoped user lookup (a resource-level check) and the file's Content-Disposition
// inputs.

import { Hono } from 'hono';
import type { SQLJsDatabase } from 'drizzle-orm/sql-js';
import { CannotFilter, Engine, hono as warden, type Principal, type WardenState, type HonoContextLike } from 'warden-policy';
import { readableUsers, type DirectoryUser } from './directory';
import { attachableMentorships } from './mentorships';

type Env = { Variables: { warden: WardenState } };

interface User {
  id: string;
  email: string;
  password: string;
  roles: string[];
  /** Better-auth's `user.emailVerified` (requireEmailVerification in production). */
  emailVerified: boolean;
  org?: string;
  org_roles?: Record<string, string[]>;
}

interface StoredFile {
  id: string;
  org: string;
  mime: string;
  filename: string;
}

// A stand-in for Better-auth's user table and sessions (opaque bearer tokens).
const USERS: User[] = [
  { id: 'pa1', email: 'admin@coaching.test', password: 'platform-admin-pw', emailVerified: true, roles: ['platform_admin'] },
  { id: 'oa1', email: 'orgadmin@coaching.test', password: 'org-admin-pw', emailVerified: true, roles: ['org_admin'], org: 'o1', org_roles: { o1: ['org_admin'] } },
  { id: 'm1', email: 'member@coaching.test', password: 'member-pw', emailVerified: true, roles: ['member'], org: 'o1', org_roles: { o1: ['member'] } },
  { id: 'm2', email: 'other@coaching.test', password: 'other-pw', emailVerified: true, roles: ['member'], org: 'o2', org_roles: { o2: ['member'] } },
];

const FILES: Record<string, StoredFile> = {
  f1: { id: 'f1', org: 'o1', mime: 'image/png', filename: 'logo.png' },
  f2: { id: 'f2', org: 'o1', mime: 'text/html', filename: 'evil"\r\nSet-Cookie: x=1.html' },
};

function principalOf(u: User): Principal {
  const p: Principal = { id: u.id, roles: u.roles, email_verified: u.emailVerified };
  if (u.org !== undefined) p.org = u.org;
  if (u.org_roles !== undefined) p.org_roles = u.org_roles;
  return p;
}

/** The sign-in users as directory rows (their first role is the `role` column). */
export function directoryUsers(): DirectoryUser[] {
  return USERS.map((u) => ({ id: u.id, email: u.email, org: u.org ?? null, role: u.roles[0] }));
}

/** `?limit=` and `?offset=`: whole numbers in range, else the defaults. */
function pageOf(url: string): { limit: number; offset: number } {
  const q = new URL(url).searchParams;
  const num = (v: string | null, dflt: number, max: number) => Math.min(v !== null && /^\d{1,6}$/.test(v) ? Number(v) : dflt, max);
  return { limit: Math.max(1, num(q.get('limit'), 20, 100)), offset: num(q.get('offset'), 0, 1_000_000) };
}

export function createApp(engine: Engine, directory: SQLJsDatabase): Hono<Env> {
  const sessions = new Map<string, User>();
  const app = new Hono<Env>();

  const bearer = (c: HonoContextLike): User | undefined => {
    const h = c.req.raw.headers.get('authorization') ?? '';
    return h.startsWith('Bearer ') ? sessions.get(h.slice(7)) : undefined;
  };

  app.use(
    '*',
    warden(engine, {
      // The session Better-auth would look up from the opaque token.
      principal: (c) => {
        const u = bearer(c);
        return u ? principalOf(u) : null;
      },
      // What the policy's requirements read: the JSON body of the validated routes, and
      // the stored file's type and name for its Content-Disposition.
      input: async (c) => {
        const { pathname } = new URL(c.req.raw.url);
        if (c.req.raw.method === 'POST' && pathname === '/api/organizations') {
          return (await c.req.raw.clone().json().catch(() => ({}))) as Record<string, unknown>;
        }
        const m = /^\/api\/files\/([^/]+)\/stream$/.exec(pathname);
        const f = m ? FILES[m[1]] : undefined;
        return f ? { mime: f.mime, filename: f.filename } : null;
      },
    }),
  );

  app.get('/api/health', (c) => c.json({ status: 'ok' }));

  app.post('/api/auth/sign-in/email', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { email?: string; password?: string };
    const u = USERS.find((x) => x.email === body.email && x.password === body.password);
    if (!u) return c.json({ error: 'invalid credentials' }, 401);
    const token = crypto.randomUUID();
    sessions.set(token, u);
    // Better-auth's cookie; the policy's `cookies` rule adds HttpOnly, Secure, SameSite=Lax.
    c.header('set-cookie', `better-auth.session_token=${token}; Path=/`, { append: true });
    return c.json({ token });
  });

  // The principal Warden handed over.
  app.get('/api/me', (c) => c.json({ user: c.get('warden').principal }));

  // Only platform_admin gets here (`require role platform_admin`).
  app.get('/api/organizations', (c) => c.json({ organizations: ['o1', 'o2'] }));

  // name and slug were validated by the policy before this runs.
  app.post('/api/organizations', async (c) => {
    const body = (await c.req.json()) as { name: string; slug: string };
    return c.json({ created: body.slug }, 201);
  });

  // The list twin of GET /api/users/:id: the users the caller may read, filtered by
  // SQLite with the policy's own org-scope and ceiling rules, paged after them.
  app.get('/api/users', (c) => {
    const { limit, offset } = pageOf(c.req.url);
    try {
      return c.json({ users: readableUsers(directory, engine, c.get('warden').principal, limit, offset), limit, offset });
    } catch (e) {
      // A policy rule no SQL can express: never a wrong page.
      if (e instanceof CannotFilter) return c.json({ error: 'this list cannot be filtered' }, 500);
      throw e;
    }
  });

  // The seed's File Upload ACL as a list: the mentorships the caller may attach files
  // to (a participant, or a manager of the mentorship's organization), filtered by
  // SQLite through a join table of participants, paged after the filter.
  app.get('/api/mentorships/attachable', (c) => {
    const { limit, offset } = pageOf(c.req.url);
    try {
      return c.json({ mentorships: attachableMentorships(directory, engine, c.get('warden').principal, limit, offset), limit, offset });
    } catch (e) {
      if (e instanceof CannotFilter) return c.json({ error: 'this list cannot be filtered' }, 500);
      throw e;
    }
  });

  // Organization-scoped, with the ceiling: a resource-level check against the user row.
  app.get('/api/users/:id', (c) => {
    const u = USERS.find((x) => x.id === c.req.param('id'));
    if (!u) return c.json({ error: 'not found' }, 404);
    const d = engine.authorize({
      action: 'users:read',
      principal: c.get('warden').principal,
      resource: { type: 'user', id: u.id, org: u.org ?? null, role: u.roles[0] },
    });
    if (!d.allowed) return c.json({ error: d.reason }, 403);
    return c.json({ id: u.id, email: u.email });
  });

  app.get('/api/files/:fileId/stream', (c) => {
    const f = FILES[c.req.param('fileId')];
    if (!f) return c.json({ error: 'not found' }, 404);
    const d = engine.authorize({
      action: 'files:read',
      principal: c.get('warden').principal,
      resource: { type: 'file', id: f.id, org: f.org, mime: f.mime },
    });
    if (!d.allowed) return c.json({ error: d.reason }, 403);
    // Content-Disposition is the policy's (computed from the file's type and name).
    return c.body(`contents of ${f.id}`, 200, { 'content-type': f.mime });
  });

  return app;
}
