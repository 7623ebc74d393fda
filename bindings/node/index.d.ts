/** A JSON-like attribute value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Principal {
  id?: string | number | null;
  roles?: string[] | null;
  role?: string | null;
  [attribute: string]: unknown;
}

export interface Resource {
  type: string;
  id?: string | number | null;
  [attribute: string]: unknown;
}

export interface AuthorizationRequest {
  action: string;
  principal?: Principal | null;
  resource?: Resource | null;
  context?: Record<string, unknown> | null;
}

export interface Decision {
  readonly allowed: boolean;
  /** 200 or 403. */
  readonly status: number;
  /** For a denial: the deciding deny's `because`, or why nothing permitted. */
  readonly reason: string | null;
  /** The deciding grant or rule as `file:line`, or null for a default deny. */
  readonly rule: string | null;
  readonly rules: readonly string[];
  /** With `{ explain: true }`: what was looked at. */
  readonly trace?: Record<string, unknown>;
}

export interface EngineOptions {
  env?: string;
  secrets?: Record<string, string>;
  /** Non-secret settings read by `config(NAME)`. */
  config?: Record<string, string>;
  /** One Redis: `redis://` or `rediss://` (TLS, certificate always verified). */
  redisUrl?: string;
  /** A Redis Cluster's seed node URLs (one live seed is enough); not with `redisUrl`. */
  redisCluster?: string[];
  /** For `rediss://`: a PEM file of the CA certificate(s) to trust instead of the system's roots. */
  redisCaFile?: string;
  onStoreError?: 'fail_closed' | 'fail_open' | 'fallback';
  cacheSize?: number;
  /**
   * The decision log: one JSON line per decision (never a credential), handed to this
   * function on the event loop (never blocking a request: lines the queue cannot take
   * are dropped and counted), or appended to this file.
   */
  decisionLog?: ((line: string) => void) | string;
  /** The fraction of allowed decisions logged, 0 to 1 (denials are always logged). */
  decisionLogSampleRate?: number;
  /** Count decisions and reloads, for `metrics()` and `prometheus()`. */
  metrics?: boolean;
}

/** `engine.metrics()`: the counters at one moment. */
export interface MetricsSnapshot {
  /** Decisions by `"kind/outcome"`: `authorize/allow`, `http/deny`, ... */
  readonly decisions: Readonly<Record<string, number>>;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byRoute: Readonly<Record<string, number>>;
  /** By deciding rule, requirement or limit (`file:line`). */
  readonly byRule: Readonly<Record<string, number>>;
  readonly byLimit: Readonly<Record<string, number>>;
  readonly storeErrors: number;
  /** Reloads that took effect. */
  readonly reloads: number;
  /** Reloads refused (the old policy kept serving). */
  readonly reloadFailures: number;
  readonly logDropped: number;
  /** Decisions per latency bucket (0.5 µs to 1 s, then +Inf; not cumulative). */
  readonly latencyBuckets: readonly number[];
  readonly latencySumNs: number;
}

/** `engine.decisionLogStats()`. */
export interface DecisionLogStats {
  readonly written: number;
  readonly dropped: number;
  readonly sampledOut: number;
  readonly writeErrors: number;
}

export interface WatchOptions {
  /** Quiet time after the last change before the file is read, in ms (default 100). */
  debounce?: number;
  /** After a reload took effect. */
  onReload?: () => void;
  /** A file that does not load: the old policy keeps serving (default: `console.error`). */
  onError?: (error: PolicyError) => void;
}

/** A running watch of an engine's policy file; runs until `close()`. */
export class Watch {
  private constructor();
  /** Stop watching; no reload happens after this returns. */
  close(): void;
  readonly closed: boolean;
}

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly help: string | null;
}

export class WardenError extends Error {}
export class PolicyError extends WardenError {
  readonly file: string | null;
  readonly diagnostics: readonly Diagnostic[];
}
export class RequestError extends WardenError {}
export class ConfigError extends WardenError {}
/**
 * A residual no filter can express (a regex, a script or arithmetic on a resource
 * attribute ...), or an attribute the column map lacks. Authorize each row instead.
 */
