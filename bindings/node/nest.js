'use strict';
// NestJS integration (`warden-policy/nest`, on @nestjs/platform-express):
//
//   @Module({ imports: [WardenModule.forRoot({ policy: 'policies/lumira.warden', secrets })] })
//   export class AppModule {}
//
//   @Get('me') me(@Principal() user: Principal) { ... }
//   constructor(private readonly warden: WardenService) {}   // warden.assert(user, 'posts:write', post)
//
// Why a middleware and not a guard: the decision has to cover what guards never see
// (CORS preflights, which have no route handler, and 404s, which still get the security
// headers), as helmet and `enableCors` do in a Nest app today; and it still runs before
// guards and pipes, so the login limit counts requests ValidationPipe would reject (as
// @nestjs/throttler's guard does). It runs after Nest's body parser, so `input` can read
// `req.body`. Refusals are answered in Nest's own error shape,
// `{ statusCode, message, error }`; `@Principal()` and `WardenService` read what the
// middleware verified (`req.warden`), so no handler decodes a token again.

const { Module, Injectable, Inject, createParamDecorator, ForbiddenException, RequestMethod } = require('@nestjs/common');
const http = require('node:http');
const { Engine } = require('./index');
const { express } = require('./express');

/** Injection token of the options given to `forRoot` / produced by `forRootAsync`. */
const WARDEN_OPTIONS = Symbol.for('warden:options');
/** Injection token of the loaded `Engine`. */
const WARDEN_ENGINE = Symbol.for('warden:engine');

const ENGINE_KEYS = ['env', 'secrets', 'config', 'redisUrl', 'onStoreError', 'cacheSize'];

/** A refusal as Nest's HttpException would answer it: `{ statusCode, message, error }`. */
function nestDeny(decision, req, res) {
  const s = decision.status;
  if (s === 204 || s === 304 || (s >= 300 && s < 400)) {
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ statusCode: s, message: decision.reason ?? http.STATUS_CODES[s], error: http.STATUS_CODES[s] ?? 'Error' }));
}

function loadEngine(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('WardenModule: options must be an object');
  if (options.engine instanceof Engine) return options.engine;
  const engineOptions = {};
  for (const k of ENGINE_KEYS) if (options[k] !== undefined) engineOptions[k] = options[k];
  const { policy } = options;
  if (typeof policy === 'string') return Engine.fromFile(policy, engineOptions);
  if (policy !== null && typeof policy === 'object' && typeof policy.source === 'string') {
    return Engine.fromSource(policy.name ?? 'policy.warden', policy.source, engineOptions);
  }
  throw new TypeError('WardenModule: `policy` must be a file path or { name, source } (or pass `engine`)');
}

/** Resource-level checks in services: `authorize` answers, `assert` throws a 403. */
class WardenService {
  constructor(engine) {
    this.engine = engine;
  }

  /** May `principal` do `action` on `resource`? The engine's frozen decision. */
  authorize(principal, action, resource, context) {
    return this.engine.authorize({ action, principal: principal ?? null, resource: resource ?? null, context: context ?? null });
  }

  /** `authorize`, throwing Nest's ForbiddenException (`{ statusCode: 403, message, error }`) on a denial. */
  assert(principal, action, resource, context) {
    const d = this.authorize(principal, action, resource, context);
    if (!d.allowed) throw new ForbiddenException(d.reason ?? 'forbidden');
    return d;
  }
}
Injectable()(WardenService);
Inject(WARDEN_ENGINE)(WardenService, undefined, 0);

/** The principal the middleware verified (or a property of it: `@Principal('id')`); null when anonymous. */
const Principal = createParamDecorator((data, ctx) => {
  const req = ctx.switchToHttp().getRequest();
  const p = req.warden?.principal ?? null;
  return typeof data === 'string' ? (p === null ? undefined : p[data]) : p;
});

/** The whole `{ principal, decision }` of the request. */
const WardenState = createParamDecorator((_data, ctx) => ctx.switchToHttp().getRequest().warden ?? null);

class WardenModule {
  constructor(options, engine) {
    this.middleware = express(engine, {
      principal: options.principal,
      input: options.input,
      maxBody: options.maxBody,
      onDeny: options.onDeny ?? nestDeny,
    });
  }

  configure(consumer) {
    consumer.apply(this.middleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }

  static #module(optionsProvider, imports = []) {
    return {
      module: WardenModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        { provide: WARDEN_ENGINE, useFactory: loadEngine, inject: [WARDEN_OPTIONS] },
        WardenService,
      ],
      exports: [WARDEN_ENGINE, WardenService],
    };
  }

  /** Load the policy once, for the whole application. */
  static forRoot(options) {
    return WardenModule.#module({ provide: WARDEN_OPTIONS, useValue: options });
  }

  /** Options from other providers: `{ imports: [ConfigModule], inject: [ConfigService], useFactory }`. */
  static forRootAsync(options) {
    const { imports, inject, useFactory } = options ?? {};
    if (typeof useFactory !== 'function') throw new TypeError('WardenModule.forRootAsync: `useFactory` is required');
    return WardenModule.#module({ provide: WARDEN_OPTIONS, useFactory, inject: inject ?? [] }, imports ?? []);
  }
}
Module({})(WardenModule);
Inject(WARDEN_OPTIONS)(WardenModule, undefined, 0);
Inject(WARDEN_ENGINE)(WardenModule, undefined, 1);

module.exports = { WardenModule, WardenService, Principal, WardenState, WARDEN_OPTIONS, WARDEN_ENGINE, nestDeny };
