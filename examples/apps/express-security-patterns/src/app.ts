// Seed 003's Express API with Warden in place of helmet, cors, express-rate-limit, the
// HTTPS redirect and the JWT/API-key/role middlewares: all of them are
// policies/security-patterns.warden. The handlers keep what needs the app's data: the
// login (issuing tokens), and the "author or admin" check on a stored post.

import crypto from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { Database } from 'sql.js';
import { CannotFilter, Engine, express as warden } from 'warden-policy';
import { editablePosts, getPost, setTitle } from './posts';

const USERS = [
  { id: 'u1', email: 'editor@myapp.com', password: 'editor-password-1', role: 'editor' },
  { id: 'u2', email: 'viewer@myapp.com', password: 'viewer-password-1', role: 'viewer' },
  { id: 'a1', email: 'admin@myapp.com', password: 'admin-password-01', role: 'admin' },
];

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** `jwt.sign(payload, secret, { expiresIn })` with HS256, as the seed issues tokens. */
function sign(payload: Record<string, unknown>, secret: string, seconds: number): string {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ ...payload, iat: now, exp: now + seconds })}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** `?limit=` and `?offset=`: whole numbers in range, else the defaults. */
function pageOf(req: Request): { limit: number; offset: number } {
  const num = (v: unknown, dflt: number, max: number) => {
    const n = typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : dflt;
    return Math.min(n, max);
  };
  return { limit: Math.max(1, num(req.query.limit, 20, 100)), offset: num(req.query.offset, 0, 1_000_000) };
}

export function createApp(
  engine: Engine,
  secrets: { JWT_SECRET: string; JWT_REFRESH_SECRET: string },
  db: Database,
): express.Express {
  const app = express();
  // Parsed before Warden: the policy's `input.*` requirements read the JSON body.
  app.use(express.json({ limit: '100kb' }));
  app.use(
    warden(engine, {
      input: (req) => {
        const body = (req as Request).body as Record<string, unknown> | undefined;
        if (!body || typeof body !== 'object') return null;
        // The password itself never goes to the policy: only its length.
        const { password, ...rest } = body;
        return { ...rest, password_length: typeof password === 'string' ? password.length : null };
      },
    }),
  );

  app.post('/api/auth/login', (req: Request, res: Response) => {
    const { email, password } = (req.body ?? {}) as { email?: string; password?: string };
    const u = USERS.find((x) => x.email === email && x.password === password);
    if (!u) {
      res.status(401).json({ error: 'Invalid credentials' });
      return;
    }
    const accessToken = sign({ sub: u.id, role: u.role }, secrets.JWT_SECRET, 15 * 60);
    const refreshToken = sign({ sub: u.id }, secrets.JWT_REFRESH_SECRET, 7 * 24 * 3600);
    // The seed's res.cookie options (httpOnly, secure, sameSite strict, path, maxAge)
    // are the policy's `cookies` rule: set here without them.
    res.cookie('refreshToken', refreshToken);
    res.json({ accessToken });
  });

  // The principal Warden verified (JWT or API key).
  app.get('/api/me', (req: Request, res: Response) => {
    res.json({ user: req.warden?.principal ?? null });
  });

  app.get('/api/v1/reports', (req: Request, res: Response) => {
    res.json({ client: req.warden?.principal?.api_client ?? null, reports: [] });
  });

  // `requireRole("editor", "admin")` is the policy's; "the author or an admin" needs the post.
  app.put('/api/posts/:id', (req: Request, res: Response) => {
    const post = getPost(db, String(req.params.id));
    if (!post) {
      res.status(404).json({ error: 'Not found' });
      return;
    }
    const d = engine.authorize({
      action: 'posts:write',
      principal: req.warden?.principal ?? null,
      resource: { type: 'post', id: post.id, author: post.author },
    });
    if (!d.allowed) {
      res.status(403).json({ error: d.reason });
      return;
    }
    post.title = String((req.body as { title?: unknown })?.title ?? post.title);
    setTitle(db, post.id, post.title);
    res.json(post);
  });

  // The list twin of the PUT's check: the posts the caller may edit, filtered by SQLite
  // with the policy's own rule (no copy of "author or admin" in SQL), paged after it.
  app.get('/api/posts/editable', (req: Request, res: Response) => {
    const principal = req.warden?.principal ?? null;
    if (principal === null) {
      res.status(401).json({ error: 'Authentication required' });
      return;
    }
    const { limit, offset } = pageOf(req);
    try {
      res.json({ posts: editablePosts(db, engine, principal, limit, offset), limit, offset });
    } catch (e) {
      // A policy rule no SQL can express: never a wrong page.
      if (e instanceof CannotFilter) res.status(500).json({ error: 'this list cannot be filtered' });
      else throw e;
    }
  });

  // The createUserSchema checks ran in the policy.
  app.post('/api/users', (req: Request, res: Response) => {
    res.status(201).json({ email: (req.body as { email: string }).email });
  });

  app.get('/health', (_req: Request, res: Response) => {
    res.json({ ok: true });
  });

  return app;
}
