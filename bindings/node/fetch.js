'use strict';
// The Fetch-API adapter: a WHATWG `Request` in, a check that answers refusals,
// redirects and CORS preflights with a `Response`, and puts the policy's headers and
// `Set-Cookie` rules on the app's `Response`. It needs nothing but the Fetch globals, so
// it runs wherever they do: a Next.js `proxy.ts` (Node.js runtime), Hono, Bun, Deno, any
// `(request) => Response` handler.
//
//   const guard = warden.fetchGuard(engine);
//   export default { fetch: guard.handle((request, { principal }) => new Response('hi')) };
//
// or, step by step (what a framework adapter does):
//
//   const check = await guard.check(request, { ip });
//   if (!check.allowed) return check.response();
//   return check.apply(await app(request));
//
// The body is read only for a route that verifies a signature over it
// (`engine.needsBody`), from a clone (the app can still read the request), and at most
// `maxBody` bytes (default 1 MiB; more is a 413 without asking the engine).

const DEFAULT_MAX_BODY = 1 << 20;

/** `Vary` tokens of `theirs` and `ours`, each once (compared without case), theirs first. */
function mergeVary(theirs, ours) {
  if (!theirs) return ours;
  const out = [];
  const seen = new Set();
  for (const part of `${theirs},${ours}`.split(',')) {
    const t = part.trim();
    if (t === '' || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  // `*` already varies on everything.
  return seen.has('*') ? '*' : out.join(', ');
}

/** A Request's headers as the plain object the engine reads. */
function headerObject(headers) {
  const out = {};
  for (const [name, value] of headers) out[name] = value;
  return out;
}

/** The body of a clone of `request` as a Buffer, or null once it exceeds `cap` bytes. */
async function readCapped(request, cap) {
  if (request.body === null) return Buffer.alloc(0);
  const reader = request.clone().body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > cap) {
      // The request is refused: the app's branch is cancelled too, so the source stops
      // (and the server can drop the upload). Not awaited: a tee branch's cancel
      // settles only once both branches are cancelled.
      reader.cancel().catch(() => {});
      if (request.body !== null && !request.body.locked) request.body.cancel().catch(() => {});
      return null;
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
}

function jsonResponse(status, body, headers) {
  const h = new Headers(headers);
  h.set('content-type', 'application/json');
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** The default answer to a refusal: the decision's status and headers, `{ error }`. */
function defaultDeny(decision) {
  const s = decision.status;
  if (s === 204 || s === 304 || (s >= 300 && s < 400)) {
    return new Response(null, { status: s, headers: decision.headers });
  }
  return jsonResponse(s, { error: decision.reason }, decision.headers);
}

/**
 * Put the decision's headers on `response`: the policy's replace the app's (`Vary` is
 * merged), its removals go, and every `Set-Cookie` gets the `cookies` rules. Mutates the
 * response when its headers can be changed, else answers a copy.
 */
function applyTo(engine, decision, response) {
  let res = response;
  try {
    write(engine, decision, res.headers);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // Immutable headers (a Response from `fetch()` or `Response.redirect()`): a copy.
    res = new Response(response.body, response);
    write(engine, decision, res.headers);
  }
  return res;
}

function write(engine, decision, headers) {
  for (const name of decision.remove) headers.delete(name);
  for (const [name, value] of Object.entries(decision.headers)) {
    if (name === 'vary') headers.set('vary', mergeVary(headers.get('vary'), value));
    else headers.set(name, value);
  }
  if (engine.hasCookieRules) {
    const cookies = headers.getSetCookie();
    if (cookies.length > 0) {
      headers.delete('set-cookie');
      for (const c of cookies) headers.append('set-cookie', engine.enforceSetCookie(c));
    }
  }
}

class Check {
  #engine;
  #deny;
  #request;

  constructor(engine, decision, request, deny) {
    this.#engine = engine;
    this.#deny = deny;
    this.#request = request;
    /** The engine's answer. */
    this.decision = decision;
    /** The host's principal, or the one the policy's `auth` section verified, or null. */
    this.principal = decision.principal ?? null;
    /** False when this adapter answers: a refusal, a redirect or a preflight. */
    this.allowed = decision.allowed && decision.status === 200;
    Object.freeze(this);
  }

  /** The answer to send instead of the app's, or null when the app answers. */
  response() {
    if (this.allowed) return null;
    return this.#deny(this.decision, this.#request);
  }

  /** The app's response with the policy's headers and cookie rules applied. */
  apply(response) {
    return applyTo(this.#engine, this.decision, response);
  }
}

function fetchGuard(engine, options = {}) {
  const { principal, input, onDeny } = options;
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  if (!Number.isSafeInteger(maxBody) || maxBody < 0) throw new TypeError('`maxBody` must be a whole number of bytes');
  const deny = onDeny ?? defaultDeny;
  const tooLarge = Object.freeze({
    allowed: false,
    status: 413,
    reason: 'request body too large',
    rules: Object.freeze([]),
    headers: Object.freeze({}),
    remove: Object.freeze([]),
    location: null,
    route: null,
    note: null,
    principal: null,
    authenticated_by: null,
  });

  async function check(request, at = {}) {
    const url = new URL(request.url);
    const path = url.pathname + url.search;
    const req = {
      method: request.method,
      path,
      headers: headerObject(request.headers),
      ip: at.ip ?? (options.ip ? options.ip(request) : null) ?? null,
      principal: (at.principal !== undefined ? at.principal : principal ? await principal(request) : null) ?? null,
      input: null,
    };
    if (engine.needsBody(request.method, path)) {
      const body = await readCapped(request, maxBody);
      if (body === null) return new Check(engine, tooLarge, request, deny);
      req.body_base64 = body.toString('base64');
    }
    if (at.input !== undefined) req.input = at.input ?? null;
    else if (input) req.input = (await input(request)) ?? null;
    return new Check(engine, await engine.checkHttpAsync(req), request, deny);
  }

  /** A `(request) => Response` handler behind the policy. */
  function handle(app) {
    return async function wardenHandler(request, ...rest) {
      const c = await check(request);
      if (!c.allowed) return c.response();
      return c.apply(await app(request, c, ...rest));
    };
  }

  return Object.freeze({ check, handle });
}

module.exports = { fetchGuard, mergeVary, applyTo, defaultDeny };
