'use strict';
// Hono middleware over the Fetch adapter (`fetch.js`): refusals, redirects and CORS
// preflights are answered here; an admitted request goes on with
// `c.get('warden')` = `{ principal, decision }`, and the policy's headers and cookie
// rules are put on the response the app made.
//
//   app.use('*', warden.hono(engine));
//   app.get('/me', (c) => c.json(c.get('warden').principal));
//
// The peer address is read from @hono/node-server's `c.env.incoming` when there is one
// (the engine applies the policy's trusted proxies to `X-Forwarded-For` itself); pass
// `ip: (c) => ...` on other runtimes.

const { fetchGuard } = require('./fetch');

function hono(engine, options = {}) {
  const { ip, principal, input, ...rest } = options;
  const guard = fetchGuard(engine, rest);
  return async function wardenHono(c, next) {
    const check = await guard.check(c.req.raw, {
      ip: ip ? ip(c) : (c.env?.incoming?.socket?.remoteAddress ?? null),
      principal: principal ? await principal(c) : undefined,
      input: input ? await input(c) : undefined,
    });
    if (!check.allowed) return check.response();
    c.set('warden', Object.freeze({ principal: check.principal, decision: check.decision }));
    await next();
    const res = check.apply(c.res);
    if (res !== c.res) {
      // Hono's setter merges the old response's headers into a new one: clear it
      // first, or the removed headers and unrewritten cookies would come back.
      c.res = undefined;
      c.res = res;
    }
  };
}

module.exports = { hono };
