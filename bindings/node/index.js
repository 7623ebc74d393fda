'use strict';
// Package `warden-policy`: the Engine class over the native addon (`binding.js` finds
// this platform's), error classes, and the Express middleware. Only the attributes the
// policy reads are taken from the caller's objects (see `slots()`), written into buffers
// shared with the addon (fast.js) or packed into one string, and answered with a small
// integer that indexes frozen decision objects cached per engine.

const native = require('./binding').load();
// The fast path (fast.js, bindings/node/src/fast.rs): a request of strings, booleans
// and missing values, written into buffers shared with the addon by a reader compiled
// per policy; anything else takes the packed path, which also reports errors.
const fastPath = require('./fast');
const { isObject, FALLBACK, NO, HAS_PRINCIPAL, HAS_RESOURCE, HAS_CONTEXT } = fastPath;

/** Base class of every error this package throws. */
class WardenError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** A policy that does not load; `diagnostics` lists every problem with its position. */
class PolicyError extends WardenError {
  constructor(failure) {
    super(failure.message);
    this.file = failure.file ?? null;
    this.diagnostics = (failure.diagnostics ?? []).map((d) => Object.freeze({ ...d, help: d.help ?? null }));
  }
}

/** A request the engine cannot read. */
class RequestError extends WardenError {}

/** An engine option that cannot be honoured. */
class ConfigError extends WardenError {}

/**
 * A residual no filter can express: `rule` is the rule's `file:line` (empty when the
 * column map, not a rule, is at fault). Authorize each row instead.
 */
class CannotFilter extends WardenError {
  constructor(message, rule) {
    super(message);
    this.rule = rule ?? '';
  }
}

function failureToError(f) {
  return f.kind === 'policy' ? new PolicyError(f) : new ConfigError(f.message);
}

// `flags` bits and the packed request of NativeEngine#decide (bindings/node/src/packed.rs):
// one string of NUL-separated fields, each with a one-letter type tag, so that a decision
// costs one N-API string read.
// HAS_PRINCIPAL, HAS_RESOURCE and HAS_CONTEXT are the fast path's too (fast.js).
const ONE_ROLE = 4;
const BOTH_ROLES = 8;

function json(v) {
  try {
    return 'j' + JSON.stringify(v);
  } catch (e) {
    // JSON.stringify overflows the stack on very deep values: the same bound as any other.
    if (e instanceof RangeError) throw new RequestError('a value nests lists and maps deeper than 32 levels');
    throw new RequestError(`a value could not be read: ${e.message}`);
  }
}

function enc(v) {
  switch (typeof v) {
    case 'string':
      return v.indexOf('\0') === -1 ? 's' + v : json(v);
    case 'undefined':
      return 'u';
    case 'number':
      return 'n' + v;
    case 'boolean':
      return v ? 't' : 'f';
    case 'object':
      return v === null ? 'u' : json(v);
    default:
      return 'x' + typeof v;
  }
}

function encRoles(roles) {
  if (!Array.isArray(roles)) return enc(roles);
  let out = 'a' + roles.length;
  for (let i = 0; i < roles.length; i++) out += '\0' + enc(roles[i]);
  return out;
}

