'use strict';
// Express middleware: every request goes through `engine.checkHttpAsync` before the routes.
// A refusal (401, 403, 413, 429, a redirect, a CORS preflight answer ...) is answered
// here with the decision's status, headers (`location`, `retry-after`, CORS) and a JSON
// body `{ error: reason }`; an allowed request goes on, and the decision's security and
// CORS headers are set on the response (the policy's removals applied when it is sent).
//
//   app.use(warden.express(engine, { principal: (req) => req.user ?? null }));
//
// Only for a route that verifies a signature over the body (`require signature`,
// `engine.needsBody`) is the body read here, at most `maxBody` bytes (default 1 MiB; more
// is a 413 without asking the engine). It is then handed on as `req.rawBody` and
// `req.body` (a Buffer, as `express.raw()` gives it; `req._body` tells body parsers it
// was read). An admitted request carries `req.warden = { principal, decision }`: the
// principal the policy's `auth` section verified (or the host's), so handlers never
// decode the token again. `onDeny(decision, req, res)` shapes refusals (status and the
// decision's headers are set before it is called). Every `Set-Cookie` of an allowed response goes through
// `engine.enforceSetCookie` (the policy's `cookies` rules) when the policy has any.

const { mergeVary } = require('./fetch');

function express(engine, options = {}) {
  const { principal, input, onDeny } = options;
  if (onDeny !== undefined && typeof onDeny !== 'function') throw new TypeError('`onDeny` must be a function (decision, req, res)');
  const maxBody = options.maxBody ?? 1 << 20;
  return function wardenMiddleware(req, res, next) {
    const path = routedPath(req.originalUrl || req.url);
    if (path === null) {
      // No path Express routes by (`*`, authority-form): refused before any route.
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'bad request target' }));
      return;
    }
    const check = (body) => {
      let pending;
      try {
        // The async path: a Redis rate-limit store is asked off the event loop.
        const request = {
          method: req.method,
          path,
          headers: req.headers,
          ip: req.socket?.remoteAddress ?? null,
          principal: principal ? principal(req) ?? null : null,
          input: input ? input(req) ?? null : null,
        };
        if (body !== undefined) request.body_base64 = body.toString('base64');
        pending = engine.checkHttpAsync(request);
      } catch (e) {
        next(e);
        return;
      }
      pending.then((d) => answer(engine, d, req, res, next, onDeny), next);
    };
    if (!engine.needsBody(req.method, path)) {
      check(undefined);
      return;
    }
    readBody(req, maxBody).then((body) => {
      if (body === null) {
        res.statusCode = 413;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'request body too large' }));
        return;
      }
      req.rawBody = body;
      req.body = body;
      req._body = true;
      check(body);
    }, next);
  };
}

/**
 * The request target as Express's router sees it. Node passes the target through as the
 * client sent it, and Express routes an absolute-form target (`GET http://host/admin`,
 * which a server must accept) by its path: the engine is asked about that same path and
 * query, cut out unchanged (so `..` and escapes stay for the engine to refuse as in any
 * path). `null` for a target of any other form (`*`, `host:port`, `http:/x`): the
 * adapter answers 400 rather than guess what a router would make of it.
 */
function routedPath(target) {
  if (target.startsWith('/')) return target;
  const origin = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (origin === null) return null;
  const rest = target.slice(origin[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The whole body as a Buffer, or null once it exceeds `cap` bytes. */
function readBody(req, cap) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk) => {
      if (done) return;
      size += chunk.length;
      if (size > cap) {
        done = true;
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

function answer(engine, d, req, res, next, onDeny) {
  const headers = Object.entries(d.headers);
  for (const [name, value] of headers) setPolicyHeader(res, name, value);
  if (!d.allowed || d.status !== 200) {
    // Answered here: the policy's removals (X-Powered-By ...) apply to refusals too.
    for (const name of d.remove) res.removeHeader(name);
    res.statusCode = d.status;
    if (onDeny) {
      // The app shapes the answer; the status and the decision's headers are already set.
      try {
        onDeny(d, req, res);
      } catch (e) {
        next(e);
      }
      return;
    }
    if (d.status === 204 || d.status === 304 || (d.status >= 300 && d.status < 400)) {
      res.end();
    } else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: d.reason }));
    }
    return;
  }
  // What the handlers read: who (verified once, here) and why.
  req.warden = Object.freeze({ principal: d.principal ?? null, decision: d });
  const cookies = engine.hasCookieRules;
  // Every `Set-Cookie` goes through the policy's rules as it is set, whoever sets it and
  // whenever: middleware registered before this one (express-session) wraps `writeHead`
  // itself and adds its cookie after our `writeHead` wrapper has run, but it sets it
  // with `res.setHeader` (or `appendHeader`), which is looked up on `res` at call time.
  if (cookies) {
    const enforce = (value) =>
      Array.isArray(value) ? value.map((v) => engine.enforceSetCookie(String(v))) : engine.enforceSetCookie(String(value));
    const setHeader = res.setHeader;
    res.setHeader = function (name, value) {
      if (String(name).toLowerCase() === 'set-cookie') value = enforce(value);
      return setHeader.call(this, name, value);
    };
    if (typeof res.appendHeader === 'function') {
      const appendHeader = res.appendHeader;
      res.appendHeader = function (name, value) {
        if (String(name).toLowerCase() === 'set-cookie') value = enforce(value);
        return appendHeader.call(this, name, value);
      };
    }
  }
  // The policy's headers win over the app's: set again, and removals applied, when the
  // head is written.
  const writeHead = res.writeHead;
  res.writeHead = function (statusCode, ...rest) {
    // Headers handed to writeHead itself (`res.writeHead(200, { 'Set-Cookie': ... })`)
    // would be merged by Node after this point, past the policy: take them in first.
    const last = rest[rest.length - 1];
    if (last !== null && typeof last === 'object') {
      rest.pop();
      adoptHeaders(res, last);
    }
    for (const name of d.remove) res.removeHeader(name);
    for (const [name, value] of headers) setPolicyHeader(res, name, value);
    if (cookies) {
      // Cookies set before this middleware ran (enforcing twice changes nothing).
      const set = res.getHeader('set-cookie');
      if (set !== undefined) res.setHeader('set-cookie', set);
    }
    return writeHead.call(this, statusCode, ...rest);
  };
  next();
}

// The policy's header replaces the app's, except `Vary`, which is merged: a cache
// must vary on the app's reasons (Accept-Encoding, Cookie) as well as on Origin.
function setPolicyHeader(res, name, value) {
  if (name === 'vary') {
    const theirs = res.getHeader('vary');
    res.setHeader('vary', mergeVary(Array.isArray(theirs) ? theirs.join(', ') : theirs === undefined ? '' : String(theirs), value));
  } else {
    res.setHeader(name, value);
  }
}

// Set on `res` the headers of a writeHead call: an object, or Node's flat array
// (`[name, value, name, value, ...]`), where a repeated name (Set-Cookie) keeps every
// value.
function adoptHeaders(res, headers) {
  if (!Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) res.setHeader(name, value);
    }
    return;
  }
  const byName = new Map();
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = String(headers[i]).toLowerCase();
    const values = byName.get(name) || [];
    values.push(...(Array.isArray(headers[i + 1]) ? headers[i + 1] : [headers[i + 1]]));
    byName.set(name, values);
  }
  for (const [name, values] of byName) {
    res.setHeader(name, values.length === 1 ? values[0] : values.map(String));
  }
}

module.exports = { express };
