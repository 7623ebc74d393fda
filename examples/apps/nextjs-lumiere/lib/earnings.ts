// Earnings statements in a real SQLite database (sql.js: SQLite compiled to WebAssembly,
// in memory, one per server process), and their list query filtered by the policy:
// `GET /api/earnings` returns the statements the caller may `earnings:view` ("their
// own", or all for an ADMIN), a page at a time. The rule runs in SQLite as a
// parameterized WHERE fragment (`engine.sqlFilter`), so a page is a page of allowed rows.

import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import type { Engine, Principal } from 'warden-policy';

export interface Statement {
  id: string;
  owner: string;
  lumens: number;
}

const OWNERS = ['c1', 'c2', 'u1', 'c1', 'a1', 'c3', 'c1'];

/** 90 statements, a third of them the contributor c1's. */
export function seedStatements(): Statement[] {
  return Array.from({ length: 90 }, (_, i) => ({
    id: `e${String(i + 1).padStart(3, '0')}`,
    owner: OWNERS[(i * 3) % OWNERS.length],
    lumens: (i * 37) % 500,
  }));
}

let db: Promise<Database> | undefined;

function database(): Promise<Database> {
  db ??= initSqlJs().then((SQL) => {
    const d = new SQL.Database();
    d.run('CREATE TABLE earnings (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, lumens INTEGER NOT NULL)');
    const ins = d.prepare('INSERT INTO earnings VALUES (?, ?, ?)');
    for (const s of seedStatements()) ins.run([s.id, s.owner, s.lumens]);
    ins.free();
    return d;
  });
  return db;
}

/** One page of the statements `principal` may view, in id order. */
export async function viewableStatements(engine: Engine, principal: Principal, limit: number, offset: number): Promise<Statement[]> {
  const f = engine.sqlFilter({
    action: 'earnings:view',
    resourceType: 'earnings',
    principal,
    dialect: 'sqlite',
    columns: { table: 'earnings', columns: { id: { column: 'id', type: 'string' }, owner: { column: 'owner_id', type: 'string' } } },
  });
  // SQLite has no boolean type: sql.js binds 1/0.
  const params: SqlValue[] = f.params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
  const st = (await database()).prepare(`SELECT id, owner_id, lumens FROM earnings WHERE ${f.sql} ORDER BY id LIMIT ? OFFSET ?`);
  st.bind([...params, limit, offset]);
  const out: Statement[] = [];
  while (st.step()) {
    const [id, owner, lumens] = st.get() as [string, string, number];
    out.push({ id, owner, lumens });
  }
  st.free();
  return out;
}