function nativeOptions(opts, what) {
  if (opts === undefined || opts === null) return undefined;
  if (!isObject(opts)) throw new ConfigError(`${what}: options must be an object`);
  const { env, secrets, config, redisUrl, redisCluster, redisCaFile, onStoreError, cacheSize, decisionLog, decisionLogSampleRate, metrics, ...rest } = opts;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new ConfigError(`unknown option \`${unknown[0]}\`; expected env, secrets, config, redisUrl, redisCluster, redisCaFile, onStoreError, cacheSize, decisionLog, decisionLogSampleRate, metrics`);
  const check = (v, type, name) => {
    if (v !== undefined && v !== null && typeof v !== type) throw new ConfigError(`\`${name}\` must be a ${type}`);
  };
  check(env, 'string', 'env');
  check(redisUrl, 'string', 'redisUrl');
  check(redisCaFile, 'string', 'redisCaFile');
  if (redisCluster != null && !(Array.isArray(redisCluster) && redisCluster.every((u) => typeof u === 'string'))) {
    throw new ConfigError('`redisCluster` must be an array of seed URLs (strings)');
  }
  check(onStoreError, 'string', 'onStoreError');
  check(cacheSize, 'number', 'cacheSize');
  check(decisionLogSampleRate, 'number', 'decisionLogSampleRate');
  check(metrics, 'boolean', 'metrics');
  if (decisionLog != null && typeof decisionLog !== 'function' && typeof decisionLog !== 'string') {
    throw new ConfigError('`decisionLog` must be a function (taking each line, a string) or a file path');
  }
  if (cacheSize != null && !(Number.isInteger(cacheSize) && cacheSize >= 0 && cacheSize < 2 ** 32)) {
    throw new ConfigError('`cacheSize` must be a whole number of entries');
  }
  for (const [name, map] of [['secrets', secrets], ['config', config]]) {
    if (map != null && (!isObject(map) || Object.values(map).some((v) => typeof v !== 'string'))) {
      throw new ConfigError(`\`${name}\` must map names to string values`);
    }
  }
  return {
    env: env ?? undefined, secrets: secrets ?? undefined, config: config ?? undefined, redisUrl: redisUrl ?? undefined,
    redisCluster: redisCluster ?? undefined, redisCaFile: redisCaFile ?? undefined, onStoreError: onStoreError ?? undefined,
    cacheSize: cacheSize ?? undefined, decisionLogFile: typeof decisionLog === 'string' ? decisionLog : undefined,
    decisionLogSampleRate: decisionLogSampleRate ?? undefined, metrics: metrics ?? undefined,
  };
}

// A `decisionLog` function as the addon calls it: each line, then `null` once every
// line before a flush has been delivered (resolving `flushDecisionLog()`). A throwing
// log function loses its line and is reported as a process warning; deciding goes on.
function logSink(opts) {
  const f = isObject(opts) ? opts.decisionLog : undefined;
  if (typeof f !== 'function') return null;
  const waiters = [];
  const fn = (line) => {
    if (line == null) {
      const w = waiters.shift();
      if (w) w();
      return;
    }
    try {
      f(line);
    } catch (e) {
      process.emitWarning(`the decisionLog function threw: ${e && e.message}`, 'WardenWarning');
    }
  };
  return { fn, waiters };
}

/** A running watch of an engine's policy file (`engine.watch()`); `close()` stops it. */
class Watch {
  #n;
  #done;

  /** @internal made by Engine#watch */
  constructor(nativeWatch, done) {
    this.#n = nativeWatch;
    this.#done = done;
  }

  /** Stop watching; no reload happens after this returns. */
  close() {
    this.#n.close();
    this.#done(this);
  }

  /** Whether `close()` was called. */
  get closed() {
    return this.#n.closed;
  }
}

const METRIC_KEYS = {
  decisions: 'decisions', by_status: 'byStatus', by_route: 'byRoute', by_rule: 'byRule', by_limit: 'byLimit',
  store_errors: 'storeErrors', reloads: 'reloads', reload_failures: 'reloadFailures', log_dropped: 'logDropped',
  latency_buckets: 'latencyBuckets', latency_sum_ns: 'latencySumNs',
};

class Engine {
  #n;
  #slots;
  #decisions = [];
  #decide = null;
  #buf = null;
  #bytes = null;
  // The request reader of the plan in force (`compileReader`).
  #read = null;
  // Bumped by every fast call: a getter on the request that calls authorize again has
  // overwritten the buffer, so the outer call must not use it.
  #calls = 0;

  // The decision log's function and flush waiters (`logSink`), or null.
  #log = null;
  // Watches running until closed: a watch lives as long as it is not closed, whether
  // or not the caller keeps its handle (as `fs.watch`).
  #watches = new Set();

  /** @internal use Engine.fromFile / Engine.fromSource */
  constructor(nativeEngine, log) {
    if (!(nativeEngine instanceof native.NativeEngine)) {
      throw new ConfigError('use Engine.fromFile(path, options) or Engine.fromSource(name, text, options)');
    }
    this.#n = nativeEngine;
    this.#log = log ?? null;
    this.#plan();
  }

  static fromFile(file, options) {
    if (typeof file !== 'string') throw new ConfigError('`path` must be a string');
    const opts = nativeOptions(options, 'Engine.fromFile');
    const log = logSink(options);
    const r = native.loadFile(file, opts, log ? log.fn : undefined);
    if (r instanceof native.NativeEngine) return new Engine(r, log);
    throw failureToError(r);
  }

