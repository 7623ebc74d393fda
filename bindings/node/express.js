'use strict';
// Express middleware: every request goes through `engine.checkHttpAsync` before the routes.
// A refusal (401, 403, 413, 429, a redirect, a CORS preflight answer ...) is answered
// here with the decision's status, headers (`location`, `retry-after`, CORS) and a JSON
// body `{ error: reason }`; an allowed request goes on, and the decision's security and
// CORS headers are set on the response (the policy's removals applied when it is sent).
//
//   app.use(warden.express(engine, { principal: (req) => req.user ?? null }));

function express(engine, options = {}) {
  const { principal, input } = options;
  return function wardenMiddleware(req, res, next) {
    let pending;
    try {
      // The async path: a Redis rate-limit store is asked off the event loop.
      pending = engine.checkHttpAsync({
        method: req.method,
        path: req.originalUrl || req.url,
        headers: req.headers,
        ip: req.socket?.remoteAddress ?? null,
        principal: principal ? principal(req) ?? null : null,
        input: input ? input(req) ?? null : null,
      });
    } catch (e) {
      next(e);
      return;
    }
    pending.then((d) => answer(d, res, next), next);
  };
}

function answer(d, res, next) {
  const headers = Object.entries(d.headers);
  for (const [name, value] of headers) res.setHeader(name, value);
  if (!d.allowed || d.status !== 200) {
    res.statusCode = d.status;
    if (d.status === 204 || d.status === 304 || (d.status >= 300 && d.status < 400)) {
      res.end();
    } else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: d.reason }));
    }
    return;
  }
  // The policy's headers win over the app's: set again, and removals applied, when the
  // head is written.
  const writeHead = res.writeHead;
  res.writeHead = function (...args) {
    for (const name of d.remove) res.removeHeader(name);
    for (const [name, value] of headers) res.setHeader(name, value);
    return writeHead.apply(this, args);
  };
  next();
}

module.exports = { express };
