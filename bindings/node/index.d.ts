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
  redisUrl?: string;
  onStoreError?: 'fail_closed' | 'fail_open' | 'fallback';
  cacheSize?: number;
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
  readonly trace?: Record<string, unknown>;
}

export interface ExpressOptions {
  principal?: (req: any) => Principal | null | undefined;
  input?: (req: any) => Record<string, unknown> | null | undefined;
  /** The most body bytes read for a route with `require signature` (default 1 MiB); more is a 413. */
  maxBody?: number;
}

/** Express middleware: refusals answered here, headers added to every response. */
export function express(engine: Engine, options?: ExpressOptions): (req: any, res: any, next: (err?: unknown) => void) => void;

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
  /** Whether a route this request meets verifies a signature over the body. */
  needsBody(method: string, path: string): boolean;
  /** One outgoing `Set-Cookie` value with the policy's `cookies` rule applied. */
  enforceSetCookie(value: string): string;
  /** Whether the policy has a `cookies` block. */
  readonly hasCookieRules: boolean;
}
