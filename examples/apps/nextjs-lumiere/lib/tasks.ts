// The task board in a real SQLite database (sql.js, in memory, one per server process),
// and its list query filtered by the policy: `GET /api/tasks/claimable` returns the
// tasks the caller may `tasks:claim`, a page at a time. Contributors and admins claim
// any task (grants); an ARTIST the creative categories and a STUNT_PERFORMER motion
// capture and stunts (two allow rules, OR-ed in the filter); anyone else none. The rules
// run in SQLite as a parameterized WHERE fragment (`engine.sqlFilter`).

import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import type { Engine, Principal } from 'warden-policy';

export interface Task {
  id: string;
  category: string;
  title: string;
}

const CATEGORIES = ['creative', 'stunt', 'writing', 'vfx', 'motion_capture', 'music', 'marketing', 'design', 'casting'];

/** 75 open tasks over nine categories, six of them claimable by an artist or a stunt performer. */
export function seedTasks(): Task[] {
  return Array.from({ length: 75 }, (_, i) => {
    const category = CATEGORIES[(i * 4) % CATEGORIES.length];
    return { id: `t${String(i + 1).padStart(3, '0')}`, category, title: `${category} task ${i + 1}` };
  });
}

let db: Promise<Database> | undefined;

function database(): Promise<Database> {
  db ??= initSqlJs().then((SQL) => {
    const d = new SQL.Database();
    d.run('CREATE TABLE tasks (id TEXT PRIMARY KEY, category TEXT NOT NULL, title TEXT NOT NULL)');
    const ins = d.prepare('INSERT INTO tasks VALUES (?, ?, ?)');
    for (const t of seedTasks()) ins.run([t.id, t.category, t.title]);
    ins.free();
    return d;
  });
  return db;
}

/** One page of the tasks `principal` may claim, in id order. */
export async function claimableTasks(engine: Engine, principal: Principal, limit: number, offset: number): Promise<Task[]> {
  const f = engine.sqlFilter({
    action: 'tasks:claim',
    resourceType: 'task',
    principal,
    dialect: 'sqlite',
    columns: { table: 'tasks', columns: { id: { column: 'id', type: 'string' }, category: { column: 'category', type: 'string' } } },
  });
  // SQLite has no boolean type: sql.js binds 1/0.
  const params: SqlValue[] = f.params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
  const st = (await database()).prepare(`SELECT id, category, title FROM tasks WHERE ${f.sql} ORDER BY id LIMIT ? OFFSET ?`);
  st.bind([...params, limit, offset]);
  const out: Task[] = [];
  while (st.step()) {
    const [id, category, title] = st.get() as [string, string, string];
    out.push({ id, category, title });
  }
  st.free();
  return out;
}