export class CannotFilter extends WardenError {
  /** The rule as `file:line`; empty when the column map is at fault. */
  readonly rule: string;
}

/** A constant of a residual condition: what principal and context folded into. */
export type FilterScalar = string | number | boolean;

/**
 * A condition over resource attributes (`attr` is a path relative to `resource`). Every
 * atom is false for a missing attribute (absent, null, or of another kind than its
 * value); `not` is two-valued negation.
 */
export type FilterCondition =
  | { readonly and: readonly FilterCondition[] }
  | { readonly or: readonly FilterCondition[] }
  | { readonly not: FilterCondition }
  | { readonly present: { readonly attr: string; readonly kind?: 'string' | 'number' | 'bool' | 'list' } }
  | { readonly cmp: { readonly attr: string; readonly op: 'eq' | 'lt' | 'le' | 'gt' | 'ge'; readonly value: FilterScalar } }
  | { readonly in: { readonly attr: string; readonly values: readonly FilterScalar[] } }
  | { readonly contains: { readonly attr: string; readonly value: string } }
  | { readonly starts_with: { readonly attr: string; readonly value: string } }
  | { readonly ends_with: { readonly attr: string; readonly value: string } }
  | { readonly has: { readonly attr: string; readonly value: FilterScalar } };

/** Which resources of a type an action is allowed on. */
export type Residual =
  | { readonly kind: 'always' }
  | { readonly kind: 'never' }
  | { readonly kind: 'conditional'; readonly condition: FilterCondition };

export interface FilterRequest {
  action: string;
  resourceType: string;
  /** null or omitted: anonymous. */
  principal?: Principal | null;
  context?: Record<string, unknown> | null;
}

/** Where one resource attribute lives (a joined table's column names its `table`). */
export type ColumnSpec =
  | { column: string; table?: string; type: 'string' | 'number' | 'boolean' }
  | {
      /** The rows of `table` whose `key` equals the resource row's `parent` column. */
      type: 'list';
      table: string;
      key: string;
      parent: string;
      column: string;
      element: 'string' | 'number' | 'boolean';
    };

export interface ColumnMap {
  /** The resource table (or its alias in the query). */
  table: string;
  /** By attribute path: `owner`, `owner.id`. */
  columns: Record<string, ColumnSpec>;
}

export interface SqlFilterRequest extends FilterRequest {
  columns: ColumnMap;
  /** Default 'postgres'. */
  dialect?: 'postgres' | 'sqlite';
  /** The first PostgreSQL placeholder (`$1` by default), to follow the query's own. */
  firstParam?: number;
}

/** A `WHERE` fragment: values are always in `params`, never in `sql`. */
export interface SqlFilter {
  readonly sql: string;
  readonly params: readonly (string | number | boolean)[];
}

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string | string[] | undefined>;
  ip?: string | null;
  principal?: Principal | null;
  input?: Record<string, unknown> | null;
  /** RFC 3339; defaults to now. */
  time?: string;
  /** The raw body as UTF-8 text (routes with `require signature`). */
  body?: string;
  /** The raw body as standard base64, for bytes that are not UTF-8; not with `body`. */
  body_base64?: string;
}

export interface HttpDecision {
  readonly allowed: boolean;
  /** 200 allowed, 204 a preflight answer, 3xx a redirect, 4xx/5xx a refusal. */
  readonly status: number;
  readonly reason: string | null;
  readonly rules: readonly string[];
  /** Headers to set on the response (lower-case names), replacing the app's. */
  readonly headers: Readonly<Record<string, string>>;
  /** Headers to remove from the response. */
  readonly remove: readonly string[];
  readonly location: string | null;
  readonly route: { rule: string; pattern: string } | null;
  readonly note: string | null;
  /** The host's principal, or the one the policy's `auth` section verified, or null. */
  readonly principal: Readonly<Principal> | null;
  /** How the policy's `auth` section verified the principal (`jwt:JWT_SECRET`), or null. */
  readonly authenticated_by: string | null;
  readonly trace?: Record<string, unknown>;
}

