'use strict';
// One server per variant (`node servers.js VARIANT`), on a free loopback port, printing
// `listening on http://127.0.0.1:PORT`. Every variant answers GET /api/admin/stats the
// same way: security headers, CORS for https://app.example.com, a rate limit that is
// never reached, a HS256 bearer token verified, role admin required.
//
//   express-stack  helmet + cors + express-rate-limit + jsonwebtoken guard + roles check
//   hono-stack     secureHeaders + cors + hono-rate-limiter + hono/jwt + roles check
//   nest-stack     helmet + enableCors + @nestjs/throttler + JWT guard + roles guard
//   *-warden       the same framework with Warden's adapter and policy (policy.js)

require('reflect-metadata');
const warden = require('warden-policy');
const { policyFor, SECRET, ORIGIN, LIMIT } = require('./policy');

const variant = process.argv[2];
const [framework, kind] = variant.split('-');

function listen(server) {
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
}

const engine = async () => warden.Engine.fromSource('bench.warden', await policyFor(framework), { secrets: { JWT_SECRET: SECRET } });

function bearer(header) {
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : null;
}

async function main() {
  if (framework === 'express') {
    const express = require('express');
    const app = express();
    if (kind === 'stack') {
      const jwt = require('jsonwebtoken');
      app.use(require('helmet')());
      app.use(require('cors')({ origin: [ORIGIN], credentials: true }));
      app.use(require('express-rate-limit').rateLimit({ windowMs: 60_000, limit: LIMIT, standardHeaders: 'draft-7', legacyHeaders: false }));
      app.use('/api', (req, res, next) => {
        try {
          req.user = jwt.verify(bearer(req.headers.authorization), SECRET, { algorithms: ['HS256'] });
        } catch {
          res.status(401).json({ error: 'unauthorized' });
          return;
        }
        next();
      });
      app.use('/api/admin', (req, res, next) => (req.user.role === 'admin' ? next() : res.status(403).json({ error: 'forbidden' })));
    } else {
      app.use(warden.express(await engine()));
    }
    app.get('/api/admin/stats', (req, res) => res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
    return;
  }
  if (framework === 'hono') {
    const { Hono } = require('hono');
    const { createAdaptorServer } = require('@hono/node-server');
    const app = new Hono();
    if (kind === 'stack') {
      const { secureHeaders } = require('hono/secure-headers');
      const { cors } = require('hono/cors');
      const { jwt } = require('hono/jwt');
      const { rateLimiter } = require('hono-rate-limiter');
      app.use('*', secureHeaders());
      app.use('*', cors({ origin: [ORIGIN], credentials: true }));
      app.use('*', rateLimiter({ windowMs: 60_000, limit: LIMIT, standardHeaders: 'draft-7', keyGenerator: (c) => c.env.incoming.socket.remoteAddress }));
      app.use('/api/*', jwt({ secret: SECRET, alg: 'HS256' }));
      app.use('/api/admin/*', async (c, next) => (c.get('jwtPayload').role === 'admin' ? next() : c.json({ error: 'forbidden' }, 403)));
    } else {
      app.use('*', warden.hono(await engine()));
    }
    app.get('/api/admin/stats', (c) => c.json({ ok: true }));
    listen(createAdaptorServer({ fetch: app.fetch }));
    return;
  }
  if (framework === 'nest') {
    const { Controller, Get, Module, Injectable, SetMetadata, UnauthorizedException } = require('@nestjs/common');
    const { NestFactory, Reflector, APP_GUARD } = require('@nestjs/core');
    class Stats {
      stats() {
        return { ok: true };
      }
    }
    Controller('api/admin')(Stats);
    Get('stats')(Stats.prototype, 'stats', Object.getOwnPropertyDescriptor(Stats.prototype, 'stats'));
    const providers = [];
    const imports = [];
    if (kind === 'stack') {
      const jwt = require('jsonwebtoken');
      const { ThrottlerModule, ThrottlerGuard } = require('@nestjs/throttler');
      SetMetadata('roles', ['admin'])(Stats);
      class JwtAuthGuard {
        canActivate(ctx) {
          const req = ctx.switchToHttp().getRequest();
          try {
            req.user = jwt.verify(bearer(req.headers.authorization), SECRET, { algorithms: ['HS256'] });
          } catch {
            throw new UnauthorizedException();
          }
          return true;
        }
      }
      Injectable()(JwtAuthGuard);
      class RolesGuard {
        constructor(reflector) {
          this.reflector = reflector;
        }
        canActivate(ctx) {
          const roles = this.reflector.getAllAndOverride('roles', [ctx.getHandler(), ctx.getClass()]);
          return !roles || roles.includes(ctx.switchToHttp().getRequest().user.role);
        }
      }
      Injectable()(RolesGuard);
      Reflect.defineMetadata('design:paramtypes', [Reflector], RolesGuard);
      imports.push(ThrottlerModule.forRoot([{ ttl: 60_000, limit: LIMIT }]));
      providers.push({ provide: APP_GUARD, useClass: ThrottlerGuard }, { provide: APP_GUARD, useClass: JwtAuthGuard }, { provide: APP_GUARD, useClass: RolesGuard });
    } else {
      imports.push(require('warden-policy/nest').WardenModule.forRoot({ engine: await engine() }));
    }
    class AppModule {}
    Module({ imports, controllers: [Stats], providers })(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    if (kind === 'stack') {
      app.use(require('helmet')());
      app.enableCors({ origin: [ORIGIN], credentials: true });
    }
    await app.listen(0, '127.0.0.1');
    console.log(`listening on http://127.0.0.1:${app.getHttpServer().address().port}`);
    return;
  }
  throw new Error(`unknown variant ${variant}`);
}

main();
