'use strict';
// The JS side of authorize's fast path (src/fast.rs has the layout): a request whose
// values are strings, booleans or missing is written into two buffers the addon owns,
// its strings as UTF-8 bytes and one word per value, by a reader compiled for the
// policy's slots; `index.js` then calls the addon's `decide`, which takes no argument.

// `flags` bits of word 0 (packed.rs's HAS_*; index.js's packed path uses them too).
const HAS_PRINCIPAL = 1;
const HAS_RESOURCE = 2;
const HAS_CONTEXT = 16;

// Word values (src/fast.rs); a string's word is its length in bytes.
const MISSING = 0xffffffff;
const TRUE = 0xfffffffe;
const FALSE = 0xfffffffd;
// Word 0 after `decide`: take the packed path.
const FALLBACK = 0xffffffff;
const MAX_ROLES = 16;
const UTF8 = new TextEncoder();
// What the writers answer for a value or request the fast path cannot carry.
const NO = -1;

// Writes `s` as UTF-8 into `u8` at `at`: the offset after it, or NO when it does not
// fit. ASCII is copied by a loop that V8 compiles to a few instructions per character
// (ids, names and actions are short); the first other character hands the whole
// string to `TextEncoder` (lone surrogates become U+FFFD, as N-API's reads make them).
function put(u8, at, s) {
  const n = s.length;
  if (at + n > u8.length) return NO;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return putUtf8(u8, at, s);
    u8[at + i] = c;
  }
  return at + n;
}

function putUtf8(u8, at, s) {
  const { read, written } = UTF8.encodeInto(s, u8.subarray(at));
  return read === s.length ? at + written : NO;
}

// Value `v` as word `k` of `b` (a string's bytes into `u8` at `at`): the byte offset
// after it, or NO when the fast path cannot carry it.
function putVal(b, u8, k, at, v) {
  let w;
  if (typeof v === 'string') {
    const end = put(u8, at, v);
    if (end === NO) return NO;
    b[k] = end - at;
    return end;
  }
  if (v === undefined || v === null) w = MISSING;
  else if (v === true) w = TRUE;
  else if (v === false) w = FALSE;
  else return NO;
  b[k] = w;
  return at;
}

// The values of `names` on `o` as words `k`, `k + 1`, ...: the byte offset after
// them, or NO.
function putSlots(b, u8, k, at, o, names) {
  for (const name of names) {
    at = putVal(b, u8, k++, at, o[name]);
    if (at === NO) return NO;
  }
  return at;
}

// Writes a request's fast-path form, for `slots` (`NativeEngine#slots`): words from 2
// on and the strings' bytes, then the flags in word 0 and the bytes written in word 1.
// Returns the bytes written, or NO when the fast path cannot carry the request (the
// packed path then decides it and reports any error). Getters on the request run here.
function readGeneric(slots, request, b, u8) {
  const a = request.action;
  if (typeof a !== 'string') return NO;
  let at = putVal(b, u8, 2, 0, a);
  if (at === NO) return NO;
  let k = 3;
  let flags = 0;
  const p = request.principal;
  if (p !== undefined && p !== null) {
    if (!isObject(p)) return NO;
    flags |= HAS_PRINCIPAL;
    const id = p.id;
    if (typeof id !== 'string' && id !== undefined && id !== null) return NO;
    at = putVal(b, u8, k++, at, id);
    if (at === NO) return NO;
    const one = p.role;
    const roles = p.roles;
    if (one !== undefined) {
      if (roles !== undefined) return NO;
      if (typeof one === 'string') {
        b[k++] = 1;
        at = putVal(b, u8, k++, at, one);
        if (at === NO) return NO;
      } else if (one === null) {
        b[k++] = 0;
      } else {
        return NO;
      }
    } else if (roles === undefined || roles === null) {
      b[k++] = 0;
    } else {
      if (!Array.isArray(roles) || roles.length > MAX_ROLES) return NO;
      const m = roles.length;
      b[k++] = m;
      for (let i = 0; i < m; i++) {
        const r = roles[i];
        if (typeof r !== 'string') return NO;
        at = putVal(b, u8, k++, at, r);
        if (at === NO) return NO;
      }
    }
    at = putSlots(b, u8, k, at, p, slots.principal);
    if (at === NO) return NO;
    k += slots.principal.length;
  }
  const r = request.resource;
  if (r !== undefined && r !== null) {
    if (!isObject(r)) return NO;
    flags |= HAS_RESOURCE;
    const t = r.type;
    if (typeof t !== 'string') return NO;
    at = putVal(b, u8, k++, at, t);
    if (at === NO) return NO;
    const id = r.id;
    if (typeof id !== 'string' && id !== undefined && id !== null) return NO;
    at = putVal(b, u8, k++, at, id);
    if (at === NO) return NO;
    at = putSlots(b, u8, k, at, r, slots.resource);
    if (at === NO) return NO;
    k += slots.resource.length;
  }
  const c = request.context;
  if (c !== undefined && c !== null) {
    if (!isObject(c)) return NO;
    flags |= HAS_CONTEXT;
    at = putSlots(b, u8, k, at, c, slots.context);
    if (at === NO) return NO;
  }
  b[0] = flags;
  b[1] = at;
  return at;
}