/** What `Engine#authenticate` found; a failure names a reason code, never the credential. */
export type AuthnOutcome =
  | { readonly outcome: 'principal'; readonly principal: Readonly<Principal>; readonly via: string }
  | { readonly outcome: 'anonymous' }
  | { readonly outcome: 'failed'; readonly code: 'missing_token' | 'token_expired' | 'invalid_token' | 'invalid_api_key' };

/** The request as the Express middleware reads it (Express's `Request` is one). */
export type ExpressRequest = import('node:http').IncomingMessage & {
  originalUrl?: string;
  /** Set by the middleware on an admitted request. */
  warden?: WardenState;
};
export type ExpressResponse = import('node:http').ServerResponse;

export interface ExpressOptions<Req extends ExpressRequest = ExpressRequest> {
  /** The principal when the app authenticates itself (else the policy's `auth` section). */
  principal?: (req: Req) => Principal | null | undefined;
  input?: (req: Req) => Record<string, unknown> | null | undefined;
  /** The most body bytes read for a route with `require signature` (default 1 MiB); more is a 413. */
  maxBody?: number;
  /**
   * Answer a refusal, redirect or preflight yourself (default: `{ error: reason }` JSON,
   * or an empty body); the status and the decision's headers are already set.
   */
  onDeny?: (decision: HttpDecision, req: Req, res: ExpressResponse) => void;
}

/**
 * Express middleware: refusals answered here, headers added to every response, and
 * `req.warden = { principal, decision }` on admitted requests.
 */
export function express<Req extends ExpressRequest = ExpressRequest>(
  engine: Engine,
  options?: ExpressOptions<Req>,
): (req: Req, res: ExpressResponse, next: (err?: unknown) => void) => void;

declare global {
  // Express's own Request type (@types/express) gains `warden`.
  namespace Express {
    interface Request {
      warden?: WardenState;
    }
  }
}

export class Engine {
  private constructor();
  static fromFile(path: string, options?: EngineOptions): Engine;
  static fromSource(name: string, text: string, options?: EngineOptions): Engine;
  readonly name: string;
  /** The attributes the policy reads, by root: what `authorize` converts. */
  readonly reads: { principal: string[]; resource: string[]; context: string[] };
  authorize(request: AuthorizationRequest, options?: { explain?: boolean }): Decision;
  checkHttp(request: HttpRequest, options?: { explain?: boolean }): HttpDecision;
  /** `checkHttp` without blocking the event loop (use it with a Redis store). */
  checkHttpAsync(request: HttpRequest): Promise<HttpDecision>;
  reload(pathOrSource?: string | { source: string }): void;
  /**
   * Reload the policy file whenever it changes, until the watch is closed; a file that
   * does not load leaves the old policy serving. Reloads take effect on the event loop.
   */
  watch(options?: WatchOptions): Watch;
  /** The counters now (loaded with `metrics: true`; else throws ConfigError). */
  metrics(): MetricsSnapshot;
  /** The counters in the Prometheus text exposition format. */
  prometheus(): string;
  /** Resolves once every decision logged so far has reached the `decisionLog`. */
  flushDecisionLog(): Promise<void>;
  /** The decision log's counts, or null without a log. */
  decisionLogStats(): DecisionLogStats | null;
  /**
   * Identity only: the policy's `auth` blocks applied to the request's headers (and
   * `time`); no route, limit or requirement is looked at.
   */
  authenticate(request: Pick<HttpRequest, 'headers' | 'time'> & Partial<Pick<HttpRequest, 'method' | 'path'>>): AuthnOutcome;
  /**
   * Data filtering: the condition on resource attributes under which the principal may
   * perform the action, from the rules `authorize` applies. Throws CannotFilter.
   */
  residual(request: FilterRequest): Residual;
  /** The residual as a parameterized SQL `WHERE` fragment. Throws CannotFilter. */
  sqlFilter(request: SqlFilterRequest): SqlFilter;
  /** Whether a route this request meets verifies a signature over the body. */
  needsBody(method: string, path: string): boolean;
  /** One outgoing `Set-Cookie` value with the policy's `cookies` rule applied. */
  enforceSetCookie(value: string): string;
  /** Whether the policy has a `cookies` block. */
  readonly hasCookieRules: boolean;
}