  static fromSource(name, text, options) {
    if (typeof name !== 'string' || typeof text !== 'string') throw new ConfigError('`name` and `text` must be strings');
    const opts = nativeOptions(options, 'Engine.fromSource');
    const log = logSink(options);
    const r = native.loadSource(name, text, opts, log ? log.fn : undefined);
    if (r instanceof native.NativeEngine) return new Engine(r, log);
    throw failureToError(r);
  }

  /**
   * Reload the policy file whenever it changes, until `close()`. Changes settle for
   * `debounce` ms first (an editor's save loads once). After a reload `onReload()` is
   * called; a file that does not load leaves the old policy serving and
   * `onError(PolicyError)` is called (without it, the error is written with
   * `console.error`). The watch does not keep the process alive.
   */
  watch(options) {
    if (options !== undefined && !isObject(options)) throw new ConfigError('watch: options must be an object');
    const { debounce = 100, onReload, onError, ...rest } = options ?? {};
    const unknown = Object.keys(rest);
    if (unknown.length) throw new ConfigError(`unknown option \`${unknown[0]}\`; expected debounce, onReload, onError`);
    if (!(Number.isInteger(debounce) && debounce >= 0 && debounce < 2 ** 32)) {
      throw new ConfigError('`debounce` must be a whole number of milliseconds');
    }
    for (const [name, f] of [['onReload', onReload], ['onError', onError]]) {
      if (f != null && typeof f !== 'function') throw new ConfigError(`\`${name}\` must be a function`);
    }
    // On the event loop, between two requests: the new plan and its slots together.
    const report = (failure) => {
      if (failure == null) {
        if (this.#n.adopt()) this.#plan();
        if (onReload) onReload();
        return;
      }
      const err = failureToError(failure);
      if (onError) onError(err);
      else console.error(`warden: reload refused, the old policy stays: ${err.message}`);
    };
    const r = this.#n.watch(debounce, report);
    if (!(r instanceof native.NativeWatch)) throw failureToError(r);
    const w = new Watch(r, (done) => this.#watches.delete(done));
    this.#watches.add(w);
    return w;
  }

  /** The metrics counters now (loaded with `metrics: true`, else a ConfigError). */
  metrics() {
    const j = this.#n.metricsJson();
    if (j == null) throw new ConfigError('this engine counts nothing: load it with `metrics: true`');
    const s = JSON.parse(j);
    const out = {};
    for (const [k, v] of Object.entries(s)) out[METRIC_KEYS[k] ?? k] = v;
    return out;
  }

  /** The metrics counters in the Prometheus text exposition format. */
  prometheus() {
    const t = this.#n.prometheus();
    if (t == null) throw new ConfigError('this engine counts nothing: load it with `metrics: true`');
    return t;
  }

  /** Resolves once every decision logged so far has reached the `decisionLog`. */
  async flushDecisionLog() {
    for (;;) {
      const r = this.#n.flushDecisionLog();
      if (r === 0) return;
      if (r === 1) {
        // The log's threadsafe function does not keep the loop alive (it is weak): a
        // timer does, until the marker has come through.
        const alive = setInterval(() => {}, 60000);
        return new Promise((resolve) => this.#log.waiters.push(resolve)).finally(() => clearInterval(alive));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The decision log's counts (`written`, `dropped`, `sampledOut`, `writeErrors`), or null without one. */
  decisionLogStats() {
    const j = this.#n.decisionLogStats();
    return j == null ? null : JSON.parse(j);
  }

  #plan() {
    const s = this.#n.slots();
    this.#slots = s;
    this.#decisions = [];
    const words = fastPath.words(s);
    const fast = this.#n.fastPath(words);
    // A reload inside a getter of a request being decided: the outer call sees the
    // count move and falls back, instead of writing the old layout for the new plan.
    this.#calls++;
    if (fast) {
      this.#read = fastPath.compileReader(s);
      this.#decide = fast[0];
      this.#buf = new Uint32Array(fast[1]);
      this.#bytes = new Uint8Array(fast[2]);
    } else {
      this.#decide = null;
    }
  }

  // The request through the fast path: the decision's index, or FALLBACK.
  #fast(request) {
    const call = ++this.#calls;
    if (this.#read(request, this.#buf, this.#bytes) === NO) return FALLBACK;
    // A getter that called authorize again (or reloaded) has overwritten the buffers.
    if (call !== this.#calls) return FALLBACK;
    this.#decide();
    return this.#buf[0];
  }

  /** The policy's file name, as decisions cite it. */
  get name() {
    return this.#n.name;
  }

  /** The attributes the policy reads, by root: what `authorize` converts. */
  get reads() {
    const s = this.#slots;
    return { principal: [...s.principal], resource: [...s.resource], context: [...s.context] };
  }

  /**
   * May `principal` do `action` on `resource` in `context`? Plain objects in the shape of
   * the request JSON. Returns a frozen decision, shared between equal answers.
   */
  authorize(request, options) {
    if (!isObject(request)) throw new RequestError('a request must be an object');
    const explain = options !== undefined && options !== null && options.explain === true;
    if (!explain && this.#decide !== null) {
      const i = this.#fast(request);
      if (i !== FALLBACK) return this.#decisions[i] ?? this.#decision(i);
    }
    const s = this.#slots;
    const p = request.principal;
    const r = request.resource;
    const c = request.context;
    let flags = 0;
    let packed = enc(request.action);
    if (p !== undefined && p !== null) {
      if (!isObject(p)) throw new RequestError('`principal` must be an object or null');
      flags |= HAS_PRINCIPAL;
      packed += '\0' + enc(p.id);
      const one = p.role;
      if (one !== undefined) {
        if (p.roles !== undefined) flags |= BOTH_ROLES;
        flags |= ONE_ROLE;
        packed += '\0' + enc(one);
      } else {
        packed += '\0' + encRoles(p.roles);
      }
      const names = s.principal;
      for (let i = 0; i < names.length; i++) packed += '\0' + enc(p[names[i]]);
    }
    if (r !== undefined && r !== null) {
      if (!isObject(r)) throw new RequestError('`resource` must be an object or null');
      flags |= HAS_RESOURCE;
      packed += '\0' + enc(r.type) + '\0' + enc(r.id);
      const names = s.resource;
      for (let i = 0; i < names.length; i++) packed += '\0' + enc(r[names[i]]);
    }
    if (c !== undefined && c !== null) {
      if (!isObject(c)) throw new RequestError('`context` must be an object or null');
      flags |= HAS_CONTEXT;
      const names = s.context;
      for (let i = 0; i < names.length; i++) packed += '\0' + enc(c[names[i]]);
    }
    if (explain) {
      let out;
      try {
        out = JSON.parse(this.#n.explain(flags, packed));
      } catch (e) {
        throw new RequestError(e.message);
      }
      return Object.freeze({ ...this.#decision(out.index), trace: out.trace });
    }
    let i;
    try {
      i = this.#n.decide(flags, packed);
    } catch (e) {
      throw new RequestError(e.message);
    }
    return this.#decisions[i] ?? this.#decision(i);
  }

  #decision(i) {
    const cached = this.#decisions[i];
    if (cached !== undefined) return cached;
    const d = this.#n.decision(i);
    const rule = d.rule ?? null;
    const out = Object.freeze({
      allowed: d.allowed,
      status: d.status,
      reason: d.reason ?? null,
      rule,
      rules: Object.freeze(rule === null ? [] : [rule]),
    });
    this.#decisions[i] = out;
    return out;
  }

  /**
   * Decide an HTTP request (`{ method, path, headers, ip, principal, input, time }`, the
   * HTTP request JSON): route, CORS, rate limits, requirements, response headers.
   * Returns a frozen decision: allowed, status, reason, rules, headers, remove, location.
   */
  checkHttp(request, options) {
    if (!isObject(request)) throw new RequestError('an HTTP request must be an object');
    const explain = options !== undefined && options !== null && options.explain === true;
    let out;
    try {
      out = JSON.parse(this.#n.checkHttp(JSON.stringify(request), explain));
    } catch (e) {
      throw new RequestError(e.message);
    }
    return freezeHttp(out);
  }

  /**
   * `checkHttp` as a Promise: rate-limit checks against a Redis store run on a native
   * thread pool, never blocking the event loop. A bad request rejects with RequestError.
   */
  async checkHttpAsync(request) {
    if (!isObject(request)) throw new RequestError('an HTTP request must be an object');
    let text;
    try {
      text = await this.#n.checkHttpAsync(JSON.stringify(request));
    } catch (e) {
      throw new RequestError(e.message);
    }
    return freezeHttp(JSON.parse(text));
  }

  /**
   * Authenticate an HTTP request (`{ method, path, headers, time }`) with the policy's
   * `auth` blocks, for hosts that only need identity: `{ outcome: 'principal', principal,
   * via }`, `{ outcome: 'anonymous' }` or `{ outcome: 'failed', code }` (a reason code,
   * never the credential).
   */
  authenticate(request) {
    if (!isObject(request)) throw new RequestError('an HTTP request must be an object');
    let text;
    try {
      text = this.#n.authenticate(JSON.stringify({ method: 'GET', path: '/', ...request }));
    } catch (e) {
      throw new RequestError(e.message);
    }
    const out = JSON.parse(text);
    if (out.principal) out.principal = Object.freeze(out.principal);
    return Object.freeze(out);
  }

  /**
   * Data filtering: the condition on `resourceType`'s attributes under which `principal`
   * may perform `action` (`{ kind: 'always' }`, `{ kind: 'never' }` or `{ kind:
   * 'conditional', condition }`), computed from the rules `authorize` applies. Throws
   * CannotFilter for a rule no filter can express, RequestError for a bad request.
   */
  residual(request) {
    return this.#filter(request, null).residual;
  }

  /**
   * The residual as a parameterized SQL `WHERE` fragment: `{ sql, params }` for
   * `dialect` 'postgres' (`$n` from `firstParam`) or 'sqlite' (`?`, booleans as
   * true/false: bind them as 1/0), over the columns `columns` maps attributes to.
   */
  sqlFilter(request) {
    const sql = isObject(request)
      ? { dialect: request.dialect ?? 'postgres', columns: request.columns, first_param: request.firstParam ?? 1 }
      : null;
    const out = this.#filter(request, sql);
    return Object.freeze({ sql: out.sql, params: Object.freeze(out.params) });
  }

  #filter(request, sql) {
    if (!isObject(request)) throw new RequestError('a filter request must be an object');
    let text;
    try {
      text = JSON.stringify({
        action: request.action,
        resource_type: request.resourceType,
        principal: request.principal ?? null,
        context: request.context ?? null,
        sql,
      });
    } catch (e) {
      throw new RequestError(`a filter request could not be read: ${e.message}`);
    }
    const out = JSON.parse(this.#n.residual(text));
    if (out.error) {
      if (out.error.kind === 'cannot_filter') throw new CannotFilter(out.error.message, out.error.rule);
      throw new RequestError(out.error.message);
    }
    return out.ok;
  }

  /** Whether a route this request meets verifies a signature over the body. */
  needsBody(method, path) {
    return this.#n.needsBody(String(method), String(path));
  }

  /** One outgoing `Set-Cookie` value with the policy's `cookies` rule applied. */
  enforceSetCookie(value) {
    return this.#n.enforceSetCookie(String(value));
  }

  /** Whether the policy has a `cookies` block (else `Set-Cookie` needs no look). */
  get hasCookieRules() {
    return this.#n.hasCookieRules;
  }

  /**
   * Swap in a new policy: the file this engine was loaded from, `path`, or
   * `{ source }` text. On failure the old policy stays and a PolicyError is thrown.
   */
  reload(arg) {
    let file = null;
    let source = null;
    if (typeof arg === 'string') file = arg;
    else if (isObject(arg) && typeof arg.source === 'string') source = arg.source;
    else if (arg !== undefined) throw new ConfigError('reload takes a path or { source }');
    const f = this.#n.reload(file, source);
    if (f) throw failureToError(f);
    this.#plan();
  }
}

function freezeHttp(out) {
  if (out.principal) out.principal = Object.freeze(out.principal);
  out.rules = Object.freeze(out.rules);
  out.remove = Object.freeze(out.remove);
  out.headers = Object.freeze(out.headers);
  return Object.freeze(out);
}

module.exports = { Engine, Watch, WardenError, PolicyError, RequestError, ConfigError, CannotFilter };
// Loaded after the exports it uses.
module.exports.express = require('./express').express;
module.exports.fetchGuard = require('./fetch').fetchGuard;
module.exports.hono = require('./hono').hono;