// `readGeneric` compiled for one policy's slots: the same steps, with the slot names
// spelled out and the string copy written in place at every site. Why: the generic
// reader reads every slot of a root at one property site, which V8 turns megamorphic
// (a global cache lookup per read), and it calls `putVal`/`put` ~15 times per request,
// too many for V8 to inline (their calls were ~15% of an authorize); compiled, a read
// is a monomorphic property load and a request is one call. The names come from the
// policy and are quoted by `JSON.stringify`. Where code generation from strings is
// disabled (`--disallow-code-generation-from-strings`, a CSP), `readGeneric` itself.
function compileReader(slots) {
  // String `v` as word `k`, its bytes at `at` (ASCII by the loop, else `putUtf8`).
  const str = `
    n = v.length;
    if (at + n > u8.length) return NO;
    for (i = 0; i < n; i++) {
      ch = v.charCodeAt(i);
      if (ch > 0x7f) break;
      u8[at + i] = ch;
    }
    if (i < n) {
      e = putUtf8(u8, at, v);
      if (e === NO) return NO;
      n = e - at;
    }
    b[k++] = n;
    at += n;`;
  // Value `v` (a string, missing or a boolean) as word `k`.
  const val = `
    if (typeof v === 'string') {${str}
    } else if (v === undefined || v === null) b[k++] = MISSING;
    else if (v === true) b[k++] = TRUE;
    else if (v === false) b[k++] = FALSE;
    else return NO;`;
  const slotsOf = (o, names) => names.map((name) => `
    v = ${o}[${JSON.stringify(name)}];${val}`).join('');
  const body = `"use strict";
return function readCompiled(request, b, u8) {
  let at = 0, k = 2, flags = 0, v, n, i, ch, e;
  v = request.action;
  if (typeof v !== 'string') return NO;${str}
  const p = request.principal;
  if (p !== undefined && p !== null) {
    if (typeof p !== 'object' || Array.isArray(p)) return NO;
    flags |= HAS_PRINCIPAL;
    v = p.id;
    if (typeof v !== 'string' && v !== undefined && v !== null) return NO;${val}
    const one = p.role;
    const roles = p.roles;
    if (one !== undefined) {
      if (roles !== undefined) return NO;
      if (typeof one === 'string') {
        b[k++] = 1;
        v = one;${str}
      } else if (one === null) {
        b[k++] = 0;
      } else {
        return NO;
      }
    } else if (roles === undefined || roles === null) {
      b[k++] = 0;
    } else {
      if (!Array.isArray(roles) || roles.length > MAX_ROLES) return NO;
      const m = roles.length;
      b[k++] = m;
      for (let j = 0; j < m; j++) {
        v = roles[j];
        if (typeof v !== 'string') return NO;${str}
      }
    }${slotsOf('p', slots.principal)}
  }
  const r = request.resource;
  if (r !== undefined && r !== null) {
    if (typeof r !== 'object' || Array.isArray(r)) return NO;
    flags |= HAS_RESOURCE;
    v = r.type;
    if (typeof v !== 'string') return NO;${str}
    v = r.id;
    if (typeof v !== 'string' && v !== undefined && v !== null) return NO;${val}${slotsOf('r', slots.resource)}
  }
  const cx = request.context;
  if (cx !== undefined && cx !== null) {
    if (typeof cx !== 'object' || Array.isArray(cx)) return NO;
    flags |= HAS_CONTEXT;${slotsOf('cx', slots.context)}
  }
  b[0] = flags;
  b[1] = at;
  return at;
};`;
  try {
    const consts = { NO, MISSING, TRUE, FALSE, MAX_ROLES, HAS_PRINCIPAL, HAS_RESOURCE, HAS_CONTEXT, putUtf8 };
    return new Function(...Object.keys(consts), body)(...Object.values(consts));
  } catch {
    return (request, b, u8) => readGeneric(slots, request, b, u8);
  }
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Words of the word buffer for `slots`: flags, bytes written, action, principal id,
 * role count, roles, then every slot, type and id. */
function words(slots) {
  return 7 + MAX_ROLES + slots.principal.length + slots.resource.length + slots.context.length;
}

module.exports = { compileReader, words, isObject, FALLBACK, NO, HAS_PRINCIPAL, HAS_RESOURCE, HAS_CONTEXT };
