'use strict';
// Data filtering from Node, differentially: on generated policies and principals, the
// rows a filter selects in a real SQLite database (sql.js: SQLite compiled to
// WebAssembly, run in this process) are exactly the rows `engine.authorize` allows, NULL
// columns, a missing joined row and a child table of tags included: the SQL fragment of
// `engine.sqlFilter`, and the Drizzle condition of `drizzleWhere`. `prismaWhere` is
// checked against a model of Prisma's SQL (NULL logic, unescaped LIKE), written here:
// Prisma's query engine cannot be installed on this machine (it is downloaded from
// outside the npm registry).

const test = require('node:test');
const assert = require('node:assert/strict');
const initSqlJs = require('sql.js');
const { drizzle } = require('drizzle-orm/sql-js');
const { sqliteTable, text, real, integer } = require('drizzle-orm/sqlite-core');
const { eq, asc } = require('drizzle-orm');
const warden = require('..');
const { drizzleWhere, hasMany } = require('../drizzle');
const { prismaWhere } = require('../prisma');

const SHAPES = `principal { id: string, roles: set<role>, level: number?, org: string?, team: string? }
resource doc { owner: string?, level: number?, rank: number?, published: bool?, title: string?, org: string?, tags: set<string> }
`;

const ATOMS = [
  'resource.owner == principal.id',
  'resource.owner != principal.id',
  'resource.owner in ["u1", "u2"]',
  'resource.level > 2',
  'resource.level <= principal.level',
  'resource.rank >= 2.5',
  'resource.rank == 2',
  'resource.level in [1, 5]',
  'resource.published',
  'not resource.published',
  'resource.title starts_with "alpha"',
  'resource.title ends_with "bet"',
  'resource.title contains "ph"',
  'resource.title contains "_"',
  'resource.title contains principal.team',
  'resource.title ends_with "lan"',
  'resource.org == principal.org',
  'resource.org != "o2"',
  'principal.id in resource.tags',
  'resource.tags contains "t1"',
  'principal is admin',
  '(resource.owner ?? principal.id) == principal.id',
  'resource.id starts_with "d1"',
];

// xorshift32: the same policies and rows on every run.
function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
  return { next, pick: (xs) => xs[Math.floor(next() * xs.length)], int: (a, b) => a + Math.floor(next() * (b - a + 1)) };
}

