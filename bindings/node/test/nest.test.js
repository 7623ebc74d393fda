'use strict';
// WardenModule in a real NestJS 11 application (Express platform) over loopback:
// forRoot and forRootAsync, refusals in Nest's error shape, @Principal(), WardenService,
// the login limit counted before ValidationPipe-like pipes refuse the body, 404s and
// preflights (no route handler) still under the policy.

require('reflect-metadata');
const test = require('node:test');
const assert = require('node:assert/strict');
const { Controller, Get, Post, Put, Param, Body, Module, Injectable, Inject, UsePipes, BadRequestException } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { WardenModule, WardenService, Principal, WardenState, WARDEN_ENGINE } = require('../nest');
const { Engine, PolicyError } = require('..');
const { ADAPTERS, SECRETS, jwt } = require('./support');

const USER = `Bearer ${jwt({ sub: 'u1', role: 'user' })}`;
const ADMIN = `Bearer ${jwt({ sub: 'a1', role: 'admin' })}`;

// Decorators applied by hand: this file is plain JavaScript.
function method(cls, name, ...decorators) {
  const d = Object.getOwnPropertyDescriptor(cls.prototype, name);
  for (const dec of decorators) dec(cls.prototype, name, d);
}
function param(cls, name, index, dec) {
  dec(cls.prototype, name, index);
}

class PostsService {
  constructor(warden) {
    this.warden = warden;
    this.posts = { p1: { type: 'post', id: 'p1', author: 'u1' }, p2: { type: 'post', id: 'p2', author: 'someone' } };
  }
  update(user, id) {
    const post = this.posts[id];
    this.warden.assert(user, 'posts:write', post); // "the author or an admin"
    return { updated: post.id };
  }
}
Injectable()(PostsService);
Inject(WardenService)(PostsService, undefined, 0);

// A pipe that refuses every body, as ValidationPipe refuses a bad LoginDto.
const refuseBody = { transform: () => { throw new BadRequestException('email must be an email'); } };

class ApiController {
  constructor(posts) {
    this.posts = posts;
  }
  me(user, id, state) {
    return { user, id, by: state.decision.authenticated_by };
  }
  update(user, id) {
    return this.posts.update(user, id);
  }
  login(_body) {
    return { ok: true };
  }
  admin() {
    return ['a1'];
  }
}
Controller('api')(ApiController);
Inject(PostsService)(ApiController, undefined, 0);
method(ApiController, 'me', Get('me'));
param(ApiController, 'me', 0, Principal());
param(ApiController, 'me', 1, Principal('id'));
param(ApiController, 'me', 2, WardenState());
method(ApiController, 'update', Put('posts/:id'));
param(ApiController, 'update', 0, Principal());
param(ApiController, 'update', 1, Param('id'));
method(ApiController, 'login', Post('login'), UsePipes(refuseBody));
param(ApiController, 'login', 0, Body());
method(ApiController, 'admin', Get('admin/users'));

async function withNest(wardenImport, fn) {
  class AppModule {}
  Module({ imports: [wardenImport], controllers: [ApiController], providers: [PostsService] })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    await fn(`http://127.0.0.1:${app.getHttpServer().address().port}`, app);
  } finally {
    await app.close();
  }
}

const forRoot = () => WardenModule.forRoot({ policy: ADAPTERS, secrets: SECRETS });

test('nest: 401/403 in Nest\'s error shape, @Principal(), resource-level checks in a service', async () => {
  await withNest(forRoot(), async (base) => {
    const anon = await fetch(`${base}/api/me`);
    assert.equal(anon.status, 401);
    assert.deepEqual(await anon.json(), { statusCode: 401, message: 'missing_token', error: 'Unauthorized' });
    assert.equal(anon.headers.get('www-authenticate'), 'Bearer');

    const me = await fetch(`${base}/api/me`, { headers: { authorization: USER } });
    assert.deepEqual(await me.json(), { user: { id: 'u1', roles: ['user'] }, id: 'u1', by: 'jwt:JWT_SECRET' });

    const admin = await fetch(`${base}/api/admin/users`, { headers: { authorization: USER } });
    assert.equal(admin.status, 403);
    assert.deepEqual(await admin.json(), { statusCode: 403, message: 'requires role admin', error: 'Forbidden' });

    const put = (id, auth) => fetch(`${base}/api/posts/${id}`, { method: 'PUT', headers: { authorization: auth } });
    assert.deepEqual(await (await put('p1', USER)).json(), { updated: 'p1' });
    const other = await put('p2', USER);
    assert.equal(other.status, 403);
    assert.deepEqual(await other.json(), { statusCode: 403, message: 'only the author or an admin may change a post', error: 'Forbidden' });
    assert.equal((await put('p2', ADMIN)).status, 200);
  });
});

test('nest: the login limit counts bodies the pipe refuses; 429 with Retry-After', async () => {
  await withNest(forRoot(), async (base) => {
    const login = () => fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"x"}' });
    for (let i = 0; i < 3; i++) assert.equal((await login()).status, 400);
    const r = await login();
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal((await r.json()).error, 'Too Many Requests');
  });
});

test('nest: preflights, headers on a 404, X-Powered-By dropped, redirect', async () => {
  await withNest(forRoot(), async (base) => {
    const pre = (origin) => fetch(`${base}/api/me`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    const ok = await pre('https://app.example.com');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal((await pre('https://evil.example')).headers.get('access-control-allow-origin'), null);

    const missing = await fetch(`${base}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-frame-options'), 'DENY');
    assert.equal(missing.headers.get('x-powered-by'), null);

    const r = await fetch(`${base}/dashboard/a`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/login?callbackUrl=%2Fdashboard%2Fa');
  });
});

test('nest: forRootAsync from another provider; a policy that fails to load fails the bootstrap', async () => {
  class SettingsService {
    get(name) {
      return { POLICY: ADAPTERS, ...SECRETS }[name];
    }
  }
  Injectable()(SettingsService);
  class SettingsModule {}
  Module({ providers: [SettingsService], exports: [SettingsService] })(SettingsModule);
  const asyncImport = WardenModule.forRootAsync({
    imports: [SettingsModule],
    inject: [SettingsService],
    useFactory: async (s) => ({ policy: s.get('POLICY'), secrets: { JWT_SECRET: s.get('JWT_SECRET'), STRIPE_SECRET: s.get('STRIPE_SECRET') } }),
  });
  await withNest(asyncImport, async (base, app) => {
    assert.ok(app.get(WARDEN_ENGINE) instanceof Engine);
    assert.equal((await fetch(`${base}/api/me`, { headers: { authorization: USER } })).status, 200);
  });
  class Broken {}
  Module({ imports: [WardenModule.forRoot({ policy: { source: 'policy x\nroute /a { require nonsense }' } })] })(Broken);
  await assert.rejects(NestFactory.create(Broken, { logger: false, abortOnError: false }), PolicyError);
});