/** What an adapter hands the app for an admitted request. */
export interface WardenState {
  readonly principal: Readonly<Principal> | null;
  readonly decision: HttpDecision;
}

/** The answer to a refusal, a redirect or a preflight (default: status, headers, `{ error }`). */
export type FetchDeny = (decision: HttpDecision, request: Request) => Response;

export interface FetchGuardOptions {
  /** The principal when the host authenticates itself (else the policy's `auth` section). */
  principal?: (request: Request) => Principal | null | undefined | Promise<Principal | null | undefined>;
  /** `input.*` of requirements, e.g. fields of the JSON body. */
  input?: (request: Request) => Record<string, unknown> | null | undefined | Promise<Record<string, unknown> | null | undefined>;
  /** The peer address (Fetch requests carry none); the engine applies trusted proxies. */
  ip?: (request: Request) => string | null | undefined;
  /** The most body bytes read for a route with `require signature` (default 1 MiB); more is a 413. */
  maxBody?: number;
  onDeny?: FetchDeny;
}

/** Per-call overrides of `FetchGuard#check`. */
export interface FetchCheckAt {
  ip?: string | null;
  principal?: Principal | null;
  input?: Record<string, unknown> | null;
}

/** One request's verdict. */
export interface FetchCheck {
  /** False when the adapter answers (a refusal, a redirect, a CORS preflight). */
  readonly allowed: boolean;
  readonly decision: HttpDecision;
  readonly principal: Readonly<Principal> | null;
  /** The answer to send instead of the app's; null when `allowed`. */
  response(): Response | null;
  /** The app's response with the policy's headers, removals, `Vary` and cookie rules. */
  apply(response: Response): Response;
}

export interface FetchGuard {
  check(request: Request, at?: FetchCheckAt): Promise<FetchCheck>;
  /** A WinterCG handler behind the policy: `export default { fetch: guard.handle(app) }`. */
  handle<A extends unknown[]>(
    app: (request: Request, check: FetchCheck, ...rest: A) => Response | Promise<Response>,
  ): (request: Request, ...rest: A) => Promise<Response>;
}

/** The Fetch-API adapter: Next.js `proxy.ts` (Node.js runtime), Hono, Bun, Deno, workers. */
export function fetchGuard(engine: Engine, options?: FetchGuardOptions): FetchGuard;

/** The part of Hono's `Context` the middleware uses. */
export interface HonoContextLike {
  req: { raw: Request };
  env?: unknown;
  res: Response;
  set(key: 'warden', value: WardenState): void;
}

export interface HonoOptions extends Omit<FetchGuardOptions, 'ip' | 'principal' | 'input'> {
  /** The peer address; default: @hono/node-server's `c.env.incoming.socket.remoteAddress`. */
  ip?: (c: HonoContextLike) => string | null | undefined;
  principal?: (c: HonoContextLike) => Principal | null | undefined | Promise<Principal | null | undefined>;
  input?: (c: HonoContextLike) => Record<string, unknown> | null | undefined | Promise<Record<string, unknown> | null | undefined>;
}

/**
 * Hono middleware: `app.use('*', hono(engine))`; handlers read `c.get('warden')`
 * (declare `Variables: { warden: WardenState }` on the app).
 */
export function hono(engine: Engine, options?: HonoOptions): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void>;