function policies(n, { strings = true } = {}) {
  const r = rng(24);
  const atoms = strings ? ATOMS : ATOMS.filter((a) => !/contains "|starts_with|ends_with|contains principal/.test(a));
  const out = [];
  for (let i = 0; i < n; i++) {
    const rules = [];
    for (let k = r.int(1, 3); k > 0; k--) {
      const effect = r.pick(['allow', 'deny']);
      let e = r.pick(atoms);
      if (r.next() < 0.5) e = `(${e} ${r.pick(['and', 'or'])} ${r.pick(atoms)})`;
      if (r.next() < 0.2) e = `not (${e})`;
      const missing = effect === 'deny' ? r.pick(['', ' missing skip', ' missing deny']) : '';
      rules.push(`${effect} docs:read on doc ${r.pick(['if', 'unless'])} ${e}${missing}`);
    }
    const grant = r.pick(['grant viewer: docs:read\n', '']);
    out.push(`policy gen\nrole viewer\nrole admin > viewer\n${SHAPES}${grant}${rules.join('\n')}\n`);
  }
  return out;
}

const PRINCIPALS = [
  null,
  { id: 'u1', roles: ['viewer'], level: 3, org: 'o1', team: 'ph' },
  { id: 'u2', roles: ['admin'], org: 'o2' },
  { id: 'u3', roles: [], level: 1.5, team: 'é' },
];

const PROJECTS = [['p1', 'o1'], ['p2', 'o2'], ['p3', null]];

const ROWS = (() => {
  const r = rng(7);
  const rows = [];
  for (let i = 0; i < 400; i++) {
    rows.push({
      id: `d${i}`,
      owner: r.pick([null, 'u1', 'u2', 'u3']),
      level: r.pick([null, 0, 1, 2, 2.5, 3, 5]),
      rank: r.pick([null, 1, 2, 3]),
      published: r.pick([null, true, false]),
      title: r.pick([null, 'alpha', 'alphabet', 'beta', 'Alpha', '', 'élan', 'graph', 'a_b', 'aXb']),
      project: r.pick([null, 'p1', 'p2', 'p3', 'p9']),
      tags: [...new Set(Array.from({ length: r.int(0, 3) }, () => r.pick(['t1', 't2', 'u1', 'u2'])))].sort(),
    });
  }
  return rows;
})();

/** What `authorize` sees: NULL columns are absent attributes; p9 has no project row. */
function resource(row) {
  const res = { type: 'doc', id: row.id, tags: row.tags };
  for (const k of ['owner', 'level', 'rank', 'published', 'title']) if (row[k] !== null) res[k] = row[k];
  const p = PROJECTS.find(([id]) => id === row.project);
  if (p && p[1] !== null) res.org = p[1];
  return res;
}

function allowed(engine, principal) {
  return ROWS.filter((r) => engine.authorize({ principal, action: 'docs:read', resource: resource(r) }).allowed)
    .map((r) => r.id)
    .sort();
}

async function database() {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE projects (id TEXT PRIMARY KEY, org TEXT);
    CREATE TABLE docs (id TEXT PRIMARY KEY, owner TEXT, level REAL, rank INTEGER, published INTEGER, title TEXT, project TEXT);
    CREATE TABLE doc_tags (doc_id TEXT, tag TEXT, PRIMARY KEY (doc_id, tag));`);
  for (const [id, org] of PROJECTS) db.run('INSERT INTO projects VALUES (?, ?)', [id, org]);
  for (const r of ROWS) {
    const pub = r.published === null ? null : Number(r.published);
    db.run('INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)', [r.id, r.owner, r.level, r.rank, pub, r.title, r.project]);
    for (const t of r.tags) db.run('INSERT INTO doc_tags VALUES (?, ?)', [r.id, t]);
  }
  return db;
}

const COLUMN_MAP = {
  table: 'd',
  columns: {
    id: { column: 'id', type: 'string' },
    owner: { column: 'owner', type: 'string' },
    level: { column: 'level', type: 'number' },
    rank: { column: 'rank', type: 'number' },
    published: { column: 'published', type: 'boolean' },
    title: { column: 'title', type: 'string' },
    org: { table: 'p', column: 'org', type: 'string' },
    tags: { type: 'list', table: 'doc_tags', key: 'doc_id', parent: 'id', column: 'tag', element: 'string' },
  },
};

function ids(db, sql, params) {
  const st = db.prepare(sql);
  st.bind(params);
  const out = [];
  while (st.step()) out.push(st.get()[0]);
  st.free();
  return out;
}

test('sqlFilter selects exactly the rows authorize allows (SQLite)', async () => {
  const db = await database();
  let cases = 0;
  for (const source of policies(40)) {
    const engine = warden.Engine.fromSource('gen.warden', source);
    for (const principal of PRINCIPALS) {
      const f = engine.sqlFilter({ action: 'docs:read', resourceType: 'doc', principal, columns: COLUMN_MAP, dialect: 'sqlite' });
      const params = f.params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
      const got = ids(db, `SELECT d.id FROM docs AS d LEFT JOIN projects AS p ON p.id = d.project WHERE ${f.sql} ORDER BY d.id`, params);
      assert.deepEqual(got, allowed(engine, principal), `policy:\n${source}\nprincipal: ${JSON.stringify(principal)}\n${f.sql}`);
      cases++;
    }
  }
  assert.equal(cases, 160);
});

const docs = sqliteTable('docs', {
  id: text('id').primaryKey(),
  owner: text('owner'),
  level: real('level'),
  rank: integer('rank'),
  published: integer('published', { mode: 'boolean' }),
  title: text('title'),
  project: text('project'),
});
const projects = sqliteTable('projects', { id: text('id').primaryKey(), org: text('org') });
const docTags = sqliteTable('doc_tags', { docId: text('doc_id'), tag: text('tag') });
const DRIZZLE = {
  id: docs.id,
  owner: docs.owner,
  level: docs.level,
  rank: docs.rank,
  published: docs.published,
  title: docs.title,
  org: projects.org,
  tags: hasMany(docTags, docTags.tag, docTags.docId, docs.id),
};

function drizzleQuery(orm, where) {
  return orm.select({ id: docs.id }).from(docs).leftJoin(projects, eq(projects.id, docs.project)).where(where).orderBy(asc(docs.id));
}

test('drizzleWhere selects exactly the rows authorize allows (Drizzle on SQLite)', async () => {
  const orm = drizzle(await database());
  let cases = 0;
  for (const source of policies(40)) {
    const engine = warden.Engine.fromSource('gen.warden', source);
    for (const principal of PRINCIPALS) {
      const where = drizzleWhere(engine.residual({ action: 'docs:read', resourceType: 'doc', principal }), DRIZZLE, { dialect: 'sqlite' });
      const got = drizzleQuery(orm, where).all().map((r) => r.id);
      assert.deepEqual(got, allowed(engine, principal), `policy:\n${source}\nprincipal: ${JSON.stringify(principal)}`);
      cases++;
    }
  }
  assert.equal(cases, 160);
});

test('a page of the Drizzle query is the same page of the allowed rows', async () => {
  const orm = drizzle(await database());
  const engine = warden.Engine.fromSource(
    'p.warden',
    `policy p\nrole viewer\nrole admin > viewer\n${SHAPES}allow docs:read on doc if resource.owner == principal.id or resource.published\ndeny docs:read on doc unless resource.org == principal.org\n`,
  );
  const me = { id: 'u1', roles: ['viewer'], org: 'o1' };
  const where = drizzleWhere(engine.residual({ action: 'docs:read', resourceType: 'doc', principal: me }), DRIZZLE);
  const want = allowed(engine, me);
  assert.ok(want.length > 25, `${want.length} allowed rows`);
  const seen = [];
  for (let offset = 0; ; offset += 10) {
    const page = drizzleQuery(orm, where).limit(10).offset(offset).all().map((r) => r.id);
    if (page.length === 0) break;
    if (seen.length + page.length < want.length) assert.equal(page.length, 10);
    seen.push(...page);
  }
  assert.deepEqual(seen, want);
});

// --- Prisma: a model of the SQL Prisma writes for a `where` (see the file's header) ---

const PRISMA_FIELDS = {
  id: { field: 'id', type: 'string' },
  owner: { field: 'owner', type: 'string' },
  level: { field: 'level', type: 'number' },
  rank: { field: 'rank', type: 'number' },
  published: { field: 'published', type: 'boolean' },
  title: { field: 'title', type: 'string' },
  org: { field: 'project.org', type: 'string' },
  tags: { field: 'tags', type: 'list', element: 'tag', elementType: 'string' },
};

// A row as the Prisma model sees it: `project` a to-one relation (null when missing),
// `tags` a to-many relation of `{ tag }` rows.
function prismaRow(row) {
  const p = PROJECTS.find(([id]) => id === row.project);
  const { tags, project, ...scalars } = row;
  return { ...scalars, project: p ? { id: p[0], org: p[1] } : null, tags: tags.map((tag) => ({ tag })) };
}

// SQL LIKE with PostgreSQL's default escape character (backslash), case-sensitive.
function like(value, pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u').test(value);
}

// Three-valued: true, false or null (SQL's unknown), as the database evaluates it.
const and3 = (xs) => (xs.some((x) => x === false) ? false : xs.some((x) => x === null) ? null : true);
const or3 = (xs) => (xs.some((x) => x === true) ? true : xs.some((x) => x === null) ? null : false);
const not3 = (x) => (x === null ? null : !x);

function fieldFilter(v, f) {
  const out = [];
  for (const [k, arg] of Object.entries(f)) {
    if (k === 'not' && arg === null) out.push(v !== null);
    else if (v === null) out.push(null);
    else if (k === 'equals') out.push(v === arg);
    else if (k === 'lt') out.push(v < arg);
    else if (k === 'lte') out.push(v <= arg);
    else if (k === 'gt') out.push(v > arg);
    else if (k === 'gte') out.push(v >= arg);
    else if (k === 'in') out.push(arg.includes(v));
    else if (k === 'contains') out.push(like(v, `%${arg}%`));
    else if (k === 'startsWith') out.push(like(v, `${arg}%`));
    else if (k === 'endsWith') out.push(like(v, `%${arg}`));
    else throw new Error(`the Prisma model has no filter ${k}`);
  }
  return and3(out);
}

function prismaEval(where, row) {
  const out = [];
  for (const [k, arg] of Object.entries(where)) {
    if (k === 'AND') out.push(and3(arg.map((w) => prismaEval(w, row))));
    else if (k === 'OR') out.push(or3(arg.map((w) => prismaEval(w, row))));
    else if (k === 'NOT') out.push(not3(prismaEval(arg, row)));
    else if (arg && typeof arg === 'object' && 'is' in arg) out.push(row[k] === null ? false : prismaEval(arg.is, row[k]));
    else if (arg && typeof arg === 'object' && 'some' in arg) out.push(row[k].some((c) => prismaEval(arg.some, c) === true));
    else if (arg && typeof arg === 'object') out.push(fieldFilter(row[k], arg));
    else throw new Error(`the Prisma model has no shorthand ${k}: ${arg}`);
  }
  return and3(out);
}

test('prismaWhere selects exactly the rows authorize allows (model of Prisma on PostgreSQL)', () => {
  let cases = 0;
  for (const source of policies(40)) {
    const engine = warden.Engine.fromSource('gen.warden', source);
    for (const principal of PRINCIPALS) {
      const where = prismaWhere(engine.residual({ action: 'docs:read', resourceType: 'doc', principal }), PRISMA_FIELDS);
      const got = ROWS.filter((r) => prismaEval(where, prismaRow(r)) === true).map((r) => r.id).sort();
      assert.deepEqual(got, allowed(engine, principal), `policy:\n${source}\nprincipal: ${JSON.stringify(principal)}\n${JSON.stringify(where)}`);
      cases++;
    }
  }
  assert.equal(cases, 160);
  // The LIKE escaping matters: `_` matches any one character unless escaped.
  const w = prismaWhere({ kind: 'conditional', condition: { contains: { attr: 'title', value: '_' } } }, PRISMA_FIELDS);
  assert.deepEqual(w, { AND: [{ title: { not: null } }, { title: { contains: '\\_' } }] });
});

test('prismaWhere refuses string patterns on SQLite, where LIKE folds case', () => {
  const r = { kind: 'conditional', condition: { starts_with: { attr: 'title', value: 'alpha' } } };
  assert.throws(() => prismaWhere(r, PRISMA_FIELDS, { provider: 'sqlite' }), (e) => e instanceof warden.CannotFilter && /LIKE/.test(e.message));
  const ok = prismaWhere({ kind: 'conditional', condition: { cmp: { attr: 'owner', op: 'eq', value: 'u1' } } }, PRISMA_FIELDS, { provider: 'sqlite' });
  assert.deepEqual(ok, { AND: [{ owner: { not: null } }, { owner: { equals: 'u1' } }] });
});

test('residual kinds, CannotFilter naming the rule, bad requests', () => {
  const src = `policy p\nrole m\ngrant m: docs:read\n${SHAPES}deny docs:read on doc unless resource.title matches /^a/\n`;
  const engine = warden.Engine.fromSource('p.warden', src);
  assert.deepEqual(engine.residual({ action: 'docs:read', resourceType: 'doc' }), { kind: 'never' });
  assert.throws(
    () => engine.residual({ action: 'docs:read', resourceType: 'doc', principal: { id: 'u', roles: ['m'] } }),
    (e) => e instanceof warden.CannotFilter && e instanceof warden.WardenError && e.rule === 'p.warden:6' && /p\.warden:6/.test(e.message),
  );
  assert.throws(() => engine.residual(null), warden.RequestError);
  assert.throws(() => engine.residual({ action: 'docs:read', resourceType: 'doc', principal: { roles: 'm' } }), warden.RequestError);
  assert.throws(() => engine.residual({ action: 7, resourceType: 'doc' }), warden.RequestError);
  const own = warden.Engine.fromSource('o.warden', `policy p\nrole m\ngrant m: docs:read\n${SHAPES}deny docs:read on doc unless resource.owner == principal.id\n`);
  const me = { id: 'u1', roles: ['m'] };
  assert.throws(
    () => own.sqlFilter({ action: 'docs:read', resourceType: 'doc', principal: me, columns: { table: 'd', columns: {} } }),
    (e) => e instanceof warden.CannotFilter && e.rule === '' && /resource\.owner/.test(e.message),
  );
  assert.throws(() => drizzleWhere(own.residual({ action: 'docs:read', resourceType: 'doc', principal: me }), {}), warden.CannotFilter);
});

test('values are parameters, never SQL text', async () => {
  const engine = warden.Engine.fromSource('o.warden', `policy p\nrole m\ngrant m: docs:read\n${SHAPES}deny docs:read on doc unless resource.owner == principal.id\n`);
  const evil = "u1' OR '1'='1";
  const f = engine.sqlFilter({ action: 'docs:read', resourceType: 'doc', principal: { id: evil, roles: ['m'] }, columns: COLUMN_MAP, firstParam: 3 });
  assert.ok(!f.sql.includes(evil));
  assert.deepEqual(f.params, [evil]);
  assert.match(f.sql, /\$3/);
  const orm = drizzle(await database());
  const where = drizzleWhere(engine.residual({ action: 'docs:read', resourceType: 'doc', principal: { id: evil, roles: ['m'] } }), DRIZZLE);
  assert.deepEqual(drizzleQuery(orm, where).all(), []);
  assert.ok(!drizzleQuery(orm, where).toSQL().sql.includes(evil));
});
